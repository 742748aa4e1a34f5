"""Domains and requests to join (R-WS-4): claim a domain, publish the TXT record, check
it, remove it, and decide the join requests of people from verified domains."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.reauthentication import is_reauthentication_required
from allauth.core.exceptions import ReauthenticationRequired
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from accounts import services
from accounts.errors import DomainError
from accounts.invitation_forms import DomainClaimForm
from accounts.models import Domain, JoinMode, JoinRequest, JoinRequestStatus, Workspace
from accounts.roles import Perm
from accounts.views import confirm
from console.access import scoped, workspace_view

PAGE = "accounts/domains/index.html"
REQUESTS_PAGE_SIZE = 25


def domains_of(workspace: Workspace) -> QuerySet[Domain]:
    return Domain.objects.filter(workspace=workspace).select_related("created_by").order_by("name")


def pending_join_requests(workspace: Workspace) -> QuerySet[JoinRequest]:
    return (
        JoinRequest.objects.filter(workspace=workspace, status=JoinRequestStatus.PENDING)
        .select_related("user", "domain")
        .order_by("created_at", "id")
    )


def sensitive(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Claiming or removing a domain changes who may join the workspace: the member
    confirms their password (or second factor) first, as allauth does for its own
    sensitive pages. A plain POST goes through allauth's flow, which replays the request
    after reauthentication; htmx cannot follow that, so it is sent there by HX-Redirect
    and comes back to this page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_reauthentication_required(request, app=""):
            if not request.htmx:  # type: ignore[attr-defined]
                raise ReauthenticationRequired()
            methods = get_adapter(request).get_reauthentication_methods(request.user)
            url = methods[0]["url"] if methods else reverse("account_login")
            back = reverse("ws:domains", args=[request.workspace.slug])  # type: ignore[attr-defined]
            return HttpResponseClientRedirect(f"{url}?{urlencode({'next': back})}")
        return view(request, *args, **kwargs)

    return wrapper


def _page_context(request: HttpRequest, form: DomainClaimForm | None = None) -> dict[str, Any]:
    ws = request.workspace  # type: ignore[attr-defined]
    return {
        "page_title": "Domains",
        "nav": "domains",
        "form": form or DomainClaimForm(),
        "domains": list(domains_of(ws)),
        "requests_page": Paginator(pending_join_requests(ws), REQUESTS_PAGE_SIZE).get_page(
            request.GET.get("jr_page")
        ),
        "workspace": ws,
    }


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_DOMAINS)
def index(request: HttpRequest) -> HttpResponse:
    context = _page_context(request)
    if request.htmx:  # type: ignore[attr-defined]
        # The lists refresh themselves after a change elsewhere on the page.
        partial = "requests" if request.htmx.target == "join-requests" else "domains"  # type: ignore[attr-defined]
        return TemplateResponse(request, f"{PAGE}#{partial}", context)
    return TemplateResponse(request, PAGE, context)


def _back(request: HttpRequest, anchor: str = "") -> HttpResponse:
    return redirect(reverse("ws:domains", args=[request.workspace.slug]) + anchor)  # type: ignore[attr-defined]


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_DOMAINS)
@sensitive
def claim(request: HttpRequest) -> HttpResponse:
    ws = request.workspace  # type: ignore[attr-defined]
    form = DomainClaimForm(request.POST)
    domain = None
    if form.is_valid():
        try:
            domain = services.domain_claim(
                actor=request.user, workspace=ws, name=form.cleaned_data["name"]
            )  # type: ignore[arg-type]
        except DomainError as exc:
            form.add_error(exc.field or "name", exc.message)
    if not request.htmx:  # type: ignore[attr-defined]
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
def check(request: HttpRequest, pk: int) -> HttpResponse:
    domain = services.domain_check(actor=request.user, domain=scoped(Domain, request, pk=pk))  # type: ignore[arg-type]
    if domain.is_verified:
        message, kind = f"{domain.name} is verified.", "ok"
    else:
        message, kind = f"{domain.name} is not verified yet.", "error"
    if not request.htmx:  # type: ignore[attr-defined]
        (messages.success if kind == "ok" else messages.error)(request, message)
        return _back(request, f"#domain-{domain.pk}")
    response = TemplateResponse(request, f"{PAGE}#domain", {"domain": domain, "checked": True})
    trigger_client_event(response, "toast", {"message": message, "kind": kind})
    return response


def _remove_confirmation(request: HttpRequest, domain: Domain) -> confirm.Confirmation:
    ws = request.workspace  # type: ignore[attr-defined]
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
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first (a page, or a dialog for HTMX) naming who will no longer join; the
    confirmed post then asks for the password if it was not confirmed lately."""
    domain = scoped(Domain, request, pk=pk)
    if not confirm.is_confirmed(request):
        return confirm.ask(
            request,
            _remove_confirmation(request, domain),
            page_title="Remove domain",
            nav="domains",
        )
    return _remove(request, domain)


@sensitive
def _remove(request: HttpRequest, domain: Domain) -> HttpResponse:
    name = domain.name
    services.domain_remove(actor=request.user, domain=domain)  # type: ignore[arg-type]
    message = f"{name} removed. People of this domain no longer join automatically."
    if not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, message)
        return _back(request)
    # An empty answer swapped over the domain's block removes it from the page.
    response = HttpResponse("")
    trigger_client_event(response, "toast", {"message": message, "kind": "ok"})
    return response


def _decide(request: HttpRequest, pk: int, approve: bool) -> HttpResponse:
    jr = scoped(JoinRequest, request, pk=pk)
    try:
        if approve:
            services.join_request_approve(actor=request.user, join_request=jr)  # type: ignore[arg-type]
            message, kind = f"{jr.user.email} joined the workspace.", "ok"
        else:
            services.join_request_decline(actor=request.user, join_request=jr)  # type: ignore[arg-type]
            message, kind = f"Request of {jr.user.email} declined.", "ok"
    except DomainError as exc:
        message, kind = exc.message, "error"
    if not request.htmx:  # type: ignore[attr-defined]
        (messages.success if kind == "ok" else messages.error)(request, message)
        return _back(request, "#join-requests")
    jr = JoinRequest.objects.select_related("user", "domain").get(pk=jr.pk)
    response = TemplateResponse(request, f"{PAGE}#jr-row", {"jr": jr})
    trigger_client_event(response, "toast", {"message": message, "kind": kind})
    return response


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_DOMAINS)
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approve=True)


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_DOMAINS)
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first (a page, or a dialog for HTMX): a declined person is not asked again."""
    if confirm.is_confirmed(request):
        return _decide(request, pk, approve=False)
    jr: JoinRequest = scoped(
        JoinRequest.objects.select_related("user"),  # type: ignore[arg-type]
        request,
        pk=pk,
    )
    ws = request.workspace  # type: ignore[attr-defined]
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
