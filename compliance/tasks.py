"""Emails of the compliance services: thin Celery tasks that take ids, load fresh rows and
send one email per recipient, so that no recipient sees another's address."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.urls import reverse

from accounts.emails import send_templated_once
from accounts.models import Membership, MemberStatus, User, Workspace
from accounts.roles import Role

from .models import Appeal, EditorialAuthorization, NewsViolation
from .services import violation_reason

RETRY = {"bind": True, "autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def admin_url(obj: Any) -> str:
    meta = obj._meta
    return absolute(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))


def compliance_url(workspace: Workspace) -> str:
    return absolute(reverse("ws:compliance", args=[workspace.slug]))


def appeal_url(workspace: Workspace) -> str:
    return absolute(reverse("ws:appeal", args=[workspace.slug]))


def staff_emails() -> list[str]:
    return list(
        User.objects.filter(is_staff=True, is_active=True)
        .order_by("email")
        .values_list("email", flat=True)
    )


def member_emails(workspace: Workspace, roles: tuple[int, ...]) -> list[str]:
    return list(
        Membership.objects.filter(
            workspace=workspace, status=MemberStatus.ACTIVE, role__in=roles, user__is_active=True
        )
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


def _send(task: Any, name: str, recipients: list[str], context: dict[str, Any]) -> int:
    """One email per recipient, each once per task run: a retry after the third of five
    recipients failed does not mail the first two again."""
    for email in recipients:
        send_templated_once(task.request.id, name, [email], context)
    return len(recipients)


@shared_task(**RETRY)
def send_news_violation_emails(self: object, violation_id: int) -> int:
    violation = NewsViolation.objects.select_related("workspace").filter(pk=violation_id).first()
    if violation is None:
        return 0
    ws = violation.workspace
    # The violation's own description: the workspace may have been suspended before, for
    # another reason, which it keeps.
    reason = violation_reason(violation.user_email, violation.occurred_at)
    context = {"workspace": ws, "violation": violation, "reason": reason}
    sent = _send(
        self,
        "compliance_news_violation_owner",
        member_emails(ws, (Role.OWNER,)),
        {**context, "appeal_url": appeal_url(ws)},
    )
    sent += _send(
        self,
        "compliance_news_violation_staff",
        staff_emails(),
        {**context, "admin_url": admin_url(violation), "workspace_admin_url": admin_url(ws)},
    )
    return sent


@shared_task(**RETRY)
def send_editorial_request_to_staff(self: object, authorization_id: int) -> int:
    auth = (
        EditorialAuthorization.objects.select_related("workspace", "requested_by")
        .filter(pk=authorization_id)
        .first()
    )
    if auth is None:
        return 0
    return _send(
        self,
        "compliance_editorial_request_staff",
        staff_emails(),
        {"workspace": auth.workspace, "authorization": auth, "admin_url": admin_url(auth)},
    )


@shared_task(**RETRY)
def send_editorial_decision(self: object, authorization_id: int) -> int:
    auth = (
        EditorialAuthorization.objects.select_related("workspace", "scope_group")
        .filter(pk=authorization_id)
        .first()
    )
    if auth is None:
        return 0
    ws = auth.workspace
    return _send(
        self,
        "compliance_editorial_decision",
        member_emails(ws, (Role.ADMIN, Role.OWNER)),
        {"workspace": ws, "authorization": auth, "compliance_url": compliance_url(ws)},
    )


@shared_task(**RETRY)
def send_appeal_filed_to_staff(self: object, appeal_id: int) -> int:
    appeal = Appeal.objects.select_related("workspace", "filed_by").filter(pk=appeal_id).first()
    if appeal is None:
        return 0
    return _send(
        self,
        "compliance_appeal_filed_staff",
        staff_emails(),
        {"workspace": appeal.workspace, "appeal": appeal, "admin_url": admin_url(appeal)},
    )


@shared_task(**RETRY)
def send_appeal_decision(self: object, appeal_id: int) -> int:
    appeal = Appeal.objects.select_related("workspace").filter(pk=appeal_id).first()
    if appeal is None:
        return 0
    ws = appeal.workspace
    return _send(
        self,
        "compliance_appeal_decision",
        member_emails(ws, (Role.OWNER,)),
        {"workspace": ws, "appeal": appeal, "appeal_url": appeal_url(ws)},
    )
