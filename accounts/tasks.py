"""Thin Celery tasks: they take ids, load fresh rows and call a service."""

from __future__ import annotations

from celery import shared_task

from . import services
from .emails import send_templated_once
from .models import Domain, Invitation, InvitationStatus


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation_email(self: object, invitation_id: int) -> bool:
    inv = (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(pk=invitation_id, status=InvitationStatus.PENDING)
        .first()
    )
    if inv is None:
        return False
    send_templated_once(
        self.request.id,  # type: ignore[attr-defined]
        "invitation",
        [inv.email],
        {
            "invitation": inv,
            "workspace": inv.workspace,
            "inviter": inv.invited_by,
            "accept_url": services.invitation_url(inv),
        },
    )
    return True


@shared_task
def expire_invitations() -> int:
    return services.invitations_expire()


@shared_task
def recheck_pending_domains() -> int:
    checked = 0
    for domain in Domain.objects.filter(verified_at__isnull=True).order_by("last_checked_at")[:200]:
        services.domain_check(actor=None, domain=domain)
        checked += 1
    return checked


@shared_task
def check_domain(domain_id: int) -> None:
    domain = Domain.objects.filter(pk=domain_id).first()
    if domain is not None:
        services.domain_check(actor=None, domain=domain)
