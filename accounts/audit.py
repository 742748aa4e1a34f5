"""Writing the audit log (R-WS-8). Services call ``record`` inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from .context import current_ip
from .models import AuditEvent, User, Workspace


def record(
    *,
    actor: User | None,
    workspace: Workspace | None,
    action: str,
    target: models.Model | None = None,
    target_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        workspace=workspace,
        workspace_name=workspace.name if workspace else "",
        actor=actor,
        actor_email=actor.email if actor else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=(target_repr or (str(target) if target is not None else ""))[:300],
        before=before or {},
        after=after or {},
        ip_address=current_ip.get(),
    )


# Actions, so filters and tests name them the same way.
class Action:
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

    @classmethod
    def choices(cls) -> list[str]:
        return sorted(v for k, v in vars(cls).items() if k.isupper())
