"""Bad input never gives a 500: ids no row can have, days whose UTC bounds overflow, text the
database cannot store. The URL sweep walks the resolver and the form sweep imports every
forms module, so a URL or a form added tomorrow is held to the same rules; the helpers they
must use are in ``core.parsing``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from accounts.audit_forms import AuditFilterForm
from accounts.invitation_forms import InviteForm
from accounts.models import Group, Invitation
from accounts.roles import Role
from core import parsing
from tests.conftest import HTMX
from tests.factories import GroupFactory
from tests.test_isolation import (
    KWARG_VALUES,
    PATTERN_KWARG_VALUES,
    World,
    client_for,
    world,  # noqa: F401  (fixture)
)

HUGE_IDS = ["9" * 30, str(2**63), "9" * 5000]
CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


# --- URL patterns -------------------------------------------------------------------------


def _walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, route, ns)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}{p.name}" if p.name else "<unnamed>", route)


# The project's own routes (path() syntax), not those of Django's admin or allauth.
OWN_ROUTES = sorted(
    {
        (name, route)
        for name, route in _walk(get_resolver().url_patterns, "", "")
        if not route.startswith(("admin/", "accounts/", "^")) and "<" in route
    }
)
# The service API's routes have their own sweep, with its JSON answers (tests/api).
PAGE_ROUTES = [(name, route) for name, route in OWN_ROUTES if not route.startswith("api/")]
ID_ROUTES = [
    (name, route)
    for name, route in OWN_ROUTES
    if any(m["converter"] == "id" for m in CONVERTER.finditer(route))
]


def _fill(name: str, route: str, w: World, **overrides: str) -> str:
    def value(m: re.Match[str]) -> str:
        param = m["name"]
        if param in overrides:
            return overrides[param]
        if param == "slug":
            return w.workspace.slug
        if param == "token":
            return "not-a-token"
        filler = PATTERN_KWARG_VALUES.get((name, param)) or KWARG_VALUES.get(param)
        return str(filler(w)) if filler else "x"

    return "/" + CONVERTER.sub(value, route)


def test_the_sweep_finds_the_routes() -> None:
    assert len(ID_ROUTES) >= 10
    assert any(route.startswith("api/") for _, route in OWN_ROUTES)


def test_no_route_takes_an_unbounded_int() -> None:
    """``<int:...>`` matches any number of digits; ids go through ``<id:...>``."""
    unbounded = [route for _, route in OWN_ROUTES if "<int:" in route]
    assert not unbounded, f"use <id:...> (core.converters) in {unbounded}"


@pytest.mark.parametrize(("name", "route"), ID_ROUTES, ids=[n for n, _ in ID_ROUTES])
def test_an_id_no_row_can_have_matches_no_route(
    world: World,  # noqa: F811
    name: str,
    route: str,
) -> None:
    owner = client_for(world.owner.user)
    owner.raise_request_exception = False
    for m in CONVERTER.finditer(route):
        if m["converter"] != "id":
            continue
        for huge in HUGE_IDS:
            url = _fill(name, route, world, **{m["name"]: huge})
            with pytest.raises(Resolver404):
                resolve(url)
            for method in ("get", "post"):
                response = getattr(owner, method)(url)
                assert response.status_code == 404, (method, url[:120], response.status_code)


@pytest.mark.parametrize(("name", "route"), PAGE_ROUTES, ids=[n for n, _ in PAGE_ROUTES])
@pytest.mark.parametrize("bad", ["%00", "a%00", "%ED%A0%80"])
def test_unstorable_text_in_any_path_parameter_is_a_404(
    world: World,  # noqa: F811
    name: str,
    route: str,
    bad: str,
) -> None:
    """%00 decodes to a NUL, which PostgreSQL refuses in a query; %ED%A0%80 (a lone surrogate
    in UTF-8) is kept percent-encoded by Django and names nothing."""
    owner = client_for(world.owner.user)
    owner.raise_request_exception = False
    for m in CONVERTER.finditer(route):
        url = _fill(name, route, world, **{m["name"]: bad})
        for method in ("get", "post"):
            response = getattr(owner, method)(url)
            # A GET-only page may answer 405 to a post; never a 500, and never the page.
            assert response.status_code in (404, 405), (method, url, response.status_code)
            if "%00" in bad:
                assert response.status_code == 404, (method, url)


# Query parameters the console's pages read (searches, filters, pages, cursors, picked ids,
# page parts): each with text the database cannot store, too long, or no row can have.
HOSTILE_QUERIES = [
    {"q": "a\x00b", "mq": "\x00", "dq": "\x00", "cursor": "\x00", "part": "\x00"},
    {"q": "x" * 5000, "mq": "x" * 5000, "dq": "x" * 5000, "cursor": "9" * 5000 + ".1"},
    {"page": "9" * 5000, "member": "9" * 30, "document": str(2**63), "connection": "9" * 30},
    {"library": "-1", "group": "9" * 30, "role": "x", "cursor": "-1.-1", "wait": "9" * 40},
    {"part": "live", "was": "busy", "wait": "99", "page": "-1"},
]


QUERY_ROUTES = [pytest.param(name, route, id=name) for name, route in PAGE_ROUTES]


@pytest.mark.parametrize(("name", "route"), QUERY_ROUTES)
def test_hostile_query_parameters_never_give_a_500(
    world: World,  # noqa: F811
    name: str,
    route: str,
) -> None:
    owner = client_for(world.owner.user)
    owner.raise_request_exception = False
    url = _fill(name, route, world)
    for params in HOSTILE_QUERIES:
        for extra in ({}, HTMX):
            response = owner.get(url, params, **extra)
            assert response.status_code < 500, (url, params, extra, response.status_code)


def test_a_nul_anywhere_in_a_path_is_a_404_before_any_query(
    client: Any, django_assert_num_queries: Any, db: None
) -> None:
    for path in ("/invitations/%00/", "/w/acme/%00/", "/legal/terms/%00", "/accounts/%00/"):
        with django_assert_num_queries(0):
            assert client.get(path).status_code == 404


# --- Forms --------------------------------------------------------------------------------

APPS = ("accounts", "billing", "features", "compliance", "connectors", "agents", "api")


def _form_modules() -> Iterator[Any]:
    for app in APPS:
        package = importlib.import_module(app)
        for info in pkgutil.iter_modules(package.__path__):
            if info.name == "forms" or info.name.endswith("_forms"):
                yield importlib.import_module(f"{app}.{info.name}")


def _project_forms() -> list[type[forms.BaseForm]]:
    found = set()
    for module in _form_modules():
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, forms.BaseForm) and obj.__module__ == module.__name__:
                found.add(obj)
    return sorted(found, key=lambda f: f"{f.__module__}.{f.__qualname__}")


FORMS = _project_forms()


def _unbounded(field: forms.Field, name: str) -> str | None:
    """What is wrong with ``field``, or None."""
    if isinstance(field, forms.DateTimeField):
        return None if isinstance(field, parsing.DateTimeField) else "core.parsing.DateTimeField"
    if isinstance(field, forms.DateField):
        return None if isinstance(field, parsing.DateField) else "core.parsing.DateField"
    if isinstance(field, forms.ModelMultipleChoiceField):
        ok = isinstance(field, parsing.ModelMultipleChoiceIdField)
        return None if ok else "core.parsing.ModelMultipleChoiceIdField"
    if isinstance(field, forms.ModelChoiceField):
        return None if isinstance(field, parsing.ModelChoiceIdField) else "ModelChoiceIdField"
    if isinstance(field, forms.IntegerField) and (name == "id" or name.endswith("_id")):
        return None if isinstance(field, parsing.IdField) else "core.parsing.IdField"
    return None


def test_the_form_sweep_finds_the_forms() -> None:
    names = {f.__name__ for f in FORMS}
    assert {"InviteForm", "AuditFilterForm", "RuleForm", "SignupForm"} <= names


@pytest.mark.parametrize("form_class", FORMS, ids=[f.__qualname__ for f in FORMS])
def test_every_id_and_date_field_is_bounded(form_class: type[forms.BaseForm]) -> None:
    wrong = {
        name: need
        for name, field in form_class.base_fields.items()
        if (need := _unbounded(field, name)) is not None
    }
    assert not wrong, f"{form_class.__qualname__}: use {wrong}"


@pytest.mark.django_db
@pytest.mark.parametrize("huge", HUGE_IDS)
def test_an_id_no_row_can_have_is_an_invalid_choice_before_any_query(
    workspace: Any, huge: str
) -> None:
    group = GroupFactory(workspace=workspace, name="Research")
    form = InviteForm(
        {"emails": "ada@example.org", "role": Role.MEMBER, "groups": [str(group.pk), huge]},
        workspace=workspace,
        actor_role=Role.OWNER,
    )
    with CaptureQueriesContext(connection) as queries:
        valid = form.is_valid()
    assert not valid and list(form.errors) == ["groups"]
    assert not any(huge[:19] in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db
def test_a_disabled_id_field_keeps_its_initial_rows(workspace: Any) -> None:
    group = GroupFactory(workspace=workspace, name="Research")

    class Form(forms.Form):
        one = parsing.ModelChoiceIdField(queryset=Group.objects.all(), disabled=True)
        many = parsing.ModelMultipleChoiceIdField(queryset=Group.objects.all(), disabled=True)

    form = Form({}, initial={"one": group, "many": [group]})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["one"] == group and list(form.cleaned_data["many"]) == [group]


@pytest.mark.django_db
def test_inviting_with_an_id_no_row_can_have_is_a_field_error(owner_client: Any) -> None:
    response = owner_client.post(
        "/w/acme/invitations/",
        {"emails": "ada@example.org", "role": Role.MEMBER, "groups": ["9" * 30]},
        **HTMX,
    )
    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()
    assert not Invitation.objects.exists()
    assert not Group.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("date_to", "9999-12-31"), ("date_from", "9999-12-31"), ("date_from", "0001-01-01")],
)
def test_a_day_at_the_ends_of_the_calendar_is_a_field_error(field: str, value: str) -> None:
    form = AuditFilterForm({field: value})
    assert not form.is_valid()
    assert form.errors[field] == [parsing.DATE_OUT_OF_RANGE]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=9999-12-31&date_to=9999-12-31"])
def test_the_audit_page_answers_a_day_at_the_end_of_the_calendar(
    owner_client: Any, query: str
) -> None:
    owner_client.raise_request_exception = False
    for extra in ({}, HTMX):
        response = owner_client.get(f"/w/acme/audit/?{query}", **extra)
        assert response.status_code == 200
        assert parsing.DATE_OUT_OF_RANGE in response.content.decode()
    export = owner_client.get(f"/w/acme/audit/export.csv?{query}")
    assert export.status_code < 500


def test_the_days_the_calendar_can_bound_are_accepted() -> None:
    form = AuditFilterForm({"date_from": "0001-01-02", "date_to": "9999-12-30"})
    assert form.is_valid(), form.errors


# --- The helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        ("42", 42),
        (" 7 ", 7),
        (parsing.DB_ID_MAX, parsing.DB_ID_MAX),
        (str(parsing.DB_ID_MAX), parsing.DB_ID_MAX),
        (parsing.DB_ID_MAX + 1, None),
        (str(parsing.DB_ID_MAX + 1), None),
        ("9" * 5000, None),
        ("0", None),
        (0, None),
        (-3, None),
        ("-3", None),
        (True, None),
        ("١٢", None),  # Arabic-Indic digits: str.isdigit() says yes, no id is written so
        ("1e3", None),
        (1.0, None),
        (None, None),
    ],
)
def test_parse_id(value: object, expected: int | None) -> None:
    assert parsing.parse_id(value) == expected


def test_the_id_converter_refuses_what_no_row_can_have() -> None:
    converter = parsing.IdConverter()
    assert re.fullmatch(converter.regex, "1" * 19)
    assert not re.fullmatch(converter.regex, "1" * 20)
    assert converter.to_python(str(parsing.DB_ID_MAX)) == parsing.DB_ID_MAX
    for bad in ("0", str(parsing.DB_ID_MAX + 1)):
        with pytest.raises(ValueError):
            converter.to_python(bad)


def test_to_utc_answers_none_where_utc_has_no_such_time() -> None:
    aware = forms.DateTimeField().to_python
    assert parsing.to_utc(aware("9999-12-31T23:59:59-05:00")) is None
    assert parsing.to_utc(aware("0001-01-01T00:00:00+05:00")) is None
    assert parsing.to_utc(aware("2026-11-25T10:30:00+01:00")) == datetime(
        2026, 11, 25, 9, 30, tzinfo=UTC
    )


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_the_datetime_field_answers_a_field_error(value: str) -> None:
    class Form(forms.Form):
        at = parsing.DateTimeField()

    form = Form({"at": value})
    assert not form.is_valid()
    assert form.errors["at"] == [parsing.DATETIME_OUT_OF_RANGE]
    ok = Form({"at": "2026-11-25T10:30:00+01:00"})
    assert ok.is_valid() and ok.cleaned_data["at"].tzinfo == UTC


def test_the_date_field_bounds() -> None:
    field = parsing.DateField()
    assert field.clean("0001-01-02") == date(1, 1, 2)
    assert field.clean("9999-12-30") == date(9999, 12, 30)
    for bad in ("0001-01-01", "9999-12-31"):
        with pytest.raises(forms.ValidationError):
            field.clean(bad)


@pytest.mark.parametrize("text", ["\x00", "a\x00", "\ud800", "x\udfff", "\udbff\udc00"], ids=repr)
def test_unstorable_text(text: str) -> None:
    assert not parsing.is_storable_text(text)


@pytest.mark.parametrize("text", ["", "plain", "é", "😀", "\U0010ffff", "\x01"], ids=repr)
def test_storable_text(text: str) -> None:
    assert parsing.is_storable_text(text)


@pytest.mark.parametrize(
    "raw",
    [
        "9" * 5000,
        "-" + "9" * 20,
        str(2**63),
        str(-(2**63) - 1),
        "1e400",
        '{"a": "\\u0000"}',
        '{"\\ud800": 1}',
        '[[["\\udc00"]]]',
    ],
)
def test_loads_json_rejects(raw: str) -> None:
    with pytest.raises(parsing.JsonRejected) as caught:
        parsing.loads_json(raw)
    assert not caught.value.malformed


@pytest.mark.parametrize("raw", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_loads_json_calls_nan_and_infinity_malformed(raw: str) -> None:
    with pytest.raises(parsing.JsonRejected) as caught:
        parsing.loads_json(raw)
    assert caught.value.malformed


def test_loads_json_accepts_what_fits() -> None:
    raw = '{"a": [9223372036854775807, -9223372036854775808, 1.5e300, "\\ud83d\\ude00", null]}'
    assert parsing.loads_json(raw) == {"a": [2**63 - 1, -(2**63), 1.5e300, "😀", None]}
