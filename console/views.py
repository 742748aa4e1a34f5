from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views import defaults
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from accounts.actor import Actor
from accounts.forms import WorkspaceCreateForm
from accounts.models import JoinRequest, JoinRequestStatus, Membership, MemberStatus
from api import views as api_views
from compliance.models import MEDIA_CUSTOMER_DEFINITION
from console.services import workspace_open
from core.errors import DomainError


@require_http_methods(["GET"])
@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = list(
        Membership.objects.filter(user=request.user, status=MemberStatus.ACTIVE)  # type: ignore[misc]
        .select_related("workspace")
        .order_by("workspace__name")
    )
    last = request.session.get("current_workspace")
    if "all" not in request.GET:
        for m in memberships:
            if m.workspace.slug == last:
                return redirect("ws:overview", m.workspace.slug)
        if len(memberships) == 1:
            return redirect("ws:overview", memberships[0].workspace.slug)
    pending = JoinRequest.objects.filter(
        user=request.user,  # type: ignore[misc]
        status=JoinRequestStatus.PENDING,
    ).select_related("workspace")
    return TemplateResponse(
        request,
        "console/home.html",
        {"page_title": "Your workspaces", "memberships": memberships, "pending_requests": pending},
    )


@require_http_methods(["GET", "POST"])
@login_required
def workspace_create(request: HttpRequest) -> HttpResponse:
    form = WorkspaceCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ws = workspace_open(
                actor=Actor.for_user(request.user),  # type: ignore[arg-type]
                name=data["name"],
                slug=data["slug"],
                is_media_customer=data["is_media_customer"],
            )
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
        else:
            target = f"/w/{ws.slug}/"
            if request.htmx:  # type: ignore[attr-defined]
                return HttpResponseClientRedirect(target)
            return redirect(target)
    template = (
        "console/workspace_create.html#form" if request.htmx else "console/workspace_create.html"  # type: ignore[attr-defined]
    )
    return TemplateResponse(
        request,
        template,
        {
            "form": form,
            "page_title": "New workspace",
            "media_definition": MEDIA_CUSTOMER_DEFINITION,
        },
    )


# --- Error handlers (console/urls.py) ---------------------------------------------------

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path_info == API_PREFIX.rstrip("/") or request.path_info.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The service API's JSON envelope under /api/, the console's page elsewhere."""
    if _is_api(request):
        return api_views.not_found(request, exception)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return api_views.bad_request(request, exception)
    return defaults.bad_request(request, exception)
