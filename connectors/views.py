"""The connected services' pages (R-CON-1 to R-CON-7), under /w/<slug>/connectors/.

Admins (``Perm.MANAGE_CONNECTORS``):
- "Connectors": the connections, their state and freshness, and the buttons that connect
  Google Drive or SharePoint and OneDrive.
- Connecting: a post stores a one-time ``state`` (and Google's PKCE verifier) in the
  session and sends the browser to the provider; the provider sends it back to one fixed
  callback per provider outside the workspace (``/connectors/<provider>/callback/``, the
  redirect URI registered with the provider), which finds the workspace from the session
  entry, checks that the user is still an admin of it, and opens the connection.
- A connection's page: its state, settings, syncs on demand, pausing, reconnecting,
  disconnecting (asked first), the current run's progress (polled while it runs) and the
  history of runs.
- Every document of the workspace, one document with its access list and who can see
  it, the "why" of a member and a document, and the documents a member can see.

Every member: "My documents", what they can see, and why not when they see nothing.

HTMX requests get the part they act on plus a toast; plain requests get whole pages and
plain form posts redirect (post, redirect, get)."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from secrets import token_urlsafe
from types import ModuleType
from typing import Any, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from accounts.access import (
    WorkspaceRequest,
    access_member,
    get_membership,
    workspace_view,
)
from accounts.actor import Actor
from accounts.models import Membership, Workspace
from accounts.roles import Perm, has_perm
from accounts.views import confirm
from billing.selectors import entitlements
from core import registry
from core.errors import DomainError
from core.htmx import is_htmx, template_for, toast
from core.htmx import redirect as htmx_redirect
from core.parsing import is_storable_text

from . import access, selectors, services
from .access import access_connection, access_document
from .forms import (
    ConnectionSettingsForm,
    DocumentFilterForm,
    TitleSearchForm,
    WhoSearchForm,
    WhyForm,
)
from .models import Connection, ConnectionStatus, Document, Provider
from .providers import google_drive
from .providers.base import SourceError
from .sync import lease_length

INDEX = "connectors/index.html"
CONNECTION = "connectors/connection.html"
DOCUMENTS = "connectors/documents.html"
DOCUMENT = "connectors/document.html"
WHY = "connectors/why.html"
MEMBER_DOCUMENTS = "connectors/member_documents.html"
CONNECT_FAILED = "connectors/connect_failed.html"
NAV = "connectors"

RUNS_PAGE_SIZE = 20
WHO_PAGE_SIZE = 50
# How many polls (every 2 s) the page waits for a requested sync to start.
WAIT_POLLS = 15
POLL = "every 2s"
# Events the connection page's parts listen to.
RUN_FINISHED = "run-finished"
CONNECTION_PARTS = {"live", "actions", "runs", "settings"}

# The one-time entries of a connect flow in the session, keyed by their state.
OAUTH_SESSION_KEY = "connectors_oauth"
OAUTH_TTL_SECONDS = 600
OAUTH_MAX_PENDING = 5

CANCELLED = "You cancelled; nothing was connected."
STATE_INVALID = (
    "This answer from the service does not match a connection started here: it has "
    "expired, was already used, or was started elsewhere. Nothing was connected; start "
    "again from Connectors."
)
NO_LONGER_ADMIN = "Your role no longer allows connecting services here; nothing was connected."
SUSPENDED = "The workspace is suspended: no service can be connected; nothing was connected."
NO_CODE = "The service sent no authorization; nothing was connected. Try again."
NOT_CONNECTED = "{provider} was not connected: {reason}"
MICROSOFT_UNAVAILABLE = "SharePoint and OneDrive cannot be connected on this console yet."
NO_TENANT = "Microsoft did not say which organization consented; nothing was connected."
NO_SUCH_MEMBER = "No member of this workspace is this one; choose one from the list."
NO_SUCH_DOCUMENT = "No document of this workspace is this one; choose one from the list."


def _connections_url(ws: Workspace) -> str:
    return reverse("ws:connectors", args=[ws.slug])


def _connection_url(ws: Workspace, conn_id: int) -> str:
    return reverse("ws:connection", args=[ws.slug, conn_id])


def _plan_allows(ws: Workspace) -> bool:
    return registry.CONNECTORS in entitlements(ws).features


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _with_provider_forms(response: HttpResponse) -> HttpResponse:
    """Let this page's connect buttons lead to the providers' consent pages: a browser
    checks ``form-action`` against every redirect that follows a form's post, so the
    console's own policy ('self') would stop the post's redirect to Google or Microsoft.
    Only the pages with such a button widen it, and only by those origins."""
    policy = dict(getattr(settings, "SECURE_CSP", {}) or {})
    if not policy:
        return response
    origins = [
        o
        for o in (_origin(settings.GOOGLE_OAUTH_AUTH_URL), _origin(settings.MICROSOFT_LOGIN_URL))
        if o
    ]
    policy["form-action"] = [*policy.get("form-action", []), *origins]
    # What django.views.decorators.csp.csp_override sets; here per request, since the
    # providers' addresses are settings.
    setattr(response, "_csp_config", policy)  # noqa: B010
    return response


# --- The index ----------------------------------------------------------------------


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def index(request: WorkspaceRequest) -> HttpResponse:
    ws = request.workspace
    plan = entitlements(ws)
    rows = selectors.connection_rows(ws)
    busy = any(
        r.connection.status in (ConnectionStatus.SYNCING, ConnectionStatus.DISCONNECTING)
        for r in rows
    )
    context = {
        "page_title": "Connectors",
        "nav": NAV,
        "rows": rows,
        "plan_allows": registry.CONNECTORS in plan.features,
        "plan_name": plan.plan.name,
        # While a connection syncs or is being deleted, the list refreshes itself.
        "poll_url": _connections_url(ws) if busy else "",
        "poll": POLL,
    }
    response = TemplateResponse(request, template_for(request, INDEX, "connections"), context)
    return _with_provider_forms(response)


# --- Connecting ---------------------------------------------------------------------


def _remember(request: HttpRequest, *, provider: str, ws: Workspace, **extra: str) -> str:
    """A one-time state for a connect flow, saved in the session with what the callback
    needs; expired entries go, and only the newest few are kept."""
    state = token_urlsafe(32)
    now = time.time()
    raw = request.session.get(OAUTH_SESSION_KEY)
    pending = {
        k: v
        for k, v in (raw.items() if isinstance(raw, dict) else [])
        if isinstance(v, dict) and float(v.get("expires", 0)) > now
    }
    # A flow abandoned at the provider leaves its entry; the newest few stay.
    newest = sorted(pending.items(), key=lambda kv: float(kv[1].get("expires", 0)))
    pending = dict(newest[-(OAUTH_MAX_PENDING - 1) :])
    pending[state] = {
        "provider": provider,
        "workspace": ws.pk,
        "slug": ws.slug,
        "user": request.user.pk,
        "expires": now + OAUTH_TTL_SECONDS,
        **extra,
    }
    request.session[OAUTH_SESSION_KEY] = pending
    return state


def _take(request: HttpRequest, provider: str) -> dict[str, Any] | None:
    """The session's entry of the callback's state, removed whatever happens next (single
    use); None when there is none, it expired, or it belongs to another flow or user."""
    state = request.GET.get("state", "")
    raw = request.session.get(OAUTH_SESSION_KEY)
    pending = dict(raw) if isinstance(raw, dict) else {}
    entry = pending.pop(state, None) if state and len(state) <= 200 else None
    if entry is not None:
        request.session[OAUTH_SESSION_KEY] = pending
    if not isinstance(entry, dict):
        return None
    if (
        entry.get("provider") != provider
        or float(entry.get("expires", 0)) <= time.time()
        or entry.get("user") != request.user.pk
    ):
        return None
    return entry


def _failed(
    request: HttpRequest,
    membership: Membership | None,
    message: str,
    *,
    status: int = 400,
) -> HttpResponse:
    """The page a connect flow ends on when nothing was connected."""
    if membership is not None:
        # What the shell reads to draw the workspace's navigation.
        wreq = cast(WorkspaceRequest, request)
        wreq.workspace = membership.workspace
        wreq.membership = membership
    context = {
        "page_title": "Nothing was connected",
        "nav": NAV,
        "message": message,
        "workspace": membership.workspace if membership else None,
    }
    return TemplateResponse(request, CONNECT_FAILED, context, status=status)


def _admin_for(request: HttpRequest, entry: dict[str, Any]) -> Membership | HttpResponse:
    """The user's membership of the flow's workspace, if they still may connect there: a
    404 when they are no longer a member, the failure page when no longer an admin."""
    membership = get_membership(request.user, str(entry.get("slug", "")))
    if membership.workspace_id != entry.get("workspace"):
        raise Http404("No such workspace.")
    if not has_perm(membership.role, Perm.MANAGE_CONNECTORS):
        return _failed(request, membership, NO_LONGER_ADMIN, status=403)
    if membership.workspace.is_suspended:
        # As workspace_view refuses every change of a suspended workspace.
        return _failed(request, membership, SUSPENDED, status=403)
    return membership


def _refuse_connect(request: WorkspaceRequest, message: str) -> HttpResponse:
    messages.error(request, message)
    return htmx_redirect(request, _connections_url(request.workspace))


def _opened(request: HttpRequest, conn: Connection, reconnected: bool) -> HttpResponse:
    if reconnected:
        messages.success(request, f"{conn.display_name} is reconnected; a sync has started.")
    else:
        messages.success(request, f"{conn.display_name} is connected; the first sync has started.")
    return HttpResponseRedirect(_connection_url(conn.workspace, conn.pk))


def _open(
    request: HttpRequest,
    membership: Membership,
    *,
    provider: str,
    account: str,
    display_name: str,
    secrets: dict[str, Any],
) -> HttpResponse:
    started = timezone.now()
    try:
        conn = services.connection_open(
            actor=Actor.member(membership),
            workspace=membership.workspace,
            provider=provider,
            account=account,
            display_name=display_name,
            secrets=secrets,
        )
    except DomainError as exc:
        return _not_connected(request, membership, provider, exc.message)
    # A connection of the same account gets the new credentials (a reconnection).
    return _opened(request, conn, reconnected=conn.created_at < started)


def _to_provider(
    request: WorkspaceRequest,
    provider: str,
    callback: str,
    consent_url: Callable[[str, str], str],
    **extra: str,
) -> HttpResponse:
    """Start a connect flow: a one-time state in the session, then the provider's
    consent page, given the state and the callback's absolute URI."""
    ws = request.workspace
    if not _plan_allows(ws):
        return _refuse_connect(request, services.NOT_IN_PLAN)
    redirect_uri = request.build_absolute_uri(reverse(callback))
    state = _remember(request, provider=provider, ws=ws, redirect_uri=redirect_uri, **extra)
    return htmx_redirect(request, consent_url(state, redirect_uri))


