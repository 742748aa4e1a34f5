"""Changes of plans and subscriptions. Every change is audited in the same transaction."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts import errors as account_errors
from accounts.actor import Actor, authorize
from accounts.models import Membership, Workspace
from accounts.roles import Perm
from billing.audit import Action
from core import registry, snapshots
from core.audit import record
from core.errors import DomainError

from . import errors
from .effects import Change, Effect, effects_of
from .models import Plan, Subscription, SubscriptionStatus
from .selectors import active_member_count, current_subscription, default_plan, price_text


def add_month(moment: datetime) -> datetime:
    """The same day and time a month later, on the month's last day when it is shorter."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _lock_workspace(workspace: Workspace) -> Workspace:
    # The lock every way of joining takes too (accounts.services), so that a plan change
    # counts the seats no join is filling at the same time. NO KEY UPDATE: rows that only
    # point at the workspace (audit events, memberships) can still be written meanwhile.
    return Workspace.objects.select_for_update(no_key=True).get(pk=workspace.pk)


def _keep_seat_limit(ws: Workspace, plan: Plan) -> None:
    """Copy the plan's seat limit onto the workspace, in the transaction of the change."""
    if ws.seat_limit != plan.seat_limit:
        ws.seat_limit = plan.seat_limit
        ws.save(update_fields=["seat_limit"])


@transaction.atomic
def subscription_start(
    *, actor: Actor, workspace: Workspace, plan: Plan | None = None
) -> Subscription:
    """Put a workspace without a current subscription on ``plan`` (the default plan when
    none is given). A workspace that already has one keeps it. Its creator (the owner),
    staff or the system start it."""
    authorize(actor, workspace.pk, Perm.MANAGE_BILLING, system=True)
    ws = _lock_workspace(workspace)
    current = (
        Subscription.objects.filter(workspace=workspace, ended_at__isnull=True)
        .select_related("plan")
        .first()
    )
    if current is not None:
        return current
    plan = plan or default_plan()
    _keep_seat_limit(ws, plan)
    now = timezone.now()
    subscription = Subscription.objects.create(
        workspace=workspace,
        plan=plan,
        started_at=now,
        current_period_start=now,
        current_period_end=add_month(now),
        created_by=actor.audit_user,
    )
    snapshots.moved(snapshots.decisions(workspace.pk))
    record(
        actor=actor,
        workspace=workspace,
        action=Action.SUBSCRIPTION_STARTED,
        target=subscription,
        after={"plan": plan.name},
    )
    return subscription


# --- Changing plan (R-FEAT-3) ----------------------------------------------------------------


@dataclass(frozen=True)
class LimitChange:
    """One limit of the plan before and after a change; None means no limit."""

    label: str
    before: int | None
    after: int | None

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def lower(self) -> bool:
        """Whether the new plan allows less than the current one."""
        if self.after is None:
            return False
        return self.before is None or self.after < self.before


@dataclass(frozen=True)
class PlanChangePreview:
    """What moving ``workspace`` from its current plan to ``target`` would change, shown
    before the change is confirmed. Features are registry labels, in registry order."""

    current: Plan
    target: Plan
    features_gained: tuple[str, ...]
    features_lost: tuple[str, ...]
    active_members: int
    seats_over: int
    limits: tuple[LimitChange, ...]
    price_before: str
    price_after: str
    training_before: bool
    training_after: bool
    agent_sharing_lost: bool
    # What the change does to the data of the apps above billing (``billing.effects``).
    effects: tuple[Effect, ...]
    # Why the change would be refused; empty when it may go ahead.
    refusal: str

    @property
    def is_current(self) -> bool:
        return self.current.pk == self.target.pk

    @property
    def training_changed(self) -> bool:
        return self.training_before != self.training_after

    @property
    def limits_lowered(self) -> tuple[LimitChange, ...]:
        return tuple(limit for limit in self.limits if limit.lower)


def _limits(current: Plan, target: Plan) -> tuple[LimitChange, ...]:
    return (
        LimitChange("Seats", current.seat_limit, target.seat_limit),
        LimitChange("Requests per minute", current.requests_per_minute, target.requests_per_minute),
        LimitChange("Tokens per minute", current.tokens_per_minute, target.tokens_per_minute),
        LimitChange("Monthly token cap", current.monthly_token_cap, target.monthly_token_cap),
    )


def _labels(keys: frozenset[str]) -> tuple[str, ...]:
    return tuple(f.label for f in registry.FEATURES if f.key in keys)


