from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django import forms
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest

from core import email as outbox

from . import crypto

EMAIL_MAX_LENGTH = 254
EMAIL_TOO_LONG = "An email address has at most 254 characters."
EMAIL_NOT_ASCII = "Use the address with plain Latin letters: lookalike letters from other scripts are not accepted."


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth ships no types
    """The console's account rules; the sign-up form itself is accounts.forms.SignupForm."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return True

    # --- Addresses (R-ACC-1) -------------------------------------------------------------
    def clean_email(self, email: str) -> str:
        """Sign-up and change of email both come through here."""
        email = super().clean_email(email)
        if len(email) > EMAIL_MAX_LENGTH:
            raise forms.ValidationError(EMAIL_TOO_LONG)
        if not email.isascii():
            # Lookalike letters from other scripts (Cyrillic "а" for Latin "a") would
            # make one address pass for another.
            raise forms.ValidationError(EMAIL_NOT_ASCII)
        return email

    # --- Emails (R-UI-2) -----------------------------------------------------------------
    # Every link in allauth's emails is absolute on SITE_URL (not on whatever host the
    # request came by), and each email has a text and an HTML part: allauth sends the
    # HTML part when templates/<prefix>_message.html exists.
    LINK_KEYS = ("activate_url", "password_reset_url", "signup_url")

    @staticmethod
    def site_url(url: str) -> str:
        parts = urlsplit(url)
        path = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
        return settings.SITE_URL + path

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Sent at once, as allauth expects, and recorded in the outbox like every other
        email of the console."""
        request = allauth_context.request
        ctx = {
            "request": request,
            "email": email,
            "current_site": get_current_site(request),
            **context,
            "site_url": settings.SITE_URL,
        }
        for key in self.LINK_KEYS:
            if ctx.get(key):
                ctx[key] = self.site_url(ctx[key])
        message = self.render_mail(template_prefix, email, ctx)
        outbox.send_recorded(message, template=template_prefix)

    # --- Invitations (R-WS-3, R-UI-2) ---------------------------------------------------
    # A signed-out visitor of an invitation link may sign up, then confirm the address
    # from the verification email, perhaps much later; ``next`` does not always survive
    # that road, so the link's token waits in the session and every redirect after
    # sign-in, sign-up or verification returns to the invitation while it is usable.
    INVITATION_SESSION_KEY = "pending_invitation"

    def stash_invitation(self, request: HttpRequest, token: str) -> None:
        request.session[self.INVITATION_SESSION_KEY] = token

    def unstash_invitation(self, request: HttpRequest) -> None:
        request.session.pop(self.INVITATION_SESSION_KEY, None)

    def pending_invitation_url(self, request: HttpRequest) -> str | None:
        from django.urls import reverse  # noqa: PLC0415

        from core.errors import DomainError  # noqa: PLC0415

        from .services import invitation_from_token  # noqa: PLC0415

        session = getattr(request, "session", None)
        token = session.get(self.INVITATION_SESSION_KEY) if session is not None else None
        if not token:
            return None
        try:
            invitation_from_token(token)
        except DomainError:
            self.unstash_invitation(request)
            return None
        return reverse("invitation_accept", args=[token])

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return self.pending_invitation_url(request) or super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        return self.pending_invitation_url(request) or super().get_signup_redirect_url(request)

    def get_email_verification_redirect_url(self, email_address: Any) -> str:
        url = None
        if self.request is not None and self.request.user.is_authenticated:
            url = self.pending_invitation_url(self.request)
        return url or super().get_email_verification_redirect_url(email_address)


class MFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]  # allauth ships no types
    """TOTP seeds are stored encrypted: allauth's default keeps them in clear."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)