def _returned(
    request: HttpRequest, provider: str
) -> tuple[Membership, dict[str, Any]] | HttpResponse:
    """The start of a callback: its flow's entry (spent now), the admin who started it,
    and the admin's cancel. The membership and the entry (Google's PKCE verifier, the
    redirect URI) when the callback may go on; the answer otherwise."""
    entry = _take(request, provider)
    if entry is None:
        return _failed(request, None, STATE_INVALID)
    membership = _admin_for(request, entry)
    if isinstance(membership, HttpResponse):
        return membership
    if _query_text(request, "error", 100) == "access_denied":
        messages.info(request, CANCELLED)
        return HttpResponseRedirect(_connections_url(membership.workspace))
    return membership, entry


def _not_connected(
    request: HttpRequest, membership: Membership, provider: str, reason: str, *, status: int = 400
) -> HttpResponse:
    label = Provider(provider).label
    message = NOT_CONNECTED.format(provider=label, reason=reason)
    return _failed(request, membership, message, status=status)


def _query_text(request: HttpRequest, name: str, limit: int = 2000) -> str:
    value = request.GET.get(name, "")
    return value if len(value) <= limit and is_storable_text(value) else ""


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def google_connect(request: WorkspaceRequest) -> HttpResponse:
    """To Google's consent, with a state and PKCE; a reconnection takes the same way."""
    verifier, challenge = google_drive.pkce_pair()

    def consent_url(state: str, redirect_uri: str) -> str:
        return google_drive.authorize_url(
            state=state, challenge=challenge, redirect_uri=redirect_uri
        )

    return _to_provider(
        request, Provider.GOOGLE_DRIVE, "connector_google_callback", consent_url, verifier=verifier
    )


