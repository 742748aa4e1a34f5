"""The staff's view of agents (Plateforme terms 2: the platform does not use or disclose an
agent). Staff see what an agent is (name, workspace, model, tools, sharing, whether it is
disabled) and never its instructions: they are not on these pages, not even loaded. Staff
disable an agent with a reason the workspace sees, enable it again and approve a name
that names the platform, each through ``agents.services`` and so audited under the staff
user. Blocked terms of agent names are added and removed through the services too.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.actor import Actor
from accounts.admin import SafeActionsMixin, ServiceOnlyAdmin, null_filter
from core.errors import DomainError

from . import names, services, tools
from .models import Agent, BlockedTerm

DisabledFilter = null_filter("disabled by staff", "disabled", "disabled_at", "Disabled", "In use")

# The fields of the change page: what the agent is, never what its versions hold.
SHOWN = (
    "name",
    "workspace",
    "description",
    "created_by",
    "model_id",
    "tool_list",
    "version_number",
    "sharing",
    "name_approved_by_staff",
    "disabled_at",
    "disabled_reason",
    "created_at",
    "updated_at",
)


class DisableForm(forms.Form):
    reason = forms.CharField(
        max_length=services.REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Shown to the workspace beside the agent, and kept in its audit log.",
    )

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(services.REASON_NEEDED)
        return reason


@admin.register(Agent)
class AgentAdmin(ServiceOnlyAdmin[Agent]):
    list_display = (
        "name",
        "workspace",
        "model_id",
        "tool_list",
        "sharing",
        "disabled_state",
        "updated_at",
    )
    list_filter = (DisabledFilter, "visibility", "name_approved_by_staff")
    search_fields = ("name", "workspace__name", "workspace__slug")
    fields = SHOWN
    readonly_fields = SHOWN
    actions = ("disable", "enable", "approve_name")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agent]:
        # The current version's model and tools come with the agent; its instructions are
        # never read here.
        return (
            super()
            .get_queryset(request)
            .select_related("workspace", "created_by__user", "current", "current__base_model")
            .defer("current__instructions")
            .annotate(grant_count=Count("grants", distinct=True))
        )

    # Not ``model``: that is the admin's model class.
    @admin.display(description="Model")
    def model_id(self, obj: Agent) -> str:
        return obj.current.model_ref.public_id if obj.current is not None else "—"

    @admin.display(description="Tools")
    def tool_list(self, obj: Agent) -> str:
        if obj.current is None or not obj.current.tools:
            return "—"
        return ", ".join(
            tools.BY_KEY[k].label if k in tools.BY_KEY else k for k in obj.current.tools
        )

    @admin.display(description="Version")
    def version_number(self, obj: Agent) -> str:
        return str(obj.current.number) if obj.current is not None else "—"

    @admin.display(description="Sharing", ordering="visibility")
    def sharing(self, obj: Agent) -> str:
        count = getattr(obj, "grant_count", None)
        if count is None:
            count = obj.grants.count()
        grants = f"{count} grant" + ("" if count == 1 else "s")
        return f"{obj.get_visibility_display()} · {grants}"

    @admin.display(description="State", ordering="disabled_at")
    def disabled_state(self, obj: Agent) -> str:
        return f"Disabled: {obj.disabled_reason}" if obj.is_disabled else "In use"

    @admin.action(description="Disable selected agents…", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[Agent]) -> HttpResponse | None:
        """Asks for the reason on an intermediate page, then disables each agent through
        the service (audited as agent.disabled under the staff user)."""
        form = DisableForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda actor, a: services.agent_disable(actor=actor, agent_id=a.pk, reason=reason),
                "Disabled {count} agent(s).",
            )
            return None
        return TemplateResponse(
            request,
            "admin/agents/agent/disable.html",
            {
                **self.admin_site.each_context(request),
                "title": "Disable agents",
                "opts": self.model._meta,
                "form": form,
                "objects": queryset,
                "verb": "Disable",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "action": "disable",
            },
        )

    @admin.action(description="Enable selected agents", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        self._each(
            request,
            queryset,
            lambda actor, a: services.agent_enable(actor=actor, agent_id=a.pk),
            "Enabled {count} agent(s).",
        )

    @admin.action(
        description="Approve the names of selected agents (they may name the platform)",
        permissions=["change"],
    )
    def approve_name(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        self._each(
            request,
            queryset,
            lambda actor, a: services.agent_name_approve(actor=actor, agent_id=a.pk),
            "Approved the names of {count} agent(s).",
        )


# --- Blocked terms ------------------------------------------------------------------------


class BlockedTermForm(forms.ModelForm[BlockedTerm]):
    class Meta:
        model = BlockedTerm
        fields = ("term", "note")

    def clean_term(self) -> str:
        raw: str = self.cleaned_data["term"]
        if not raw.strip():
            raise forms.ValidationError(services.TERM_EMPTY)
        try:
            term = names.normalize(raw)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        if BlockedTerm.objects.filter(term__iexact=term).exists():
            raise forms.ValidationError(services.TERM_TAKEN)
        return term

    def _post_clean(self) -> None:
        # The row is written by the service, which checks it again under its transaction.
        pass


@admin.register(BlockedTerm)
class BlockedTermAdmin(SafeActionsMixin, admin.ModelAdmin[BlockedTerm]):
    """Terms refused in agent names (R-AGT-5), after normalization and confusable folding.
    Staff add and remove terms (through the services, audited); a term is not edited in
    place: remove it and add the new one."""

    form = BlockedTermForm
    list_display = ("term", "note", "created_at")
    search_fields = ("term", "note")
    actions = ("remove_terms",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Staff view a term (the list and its page, read-only), add and remove terms.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("term", "note", "created_at") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: BlockedTerm, form: Any, change: bool) -> None:
        row = services.blocked_term_add(
            actor=Actor.staff(request.user),  # type: ignore[arg-type]
            term=form.cleaned_data["term"],
            note=form.cleaned_data.get("note", ""),
        )
        obj.pk, obj.term, obj.note, obj.created_at = row.pk, row.term, row.note, row.created_at

    def delete_model(self, request: HttpRequest, obj: BlockedTerm) -> None:
        services.blocked_term_remove(actor=Actor.staff(request.user), term_id=obj.pk)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[BlockedTerm]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.action(description="Remove selected terms", permissions=["delete"])
    def remove_terms(self, request: HttpRequest, queryset: QuerySet[BlockedTerm]) -> None:
        count = 0
        for obj in queryset:
            self.delete_model(request, obj)
            count += 1
        self.message_user(request, f"Removed {count} term(s).", messages.SUCCESS)
