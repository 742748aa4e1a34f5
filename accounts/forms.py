from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any, cast

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest
from django.utils import timezone

from core import parsing
from core.context import client_ip

from .models import User

MIN_AGE = 13
AGE_OF_MAJORITY = 18
UNDER_13 = "You must be at least 13 years old to use the console."
NEEDS_GUARDIAN = "Users under 18 need a parent's or guardian's permission: please confirm it."
MUST_AGREE = "You must accept the terms to create an account."
BIRTH_DATE_FUTURE = "Enter your real date of birth."
NAME_MARKUP = "A name cannot contain < or >."
NAME_INVISIBLE = "A name cannot contain invisible or control characters."


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


class SignupForm(AllauthSignupForm):  # type: ignore[misc]  # allauth ships no types
    """Sign-up with the age gate (R-ACC-2) and acceptance of the terms (R-ACC-6)."""

    name = forms.CharField(label="Full name", max_length=150, required=False)
    birth_date = parsing.DateField(
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="You must be 13 or older. Under 18, a parent or guardian must agree.",
    )
    guardian_consent = forms.BooleanField(
        label="I am under 18 and my parent or guardian has given permission", required=False
    )
    agree_terms = forms.BooleanField(
        label="I agree to the Terms of Service and the Privacy Policy",
        error_messages={"required": MUST_AGREE},
    )

    field_order = [
        "name",
        "email",
        "password1",
        "password2",
        "birth_date",
        "guardian_consent",
        "agree_terms",
    ]

    @property
    def terms_version(self) -> str:
        """The version the "I agree" box accepts; the sign-up page shows it."""
        return str(settings.TERMS_VERSION)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data.get("name", "").split())
        if any(ch in name for ch in "<>"):
            raise forms.ValidationError(NAME_MARKUP)
        # Control and format characters (right-to-left overrides, zero-width joiners)
        # make a name display as something else than what it is.
        if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in name):
            raise forms.ValidationError(NAME_INVISIBLE)
        return name

    def clean_birth_date(self) -> date:
        birth: date = self.cleaned_data["birth_date"]
        today = timezone.now().date()
        if birth > today or birth.year < 1900:
            raise forms.ValidationError(BIRTH_DATE_FUTURE)
        if age_on(birth, today) < MIN_AGE:
            raise forms.ValidationError(UNDER_13)
        return birth

    def clean_agree_terms(self) -> bool:
        if not self.cleaned_data.get("agree_terms"):
            raise forms.ValidationError(MUST_AGREE)
        return True

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()
        birth = cleaned.get("birth_date")
        if (
            birth
            and age_on(birth, timezone.now().date()) < AGE_OF_MAJORITY
            and not cleaned.get("guardian_consent")
        ):
            self.add_error("guardian_consent", NEEDS_GUARDIAN)
        return cleaned

    def try_save(self, request: HttpRequest) -> tuple[User | None, Any]:
        if self.account_already_exists:
            # allauth answers a known address as a new one (ACCOUNT_PREVENT_ENUMERATION),
            # but without creating the account it would skip the password hash, most of
            # the time a sign-up takes: the speed of the answer would tell that the
            # address has an account. The same hash is made, and thrown away.
            make_password(self.cleaned_data.get("password1"))
        return super().try_save(request)  # type: ignore[no-any-return]

    def save(self, request: HttpRequest) -> User:
        from .services import terms_accept  # noqa: PLC0415

        user: User = super().save(request)
        user.name = self.cleaned_data.get("name", "").strip()
        user.birth_date = self.cleaned_data["birth_date"]
        if age_on(user.birth_date, timezone.now().date()) < AGE_OF_MAJORITY:
            user.guardian_consent_at = timezone.now()
        user.save(update_fields=["name", "birth_date", "guardian_consent_at"])
        terms_accept(user=user, version=settings.TERMS_VERSION, ip=client_ip(request))
        return user


class WorkspaceCreateForm(forms.Form):
    name = forms.CharField(label="Workspace name", max_length=100)
    slug = forms.SlugField(
        label="Address",
        max_length=50,
        help_text="Lowercase letters, digits and hyphens: the workspace lives at /w/&lt;address&gt;/.",
    )
    # The Media Customer self-declaration (R-MEDIA-1). No default: the creator must answer.
    # The definition from the terms is shown beside it by the page.
    is_media_customer = forms.TypedChoiceField(
        label="Does this organisation disseminate information for editorial purposes?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Answer yes or no: the answer decides whether verified news can be used."
        },
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Enter a name.")
        if any(ch in name for ch in "<>"):
            raise forms.ValidationError("A name cannot contain < or >.")
        return name

    def clean_slug(self) -> str:
        from .models import SLUG_VALIDATOR  # noqa: PLC0415

        slug: str = self.cleaned_data["slug"]
        SLUG_VALIDATOR(slug)
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError("This address is reserved; choose another.")
        return slug


RESERVED_SLUGS = frozenset({"new", "admin", "api", "static", "accounts", "settings", "w"})


class WorkspaceRenameForm(forms.Form):
    name = forms.CharField(
        label="Workspace name",
        max_length=100,
        help_text="Shown to members everywhere in the console. The address stays the same.",
    )

    clean_name = WorkspaceCreateForm.clean_name


class JoinSettingsForm(forms.Form):
    join_mode = forms.ChoiceField(
        label="When someone with a verified email on your domains signs in",
        choices=[],
        widget=forms.RadioSelect,
    )
    default_role = forms.TypedChoiceField(
        label="Role of people who join by domain", coerce=int, choices=[]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .models import JoinMode  # noqa: PLC0415
        from .roles import Role  # noqa: PLC0415

        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["join_mode"]).choices = JoinMode.choices
        cast(forms.ChoiceField, self.fields["default_role"]).choices = [
            (r.value, r.label) for r in Role if r != Role.OWNER
        ]
