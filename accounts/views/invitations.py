"""Invitations (R-WS-3): the admins' page to invite, resend and revoke, and the public
page an invitation link opens (R-UI-2: it works from a signed-out browser)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from accounts import errors, selectors, services
from accounts.access import WorkspaceRequest, access_invitation, workspace_view
from accounts.actor import Actor
from accounts.invitation_forms import InviteForm
from accounts.models import Invitation
from accounts.roles import Perm, Role
from accounts.views import confirm
from core.errors import DomainError
from core.htmx import is_htmx, toast

PAGE_SIZE = 25
RESULTS_SESSION_KEY = "invite_results"
RETRY_SESSION_KEY = "invite_retry"
STATUS_TABS: list[tuple[str, str]] = [
    ("pending", "Pending"),
    ("accepted", "Accepted"),
    ("revoked", "Revoked"),
    ("expired", "Expired"),
]
PAGE = "accounts/invitations/index.html"


def _status_param(request: WorkspaceRequest) -> str:
    status = request.GET.get("status", "pending")
    return status if status in dict(STATUS_TABS) else "pending"


def _list_context(request: WorkspaceRequest) -> dict[str, Any]:
    status = _status_param(request)
    page = Paginator(selectors.invitations_for(request.workspace, status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return {"status": status, "tabs": STATUS_TABS, "page": page}


def _new_form(request: WorkspaceRequest, data: Any = None) -> InviteForm:
    return InviteForm(
        data,
        workspace=request.workspace,
        actor_role=request.membership.role,
    )


def _retry(form: InviteForm, results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What the form keeps after sending: the addresses that failed, with the role and
    groups they were meant for, so the admin fixes them and sends again. None when every
    address was sent: the form starts empty."""
    failed = [r["email"] for r in results if not r["ok"]]
    if not failed:
        return None
    return {
        "emails": "\n".join(failed),
        "role": form.cleaned_data["role"],
        "groups": [g.pk for g in form.cleaned_data["groups"]],
    }


def _retry_form(request: WorkspaceRequest, retry: dict[str, Any] | None) -> InviteForm:
    form = _new_form(request)
    if retry:
        form.initial = {**form.initial, **retry}
    return form


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_INVITATIONS)
def index(request: WorkspaceRequest) -> HttpResponse:
    ws = request.workspace
    if request.method == "GET":
        if request.htmx:
            # Tabs, pagination and the refresh after an invite only ask for the list.
            return TemplateResponse(request, f"{PAGE}#list", _list_context(request))
        stored = request.session.pop(RESULTS_SESSION_KEY, None)
        retry = request.session.pop(RETRY_SESSION_KEY, None)
        context = {
            "page_title": "Invitations",
            "nav": "invitations",
            "form": _retry_form(request, retry),
            "results": stored or [],
            "ttl_days": settings.INVITATION_TTL_DAYS,
            **_list_context(request),
        }
        return TemplateResponse(request, PAGE, context)

    form = _new_form(request, request.POST)
    results: list[dict[str, Any]] = []
    if form.is_valid():
        try:
            outcome = services.invitation_create_many(
                actor=request.actor,
                workspace=ws,
                emails=form.cleaned_data["emails"],
                role=form.cleaned_data["role"],
                groups=form.cleaned_data["groups"],
            )
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
        else:
            results = [{"email": r.email, "ok": r.ok, "message": r.message} for r in outcome]
    retry = _retry(form, results) if results else None
    if results and not request.htmx:
        # Post, redirect, get: the per-address answer waits in the session for the GET.
        request.session[RESULTS_SESSION_KEY] = results
        if retry:
            request.session[RETRY_SESSION_KEY] = retry
        return redirect("ws:invitations", ws.slug)
    if results:
        form = _retry_form(request, retry)
    response = TemplateResponse(
        request,
        f"{PAGE}#invite" if request.htmx else PAGE,
        {
            "page_title": "Invitations",
            "nav": "invitations",
            "form": form,
            "results": results,
            "ttl_days": settings.INVITATION_TTL_DAYS,
            **({} if request.htmx else _list_context(request)),
        },
    )
    if results:
        sent = sum(1 for r in results if r["ok"])
        trigger_client_event(response, "invitations-changed", {})
        trigger_client_event(
            response,
            "toast",
            {
                "message": f"{sent} of {len(results)} invitations sent.",
                "kind": "ok" if sent else "error",
            },
        )
    return response


