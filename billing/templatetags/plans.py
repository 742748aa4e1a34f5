"""Filters of the plan pages: ``{{ plan|price }}`` and ``{{ plan.tokens_per_minute|limit }}``."""

from __future__ import annotations

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from billing.models import Plan
from billing.selectors import price_text

register = template.Library()

NO_LIMIT = "No limit"


@register.filter
def limit(value: int | None) -> str:
    """A limit with thousands separators; empty means no limit."""
    return NO_LIMIT if value is None else str(intcomma(value))


@register.filter
def price(plan: Plan) -> str:
    return price_text(plan)
