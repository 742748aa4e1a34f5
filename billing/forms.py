"""Input of the plan pages."""

from __future__ import annotations

from django import forms

from . import errors


class PlanChangeForm(forms.Form):
    """The confirmation under the preview of a plan change: nothing but the tick that says
    the effects listed above were read."""

    confirm = forms.BooleanField(
        label="I understand the effects of this change listed above.",
        error_messages={"required": errors.CONFIRM_REQUIRED},
    )
