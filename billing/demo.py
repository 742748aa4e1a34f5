"""Demo data of the plan pages: the demo workspace "acme" is on the Team plan. Running it
again changes nothing."""

from __future__ import annotations

from accounts.actor import Actor
from accounts.models import Membership, Workspace
from accounts.roles import Role

from . import services
from .models import Plan
from .selectors import current_subscription

DEMO_SLUG = "acme"
DEMO_PLAN = "team"


def seed() -> None:
    ws = Workspace.objects.filter(slug=DEMO_SLUG).first()
    plan = Plan.objects.filter(slug=DEMO_PLAN).first()
    if ws is None or plan is None:
        return
    owner = (
        Membership.objects.select_related("user", "workspace")
        .filter(workspace=ws, role=Role.OWNER)
        .order_by("pk")
        .first()
    )
    actor = Actor.member(owner) if owner is not None else Actor.system()
    subscription = current_subscription(ws)
    if subscription is None:
        services.subscription_start(actor=actor, workspace=ws, plan=plan)
    elif subscription.plan_id != plan.pk and owner is not None:
        services.subscription_change_plan(actor=actor, workspace=ws, plan=plan)
