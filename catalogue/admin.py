"""The staff's view of the model catalogue: reference data staff edit here, as they edit
plans. The plans that offer a model are ticked from billing's list of plans
(``catalogue.offers``). A model is retired, never deleted: keys, agents and usage name it
(its references protect it in the database too)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from . import offers
from .models import BaseModel, Lifecycle, ModelOffer

DEPRECATED_DATE_AHEAD = (
    "A deprecated model's retirement date is ahead: for a date that has come, mark it retired."
)
RETIRED_DATE_BEHIND = "A retired model's retirement date is today or earlier."


class BaseModelAdminForm(forms.ModelForm[BaseModel]):
    plans = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Offered on",
        help_text="The plans whose workspaces may use the model.",
    )

    class Meta:
        model = BaseModel
        fields = (
            "model_id",
            "name",
            "kind",
            "description",
            "sort_order",
            "context_window",
            "supports_tools",
            "supports_vision",
            "supports_json_mode",
            "fine_tunable",
            "lifecycle",
            "retirement_date",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plans = cast(forms.MultipleChoiceField, self.fields["plans"])
        plans.choices = offers.plan_choices()
        if self.instance.pk is not None:
            self.initial["plans"] = sorted(self.instance.plan_slugs)

    def clean(self) -> dict[str, Any]:
        # Django's clean() answers the cleaned data; the stubs allow an override's None.
        data = cast(dict[str, Any], super().clean())
        # The date against today, only when staff change the lifecycle or the date: a
        # model deprecated earlier keeps a date that has come since (it reads as retired).
        when = data.get("retirement_date")
        if when is None or not {"lifecycle", "retirement_date"} & set(self.changed_data):
            return data
        today = timezone.localdate()
        lifecycle = data.get("lifecycle")
        if lifecycle == Lifecycle.DEPRECATED and when <= today:
            self.add_error("retirement_date", DEPRECATED_DATE_AHEAD)
        elif lifecycle == Lifecycle.RETIRED and when > today:
            self.add_error("retirement_date", RETIRED_DATE_BEHIND)
        return data


class OfferedOnFilter(admin.SimpleListFilter):
    title = "offered on"
    parameter_name = "plan"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return offers.plan_choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(offers__plan_slug=self.value())
        return queryset


@admin.register(BaseModel)
class BaseModelAdmin(admin.ModelAdmin[BaseModel]):
    form = BaseModelAdminForm
    list_display = (
        "model_id",
        "name",
        "kind",
        "context",
        "capabilities",
        "lifecycle",
        "retirement_date",
        "offered_on",
        "sort_order",
    )
    list_display_links = ("model_id", "name")
    list_filter = (
        "kind",
        "lifecycle",
        OfferedOnFilter,
        "supports_tools",
        "supports_vision",
        "fine_tunable",
    )
    search_fields = ("model_id", "name", "description")
    ordering = ("sort_order", "name")
    fieldsets = (
        (None, {"fields": ("model_id", "name", "kind", "description", "sort_order")}),
        (
            "Capabilities",
            {
                "fields": (
                    "context_window",
                    "supports_tools",
                    "supports_vision",
                    "supports_json_mode",
                    "fine_tunable",
                )
            },
        ),
        ("Lifecycle", {"fields": ("lifecycle", "retirement_date")}),
        ("Plans", {"fields": ("plans",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[BaseModel]:
        return super().get_queryset(request).prefetch_related("offers")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        model = form.instance
        chosen = set(form.cleaned_data["plans"])
        had = set(model.offers.values_list("plan_slug", flat=True))
        model.offers.filter(plan_slug__in=had - chosen).delete()
        ModelOffer.objects.bulk_create(
            [ModelOffer(model=model, plan_slug=slug) for slug in sorted(chosen - had)]
        )

    @admin.display(description="Context", ordering="context_window")
    def context(self, obj: BaseModel) -> str:
        return f"{obj.context_window:,}"

    @admin.display(description="Capabilities")
    def capabilities(self, obj: BaseModel) -> str:
        flags = [
            ("tools", obj.supports_tools),
            ("vision", obj.supports_vision),
            ("JSON", obj.supports_json_mode),
            ("fine-tuning", obj.fine_tunable),
        ]
        return ", ".join(label for label, on in flags if on) or "-"

    @admin.display(description="Offered on")
    def offered_on(self, obj: BaseModel) -> str:
        return ", ".join(sorted(obj.plan_slugs)) or "-"
