"""Members: roles, deactivation, removal, leaving, and joining by any path (one seat check
and one lock order for all of them)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from core import snapshots
from core.audit import record
from core.errors import DomainError
from core.requests import mark_decided

from .. import errors
from ..actor import Actor, authorize, require_self
from ..audit import Action
from ..models import (
    Group,
    Invitation,
    InvitationStatus,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    MemberStatus,
    User,
    Workspace,
)
from ..roles import Perm, Role, can_assign_role, can_manage_member

# --- Members ---------------------------------------------------------------------------


# Locks are taken in one order everywhere, so that two services never wait on each other:
# the workspace row first (``_lock_workspace``), then the invitation or join request, then
# memberships. Each lock names its own rows (``of=("self",)``): the rows joined for reading
# (the workspace, the user) stay unlocked.


def _lock_workspace(workspace_id: int) -> Workspace:
    """The workspace row, locked by every way of joining and by billing's plan change: the
    seat count and the membership it allows are decided by one holder at a time. NO KEY
    UPDATE lets rows that only point at the workspace (audit events) be written meanwhile."""
    return Workspace.objects.select_for_update(no_key=True).get(pk=workspace_id)


def _seat_left(ws: Workspace) -> bool:
    """Whether the plan allows one more active member; ``ws`` is locked by the caller."""
    if ws.seat_limit is None:
        return True
    active = Membership.objects.filter(workspace_id=ws.pk, status=MemberStatus.ACTIVE).count()
    return active < ws.seat_limit


def _ensure_seat_left(ws: Workspace) -> None:
    if not _seat_left(ws):
        raise DomainError(errors.no_seat_left(ws.seat_limit or 0))


def _lock_member(membership: Membership) -> Membership:
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "workspace")
        .get(pk=membership.pk)
    )


def _other_active_owners(membership: Membership) -> int:
    return (
        Membership.objects.filter(
            workspace_id=membership.workspace_id, role=Role.OWNER, status=MemberStatus.ACTIVE
        )
        .exclude(pk=membership.pk)
        .count()
    )


def _ensure_not_last_owner(membership: Membership) -> None:
    if membership.role == Role.OWNER and _other_active_owners(membership) == 0:
        raise DomainError(errors.LAST_OWNER)


def _lock_owners(workspace_id: int) -> None:
    # Serialize changes that could leave a workspace without an owner.
    list(
        Membership.objects.select_for_update(of=("self",))
        .filter(workspace_id=workspace_id, role=Role.OWNER)
        .order_by("pk")
    )


@transaction.atomic
def member_role_change(*, actor: Actor, membership: Membership, role: int) -> Membership:
    actor_role = authorize(actor, membership.workspace_id, Perm.MANAGE_MEMBERS)
    _lock_owners(membership.workspace_id)
    m = _lock_member(membership)
    if role not in Role.values:
        raise DomainError("Choose a valid role.", field="role")
    if m.role == role:
        return m
    if actor.is_membership(m):
        raise DomainError(errors.CANNOT_CHANGE_SELF, field="role")
    if not can_assign_role(actor_role, m.role, role):
        raise DomainError(errors.ROLE_NOT_ALLOWED, field="role")
    if m.role == Role.OWNER:
        _ensure_not_last_owner(m)
    before = {"role": m.role}
    m.role = role
    m.save(update_fields=["role"])
    record(
        actor=actor,
        workspace=m.workspace,
        action=Action.MEMBER_ROLE_CHANGED,
        target=m,
        target_repr=m.user.email,
        before=before,
        after={"role": m.role},
    )
    return m


def _check_can_manage(actor: Actor, actor_role: int, m: Membership) -> None:
    if actor.is_membership(m):
        raise DomainError(errors.CANNOT_CHANGE_SELF)
    if not can_manage_member(actor_role, m.role):
        raise DomainError(errors.ROLE_NOT_ALLOWED)


@transaction.atomic
def member_deactivate(*, actor: Actor, membership: Membership) -> Membership:
    actor_role = authorize(actor, membership.workspace_id, Perm.MANAGE_MEMBERS)
    _lock_owners(membership.workspace_id)
    m = _lock_member(membership)
    if m.status == MemberStatus.DEACTIVATED:
        return m
    _check_can_manage(actor, actor_role, m)
    _ensure_not_last_owner(m)
    m.status = MemberStatus.DEACTIVATED
    m.save(update_fields=["status"])
    record(
        actor=actor,
        workspace=m.workspace,
        action=Action.MEMBER_DEACTIVATED,
        target=m,
        target_repr=m.user.email,
        before={"status": "active"},
        after={"status": "deactivated"},
    )
    return m


@transaction.atomic
def member_reactivate(*, actor: Actor, membership: Membership) -> Membership:
    """An active member again, when the plan has a seat left: reactivating takes a seat
    like joining does, under the same lock."""
    actor_role = authorize(actor, membership.workspace_id, Perm.MANAGE_MEMBERS)
    ws = _lock_workspace(membership.workspace_id)
    m = _lock_member(membership)
    if m.status == MemberStatus.ACTIVE:
        return m
    _check_can_manage(actor, actor_role, m)
    _ensure_seat_left(ws)
    m.status = MemberStatus.ACTIVE
    m.save(update_fields=["status"])
    record(
        actor=actor,
        workspace=m.workspace,
        action=Action.MEMBER_REACTIVATED,
        target=m,
        target_repr=m.user.email,
        before={"status": "deactivated"},
        after={"status": "active"},
    )
    return m


@transaction.atomic
def member_remove(*, actor: Actor, membership: Membership) -> None:
    actor_role = authorize(actor, membership.workspace_id, Perm.MANAGE_MEMBERS)
    _lock_owners(membership.workspace_id)
    m = _lock_member(membership)
    _check_can_manage(actor, actor_role, m)
    _ensure_not_last_owner(m)
    record(
        actor=actor,
        workspace=m.workspace,
        action=Action.MEMBER_REMOVED,
        target=m,
        target_repr=m.user.email,
        before={"role": m.role, "status": m.status},
    )
    m.delete()


@transaction.atomic
def member_leave(*, actor: Actor, membership: Membership) -> None:
    require_self(actor, membership.user)
    _lock_owners(membership.workspace_id)
    m = _lock_member(membership)
    _ensure_not_last_owner(m)
    record(
        actor=actor,
        workspace=m.workspace,
        action=Action.MEMBER_LEFT,
        target=m,
        target_repr=m.user.email,
        before={"role": m.role},
    )
    m.delete()


def _join(
    *,
    actor: Actor,
    workspace: Workspace,
    user: User,
    role: int,
    via: str,
    groups: Iterable[Group] = (),
    invitation: Invitation | None = None,
) -> Membership:
    """Make ``user`` a member. Callers have checked the actor's right and locked the
    workspace row (``_lock_workspace``) before anything else. Joining is a change, so a
    suspended workspace gains nobody, and it takes a seat: a full workspace refuses.

    A user who is a member by one path has no use for the others: their pending
    invitations to the workspace (but ``invitation``, which its caller settles) are marked
    accepted and their pending join request approved, each audited."""
    invitations = _pending_invitations(workspace, user, exclude=invitation)
    requests = list(
        JoinRequest.objects.select_for_update(of=("self",)).filter(
            workspace_id=workspace.pk, user=user, status=JoinRequestStatus.PENDING
        )
    )
    membership = Membership.objects.filter(workspace_id=workspace.pk, user=user).first()
    if membership is None:
        if workspace.is_suspended:
            raise DomainError(errors.JOIN_SUSPENDED)
        _ensure_seat_left(workspace)
        membership = Membership.objects.create(workspace=workspace, user=user, role=role)
        group_list = list(groups)
        if group_list:
            membership.groups.add(*group_list)
            snapshots.moved(snapshots.decisions(workspace.pk))
        record(
            actor=actor.audit_user or user,
            workspace=workspace,
            action=Action.MEMBER_JOINED,
            target=membership,
            target_repr=user.email,
            after={"role": role, "via": via, "groups": [g.name for g in group_list]},
        )
    now = timezone.now()
    for inv in invitations:
        inv.status = InvitationStatus.ACCEPTED
        inv.accepted_at = now
        inv.accepted_by = user
        inv.save(update_fields=["status", "accepted_at", "accepted_by"])
        record(
            actor=actor.audit_user or user,
            workspace=workspace,
            action=Action.INVITATION_ACCEPTED,
            target=inv,
            target_repr=inv.email,
            after={"via": via},
        )
    for jr in requests:
        mark_decided(jr, to_status=JoinRequestStatus.APPROVED, by_user=actor.audit_user)
        record(
            actor=actor,
            workspace=workspace,
            action=Action.JOIN_APPROVED,
            target=jr,
            target_repr=user.email,
            after={"via": via},
        )
    return membership


def _close_members_join_requests(*, workspace: Workspace, user: User, via: str) -> None:
    """A member never has an open request to join: one left pending when they joined
    another way (an invitation) would be counted and offered for approval to the admins."""
    for jr in JoinRequest.objects.select_for_update().filter(
        workspace=workspace, user=user, status=JoinRequestStatus.PENDING
    ):
        mark_decided(jr, to_status=JoinRequestStatus.APPROVED, by_user=None)
        record(
            actor=None,
            workspace=workspace,
            action=Action.JOIN_CLOSED,
            target=jr,
            target_repr=user.email,
            after={"status": jr.status, "reason": f"member already ({via})"},
        )


def _pending_invitations(
    workspace: Workspace, user: User, *, exclude: Invitation | None
) -> list[Invitation]:
    """The pending invitations of ``workspace`` to an address ``user`` has verified,
    locked."""
    from allauth.account.models import EmailAddress  # noqa: PLC0415

    emails = {
        e.lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    }
    if not emails:
        return []
    qs = (
        Invitation.objects.select_for_update(of=("self",))
        .annotate(email_lower=Lower("email"))
        .filter(workspace_id=workspace.pk, status=InvitationStatus.PENDING, email_lower__in=emails)
        .order_by("pk")
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs)
