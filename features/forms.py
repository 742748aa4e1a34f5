"""Input of the feature pages: one cell of the admins' matrix, the members' search, and a
user's own switch."""

from __future__ import annotations

from typing import Any

from django import forms

from core import registry
from core.parsing import IdField

from . import errors
from .services import EFFECTS

WORKSPACE, GROUP, MEMBER = "workspace", "group", "member"
TARGETS = (WORKSPACE, GROUP, MEMBER)
SEARCH_MAX = 100


class RuleForm(forms.Form):
    """One cell: allow, inherit or deny one feature for the workspace, a group or a member."""

    feature = forms.ChoiceField(
        choices=registry.CHOICES,
        error_messages={
            "invalid_choice": errors.UNKNOWN_FEATURE,
            "required": errors.UNKNOWN_FEATURE,
        },
    )
    effect = forms.ChoiceField(
        choices=[(e, e) for e in EFFECTS],
        error_messages={"invalid_choice": errors.UNKNOWN_EFFECT, "required": errors.UNKNOWN_EFFECT},
    )
    target = forms.ChoiceField(
        choices=[(t, t) for t in TARGETS],
        error_messages={"invalid_choice": errors.UNKNOWN_TARGET, "required": errors.UNKNOWN_TARGET},
    )
    target_id = IdField(
        required=False,
        error_messages={
            "invalid": errors.TARGET_ID_MISSING,
            "min_value": errors.TARGET_ID_MISSING,
            "max_value": errors.TARGET_ID_MISSING,
        },
    )
    # The matrix's search and pages to come back to after a plain form post.
    back = forms.CharField(required=False, max_length=500)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("target") in (GROUP, MEMBER) and not data.get("target_id"):
            self.add_error("target_id", errors.TARGET_ID_MISSING)
        return data


class MemberSearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search members",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name or email", "autocomplete": "off"}
        ),
    )

    def query(self) -> str:
        # Over-long input is cut rather than refused: a search never errors.
        if self.is_valid():
            return str(self.cleaned_data["q"]).strip()[:SEARCH_MAX]
        return ""


class SwitchForm(forms.Form):
    """A user's own switch: ``on`` is "1" to turn the feature on, "0" to turn it off."""

    feature = forms.ChoiceField(
        choices=registry.CHOICES,
        error_messages={
            "invalid_choice": errors.UNKNOWN_FEATURE,
            "required": errors.UNKNOWN_FEATURE,
        },
    )
    on = forms.TypedChoiceField(choices=[("1", "On"), ("0", "Off")], coerce=lambda v: v == "1")
