"""The service API for the platform's gateway (R-FEAT-4, R-MEDIA-3, R-KEY-3).

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
from core import registry
from features.decisions import Decision, decide_all, load_workspace_facts

from . import errors, selectors, services
from .auth import authenticate, count_failure, refuse_if_rate_limited
from .errors import ApiError
from .forms import MemberRef, json_body, parse_feature_use, unknown_feature_message

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
