"""The staff's view of feature rules and users' own switches (R-UI-3, R-WS-6).

Both are read-only here: admins set rules on the workspace's Features page and users
their switches on My features, where the services check them and write the audit log.
Staff search by workspace and filter by feature, effect and level."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import ReadOnlyAdmin

from .models import FeatureOptOut, FeatureRule


class LevelFilter(admin.SimpleListFilter):
    """Whole workspace, group or member: which of the rule's targets is set."""

    title = "level"
    parameter_name = "level"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("workspace", "Whole workspace"), ("group", "Group"), ("member", "Member")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        match self.value():
            case "workspace":
                return queryset.filter(group__isnull=True, membership__isnull=True)
            case "group":
                return queryset.filter(group__isnull=False)
            case "member":
                return queryset.filter(membership__isnull=False)
        return queryset


@admin.register(FeatureRule)
class FeatureRuleAdmin(ReadOnlyAdmin):
    list_display = (
        "feature",
        "effect",
        "level_label",
        "target",
        "workspace",
        "updated_at",
        "updated_by",
    )
    list_select_related = ("workspace", "group", "membership__user", "updated_by")
    list_filter = ("feature", "effect", LevelFilter)
    search_fields = ("workspace__name", "workspace__slug", "group__name", "membership__user__email")
    ordering = ("-updated_at", "-id")
    show_full_result_count = False
    list_per_page = 50
    fields = ("workspace", "feature", "effect", "group", "membership", "updated_at", "updated_by")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[FeatureRule]:
        # The change page names the member by email: fetch the user with the rule.
        return (
            super()
            .get_queryset(request)
            .select_related("workspace", "group", "membership__user", "updated_by")
        )

    @admin.display(description="Level")
    def level_label(self, obj: FeatureRule) -> str:
        return {"workspace": "Whole workspace", "group": "Group", "member": "Member"}[obj.level]

    @admin.display(description="Target")
    def target(self, obj: FeatureRule) -> str:
        if obj.group is not None:
            return obj.group.name
        if obj.membership is not None:
            return obj.membership.user.email
        return "—"


@admin.register(FeatureOptOut)
class FeatureOptOutAdmin(ReadOnlyAdmin):
    list_display = ("feature", "member_email", "workspace", "created_at")
    list_select_related = ("workspace", "membership__user")
    list_filter = ("feature",)
    search_fields = ("workspace__name", "workspace__slug", "membership__user__email")
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    list_per_page = 50
    fields = ("workspace", "membership", "feature", "created_at")
    readonly_fields = fields

    @admin.display(description="Member", ordering="membership__user__email")
    def member_email(self, obj: FeatureOptOut) -> str:
        return obj.membership.user.email
