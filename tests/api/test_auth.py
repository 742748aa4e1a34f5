"""Service token authentication (R-KEY-3): Bearer tokens, JSON 401s, no session, no CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.actor import Actor
from api import errors
from api.auth import TOKENS
from api.models import FeatureUseEvent, ServiceToken, hash_token, new_raw_token
from api.services import service_token_revoke
from core import snapshots
from tests.api.conftest import features_url, report, use_body
from tests.factories import ServiceTokenFactory, UserFactory

pytestmark = pytest.mark.django_db


def assert_401(response, message: str, *, challenge_error: bool = True) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": errors.INVALID_TOKEN, "message": message}}
    expected = (
        'Bearer realm="service-api", error="invalid_token"'
        if challenge_error
        else 'Bearer realm="service-api"'
    )
    assert response["WWW-Authenticate"] == expected


@pytest.mark.parametrize("method", ["get", "post"])
def test_missing_token_is_401_json(member, method) -> None:
    client = Client()
    if method == "get":
        response = client.get(features_url("acme", member.user_id))
    else:
        response = report(client, "acme", use_body(member))
    assert_401(response, errors.TOKEN_MISSING, challenge_error=False)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Basic dXNlcjpwYXNz", errors.TOKEN_BAD_SCHEME),
        ("Bearer", errors.TOKEN_BAD_SCHEME),
        ("Bearer svc_not-a-real-token", errors.TOKEN_INVALID),
        ("Bearer key_" + "x" * 43, errors.TOKEN_INVALID),
        ("Bearer svc_" + "x" * 500, errors.TOKEN_INVALID),
    ],
)
def test_wrong_token_is_401_json(member, raw_token, header: str, message: str) -> None:
    response = Client(HTTP_AUTHORIZATION=header).get(features_url("acme", member.user_id))
    assert_401(response, message)


def test_scheme_is_case_insensitive(member, owner, raw_token) -> None:
    response = Client(HTTP_AUTHORIZATION=f"bearer {raw_token}").get(
        features_url("acme", member.user_id)
    )
    assert response.status_code == 200


def test_revoked_token_is_401_and_its_valid_sibling_still_works(member, owner, raw_token) -> None:
    revoked_raw = new_raw_token()
    ServiceTokenFactory(name="Old", raw=revoked_raw, revoked_at=timezone.now())
    response = Client(HTTP_AUTHORIZATION=f"Bearer {revoked_raw}").get(
        features_url("acme", member.user_id)
    )
    assert_401(response, errors.TOKEN_REVOKED)
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
        .get(features_url("acme", member.user_id))
        .status_code
        == 200
    )


def test_a_bad_token_is_refused_before_anything_is_recorded(member, owner) -> None:
    response = report(Client(HTTP_AUTHORIZATION="Bearer svc_wrong"), "acme", use_body(member))
    assert response.status_code == 401
    assert not FeatureUseEvent.objects.exists()


def test_post_needs_no_csrf_token_and_no_cookie_is_set(api, member, owner) -> None:
    response = report(api, "acme", use_body(member))
    assert response.status_code == 201
    assert not response.cookies
    assert response["Cache-Control"] == "no-store"


def test_a_signed_in_browser_session_is_not_a_credential(client, member, owner) -> None:
    # Staff signed in to the admin still need a service token: the API ignores sessions.
    client.force_login(owner.user)
    response = client.get(features_url("acme", member.user_id))
    assert_401(response, errors.TOKEN_MISSING, challenge_error=False)


def test_last_used_is_written_at_most_once_a_minute(member, owner) -> None:
    raw = new_raw_token()
    token = ServiceTokenFactory(name="Fresh", raw=raw)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(features_url("acme", member.user_id)).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None

    # A second call within the minute writes nothing.
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(features_url("acme", member.user_id)).status_code == 200
    assert not [q for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at == first

    # A minute later, one write. (A bulk update sends no signal: it retires the tokens'
    # snapshots itself, as code writing them so must.)
    ServiceToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    snapshots.moved(TOKENS)
    assert client.get(features_url("acme", member.user_id)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(minutes=1)


# --- The tokens' snapshot: a revoked token is refused from the next call -----------------


def _warm(client: Client, member) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        assert client.get(features_url("acme", member.user_id)).status_code == 200


def test_a_token_revoked_by_staff_is_refused_from_the_next_call(member, owner) -> None:
    raw = new_raw_token()
    token = ServiceTokenFactory(name="Gateway 2", raw=raw, last_used_at=timezone.now())
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    _warm(client, member)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(features_url("acme", member.user_id)).status_code == 200
    assert not [q for q in ctx.captured_queries if "api_servicetoken" in q["sql"]]
    staff = UserFactory(is_staff=True)
    service_token_revoke(actor=Actor.staff(staff), token=token)
    assert_401(client.get(features_url("acme", member.user_id)), errors.TOKEN_REVOKED)


@pytest.mark.parametrize("how", ["saved", "deleted"])
def test_a_token_written_around_the_services_is_read_again(member, owner, how: str) -> None:
    raw = new_raw_token()
    token = ServiceTokenFactory(name="Gateway 2", raw=raw, last_used_at=timezone.now())
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    _warm(client, member)
    if how == "saved":
        token.revoked_at = timezone.now()
        token.save()
        expected = errors.TOKEN_REVOKED
    else:
        token.delete()
        expected = errors.TOKEN_INVALID
    assert_401(client.get(features_url("acme", member.user_id)), expected)


def test_an_unknown_token_is_not_kept(member, raw_token) -> None:
    unknown = new_raw_token()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {unknown}")
    for _ in range(2):
        assert_401(client.get(features_url("acme", member.user_id)), errors.TOKEN_INVALID)
    assert cache.get(f"snapshot:{snapshots.FORMAT}:service-token:{hash_token(unknown)}") is None
    # Issued afterwards, the same secret works at once.
    ServiceTokenFactory(name="Late", raw=unknown)
    assert client.get(features_url("acme", member.user_id)).status_code == 200