def change_refusal(*, current: Plan, target: Plan, active_members: int) -> str:
    """Why a workspace on ``current`` with ``active_members`` cannot move to ``target``, or
    "" when it can. One rule for the preview and the change itself."""
    if current.pk == target.pk:
        return errors.PLAN_IS_CURRENT.format(plan=target.name)
    if not target.is_active:
        return errors.PLAN_INACTIVE.format(plan=target.name)
    if not target.self_serve:
        return errors.PLAN_CONTACT_SALES.format(plan=target.name)
    if target.seat_limit is not None and active_members > target.seat_limit:
        return errors.seats_over(limit=target.seat_limit, active=active_members)
    return ""


def plan_change_preview(
    *, workspace: Workspace, plan: Plan, viewer: Membership | None = None
) -> PlanChangePreview:
    """The effects of moving ``workspace`` to ``plan``, as ``viewer`` may read them: a pure
    read, two or three queries and those of the registered sources of effects, each a
    fixed number."""
    subscription = current_subscription(workspace)
    current = subscription.plan if subscription is not None else default_plan()
    active = active_member_count(workspace)
    before, after = current.feature_keys, plan.feature_keys
    return PlanChangePreview(
        current=current,
        target=plan,
        features_gained=_labels(after - before),
        features_lost=_labels(before - after),
        active_members=active,
        seats_over=max(0, active - plan.seat_limit) if plan.seat_limit is not None else 0,
        limits=_limits(current, plan),
        price_before=price_text(current),
        price_after=price_text(plan),
        training_before=current.trains_on_data_by_default,
        training_after=plan.trains_on_data_by_default,
        agent_sharing_lost=current.allows_agent_sharing and not plan.allows_agent_sharing,
        effects=effects_of(Change(workspace, current, plan, viewer)),
        refusal=change_refusal(current=current, target=plan, active_members=active),
    )


@transaction.atomic
def subscription_change_plan(*, actor: Actor, workspace: Workspace, plan: Plan) -> Subscription:
    """Move ``workspace`` to ``plan``: the current subscription ends now and a new one starts
    on the plan with a fresh monthly cycle. Refused (DomainError) for the current plan, an
    inactive or sales-arranged plan, a seat limit below the active members, or a suspended
    workspace. The members are counted under the workspace's row lock, which every way of
    joining takes first, and the workspace's ``seat_limit`` changes in the same
    transaction: a join racing the change sees either the old limit or the new one."""
    authorize(actor, workspace.pk, Perm.MANAGE_BILLING)
    ws = _lock_workspace(workspace)
    if ws.is_suspended:
        raise DomainError(account_errors.WORKSPACE_SUSPENDED)
    # Fresh from the database: staff may have changed the plan since the page was shown.
    target = Plan.objects.filter(pk=plan.pk).first()
    if target is None:
        raise DomainError(errors.PLAN_INACTIVE.format(plan=plan.name))
    current = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan")
        .filter(workspace=ws, ended_at__isnull=True)
        .first()
    )
    current_plan = current.plan if current is not None else default_plan()
    refusal = change_refusal(
        current=current_plan, target=target, active_members=active_member_count(ws)
    )
    if refusal:
        raise DomainError(refusal)
    _keep_seat_limit(ws, target)
    now = timezone.now()
    if current is not None:
        current.ended_at = now
        current.status = SubscriptionStatus.ENDED
        current.save(update_fields=["ended_at", "status"])
    subscription = Subscription.objects.create(
        workspace=ws,
        plan=target,
        started_at=now,
        current_period_start=now,
        current_period_end=add_month(now),
        created_by=actor.audit_user,
    )
    snapshots.moved(snapshots.decisions(ws.pk))
    record(
        actor=actor,
        workspace=ws,
        action=Action.PLAN_CHANGED,
        target=subscription,
        before={"plan": current_plan.name},
        after={"plan": target.name},
    )
    return subscription


def plan_saved(plan: Plan) -> None:
    """After staff save ``plan`` (its features, its agent sharing): the workspaces on it
    decide from the plan as it is now (``core.snapshots``)."""
    snapshots.moved(snapshots.PLANS)


def plan_seat_limit_apply(plan: Plan) -> int:
    """After staff edit ``plan``, give its seat limit to the workspaces currently on it
    (each row is updated under its own lock, the one joins take). Answers how many."""
    return Workspace.objects.filter(
        subscriptions__plan=plan, subscriptions__ended_at__isnull=True
    ).update(seat_limit=plan.seat_limit)
