"""Changes of plans and subscriptions. Every change is audited in the same transaction."""

from __future__ import annotations

import calendar
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.audit import Action, record
from accounts.models import User, Workspace

from .models import Plan, Subscription
from .selectors import default_plan


def add_month(moment: datetime) -> datetime:
    """The same day and time a month later, on the month's last day when it is shorter."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@transaction.atomic
def subscription_start(*, actor: User | None, workspace: Workspace, plan: Plan | None = None) -> Subscription:
    """Put a workspace without a current subscription on ``plan`` (the default plan when
    none is given). A workspace that already has one keeps it."""
    Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
    current = Subscription.objects.filter(workspace=workspace, ended_at__isnull=True).select_related("plan").first()
    if current is not None:
        return current
    plan = plan or default_plan()
    now = timezone.now()
    subscription = Subscription.objects.create(
        workspace=workspace, plan=plan, started_at=now, current_period_start=now,
        current_period_end=add_month(now), created_by=actor,
    )
    record(
        actor=actor, workspace=workspace, action=Action.SUBSCRIPTION_STARTED, target=subscription,
        after={"plan": plan.name},
    )
    return subscription
