"""The audit log of accounts (R-WS-8): its actions, and the reads that the audit page, its
export and the bench share. Writing is ``core.audit.record``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import models

from core import cursors
from core.audit import Actions, record

from .models import AuditEvent, Workspace

__all__ = ["Action", "record"]


class Action(Actions):
    """The audit actions of accounts and workspaces."""

    WORKSPACE_CREATED = "workspace.created"
    WORKSPACE_UPDATED = "workspace.updated"
    WORKSPACE_SUSPENDED = "workspace.suspended"
    WORKSPACE_REACTIVATED = "workspace.reactivated"
    MEMBER_JOINED = "member.joined"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_DEACTIVATED = "member.deactivated"
    MEMBER_REACTIVATED = "member.reactivated"
    MEMBER_REMOVED = "member.removed"
    MEMBER_LEFT = "member.left"
    INVITATION_SENT = "invitation.sent"
    INVITATION_RESENT = "invitation.resent"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_EXPIRED = "invitation.expired"
    GROUP_CREATED = "group.created"
    GROUP_RENAMED = "group.renamed"
    GROUP_DELETED = "group.deleted"
    GROUP_MEMBER_ADDED = "group.member_added"
    GROUP_MEMBER_REMOVED = "group.member_removed"
    DOMAIN_CLAIMED = "domain.claimed"
    DOMAIN_VERIFIED = "domain.verified"
    DOMAIN_CHECK_FAILED = "domain.check_failed"
    DOMAIN_REMOVED = "domain.removed"
    JOIN_REQUESTED = "join_request.created"
    JOIN_APPROVED = "join_request.approved"
    JOIN_DECLINED = "join_request.declined"
    JOIN_CLOSED = "join_request.closed"


# --- Reading the log (selectors shared by the audit page, its export and the bench) ---


@dataclass(frozen=True)
class AuditFilters:
    """What the audit page filters on; every field optional."""

    action: str = ""
    actor: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class Cursor:
    """A position in the log, ordered newest first by (created_at, id). Keyset
    pagination from a cursor costs the same on page 1 and page 2,000, where OFFSET
    would scan every skipped row."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        # Integer arithmetic: a float timestamp would round some microseconds away.
        micros = (self.created_at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        match = _CURSOR_RE.fullmatch(raw)
        if match is None:
            raise ValueError("malformed cursor")
        micros, pk = int(match[1]), int(match[2])
        # Timestamps outside datetime's range would overflow; refuse them as malformed.
        if micros > _MAX_MICROS:
            raise ValueError("malformed cursor")
        created = _EPOCH + timedelta(microseconds=micros)
        return cls(created_at=created, id=pk)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR_RE = re.compile(r"(\d{1,17})\.(\d{1,18})")
_MAX_MICROS = (datetime(9999, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    # Cursors for the links; None when there is nothing further that way.
    older: Cursor | None
    newer: Cursor | None


def audit_events(*, workspace: Workspace, filters: AuditFilters) -> models.QuerySet[AuditEvent]:
    """The workspace's events matching ``filters``, newest first. Dates are UTC days and
    both ends are inclusive; the upper bound is the start of the next day so that the
    (workspace, -created_at) index serves the range."""
    qs = AuditEvent.objects.filter(workspace=workspace)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.actor:
        qs = qs.filter(actor_email__icontains=filters.actor)
    if filters.date_from:
        qs = qs.filter(created_at__gte=_utc_midnight(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_utc_midnight(filters.date_to) + timedelta(days=1))
    return qs.order_by("-created_at", "-id")


def audit_page(
    qs: models.QuerySet[AuditEvent],
    *,
    size: int,
    before: Cursor | None = None,
    after: Cursor | None = None,
) -> AuditPage:
    """One page of ``qs`` (ordered newest first) without counting the rows: one query of
    ``size + 1`` rows tells whether another page follows.

    ``before`` asks for the events older than the cursor (the "Older" link), ``after``
    for the events newer than it ("Newer"); the bound is one row comparison, where the
    index starts its scan (``cursors.beyond``).
    """
    if after is not None:
        newer_qs = cursors.beyond(qs, ("created_at", "id"), (after.created_at, after.id))
        rows = list(newer_qs.order_by("created_at", "id")[: size + 1])
        has_more_newer = len(rows) > size
        events = list(reversed(rows[:size]))
        newer = _cursor(events[0]) if has_more_newer and events else None
        older = _cursor(events[-1]) if events else None
        return AuditPage(events=events, older=older, newer=newer)
    if before is not None:
        qs = cursors.beyond(
            qs, ("created_at", "id"), (before.created_at, before.id), backwards=True
        )
    rows = list(qs[: size + 1])
    events = rows[:size]
    older = _cursor(events[-1]) if len(rows) > size else None
    newer = _cursor(events[0]) if before is not None and events else None
    return AuditPage(events=events, older=older, newer=newer)


def audit_changes(event: AuditEvent) -> list[tuple[str, str, str]]:
    """The event's before and after values as (key, before, after) rows, keys in the
    order they first appear, values as short text; "" where a side has no value."""
    keys = list(dict.fromkeys([*event.before, *event.after]))
    return [(k, _short(event.before.get(k)), _short(event.after.get(k))) for k in keys]


def _short(value: Any, limit: int = 80) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cursor(event: AuditEvent) -> Cursor:
    return Cursor(created_at=event.created_at, id=event.pk)


def _utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
