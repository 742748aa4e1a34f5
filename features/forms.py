"""Input of the feature pages: one cell of the admins' matrix, the cells changed in one of
its tables, the members' search, and a user's own switch."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict

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


# A select of the groups' or members' table: target kind and id, feature, and the effect
# the cell showed when it was drawn (``g4:canvas:inherit``, ``m12:memory:deny``).
CELL_NAME = re.compile(r"^([gm])([1-9][0-9]{0,18}):([a-z_]{1,40}):(inherit|allow|deny)$")
CELL_TARGETS = {"g": GROUP, "m": MEMBER}
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class CellChange:
    target: str  # GROUP or MEMBER
    target_id: int
    feature: str
    effect: str
    error: str = ""


def _cell(name: str, value: str) -> CellChange | None:
    match = CELL_NAME.match(name)
    if match is None or int(match[2]) > MAX_ID:
        return None
    kind, target_id, feature = match[1], int(match[2]), match[3]
    error = ""
    if feature not in registry.BY_KEY:
        error = errors.UNKNOWN_FEATURE
    elif value not in EFFECTS:
        error = errors.UNKNOWN_EFFECT
    return CellChange(CELL_TARGETS[kind], target_id, feature, value, error)


def cell_of(data: QueryDict, name: str) -> CellChange | None:
    """The one cell an htmx request was sent by (``name`` is its select's), or None when
    no such select was posted."""
    if name not in data:
        return None
    return _cell(name, data.get(name, ""))


def changed_cells(data: QueryDict) -> list[CellChange]:
    """The cells of a table's form that a plain post changed: each select's name says the
    effect it showed, so a cell whose value differs from it is one the admin changed, and
    an untouched cell never overwrites a rule another admin set meanwhile."""
    changes = []
    for name in list(data.keys())[:2000]:
        match = CELL_NAME.match(name)
        if match is None or data.get(name) == match[4]:
            continue
        cell = _cell(name, data.get(name, ""))
        if cell is not None:
            changes.append(cell)
    return changes


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
