"""Resolving the workspace of a request (R-SEC-1). Every view under /w/<slug>/ goes
through ``workspace_view``: a signed-out visitor is sent to sign in, a user who is not an
active member gets 404 (never 403, which would confirm the workspace exists), and a
member whose role lacks the permission gets 403 (they know the workspace; the page says
why). A suspended workspace's pages can be read, but changes answer the suspension page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from accounts.models import Membership, MemberStatus, Workspace
from accounts.roles import Perm, has_perm

View = Callable[..., HttpResponseBase]


def get_membership(user: Any, slug: str) -> Membership:
    if not user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.select_related("workspace", "user")
        .filter(workspace__slug=slug, user=user, status=MemberStatus.ACTIVE)
        .first()
    )
    if membership is None:
        raise Http404("No such workspace.")
    return membership


def workspace_view(
    perm: Perm = Perm.VIEW_WORKSPACE, *, allow_when_suspended: bool = False
) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            membership = get_membership(request.user, slug)
            request.workspace = membership.workspace  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            if not has_perm(membership.role, perm):
                if request.method in ("GET", "HEAD"):
                    return TemplateResponse(
                        request,
                        "403.html",
                        {"message": "Your role does not give access to this page."},
                        status=403,
                    )
                raise PermissionDenied
            ws = membership.workspace
            if (
                ws.is_suspended
                and request.method not in ("GET", "HEAD")
                and not allow_when_suspended
            ):
                return TemplateResponse(request, "suspended.html", {"workspace": ws}, status=403)
            return view(request, *args, **kwargs)

        wrapper.workspace_perm = perm  # type: ignore[attr-defined]
        return wrapper

    return decorator


def scoped(model: type[Model] | QuerySet[Any], request: HttpRequest, **lookup: Any) -> Any:
    """Fetch an object of the request's workspace, or 404 whether missing or foreign."""
    return get_object_or_404(model, workspace=request.workspace, **lookup)  # type: ignore[attr-defined]


def workspace_of(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined, no-any-return]
