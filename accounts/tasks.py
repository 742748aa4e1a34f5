"""Thin Celery tasks: they take ids, load fresh rows and call a service."""

from __future__ import annotations

import logging

from celery import shared_task

from accounts.actor import Actor
from core import email

from . import services
from .models import Domain, Invitation, InvitationStatus

logger = logging.getLogger(__name__)


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation_email(self: object, invitation_id: int) -> bool:
    inv = (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(pk=invitation_id, status=InvitationStatus.PENDING)
        .first()
    )
    if inv is None:
        return False
    # One email per sending: a resend (send_count moves) sends again, a retry does not.
    email.enqueue(
        "invitation",
        [inv.email],
        {
            "invitation": inv,
            "workspace": inv.workspace,
            "inviter": inv.invited_by,
            "accept_url": services.invitation_url(inv),
        },
        dedupe_key=f"invitation:{inv.pk}:{inv.send_count}",
    )
    return True


@shared_task
def expire_invitations() -> int:
    return services.invitations_expire()


@shared_task
def recheck_pending_domains() -> int:
    """Check every pending domain; one domain's failure (removed meanwhile, a database
    error) is logged and does not stop the others. Answers how many were checked."""
    checked = 0
    for domain in Domain.objects.filter(verified_at__isnull=True).order_by("last_checked_at")[:200]:
        try:
            services.domain_check(actor=Actor.system(), domain=domain)
        except Domain.DoesNotExist:
            continue
        except Exception:
            logger.exception("Checking the domain %s (id %s) failed", domain.name, domain.pk)
            continue
        checked += 1
    return checked


@shared_task
def check_domain(domain_id: int) -> None:
    domain = Domain.objects.filter(pk=domain_id).first()
    if domain is not None:
        try:
            services.domain_check(actor=Actor.system(), domain=domain)
        except Domain.DoesNotExist:
            # Removed between the query and the check: nothing left to verify.
            return
