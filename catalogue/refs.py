"""May a workspace on this plan use this model, and why: the one answer for agents, keys
and jobs (a model not in the plan is refused at save and at use).

The checks, in order; the first that refuses ends them:

1. a fine-tuned model: not served yet (the ``finetuning`` app will answer for its ids,
   the workspace that owns it included);
2. the lifecycle: a retired model, or a deprecated one whose retirement date has come, is
   refused;
3. the plan: a model the plan does not offer is refused;
4. a deprecated model is usable, with a warning that names its retirement date.

The plan comes as its slug: plans live in ``billing``, above the catalogue.
``billing.selectors.resolve_for_workspace`` answers for a workspace's current plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.utils import timezone

from .models import BaseModel, Lifecycle, ModelRef


class Code(StrEnum):
    """Why the answer came out as it did; stable values for the service API."""

    AVAILABLE = "available"
    DEPRECATED = "deprecated"
    RETIRED = "retired"
    NOT_IN_PLAN = "not_in_plan"
    FINE_TUNED_UNAVAILABLE = "fine_tuned_unavailable"


OFFERED = "{model} is offered on the {plan} plan."
RETIRED = "{model} was retired on {date}."
NOT_IN_PLAN = "{model} is not offered on the {plan} plan."
DEPRECATED = (
    "{model} is deprecated and will be retired on {date}: move to another model before then."
)
FINE_TUNED_UNAVAILABLE = "Fine-tuned models cannot be used yet."


@dataclass(frozen=True)
class Resolved:
    ref: ModelRef
    usable: bool
    code: Code
    # A sentence fit to show beside the model's field.
    reason: str
    # For a usable deprecated model: what to tell whoever uses it.
    warning: str = ""
    retirement_date: date | None = None


def evaluate(
    ref: ModelRef, model: BaseModel, *, offered: bool, plan_name: str, today: date
) -> Resolved:
    """The answer for a base model, from facts already loaded."""
    name = model.name
    if model.is_retired_on(today):
        when = model.retirement_date.isoformat() if model.retirement_date else "an earlier date"
        return Resolved(
            ref,
            False,
            Code.RETIRED,
            RETIRED.format(model=name, date=when),
            retirement_date=model.retirement_date,
        )
    if not offered:
        return Resolved(
            ref, False, Code.NOT_IN_PLAN, NOT_IN_PLAN.format(model=name, plan=plan_name)
        )
    reason = OFFERED.format(model=name, plan=plan_name)
    if model.lifecycle == Lifecycle.DEPRECATED and model.retirement_date is not None:
        warning = DEPRECATED.format(model=name, date=model.retirement_date.isoformat())
        return Resolved(ref, True, Code.DEPRECATED, reason, warning, model.retirement_date)
    return Resolved(ref, True, Code.AVAILABLE, reason)


def resolve(
    ref: ModelRef, plan_slug: str, *, plan_name: str = "", today: date | None = None
) -> Resolved:
    """Whether ``ref`` is usable on the plan ``plan_slug`` today. One query for the plans
    that offer the model, none when its ``offers`` are prefetched. ``plan_name`` words the
    reason (the slug when not given)."""
    if ref.base is None:
        return Resolved(ref, False, Code.FINE_TUNED_UNAVAILABLE, FINE_TUNED_UNAVAILABLE)
    return evaluate(
        ref,
        ref.base,
        offered=plan_slug in ref.base.plan_slugs,
        plan_name=plan_name or plan_slug,
        today=today or timezone.localdate(),
    )
