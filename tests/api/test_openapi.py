"""api/openapi.json against the implementation (R-KEY-3): every documented path and method is
served and every service API route documented; real answers of every documented status
validate against the documented schema; the examples validate too; enums match the code."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from jsonschema import Draft202012Validator

from accounts.actor import Actor
from accounts.models import Membership, MemberStatus, Workspace
from accounts.roles import Role
from agents import access as agent_access
from agents import selectors as agent_selectors
from agents import services as agent_services
from agents import tools as agent_tools
from agents.models import Visibility
from api import errors, forms
from api.models import Outcome, new_raw_token
from api.views import OPENAPI_PATH
from billing.models import Plan
from compliance.models import MediaStatusChange
from connectors import access
from connectors.models import Document, DocumentKind
from core import registry
from features.decisions import Code, Level
from tests.api.conftest import (
    FakeSource,
    access_url,
    documents_url,
    features_url,
    filter_ids,
    library_shared_with_everyone,
    report,
    source_doc,
    synced_connection,
    use_body,
    use_url,
    user,
    visible_url,
)
from tests.factories import (
    AgentFactory,
    BaseModelFactory,
    FeatureRuleFactory,
    LibraryFactory,
    ServiceTokenFactory,
    SubscriptionFactory,
    UserFactory,
)

DOC: dict[str, Any] = json.loads(OPENAPI_PATH.read_text())
PREFIX = "api/service/"
CONVERTER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# --- Helpers ------------------------------------------------------------------------------


def deref(obj: dict[str, Any]) -> dict[str, Any]:
    """Follow a local "$ref" to components (responses, parameters)."""
    while "$ref" in obj:
        node: Any = DOC
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    # The document's components travel with the schema, so "#/components/..." resolves.
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": DOC["components"],
        **schema,
    }
    return Draft202012Validator(root)


def api_routes() -> dict[str, Callable[..., Any]]:
    """OpenAPI path template -> view, for every URL pattern under /api/service/."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                yield route, p.callback

    return {
        "/" + CONVERTER.sub(r"{\1}", route): view
        for route, view in walk(get_resolver().url_patterns, "")
        if route.startswith(PREFIX)
    }


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in DOC["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def documented_statuses() -> set[tuple[str, str, str]]:
    return {
        (path, method, status) for path, method, op in operations() for status in op["responses"]
    }


def response_schema(path: str, method: str, status: str) -> dict[str, Any]:
    response = deref(DOC["paths"][path][method]["responses"][status])
    return response["content"]["application/json"]["schema"]


# --- The document and the URLs ------------------------------------------------------------


def test_document_is_openapi_3_1_with_valid_schemas() -> None:
    assert DOC["openapi"].startswith("3.1.")
    scheme = DOC["components"]["securitySchemes"]["serviceToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert DOC["security"] == [{"serviceToken": []}]
    for schema in DOC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    ids = [op["operationId"] for _, _, op in operations()]
    assert len(ids) == len(set(ids))


def test_every_documented_path_is_served_and_every_route_documented() -> None:
    routes = api_routes()
    assert set(DOC["paths"]) == set(routes), "paths of api/openapi.json and api/urls.py differ"
    for path, view in routes.items():
        documented = {m.upper() for m in METHODS if m in DOC["paths"][path]}
        assert documented == set(view.allowed_methods), path


def test_documented_path_parameters_are_the_route_parameters() -> None:
    for path, item in DOC["paths"].items():
        in_path = set(re.findall(r"{([^}]+)}", path))
        params = [deref(p) for p in item.get("parameters", [])]
        for method in METHODS:
            params += [deref(p) for p in item.get(method, {}).get("parameters", [])]
        assert {p["name"] for p in params if p["in"] == "path"} == in_path, path


def test_enums_are_the_codes_of_the_implementation() -> None:
    schemas = DOC["components"]["schemas"]
    assert schemas["FeatureDecision"]["properties"]["key"]["enum"] == list(registry.KEYS)
    assert schemas["FeatureUseRequest"]["properties"]["feature"]["enum"] == list(registry.KEYS)
    assert set(schemas["DecisionCode"]["enum"]) == {c.value for c in Code}
    assert set(schemas["FeatureDecision"]["properties"]["level"]["enum"]) == {
        lv.value for lv in Level
    }
    assert set(schemas["Member"]["properties"]["role"]["enum"]) == {r.name.lower() for r in Role}
    assert set(schemas["Member"]["properties"]["status"]["enum"]) == set(MemberStatus.values)
    assert set(schemas["FeatureUseRequest"]["properties"]["outcome"]["enum"]) == set(Outcome.values)
    assert set(schemas["Error"]["properties"]["error"]["properties"]["code"]["enum"]) == set(
        errors.CODES
    )
    assert set(schemas["DocumentAccessCode"]["enum"]) == {c.value for c in access.Code}
    assert set(schemas["DocumentSummary"]["properties"]["kind"]["enum"]) == set(DocumentKind.values)
    assert set(schemas["AgentAccessCode"]["enum"]) == {c.value for c in agent_access.Code}
    assert schemas["AgentTool"]["enum"] == list(agent_tools.KEYS)
    assert set(schemas["DroppedToolCode"]["enum"]) == {c.value for c in Code} | {
        agent_selectors.SOURCE_MISSING,
        agent_selectors.NO_SOURCE_LEFT,
        agent_selectors.MEDIA_CUSTOMER,
    }
    ids = schemas["VisibleDocumentsRequest"]["properties"]["document_ids"]
    assert ids["maxItems"] == forms.VISIBLE_IDS_MAX
    params = {p["name"]: p["schema"] for p in DOC["paths"][DOCUMENTS]["get"]["parameters"]}
    assert params["limit"]["maximum"] == forms.LIMIT_MAX
    assert params["limit"]["default"] == forms.LIMIT_DEFAULT
    assert params["q"]["maxLength"] == forms.TITLE_QUERY_MAX


def test_every_example_validates_against_its_schema() -> None:
    checked = 0
    for path, method, op in operations():
        media = [op.get("requestBody", {}).get("content", {}).get("application/json")]
        media += [
            deref(r).get("content", {}).get("application/json") for r in op["responses"].values()
        ]
        for m in filter(None, media):
            v = validator(m["schema"])
            for name, example in m.get("examples", {}).items():
                errors_found = [e.message for e in v.iter_errors(example["value"])]
                assert not errors_found, f"{method.upper()} {path} example {name}: {errors_found}"
                checked += 1
    assert checked >= 10


# --- Real answers against the document ----------------------------------------------------

FEATURES = "/api/service/workspaces/{slug}/members/{member}/features"
USE = "/api/service/workspaces/{slug}/feature-use"
DOCUMENT = "/api/service/openapi.json"
DOCUMENTS = "/api/service/workspaces/{slug}/members/{member}/documents"
VISIBLE = "/api/service/workspaces/{slug}/members/{member}/documents/visible"
ACCESS = "/api/service/workspaces/{slug}/documents/{document_id}/access"
AGENTS = "/api/service/workspaces/{slug}/members/{member}/agents"
AGENT = "/api/service/workspaces/{slug}/agents/{agent_id}"


def agents_url(slug: str, member: object) -> str:
    return f"/api/service/workspaces/{slug}/members/{member}/agents"


def agent_url(slug: str, agent_id: object, member: object | None = None) -> str:
    url = f"/api/service/workspaces/{slug}/agents/{agent_id}"
    return f"{url}?member={member}" if member is not None else url


@pytest.fixture(autouse=True)
def _one_rate_limit_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The failures that make a client limited and its limited answers fall in one window:
    a real clock could cross a window's end between them."""
    from api import auth  # noqa: PLC0415

    monkeypatch.setattr(auth, "_clock", lambda: 1_800_000_000.0)


@pytest.fixture
def world(
    db: None,
    api: Client,
    raw_token: str,
    workspace: Workspace,
    member: Membership,
    owner: Membership,
) -> dict[str, Any]:
    revoked = new_raw_token()
    ServiceTokenFactory(name="Old", raw=revoked, revoked_at=timezone.now())
    return {
        "api": api,
        "member": member,
        "workspace": workspace,
        "revoked": revoked,
        "raw_token": raw_token,
    }


def _documents_of(w: dict[str, Any]) -> dict[str, int]:
    """Acme on the Team plan, with three documents of a synced Drive shared with the member,
    one shared with nobody, and a library's document shared with everyone."""
    ws: Workspace = w["workspace"]
    m: Membership = w["member"]
    SubscriptionFactory(workspace=ws, plan=Plan.objects.get(slug="team"))
    now = timezone.now()
    shared = [user(m.user.email)]
    source = FakeSource(
        [
            source_doc("d1", "Roadmap", now - timedelta(hours=1), shared),
            source_doc("d2", "Budget", now - timedelta(hours=2), shared),
            source_doc("d3", "Minutes", now - timedelta(hours=3), shared),
            source_doc("d4", "Board pack", now - timedelta(hours=4), [user("ceo@acme.test")]),
        ]
    )
    conn = synced_connection(ws, source)
    library_shared_with_everyone(ws, title="Leave policy", modified_at=now - timedelta(minutes=5))
    assert conn.documents.count() == 4
    return dict(Document.objects.filter(workspace=ws).values_list("title", "pk"))


def _document_scenarios(
    w: dict[str, Any], anonymous: Client, revoked: Client
) -> tuple[dict[tuple[str, str, str], list[Any]], int]:
    """The documents endpoints' answers of every status but 429, and a visible document."""
    api: Client = w["api"]
    m: Membership = w["member"]
    many_params = "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    docs = _documents_of(w)
    shown, hidden = docs["Roadmap"], docs["Board pack"]
    first = api.get(documents_url("acme", m.user_id, limit=2))
    assert first.json()["next_cursor"], first.content
    scenarios = {
        (DOCUMENTS, "get", "200"): [
            first,
            api.get(documents_url("acme", m.user.email, cursor=first.json()["next_cursor"])),
            api.get(documents_url("acme", m.user_id, q="nothing like it")),
        ],
        (DOCUMENTS, "get", "400"): [
            api.get(documents_url("acme", m.user_id, limit=0)),
            api.get(documents_url("acme", m.user_id, cursor="changed:by-hand", q="a\x00")),
            api.get(documents_url("acme", m.user_id) + "?" + many_params),
        ],
        (DOCUMENTS, "get", "401"): [
            anonymous.get(documents_url("acme", m.user_id)),
            revoked.get(documents_url("acme", m.user_id)),
        ],
        (DOCUMENTS, "get", "404"): [
            api.get(documents_url("initech", m.user_id)),
            api.get(documents_url("acme", "ghost@acme.test")),
            api.get(documents_url("ac%00me", m.user_id)),
        ],
        (DOCUMENTS, "get", "405"): [api.post(documents_url("acme", m.user_id))],
        (VISIBLE, "post", "200"): [
            filter_ids(api, "acme", m.user_id, {"document_ids": [hidden, shown, 10**12, shown]}),
            filter_ids(api, "acme", m.user.email, {"document_ids": []}),
        ],
        (VISIBLE, "post", "400"): [
            filter_ids(api, "acme", m.user_id, ""),
            filter_ids(api, "acme", m.user_id, "{"),
            filter_ids(api, "acme", m.user_id, {}),
            filter_ids(api, "acme", m.user_id, {"document_ids": [1, "2"]}),
            filter_ids(api, "acme", m.user_id, {"document_ids": list(range(1, 1002))}),
            filter_ids(api, "acme", m.user_id, '{"document_ids": [9223372036854775808]}'),
            filter_ids(api, "acme", m.user_id, '{"document_ids": [1], "x": "\\u0000"}'),
        ],
        (VISIBLE, "post", "401"): [
            filter_ids(anonymous, "acme", m.user_id, {"document_ids": [shown]}),
            filter_ids(revoked, "acme", m.user_id, {"document_ids": [shown]}),
        ],
        (VISIBLE, "post", "404"): [
            filter_ids(api, "initech", m.user_id, {"document_ids": [shown]}),
            filter_ids(api, "acme", "ghost@acme.test", {"document_ids": [shown]}),
            filter_ids(api, "acme%00", m.user_id, {"document_ids": [shown]}),
        ],
        (VISIBLE, "post", "405"): [api.get(visible_url("acme", m.user_id))],
        (ACCESS, "get", "200"): [
            api.get(access_url("acme", shown, m.user_id)),
            api.get(access_url("acme", hidden, m.user.email)),
            api.get(access_url("acme", docs["Leave policy"], m.user_id)),
        ],
        (ACCESS, "get", "400"): [
            api.get(access_url("acme", shown)),
            api.get(access_url("acme", shown) + "?" + many_params),
        ],
        (ACCESS, "get", "401"): [
            anonymous.get(access_url("acme", shown, m.user_id)),
            revoked.get(access_url("acme", shown, m.user_id)),
        ],
        (ACCESS, "get", "404"): [
            api.get(access_url("initech", shown, m.user_id)),
            api.get(access_url("acme", shown, "ghost@acme.test")),
            api.get(access_url("acme", 10**12, m.user_id)),
            api.get(access_url("acme", "9" * 30, m.user_id)),
        ],
        (ACCESS, "get", "405"): [api.delete(access_url("acme", shown, m.user_id))],
    }
    return scenarios, shown


def _agent_scenarios(
    w: dict[str, Any], anonymous: Client, revoked: Client
) -> tuple[dict[tuple[str, str, str], list[Any]], int]:
    """The agents endpoints' answers of every status but 429 (the workspace on the Team
    plan), and an agent the member may use."""
    api: Client = w["api"]
    m: Membership = w["member"]
    ws: Workspace = w["workspace"]
    owner = Membership.objects.get(workspace=ws, role=Role.OWNER)
    many_params = "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    model = BaseModelFactory(plans=["team"], context_window=32_000)
    library = LibraryFactory(workspace=ws)
    gone = LibraryFactory(workspace=ws)

    def agent(name: str, **kw: Any) -> Any:
        version = {f"version__{k}": kw.pop(k) for k in ("tools", "library_ids") if k in kw}
        return AgentFactory(
            workspace=ws, created_by=owner, name=name, version__base_model=model, **version, **kw
        )

    plain = agent("Plain")
    searching = agent(
        "Search",
        tools=["web_search", "document_search", "code_interpreter"],
        library_ids=[library.pk, gone.pk],
    )
    hidden = agent("Hidden", visibility=Visibility.RESTRICTED)
    disabled = agent("Disabled")
    agent_services.agent_disable(
        actor=Actor.staff(UserFactory(is_staff=True)), agent_id=disabled.pk, reason="Review"
    )
    deleted = agent("Deleted")
    agent_services.agent_delete(actor=Actor.member(owner), agent_id=deleted.pk)
    gone.delete()
    FeatureRuleFactory(membership=m, feature="web_search")
    denied = AgentFactory(workspace=ws, name="Someone's", version__base_model=model)
    FeatureRuleFactory(membership=denied.created_by, feature="agents")
    scenarios = {
        (AGENTS, "get", "200"): [
            api.get(agents_url("acme", m.user_id)),
            api.get(agents_url("acme", m.user.email)),
            api.get(agents_url("acme", denied.created_by.user_id)),
            first := api.get(agents_url("acme", m.user_id) + "?limit=1"),
            api.get(agents_url("acme", m.user_id), {"cursor": first.json()["next_cursor"]}),
        ],
        (AGENTS, "get", "400"): [
            api.get(agents_url("acme", m.user_id) + "?limit=0"),
            api.get(agents_url("acme", m.user_id) + "?cursor=changed:by-hand&limit=201"),
            api.get(agents_url("acme", m.user_id) + "?" + many_params),
        ],
        (AGENTS, "get", "401"): [
            anonymous.get(agents_url("acme", m.user_id)),
            revoked.get(agents_url("acme", m.user_id)),
        ],
        (AGENTS, "get", "404"): [
            api.get(agents_url("initech", m.user_id)),
            api.get(agents_url("acme", "ghost@acme.test")),
            api.get(agents_url("ac%00me", m.user_id)),
        ],
        (AGENTS, "get", "405"): [api.post(agents_url("acme", m.user_id))],
        (AGENT, "get", "200"): [
            api.get(agent_url("acme", plain.pk, m.user_id)),
            api.get(agent_url("acme", searching.pk, m.user.email)),
            api.get(agent_url("acme", searching.pk, owner.user_id)),
        ],
        (AGENT, "get", "400"): [
            api.get(agent_url("acme", plain.pk)),
            api.get(agent_url("acme", plain.pk, "")),
            api.get(agent_url("acme", plain.pk, m.user_id) + "&" + many_params),
        ],
        (AGENT, "get", "401"): [
            anonymous.get(agent_url("acme", plain.pk, m.user_id)),
            revoked.get(agent_url("acme", plain.pk, m.user_id)),
        ],
        (AGENT, "get", "403"): [
            api.get(agent_url("acme", hidden.pk, m.user_id)),
            api.get(agent_url("acme", disabled.pk, m.user_id)),
            api.get(agent_url("acme", plain.pk, denied.created_by.user_id)),
        ],
        (AGENT, "get", "404"): [
            api.get(agent_url("initech", plain.pk, m.user_id)),
            api.get(agent_url("acme", plain.pk, "ghost@acme.test")),
            api.get(agent_url("acme", deleted.pk, m.user_id)),
            api.get(agent_url("acme", 10**12, m.user_id)),
            api.get(agent_url("acme", "9" * 30, m.user_id)),
        ],
        (AGENT, "get", "405"): [api.delete(agent_url("acme", plain.pk, m.user_id))],
    }
    return scenarios, plain.pk


def _scenarios(w: dict[str, Any]) -> dict[tuple[str, str, str], list[Any]]:
    api: Client = w["api"]
    m: Membership = w["member"]
    anonymous = Client()
    revoked = Client(HTTP_AUTHORIZATION=f"Bearer {w['revoked']}")
    # Before the news report below suspends the workspace, which hides every document.
    documents, shown = _document_scenarios(w, anonymous, revoked)
    agents, usable = _agent_scenarios(w, anonymous, revoked)
    MediaStatusChange.objects.create(
        workspace=w["workspace"], is_media_customer=True, source="self"
    )
    created = report(api, "acme", use_body(m, feature="news"))
    # Another client address, past the limit of failed authentications: refused with the
    # valid token too.
    limited = Client(HTTP_AUTHORIZATION=f"Bearer {w['raw_token']}", REMOTE_ADDR="203.0.113.9")
    guesser = Client(HTTP_AUTHORIZATION="Bearer svc_guess", REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.API_AUTH_FAILURE_LIMIT):
        assert guesser.get(features_url("acme", m.user_id)).status_code == 401
    many_params = "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    return {
        **documents,
        **agents,
        (AGENTS, "get", "429"): [limited.get(agents_url("acme", m.user_id))],
        (AGENT, "get", "429"): [limited.get(agent_url("acme", usable, m.user_id))],
        (FEATURES, "get", "200"): [
            api.get(features_url("acme", m.user_id)),
            api.get(features_url("acme", m.user.email) + "?feature=news"),
        ],
        (FEATURES, "get", "400"): [
            api.get(features_url("acme", m.user_id) + "?feature=teleport"),
            api.get(features_url("acme", m.user_id) + "?" + many_params),
        ],
        (FEATURES, "get", "401"): [
            anonymous.get(features_url("acme", m.user_id)),
            revoked.get(features_url("acme", m.user_id)),
        ],
        (FEATURES, "get", "404"): [
            api.get(features_url("initech", m.user_id)),
            api.get(features_url("acme", "ghost@acme.test")),
            api.get(features_url("ac%00me", m.user_id)),
        ],
        (FEATURES, "get", "405"): [api.delete(features_url("acme", m.user_id))],
        (FEATURES, "get", "429"): [limited.get(features_url("acme", m.user_id))],
        (USE, "post", "201"): [
            created,
            report(api, "acme", use_body(m, event_id="evt-2", member=m.user_id)),
        ],
        (USE, "post", "200"): [report(api, "acme", use_body(m, feature="news"))],
        (USE, "post", "400"): [
            report(api, "acme", "{"),
            report(api, "acme", "[]"),
            report(api, "acme", {}),
            report(api, "acme", use_body(m, occurred_at="2026-11-25T09:30:00")),
            report(api, "acme", '{"member": ' + "9" * 5000 + "}"),
            report(api, "acme", use_body(m, event_id="evt-\u0000")),
            report(api, "acme", '{"member": NaN}'),
        ],
        (USE, "post", "401"): [
            report(anonymous, "acme", use_body(m)),
            report(revoked, "acme", use_body(m)),
        ],
        (USE, "post", "404"): [
            report(api, "initech", use_body(m)),
            report(api, "acme", use_body(m, member="ghost@acme.test")),
            report(api, "acme%00", use_body(m)),
        ],
        (USE, "post", "405"): [api.get(use_url("acme"))],
        (USE, "post", "429"): [report(limited, "acme", use_body(m, event_id="evt-9"))],
        (USE, "post", "409"): [
            report(api, "acme", use_body(m, feature="news", outcome="used", event_id="evt-2"))
        ],
        (DOCUMENTS, "get", "429"): [limited.get(documents_url("acme", m.user_id))],
        (VISIBLE, "post", "429"): [filter_ids(limited, "acme", m.user_id, {"document_ids": []})],
        (ACCESS, "get", "429"): [limited.get(access_url("acme", shown, m.user_id))],
        (DOCUMENT, "get", "200"): [anonymous.get("/api/service/openapi.json")],
        (DOCUMENT, "get", "405"): [anonymous.post("/api/service/openapi.json")],
        (DOCUMENT, "get", "429"): [limited.get("/api/service/openapi.json")],
    }


def test_real_answers_of_every_documented_status_validate(world: dict[str, Any]) -> None:
    scenarios = _scenarios(world)
    assert set(scenarios) == documented_statuses(), (
        "a documented status has no scenario here, or the reverse"
    )
    for (path, method, status), responses in scenarios.items():
        schema = response_schema(path, method, status)
        v = validator(schema)
        for response in responses:
            assert response.status_code == int(status), (
                path,
                method,
                status,
                response.content[:300],
            )
            assert response["Content-Type"] == "application/json"
            found = [
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in v.iter_errors(response.json())
            ]
            assert not found, f"{method.upper()} {path} -> {status}: {found}"
            documented_headers = deref(DOC["paths"][path][method]["responses"][status]).get(
                "headers", {}
            )
            for header in documented_headers:
                assert response.has_header(header), (path, method, status, header)


def test_the_document_is_served_as_it_is_in_the_repository(client: Client) -> None:
    response = client.get("/api/service/openapi.json")
    assert response.status_code == 200
    assert response.json() == DOC
