"""Input parsing of the members page and of groups (R-WS-5, R-WS-7).

Group names: stored as typed, so "R&D <core>" or "'; DROP TABLE x;--" stay exactly what
the admin wrote (the ORM binds parameters and templates escape on display). Three things
are refused or folded because they make two different names look alike on screen:
compatibility forms (fullwidth letters) are folded with NFKC, invisible and control
characters are refused, and so is a word mixing Latin, Cyrillic or Greek letters (the
classic lookalike: a Cyrillic "а" inside "Admins")."""

from __future__ import annotations

import unicodedata
from typing import Any, cast

from django import forms

from .models import Group, MemberStatus, Workspace
from .roles import Role
from .selectors import MEMBER_SEARCH_MAX, group_choices

GROUP_NAME_MAX = Group._meta.get_field("name").max_length or 80

GROUP_NAME_EMPTY = "Enter a name."
GROUP_NAME_INVISIBLE = "A group name cannot contain invisible or control characters."
GROUP_NAME_MIXED = (
    "A word of this name mixes letters of different alphabets that look alike; retype it."
)
GROUP_NAME_TOO_LONG = f"Use at most {GROUP_NAME_MAX} characters."
NO_SUCH_MEMBER = "No member of this workspace has this email address."

# Scripts whose letters are easily confused with each other.
_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def _script(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    for script in _CONFUSABLE_SCRIPTS:
        if name.startswith(script):
            return script
    return None


def _mixes_scripts(word: str) -> bool:
    scripts = {s for ch in word if ch.isalpha() and (s := _script(ch)) is not None}
    return len(scripts) > 1


def clean_group_name(raw: str) -> str:
    name = unicodedata.normalize("NFKC", raw)
    # Cc control, Cf format (zero-width, bidi overrides), Co private use, Cn unassigned.
    if any(
        unicodedata.category(ch) in {"Cc", "Cf", "Co", "Cn", "Cs"}
        for ch in name
        if ch not in "\t\n\r"
    ):
        raise forms.ValidationError(GROUP_NAME_INVISIBLE)
    name = " ".join(name.split())
    if not name:
        raise forms.ValidationError(GROUP_NAME_EMPTY)
    if len(name) > GROUP_NAME_MAX:
        raise forms.ValidationError(GROUP_NAME_TOO_LONG)
    if any(_mixes_scripts(word) for word in name.split()):
        raise forms.ValidationError(GROUP_NAME_MIXED)
    return name


class MemberFilterForm(forms.Form):
    """The GET filters of the members list; every field is optional."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=MEMBER_SEARCH_MAX,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name or email", "autocomplete": "off"}
        ),
    )
    role = forms.TypedChoiceField(
        label="Role", required=False, coerce=int, empty_value=None, choices=[]
    )
    # Plain (id, name) choices: one light query, no model instances per option.
    group = forms.TypedChoiceField(
        label="Group", required=False, coerce=int, empty_value=None, choices=[]
    )
    status = forms.ChoiceField(label="Status", required=False, choices=[])

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["role"]).choices = [("", "Any role"), *Role.choices]
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            ("", "Any status"),
            *MemberStatus.choices,
        ]
        # Scoped to the workspace: another workspace's group id is "not a valid choice".
        cast(forms.ChoiceField, self.fields["group"]).choices = [
            ("", "Any group"),
            *group_choices(workspace).values_list("id", "name"),
        ]

    def filters(self) -> dict[str, Any]:
        """The valid filters, ignoring any field that failed validation."""
        data = getattr(self, "cleaned_data", {})
        return {
            "q": data.get("q") or "",
            "role": data.get("role"),
            "group_id": data.get("group"),
            "status": data.get("status") or "",
        }


class RoleChangeForm(forms.Form):
    role = forms.TypedChoiceField(label="Role", coerce=int, choices=Role.choices)


class GroupNameForm(forms.Form):
    name = forms.CharField(
        label="Group name",
        max_length=GROUP_NAME_MAX,
        error_messages={"required": GROUP_NAME_EMPTY, "max_length": GROUP_NAME_TOO_LONG},
    )

    def clean_name(self) -> str:
        return clean_group_name(self.cleaned_data["name"])


class GroupMemberAddForm(forms.Form):
    email = forms.EmailField(
        label="Member's email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"}),
    )
