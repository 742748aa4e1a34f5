"""The audit actions of plans and subscriptions."""

from __future__ import annotations

from core.audit import Actions


class Action(Actions):
    SUBSCRIPTION_STARTED = "subscription.started"
    PLAN_CHANGED = "subscription.plan_changed"
