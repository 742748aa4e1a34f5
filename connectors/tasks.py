"""Thin tasks: each loads fresh rows and calls the sync or a service; running one twice
does nothing twice (one run at a time holds the connection's lease)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from . import sync
from .models import Connection, ConnectionStatus


@shared_task(acks_late=True, ignore_result=True)
def sync_connection(connection_id: int, full: bool = False, triggered_by: str = "") -> str:
    return sync.run(connection_id, full=full, triggered_by=triggered_by).message


@shared_task(ignore_result=True)
def sync_due_connections() -> int:
    """Enqueue a run for every connection whose interval has passed (Celery beat, each
    minute); a connection already running is skipped by the run itself."""
    now = timezone.now()
    due = Connection.objects.filter(
        status__in=[ConnectionStatus.CONNECTED, ConnectionStatus.SYNCING],
    ).filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
    due = due.filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
    ids = list(due.values_list("pk", flat=True)[:500])
    for pk in ids:
        sync_connection.delay(pk, False, "schedule")
    return len(ids)


@shared_task(acks_late=True, ignore_result=True)
def disconnect_connection(connection_id: int) -> dict[str, Any]:
    from .services import connection_purge

    return connection_purge(connection_id)
