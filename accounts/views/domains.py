"""Domains and requests to join (R-WS-4): claim a domain, publish the TXT record, check
it, remove it, and decide the join requests of people from verified domains."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from accounts import selectors, services
from accounts.access import WorkspaceRequest, access_domain, access_join_request, workspace_view
from accounts.invitation_forms import DomainClaimForm
from accounts.models import Domain, JoinMode, JoinRequest, JoinRequestStatus
from accounts.reauth import sensitive
from accounts.roles import Perm
from accounts.views import confirm
from core.errors import DomainError
from core.htmx import toast

PAGE = "accounts/domains/index.html"
REQUESTS_PAGE_SIZE = 25


def _page_context(request: WorkspaceRequest, form: DomainClaimForm | None = None) -> dict[str, Any]:
    ws = request.workspace
    return {
        "page_title": "Domains",
        "nav": "domains",
        "form": form or DomainClaimForm(),
        "domains": list(selectors.domains_of(ws)),
        "requests_page": Paginator(
            selectors.pending_join_requests(ws), REQUESTS_PAGE_SIZE
        ).get_page(request.GET.get("jr_page")),
        "workspace": ws,
    }


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_DOMAINS)
def index(request: WorkspaceRequest) -> HttpResponse:
    context = _page_context(request)
    if request.htmx:
        # The lists refresh themselves after a change elsewhere on the page.
        partial = "requests" if request.htmx.target == "join-requests" else "domains"
        return TemplateResponse(request, f"{PAGE}#{partial}", context)
    return TemplateResponse(request, PAGE, context)


def _back(request: WorkspaceRequest, anchor: str = "") -> HttpResponse:
    return redirect(reverse("ws:domains", args=[request.workspace.slug]) + anchor)


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_DOMAINS)
@sensitive
def claim(request: WorkspaceRequest) -> HttpResponse:
    ws = request.workspace
    form = DomainClaimForm(request.POST)
    domain = None
    if form.is_valid():
        try:
            domain = services.domain_claim(
                actor=request.actor, workspace=ws, name=form.cleaned_data["name"]
            )
        except DomainError as exc:
            form.add_error(exc.field or "name", exc.message)
    if not request.htmx:
        if domain is not None:
            messages.success(
                request, f"{domain.name} claimed: publish the TXT record, then check it."
            )
            return _back(request, f"#domain-{domain.pk}")
        return TemplateResponse(request, PAGE, _page_context(request, form))
    response = TemplateResponse(
        request, f"{PAGE}#claim", {"form": DomainClaimForm() if domain else form}
    )
    if domain is not None:
        trigger_client_event(response, "domains-changed", {})
        trigger_client_event(
            response,
            "toast",
            {"message": f"{domain.name} claimed: publish the TXT record.", "kind": "ok"},
        )
    return response


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_DOMAINS)
def check(request: WorkspaceRequest, pk: int) -> HttpResponse:
    domain = services.domain_check(actor=request.actor, domain=access_domain(request.actor, pk))
    if domain.is_verified:
        message, kind = f"{domain.name} is verified.", "ok"
    else:
        message, kind = f"{domain.name} is not verified yet.", "error"
    if not request.htmx:
        (messages.success if kind == "ok" else messages.error)(request, message)
        return _back(request, f"#domain-{domain.pk}")
    response = TemplateResponse(request, f"{PAGE}#domain", {"domain": domain, "checked": True})
    toast(response, message, kind)
    return response


def _remove_confirmation(request: WorkspaceRequest, domain: Domain) -> confirm.Confirmation:
    ws = request.workspace
    joining = "join automatically" if ws.join_mode == JoinMode.AUTO else "ask to join"
    pending = JoinRequest.objects.filter(domain=domain, status=JoinRequestStatus.PENDING).count()
    losses = [
        f"People who sign in with a verified address on {domain.name} no longer {joining} "
        f"{ws.name}.",
    ]
    if domain.is_verified:
        losses.append(
            f"The proof that {ws.name} owns {domain.name}: claiming it again means "
            "publishing and checking a new TXT record."
        )
    kept = [f"Members with an address on {domain.name} stay members."]
    if pending:
        kept.append(
            f"The {pending} pending request{pluralize(pending)} to join from this domain "
            f"stay{'s' if pending == 1 else ''} in the list, to approve or decline."
        )
    return confirm.Confirmation(
        title=f"Remove the domain {domain.name}?",
        action_url=reverse("ws:domain_remove", args=[ws.slug, domain.pk]),
        button=f"Remove {domain.name}",
        cancel_url=reverse("ws:domains", args=[ws.slug]) + f"#domain-{domain.pk}",
        losses=losses,
        kept=kept,
        hx_target=f"#domain-{domain.pk}",
    )


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_DOMAINS)
def remove(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """Asks first (a page, or a dialog for HTMX) naming who will no longer join; the
    confirmed post then asks for the password if it was not confirmed lately."""
    domain = access_domain(request.actor, pk)
    if not confirm.is_confirmed(request):
        return confirm.ask(
            request,
            _remove_confirmation(request, domain),
            page_title="Remove domain",
            nav="domains",
        )
    return _remove(request, domain)


@sensitive
def _remove(request: WorkspaceRequest, domain: Domain) -> HttpResponse:
    name = domain.name
    services.domain_remove(actor=request.actor, domain=domain)
    message = f"{name} removed. People of this domain no longer join automatically."
    if not request.htmx:
        messages.success(request, message)
        return _back(request)
    # An empty answer swapped over the domain's block removes it from the page.
    response = HttpResponse("")
    toast(response, message, "ok")
    return response


def _decide(request: WorkspaceRequest, pk: int, approve: bool) -> HttpResponse:
    jr = access_join_request(request.actor, pk)
    try:
        if approve:
            services.join_request_approve(actor=request.actor, join_request=jr)
            message, kind = f"{jr.user.email} joined the workspace.", "ok"
        else:
            services.join_request_decline(actor=request.actor, join_request=jr)
            message, kind = f"Request of {jr.user.email} declined.", "ok"
    except DomainError as exc:
        message, kind = exc.message, "error"
    if not request.htmx:
        (messages.success if kind == "ok" else messages.error)(request, message)
        return _back(request, "#join-requests")
    jr = JoinRequest.objects.select_related("user", "domain").get(pk=jr.pk)
    response = TemplateResponse(request, f"{PAGE}#jr-row", {"jr": jr})
    toast(response, message, kind)
    return response


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_DOMAINS)
def approve(request: WorkspaceRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approve=True)


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_DOMAINS)
def decline(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """Asks first (a page, or a dialog for HTMX): a declined person is not asked again."""
    if confirm.is_confirmed(request):
        return _decide(request, pk, approve=False)
    jr = access_join_request(request.actor, pk)
    ws = request.workspace
    confirmation = confirm.Confirmation(
        title=f"Decline the request of {jr.user.email} to join {ws.name}?",
        action_url=reverse("ws:join_request_decline", args=[ws.slug, jr.pk]),
        button="Decline the request",
        cancel_url=reverse("ws:domains", args=[ws.slug]) + "#join-requests",
        losses=[
            f"{jr.user.email} does not join {ws.name}, and cannot ask again: only an "
            "invitation can bring them in.",
        ],
        hx_target=f"#jr-{jr.pk}",
    )
    return confirm.ask(request, confirmation, page_title="Decline request", nav="domains")
