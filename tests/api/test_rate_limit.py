"""Failed service-token attempts are limited per client address (R-KEY-3): guessing tokens
stops after API_AUTH_FAILURE_LIMIT failures in a window of API_AUTH_FAILURE_WINDOW seconds,
for every request from that address, until the window ends."""

from __future__ import annotations

import secrets

import pytest
from django.test import Client

from api import auth, errors
from tests.api.conftest import features_url, report, use_body

pytestmark = pytest.mark.django_db

LIMIT = 20
WINDOW = 60


@pytest.fixture(autouse=True)
def _limits(settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_AUTH_FAILURE_LIMIT = LIMIT
    settings.API_AUTH_FAILURE_WINDOW = WINDOW


@pytest.fixture(autouse=True)
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    """The limiter's clock, at the start of a window, moved by the test (never the real
    clock, which could cross a window's end in the middle of a test)."""
    now = [WINDOW * 1_000_000.0]
    monkeypatch.setattr(auth, "_clock", lambda: now[0])
    return now


def guess(address: str = "198.51.100.1", **extra: str) -> Client:
    return Client(
        HTTP_AUTHORIZATION=f"Bearer svc_{secrets.token_urlsafe(32)}", REMOTE_ADDR=address, **extra
    )


def assert_429(response, *, retry_after: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == errors.RATE_LIMITED
    assert response.json()["error"]["message"] == errors.AUTH_RATE_LIMITED.format(
        seconds=retry_after
    )
    assert response["Retry-After"] == str(retry_after)
    assert response["Cache-Control"] == "no-store"


def test_random_tokens_are_refused_with_429_past_the_limit(member, clock) -> None:
    url = features_url("acme", member.user_id)
    statuses = [guess().get(url).status_code for _ in range(LIMIT)]
    assert statuses == [401] * LIMIT

    clock[0] += 15
    assert_429(guess().get(url), retry_after=WINDOW - 15)
    assert_429(Client(REMOTE_ADDR="198.51.100.1").get(url), retry_after=WINDOW - 15)


def test_a_valid_token_from_a_limited_address_is_refused_too(member, raw_token, clock) -> None:
    for _ in range(LIMIT):
        report(guess(), "acme", use_body(member))
    valid = Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}", REMOTE_ADDR="198.51.100.1")

    assert_429(valid.get(features_url("acme", member.user_id)), retry_after=WINDOW)
    assert_429(report(valid, "acme", use_body(member)), retry_after=WINDOW)
    assert_429(valid.get("/api/service/openapi.json"), retry_after=WINDOW)
    # Another address is served as usual.
    other = Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}", REMOTE_ADDR="198.51.100.2")
    assert other.get(features_url("acme", member.user_id)).status_code == 200


def test_the_limit_ends_with_the_window(member, raw_token, clock) -> None:
    url = features_url("acme", member.user_id)
    for _ in range(LIMIT):
        guess().get(url)
    valid = Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}", REMOTE_ADDR="198.51.100.1")
    clock[0] += WINDOW - 1
    assert_429(valid.get(url), retry_after=1)

    clock[0] += 1
    assert valid.get(url).status_code == 200
    assert guess().get(url).status_code == 401


def test_successful_requests_are_not_counted(member, raw_token, clock) -> None:
    url = features_url("acme", member.user_id)
    valid = Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}", REMOTE_ADDR="198.51.100.1")
    assert all(valid.get(url).status_code == 200 for _ in range(LIMIT * 2))
    statuses = [guess().get(url).status_code for _ in range(LIMIT)]
    assert statuses == [401] * LIMIT
    assert valid.get(url).status_code == 429


def test_missing_and_revoked_tokens_count_as_failures(member, clock) -> None:
    url = features_url("acme", member.user_id)
    anonymous = Client(REMOTE_ADDR="198.51.100.1")
    assert all(anonymous.get(url).status_code == 401 for _ in range(LIMIT))
    assert anonymous.get(url).status_code == 429


def test_the_limit_applies_whatever_disable_rate_limits_says(member, settings, clock) -> None:
    settings.ACCOUNT_RATE_LIMITS = False  # what DISABLE_RATE_LIMITS sets
    url = features_url("acme", member.user_id)
    for _ in range(LIMIT):
        guess().get(url)
    assert guess().get(url).status_code == 429


def test_behind_a_proxy_the_forwarded_address_is_counted(member, settings, clock) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    url = features_url("acme", member.user_id)
    for _ in range(LIMIT):
        guess("10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5").get(url)

    assert guess("10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5").get(url).status_code == 429
    # Another client behind the same proxy is not limited by the first one's guesses.
    assert guess("10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6").get(url).status_code == 401


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(member, clock) -> None:
    url = features_url("acme", member.user_id)
    for n in range(LIMIT):
        guess(HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").get(url)
    assert guess(HTTP_X_FORWARDED_FOR="192.0.2.200").get(url).status_code == 429


def test_a_cache_that_is_down_limits_nothing(member, raw_token, monkeypatch, clock) -> None:
    class Down:
        def __getattr__(self, name: str) -> object:
            def fail(*args: object, **kwargs: object) -> None:
                raise ConnectionError("cache down")

            return fail

    monkeypatch.setattr(auth, "cache", Down())
    url = features_url("acme", member.user_id)
    assert [guess().get(url).status_code for _ in range(LIMIT + 5)] == [401] * (LIMIT + 5)
    valid = Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}", REMOTE_ADDR="198.51.100.1")
    assert valid.get(url).status_code == 200
