"""Which plans exist, for the admin's "offered on" choices. Plans live in ``billing``,
above the catalogue, which therefore cannot read them: billing hands the catalogue a
function that lists them when the apps are ready (``BillingConfig.ready``). Without it
(the catalogue on its own) the choices are the slugs the offers already name."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .models import ModelOffer

PlanChoices = Callable[[], Sequence[tuple[str, str]]]

_plans: PlanChoices | None = None


def provide_plans(source: PlanChoices | None) -> None:
    """Set the function that lists the plans as ``(slug, name)`` pairs, in their order."""
    global _plans
    _plans = source


def plan_choices() -> list[tuple[str, str]]:
    if _plans is not None:
        return list(_plans())
    slugs = ModelOffer.objects.order_by("plan_slug").values_list("plan_slug", flat=True)
    return [(slug, slug) for slug in slugs.distinct()]
