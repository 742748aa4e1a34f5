"""Parsing the service API's input: JSON bodies and path values, with one message per bad
field. Types are checked strictly: the gateway is a program, and a number where a string
belongs is a bug to report, not to guess around."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, QueryDict
from django.utils.dateparse import parse_datetime

from agents.selectors import Cursor as AgentCursor
from core import registry
from core.cursors import CursorInvalid
from core.parsing import JsonRejected, is_storable_text, loads_json, parse_id, to_utc

from . import errors
from .errors import ApiError
from .models import Outcome
from .pagination import Cursor

EVENT_ID_MAX = 100

MISSING = "This field is required."
EVENT_ID_INVALID = f"Give a string of 1 to {EVENT_ID_MAX} characters."
MEMBER_INVALID = "Give the member's user id (a number) or email address."
FEATURE_INVALID = "Give a feature key as a string."
OUTCOME_INVALID = "Give “used” or “attempted”."
OCCURRED_AT_INVALID = (
    "Give an ISO 8601 date and time with a time zone, e.g. “2026-11-25T09:30:00Z”."
)
OCCURRED_AT_NAIVE = "Give the time zone too, e.g. “2026-11-25T09:30:00Z” or “…+01:00”."
OCCURRED_AT_OUT_OF_RANGE = "Give a time between the years 0001 and 9999 in UTC."

# The retrieval filter and the list of a member's documents.
VISIBLE_IDS_MAX = 1000
LIMIT_DEFAULT = 25
LIMIT_MAX = 100
TITLE_QUERY_MAX = 200
DOCUMENT_IDS_NOT_A_LIST = "Give a list of document ids, e.g. [12, 31]."
DOCUMENT_IDS_TOO_MANY = (
    f"Give at most {VISIBLE_IDS_MAX:,} document ids at once; this list has {{count:,}}."
)
DOCUMENT_ID_INVALID = (
    "Give document ids as positive integers: item {index} (counting from 0) is not one."
)
LIMIT_INVALID = f"Give a whole number from 1 to {LIMIT_MAX}."
TITLE_QUERY_TOO_LONG = f"Give at most {TITLE_QUERY_MAX} characters."
TITLE_QUERY_NOT_STORABLE = (
    "The search contains a NUL character or an unpaired surrogate, which no title holds."
)
CURSOR_INVALID = (
    "This is not a cursor the API gave: pass “next_cursor” of the previous page unchanged, "
    "or no cursor for the first page."
)
# The list of a member's agents.
AGENT_LIMIT_DEFAULT = 50
AGENT_LIMIT_MAX = 200
AGENT_LIMIT_INVALID = f"Give a whole number from 1 to {AGENT_LIMIT_MAX}."


def unknown_feature_message(key: str) -> str:
    return errors.FEATURE_UNKNOWN.format(key=key, known=", ".join(registry.KEYS))


@dataclass(frozen=True)
class MemberRef:
    """A member named by user id or by email address (matched without regard to case)."""

    user_id: int | None = None
    email: str | None = None

    @classmethod
    def parse(cls, value: object) -> MemberRef | None:
        """None when ``value`` can name no member."""
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            user_id = parse_id(value)
            return cls(user_id=user_id) if user_id is not None else None
        if not isinstance(value, str):
            return None
        value = value.strip()
        if value.isascii() and value.isdigit():
            # A user id that no database column can hold is no user's id.
            user_id = parse_id(value)
            return cls(user_id=user_id) if user_id is not None else None
        try:
            validate_email(value)
        except ValidationError:
            return None
        return cls(email=value)


@dataclass(frozen=True)
class FeatureUse:
    event_id: str
    member: MemberRef
    raw_member: str
    feature: str
    occurred_at: datetime
    outcome: str


def json_body(request: HttpRequest) -> Any:
    """The parsed body, or ApiError 400. A body too large for DATA_UPLOAD_MAX_MEMORY_SIZE
    raises RequestDataTooBig, which ``service_endpoint`` answers."""
    raw = request.body
    try:
        return loads_json(raw)
    except JsonRejected as exc:
        code = errors.MALFORMED_JSON if exc.malformed else errors.INVALID_REQUEST
        raise ApiError(400, code, exc.message) from exc
    except json.JSONDecodeError as exc:
        detail = f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise ApiError(
            400, errors.MALFORMED_JSON, errors.JSON_MALFORMED.format(detail=detail)
        ) from exc
    except UnicodeDecodeError as exc:
        detail = "it is not encoded in UTF-8"
        raise ApiError(
            400, errors.MALFORMED_JSON, errors.JSON_MALFORMED.format(detail=detail)
        ) from exc
    except RecursionError as exc:
        detail = "it is nested too deeply"
        raise ApiError(
            400, errors.MALFORMED_JSON, errors.JSON_MALFORMED.format(detail=detail)
        ) from exc


def _occurred_at(value: object) -> datetime | str:
    """The aware UTC datetime, or the message for the field."""
    if not isinstance(value, str):
        return OCCURRED_AT_INVALID
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        return OCCURRED_AT_INVALID
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return OCCURRED_AT_NAIVE
    return to_utc(parsed) or OCCURRED_AT_OUT_OF_RANGE


def parse_feature_use(data: Any) -> FeatureUse:
    """The report of a feature use, or ApiError 400 naming every bad field."""
    if not isinstance(data, dict):
        raise ApiError(400, errors.INVALID_REQUEST, errors.BODY_NOT_OBJECT)
    bad: dict[str, str] = {}

    event_id = data.get("event_id")
    if "event_id" not in data:
        bad["event_id"] = MISSING
    elif (
        not isinstance(event_id, str)
        or not 1 <= len(event_id) <= EVENT_ID_MAX
        or not event_id.strip()
    ):
        bad["event_id"] = EVENT_ID_INVALID

    member = None
    if "member" not in data:
        bad["member"] = MISSING
    else:
        member = MemberRef.parse(data["member"])
        if member is None:
            bad["member"] = MEMBER_INVALID

    feature = data.get("feature")
    if "feature" not in data:
        bad["feature"] = MISSING
    elif not isinstance(feature, str):
        bad["feature"] = FEATURE_INVALID
    elif feature not in registry.BY_KEY:
        bad["feature"] = unknown_feature_message(feature)

    occurred_at: datetime | str = MISSING
    if "occurred_at" in data:
        occurred_at = _occurred_at(data["occurred_at"])
    if isinstance(occurred_at, str):
        bad["occurred_at"] = occurred_at

    outcome = data.get("outcome")
    if "outcome" not in data:
        bad["outcome"] = MISSING
    elif outcome not in Outcome.values:
        bad["outcome"] = OUTCOME_INVALID

    if bad:
        raise ApiError(400, errors.INVALID_REQUEST, errors.FIELDS_INVALID, fields=bad)
    assert member is not None and isinstance(occurred_at, datetime)
    return FeatureUse(
        event_id=event_id,  # type: ignore[arg-type]
        member=member,
        raw_member=str(data["member"]),
        feature=feature,  # type: ignore[arg-type]
        occurred_at=occurred_at,
        outcome=outcome,  # type: ignore[arg-type]
    )


def parse_document_ids(data: Any) -> list[int]:
    """The ids of ``{"document_ids": [...]}``, each once in the order first given, or
    ApiError 400. Ids are JSON integers (the JSON check has refused those past 64 bits);
    a string or a float is a caller's bug to report, not to guess around."""
    if not isinstance(data, dict):
        raise ApiError(400, errors.INVALID_REQUEST, errors.BODY_NOT_OBJECT)
    if "document_ids" not in data:
        bad = MISSING
    elif not isinstance(raw := data["document_ids"], list):
        bad = DOCUMENT_IDS_NOT_A_LIST
    elif len(raw) > VISIBLE_IDS_MAX:
        bad = DOCUMENT_IDS_TOO_MANY.format(count=len(raw))
    else:
        for index, value in enumerate(raw):
            if type(value) is not int or parse_id(value) is None:
                bad = DOCUMENT_ID_INVALID.format(index=index)
                break
        else:
            return list(dict.fromkeys(raw))
    raise ApiError(400, errors.INVALID_REQUEST, errors.FIELDS_INVALID, fields={"document_ids": bad})


