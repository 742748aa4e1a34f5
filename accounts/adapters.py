from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from . import crypto


class AccountAdapter(DefaultAccountAdapter):
    """The console's account rules; the sign-up form itself is accounts.forms.SignupForm."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return True


class MFAAdapter(DefaultMFAAdapter):
    """TOTP seeds are stored encrypted: allauth's default keeps them in clear."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)
