"""Invitations: bulk invites, resend, revoke, the signed link, acceptance and expiry."""

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
from django.utils import timezone

from core.audit import record
from core.errors import DomainError
from core.transactions import on_commit_task

from .. import errors
from ..actor import Actor, authorize, require_person
from ..audit import Action
from ..models import (
    Group,
    Invitation,
    InvitationStatus,
    Membership,
    User,
    Workspace,
)
from ..roles import Perm, can_assign_role
from .members import _join, _lock_workspace

INVITATION_SALT = "accounts.invitation"


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
