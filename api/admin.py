"""The staff's view of the service API (R-UI-3): service tokens, issued and revoked here,
and the feature-use events the gateway reported (read-only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from accounts.actor import Actor
from accounts.admin import ReadOnlyAdmin, SafeActionsMixin, null_filter

from . import services
from .models import FeatureUseEvent, ServiceToken

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups

RevokedFilter = null_filter("revocation", "revoked", "revoked_at", "Revoked", "In use")

SHOWN_ONCE = (
    "The new service token “{name}” is {raw} — Copy it now; it will not be shown again. "
    "The gateway sends it as “Authorization: Bearer {raw}”."
)


@admin.register(ServiceToken)
class ServiceTokenAdmin(SafeActionsMixin, admin.ModelAdmin[ServiceToken]):
    """Adding asks only for a name: the secret is generated on save and shown once in the
    message that follows. Only its hash is stored, so it can never be shown again; a lost
    token is revoked and replaced."""

    list_display = (
        "name",
        "prefix_shown",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("created_by",)
    list_filter = (RevokedFilter,)
    search_fields = ("name", "prefix")
    fields = ("name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    @admin.display(description="Token", ordering="prefix")
    def prefix_shown(self, obj: ServiceToken) -> str:
        return f"{obj.prefix}…"

    def get_fields(self, request: HttpRequest, obj: ServiceToken | None = None) -> _FieldGroups:
        # The rest does not exist yet on the add form.
        return ["name"] if obj is None else list(self.fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoke instead: the row keeps who created the token and when it was last used.
        return False

    def save_model(
        self, request: HttpRequest, obj: ServiceToken, form: ModelForm[ServiceToken], change: bool
    ) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        issued = services.service_token_create(actor=Actor.staff(request.user), name=obj.name)  # type: ignore[arg-type]
        # The admin goes on (history entry, redirect) with the instance it built: make it the saved row.
        obj.pk = issued.token.pk
        obj.refresh_from_db()
        obj._state.adding = False
        self.message_user(
            request, SHOWN_ONCE.format(name=obj.name, raw=issued.raw), messages.SUCCESS
        )

    @admin.action(description="Revoke selected service tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ServiceToken]) -> None:
        done = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.service_token_revoke(actor=Actor.staff(request.user), token=token)  # type: ignore[arg-type]
            done += 1
        self.message_user(request, f"Revoked {done} service token(s).", messages.SUCCESS)


@admin.register(FeatureUseEvent)
class FeatureUseEventAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "workspace",
        "user_email",
        "feature",
        "outcome",
        "allowed",
        "code",
        "event_id",
    )
    list_select_related = ("workspace",)
    list_filter = ("feature", "outcome", "allowed", ("received_at", admin.DateFieldListFilter))
    search_fields = ("workspace__name", "workspace__slug", "=event_id", "user_email")
    date_hierarchy = "received_at"
    show_full_result_count = False
    list_per_page = 50
    fields = (
        "workspace",
        "membership",
        "user_email",
        "feature",
        "outcome",
        "event_id",
        "occurred_at",
        "received_at",
        "allowed",
        "code",
        "reason",
    )
    readonly_fields = fields
