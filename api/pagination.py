"""The service API's keyset cursors: a position in a list ordered newest first by
(modified_at, id), handed to the caller as an opaque signed string.

Signed, so that a cursor the API did not write is refused as a whole rather than read as
some other position: the caller is told to pass ``next_cursor`` back unchanged, and a
tampered or truncated one answers 400 before any query runs (``core.cursors``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core import cursors

SALT = "api.documents.cursor"
# A signed cursor is about 70 characters; anything much longer was not written here.
MAX_LENGTH = 200

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_MICROS = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_MAX_MICROS = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)

CursorInvalid = cursors.CursorInvalid


@dataclass(frozen=True)
class Cursor:
    """After the row (modified_at, id): the next page starts with the row just older."""

    modified_at: datetime
    id: int

    def encode(self) -> str:
        # Integer microseconds: a float timestamp would round some of them away.
        micros = (self.modified_at - _EPOCH) // timedelta(microseconds=1)
        return cursors.sign(SALT, micros, self.id)

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        micros, pk = cursors.unsign(raw, salt=SALT, max_length=MAX_LENGTH)
        if type(micros) is not int or not _MIN_MICROS <= micros <= _MAX_MICROS:
            raise CursorInvalid(raw)
        return cls(modified_at=_EPOCH + timedelta(microseconds=micros), id=pk)
