"""The service API for the platform's gateway and retrieval (R-FEAT-4, R-MEDIA-3, R-KEY-3,
R-CON-6).

JSON in and out, authenticated by a service token (``Authorization: Bearer svc_...``),
without session or CSRF: the caller is a program, not a browser. Every answer that is not
a success is the error envelope of ``api.errors``. ``api/openapi.json`` documents it all,
and a test holds the document and these views to each other.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from pathlib import Path
from typing import Any

from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.models import Membership
from accounts.roles import Role
from billing.selectors import entitlements
from connectors.access import DocumentDecision, Viewer, document_decision, load_viewer
from connectors.models import Document
from core import registry
from features.decisions import Decision, decide_all, load_workspace_facts

from . import errors, selectors, services
from .auth import authenticate, count_failure, refuse_if_rate_limited
from .errors import ApiError
from .forms import (
    MemberRef,
    json_body,
    member_param,
    parse_agent_query,
    parse_document_ids,
    parse_document_query,
    parse_feature_use,
    unknown_feature_message,
)

OPENAPI_PATH = Path(__file__).with_name("openapi.json")

View = Callable[..., HttpResponse]


def _request_error(exc: SuspiciousOperation) -> ApiError:
    """The envelope for what Django refuses to parse: a body past DATA_UPLOAD_MAX_MEMORY_SIZE,
    more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS (query parameters count)."""
    if isinstance(exc, RequestDataTooBig):
        return ApiError(400, errors.INVALID_REQUEST, errors.BODY_TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return ApiError(400, errors.INVALID_REQUEST, errors.TOO_MANY_FIELDS)
    return ApiError(400, errors.INVALID_REQUEST, errors.REQUEST_INVALID)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def service_endpoint(*methods: str, public: bool = False) -> Callable[[View], View]:
    """Rate limit of failed authentications (429), method check (405 in JSON), token check
    (401) unless ``public``, and ApiError or a request Django refuses to parse turned into
    its JSON answer. Answers are never cached: a decision may change at any moment."""

    def wrap(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                refuse_if_rate_limited(request)
                if request.method not in methods:
                    raise ApiError(
                        405,
                        errors.METHOD_NOT_ALLOWED,
                        errors.METHOD_NOT_ALLOWED_MESSAGE.format(
                            method=request.method, allowed=", ".join(methods)
                        ),
                        headers={"Allow": ", ".join(methods)},
                    )
                if not public:
                    try:
                        authenticate(request)
                    except ApiError:
                        count_failure(request)
                        raise
                response = view(request, *args, **kwargs)
            except ApiError as exc:
                response = exc.response()
            except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as exc:
                response = _request_error(exc).response()
            return _no_store(response)

        endpoint.allowed_methods = methods  # type: ignore[attr-defined]
        return endpoint

    return wrap


def _member_or_404(slug: str, member: object) -> Membership:
    ref = MemberRef.parse(member)
    membership = selectors.membership_by_ref(slug, ref) if ref is not None else None
    if membership is not None:
        return membership
    if not selectors.workspace_exists(slug):
        raise ApiError(404, errors.WORKSPACE_NOT_FOUND, errors.WORKSPACE_UNKNOWN.format(slug=slug))
    raise ApiError(
        404, errors.MEMBER_NOT_FOUND, errors.MEMBER_UNKNOWN.format(member=member, slug=slug)
    )


def _decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "key": decision.feature.key,
        "label": decision.feature.label,
        "allowed": decision.allowed,
        "code": str(decision.code),
        "reason": decision.reason,
        "level": str(decision.level),
    }


@service_endpoint("GET")
def member_features(request: HttpRequest, slug: str, member: str) -> HttpResponse:
    """Every feature's decision for one member, with the workspace's plan and limits: what the
    gateway enforces (R-FEAT-4). ``?feature=<key>`` narrows the list to one feature."""
    only = request.GET.get("feature")
    if only is not None and only not in registry.BY_KEY:
        raise ApiError(
            400,
            errors.UNKNOWN_FEATURE,
            unknown_feature_message(only),
            fields={"feature": unknown_feature_message(only)},
        )
    membership = _member_or_404(slug, member)
    workspace = membership.workspace
    facts = load_workspace_facts(workspace)
    plan = (facts.entitlements or entitlements(workspace)).plan
    decisions = decide_all(membership, facts=facts)
    features = [_decision_json(d) for d in decisions.values() if only is None or d.key == only]
    return JsonResponse(
        {
            "workspace": {
                "slug": workspace.slug,
                "suspended": workspace.is_suspended,
                "plan": {
                    "slug": plan.slug,
                    "name": plan.name,
                    "requests_per_minute": plan.requests_per_minute,
                    "tokens_per_minute": plan.tokens_per_minute,
                    "monthly_token_cap": plan.monthly_token_cap,
                },
            },
            "member": {
                "user_id": membership.user_id,
                "email": membership.user.email,
                "role": Role(membership.role).name.lower(),
                "status": membership.status,
            },
            "features": features,
        }
    )


@service_endpoint("POST")
def feature_use(request: HttpRequest, slug: str) -> HttpResponse:
    """The gateway reports that a member used or tried a feature (R-MEDIA-3 for verified
    news). 201 for a new event, 200 with ``duplicate`` for a replay of the same one."""
    use = parse_feature_use(json_body(request))
    membership = _member_or_404(slug, use.raw_member)
    try:
        result = services.feature_use_record(
            membership=membership,
            feature=use.feature,
            outcome=use.outcome,
            event_id=use.event_id,
            occurred_at=use.occurred_at,
        )
    except services.EventConflict as exc:
        raise ApiError(
            409,
            errors.EVENT_CONFLICT,
            errors.EVENT_CONFLICTS.format(event_id=use.event_id),
            fields=exc.differences,
        ) from exc
    event = result.event
    return JsonResponse(
        {
            "event_id": event.event_id,
            "recorded": True,
            "duplicate": result.duplicate,
            "decision": {"allowed": event.allowed, "code": event.code, "reason": event.reason},
            "workspace_suspended": result.workspace_suspended,
        },
        status=200 if result.duplicate else 201,
    )


def _document_json(doc: Document, viewer: Viewer) -> dict[str, Any]:
    library = doc.library  # joined by the page's query
    if library is not None:
        source = {"type": "library", "id": library.pk, "name": library.name}
    else:
        # A listed document's connection is fresh, so the viewer has loaded it.
        conn = viewer.connections[doc.connection_id or 0]
        source = {"type": "connection", "id": conn.pk, "name": conn.display_name}
    return {
        "id": doc.pk,
        "title": doc.title,
        "kind": doc.kind,
        "mime_type": doc.mime_type,
        "web_url": doc.web_url,
        "modified_at": doc.modified_at,
        "source": source,
    }


@service_endpoint("POST")
def member_documents_visible(request: HttpRequest, slug: str, member: str) -> HttpResponse:
    """The retrieval filter (R-CON-6): which of the candidate documents the member may see
    now, in the order given. An id of no document of the workspace is simply not visible."""
    ids = parse_document_ids(json_body(request))
    membership = _member_or_404(slug, member)
    viewer = load_viewer(membership)
    return JsonResponse({"visible": selectors.visible_subset(viewer, ids)})


@service_endpoint("GET")
def member_documents(request: HttpRequest, slug: str, member: str) -> HttpResponse:
    """The documents the member may see, newest first, a page at a time (``?q=`` searches
    titles)."""
    query = parse_document_query(request.GET)
    membership = _member_or_404(slug, member)
    viewer = load_viewer(membership)
    page = selectors.document_page(viewer, q=query.q, after=query.after, limit=query.limit)
    return JsonResponse(
        {
            "documents": [_document_json(d, viewer) for d in page.documents],
            "next_cursor": page.next_cursor.encode() if page.next_cursor else None,
        }
    )


def _document_decision_json(decision: DocumentDecision) -> dict[str, Any]:
    return {
        "allowed": decision.allowed,
        "code": str(decision.code),
        "reason": decision.reason,
        "steps": list(decision.steps),
    }


@service_endpoint("GET")
def document_access(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    """May this member see this document, and why: the decision the filter and the list
    apply, with its reason and steps (R-CON-6)."""
    membership = _member_or_404(slug, member_param(request.GET))
    decision = document_decision(membership, document_id)
    if decision is None:
        raise ApiError(
            404,
            errors.DOCUMENT_NOT_FOUND,
            errors.DOCUMENT_UNKNOWN.format(slug=slug, document_id=document_id),
        )
    return JsonResponse(_document_decision_json(decision))


# --- Agents (agents.access decides) ---------------------------------------------------------


@service_endpoint("GET")
def member_agents(request: HttpRequest, slug: str, member: str) -> HttpResponse:
    """The agents the member may use, by name, compact, a page at a time: each with its
    model and the tools the member would be served (those their feature decisions drop are
    left out)."""
    query = parse_agent_query(request.GET)
    membership = _member_or_404(slug, member)
    page = selectors.usable_agent_list(membership, after=query.after, limit=query.limit)
    return JsonResponse(
        {
            "agents": [
                {
                    "id": row.agent.pk,
                    "name": row.agent.name,
                    "model": row.served.model,
                    "tools": list(row.served.tools),
                    "updated_at": row.agent.updated_at,
                }
                for row in page.rows
            ],
            "next_cursor": page.next_cursor.encode() if page.next_cursor else None,
        }
    )


@service_endpoint("GET")
def agent_config(request: HttpRequest, slug: str, agent_id: int) -> HttpResponse:
    """The agent's current version as this member may use it (``served_config``): 404 for
    an agent the workspace does not have (deleted, or another workspace's), 403 with the
    access decision's code when the member may not use it."""
    membership = _member_or_404(slug, member_param(request.GET))
    agent = selectors.agent_of_workspace(membership.workspace_id, agent_id)
    if agent is None:
        raise ApiError(
            404,
            errors.AGENT_NOT_FOUND,
            errors.AGENT_UNKNOWN.format(slug=slug, agent_id=agent_id),
        )
    served = selectors.served_agent(membership, agent)
    if served.config is None:
        raise ApiError(
            403,
            errors.AGENT_NOT_USABLE,
            served.access.reason,
            reason_code=selectors.refusal_code(served.access),
        )
    return JsonResponse(
        {
            **served.config.as_json(),
            "updated_at": agent.updated_at,
            "access": {"code": str(served.access.code), "reason": served.access.reason},
        }
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 404 of any path under /api/ that no view serves (the project's 404 handler)."""
    return _no_store(ApiError(404, errors.NOT_FOUND, errors.PATH_UNKNOWN).response())


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 400 of a request under /api/ that Django refused before a view (the project's
    400 handler)."""
    if isinstance(exception, SuspiciousOperation):
        return _no_store(_request_error(exception).response())
    return _no_store(ApiError(400, errors.INVALID_REQUEST, errors.REQUEST_INVALID).response())


@cache
def _openapi_document() -> bytes:
    return OPENAPI_PATH.read_bytes()


@service_endpoint("GET", public=True)
def openapi(request: HttpRequest) -> HttpResponse:
    """The OpenAPI document of this API; public, as it holds no secret."""
    return HttpResponse(_openapi_document(), content_type="application/json")
