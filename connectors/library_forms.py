"""Input of the libraries' pages. The rules of names, files and targets are the services'
(``connectors.libraries``); the forms parse and bound the input and show its errors."""

from __future__ import annotations

from typing import Any

from django import forms

from . import libraries
from .models import LibraryRole


class LibraryForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=libraries.NAME_MAX,
        error_messages={"required": libraries.NAME_EMPTY, "max_length": libraries.NAME_TOO_LONG},
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=libraries.DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": libraries.DESCRIPTION_TOO_LONG},
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        error_messages={"empty": libraries.FILE_EMPTY},
        widget=forms.ClearableFileInput(attrs={"accept": libraries.ACCEPT}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            "PDF, Word, PowerPoint, Excel, text, Markdown, CSV, HTML or JSON, up to "
            f"{libraries.size_limit()}."
        )


class ShareForm(forms.Form):
    target = forms.CharField(max_length=40, error_messages={"required": libraries.UNKNOWN_TARGET})
    role = forms.ChoiceField(
        label="Role",
        choices=LibraryRole.choices,
        initial=LibraryRole.VIEWER,
        error_messages={"invalid_choice": libraries.UNKNOWN_ROLE},
    )

    def clean_target(self) -> libraries.ShareTarget:
        target = libraries.ShareTarget.parse(self.cleaned_data["target"])
        if target is None:
            raise forms.ValidationError(libraries.UNKNOWN_TARGET)
        return target


class ShareSearchForm(forms.Form):
    q = forms.CharField(label="Find a group or a member", required=False, max_length=100)

    def query(self) -> str:
        return self.cleaned_data.get("q", "") if self.is_valid() else ""
