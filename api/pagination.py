"""The service API's keyset cursors: a position in a list ordered newest first by
(modified_at, id), handed to the caller as an opaque signed string.

Signed, so that a cursor the API did not write is refused as a whole rather than read as
some other position: the caller is told to pass ``next_cursor`` back unchanged, and a
tampered or truncated one answers 400 before any query runs. The signature is Django's
(``SECRET_KEY``, with ``SECRET_KEY_FALLBACKS`` during a rotation), salted for this use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core import signing

from core.parsing import parse_id

SALT = "api.documents.cursor"
# A signed cursor is about 70 characters; anything much longer was not written here.
MAX_LENGTH = 200
# What Signer.sign_object writes: URL-safe base64, its separator, the signature.
_SHAPE = re.compile(r"[A-Za-z0-9_\-:]+")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_MICROS = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_MAX_MICROS = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


class CursorInvalid(ValueError):
    """Not a cursor this API wrote."""


@dataclass(frozen=True)
class Cursor:
    """After the row (modified_at, id): the next page starts with the row just older."""

    modified_at: datetime
    id: int

    def encode(self) -> str:
        # Integer microseconds: a float timestamp would round some of them away.
        micros = (self.modified_at - _EPOCH) // timedelta(microseconds=1)
        return signing.Signer(salt=SALT).sign_object([micros, self.id])

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        if not 0 < len(raw) <= MAX_LENGTH or _SHAPE.fullmatch(raw) is None:
            raise CursorInvalid(raw)
        try:
            value = signing.Signer(salt=SALT).unsign_object(raw)
        except (signing.BadSignature, ValueError) as exc:
            raise CursorInvalid(raw) from exc
        # Signed by this code, so well formed; checked anyway rather than trusted blindly.
        if not (isinstance(value, list) and len(value) == 2):
            raise CursorInvalid(raw)
        micros, pk = value
        if type(micros) is not int or not _MIN_MICROS <= micros <= _MAX_MICROS:
            raise CursorInvalid(raw)
        if type(pk) is not int or parse_id(pk) is None:
            raise CursorInvalid(raw)
        return cls(modified_at=_EPOCH + timedelta(microseconds=micros), id=pk)
