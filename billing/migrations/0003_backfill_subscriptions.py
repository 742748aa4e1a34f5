"""Every workspace without a current subscription gets one on the default plan, so that a
database older than the plans is consistent with new workspaces (which start on it).
Running it again changes nothing: workspaces with a current subscription are left alone."""

from __future__ import annotations

import calendar

from django.db import migrations
from django.utils import timezone


def _add_month(moment):  # noqa: ANN001, ANN202  (a copy: migrations do not import app code)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def backfill(apps, schema_editor):  # noqa: ANN001, ANN201
    Plan = apps.get_model("billing", "Plan")
    Subscription = apps.get_model("billing", "Subscription")
    Workspace = apps.get_model("accounts", "Workspace")
    AuditEvent = apps.get_model("accounts", "AuditEvent")
    plan = Plan.objects.filter(is_default=True).first()
    if plan is None:
        return
    now = timezone.now()
    current = Subscription.objects.filter(ended_at__isnull=True).values("workspace_id")
    for ws in Workspace.objects.exclude(pk__in=current).order_by("pk").iterator():
        subscription = Subscription.objects.create(
            workspace=ws, plan=plan, status="active", started_at=now, current_period_start=now,
            current_period_end=_add_month(now),
        )
        # The same event subscription_start writes, by the system.
        AuditEvent.objects.create(
            workspace=ws, workspace_name=ws.name, action="subscription.started",
            target_type="billing.subscription", target_id=str(subscription.pk),
            target_repr=f"{ws.name} on {plan.name}"[:300], after={"plan": plan.name},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_catalogue"),
        ("accounts", "0001_initial"),
    ]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