@dataclass(frozen=True)
class DocumentQuery:
    q: str
    after: Cursor | None
    limit: int


def parse_document_query(params: QueryDict) -> DocumentQuery:
    """``?q=&cursor=&limit=`` of the document list, or ApiError 400 naming every bad
    parameter. An empty parameter is an absent one. Reading ``params`` may raise
    TooManyFieldsSent, which ``service_endpoint`` answers."""
    bad: dict[str, str] = {}

    q = params.get("q", "").strip()
    if len(q) > TITLE_QUERY_MAX:
        bad["q"] = TITLE_QUERY_TOO_LONG
    elif not is_storable_text(q):
        bad["q"] = TITLE_QUERY_NOT_STORABLE

    after = _cursor(params, Cursor.decode, bad)
    limit = _limit(params, LIMIT_DEFAULT, LIMIT_MAX)
    if limit is None:
        bad["limit"] = LIMIT_INVALID

    if bad or limit is None:
        raise ApiError(400, errors.INVALID_REQUEST, errors.FIELDS_INVALID, fields=bad)
    return DocumentQuery(q=q, after=after, limit=limit)


def _cursor[C](params: QueryDict, decode: Callable[[str], C], bad: dict[str, str]) -> C | None:
    """``?cursor=``: None when absent or empty; when not a cursor of this list, None and
    the error in ``bad``."""
    raw = params.get("cursor", "")
    if not raw:
        return None
    try:
        return decode(raw)
    except CursorInvalid:
        bad["cursor"] = CURSOR_INVALID
        return None


def _limit(params: QueryDict, default: int, most: int) -> int | None:
    """``?limit=``: ``default`` when absent or empty, None when not a whole number from 1 to
    ``most``."""
    raw = params.get("limit", "")
    if not raw:
        return default
    digits = raw.isascii() and raw.isdigit() and len(raw) <= 3
    limit = int(raw) if digits else 0
    return limit if 1 <= limit <= most else None


@dataclass(frozen=True)
class AgentQuery:
    after: AgentCursor | None
    limit: int


def parse_agent_query(params: QueryDict) -> AgentQuery:
    """``?cursor=&limit=`` of the list of a member's agents, or ApiError 400 naming every
    bad parameter. An empty parameter is an absent one."""
    bad: dict[str, str] = {}
    after = _cursor(params, AgentCursor.decode, bad)
    limit = _limit(params, AGENT_LIMIT_DEFAULT, AGENT_LIMIT_MAX)
    if limit is None:
        bad["limit"] = AGENT_LIMIT_INVALID
    if bad or limit is None:
        raise ApiError(400, errors.INVALID_REQUEST, errors.FIELDS_INVALID, fields=bad)
    return AgentQuery(after=after, limit=limit)


def member_param(params: QueryDict) -> str:
    """The ``?member=`` of a call about one member, or ApiError 400 when it is absent."""
    member = params.get("member", "")
    if not member:
        raise ApiError(
            400, errors.INVALID_REQUEST, errors.FIELDS_INVALID, fields={"member": MISSING}
        )
    return member