def _row_action(request: WorkspaceRequest, pk: int, verb: str) -> HttpResponse:
    inv = access_invitation(request.actor, pk)
    service = services.invitation_resend if verb == "resend" else services.invitation_revoke
    try:
        inv = service(actor=request.actor, invitation=inv)
    except DomainError as exc:
        message, kind = exc.message, "error"
    else:
        message = (
            f"Invitation to {inv.email} sent again."
            if verb == "resend"
            else f"Invitation to {inv.email} revoked."
        )
        kind = "ok"
    if not request.htmx:
        (messages.success if kind == "ok" else messages.error)(request, message)
        return redirect("ws:invitations", request.workspace.slug)
    inv = selectors.invitations_for(request.workspace, "all").filter(pk=inv.pk).first() or inv
    response = TemplateResponse(request, f"{PAGE}#row", {"inv": inv})
    toast(response, message, kind)
    return response


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_INVITATIONS)
def resend(request: WorkspaceRequest, pk: int) -> HttpResponse:
    return _row_action(request, pk, "resend")


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_INVITATIONS)
def revoke(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """Asks first (a page, or a dialog for HTMX) naming what the invitee loses; revokes
    only on a post that carries the confirmation."""
    if confirm.is_confirmed(request):
        return _row_action(request, pk, "revoke")
    inv = access_invitation(request.actor, pk)
    ws = request.workspace
    groups = ", ".join(g.name for g in inv.groups.all())
    joins = Role(inv.role).label + (f", in the groups {groups}" if groups else "")
    confirmation = confirm.Confirmation(
        title=f"Revoke the invitation to {inv.email}?",
        action_url=reverse("ws:invitation_revoke", args=[ws.slug, inv.pk]),
        button="Revoke the invitation",
        cancel_url=reverse("ws:invitations", args=[ws.slug]),
        losses=[
            f"The link in the email to {inv.email} stops working at once.",
            f"They will not join {ws.name} as {joins}.",
        ],
        kept=["You can send them a new invitation later."],
        hx_target=f"#inv-{inv.pk}",
    )
    return confirm.ask(request, confirmation, page_title="Revoke invitation", nav="invitations")


# --- The link in the email --------------------------------------------------------------

ACCEPT_PAGE = "invitations/accept.html"


def _invalid(request: HttpRequest, token: str, message: str) -> HttpResponse:
    adapter = get_adapter(request)
    if request.session.get(adapter.INVITATION_SESSION_KEY) == token:
        adapter.unstash_invitation(request)
    # A mistyped link is "not found"; a link that was good once is "gone".
    status = 404 if message == errors.INVITATION_INVALID else 410
    return TemplateResponse(
        request,
        "invitations/invalid.html",
        {"page_title": "Invitation", "message": message},
        status=status,
    )


def _accept_state(request: HttpRequest, invitation: Invitation) -> str:
    user = request.user
    if not user.is_authenticated:
        return "anonymous"
    if services.user_has_verified_email(user, invitation.email):
        return "ready"
    if user.emailaddress_set.filter(email__iexact=invitation.email).exists():  # type: ignore[attr-defined]
        return "unverified"
    return "wrong_user"


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_from_token(token)
    except DomainError as exc:
        return _invalid(request, token, exc.message)
    adapter = get_adapter(request)
    path = request.get_full_path()
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?{urlencode({'next': path})}")
        try:
            membership = services.invitation_accept(
                actor=Actor.for_user(request.user), invitation=invitation
            )
        except DomainError as exc:
            if _accept_state(request, invitation) == "ready":
                return _invalid(request, token, exc.message)
            # Signed in as someone else: the page below says so and offers to sign out.
        else:
            adapter.unstash_invitation(request)
            ws = membership.workspace
            request.session["current_workspace"] = ws.slug
            messages.success(request, f"Welcome to {ws.name}.")
            target = reverse("ws:overview", args=[ws.slug])
            if is_htmx(request):
                return HttpResponseClientRedirect(target)
            return redirect(target)
    state = _accept_state(request, invitation)
    if state == "anonymous":
        # Kept so that sign-up, then verification from the email, lands back here.
        adapter.stash_invitation(request, token)
    context = {
        "page_title": f"Join {invitation.workspace.name}",
        "invitation": invitation,
        "workspace": invitation.workspace,
        "inviter": invitation.invited_by,
        "state": state,
        "wrong_user_message": errors.INVITATION_WRONG_USER.format(email=invitation.email),
        "signup_url": f"{reverse('account_signup')}?{urlencode({'email': invitation.email, 'next': path})}",
        "login_url": f"{reverse('account_login')}?{urlencode({'next': path})}",
        "next": path,
    }
    return TemplateResponse(request, ACCEPT_PAGE, context)
