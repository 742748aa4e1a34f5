from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from accounts import services
from accounts.errors import DomainError
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
from console.access import workspace_view


@require_http_methods(["GET"])
@workspace_view()
def overview(request: HttpRequest) -> HttpResponse:
    ws = request.workspace  # type: ignore[attr-defined]
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
    if has_perm(request.membership.role, Perm.VIEW_AUDIT):  # type: ignore[attr-defined]
        recent = list(AuditEvent.objects.filter(workspace=ws).order_by("-created_at", "-id")[:8])
    return TemplateResponse(
        request,
        "accounts/overview.html",
        {"page_title": ws.name, "nav": "overview", "counts": counts, "recent_events": recent},
    )


@require_http_methods(["GET"])
@workspace_view()
def roles(request: HttpRequest) -> HttpResponse:
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
def settings_page(request: HttpRequest) -> HttpResponse:
    ws = request.workspace  # type: ignore[attr-defined]
    initial = {"join_mode": ws.join_mode, "default_role": ws.default_role}
    form = JoinSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            services.workspace_update_join_settings(
                actor=request.user,  # type: ignore[arg-type]
                workspace=ws,
                **form.cleaned_data,
            )
            saved = True
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
        if saved and not request.htmx:  # type: ignore[attr-defined]
            messages.success(request, "Settings saved.")
            return redirect("ws:settings", ws.slug)
    template = "accounts/settings.html#join-form" if request.htmx else "accounts/settings.html"  # type: ignore[attr-defined]
    response = TemplateResponse(
        request, template, {"page_title": "Settings", "nav": "settings", "form": form}
    )
    if saved:
        trigger_client_event(response, "toast", {"message": "Settings saved.", "kind": "ok"})
    return response


@require_http_methods(["POST"])
@workspace_view(allow_when_suspended=True)
def leave(request: HttpRequest) -> HttpResponse:
    try:
        services.member_leave(actor=request.user, membership=request.membership)  # type: ignore[arg-type, attr-defined]
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("ws:overview", request.workspace.slug)  # type: ignore[attr-defined]
    messages.success(request, f"You left {request.workspace.name}.")  # type: ignore[attr-defined]
    request.session.pop("current_workspace", None)
    return redirect("home")
