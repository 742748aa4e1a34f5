"""Who acts, and in what capacity: the one typed value every service takes as ``actor``.

A service never trusts its caller to have checked the role: it asks ``authorize`` (or
``require_staff``, ``require_self``) itself, so a Celery task, the staff admin or an
API-key caller meets the same rules as a page. The capacities:

- ``member``: an active member of one workspace, acting in it with their role;
- ``user``: a signed-in person acting for themselves (accepting an invitation, creating a
  workspace, leaving one), with no role anywhere;
- ``staff``: the platform's staff, in the Django admin, on any workspace;
- ``system``: the console itself (periodic tasks, the gateway's reports).

Access decisions fail closed: a member of another workspace, a deactivated membership, a
user who is not staff any more all get ``NotAllowed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.errors import NotAllowed

from .models import Membership, MemberStatus, User
from .roles import Perm, Role, has_perm

NOT_ALLOWED = "You are not allowed to make this change in this workspace."
STAFF_ONLY = "Only the platform's staff may do this."
SYSTEM_NOT_ALLOWED = "This change needs a person to make it."


class ActorKind(StrEnum):
    MEMBER = "member"
    USER = "user"
    STAFF = "staff"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    user: User | None = None
    membership: Membership | None = None

    @classmethod
    def member(cls, membership: Membership) -> Actor:
        return cls(ActorKind.MEMBER, user=membership.user, membership=membership)

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(ActorKind.USER, user=user)

    @classmethod
    def staff(cls, user: User) -> Actor:
        return cls(ActorKind.STAFF, user=user)

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM)

    @property
    def audit_user(self) -> User | None:
        """The user the audit log names (None for the system)."""
        return self.user

    @property
    def is_staff(self) -> bool:
        user = self.user
        return (
            self.kind is ActorKind.STAFF and user is not None and user.is_staff and user.is_active
        )

    def is_membership(self, membership: Membership) -> bool:
        """Whether ``membership`` is the actor's own (a member cannot manage themselves)."""
        return self.membership is not None and self.membership.pk == membership.pk


def authorize(
    actor: Actor,
    workspace_id: int,
    perm: Perm,
    *,
    staff: bool = True,
    system: bool = False,
) -> int:
    """Refuse unless ``actor`` may act with ``perm`` in the workspace; answer the role it
    acts with. Staff (when ``staff``) and the system (when ``system``) act as owners."""
    if actor.kind is ActorKind.SYSTEM:
        if not system:
            raise NotAllowed(SYSTEM_NOT_ALLOWED)
        return Role.OWNER
    if actor.kind is ActorKind.STAFF:
        if not (staff and actor.is_staff):
            raise NotAllowed(STAFF_ONLY if not actor.is_staff else NOT_ALLOWED)
        return Role.OWNER
    m = actor.membership
    if actor.kind is not ActorKind.MEMBER or m is None:
        raise NotAllowed(NOT_ALLOWED)
    if m.workspace_id != workspace_id:
        raise NotAllowed(NOT_ALLOWED)
    if m.status != MemberStatus.ACTIVE:
        raise NotAllowed(NOT_ALLOWED)
    if actor.user is None or m.user_id != actor.user.pk:
        raise NotAllowed(NOT_ALLOWED)
    if not has_perm(m.role, perm):
        raise NotAllowed(NOT_ALLOWED)
    return m.role


def require_staff(actor: Actor) -> User:
    if not actor.is_staff or actor.user is None:
        raise NotAllowed(STAFF_ONLY)
    return actor.user


def require_person(actor: Actor) -> User:
    """The person behind a member, user or staff actor (never the system)."""
    if actor.kind is ActorKind.SYSTEM or actor.user is None:
        raise NotAllowed(SYSTEM_NOT_ALLOWED)
    if actor.kind is ActorKind.STAFF and not actor.is_staff:
        raise NotAllowed(STAFF_ONLY)
    return actor.user


def require_self(actor: Actor, user: User) -> User:
    """Refuse unless the actor is ``user`` acting for themselves (as a user or member)."""
    if actor.kind not in (ActorKind.USER, ActorKind.MEMBER) or actor.user is None:
        raise NotAllowed(NOT_ALLOWED)
    if actor.user.pk != user.pk:
        raise NotAllowed(NOT_ALLOWED)
    return actor.user
