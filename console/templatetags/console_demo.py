"""What the sign-in page shows of the demo (``console.demo``)."""

from __future__ import annotations

from typing import Any

from django import template

from console import demo

register = template.Library()


@register.simple_tag
def demo_sign_in() -> dict[str, Any] | None:
    """The demo accounts and their password while the demo data is loaded on a developer's
    machine (DEBUG); None anywhere else, so a real sign-in page never shows them."""
    accounts = demo.sign_in_accounts()
    if not accounts:
        return None
    return {"accounts": accounts, "password": demo.PASSWORD}
