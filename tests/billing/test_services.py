"""Changing plan and its preview (R-FEAT-3, R-FEAT-4): the rules of a change, what it
writes, and the effects shown before it is confirmed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import errors as account_errors
from accounts.actor import Actor
from accounts.models import AuditEvent, MemberStatus
from accounts.services import workspace_suspend
from billing import errors
from billing.audit import Action
from billing.models import Plan, PlanKind, PriceBasis, Subscription, SubscriptionStatus
from billing.selectors import active_member_count, price_text
from billing.services import (
    add_month,
    change_refusal,
    plan_change_preview,
    subscription_change_plan,
)
from billing.templatetags.plans import NO_LIMIT, limit
from core.errors import DomainError
from tests.billing.conftest import add_members, plan, subscribe

pytestmark = pytest.mark.django_db


def small_plan(seats: int | None, **extra: object) -> Plan:
    return Plan.objects.create(
        slug=f"small-{seats}",
        name=f"Small {seats}",
        kind=PlanKind.CHAT_TEAM,
        price_basis=PriceBasis.PER_SEAT,
        monthly_price=Decimal("9.50"),
        features=["web_search"],
        seat_limit=seats,
        **extra,
    )


# --- Changing plan -------------------------------------------------------------------------


def test_change_ends_the_current_subscription_and_starts_one_on_the_plan(workspace, owner) -> None:
    old = subscribe(workspace, "free")

    new = subscription_change_plan(
        actor=Actor.member(owner), workspace=workspace, plan=plan("team")
    )

    old.refresh_from_db()
    assert old.ended_at is not None and old.status == SubscriptionStatus.ENDED
    assert (
        new.plan.slug == "team" and new.status == SubscriptionStatus.ACTIVE and new.ended_at is None
    )
    assert new.created_by == owner.user
    assert new.started_at == new.current_period_start == old.ended_at
    assert new.current_period_end == add_month(new.current_period_start)
    current = Subscription.objects.filter(workspace=workspace, ended_at__isnull=True)
    assert list(current) == [new]


def test_change_is_audited_with_the_plans_before_and_after(workspace, owner) -> None:
    subscribe(workspace, "free")

    new = subscription_change_plan(
        actor=Actor.member(owner), workspace=workspace, plan=plan("team")
    )

    event = AuditEvent.objects.get(action=Action.PLAN_CHANGED)
    assert event.actor == owner.user and event.workspace == workspace
    assert event.before == {"plan": "Free"} and event.after == {"plan": "Team"}
    assert event.target_type == "billing.subscription" and event.target_id == str(new.pk)


def test_change_from_no_subscription_starts_from_the_default_plan(workspace, owner) -> None:
    new = subscription_change_plan(actor=Actor.member(owner), workspace=workspace, plan=plan("pro"))

    assert Subscription.objects.get(workspace=workspace) == new
    assert AuditEvent.objects.get(action=Action.PLAN_CHANGED).before == {"plan": "Free"}


def test_two_changes_in_a_row_leave_exactly_one_current_subscription(workspace, owner) -> None:
    subscribe(workspace, "free")
    subscription_change_plan(actor=Actor.member(owner), workspace=workspace, plan=plan("team"))
    subscription_change_plan(actor=Actor.member(owner), workspace=workspace, plan=plan("api-payg"))

    assert Subscription.objects.filter(workspace=workspace).count() == 3
    current = Subscription.objects.get(workspace=workspace, ended_at__isnull=True)
    assert current.plan.slug == "api-payg"
    assert set(
        Subscription.objects.filter(workspace=workspace, ended_at__isnull=False).values_list(
            "status", flat=True
        )
    ) == {SubscriptionStatus.ENDED}


def _refused(workspace, owner, target: Plan) -> str:
    before = list(
        Subscription.objects.order_by("pk").values_list("pk", "plan_id", "ended_at", "status")
    )
    with pytest.raises(DomainError) as exc:
        subscription_change_plan(actor=Actor.member(owner), workspace=workspace, plan=target)
    assert (
        list(Subscription.objects.order_by("pk").values_list("pk", "plan_id", "ended_at", "status"))
        == before
    )
    assert not AuditEvent.objects.filter(action=Action.PLAN_CHANGED).exists()
    return exc.value.message


def test_change_to_the_current_plan_is_refused(workspace, owner) -> None:
    subscribe(workspace, "team")
    assert _refused(workspace, owner, plan("team")) == errors.PLAN_IS_CURRENT.format(plan="Team")


def test_change_to_the_default_plan_without_subscription_is_refused(workspace, owner) -> None:
    assert _refused(workspace, owner, plan("free")) == errors.PLAN_IS_CURRENT.format(plan="Free")
    assert not Subscription.objects.exists()


def test_enterprise_is_arranged_with_sales(workspace, owner) -> None:
    subscribe(workspace, "team")
    message = _refused(workspace, owner, plan("enterprise"))
    assert message == errors.PLAN_CONTACT_SALES.format(plan="Enterprise")
    assert "contact sales" in message


def test_inactive_plan_is_refused(workspace, owner) -> None:
    subscribe(workspace, "free")
    retired = plan("pro")
    Plan.objects.filter(pk=retired.pk).update(is_active=False)
    # The object in hand is stale: the service reads the plan afresh.
    assert _refused(workspace, owner, retired) == errors.PLAN_INACTIVE.format(plan="Pro")


def test_seat_limit_below_the_active_members_is_refused_with_the_numbers(workspace, owner) -> None:
    subscribe(workspace, "team")
    add_members(workspace, 7)  # 8 active with the owner
    message = _refused(workspace, owner, small_plan(5))
    assert (
        message
        == "This plan allows 5 seats; the workspace has 8 active members. Deactivate 3 members first."
    )


def test_deactivated_members_hold_no_seat(workspace, owner) -> None:
    subscribe(workspace, "team")
    extra = add_members(workspace, 6)  # 7 active with the owner
    for m in extra[:2]:
        m.status = MemberStatus.DEACTIVATED
        m.save(update_fields=["status"])
    assert active_member_count(workspace) == 5

    new = subscription_change_plan(
        actor=Actor.member(owner), workspace=workspace, plan=small_plan(5)
    )

    assert new.plan.seat_limit == 5


def test_suspended_workspace_cannot_change_plan(workspace, owner) -> None:
    subscribe(workspace, "free")
    workspace_suspend(actor=Actor.system(), workspace=workspace, reason="Unpaid")
    assert _refused(workspace, owner, plan("team")) == account_errors.WORKSPACE_SUSPENDED


@pytest.mark.parametrize(
    ("limit_", "active", "message"),
    [
        (
            5,
            8,
            "This plan allows 5 seats; the workspace has 8 active members. Deactivate 3 members first.",
        ),
        (
            1,
            2,
            "This plan allows 1 seat; the workspace has 2 active members. Deactivate 1 member first.",
        ),
    ],
)
def test_seats_over_message_says_the_numbers(limit_: int, active: int, message: str) -> None:
    assert errors.seats_over(limit=limit_, active=active) == message


def test_refusal_rule_order_and_success() -> None:
    team, pro, enterprise = plan("team"), plan("pro"), plan("enterprise")
    assert change_refusal(current=team, target=team, active_members=1).startswith(
        "The workspace is already"
    )
    assert change_refusal(current=team, target=enterprise, active_members=1).startswith(
        "The Enterprise plan"
    )
    assert change_refusal(current=team, target=pro, active_members=2).startswith(
        "This plan allows 1 seat;"
    )
    assert change_refusal(current=team, target=pro, active_members=1) == ""


# --- Preview -------------------------------------------------------------------------------


def test_preview_lists_features_lost_and_gained_by_label_in_registry_order(
    workspace, owner
) -> None:
    subscribe(workspace, "free")

    preview = plan_change_preview(workspace=workspace, plan=plan("api-payg"))

    assert preview.current.slug == "free" and preview.target.slug == "api-payg"
    assert preview.features_lost == ("Verified news", "Canvas", "Conversation links")
    assert preview.features_gained == (
        "Code interpreter",
        "Connectors",
        "Libraries",
        "Agent sharing",
        "Fine-tuning",
    )
    assert preview.price_before == "Free" and preview.price_after == "Billed by usage"
    assert (
        preview.training_before is True
        and preview.training_after is False
        and preview.training_changed
    )
    assert preview.refusal == ""


def test_preview_of_a_downgrade_shows_agent_sharing_lost_seats_over_and_lower_limits(
    workspace, owner
) -> None:
    subscribe(workspace, "team")
    add_members(workspace, 2)  # 3 active, Pro allows 1

    preview = plan_change_preview(workspace=workspace, plan=plan("pro"))

    assert preview.features_lost == ("Connectors", "Agent sharing")
    assert preview.features_gained == ()
    assert preview.agent_sharing_lost is True
    assert preview.active_members == 3 and preview.seats_over == 2
    assert preview.refusal == errors.seats_over(limit=1, active=3)
    limits = {lc.label: (lc.before, lc.after, lc.lower) for lc in preview.limits}
    assert limits == {
        "Seats": (150, 1, True),
        "Requests per minute": (120, 60, True),
        "Tokens per minute": (1_000_000, 500_000, True),
        "Monthly token cap": (500_000_000, 50_000_000, True),
    }
    assert (
        preview.price_before == "EUR 24.99 per seat per month"
        and preview.price_after == "EUR 14.99 per month"
    )
    assert preview.training_changed  # Team does not train on inputs by default, Pro does


def test_preview_treats_an_empty_limit_as_no_limit(workspace, owner) -> None:
    subscribe(workspace, "team")

    preview = plan_change_preview(workspace=workspace, plan=plan("enterprise"))

    by_label = {lc.label: lc for lc in preview.limits}
    assert (
        by_label["Seats"].after is None
        and not by_label["Seats"].lower
        and by_label["Seats"].changed
    )
    assert by_label["Monthly token cap"].after is None and not by_label["Monthly token cap"].lower
    assert preview.limits_lowered == ()
    assert preview.seats_over == 0
    assert preview.refusal == errors.PLAN_CONTACT_SALES.format(plan="Enterprise")


def test_preview_of_the_current_plan_says_so(workspace, owner) -> None:
    subscribe(workspace, "team")
    preview = plan_change_preview(workspace=workspace, plan=plan("team"))
    assert preview.is_current and preview.features_lost == () and preview.features_gained == ()
    assert preview.refusal == errors.PLAN_IS_CURRENT.format(plan="Team")


def test_preview_is_a_read_in_a_fixed_number_of_queries(workspace, owner) -> None:
    subscribe(workspace, "team")
    add_members(workspace, 3)
    with CaptureQueriesContext(connection) as small:
        plan_change_preview(workspace=workspace, plan=plan("pro"))
    add_members(workspace, 27)
    with CaptureQueriesContext(connection) as large:
        plan_change_preview(workspace=workspace, plan=plan("pro"))
    # Its own three, and the one of the agents' source of effects (``billing.effects``).
    assert len(small.captured_queries) == len(large.captured_queries) <= 4
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in large.captured_queries)


# --- Display helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("basis", "price", "text"),
    [
        (PriceBasis.FREE, Decimal("0.00"), "Free"),
        (PriceBasis.FLAT, Decimal("14.99"), "EUR 14.99 per month"),
        (PriceBasis.PER_SEAT, Decimal("24.99"), "EUR 24.99 per seat per month"),
        (PriceBasis.PER_SEAT, Decimal("1250.50"), "EUR 1,250.50 per seat per month"),
        (PriceBasis.FLAT, Decimal("20"), "EUR 20.00 per month"),
        (PriceBasis.USAGE, None, "Billed by usage"),
        (PriceBasis.CUSTOM, None, "Custom contract"),
        (PriceBasis.FLAT, None, "Price not set"),
    ],
)
def test_price_text(basis: str, price: Decimal | None, text: str) -> None:
    assert (
        price_text(Plan(name="X", price_basis=basis, monthly_price=price, currency="EUR")) == text
    )


def test_limit_filter() -> None:
    assert limit(None) == NO_LIMIT == "No limit"
    assert limit(0) == "0"
    assert limit(500_000_000) == "500,000,000"
