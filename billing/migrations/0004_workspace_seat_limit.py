"""Every workspace's seat limit (``accounts.Workspace.seat_limit``) from the plan of its
current subscription, so that the join paths check the limit the plan page shows. A
workspace without a current subscription is left without a limit. Running it again
changes nothing."""

from __future__ import annotations

from django.db import migrations


def fill(apps, schema_editor):  # noqa: ANN001, ANN201
    Subscription = apps.get_model("billing", "Subscription")
    Workspace = apps.get_model("accounts", "Workspace")
    current = Subscription.objects.filter(ended_at__isnull=True).select_related("plan")
    for subscription in current.order_by("workspace_id").iterator():
        Workspace.objects.filter(pk=subscription.workspace_id).update(
            seat_limit=subscription.plan.seat_limit
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_backfill_subscriptions"),
        ("accounts", "0003_workspace_seat_limit"),
    ]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
