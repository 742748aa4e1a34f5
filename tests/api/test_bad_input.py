"""Bad input to the service API answers the JSON envelope with a 4xx, never a 500 or an HTML
page: every route under /api/ is found by walking the URL resolver and sent each class of bad
input, so a route added tomorrow is covered too."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Membership
from api import errors
from api.models import FeatureUseEvent
from core import parsing
from tests.api.conftest import features_url, report, use_body

pytestmark = pytest.mark.django_db

PREFIX = "api/"
CONVERTER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


def api_routes() -> list[tuple[str, Any]]:
    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                yield route, p.callback

    return [(r, v) for r, v in walk(get_resolver().url_patterns, "") if r.startswith(PREFIX)]


ROUTES = api_routes()
POST_ROUTES = [r for r, view in ROUTES if "POST" in getattr(view, "allowed_methods", ())]


def fill(route: str, **values: str) -> str:
    return "/" + CONVERTER.sub(lambda m: values.get(m[1], {"slug": "acme"}.get(m[1], "1")), route)


def assert_envelope(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    assert body["error"]["code"] in errors.CODES
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
def sender(api: Client, member: Membership, owner: Membership) -> Client:
    api.raise_request_exception = False
    return api


def test_the_sweep_finds_the_routes() -> None:
    assert len(ROUTES) >= 3 and POST_ROUTES


# --- Paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api",
        "/api/nope",
        "/api/service/",
        "/api/service/nope",
        "/api/service/openapi.json/",
        "/api/service/workspaces/acme/members",
        "/api/v2/workspaces/acme/feature-use",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_path_is_a_json_404(sender: Client, path: str, method: str) -> None:
    response = getattr(sender, method)(path)
    assert_envelope(response, 404, errors.NOT_FOUND)
    assert response["Cache-Control"] == "no-store"


def test_a_wrong_method_on_a_known_path_stays_a_json_405(sender: Client) -> None:
    for route, view in ROUTES:
        for method in {"GET", "POST", "PUT", "DELETE", "PATCH"} - set(view.allowed_methods):
            response = sender.generic(method, fill(route))
            assert_envelope(response, 405, errors.METHOD_NOT_ALLOWED)


@pytest.mark.parametrize("bad", ["%00", "a%00b", "%ED%A0%80", "9" * 30])
@pytest.mark.parametrize("route", [r for r, _ in ROUTES if CONVERTER.search(r)])
def test_bad_path_values_are_json_404s(sender: Client, route: str, bad: str) -> None:
    for name in CONVERTER.findall(route):
        view_url = fill(route, **{name: bad})
        for method in ("get", "post"):
            response = getattr(sender, method)(view_url, content_type="application/json")
            status = response.status_code
            # A post's empty body may be refused (400) before its workspace is looked up.
            expected = (404,) if "%00" in bad else (400, 404, 405)
            assert status in expected, (view_url, method, status, response.content[:200])
            assert_envelope(response, status)


def test_a_nul_in_the_path_is_not_found_before_any_query(
    sender: Client, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = sender.get("/api/service/workspaces/ac%00me/members/1/features")
    assert_envelope(response, 404, errors.NOT_FOUND)


# --- JSON bodies ----------------------------------------------------------------------------

HUGE = "9" * 5000

BAD_BODIES: dict[str, tuple[str | bytes, str]] = {
    # name: (body, expected code)
    "thousands_of_digits": ('{"member": ' + HUGE + "}", errors.INVALID_REQUEST),
    "negative_thousands_of_digits": ('{"member": -' + HUGE + "}", errors.INVALID_REQUEST),
    "past_64_bits": ('{"member": 9223372036854775808}', errors.INVALID_REQUEST),
    "below_64_bits": ('{"member": -9223372036854775809}', errors.INVALID_REQUEST),
    "infinite_float": ('{"member": 1e999}', errors.INVALID_REQUEST),
    "nan": ('{"member": NaN}', errors.MALFORMED_JSON),
    "infinity": ('{"member": -Infinity}', errors.MALFORMED_JSON),
    "nul_in_value": ('{"event_id": "evt-\\u0000"}', errors.INVALID_REQUEST),
    "nul_in_key": ('{"event\\u0000id": "e"}', errors.INVALID_REQUEST),
    "lone_surrogate": ('{"event_id": "evt-\\ud800"}', errors.INVALID_REQUEST),
    "low_surrogate_in_list": ('{"tags": ["a", ["\\udfff"]]}', errors.INVALID_REQUEST),
    # A surrogate encoded in UTF-8's way: json.loads decodes bytes with "surrogatepass".
    "encoded_surrogate": (b'{"event_id": "\xed\xa0\x80"}', errors.INVALID_REQUEST),
    "invalid_utf8": (b'{"event_id": "\xff"}', errors.MALFORMED_JSON),
    "deep": ("[" * 100_000 + "]" * 100_000, errors.MALFORMED_JSON),
}


@pytest.mark.parametrize("route", POST_ROUTES)
@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_every_post_answers_each_bad_body_with_a_json_400(
    sender: Client, route: str, name: str
) -> None:
    body, code = BAD_BODIES[name]
    response = sender.post(fill(route), data=body, content_type="application/json")
    assert_envelope(response, 400, code)
    assert FeatureUseEvent.objects.count() == 0


@pytest.mark.parametrize(
    "value",
    ["evt-\x00", "evt-\ud800", "\udc00", "a\x00b"],
    ids=["nul", "high_surrogate", "low_surrogate", "inner_nul"],
)
@pytest.mark.parametrize("field", ["event_id", "member", "feature", "occurred_at", "outcome"])
def test_unstorable_text_in_any_field_is_a_400(
    sender: Client, member: Membership, field: str, value: str
) -> None:
    response = report(sender, "acme", use_body(member, **{field: value}))
    error = assert_envelope(response, 400, errors.INVALID_REQUEST)
    assert error["message"] == parsing.JSON_TEXT_NOT_STORABLE
    assert FeatureUseEvent.objects.count() == 0


@pytest.mark.parametrize("member_value", [HUGE, "0" * 5000 + "7", 2**63, -1, 0])
def test_a_member_id_no_database_can_hold_is_a_400(
    sender: Client, member: Membership, member_value: object
) -> None:
    # As a string, the value reaches the field check; as a number, the JSON check.
    data = json.dumps(use_body(member, member=member_value))
    response = report(sender, "acme", data)
    assert_envelope(response, 400, errors.INVALID_REQUEST)


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59.999999-00:01",
        "0001-01-01T00:00:00+23:59",
    ],
)
def test_a_time_outside_utcs_years_is_a_field_error(
    sender: Client, member: Membership, value: str
) -> None:
    response = report(sender, "acme", use_body(member, occurred_at=value))
    error = assert_envelope(response, 400, errors.INVALID_REQUEST)
    assert set(error["fields"]) == {"occurred_at"}


def test_the_extreme_times_utc_can_hold_are_recorded(sender: Client, member: Membership) -> None:
    first = report(sender, "acme", use_body(member, occurred_at="9999-12-31T23:59:59Z"))
    last = report(
        sender, "acme", use_body(member, event_id="evt-2", occurred_at="0001-01-01T00:00:00Z")
    )
    assert (first.status_code, last.status_code) == (201, 201)


# --- Limits of Django's request parsing ----------------------------------------------------


@pytest.mark.parametrize("route", [r for r, _ in ROUTES])
def test_too_many_query_parameters_is_a_json_400_or_ignored(sender: Client, route: str) -> None:
    query = "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = sender.get(fill(route) + "?" + query)
    if response.status_code < 400:
        return  # a view that reads no query parameter never parses them
    error = assert_envelope(response, response.status_code)
    if response.status_code == 400:
        assert error["message"] == errors.TOO_MANY_FIELDS


@pytest.mark.parametrize("route", POST_ROUTES)
def test_a_body_too_large_is_a_json_400(sender: Client, route: str) -> None:
    body = " " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = sender.post(fill(route), data=body, content_type="application/json")
    error = assert_envelope(response, 400, errors.INVALID_REQUEST)
    assert error["message"] == errors.BODY_TOO_LARGE


@pytest.mark.parametrize("route", POST_ROUTES)
def test_too_many_form_fields_is_a_json_400(sender: Client, route: str) -> None:
    body = "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = sender.post(fill(route), data=body, content_type="application/x-www-form-urlencoded")
    assert_envelope(response, 400)


def test_the_member_features_query_with_too_many_parameters(
    sender: Client, member: Membership
) -> None:
    query = "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = sender.get(features_url("acme", member.user_id) + "?" + query)
    error = assert_envelope(response, 400, errors.INVALID_REQUEST)
    assert error["message"] == errors.TOO_MANY_FIELDS
