"""Input of the compliance pages: the Media Customer declaration, editorial-use requests
and appeals. The services check the rules; these forms parse and bound the text."""

from __future__ import annotations

from django import forms

from .models import MEDIA_CUSTOMER_DEFINITION

YES_NO = [("yes", "Yes"), ("no", "No")]
MEDIA_QUESTION = "Does this organisation disseminate information for editorial purposes?"
MEDIA_ANSWER_REQUIRED = "Answer yes or no: the answer decides whether verified news can be used."
TEXT_LIMIT = 2000


def yes_no(value: str) -> bool:
    return value == "yes"


def answer(value: bool) -> str:
    return "yes" if value else "no"


def _text(
    label: str, help_text: str = "", *, limit: int = TEXT_LIMIT, rows: int = 4
) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=limit,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class MediaDeclarationForm(forms.Form):
    is_media_customer = forms.TypedChoiceField(
        label=MEDIA_QUESTION,
        choices=YES_NO,
        coerce=yes_no,
        widget=forms.RadioSelect,
        help_text=MEDIA_CUSTOMER_DEFINITION,
        error_messages={"required": MEDIA_ANSWER_REQUIRED},
    )


class EditorialRequestForm(forms.Form):
    reason = _text(
        "Why the workspace needs verified news",
        "What the editorial use is, and why it matters to you.",
    )
    requested_scope = _text(
        "Who would use it",
        "The people or teams (for example a group of the workspace) and how long you need it.",
        rows=3,
    )


class AppealForm(forms.Form):
    statement = _text(
        "Your appeal",
        "Explain why the suspension should be lifted, and what you have done so it does not happen again.",
        limit=5000,
        rows=6,
    )