@require_http_methods(["GET"])
@login_required
def google_callback(request: HttpRequest) -> HttpResponse:
    """Where Google sends the browser back: ``code`` and ``state``, or ``error``."""
    returned = _returned(request, Provider.GOOGLE_DRIVE)
    if isinstance(returned, HttpResponse):
        return returned
    membership, entry = returned
    if "error" in request.GET:
        error = _query_text(request, "error", 100) or "an error"
        return _not_connected(
            request, membership, Provider.GOOGLE_DRIVE, f"Google answered “{error}”."
        )
    code = _query_text(request, "code")
    if not code:
        return _failed(request, membership, NO_CODE)
    try:
        secrets, email = google_drive.exchange_code(
            code=code,
            verifier=str(entry.get("verifier", "")),
            redirect_uri=str(entry.get("redirect_uri", "")),
        )
    except SourceError as exc:
        reason = str(exc) or "Google could not be reached."
        return _not_connected(request, membership, Provider.GOOGLE_DRIVE, reason, status=502)
    return _open(
        request,
        membership,
        provider=Provider.GOOGLE_DRIVE,
        account=email,
        display_name=f"Google Drive ({email})",
        secrets=secrets,
    )


def _microsoft() -> ModuleType | None:
    """The Microsoft provider's module, imported when used: its connect functions
    (``admin_consent_url``, ``consent_error``, ``connect``) may not exist yet."""
    try:
        module = importlib.import_module("connectors.providers.microsoft")
    except ImportError:  # pragma: no cover - the module is part of the app
        return None
    names = ("admin_consent_url", "consent_error", "connect")
    return module if all(callable(getattr(module, n, None)) for n in names) else None


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def microsoft_connect(request: WorkspaceRequest) -> HttpResponse:
    """To Microsoft's admin consent for the organization, with a state."""
    provider = _microsoft()
    if provider is None:
        return _refuse_connect(request, MICROSOFT_UNAVAILABLE)

    def consent_url(state: str, redirect_uri: str) -> str:
        return str(provider.admin_consent_url(state=state, redirect_uri=redirect_uri))

    return _to_provider(request, Provider.MICROSOFT, "connector_microsoft_callback", consent_url)


