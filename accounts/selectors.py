"""Reads of accounts shared by pages (R-WS-5, R-WS-7). Each returns a queryset whose
related rows are fetched in a fixed number of queries, so a page costs the same at 5
members as at 10,000."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from core.parsing import is_storable_text

from .models import (
    Domain,
    Group,
    Invitation,
    InvitationStatus,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    MemberStatus,
    Workspace,
)

# Newest first, with the id as tie-breaker so pages never overlap or skip rows. The
# (workspace, joined_at) index serves this order without sorting the whole workspace.
MEMBER_ORDER = ("-joined_at", "-id")
MEMBER_SEARCH_MAX = 100


def _with_groups(qs: QuerySet[Membership]) -> QuerySet[Membership]:
    # One extra query for all the groups of a page, whatever the page size.
    return qs.select_related("user").prefetch_related(
        Prefetch(
            "groups", queryset=Group.objects.only("id", "name", "workspace_id").order_by("name")
        )
    )


def member_list(
    workspace: Workspace,
    q: str = "",
    role: int | None = None,
    group_id: int | None = None,
    status: str = "",
) -> QuerySet[Membership]:
    """Members of ``workspace`` matching the filters. Every filter is optional; an empty
    value means "any". ``group_id`` only ever matches groups of this workspace, because
    the memberships themselves are limited to it."""
    qs = Membership.objects.filter(workspace=workspace)
    q = q.strip()[:MEMBER_SEARCH_MAX]
    if q:
        qs = qs.filter(Q(user__email__icontains=q) | Q(user__name__icontains=q))
    if role is not None:
        qs = qs.filter(role=role)
    if status:
        qs = qs.filter(status=status)
    if group_id is not None:
        qs = qs.filter(groups__id=group_id)
    return _with_groups(qs).order_by(*MEMBER_ORDER)


def member_row(workspace: Workspace, membership_id: int) -> Membership | None:
    """One member with what a row of the members table shows, or None once removed."""
    return _with_groups(Membership.objects.filter(workspace=workspace, pk=membership_id)).first()


def group_list(workspace: Workspace) -> QuerySet[Group]:
    """Groups of the workspace with their member count computed by the database."""
    return (
        Group.objects.filter(workspace=workspace)
        .annotate(member_count=Count("members"))
        .order_by("name", "id")
    )


def group_choices(workspace: Workspace) -> QuerySet[Group]:
    return Group.objects.filter(workspace=workspace).only("id", "name").order_by("name", "id")


def group_members(group: Group) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(workspace_id=group.workspace_id, groups=group)
        .select_related("user")
        .order_by(*MEMBER_ORDER)
    )


def group_member_candidates(group: Group, q: str, *, limit: int) -> list[Membership]:
    """Members of the group's workspace outside the group whose name or email contains
    ``q``: the choices of the group page's member picker. One query."""
    q = q.strip()[:MEMBER_SEARCH_MAX]
    if not q:
        return []
    return list(
        Membership.objects.filter(workspace_id=group.workspace_id)
        .filter(Q(user__email__icontains=q) | Q(user__name__icontains=q))
        .exclude(groups=group)
        .select_related("user")
        .order_by("user__name", "user__email", "id")[:limit]
    )


# --- Whom something can be shared with --------------------------------------------------

# A share dialog's targets as its forms send them: ``everyone``, ``group:<id>``, ``member:<id>``.
EVERYONE_TARGET = "everyone"


@dataclass(frozen=True)
class ShareCandidate:
    """One choice of a share dialog: the target, whom it names, and the role it holds now
    ("" for none)."""

    target: str
    label: str
    detail: str
    role: str = ""


@dataclass(frozen=True)
class ShareCandidates:
    """What a share dialog offers: ``offered`` whatever the search (the whole workspace,
    where a thing can be shared with it), then the matches of the search."""

    offered: tuple[ShareCandidate, ...]
    found: tuple[ShareCandidate, ...]

    @property
    def all(self) -> tuple[ShareCandidate, ...]:
        return (*self.offered, *self.found)


