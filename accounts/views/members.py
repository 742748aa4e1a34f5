"""The members page (R-WS-5): list, search and filter, then row actions for admins.

Each row action answers an HTMX request with the updated row (or nothing, once removed)
plus a toast, and a plain form post with a redirect back to the list it came from."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from accounts import selectors, services
from accounts.access import WorkspaceRequest, access_member, workspace_view
from accounts.member_forms import MemberFilterForm, RoleChangeForm
from accounts.models import Membership, MemberStatus
from accounts.reauth import sensitive
from accounts.roles import Perm, Role, can_assign_role, has_perm
from accounts.views import confirm
from core.errors import DomainError
from core.htmx import back_query
from core.htmx import toast as show_toast

PAGE_SIZE = 50
TEMPLATE = "accounts/members/index.html"
FILTER_KEYS = ("q", "role", "group", "status", "page")
ROLE_BADGES = {
    Role.OWNER: "primary",
    Role.ADMIN: "warn",
    Role.BILLING: "neutral",
    Role.MEMBER: "neutral",
}
STATUS_BADGES = {MemberStatus.ACTIVE: "ok", MemberStatus.DEACTIVATED: "danger"}


def _decorate(rows: Iterable[Membership], viewer: Membership) -> None:
    """Attach what each row shows: badges, its actions' base URL, and the controls the
    viewer may use on it. Pure Python over the page's rows: no query, and no URL reversing
    per row (the table is the hot path of the page)."""
    can_manage = has_perm(viewer.role, Perm.MANAGE_MEMBERS)
    base = reverse("ws:members", args=[viewer.workspace.slug])
    for m in rows:
        m.url = f"{base}{m.pk}/"  # type: ignore[attr-defined]
        m.role_badge = ROLE_BADGES.get(Role(m.role), "neutral")  # type: ignore[attr-defined]
        m.status_badge = STATUS_BADGES.get(MemberStatus(m.status), "neutral")  # type: ignore[attr-defined]
        manageable = (
            can_manage and m.pk != viewer.pk and can_assign_role(viewer.role, m.role, m.role)
        )
        m.manageable = manageable  # type: ignore[attr-defined]
        m.role_options_html = (  # type: ignore[attr-defined]
            format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (r.value, " selected" if r == m.role else "", r.label)
                    for r in Role
                    if can_assign_role(viewer.role, m.role, r)
                ),
            )
            if manageable
            else ""
        )


def _row_context(request: WorkspaceRequest, back: str) -> dict[str, Any]:
    """What every row's forms share, built once per response rather than once per row."""
    return {
        "row_hidden": format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="back" value="{}">',
            get_token(request),
            back,
        ),
        # The confirmation links carry the list's filters, to come back to them.
        "back_qs": urlencode({"back": back}) if back else "",
        "groups_url": reverse("ws:groups", args=[request.workspace.slug]),
    }


def _back_query(data: QueryDict) -> str:
    """The list's filters to return to, rebuilt from known keys only (never a URL)."""
    return back_query(data.get("back", ""), FILTER_KEYS)


def _members_url(request: WorkspaceRequest, query: str = "") -> str:
    url = reverse("ws:members", args=[request.workspace.slug])
    return f"{url}?{query}" if query else url


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_MEMBERS)
def index(request: WorkspaceRequest) -> HttpResponse:
    ws = request.workspace
    form = MemberFilterForm(request.GET or None, workspace=ws)
    form.is_valid()
    members = selectors.member_list(ws, **form.filters())
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    _decorate(page.object_list, request.membership)
    context: dict[str, Any] = {
        "page_title": "Members",
        "nav": "members",
        "form": form,
        "page": page,
        "can_manage": has_perm(request.membership.role, Perm.MANAGE_MEMBERS),
        "filtered": any(form.filters().values()),
        "seats": selectors.seats(ws),
        **_row_context(request, request.GET.urlencode()),
    }
    htmx = request.htmx
    # A history restore asks for the whole page, whatever the request says.
    partial = htmx and not htmx.history_restore_request
    return TemplateResponse(request, f"{TEMPLATE}#members-table" if partial else TEMPLATE, context)


def _row_response(
    request: WorkspaceRequest,
    membership_id: int,
    *,
    toast: str = "",
    error: str = "",
    back: str = "",
) -> HttpResponse:
    viewer = request.membership
    m = selectors.member_row(request.workspace, membership_id)
    if m is None:
        response = HttpResponse("")
    else:
        _decorate([m], viewer)
        response = TemplateResponse(
            request,
            f"{TEMPLATE}#member-row",
            {"m": m, "can_manage": True, "row_error": error, **_row_context(request, back)},
        )
    if toast:
        show_toast(response, toast)
    return response


