"""Keyset cursors handed to callers as opaque signed strings: a position (a sort key and
an id) signed with Django's signer (``SECRET_KEY``, with ``SECRET_KEY_FALLBACKS`` during a
rotation) under a salt of each use. A cursor this code did not write, or wrote for another
use, is refused as a whole rather than read as some other position, before any query."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.core import signing
from django.db import models
from django.db.models import F, Func, QuerySet, Value

from core.parsing import parse_id

# What Signer.sign_object writes: URL-safe base64, its separator, the signature.
_SHAPE = re.compile(r"[A-Za-z0-9_\-:]+")


class CursorInvalid(ValueError):
    """Not a cursor written here for this use."""


def sign(salt: str, key: object, pk: int) -> str:
    return signing.Signer(salt=salt).sign_object([key, pk])


def unsign(raw: str, *, salt: str, max_length: int) -> tuple[object, int]:
    """The (key, id) of a cursor signed with ``salt``; the key is the caller's to check.
    CursorInvalid for anything else: too long, of the wrong shape, badly signed, not a
    pair, or an id out of range."""
    if not 0 < len(raw) <= max_length or _SHAPE.fullmatch(raw) is None:
        raise CursorInvalid(raw)
    try:
        value = signing.Signer(salt=salt).unsign_object(raw)
    except (signing.BadSignature, ValueError) as exc:
        raise CursorInvalid(raw) from exc
    # Signed here, so well formed; checked anyway rather than trusted blindly.
    if not (isinstance(value, list) and len(value) == 2):
        raise CursorInvalid(raw)
    key, pk = value
    if type(pk) is not int or parse_id(pk) is None:
        raise CursorInvalid(raw)
    return key, pk


class _Row(Func):
    """A row of values, ``(a, b)``: SQL compares two rows column by column, in order."""

    function = ""
    output_field = models.Field()


def beyond[M: models.Model](
    qs: QuerySet[M], fields: Sequence[str], values: Sequence[Any], *, backwards: bool = False
) -> QuerySet[M]:
    """The rows after the position ``values`` in the ascending order of ``fields`` (before
    it, ``backwards``: the next page of a list ordered newest first), as one row
    comparison, ``(name, id) > (%s, %s)``. An index on those columns starts its scan
    there, and PostgreSQL plans the comparison once for every position, where the same
    bound spelt out as ``name > %s OR (name = %s AND id > %s)`` is planned anew for each
    (its estimate depends on the values)."""
    position = _Row(*(F(f) for f in fields))
    bound = _Row(*(_value(qs.model, f, v) for f, v in zip(fields, values, strict=True)))
    lookup = "lt" if backwards else "gt"
    aliased: QuerySet[M] = qs.alias(keyset_position=position)  # type: ignore[assignment]
    return aliased.filter(**{f"keyset_position__{lookup}": bound})


def _value(model: type[models.Model], field: str, value: Any) -> Value:
    # Integers and strings as they are (a typed field would wrap an integer for the
    # driver, which a compiled statement's marker would not survive); anything else as
    # its column stores it (a datetime is text on SQLite).
    if type(value) in (int, str):
        return Value(value, output_field=models.Field())
    column = model._meta.get_field(field)
    if not isinstance(column, models.Field):
        raise TypeError(f"{field} is not a column of {model.__name__}.")
    return Value(value, output_field=column)