@require_http_methods(["GET"])
@login_required
def microsoft_callback(request: HttpRequest) -> HttpResponse:
    """Where Microsoft's admin consent sends the browser back: ``tenant``,
    ``admin_consent`` and ``state``, or ``error`` and ``error_description``."""
    returned = _returned(request, Provider.MICROSOFT)
    if isinstance(returned, HttpResponse):
        return returned
    membership, _ = returned
    provider = _microsoft()
    if provider is None:
        return _failed(request, membership, MICROSOFT_UNAVAILABLE)
    problem = provider.consent_error({k: _query_text(request, k) for k in request.GET})
    if problem:
        return _not_connected(request, membership, Provider.MICROSOFT, str(problem))
    tenant = _query_text(request, "tenant", 100).strip()
    if not tenant:
        return _failed(request, membership, NO_TENANT)
    try:
        secrets, account, display_name = provider.connect(tenant=tenant)
    except (SourceError, DomainError) as exc:
        reason = str(exc) or "Microsoft could not be reached."
        return _not_connected(request, membership, Provider.MICROSOFT, reason, status=502)
    return _open(
        request,
        membership,
        provider=Provider.MICROSOFT,
        account=str(account),
        display_name=str(display_name),
        secrets=dict(secrets),
    )


# --- A connection -------------------------------------------------------------------


