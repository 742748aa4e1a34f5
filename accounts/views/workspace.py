from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from accounts import services
from accounts.access import WorkspaceRequest, workspace_view
from accounts.audit_display import describe
from accounts.forms import JoinSettingsForm, WorkspaceRenameForm
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
from accounts.views import confirm
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
        events = AuditEvent.objects.filter(workspace=ws).order_by("-created_at", "-id")[:8]
        recent = [(event, describe(event)) for event in events]
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
        request,
        template,
        {
            "page_title": "Settings",
            "nav": "settings",
            "form": form,
            "rename_form": WorkspaceRenameForm(initial={"name": ws.name}),
        },
    )
    if saved:
        toast(response, "Settings saved.", "ok")
    return response


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_SETTINGS)
def settings_rename(request: WorkspaceRequest) -> HttpResponse:
    ws = request.workspace
    form = WorkspaceRenameForm(request.POST)
    if form.is_valid():
        try:
            ws = services.workspace_rename(
                actor=request.actor,
                workspace=ws,
                name=form.cleaned_data["name"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            # The name shows in the switcher, the titles and every page header: the whole
            # page comes again, with the message as its toast.
            messages.success(request, f"The workspace is now called {ws.name}.")
            url = reverse("ws:settings", args=[ws.slug])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if request.htmx:
        return TemplateResponse(
            request, "accounts/settings.html#rename-form", {"rename_form": form}
        )
    join = JoinSettingsForm(initial={"join_mode": ws.join_mode, "default_role": ws.default_role})
    return TemplateResponse(
        request,
        "accounts/settings.html",
        {"page_title": "Settings", "nav": "settings", "form": join, "rename_form": form},
    )


@require_http_methods(["GET", "POST"])
@workspace_view(allow_when_suspended=True)
def leave(request: WorkspaceRequest) -> HttpResponse:
    """Asks first (a page, or a dialog for HTMX) naming what the member gives up; leaves
    only on a post that carries the confirmation."""
    if not confirm.is_confirmed(request):
        ws = request.workspace
        m = request.membership
        groups = ", ".join(g.name for g in m.groups.order_by("name")) or "none"
        confirmation = confirm.Confirmation(
            title=f"Leave {ws.name}?",
            action_url=reverse("ws:leave", args=[ws.slug]),
            button=f"Leave {ws.name}",
            cancel_url=reverse("ws:overview", args=[ws.slug]),
            losses=[
                f"Your access to {ws.name} at once: its features, its API and everything "
                "shared with the workspace.",
                f"Your role: {m.get_role_display()}.",
                f"Your groups: {groups}.",
            ],
            kept=["Your account, and your other workspaces. To come back, ask for an invitation."],
        )
        return confirm.ask(request, confirmation, page_title="Leave the workspace", nav="overview")
    try:
        services.member_leave(actor=request.actor, membership=request.membership)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("ws:overview", request.workspace.slug)
    messages.success(request, f"You left {request.workspace.name}.")
    request.session.pop("current_workspace", None)
    return redirect("home")
