"""The staff's view of plans and subscriptions (R-FEAT-3). Plans are data that staff edit
here: the features are ticked from the registry and checked by ``Plan.clean``; the slug is
fixed once the plan exists (the model catalogue names plans by it).
Subscriptions are a record: they change through ``billing.services`` (audited), never here."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from accounts.admin import ReadOnlyAdmin, SafeActionsMixin
from core import registry

from . import services
from .models import Plan, Subscription
from .selectors import price_text

# Agent sharing is the plan's ``allows_agent_sharing`` flag, not an entry of the list.
FEATURE_CHOICES = [(key, label) for key, label in registry.CHOICES if key != registry.AGENT_SHARING]
ONE_DEFAULT = "{plan} is already the default plan: untick it there first."


class PlanAdminForm(forms.ModelForm[Plan]):
    features = forms.MultipleChoiceField(
        choices=FEATURE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Features of the plan. Agent sharing follows the flag below.",
    )

    class Meta:
        model = Plan
        fields = (
            "name",
            "slug",
            "kind",
            "description",
            "sort_order",
            "price_basis",
            "monthly_price",
            "currency",
            "features",
            "allows_agent_sharing",
            "trains_on_data_by_default",
            "seat_limit",
            "requests_per_minute",
            "tokens_per_minute",
            "monthly_token_cap",
            "self_serve",
            "is_default",
            "is_active",
        )

    def clean_features(self) -> list[str]:
        chosen = set(self.cleaned_data.get("features") or [])
        # Stored in registry order, so the list reads the same whatever the ticking order.
        return [key for key in registry.KEYS if key in chosen]

    def clean(self) -> dict[str, Any]:
        # Django's clean() answers the cleaned data; the stubs allow an override's None.
        data = cast(dict[str, Any], super().clean())
        if data.get("is_default"):
            other = Plan.objects.filter(is_default=True).exclude(pk=self.instance.pk).first()
            if other is not None:
                self.add_error("is_default", ONE_DEFAULT.format(plan=other.name))
        return data


class CurrentSubscriptionsFilter(admin.SimpleListFilter):
    title = "subscribers"
    parameter_name = "subscribed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "With current subscriptions"), ("no", "Without")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(current_subscription_count__gt=0)
        if self.value() == "no":
            return queryset.filter(current_subscription_count=0)
        return queryset


@admin.register(Plan)
class PlanAdmin(SafeActionsMixin, admin.ModelAdmin[Plan]):
    form = PlanAdminForm
    list_display = (
        "name",
        "kind",
        "price",
        "seat_limit",
        "requests_per_minute",
        "tokens_per_minute",
        "monthly_token_cap",
        "is_default",
        "is_active",
        "self_serve",
        "current_subscriptions",
    )
    list_display_links = ("name",)
    list_filter = ("kind", "is_active", "self_serve", CurrentSubscriptionsFilter)
    search_fields = ("name", "slug")
    ordering = ("sort_order", "name")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "slug", "kind", "description", "sort_order")}),
        ("Price", {"fields": ("price_basis", "monthly_price", "currency")}),
        ("Features", {"fields": ("features", "allows_agent_sharing", "trains_on_data_by_default")}),
        (
            "Seats and rate limits",
            {
                "fields": (
                    "seat_limit",
                    "requests_per_minute",
                    "tokens_per_minute",
                    "monthly_token_cap",
                )
            },
        ),
        ("Offer", {"fields": ("self_serve", "is_default", "is_active")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Plan | None = None) -> Any:
        # The slug is the plan's key once it exists: the model catalogue, below billing,
        # names the plans that offer a model by their slugs.
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "slug") if obj is not None else fields

    def get_prepopulated_fields(self, request: HttpRequest, obj: Plan | None = None) -> Any:
        return {} if obj is not None else super().get_prepopulated_fields(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Plan]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                current_subscription_count=Count(
                    "subscriptions", filter=Q(subscriptions__ended_at__isnull=True)
                )
            )
        )

    def save_model(self, request: HttpRequest, obj: Plan, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.plan_saved(obj)
        if change and "seat_limit" in form.changed_data:
            services.plan_seat_limit_apply(obj)

    @admin.display(description="Price")
    def price(self, obj: Plan) -> str:
        return price_text(obj)

    @admin.display(description="Current subscriptions", ordering="current_subscription_count")
    def current_subscriptions(self, obj: Plan) -> int:
        return getattr(obj, "current_subscription_count", 0)


class CurrentFilter(admin.SimpleListFilter):
    title = "current"
    parameter_name = "current"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Current"), ("no", "Ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(ended_at__isnull=self.value() == "yes")
        return queryset


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = (
        "workspace",
        "plan",
        "status",
        "started_at",
        "current_period_start",
        "current_period_end",
        "ended_at",
        "created_by",
    )
    list_select_related = ("workspace", "plan", "created_by")
    list_filter = ("plan", "status", CurrentFilter, ("started_at", admin.DateFieldListFilter))
    search_fields = ("workspace__name", "workspace__slug")
    date_hierarchy = "started_at"
    show_full_result_count = False
    fields = (
        "workspace",
        "plan",
        "status",
        "started_at",
        "current_period_start",
        "current_period_end",
        "ended_at",
        "created_by",
    )
    readonly_fields = fields