def _wait(request: HttpRequest) -> int:
    raw = request.GET.get("wait", "")
    return min(int(raw), WAIT_POLLS) if raw.isascii() and raw.isdigit() and len(raw) < 4 else 0


def _live_context(request: WorkspaceRequest, conn: Connection, *, wait: int = 0) -> dict[str, Any]:
    """The part that shows the connection's state and its current work, and polls while
    there is some: a run, a deletion, or a sync asked for that has not started yet."""
    run = selectors.current_run(conn)
    now = timezone.now()
    stalled = run is not None and run.heartbeat_at < now - lease_length()
    busy = selectors.is_busy(conn, run) and not stalled
    url = _connection_url(request.workspace, conn.pk)
    if busy:
        poll_url = f"{url}?part=live&was=busy"
    elif wait > 0:
        poll_url = f"{url}?part=live&wait={wait - 1}"
    else:
        poll_url = ""
    purge_percent = None
    purge_text = ""
    if conn.status == ConnectionStatus.DISCONNECTING and conn.purge_total:
        purge_percent = min(100, int(100 * conn.purge_done / conn.purge_total))
        purge_text = f"{conn.purge_done:,} of {conn.purge_total:,} deleted"
    return {
        "connection": conn,
        "run": run,
        "stalled": stalled,
        "waiting": wait > 0 and run is None,
        "poll_url": poll_url,
        "poll": POLL,
        "live_url": f"{url}?part=live",
        "fresh": conn.is_fresh(now),
        "hidden_since": selectors.hidden_since(conn),
        "purge_percent": purge_percent,
        "purge_text": purge_text,
    }


def _actions_context(request: WorkspaceRequest, conn: Connection) -> dict[str, Any]:
    ws = request.workspace
    url = _connection_url(ws, conn.pk)
    connect = "ws:connector_google_connect"
    if conn.provider == Provider.MICROSOFT:
        connect = "ws:connector_microsoft_connect"
    return {
        "connection": conn,
        "sync_url": f"{url}sync/",
        "pause_url": f"{url}pause/",
        "disconnect_url": f"{url}disconnect/",
        "reconnect_url": reverse(connect, args=[ws.slug]),
        "actions_url": f"{url}?part=actions",
        "run_finished": RUN_FINISHED,
    }


def _runs_context(request: WorkspaceRequest, conn: Connection) -> dict[str, Any]:
    page = Paginator(selectors.run_history(conn), RUNS_PAGE_SIZE).get_page(request.GET.get("page"))
    url = _connection_url(request.workspace, conn.pk)
    return {"runs": page, "runs_url": f"{url}?part=runs", "run_finished": RUN_FINISHED}


def _settings_context(
    request: WorkspaceRequest, conn: Connection, form: ConnectionSettingsForm | None = None
) -> dict[str, Any]:
    return {
        "connection": conn,
        "settings_form": form or ConnectionSettingsForm.for_connection(conn),
        "settings_url": f"{_connection_url(request.workspace, conn.pk)}settings/",
    }


def _page_context(
    request: WorkspaceRequest, conn: Connection, *, form: ConnectionSettingsForm | None = None
) -> dict[str, Any]:
    return {
        "page_title": conn.display_name,
        "nav": NAV,
        "connectors_url": _connections_url(request.workspace),
        "documents_url": reverse("ws:connector_documents", args=[request.workspace.slug]),
        **_live_context(request, conn),
        **_actions_context(request, conn),
        **_runs_context(request, conn),
        **_settings_context(request, conn, form),
    }


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def connection(request: WorkspaceRequest, connection_id: int) -> HttpResponse:
    """The whole page, or for htmx the part named by ``part``: ``live`` (polled),
    ``actions``, ``runs`` (the history's pages) or ``settings``."""
    part = ""
    if is_htmx(request):
        asked = request.GET.get("part", "")
        part = asked if asked in CONNECTION_PARTS else "runs"
    if part == "live":
        return _live(request, connection_id)
    conn = access_connection(request.actor, connection_id)
    if not part:
        # Its "Reconnect" button posts to the connect flow.
        return _with_provider_forms(
            TemplateResponse(request, CONNECTION, _page_context(request, conn))
        )
    builders = {"actions": _actions_context, "runs": _runs_context, "settings": _settings_context}
    context = builders[part](request, conn)
    return TemplateResponse(request, f"{CONNECTION}#{part}", context)


