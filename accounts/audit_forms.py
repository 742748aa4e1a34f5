"""Parsing the audit page's filters (R-WS-8). The page is read-only: these forms only
narrow what is shown or exported, and a bad value is a field error, never a 500."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms

from core import parsing
from core.audit import all_actions

from .audit import AuditFilters, Cursor
from .audit_display import action_label

PAGE_SIZE = 50

ACTOR_HELP = "Part of an email address."
ACTOR_INVALID = "Enter part of an email address: no spaces, double quotes, brackets or semicolons."
# Characters that never occur in the addresses the console accepts; refusing them
# tells someone pasting markup or SQL that the filter could not match anything.
_ACTOR_FORBIDDEN = re.compile(r"[\s<>;\"()\[\]\\,]|[\x00-\x1f\x7f]")
DATE_ORDER = "The start date must be on or before the end date."
CURSOR_INVALID = "This page link is not valid; start again from the newest events."


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(required=False, label="Action")
    actor = forms.CharField(
        required=False,
        max_length=254,
        label="Actor",
        help_text=ACTOR_HELP,
        strip=True,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "name@example.com", "autocomplete": "off"}
        ),
    )
    date_from = parsing.DateField(
        required=False,
        label="From (UTC)",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )
    date_to = parsing.DateField(
        required=False,
        label="To (UTC)",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labelled = sorted(((a, action_label(a)) for a in all_actions()), key=lambda c: c[1])
        cast(forms.ChoiceField, self.fields["action"]).choices = [("", "All actions"), *labelled]

    def clean_actor(self) -> str:
        value: str = self.cleaned_data.get("actor", "")
        if _ACTOR_FORBIDDEN.search(value):
            raise forms.ValidationError(ACTOR_INVALID)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", DATE_ORDER)
        return data

    def filters(self) -> AuditFilters:
        """The parsed filters; call only once the form is valid."""
        d = self.cleaned_data
        return AuditFilters(
            action=d.get("action") or "",
            actor=d.get("actor") or "",
            date_from=d.get("date_from"),
            date_to=d.get("date_to"),
        )


class AuditPageForm(AuditFilterForm):
    """The filters plus the keyset cursors of the "Older" and "Newer" links."""

    before = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    after = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def _clean_cursor(self, name: str) -> Cursor | None:
        raw: str = self.cleaned_data.get(name, "")
        if not raw:
            return None
        try:
            return Cursor.decode(raw)
        except ValueError as exc:
            raise forms.ValidationError(CURSOR_INVALID) from exc

    def clean_before(self) -> Cursor | None:
        return self._clean_cursor("before")

    def clean_after(self) -> Cursor | None:
        return self._clean_cursor("after")
