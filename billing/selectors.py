"""Reads of plans and subscriptions that pages, the feature decision and the service API
share. ``entitlements(workspace)`` is the billing app's public face to the apps above it."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Workspace

from .models import Plan, Subscription


@dataclass(frozen=True)
class Entitlements:
    """What a workspace's current plan gives it."""

    plan: Plan
    subscription: Subscription | None
    features: frozenset[str]
    seat_limit: int | None
    requests_per_minute: int | None
    tokens_per_minute: int | None
    monthly_token_cap: int | None
    agent_sharing: bool
    trains_on_data_by_default: bool


def default_plan() -> Plan:
    plan = Plan.objects.filter(is_default=True).first()
    if plan is None:
        raise Plan.DoesNotExist("No default plan: mark one plan as the default in the admin.")
    return plan


def current_subscription(workspace: Workspace) -> Subscription | None:
    return (
        Subscription.objects.select_related("plan")
        .filter(workspace=workspace, ended_at__isnull=True)
        .first()
    )


def entitlements(workspace: Workspace) -> Entitlements:
    """The plan of the workspace's current subscription, or the default plan when it has
    none (a workspace is never without limits). One query, two without a subscription."""
    subscription = current_subscription(workspace)
    plan = subscription.plan if subscription is not None else default_plan()
    return Entitlements(
        plan=plan,
        subscription=subscription,
        features=plan.feature_keys,
        seat_limit=plan.seat_limit,
        requests_per_minute=plan.requests_per_minute,
        tokens_per_minute=plan.tokens_per_minute,
        monthly_token_cap=plan.monthly_token_cap,
        agent_sharing=plan.allows_agent_sharing,
        trains_on_data_by_default=plan.trains_on_data_by_default,
    )
