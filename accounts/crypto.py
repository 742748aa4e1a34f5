"""Encryption of secrets kept in the database (TOTP seeds). The key comes from
FIELD_ENCRYPTION_KEY, or is derived from SECRET_KEY when that is not set."""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

PREFIX = "fernet:"


@cache
def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(("console.field-encryption:" + key_material).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _key() -> Fernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY)


def encrypt(text: str) -> str:
    return PREFIX + _key().encrypt(text.encode()).decode()


def decrypt(value: str) -> str:
    if not value.startswith(PREFIX):
        raise ValueError("The stored secret is not encrypted.")
    try:
        return _key().decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("The stored secret cannot be decrypted with the current key.") from exc
