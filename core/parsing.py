"""Parsing input that Python or the database cannot hold, for every app: ids past the
database's integer, dates whose UTC day overflows, text with NUL or unpaired surrogates,
JSON numbers with thousands of digits. Each helper turns such input into the error its
caller already answers (a form's field error, a path's 404, an API's 400) before any query
runs, so none of it ends in a 500.

- ``DB_ID_MAX``, ``parse_id``: ids of rows (``BigAutoField``: a signed 64-bit integer).
- ``IdConverter`` (``<id:name>`` in URL patterns, see ``core.converters``).
- Form fields: ``IdField``, ``ModelChoiceIdField``, ``ModelMultipleChoiceIdField``,
  ``DateField``, ``DateTimeField``.
- ``is_storable_text``, ``to_utc``, ``loads_json`` (with ``JsonRejected``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

# The largest value of PostgreSQL's bigint and of SQLite's INTEGER, the type of every id.
DB_ID_MAX = 2**63 - 1
DB_INT_MIN = -(2**63)
_ID_DIGITS = len(str(DB_ID_MAX))  # 19

# Days whose whole UTC day, and the day on either side, exist in any time zone: queries
# bound a day by the next day's midnight, and an offset moves a time by up to a day.
DATE_MIN = date(1, 1, 2)
DATE_MAX = date(9999, 12, 30)

DATE_OUT_OF_RANGE = "Enter a date from 0001-01-02 to 9999-12-30."
DATETIME_OUT_OF_RANGE = "Enter a date and time between the years 0001 and 9999 in UTC."
JSON_NUMBER_OUT_OF_RANGE = (
    f"A number in the body is out of range: integers must lie between {DB_INT_MIN} "
    f"and {DB_ID_MAX}, and numbers must be finite."
)
JSON_CONSTANT = "{name} is not a JSON number."
JSON_TEXT_NOT_STORABLE = (
    "A string in the body contains a NUL character (\\u0000) or an unpaired surrogate "
    "(\\ud800 to \\udfff), which cannot be stored."
)

# NUL, which PostgreSQL refuses in text, and the surrogate code points, which UTF-8 cannot
# encode on their own (JSON's "\ud800" escapes and nothing else produce them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


# --- Ids -------------------------------------------------------------------------------


def parse_id(value: object) -> int | None:
    """The id that ``value`` names (a positive int, or its ASCII digits), or None when no row
    can have it. The length is checked before ``int()``, which refuses 4,300 digits and more
    with a ValueError of its own."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= DB_ID_MAX else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > _ID_DIGITS:
        return None
    number = int(value)
    return number if 0 < number <= DB_ID_MAX else None


class IdConverter:
    """A URL path segment naming a row by id: digits that fit the database's integer. A
    longer number does not match the pattern, so the URL answers 404 as for a missing row."""

    regex = f"[0-9]{{1,{_ID_DIGITS}}}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= DB_ID_MAX:
            raise ValueError("id out of range")  # the resolver tries the next pattern
        return number

    def to_url(self, value: int | str) -> str:
        return str(int(value))


class IdField(forms.IntegerField):
    """An id typed or posted as a number: bounded to the ids a row can have."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", DB_ID_MAX)
        super().__init__(**kwargs)


class _IdChoiceMixin:
    """For ``ModelChoiceField`` and ``ModelMultipleChoiceField`` over rows chosen by primary
    key: a value that is no possible id is an invalid choice before any query. Django bounds
    the single lookup but not the ``IN`` of a multiple choice, which SQLite refuses with
    OverflowError."""

    error_messages: dict[str, str]
    to_field_name: str | None

    def clean(self, value: Any) -> Any:
        if self.to_field_name is None:
            values = value if isinstance(value, list | tuple) else [value]
            for one in values:
                # Posted values are strings; a disabled field cleans its initial rows instead.
                if not isinstance(one, str | int) or one in self.empty_values:  # type: ignore[attr-defined]
                    continue
                if parse_id(one) is None:
                    raise ValidationError(
                        self.error_messages["invalid_choice"],
                        code="invalid_choice",
                        params={"value": str(one)[:40]},
                    )
        return super().clean(value)  # type: ignore[misc]


class ModelChoiceIdField(_IdChoiceMixin, forms.ModelChoiceField):  # type: ignore[type-arg, misc]
    pass


class ModelMultipleChoiceIdField(_IdChoiceMixin, forms.ModelMultipleChoiceField):  # type: ignore[type-arg, misc]
    pass


# --- Dates and times -------------------------------------------------------------------


class DateField(forms.DateField):
    """A day within ``DATE_MIN`` and ``DATE_MAX``: the range the console can turn into UTC
    bounds (the day's midnight, the next day's) without overflowing."""

    def validate(self, value: date | None) -> None:
        super().validate(value)
        if value is not None and not DATE_MIN <= value <= DATE_MAX:
            raise ValidationError(DATE_OUT_OF_RANGE, code="date_out_of_range")


def to_utc(value: datetime) -> datetime | None:
    """``value`` (aware) in UTC, or None when UTC has no such time: 9999-12-31T23:59-05:00
    is in the year 10000 in UTC, and 0001-01-01T00:00+05:00 before the year 1."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return None


class DateTimeField(forms.DateTimeField):
    """An aware time, returned in UTC; a time that has no UTC equivalent is a field error."""

    def to_python(self, value: Any) -> datetime | None:
        result = super().to_python(value)
        if result is None or result.tzinfo is None:
            return result
        utc = to_utc(result)
        if utc is None:
            raise ValidationError(DATETIME_OUT_OF_RANGE, code="datetime_out_of_range")
        return utc


# --- Text and JSON ---------------------------------------------------------------------


def is_storable_text(value: str) -> bool:
    """Whether the database can store ``value``: no NUL character, no unpaired surrogate."""
    return _UNSTORABLE.search(value) is None


class JsonRejected(ValueError):
    """JSON that parses but holds what the console cannot take. ``malformed`` is true for
    Python's extensions to JSON (NaN, Infinity), which no JSON encoder writes."""

    def __init__(self, message: str, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.malformed = malformed


def _parse_int(text: str) -> int:
    # Checked before int(): 4,300 digits and more raise a ValueError from Python itself.
    if len(text.lstrip("-")) > _ID_DIGITS:
        raise JsonRejected(JSON_NUMBER_OUT_OF_RANGE)
    number = int(text)
    if not DB_INT_MIN <= number <= DB_ID_MAX:
        raise JsonRejected(JSON_NUMBER_OUT_OF_RANGE)
    return number


def _parse_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999
        raise JsonRejected(JSON_NUMBER_OUT_OF_RANGE)
    return number


def _parse_constant(name: str) -> float:
    raise JsonRejected(JSON_CONSTANT.format(name=name), malformed=True)


def _strings(data: Any) -> Iterable[str]:
    # Iterative: json.loads accepts nesting deeper than Python's recursion limit.
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def loads_json(raw: str | bytes) -> Any:
    """``json.loads`` that refuses what the console cannot hold, with ``JsonRejected``:
    integers outside the database's 64-bit range (or with thousands of digits), infinite
    numbers, NaN and Infinity, and strings with NUL or unpaired surrogates, keys included.
    Malformed JSON raises ``json.JSONDecodeError`` as usual."""
    data = json.loads(
        raw, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
    )
    if any(not is_storable_text(s) for s in _strings(data)):
        raise JsonRejected(JSON_TEXT_NOT_STORABLE)
    return data
