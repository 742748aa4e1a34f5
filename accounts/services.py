"""Every change of state of accounts and workspaces. Each service takes the acting user
first (``actor``, an ``accounts.actor.Actor``) and checks that actor's right to act itself,
runs in one transaction, writes its audit event and enqueues its
emails on commit. Errors a user can meet are ``DomainError`` with a message to show."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from core.audit import record
from core.errors import DomainError, NotAllowed
from core.transactions import on_commit_task

from . import errors
from .actor import NOT_ALLOWED, Actor, authorize, require_person, require_self
from .audit import Action
from .dns import ResolverError, get_resolver
from .freemail import is_free_mail
from .models import (
    Domain,
    Group,
    Invitation,
    InvitationStatus,
    JoinMode,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    MemberStatus,
    TermsAcceptance,
    User,
    Workspace,
)
from .roles import Perm, Role, can_assign_role, can_manage_member

INVITATION_SALT = "accounts.invitation"


# --- Terms -----------------------------------------------------------------------------


def terms_accept(*, user: User, version: str, ip: str | None) -> TermsAcceptance:
    acceptance, _ = TermsAcceptance.objects.get_or_create(
        user=user, version=version, defaults={"ip_address": ip}
    )
    return acceptance


# --- Workspaces ------------------------------------------------------------------------


@transaction.atomic
def workspace_create(*, actor: Actor, name: str, slug: str, owner: User | None = None) -> Workspace:
    """A new workspace with its first owner: the user who creates it, or for staff the
    ``owner`` they name."""
    person = require_person(actor)
    if actor.is_staff:
        if owner is None:
            raise DomainError(errors.OWNER_REQUIRED, field="owner")
    elif owner is not None and owner.pk != person.pk:
        raise NotAllowed(NOT_ALLOWED)
    owner = owner or person
    if Workspace.objects.filter(slug=slug).exists():
        raise DomainError(errors.SLUG_TAKEN, field="slug")
    workspace = Workspace(name=name.strip(), slug=slug, created_by=person)
    workspace.full_clean()
    try:
        with transaction.atomic():
            workspace.save()
    except IntegrityError as exc:
        raise DomainError(errors.SLUG_TAKEN, field="slug") from exc
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    record(
        actor=actor,
        workspace=workspace,
        action=Action.WORKSPACE_CREATED,
        target=workspace,
        after={"name": workspace.name, "slug": workspace.slug},
    )
    return workspace


@transaction.atomic
def workspace_update_join_settings(
    *, actor: Actor, workspace: Workspace, join_mode: str, default_role: int
) -> Workspace:
    authorize(actor, workspace.pk, Perm.MANAGE_DOMAINS)
    ws = Workspace.objects.select_for_update().get(pk=workspace.pk)
    before = {"join_mode": ws.join_mode, "default_role": ws.default_role}
    if default_role == Role.OWNER:
        raise DomainError("New members cannot join as owners.", field="default_role")
    if ws.join_mode == join_mode and ws.default_role == default_role:
        return ws
    ws.join_mode = JoinMode(join_mode)
    ws.default_role = default_role
    ws.save(update_fields=["join_mode", "default_role"])
    record(
        actor=actor,
        workspace=ws,
        action=Action.WORKSPACE_UPDATED,
        target=ws,
        before=before,
        after={"join_mode": ws.join_mode, "default_role": ws.default_role},
    )
    return ws


@transaction.atomic
def workspace_rename(*, actor: Actor, workspace: Workspace, name: str) -> Workspace:
    """Rename the workspace; only its active admins and owners (and staff) may. Its
    address (slug) stays, so links and bookmarks keep working."""
    try:
        authorize(actor, workspace.pk, Perm.MANAGE_SETTINGS)
    except NotAllowed:
        raise NotAllowed(errors.WORKSPACE_RENAME_NOT_ALLOWED) from None
    ws = Workspace.objects.select_for_update().get(pk=workspace.pk)
    name = " ".join(name.split())
    if not name:
        raise DomainError(errors.WORKSPACE_NAME_REQUIRED, field="name")
    if name == ws.name:
        return ws
    before = {"name": ws.name}
    ws.name = name
    try:
        ws.full_clean()
    except ValidationError as exc:
        messages = exc.message_dict.get("name") or exc.messages
        raise DomainError(" ".join(messages), field="name") from exc
    ws.save(update_fields=["name"])
    record(
        actor=actor,
        workspace=ws,
        action=Action.WORKSPACE_UPDATED,
        target=ws,
        before=before,
        after={"name": ws.name},
    )
    return ws


@transaction.atomic
def workspace_suspend(*, actor: Actor, workspace: Workspace, reason: str) -> Workspace:
    """Staff suspend a workspace; the system does for a compliance violation."""
    authorize(actor, workspace.pk, Perm.SUSPEND_WORKSPACE, system=True)
    ws = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if ws.suspended_at is not None:
        return ws
    ws.suspended_at = timezone.now()
    ws.suspension_reason = reason
    ws.save(update_fields=["suspended_at", "suspension_reason"])
    record(
        actor=actor,
        workspace=ws,
        action=Action.WORKSPACE_SUSPENDED,
        target=ws,
        after={"reason": reason},
    )
    return ws


@transaction.atomic
def workspace_reactivate(*, actor: Actor, workspace: Workspace) -> Workspace:
    authorize(actor, workspace.pk, Perm.SUSPEND_WORKSPACE, system=True)
    ws = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if ws.suspended_at is None:
        return ws
    before = {"reason": ws.suspension_reason}
    ws.suspended_at = None
    ws.suspension_reason = ""
    ws.save(update_fields=["suspended_at", "suspension_reason"])
    record(actor=actor, workspace=ws, action=Action.WORKSPACE_REACTIVATED, target=ws, before=before)
    return ws


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
        jr.status = JoinRequestStatus.APPROVED
        jr.decided_at = now
        jr.decided_by = actor.audit_user
        jr.save(update_fields=["status", "decided_at", "decided_by"])
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
        jr.status = JoinRequestStatus.APPROVED
        jr.decided_at = timezone.now()
        jr.save(update_fields=["status", "decided_at"])
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


# --- Invitations -----------------------------------------------------------------------

EMAIL_SPLIT = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class InviteResult:
    email: str
    ok: bool
    message: str
    invitation: Invitation | None = None


def parse_email_list(text: str) -> list[str]:
    """Split a pasted list (commas, semicolons, spaces or lines; 'Name <addr>' allowed)."""
    # The display name before <addr> (with spaces, or quoted with commas) is dropped.
    text = re.sub(r'(?m)(^|[,;])\s*(?:"[^"]*"|[^<>,;\n"@]*?)\s*<([^<>]+)>', r"\1 \2 ", text)
    seen: dict[str, None] = {}
    for part in EMAIL_SPLIT.split(text):
        part = part.strip().strip("<>").strip()
        if part:
            seen.setdefault(part.lower(), None)
    return list(seen)


def _invitation_expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS)


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(
        {"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT, compress=True
    )


def invitation_url(invitation: Invitation) -> str:
    from django.urls import reverse  # noqa: PLC0415

    return settings.SITE_URL + reverse("invitation_accept", args=[invitation_token(invitation)])


MAX_INVITES_AT_ONCE = 500


def invitation_create_many(
    *,
    actor: Actor,
    workspace: Workspace,
    emails: list[str],
    role: int,
    groups: Iterable[Group] = (),
) -> list[InviteResult]:
    """Invite each address on its own: a bad or duplicate address does not stop the rest."""
    actor_role = authorize(actor, workspace.pk, Perm.MANAGE_INVITATIONS)
    if not can_assign_role(actor_role, None, role):
        raise DomainError(errors.ROLE_NOT_ALLOWED, field="role")
    group_list = [g for g in groups if g.workspace_id == workspace.pk]
    results: list[InviteResult] = []
    members = set(
        Membership.objects.filter(workspace=workspace, user__email__in=emails).values_list(
            "user__email", flat=True
        )
    )
    for email in emails:
        try:
            validate_email(email)
            if len(email) > 254:
                raise ValidationError("too long")
            if not email.isascii():
                # Lookalike letters from other scripts would reach another mailbox.
                raise ValidationError("not ascii")
        except ValidationError:
            results.append(InviteResult(email, False, "Not a valid email address."))
            continue
        if email in members:
            results.append(InviteResult(email, False, errors.ALREADY_MEMBER))
            continue
        try:
            with transaction.atomic():
                inv = Invitation.objects.create(
                    workspace=workspace,
                    email=email,
                    role=role,
                    invited_by=actor.audit_user,
                    expires_at=_invitation_expiry(),
                )
                if group_list:
                    inv.groups.add(*group_list)
                record(
                    actor=actor,
                    workspace=workspace,
                    action=Action.INVITATION_SENT,
                    target=inv,
                    target_repr=email,
                    after={
                        "email": email,
                        "role": role,
                        "groups": [g.name for g in group_list],
                    },
                )
                on_commit_task("accounts.tasks.send_invitation_email", inv.pk)
        except IntegrityError:
            results.append(InviteResult(email, False, errors.ALREADY_INVITED))
            continue
        results.append(InviteResult(email, True, "Invitation sent.", inv))
    return results


def _lock_invitation(invitation: Invitation) -> Invitation:
    return (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("workspace")
        .get(pk=invitation.pk)
    )


@transaction.atomic
def invitation_resend(*, actor: Actor, invitation: Invitation) -> Invitation:
    authorize(actor, invitation.workspace_id, Perm.MANAGE_INVITATIONS)
    inv = _lock_invitation(invitation)
    if inv.status != InvitationStatus.PENDING:
        raise DomainError(errors.INVITATION_NOT_PENDING)
    inv.nonce = Invitation._meta.get_field("nonce").get_default()
    inv.sent_at = timezone.now()
    inv.expires_at = _invitation_expiry()
    inv.send_count += 1
    inv.save(update_fields=["nonce", "sent_at", "expires_at", "send_count"])
    record(
        actor=actor,
        workspace=inv.workspace,
        action=Action.INVITATION_RESENT,
        target=inv,
        target_repr=inv.email,
        after={"send_count": inv.send_count},
    )
    on_commit_task("accounts.tasks.send_invitation_email", inv.pk)
    return inv


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation: Invitation) -> Invitation:
    authorize(actor, invitation.workspace_id, Perm.MANAGE_INVITATIONS)
    inv = _lock_invitation(invitation)
    if inv.status != InvitationStatus.PENDING:
        raise DomainError(errors.INVITATION_NOT_PENDING)
    inv.status = InvitationStatus.REVOKED
    inv.save(update_fields=["status"])
    record(
        actor=actor,
        workspace=inv.workspace,
        action=Action.INVITATION_REVOKED,
        target=inv,
        target_repr=inv.email,
        before={"status": "pending"},
        after={"status": "revoked"},
    )
    return inv


def invitation_from_token(token: str) -> Invitation:
    """The invitation a link names, or a DomainError that says why the link is unusable."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT)
        pk, nonce = int(data["i"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise DomainError(errors.INVITATION_INVALID) from exc
    inv = Invitation.objects.select_related("workspace").filter(pk=pk).first()
    if inv is None:
        raise DomainError(errors.INVITATION_INVALID)
    if inv.nonce != nonce:
        # A resent invitation has a new nonce: the old link is dead.
        raise DomainError(
            errors.INVITATION_USED
            if inv.status == InvitationStatus.ACCEPTED
            else errors.INVITATION_INVALID
        )
    if inv.status == InvitationStatus.ACCEPTED:
        raise DomainError(errors.INVITATION_USED)
    if inv.status == InvitationStatus.REVOKED:
        raise DomainError(errors.INVITATION_REVOKED)
    if inv.status == InvitationStatus.EXPIRED or inv.is_expired:
        raise DomainError(errors.INVITATION_EXPIRED)
    return inv


def user_has_verified_email(user: User, email: str) -> bool:
    from allauth.account.models import EmailAddress  # noqa: PLC0415

    found: bool = EmailAddress.objects.filter(
        user=user, email__iexact=email, verified=True
    ).exists()
    return found


@transaction.atomic
def invitation_accept(*, actor: Actor, invitation: Invitation) -> Membership:
    """Join the workspace by ``invitation`` (when not a member already; either way the
    invitation is used). Refused when the workspace has no seat left."""
    user = require_person(actor)
    ws = _lock_workspace(invitation.workspace_id)
    inv = _lock_invitation(invitation)
    # Re-check under the lock: a concurrent accept or revoke wins once.
    if inv.status == InvitationStatus.ACCEPTED:
        if inv.accepted_by_id == user.pk:
            # The same person again (a double submit, or joined by their domain meanwhile,
            # which used the invitation): they are where the link leads.
            membership = Membership.objects.filter(workspace_id=ws.pk, user=user).first()
            if membership is not None:
                return membership
        raise DomainError(errors.INVITATION_USED)
    if inv.status == InvitationStatus.REVOKED:
        raise DomainError(errors.INVITATION_REVOKED)
    if inv.status == InvitationStatus.EXPIRED or inv.is_expired:
        raise DomainError(errors.INVITATION_EXPIRED)
    if not user_has_verified_email(user, inv.email):
        raise DomainError(errors.INVITATION_WRONG_USER.format(email=inv.email))
    membership = _join(
        actor=actor,
        workspace=ws,
        user=user,
        role=inv.role,
        via="invitation",
        groups=inv.groups.all(),
        invitation=inv,
    )
    inv.status = InvitationStatus.ACCEPTED
    inv.accepted_at = timezone.now()
    inv.accepted_by = user
    inv.save(update_fields=["status", "accepted_at", "accepted_by"])
    record(
        actor=user,
        workspace=inv.workspace,
        action=Action.INVITATION_ACCEPTED,
        target=inv,
        target_repr=inv.email,
    )
    return membership


def invitations_expire(*, now: datetime | None = None) -> int:
    """Mark pending invitations past their date as expired (run by Celery beat)."""
    now = now or timezone.now()
    count = 0
    for inv in Invitation.objects.filter(
        status=InvitationStatus.PENDING, expires_at__lte=now
    ).select_related("workspace")[:1000]:
        with transaction.atomic():
            locked = _lock_invitation(inv)
            if locked.status != InvitationStatus.PENDING:
                continue
            locked.status = InvitationStatus.EXPIRED
            locked.save(update_fields=["status"])
            record(
                actor=None,
                workspace=locked.workspace,
                action=Action.INVITATION_EXPIRED,
                target=locked,
                target_repr=locked.email,
            )
            count += 1
    return count


# --- Groups ----------------------------------------------------------------------------


@transaction.atomic
def group_create(*, actor: Actor, workspace: Workspace, name: str) -> Group:
    authorize(actor, workspace.pk, Perm.MANAGE_GROUPS)
    name = name.strip()
    if Group.objects.filter(workspace=workspace, name__iexact=name).exists():
        raise DomainError(errors.GROUP_EXISTS, field="name")
    group = Group(workspace=workspace, name=name)
    group.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError as exc:
        raise DomainError(errors.GROUP_EXISTS, field="name") from exc
    record(
        actor=actor,
        workspace=workspace,
        action=Action.GROUP_CREATED,
        target=group,
        after={"name": name},
    )
    return group


def _lock_group(group: Group) -> Group:
    return (
        Group.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=group.pk)
    )


@transaction.atomic
def group_rename(*, actor: Actor, group: Group, name: str) -> Group:
    authorize(actor, group.workspace_id, Perm.MANAGE_GROUPS)
    g = _lock_group(group)
    name = name.strip()
    if g.name == name:
        return g
    if (
        Group.objects.filter(workspace_id=g.workspace_id, name__iexact=name)
        .exclude(pk=g.pk)
        .exists()
    ):
        raise DomainError(errors.GROUP_EXISTS, field="name")
    before = {"name": g.name}
    g.name = name
    g.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            g.save(update_fields=["name"])
    except IntegrityError as exc:
        # Another group took the name since the check.
        raise DomainError(errors.GROUP_EXISTS, field="name") from exc
    record(
        actor=actor,
        workspace=g.workspace,
        action=Action.GROUP_RENAMED,
        target=g,
        before=before,
        after={"name": name},
    )
    return g


@transaction.atomic
def group_delete(*, actor: Actor, group: Group) -> None:
    authorize(actor, group.workspace_id, Perm.MANAGE_GROUPS)
    g = _lock_group(group)
    record(
        actor=actor,
        workspace=g.workspace,
        action=Action.GROUP_DELETED,
        target=g,
        before={"name": g.name, "members": g.members.count()},
    )
    g.delete()


@transaction.atomic
def group_member_add(*, actor: Actor, group: Group, membership: Membership) -> None:
    """Add ``membership`` to ``group``; adding a member already in it changes nothing and
    writes nothing. The group's row lock makes the check and the write one step, so two
    requests at once add (and audit) once."""
    authorize(actor, group.workspace_id, Perm.MANAGE_GROUPS)
    if membership.workspace_id != group.workspace_id:
        raise DomainError(errors.NOT_A_MEMBER_OF_GROUP_WORKSPACE)
    g = _lock_group(group)
    if g.members.filter(pk=membership.pk).exists():
        return
    g.members.add(membership)
    record(
        actor=actor,
        workspace=g.workspace,
        action=Action.GROUP_MEMBER_ADDED,
        target=group,
        after={"member": membership.user.email},
    )


@transaction.atomic
def group_member_remove(*, actor: Actor, group: Group, membership: Membership) -> None:
    """Take ``membership`` out of ``group``, once: under the group's row lock, like adding."""
    authorize(actor, group.workspace_id, Perm.MANAGE_GROUPS)
    g = _lock_group(group)
    if not g.members.filter(pk=membership.pk).exists():
        return
    g.members.remove(membership)
    record(
        actor=actor,
        workspace=g.workspace,
        action=Action.GROUP_MEMBER_REMOVED,
        target=group,
        before={"member": membership.user.email},
    )


# --- Domains ---------------------------------------------------------------------------

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?!-)([a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$")


def normalize_domain(raw: str) -> str:
    value = raw.strip().lower().rstrip(".")
    if value.startswith("@"):
        value = value[1:]
    try:
        ascii_value = value.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise DomainError("Enter a domain name such as example.org.", field="name") from exc
    if not DOMAIN_RE.match(ascii_value):
        raise DomainError("Enter a domain name such as example.org.", field="name")
    return ascii_value


@transaction.atomic
def domain_claim(*, actor: Actor, workspace: Workspace, name: str) -> Domain:
    authorize(actor, workspace.pk, Perm.MANAGE_DOMAINS)
    domain_name = normalize_domain(name)
    if is_free_mail(domain_name):
        raise DomainError(errors.FREE_MAIL_DOMAIN, field="name")
    if (
        Domain.objects.filter(name__iexact=domain_name, verified_at__isnull=False)
        .exclude(workspace=workspace)
        .exists()
    ):
        raise DomainError(errors.DOMAIN_TAKEN, field="name")
    if Domain.objects.filter(workspace=workspace, name__iexact=domain_name).exists():
        raise DomainError(errors.DOMAIN_ALREADY_CLAIMED, field="name")
    try:
        with transaction.atomic():
            domain = Domain.objects.create(
                workspace=workspace, name=domain_name, created_by=actor.audit_user
            )
    except IntegrityError as exc:
        # The same claim submitted twice at once: the second meets the constraint.
        raise DomainError(errors.DOMAIN_ALREADY_CLAIMED, field="name") from exc
    record(
        actor=actor,
        workspace=workspace,
        action=Action.DOMAIN_CLAIMED,
        target=domain,
        after={"name": domain_name},
    )
    return domain


def _lock_domain(domain: Domain) -> Domain:
    return (
        Domain.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=domain.pk)
    )


def domain_check(*, actor: Actor, domain: Domain) -> Domain:
    """Look for the TXT record and verify the domain if it is there. The DNS lookup runs
    outside the transaction; the verification itself is atomic."""
    authorize(actor, domain.workspace_id, Perm.MANAGE_DOMAINS, system=True)
    if domain.is_verified:
        return domain
    error = ""
    try:
        records = get_resolver().txt_records(domain.name)
        found = domain.txt_value in (r.strip() for r in records)
        if not found:
            error = f"No TXT record {domain.txt_value!r} found on {domain.name} yet."
    except ResolverError as exc:
        found, error = False, str(exc)
    with transaction.atomic():
        d = _lock_domain(domain)
        if d.is_verified:
            return d
        d.last_checked_at = timezone.now()
        if found:
            if (
                Domain.objects.filter(name__iexact=d.name, verified_at__isnull=False)
                .exclude(pk=d.pk)
                .exists()
            ):
                d.last_error = errors.DOMAIN_TAKEN
                d.save(update_fields=["last_checked_at", "last_error"])
                return d
            d.verified_at = d.last_checked_at
            d.last_error = ""
            try:
                with transaction.atomic():
                    d.save(update_fields=["verified_at", "last_checked_at", "last_error"])
            except IntegrityError:
                # Another workspace verified the same name at the same moment and won.
                d.verified_at = None
                d.last_error = errors.DOMAIN_TAKEN
                d.save(update_fields=["last_checked_at", "last_error"])
                return d
            record(
                actor=actor,
                workspace=d.workspace,
                action=Action.DOMAIN_VERIFIED,
                target=d,
                after={"name": d.name},
            )
        else:
            d.last_error = error[:300]
            d.save(update_fields=["last_checked_at", "last_error"])
        return d


@transaction.atomic
def domain_remove(*, actor: Actor, domain: Domain) -> None:
    authorize(actor, domain.workspace_id, Perm.MANAGE_DOMAINS)
    d = _lock_domain(domain)
    record(
        actor=actor,
        workspace=d.workspace,
        action=Action.DOMAIN_REMOVED,
        target=d,
        before={"name": d.name, "verified": d.is_verified},
    )
    d.delete()


def domain_autojoin(*, user: User) -> list[Membership | JoinRequest]:
    """Join (or ask to join) every workspace that verified the domain of one of the
    user's verified email addresses (R-WS-4). Safe to call again: nothing happens twice.
    The console acts here (on the user's confirmed address), so the actor is the system;
    a suspended workspace gains nobody.

    A workspace that joins automatically but has no seat left is not skipped silently:
    the user gets a pending join request instead, which its admins see and can approve
    once a seat is free (approving checks the seat again). Like any join request, a user
    once declined is not asked again. Signing in never fails because a workspace is full."""
    from allauth.account.models import EmailAddress  # noqa: PLC0415

    domains = {
        e.split("@", 1)[1].lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
        if "@" in e
    }
    if not domains:
        return []
    outcomes: list[Membership | JoinRequest] = []
    matches = Domain.objects.filter(name__in=domains, verified_at__isnull=False).order_by(
        "workspace_id"
    )
    for domain in matches:
        with transaction.atomic():
            ws = _lock_workspace(domain.workspace_id)
            if ws.is_suspended:
                continue
            if Membership.objects.filter(workspace=ws, user=user).exists():
                _close_members_join_requests(workspace=ws, user=user, via="member before")
                continue
            full = not _seat_left(ws)
            if ws.join_mode == JoinMode.AUTO and not full:
                outcomes.append(
                    _join(
                        actor=Actor.system(),
                        workspace=ws,
                        user=user,
                        role=ws.default_role,
                        via=f"domain {domain.name}",
                    )
                )
                continue
            if JoinRequest.objects.filter(workspace=ws, user=user).exists():
                # Pending, or already decided: a declined user is not asked again.
                continue
            jr = JoinRequest.objects.create(workspace=ws, user=user, domain=domain)
            record(
                actor=user,
                workspace=ws,
                action=Action.JOIN_REQUESTED,
                target=jr,
                target_repr=user.email,
                after={"reason": "no seat left"} if ws.join_mode == JoinMode.AUTO else {},
            )
            outcomes.append(jr)
    return outcomes


def _lock_join_request(join_request: JoinRequest) -> JoinRequest:
    return (
        JoinRequest.objects.select_for_update(of=("self",))
        .select_related("workspace", "user")
        .get(pk=join_request.pk)
    )


def join_request_approve(*, actor: Actor, join_request: JoinRequest) -> Membership:
    """Let the user in; refused when the workspace has no seat left (the request stays
    pending, to approve once a seat is free)."""
    authorize(actor, join_request.workspace_id, Perm.MANAGE_DOMAINS)
    with transaction.atomic():
        ws = _lock_workspace(join_request.workspace_id)
        jr = _lock_join_request(join_request)
        if jr.status != JoinRequestStatus.PENDING:
            raise DomainError("This request has already been decided.")
        already = Membership.objects.filter(workspace_id=ws.pk, user=jr.user).exists()
        if not already:
            return _join_request_grant(actor=actor, ws=ws, jr=jr)
        # Closed for good, and the admin told why: the user is in already.
        _close_members_join_requests(workspace=ws, user=jr.user, via="member before")
    raise DomainError(errors.JOIN_REQUEST_ALREADY_MEMBER.format(email=jr.user.email))


def _join_request_grant(*, actor: Actor, ws: Workspace, jr: JoinRequest) -> Membership:
    jr.status = JoinRequestStatus.APPROVED
    jr.decided_at = timezone.now()
    jr.decided_by = actor.audit_user
    jr.save(update_fields=["status", "decided_at", "decided_by"])
    record(
        actor=actor,
        workspace=jr.workspace,
        action=Action.JOIN_APPROVED,
        target=jr,
        target_repr=jr.user.email,
    )
    return _join(
        actor=actor,
        workspace=ws,
        user=jr.user,
        role=ws.default_role,
        via="join request",
    )


@transaction.atomic
def join_request_decline(*, actor: Actor, join_request: JoinRequest) -> JoinRequest:
    authorize(actor, join_request.workspace_id, Perm.MANAGE_DOMAINS)
    jr = _lock_join_request(join_request)
    if jr.status != JoinRequestStatus.PENDING:
        raise DomainError("This request has already been decided.")
    jr.status = JoinRequestStatus.DECLINED
    jr.decided_at = timezone.now()
    jr.decided_by = actor.audit_user
    jr.save(update_fields=["status", "decided_at", "decided_by"])
    record(
        actor=actor,
        workspace=jr.workspace,
        action=Action.JOIN_DECLINED,
        target=jr,
        target_repr=jr.user.email,
    )
    return jr
