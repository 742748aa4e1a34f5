"""Every change of a connection's state: connecting (R-CON-1), its settings, syncs on
demand, pausing, and disconnecting (R-CON-7). Each checks its actor itself."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.actor import Actor, authorize
from accounts.models import Membership, MemberStatus, Workspace
from accounts.roles import Perm, Role
from billing.selectors import entitlements
from core import email, registry
from core.audit import record
from core.errors import DomainError
from core.transactions import on_commit_task

from . import credentials
from .audit import Action
from .models import (
    Connection,
    ConnectionStatus,
    Document,
    GroupMember,
    HiddenDomainShares,
    LinkShares,
    Principal,
    Provider,
    SyncRun,
)

NOT_IN_PLAN = "The workspace's plan does not include connected services."
DISCONNECTING = "This connection is being disconnected."
INTERVAL_RANGE = "The sync interval must be between 15 minutes and 7 days."
STALENESS_RANGE = (
    "The staleness limit must be between 1 hour and 30 days, and longer than the sync interval."
)
NEEDS_REAUTH = "This connection needs an admin to reconnect it before it can sync."
PAUSED = "This connection is paused; resume it to sync."

MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(days=7)
MIN_STALENESS = timedelta(hours=1)
MAX_STALENESS = timedelta(days=30)
PURGE_BATCH = 2000

log = logging.getLogger(__name__)


def _require_plan(workspace: Workspace) -> None:
    if registry.CONNECTORS not in entitlements(workspace).features:
        raise DomainError(NOT_IN_PLAN)


def _locked(connection_id: int) -> Connection:
    conn = (
        Connection.objects.select_for_update(of=("self",))
        .select_related("workspace")
        .get(pk=connection_id)
    )
    if conn.status == ConnectionStatus.DISCONNECTING:
        raise DomainError(DISCONNECTING)
    return conn


@transaction.atomic
def connection_open(
    *,
    actor: Actor,
    workspace: Workspace,
    provider: str,
    account: str,
    display_name: str,
    secrets: dict[str, Any],
) -> Connection:
    """Store a new connection after the provider's consent, or new credentials on an
    existing one of the same account (reauthorization); a first sync follows."""
    authorize(actor, workspace.pk, Perm.MANAGE_CONNECTORS)
    _require_plan(workspace)
    if provider not in Provider.values:
        raise DomainError("Unknown service.")
    account = account.strip().lower()[:254]
    conn = (
        Connection.objects.select_for_update()
        .filter(workspace=workspace, provider=provider, account=account)
        .first()
    )
    sealed = credentials.seal(secrets)
    if conn is not None and conn.status != ConnectionStatus.DISCONNECTING:
        before = conn.status
        conn.credentials = sealed
        conn.status = ConnectionStatus.CONNECTED
        conn.last_error = ""
        conn.next_sync_at = timezone.now()
        conn.save(update_fields=["credentials", "status", "last_error", "next_sync_at"])
        record(
            actor=actor,
            workspace=workspace,
            action=Action.CONNECTION_REAUTHORIZED,
            target=conn,
            before={"status": before},
            after={"status": conn.status},
        )
    else:
        if conn is not None:
            raise DomainError("This account is still being disconnected; try again shortly.")
        conn = Connection.objects.create(
            workspace=workspace,
            provider=provider,
            account=account,
            display_name=(display_name.strip() or account)[:120],
            credentials=sealed,
            created_by=actor.audit_user,
            next_sync_at=timezone.now(),
        )
        record(
            actor=actor,
            workspace=workspace,
            action=Action.CONNECTION_CREATED,
            target=conn,
            after={"provider": provider, "account": account},
        )
    on_commit_task("connectors.tasks.sync_connection", conn.pk, False, "connect")
    return conn


@dataclass(frozen=True)
class SettingsChange:
    sync_interval: timedelta
    staleness_limit: timedelta
    link_shares: str
    hidden_domain_shares: str


@transaction.atomic
def connection_settings_update(
    *, actor: Actor, connection_id: int, change: SettingsChange
) -> Connection:
    conn = _locked(connection_id)
    authorize(actor, conn.workspace_id, Perm.MANAGE_CONNECTORS)
    if not MIN_INTERVAL <= change.sync_interval <= MAX_INTERVAL:
        raise DomainError(INTERVAL_RANGE, field="sync_interval")
    if not (
        MIN_STALENESS <= change.staleness_limit <= MAX_STALENESS
        and change.staleness_limit > change.sync_interval
    ):
        raise DomainError(STALENESS_RANGE, field="staleness_limit")
    if change.link_shares not in LinkShares.values:
        raise DomainError("Choose how link shares map.", field="link_shares")
    if change.hidden_domain_shares not in HiddenDomainShares.values:
        raise DomainError("Choose how hidden domain shares map.", field="hidden_domain_shares")
    fields = ("sync_interval", "staleness_limit", "link_shares", "hidden_domain_shares")
    before = {f: getattr(conn, f) for f in fields}
    after = {f: getattr(change, f) for f in fields}
    if before == after:
        return conn
    for f in fields:
        setattr(conn, f, after[f])
    if before["sync_interval"] != after["sync_interval"] and conn.last_success_at:
        conn.next_sync_at = conn.last_success_at + conn.sync_interval
    conn.save(update_fields=[*fields, "next_sync_at"])
    if (before["link_shares"], before["hidden_domain_shares"]) != (
        conn.link_shares,
        conn.hidden_domain_shares,
    ):
        from .sync import remap  # noqa: PLC0415

        remap(conn)
    record(
        actor=actor,
        workspace=conn.workspace,
        action=Action.CONNECTION_SETTINGS_CHANGED,
        target=conn,
        before={k: str(v) for k, v in before.items() if v != after[k]},
        after={k: str(v) for k, v in after.items() if v != before[k]},
    )
    return conn


@transaction.atomic
def connection_sync_request(*, actor: Actor, connection_id: int, full: bool = False) -> Connection:
    conn = _locked(connection_id)
    authorize(actor, conn.workspace_id, Perm.MANAGE_CONNECTORS)
    _require_plan(conn.workspace)
    if conn.status == ConnectionStatus.NEEDS_REAUTH:
        raise DomainError(NEEDS_REAUTH)
    if conn.status == ConnectionStatus.PAUSED:
        raise DomainError(PAUSED)
    record(
        actor=actor,
        workspace=conn.workspace,
        action=Action.CONNECTION_SYNC_REQUESTED,
        target=conn,
        after={"full": full},
    )
    who = actor.audit_user.email if actor.audit_user is not None else "system"
    on_commit_task("connectors.tasks.sync_connection", conn.pk, full, who)
    return conn


@transaction.atomic
def connection_pause(*, actor: Actor, connection_id: int, paused: bool) -> Connection:
    conn = _locked(connection_id)
    authorize(actor, conn.workspace_id, Perm.MANAGE_CONNECTORS)
    target = ConnectionStatus.PAUSED if paused else ConnectionStatus.CONNECTED
    if (conn.status == ConnectionStatus.PAUSED) == paused:
        return conn
    if conn.status == ConnectionStatus.NEEDS_REAUTH:
        # Pausing and resuming would hide that the grant is gone.
        raise DomainError(NEEDS_REAUTH)
    before = conn.status
    conn.status = target
    if not paused:
        conn.next_sync_at = timezone.now()
    conn.save(update_fields=["status", "next_sync_at"])
    record(
        actor=actor,
        workspace=conn.workspace,
        action=Action.CONNECTION_PAUSED if paused else Action.CONNECTION_RESUMED,
        target=conn,
        before={"status": before},
        after={"status": target},
    )
    return conn


@dataclass(frozen=True)
class DisconnectPreview:
    documents: int
    permissions: int
    identities: int


def disconnect_preview(connection: Connection) -> DisconnectPreview:
    docs = Document.objects.filter(connection=connection)
    totals = docs.aggregate(n=Count("id"))
    permissions = 0
    for principals in docs.values_list("principals", flat=True).iterator(chunk_size=5000):
        permissions += len(principals)
    identities = Principal.objects.filter(connection=connection).count()
    return DisconnectPreview(int(totals["n"] or 0), permissions, identities)


@transaction.atomic
def connection_disconnect(*, actor: Actor, connection_id: int) -> Connection:
    """Access ends now (the documents of a disconnecting connection are hidden); the
    deletion of documents, permissions, identities and credentials runs in the
    background (R-CON-7)."""
    conn = _locked(connection_id)
    authorize(actor, conn.workspace_id, Perm.MANAGE_CONNECTORS)
    before = conn.status
    count = Document.objects.filter(connection=conn).count()
    conn.status = ConnectionStatus.DISCONNECTING
    # A running sync loses its lease and stops at its next page.
    conn.lease_run = None
    conn.lease_until = None
    conn.purge_total = count
    conn.purge_done = 0
    conn.save(update_fields=["status", "lease_run", "lease_until", "purge_total", "purge_done"])
    record(
        actor=actor,
        workspace=conn.workspace,
        action=Action.CONNECTION_DISCONNECTED,
        target=conn,
        before={"status": before},
        after={"documents": count},
    )
    on_commit_task("connectors.tasks.disconnect_connection", conn.pk)
    return conn


def connection_purge(connection_id: int) -> dict[str, Any]:
    """The background half of disconnecting: revoke the grant where the provider's API
    allows, then delete in batches (progress on the connection), then the row itself.
    Safe to run twice."""
    conn = Connection.objects.filter(pk=connection_id).first()
    if conn is None or conn.status != ConnectionStatus.DISCONNECTING:
        return {"deleted": 0}
    try:
        from .providers import for_connection  # noqa: PLC0415

        for_connection(conn).revoke()
    except Exception:  # the local copy goes whatever the provider says
        log.warning("connector revoke failed", extra={"connection": conn.pk})
    deleted = 0
    while True:
        ids = list(
            Document.objects.filter(connection=conn).values_list("pk", flat=True)[:PURGE_BATCH]
        )
        if not ids:
            break
        with transaction.atomic():
            Document.objects.filter(pk__in=ids).delete()
            deleted += len(ids)
            Connection.objects.filter(pk=conn.pk).update(purge_done=deleted)
    with transaction.atomic():
        GroupMember.objects.filter(connection=conn).delete()
        Principal.objects.filter(connection=conn).delete()
        SyncRun.objects.filter(connection=conn).delete()
        Connection.objects.filter(pk=conn.pk).delete()
    return {"deleted": deleted}


def notify_reauthorization(connection_id: int) -> None:
    """Email the workspace's admins that a connection needs them (once per episode)."""
    conn = Connection.objects.select_related("workspace").filter(pk=connection_id).first()
    if conn is None:
        return
    admins = Membership.objects.filter(
        workspace_id=conn.workspace_id,
        status=MemberStatus.ACTIVE,
        role__in=[Role.ADMIN, Role.OWNER],
    ).values_list("user__email", flat=True)
    url = reverse("ws:connection", args=[conn.workspace.slug, conn.pk])
    with transaction.atomic():
        email.enqueue(
            "connectors_reauthorize",
            list(admins),
            {
                "workspace_name": conn.workspace.name,
                "connection_name": conn.display_name,
                "provider": conn.get_provider_display(),
                "url": settings.SITE_URL.rstrip("/") + url,
                "connection_id": conn.pk,
            },
            dedupe_key=f"connection-reauth:{conn.pk}:{conn.last_error[:40]}:{timezone.now():%Y-%m-%d}",
            workspace_id=conn.workspace_id,
        )


def document_counts(workspace: Workspace) -> dict[int, int]:
    rows = (
        Document.objects.filter(workspace=workspace, connection__isnull=False)
        .values("connection_id")
        .annotate(n=Count("id"))
    )
    return {r["connection_id"]: r["n"] for r in rows}
