"""Forms of the invitations and domains pages (R-WS-3, R-WS-4). They parse and check the
input; the rules that need the database (members, pending invitations, taken domains)
stay in the services, which answer with a DomainError naming the field."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.errors import DomainError
from core.parsing import ModelMultipleChoiceIdField

from . import services
from .models import Group, Workspace
from .roles import Role, can_assign_role

EMAILS_MAX_CHARS = 50_000
NO_ADDRESS = "Enter at least one email address."
NO_VALID_ADDRESS = "None of these is a valid email address."
TOO_MANY_ADDRESSES = "Invite at most {max} addresses at once."
DOMAIN_NOT_ASCII = (
    "Enter the domain in plain letters, digits and hyphens; for an internationalized "
    "domain, use its xn-- form."
)


def is_valid_address(email: str) -> bool:
    """The services' own check, plus ASCII only: a lookalike letter from another script
    (a Cyrillic 'а' for a Latin 'a') would send an invitation to a different mailbox
    than the admin believes."""
    if not email.isascii() or len(email) > 254:
        return False
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


class InviteForm(forms.Form):
    emails = forms.CharField(
        label="Email addresses",
        max_length=EMAILS_MAX_CHARS,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "ada@example.org, grace@example.org"}
        ),
        help_text="Paste one or many addresses, separated by commas, spaces or new lines.",
    )
    role = forms.TypedChoiceField(label="Role", coerce=int, choices=[])
    groups = ModelMultipleChoiceIdField(
        label="Groups",
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, workspace: Workspace, actor_role: int, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"role": Role.MEMBER})
        super().__init__(*args, **kwargs)
        # Only the roles this member may grant: an admin never sees "Owner".
        cast(forms.ChoiceField, self.fields["role"]).choices = [
            (r.value, r.label) for r in Role if can_assign_role(actor_role, None, r)
        ]
        self.fields["groups"].queryset = Group.objects.filter(workspace=workspace).order_by("name")  # type: ignore[attr-defined]

    def clean_emails(self) -> list[str]:
        emails = services.parse_email_list(self.cleaned_data["emails"])
        if not emails:
            raise forms.ValidationError(NO_ADDRESS)
        if len(emails) > services.MAX_INVITES_AT_ONCE:
            raise forms.ValidationError(TOO_MANY_ADDRESSES.format(max=services.MAX_INVITES_AT_ONCE))
        if not any(is_valid_address(e) for e in emails):
            raise forms.ValidationError(NO_VALID_ADDRESS)
        return emails


class DomainClaimForm(forms.Form):
    name = forms.CharField(
        label="Domain",
        max_length=253,
        widget=forms.TextInput(
            attrs={"placeholder": "example.org", "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text="The part after @ in your organization's email addresses.",
    )

    def clean_name(self) -> str:
        raw: str = self.cleaned_data["name"]
        if not raw.isascii():
            raise forms.ValidationError(DOMAIN_NOT_ASCII)
        try:
            return services.normalize_domain(raw)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
