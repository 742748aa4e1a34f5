"""The staff view of connected services: connections and their runs, read-only. Staff
see states, errors and counts, never credentials or documents' access lists; a sync or a
disconnect goes through the same services as the pages, audited under the staff user."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import ServiceOnlyAdmin

from . import services
from .models import Connection, SyncRun


@admin.register(Connection)
class ConnectionAdmin(ServiceOnlyAdmin[Connection]):
    list_display = (
        "display_name",
        "workspace",
        "provider",
        "status",
        "last_success_at",
        "next_sync_at",
    )
    list_filter = ("provider", "status")
    search_fields = ("display_name", "account", "workspace__name", "workspace__slug")
    list_select_related = ("workspace",)
    exclude = ("credentials", "cursor")
    actions = ("sync_now", "disconnect")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        hidden = {"credentials", "cursor"}
        return [f for f in super().get_readonly_fields(request, obj) if f not in hidden]

    @admin.action(description="Sync the selected connections now")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        self._each(
            request,
            queryset,
            lambda actor, c: services.connection_sync_request(actor=actor, connection_id=c.pk),
            "Sync requested for {count} connection(s).",
        )

    @admin.action(description="Disconnect the selected connections (deletes their documents)")
    def disconnect(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        self._each(
            request,
            queryset,
            lambda actor, c: services.connection_disconnect(actor=actor, connection_id=c.pk),
            "Disconnecting {count} connection(s).",
        )


@admin.register(SyncRun)
class SyncRunAdmin(ServiceOnlyAdmin[SyncRun]):
    list_display = ("connection", "kind", "status", "phase", "started_at", "items_seen", "errors")
    list_filter = ("status", "kind")
    list_select_related = ("connection", "connection__workspace")
    search_fields = ("connection__display_name", "connection__workspace__slug")
