"""The staff's view of the outbox: what was sent to whom, and what failed. A record,
read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import OutboxEmail


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin[OutboxEmail]):
    list_display = ("created_at", "recipient", "subject", "template", "status", "attempts")
    list_filter = ("status", "template")
    search_fields = ("recipient",)
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    fields = (
        "recipient",
        "from_email",
        "subject",
        "template",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "workspace_id",
        "dedupe_key",
        "facts",
        "body_text",
        "body_html",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
