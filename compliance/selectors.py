"""Reads of compliance state that the feature decision and pages share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from accounts.models import Workspace

from .models import EditorialAuthorization, MediaStatusChange, RequestStatus


@dataclass(frozen=True)
class Exception_:
    """An approved editorial-use authorization in force."""

    id: int
    group_id: int | None  # None: the whole workspace
    ends_on: date


@dataclass(frozen=True)
class MediaState:
    is_media_customer: bool
    exceptions: tuple[Exception_, ...]

    def exception_for(self, group_ids: set[int] | frozenset[int]) -> Exception_ | None:
        """The exception that covers a member of ``group_ids``, if any (latest end first)."""
        for exc in sorted(self.exceptions, key=lambda e: e.ends_on, reverse=True):
            if exc.group_id is None or exc.group_id in group_ids:
                return exc
        return None


def is_media_customer(workspace: Workspace) -> bool:
    latest = (
        MediaStatusChange.objects.filter(workspace=workspace)
        .order_by("-created_at", "-id")
        .values_list("is_media_customer", flat=True)
        .first()
    )
    return bool(latest)


def active_exceptions(workspace: Workspace, today: date | None = None) -> tuple[Exception_, ...]:
    today = today or timezone.now().date()
    rows = EditorialAuthorization.objects.filter(
        workspace=workspace, status=RequestStatus.APPROVED, ends_on__gte=today
    ).values_list("id", "scope_group_id", "ends_on")
    # The filter on ends_on already leaves out requests without an end date.
    return tuple(
        Exception_(pk, group_id, ends_on) for pk, group_id, ends_on in rows if ends_on is not None
    )


def media_state(workspace: Workspace, today: date | None = None) -> MediaState:
    """One query for a workspace that is not a Media Customer; the exceptions in force are
    read (a second query) only for one that is."""
    if not is_media_customer(workspace):
        return MediaState(False, ())
    return MediaState(True, active_exceptions(workspace, today))