def _live(request: WorkspaceRequest, connection_id: int) -> HttpResponse:
    try:
        conn = access_connection(request.actor, connection_id)
    except Http404:
        # The deletion of a disconnected connection finished while the page polled.
        messages.success(request, "The connection is disconnected and its data deleted.")
        return HttpResponseClientRedirect(_connections_url(request.workspace))
    context = _live_context(request, conn, wait=_wait(request))
    response = TemplateResponse(request, f"{CONNECTION}#live", context)
    if request.GET.get("was") == "busy" and not context["poll_url"]:
        # The run just ended: the history and the buttons catch up.
        trigger_client_event(response, RUN_FINISHED, {})
    return response


def _acted(
    request: WorkspaceRequest, connection_id: int, *, ok: str = "", error: str = "", wait: int = 0
) -> HttpResponse:
    """The answer of a button of the connection page: its buttons and, out of band, its
    state (which starts polling for a requested sync); a redirect to the page otherwise."""
    ws = request.workspace
    if not is_htmx(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, ok)
        return HttpResponseRedirect(_connection_url(ws, connection_id))
    conn = access_connection(request.actor, connection_id)
    context = {
        **_actions_context(request, conn),
        **_live_context(request, conn, wait=wait),
    }
    response = TemplateResponse(request, f"{CONNECTION}#acted", context)
    return toast(response, error or ok, "error" if error else "ok")


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def connection_sync(request: WorkspaceRequest, connection_id: int) -> HttpResponse:
    conn = access_connection(request.actor, connection_id)
    full = request.POST.get("full") == "1"
    try:
        services.connection_sync_request(actor=request.actor, connection_id=conn.pk, full=full)
    except DomainError as exc:
        return _acted(request, conn.pk, error=exc.message)
    what = "A full resync" if full else "A sync"
    return _acted(
        request, conn.pk, ok=f"{what} of {conn.display_name} is starting.", wait=WAIT_POLLS
    )


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def connection_pause(request: WorkspaceRequest, connection_id: int) -> HttpResponse:
    conn = access_connection(request.actor, connection_id)
    paused = request.POST.get("paused") != "0"
    try:
        services.connection_pause(actor=request.actor, connection_id=conn.pk, paused=paused)
    except DomainError as exc:
        return _acted(request, conn.pk, error=exc.message)
    if paused:
        ok = f"{conn.display_name} is paused: no sync runs until you resume it."
    else:
        ok = f"{conn.display_name} is resumed; a sync follows."
    return _acted(request, conn.pk, ok=ok)


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def connection_settings(request: WorkspaceRequest, connection_id: int) -> HttpResponse:
    conn = access_connection(request.actor, connection_id)
    form = ConnectionSettingsForm(request.POST)
    saved = False
    if form.is_valid():
        try:
            conn = services.connection_settings_update(
                actor=request.actor, connection_id=conn.pk, change=form.change()
            )
            saved = True
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    ok = f"The settings of {conn.display_name} are saved."
    if saved and not is_htmx(request):
        messages.success(request, ok)
        return HttpResponseRedirect(_connection_url(request.workspace, conn.pk))
    if not is_htmx(request):
        page = TemplateResponse(request, CONNECTION, _page_context(request, conn, form=form))
        return _with_provider_forms(page)
    response = TemplateResponse(
        request,
        f"{CONNECTION}#settings",
        _settings_context(request, conn, None if saved else form),
    )
    return toast(response, ok) if saved else response


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def connection_disconnect(request: WorkspaceRequest, connection_id: int) -> HttpResponse:
    """Asks first, naming how many documents, permissions and identities go; then access
    ends at once and the deletion runs in the background, its progress on the page."""
    conn = access_connection(request.actor, connection_id)
    ws = request.workspace
    url = _connection_url(ws, conn.pk)
    if conn.status == ConnectionStatus.DISCONNECTING:
        messages.info(request, services.DISCONNECTING)
        return htmx_redirect(request, url)
    if not confirm.is_confirmed(request):
        preview = services.disconnect_preview(conn)
        provider = conn.get_provider_display()

        def n(count: int, one: str, many: str) -> str:
            return f"{count:,} {one if count == 1 else many}"

        confirmation = confirm.Confirmation(
            title=f"Disconnect {conn.display_name}?",
            action_url=f"{url}disconnect/",
            button=f"Disconnect {conn.display_name}",
            cancel_url=url,
            losses=[
                f"Members lose access at once to its {n(preview.documents, 'document', 'documents')}.",
                f"The copy of {n(preview.documents, 'document', 'documents')}, "
                f"{n(preview.permissions, 'permission', 'permissions')} and "
                f"{n(preview.identities, 'identity', 'identities')} (people, groups and "
                "domains) is deleted, in the background.",
                f"Its credentials, its settings and its history of syncs; the grant is "
                f"given back to {provider} where it allows.",
            ],
            kept=[
                f"Nothing changes in {provider}: its files and their sharing stay as they are.",
                "Connecting the account again syncs everything anew.",
            ],
        )
        return confirm.ask(request, confirmation, page_title="Disconnect", nav=NAV)
    try:
        services.connection_disconnect(actor=request.actor, connection_id=conn.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
        return htmx_redirect(request, url)
    messages.success(
        request,
        f"{conn.display_name} is disconnected: its documents are hidden now and are being deleted.",
    )
    # To the list, which shows the deletion's progress until the connection is gone.
    return htmx_redirect(request, _connections_url(ws))


# --- Documents ----------------------------------------------------------------------


def _count_text(count: int, capped: bool) -> str:
    if capped:
        return f"{count:,}+ documents"
    return f"{count:,} document{'' if count == 1 else 's'}"


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def documents(request: WorkspaceRequest) -> HttpResponse:
    """Every document of the workspace, newest first, by keyset pages."""
    ws = request.workspace
    form = DocumentFilterForm(request.GET or None, workspace=ws)
    form.is_valid()
    filters = form.filters()
    qs = selectors.workspace_documents(ws, **filters)
    page = selectors.keyset_page(selectors.for_list(qs), form.position())
    count, capped = access.capped_count(qs)
    context = {
        "page_title": "Documents",
        "nav": NAV,
        "form": form,
        "page": page,
        "count_text": _count_text(count, capped),
        "filtered": any(v for v in filters.values()),
        "list_url": reverse("ws:connector_documents", args=[ws.slug]),
        "document_base": reverse("ws:connector_documents", args=[ws.slug]),
        "why_url": reverse("ws:connector_why", args=[ws.slug]),
    }
    return TemplateResponse(request, template_for(request, DOCUMENTS, "documents-list"), context)


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def document(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    """One document: what it is, its access list as the source gave it, and who can see
    it (searched and paged)."""
    doc = access_document(request.actor, document_id)
    ws = request.workspace
    form = WhoSearchForm(request.GET or None)
    form.is_valid()
    q = str(getattr(form, "cleaned_data", {}).get("q") or "")
    who = access.who_can_see(doc)
    matching = selectors.filter_who(who, q)
    page = Paginator(matching, WHO_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_title": doc.title,
        "nav": NAV,
        "document": doc,
        "path": selectors.document_path(doc),
        "web_url": selectors.safe_web_url(doc.web_url),
        "acl": selectors.acl_rows(doc),
        "who_total": len(who),
        "who_page": page,
        "who_form": form,
        "q": q,
        "document_url": reverse("ws:connector_document", args=[ws.slug, doc.pk]),
        "documents_url": reverse("ws:connector_documents", args=[ws.slug]),
        "why_url": reverse("ws:connector_why", args=[ws.slug]),
        "connection_url": _connection_url(ws, doc.connection_id) if doc.connection_id else "",
    }
    return TemplateResponse(request, template_for(request, DOCUMENT, "who"), context)


# --- Why ----------------------------------------------------------------------------


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def why(request: WorkspaceRequest) -> HttpResponse:
    """May this member see this document, and why: a member and a document, each picked
    from a search (``mq``, ``dq``) or named by id (``member``, ``document``)."""
    ws = request.workspace
    form = WhyForm(request.GET or None)
    form.is_valid()
    member: Membership | None = None
    doc: Document | None = None
    if form.value("member"):
        try:
            member = access_member(request.actor, form.value("member"))
        except Http404:
            form.add_error("member", NO_SUCH_MEMBER)
    if form.value("document"):
        try:
            doc = access_document(request.actor, form.value("document"))
        except Http404:
            form.add_error("document", NO_SUCH_DOCUMENT)
    decision = None
    if member is not None and doc is not None:
        decision = access.document_decision(member, doc.pk)
    mq = str(form.value("mq") or "")
    dq = str(form.value("dq") or "")
    context = {
        "page_title": "Why can a member see a document?",
        "nav": NAV,
        "form": form,
        "member": member,
        "document": doc,
        "decision": decision,
        "mq": mq,
        "dq": dq,
        "member_matches": selectors.member_matches(ws, mq) if mq else [],
        "document_matches": selectors.document_matches(ws, dq) if dq else [],
        "why_url": reverse("ws:connector_why", args=[ws.slug]),
        "documents_url": reverse("ws:connector_documents", args=[ws.slug]),
    }
    return TemplateResponse(request, template_for(request, WHY, "why"), context)


# --- What a member can see ----------------------------------------------------------


def _visible_context(
    request: WorkspaceRequest, membership: Membership, list_url: str
) -> dict[str, Any]:
    viewer = access.load_viewer(membership)
    form = TitleSearchForm(request.GET or None)
    form.is_valid()
    qs = selectors.search_title(access.visible_documents(viewer), form.query())
    page = selectors.keyset_page(selectors.for_list(qs), form.position())
    count, capped = access.capped_count(qs)
    gates = [
        viewer.feature(key)
        for key in (registry.CONNECTORS, registry.LIBRARIES)
        if not viewer.feature(key).allowed
    ]
    return {
        "viewer": viewer,
        "subject": membership,
        "form": form,
        "page": page,
        "count_text": _count_text(count, capped),
        "filtered": bool(form.query()),
        "gates": gates,
        "hidden_sources": selectors.hidden_sources(viewer) if viewer.sees_connections() else [],
        "list_url": list_url,
    }


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def member_documents(request: WorkspaceRequest, member_id: int) -> HttpResponse:
    """What one member can see: the same list and the same decision as their own page."""
    membership = access_member(request.actor, member_id)
    ws = request.workspace
    url = reverse("ws:member_documents", args=[ws.slug, membership.pk])
    context = {
        "page_title": f"Documents {membership.user.email} can see",
        "nav": NAV,
        "admin_view": True,
        "document_base": reverse("ws:connector_documents", args=[ws.slug]),
        "why_url": reverse("ws:connector_why", args=[ws.slug]),
        **_visible_context(request, membership, url),
    }
    return TemplateResponse(
        request, template_for(request, MEMBER_DOCUMENTS, "documents-list"), context
    )


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_WORKSPACE)
def my_documents(request: WorkspaceRequest) -> HttpResponse:
    """What I can see of the connected services and libraries, newest first."""
    ws = request.workspace
    url = reverse("ws:my_documents", args=[ws.slug])
    context = {
        "page_title": "My documents",
        "nav": "my_documents",
        "admin_view": False,
        **_visible_context(request, request.membership, url),
    }
    return TemplateResponse(
        request, template_for(request, MEMBER_DOCUMENTS, "documents-list"), context
    )
