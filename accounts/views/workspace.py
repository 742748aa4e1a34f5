from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.access import WorkspaceRequest, workspace_view
from accounts.forms import JoinSettingsForm
from accounts.models import (
    AuditEvent,
    Domain,
    Invitation,
    InvitationStatus,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    MemberStatus,
)
from accounts.roles import Perm, Role, has_perm, matrix
from core.errors import DomainError
from core.htmx import toast


@require_http_methods(["GET"])
@workspace_view()
def overview(request: WorkspaceRequest) -> HttpResponse:
    ws = request.workspace
    request.session["current_workspace"] = ws.slug
    counts = {
        "members": Membership.objects.filter(workspace=ws, status=MemberStatus.ACTIVE).count(),
        "invitations": Invitation.objects.filter(
            workspace=ws, status=InvitationStatus.PENDING
        ).count(),
        "domains": Domain.objects.filter(workspace=ws, verified_at__isnull=False).count(),
        "join_requests": JoinRequest.objects.filter(
            workspace=ws, status=JoinRequestStatus.PENDING
        ).count(),
    }
    recent = []
    if has_perm(request.membership.role, Perm.VIEW_AUDIT):
        recent = list(AuditEvent.objects.filter(workspace=ws).order_by("-created_at", "-id")[:8])
    return TemplateResponse(
        request,
        "accounts/overview.html",
        {"page_title": ws.name, "nav": "overview", "counts": counts, "recent_events": recent},
    )


@require_http_methods(["GET"])
@workspace_view()
def roles(request: WorkspaceRequest) -> HttpResponse:
    return TemplateResponse(
        request,
        "accounts/roles.html",
        {
            "page_title": "Roles and permissions",
            "nav": "roles",
            "roles": list(Role),
            "rows": matrix(),
        },
    )


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_SETTINGS)
def settings_page(request: WorkspaceRequest) -> HttpResponse:
    ws = request.workspace
    initial = {"join_mode": ws.join_mode, "default_role": ws.default_role}
    form = JoinSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            services.workspace_update_join_settings(
                actor=request.actor, workspace=ws, **form.cleaned_data
            )
            saved = True
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
        if saved and not request.htmx:
            messages.success(request, "Settings saved.")
            return redirect("ws:settings", ws.slug)
    template = "accounts/settings.html#join-form" if request.htmx else "accounts/settings.html"
    response = TemplateResponse(
        request, template, {"page_title": "Settings", "nav": "settings", "form": form}
    )
    if saved:
        toast(response, "Settings saved.", "ok")
    return response


@require_http_methods(["POST"])
@workspace_view(allow_when_suspended=True)
def leave(request: WorkspaceRequest) -> HttpResponse:
    try:
        services.member_leave(actor=request.actor, membership=request.membership)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("ws:overview", request.workspace.slug)
    messages.success(request, f"You left {request.workspace.name}.")
    request.session.pop("current_workspace", None)
    return redirect("home")