def _finish(
    request: WorkspaceRequest, target: Membership, *, ok: str = "", error: str = ""
) -> HttpResponse:
    """Answer an action: the row for HTMX, a redirect to the list otherwise."""
    back = _back_query(request.POST)
    if request.htmx:
        return _row_response(request, target.pk, toast=ok, error=error, back=back)
    if error:
        messages.error(request, f"{target.user.email}: {error}")
    else:
        messages.success(request, ok)
    return redirect(_members_url(request, back))


def _target(request: WorkspaceRequest, member_id: int) -> Membership:
    return access_member(request.actor, member_id)


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_MEMBERS)
# Granting or taking a role is sensitive: the password must have been confirmed in the last
# few minutes (ACCOUNT_REAUTHENTICATION_TIMEOUT); the change completes after it.
@sensitive
def change_role(request: WorkspaceRequest, member_id: int) -> HttpResponse:
    target = _target(request, member_id)
    form = RoleChangeForm(request.POST)
    if not form.is_valid():
        return _finish(request, target, error=" ".join(str(e) for e in form.errors["role"]))
    try:
        m = services.member_role_change(
            actor=request.actor,
            membership=target,
            role=form.cleaned_data["role"],
        )
    except DomainError as exc:
        return _finish(request, target, error=exc.message)
    return _finish(request, target, ok=f"{m.user.email} is now {m.get_role_display()}.")


def _simple_action(
    service: Callable[..., Any], done: str
) -> Callable[[WorkspaceRequest, int], HttpResponse]:
    def view(request: WorkspaceRequest, member_id: int) -> HttpResponse:
        target = _target(request, member_id)
        try:
            service(actor=request.actor, membership=target)
        except DomainError as exc:
            return _finish(request, target, error=exc.message)
        return _finish(request, target, ok=done.format(email=target.user.email))

    return view


reactivate = require_http_methods(["POST"])(
    workspace_view(Perm.MANAGE_MEMBERS)(
        _simple_action(services.member_reactivate, "{email} is active again.")
    )
)


def _person(m: Membership) -> str:
    return m.user.name or m.user.email


def _group_names(m: Membership) -> str:
    names = [g.name for g in m.groups.order_by("name")]
    return ", ".join(names) if names else "none"


def _confirmation(
    request: WorkspaceRequest, target: Membership, verb: str, **parts: Any
) -> confirm.Confirmation:
    back = _back_query(request.POST if request.method == "POST" else request.GET)
    return confirm.Confirmation(
        action_url=f"{_members_url(request)}{target.pk}/{verb}/",
        cancel_url=_members_url(request, back),
        hx_target=f"#member-{target.pk}",
        hidden={"back": back},
        **parts,
    )


_deactivate = _simple_action(
    services.member_deactivate,
    "{email} is deactivated and can no longer sign in to this workspace.",
)


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_MEMBERS)
def deactivate(request: WorkspaceRequest, member_id: int) -> HttpResponse:
    """Asks first (a page, or a dialog for HTMX) naming what the member loses; acts only
    on a post that carries the confirmation."""
    if confirm.is_confirmed(request):
        return _deactivate(request, member_id)
    target = _target(request, member_id)
    ws = request.workspace
    email = target.user.email
    confirmation = _confirmation(
        request,
        target,
        "deactivate",
        title=f"Deactivate {_person(target)} in {ws.name}?",
        button=f"Deactivate {email}",
        losses=[
            f"{email} can no longer use {ws.name}, its features or its API, from now on.",
            "They stay listed as deactivated until someone reactivates or removes them.",
        ],
        kept=[
            f"Their role ({target.get_role_display()}) and groups ({_group_names(target)}) "
            "are kept: reactivating them gives everything back.",
        ],
    )
    return confirm.ask(request, confirmation, page_title="Deactivate member", nav="members")


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_MEMBERS)
def remove(request: WorkspaceRequest, member_id: int) -> HttpResponse:
    """Asks first (a page, or a dialog for HTMX) naming who loses access to what; acts
    only on a post that carries the confirmation."""
    target = _target(request, member_id)
    if not confirm.is_confirmed(request):
        ws = request.workspace
        email = target.user.email
        confirmation = _confirmation(
            request,
            target,
            "remove",
            title=f"Remove {_person(target)} from {ws.name}?",
            button=f"Remove {email}",
            losses=[
                f"{email} loses access to {ws.name} at once: its features, its API and "
                "everything shared with the workspace.",
                f"Their role: {target.get_role_display()}.",
                f"Their groups: {_group_names(target)}.",
                "The feature rules and switches set for them alone.",
            ],
            kept=[
                "Their account is kept; an invitation brings them back, as a new member.",
            ],
        )
        return confirm.ask(request, confirmation, page_title="Remove member", nav="members")
    try:
        services.member_remove(
            actor=request.actor,
            membership=target,
        )
    except DomainError as exc:
        return _finish(request, target, error=exc.message)
    return _finish(
        request, target, ok=f"{target.user.email} was removed from {request.workspace.name}."
    )
