"""The staff's view of compliance (R-MEDIA-1, R-MEDIA-3 to R-MEDIA-5, R-UI-3).

Every decision goes through ``compliance.services`` so that it is audited and emailed:
- the Media Customer status is set by adding a history row (never by editing one);
- an editorial-use request is approved (scope, last day) or declined on its change page,
  while it is pending; a decided request is read-only;
- an appeal is granted (the suspension is lifted) or rejected on its change page;
- news-use violations are a record: read-only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.actor import Actor
from accounts.admin import ReadOnlyAdmin, SafeActionsMixin
from accounts.models import Group
from core.errors import DomainError

from . import services
from .models import (
    Appeal,
    AppealStatus,
    EditorialAuthorization,
    MediaSource,
    MediaStatusChange,
    NewsViolation,
    RequestStatus,
)

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec

APPROVE, DECLINE = "approve", "decline"
GRANT, REJECT = "grant", "reject"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Media Customer status ----------------------------------------------------------------


class MediaStatusAddForm(forms.ModelForm[MediaStatusChange]):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why staff set or clear the status; the workspace sees it in its history.",
    )

    class Meta:
        model = MediaStatusChange
        fields = ("workspace", "is_media_customer", "note")
        labels = {"is_media_customer": "Media Customer"}

    def clean_note(self) -> str:
        note: str = self.cleaned_data["note"].strip()
        if not note:
            raise forms.ValidationError(services.STAFF_NOTE_REQUIRED)
        return note


@admin.register(MediaStatusChange)
class MediaStatusChangeAdmin(SafeActionsMixin, admin.ModelAdmin[MediaStatusChange]):
    """The history of the status; staff add a row to set or clear it (with a note).
    Rows are never edited or deleted: the latest is the current status."""

    form = MediaStatusAddForm
    list_display = ("workspace", "is_media_customer", "source", "actor", "created_at", "short_note")
    list_select_related = ("workspace", "actor")
    list_filter = ("is_media_customer", "source", ("created_at", admin.DateFieldListFilter))
    search_fields = ("workspace__name", "workspace__slug")
    autocomplete_fields = ("workspace",)
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="Note")
    def short_note(self, obj: MediaStatusChange) -> str:
        return _short(obj.note)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("workspace", "is_media_customer", "source", "actor", "note", "created_at")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("workspace", "is_media_customer", "note")
        return ("workspace", "is_media_customer", "source", "actor", "note", "created_at")

    def save_model(
        self, request: HttpRequest, obj: MediaStatusChange, form: Any, change: bool
    ) -> None:
        row = services.media_status_set(
            actor=Actor.staff(request.user),  # type: ignore[arg-type]
            workspace=obj.workspace,
            is_media_customer=obj.is_media_customer,
            source=MediaSource.STAFF,
            note=form.cleaned_data["note"],
        )
        # A staff change with a note is always recorded; the row is the one just written.
        assert row is not None
        obj.pk, obj.source, obj.actor, obj.created_at = (
            row.pk,
            row.source,
            row.actor,
            row.created_at,
        )


# --- Editorial-use authorizations ---------------------------------------------------------


class EditorialDecisionForm(forms.ModelForm[EditorialAuthorization]):
    decision = forms.ChoiceField(
        choices=[(APPROVE, "Approve: grant the exception below"), (DECLINE, "Decline")],
        widget=forms.RadioSelect,
    )

    class Meta:
        model = EditorialAuthorization
        fields = ("decision", "scope_group", "ends_on", "scope_note", "decision_note")
        labels = {"scope_group": "Scope: group", "ends_on": "Last day (inclusive)"}
        help_texts = {
            "scope_group": "A group of the requesting workspace; leave empty for the whole workspace.",
            "decision_note": "Sent to the workspace's owners and admins with the decision.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "scope_group" in self.fields:
            field = cast(forms.ModelChoiceField[Group], self.fields["scope_group"])
            field.queryset = Group.objects.filter(workspace_id=self.instance.workspace_id).order_by(
                "name"
            )

    def clean(self) -> dict[str, Any]:
        # Django's clean() answers the cleaned data; the stubs allow an override's None.
        cleaned = cast(dict[str, Any], super().clean())
        if cleaned.get("decision") == APPROVE:
            ends_on = cleaned.get("ends_on")
            if ends_on is None:
                self.add_error("ends_on", services.END_DATE_REQUIRED)
            elif ends_on <= timezone.now().date():
                self.add_error("ends_on", services.END_DATE_PAST)
        return cleaned

    def _post_clean(self) -> None:
        # The instance is not saved from this form (the service writes the decision), so
        # the model's own validation of the half-applied values is skipped.
        pass


@admin.register(EditorialAuthorization)
class EditorialAuthorizationAdmin(SafeActionsMixin, admin.ModelAdmin[EditorialAuthorization]):
    form = EditorialDecisionForm
    list_display = ("workspace", "status", "scope", "ends_on", "created_at", "requested_by")
    list_select_related = ("workspace", "scope_group", "requested_by")
    list_filter = (
        "status",
        ("ends_on", admin.DateFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("workspace__name", "workspace__slug", "requested_by__email")
    date_hierarchy = "created_at"
    show_full_result_count = False
    request_fields = (
        "workspace",
        "requested_by",
        "created_at",
        "reason",
        "requested_scope",
        "status",
    )
    decision_fields = (
        "scope_group",
        "ends_on",
        "scope_note",
        "decided_by",
        "decided_at",
        "decision_note",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[EditorialAuthorization]:
        return (
            super()
            .get_queryset(request)
            .select_related("workspace", "scope_group", "requested_by", "decided_by")
        )

    @admin.display(description="Scope")
    def scope(self, obj: EditorialAuthorization) -> str:
        if obj.status != RequestStatus.APPROVED:
            return "—"
        return f"Group {obj.scope_group.name}" if obj.scope_group else "Whole workspace"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only a pending request is decided; a decided one is the record of the decision.
        if obj is not None and obj.status != RequestStatus.PENDING:
            return False
        return super().has_change_permission(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> _FieldsetSpec:
        if (
            obj is not None
            and obj.status == RequestStatus.PENDING
            and self.has_change_permission(request, obj)
        ):
            return [
                ("Request", {"fields": self.request_fields}),
                (
                    "Decision",
                    {
                        "fields": (
                            "decision",
                            "scope_group",
                            "ends_on",
                            "scope_note",
                            "decision_note",
                        )
                    },
                ),
            ]
        return [
            ("Request", {"fields": self.request_fields}),
            ("Decision", {"fields": self.decision_fields}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if (
            obj is not None
            and obj.status == RequestStatus.PENDING
            and self.has_change_permission(request, obj)
        ):
            return self.request_fields
        return self.request_fields + self.decision_fields

    def save_model(
        self, request: HttpRequest, obj: EditorialAuthorization, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        approve = data["decision"] == APPROVE
        try:
            services.editorial_request_decide(
                actor=Actor.staff(request.user),  # type: ignore[arg-type]
                authorization=obj,
                approve=approve,
                scope_group=data.get("scope_group") if approve else None,
                ends_on=data.get("ends_on") if approve else None,
                scope_note=data.get("scope_note", ""),
                note=data.get("decision_note", ""),
            )
        except DomainError as exc:
            # Decided meanwhile by someone else: nothing was written.
            self.message_user(request, exc.message, messages.ERROR)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        # The decision is in the audit log, written by the service.
        return None


# --- News-use violations ------------------------------------------------------------------


@admin.register(NewsViolation)
class NewsViolationAdmin(ReadOnlyAdmin):
    list_display = ("workspace", "user_email", "event_id", "occurred_at", "created_at")
    list_select_related = ("workspace",)
    list_filter = (("created_at", admin.DateFieldListFilter),)
    search_fields = ("workspace__name", "workspace__slug", "user_email", "=event_id")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ("workspace", "membership", "user_email", "event_id", "occurred_at", "created_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[NewsViolation]:
        return super().get_queryset(request).select_related("workspace", "membership__user")


# --- Appeals ------------------------------------------------------------------------------


class AppealDecisionForm(forms.ModelForm[Appeal]):
    decision = forms.ChoiceField(
        choices=[(GRANT, "Grant: lift the suspension"), (REJECT, "Reject: keep the suspension")],
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Appeal
        fields = ("decision", "decision_note")
        labels = {"decision_note": "Note to the owners"}
        help_texts = {"decision_note": "Emailed to the workspace's owners; required to reject."}

    def clean(self) -> dict[str, Any]:
        # Django's clean() answers the cleaned data; the stubs allow an override's None.
        cleaned = cast(dict[str, Any], super().clean())
        if cleaned.get("decision") == REJECT and not (cleaned.get("decision_note") or "").strip():
            self.add_error("decision_note", services.NOTE_REQUIRED_TO_REJECT)
        return cleaned

    def _post_clean(self) -> None:
        # Written by the service, not by saving this form's instance.
        pass


@admin.register(Appeal)
class AppealAdmin(SafeActionsMixin, admin.ModelAdmin[Appeal]):
    form = AppealDecisionForm
    list_display = ("workspace", "status", "filed_by", "created_at", "decided_by", "decided_at")
    list_select_related = ("workspace", "filed_by", "decided_by")
    list_filter = ("status", ("created_at", admin.DateFieldListFilter))
    search_fields = ("workspace__name", "workspace__slug", "filed_by__email")
    date_hierarchy = "created_at"
    show_full_result_count = False
    appeal_fields = (
        "workspace",
        "workspace_state",
        "filed_by",
        "created_at",
        "suspension_reason",
        "statement",
        "status",
    )
    decided_fields = ("decided_by", "decided_at", "decision_note")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appeal]:
        return super().get_queryset(request).select_related("workspace", "filed_by", "decided_by")

    @admin.display(description="Workspace now")
    def workspace_state(self, obj: Appeal) -> str:
        ws = obj.workspace
        return f"Suspended: {ws.suspension_reason}" if ws.is_suspended else "Active (not suspended)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != AppealStatus.PENDING:
            return False
        return super().has_change_permission(request, obj)

    def _deciding(self, request: HttpRequest, obj: Any) -> bool:
        return (
            obj is not None
            and obj.status == AppealStatus.PENDING
            and self.has_change_permission(request, obj)
        )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> _FieldsetSpec:
        if self._deciding(request, obj):
            return [
                ("Appeal", {"fields": self.appeal_fields}),
                ("Decision", {"fields": ("decision", "decision_note")}),
            ]
        return [
            ("Appeal", {"fields": self.appeal_fields}),
            ("Decision", {"fields": self.decided_fields}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if self._deciding(request, obj):
            return self.appeal_fields
        return self.appeal_fields + self.decided_fields

    def save_model(self, request: HttpRequest, obj: Appeal, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            services.appeal_decide(
                actor=Actor.staff(request.user),  # type: ignore[arg-type]
                appeal=obj,
                grant=data["decision"] == GRANT,
                note=data.get("decision_note", ""),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None
