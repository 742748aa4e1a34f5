"""Reads of plans and subscriptions that pages, the feature decision and the service API
share. ``entitlements(workspace)`` is the billing app's public face to the apps above it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import MemberStatus, Workspace
from catalogue.models import BaseModel, Kind, ModelRef
from catalogue.refs import Resolved, resolve
from catalogue.selectors import available_models

from .models import Plan, PriceBasis, Subscription


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


def active_plans() -> QuerySet[Plan]:
    """The plans offered today, in the catalogue's order."""
    return Plan.objects.filter(is_active=True).order_by("sort_order", "name")


def plan_choices() -> list[tuple[str, str]]:
    """Every plan, active or not, as ``(slug, name)`` in the catalogue's order: the plans
    the model catalogue may say offer a model (``catalogue.offers``)."""
    return list(Plan.objects.order_by("sort_order", "name").values_list("slug", "name"))


def models_for_workspace(
    workspace: Workspace, kind: Kind | str | None = None
) -> QuerySet[BaseModel]:
    """The base models the workspace's plan offers and the platform serves today, of
    ``kind`` when given, in the catalogue's order. The catalogue sits below billing and
    knows plans only by slug; this is where a workspace's plan meets it. Two queries
    (three without a subscription), however many models."""
    return available_models(entitlements(workspace).plan.slug, kind)


def resolve_for_workspace(ref: ModelRef, workspace: Workspace) -> Resolved:
    """Whether the workspace may use the model ``ref`` names on its current plan, and why
    (``catalogue.refs.resolve``, worded with the plan's name)."""
    plan = entitlements(workspace).plan
    return resolve(ref, plan.slug, plan_name=plan.name)


def active_member_count(workspace: Workspace) -> int:
    """The seats in use: active members (deactivated ones hold no seat)."""
    return workspace.memberships.filter(status=MemberStatus.ACTIVE).count()


def price_text(plan: Plan) -> str:
    """The plan's price on its basis, e.g. "EUR 24.99 per seat per month"."""
    basis = plan.price_basis
    if basis == PriceBasis.USAGE:
        return "Billed by usage"
    if basis == PriceBasis.CUSTOM:
        return "Custom contract"
    if basis == PriceBasis.FREE:
        return "Free"
    if plan.monthly_price is None:
        return "Price not set"
    amount = f"{plan.currency} {plan.monthly_price:,.2f}"
    return f"{amount} per seat per month" if basis == PriceBasis.PER_SEAT else f"{amount} per month"