def share_candidates(
    workspace_id: int,
    q: str,
    *,
    limit: int,
    held: Callable[[], Mapping[str, str]],
    everyone: bool = False,
) -> ShareCandidates:
    """Whom a share dialog of the workspace offers (agents', libraries'): the whole
    workspace when ``everyone``, then the groups and the active members whose name (or
    email) contains ``q``, at most ``limit`` of each, by name and by email. ``held`` answers
    the roles held now by target; each app keeps its own grants, and it is asked only when
    there is a candidate. Two queries and those of ``held``; none for an empty search, or
    one the database cannot hold."""
    q = q.strip()[:MEMBER_SEARCH_MAX]
    found: list[ShareCandidate] = []
    if q and is_storable_text(q):
        groups = Group.objects.filter(workspace_id=workspace_id, name__icontains=q)
        found += [
            ShareCandidate(f"group:{g.pk}", g.name, "group")
            for g in groups.order_by("name", "id")[:limit]
        ]
        members = (
            Membership.objects.filter(workspace_id=workspace_id, status=MemberStatus.ACTIVE)
            .filter(Q(user__email__icontains=q) | Q(user__name__icontains=q))
            .select_related("user")
            .order_by("user__email", "id")[:limit]
        )
        found += [
            ShareCandidate(
                f"member:{m.pk}",
                m.user.email,
                f"member, {m.user.name}" if m.user.name else "member",
            )
            for m in members
        ]
    offered = (
        [ShareCandidate(EVERYONE_TARGET, "Everyone in the workspace", "every member")]
        if everyone
        else []
    )
    if not offered and not found:
        return ShareCandidates((), ())
    roles = held()
    return ShareCandidates(
        tuple(replace(c, role=roles.get(c.target, "")) for c in offered),
        tuple(replace(c, role=roles.get(c.target, "")) for c in found),
    )


def member_by_email(workspace: Workspace, email: str) -> Membership | None:
    return (
        Membership.objects.filter(workspace=workspace, user__email__iexact=email.strip())
        .select_related("user")
        .first()
    )


@dataclass(frozen=True)
class Seats:
    """The seats of a workspace: active members against the plan's limit (None: none)."""

    used: int
    limit: int | None

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    @property
    def full(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    @property
    def text(self) -> str:
        """E.g. "3 of 5 seats used, 2 left"."""
        if self.limit is None:
            return (
                f"{self.used} seat{'s' if self.used != 1 else ''} used; the plan has no seat limit"
            )
        used = f"{self.used} of {self.limit} seat{'s' if self.limit != 1 else ''} used"
        over = self.used - self.limit
        if over > 0:
            return f"{used}, {over} over the limit"
        return f"{used}, {self.left or 'none'} left"


def seats(workspace: Workspace) -> Seats:
    """The seats the join paths check: the workspace's limit, kept from its plan."""
    used = Membership.objects.filter(workspace=workspace, status=MemberStatus.ACTIVE).count()
    return Seats(used=used, limit=workspace.seat_limit)


def domains_of(workspace: Workspace) -> QuerySet[Domain]:
    return Domain.objects.filter(workspace=workspace).select_related("created_by").order_by("name")


def pending_join_requests(workspace: Workspace) -> QuerySet[JoinRequest]:
    return (
        JoinRequest.objects.filter(workspace=workspace, status=JoinRequestStatus.PENDING)
        .select_related("user", "domain")
        .order_by("created_at", "id")
    )


def invitations_for(workspace: Workspace, status: str) -> QuerySet[Invitation]:
    """One tab of the list. A pending invitation past its date counts as expired at once,
    before the periodic task marks it so."""
    now = timezone.now()
    qs = Invitation.objects.filter(workspace=workspace)
    if status == "expired":
        qs = qs.filter(
            Q(status=InvitationStatus.EXPIRED)
            | Q(status=InvitationStatus.PENDING, expires_at__lte=now)
        )
    elif status == "pending":
        qs = qs.filter(status=InvitationStatus.PENDING, expires_at__gt=now)
    elif status != "all":
        qs = qs.filter(status=status)
    return (
        qs.select_related("invited_by", "accepted_by")
        .prefetch_related("groups")
        .order_by("-created_at", "-id")
    )
