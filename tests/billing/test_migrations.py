"""The data migration that puts every workspace without a current subscription on the
default plan (so an older database agrees with new workspaces), and the demo data."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from accounts.models import AuditEvent
from billing import demo
from billing.audit import Action
from billing.models import Plan, Subscription, SubscriptionStatus
from billing.services import add_month
from tests.billing.conftest import subscribe
from tests.factories import MembershipFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("billing.migrations.0003_backfill_subscriptions").backfill


def test_backfill_puts_a_workspace_without_subscription_on_the_default_plan(workspace) -> None:
    backfill(apps, None)

    sub = Subscription.objects.get(workspace=workspace)
    assert (
        sub.plan.slug == "free" and sub.status == SubscriptionStatus.ACTIVE and sub.ended_at is None
    )
    assert sub.current_period_end == add_month(sub.current_period_start)
    event = AuditEvent.objects.get(action=Action.SUBSCRIPTION_STARTED, workspace=workspace)
    assert (
        event.actor is None and event.after == {"plan": "Free"} and event.target_id == str(sub.pk)
    )


def test_backfill_leaves_current_subscriptions_alone_and_runs_twice_safely(workspace) -> None:
    other = WorkspaceFactory()
    kept = subscribe(other, "team")
    # A workspace whose only subscription has ended needs a current one too.
    ended = WorkspaceFactory()
    old = subscribe(ended, "pro")
    Subscription.objects.filter(pk=old.pk).update(
        status=SubscriptionStatus.ENDED, ended_at=old.started_at
    )

    backfill(apps, None)
    backfill(apps, None)

    assert list(Subscription.objects.filter(workspace=other)) == [kept]
    assert Subscription.objects.get(workspace=workspace).plan.slug == "free"
    assert Subscription.objects.get(workspace=ended, ended_at__isnull=True).plan.slug == "free"
    assert Subscription.objects.filter(ended_at__isnull=True).count() == 3


def test_backfill_without_a_default_plan_does_nothing(workspace) -> None:
    Plan.objects.filter(is_default=True).update(is_default=False)
    backfill(apps, None)
    assert not Subscription.objects.exists()


def test_demo_puts_acme_on_the_team_plan_once(owner, workspace) -> None:
    MembershipFactory(workspace=workspace)
    subscribe(workspace, "free")

    demo.seed()
    demo.seed()

    current = Subscription.objects.get(workspace=workspace, ended_at__isnull=True)
    assert current.plan.slug == "team"
    assert AuditEvent.objects.filter(action=Action.PLAN_CHANGED).count() == 1


def test_demo_starts_a_team_subscription_when_acme_has_none(owner, workspace) -> None:
    demo.seed()
    assert Subscription.objects.get(workspace=workspace).plan.slug == "team"
