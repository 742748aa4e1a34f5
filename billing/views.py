"""The plan pages of a workspace (R-FEAT-3, R-FEAT-4): the current plan with its limits,
the comparison of the plans on offer, and the change of plan with its effects shown
before it is confirmed. Admins and billing members read; owners and billing members
change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import WorkspaceRequest, workspace_view
from accounts.roles import Perm, has_perm
from accounts.selectors import Seats
from core import registry
from core.errors import DomainError

from . import services
from .forms import PlanChangeForm
from .models import Plan, SubscriptionStatus
from .selectors import (
    active_member_count,
    active_plans,
    current_subscription,
    entitlements,
    price_text,
)
from .templatetags.plans import limit

PLAN = "billing/plan.html"
PLANS = "billing/plans.html"
CHANGE = "billing/change.html"

STATUS_BADGES = {
    SubscriptionStatus.ACTIVE: "ok",
    SubscriptionStatus.PAST_DUE: "warn",
    SubscriptionStatus.CANCELED: "danger",
    SubscriptionStatus.ENDED: "neutral",
}
TRAINING_ON = "Used for training unless the workspace opts out"
TRAINING_OFF = "Not used for training"


def _can_change(request: WorkspaceRequest) -> bool:
    return has_perm(request.membership.role, Perm.MANAGE_BILLING)


def _sales_url() -> str:
    # Where "Contact sales" leads, when the deployment names it; plain text otherwise.
    return str(getattr(settings, "SALES_CONTACT_URL", "") or "")


# --- The current plan ----------------------------------------------------------------------


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_PLAN)
def plan(request: WorkspaceRequest) -> HttpResponse:
    ws = request.workspace
    ent = entitlements(ws)
    active = active_member_count(ws)
    subscription = ent.subscription
    context = {
        "page_title": "Plan",
        "nav": "plan",
        "ent": ent,
        "plan": ent.plan,
        "subscription": subscription,
        "status_badge": STATUS_BADGES.get(SubscriptionStatus(subscription.status), "neutral")
        if subscription
        else "",
        "price": price_text(ent.plan),
        "active_members": active,
        "seats_over": max(0, active - ent.seat_limit) if ent.seat_limit is not None else 0,
        "seats": Seats(used=active, limit=ent.seat_limit),
        "included": [f for f in registry.FEATURES if f.key in ent.features],
        "excluded": [f for f in registry.FEATURES if f.key not in ent.features],
        "training": TRAINING_ON if ent.trains_on_data_by_default else TRAINING_OFF,
        "can_change": _can_change(request),
    }
    return TemplateResponse(request, PLAN, context)


# --- Comparing plans -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    # "yes" and "no" are shown as a check and a cross; "text" as it is.
    kind: str = "text"


@dataclass(frozen=True)
class Row:
    label: str
    cells: list[Cell]
    help: str = ""


def _yes_no(value: bool) -> Cell:
    return Cell("Included", "yes") if value else Cell("Not included", "no")


def compare_rows(plans: list[Plan]) -> tuple[list[Row], list[Row]]:
    """The comparison as rows of cells, one per plan: the terms (price, limits, data use)
    and the features, in registry order (agent sharing follows the plan's flag)."""
    terms = [
        Row("Price", [Cell(price_text(p)) for p in plans]),
        Row("Seats", [Cell(limit(p.seat_limit)) for p in plans]),
        Row("Requests per minute", [Cell(limit(p.requests_per_minute)) for p in plans]),
        Row("Tokens per minute", [Cell(limit(p.tokens_per_minute)) for p in plans]),
        Row("Monthly token cap", [Cell(limit(p.monthly_token_cap)) for p in plans]),
        Row(
            "Training on inputs by default",
            [
                Cell("Yes, unless opted out") if p.trains_on_data_by_default else Cell("No")
                for p in plans
            ],
        ),
    ]
    keys = [p.feature_keys for p in plans]
    features = [
        Row(f.label, [_yes_no(f.key in k) for k in keys], f.description) for f in registry.FEATURES
    ]
    return terms, features


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_PLAN)
def plans(request: WorkspaceRequest) -> HttpResponse:
    ws = request.workspace
    subscription = current_subscription(ws)
    catalogue = list(active_plans())
    current_id = (
        subscription.plan_id
        if subscription is not None
        else next((p.pk for p in catalogue if p.is_default), None)
    )
    base = reverse("ws:plans", args=[ws.slug])
    for p in catalogue:
        p.is_current = p.pk == current_id  # type: ignore[attr-defined]
        p.change_url = f"{base}{p.slug}/change/"  # type: ignore[attr-defined]
    terms, features = compare_rows(catalogue)
    legacy = (
        subscription.plan if subscription is not None and not subscription.plan.is_active else None
    )
    context = {
        "page_title": "Compare plans",
        "nav": "plan",
        "plans": catalogue,
        "terms": terms,
        "features": features,
        "legacy_plan": legacy,
        "can_change": _can_change(request),
        "sales_url": _sales_url(),
    }
    return TemplateResponse(request, PLANS, context)


# --- Changing plan -------------------------------------------------------------------------


def _change_context(
    request: WorkspaceRequest, target: Plan, form: PlanChangeForm
) -> dict[str, Any]:
    preview = services.plan_change_preview(
        workspace=request.workspace, plan=target, viewer=request.membership
    )
    return {
        "page_title": f"Change to the {target.name} plan",
        "nav": "plan",
        "target": target,
        "preview": preview,
        "form": form,
        "training_before": TRAINING_ON if preview.training_before else TRAINING_OFF,
        "training_after": TRAINING_ON if preview.training_after else TRAINING_OFF,
        "sales_url": _sales_url(),
    }


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_BILLING)
def change(request: WorkspaceRequest, plan_slug: str) -> HttpResponse:
    """GET shows the effects of the change and the confirmation form; POST, with the box
    ticked, changes the plan and goes back to the plan page. Errors stay beside the form."""
    ws = request.workspace
    # Plans are the platform's catalogue, not workspace data: any active plan may be asked for.
    target = get_object_or_404(Plan, slug=plan_slug, is_active=True)
    form = PlanChangeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.subscription_change_plan(actor=request.actor, workspace=ws, plan=target)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"The workspace is now on the {target.name} plan.")
            url = reverse("ws:plan", args=[ws.slug])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    template = f"{CHANGE}#change-form" if form.is_bound and request.htmx else CHANGE
    return TemplateResponse(request, template, _change_context(request, target, form))
