"""Messages of the errors a user can meet when changing plan. Raised as
``core.errors.DomainError``; tests reuse the constants."""

from __future__ import annotations

PLAN_IS_CURRENT = "The workspace is already on the {plan} plan."
PLAN_INACTIVE = "The {plan} plan is no longer offered."
PLAN_CONTACT_SALES = "The {plan} plan is arranged with our sales team: contact sales to move to it."
CONFIRM_REQUIRED = "Tick the box to confirm that you understand the effects of this change."


def seats_over(*, limit: int, active: int) -> str:
    """The refusal of a plan whose seat limit is below the active members, with the numbers:
    "This plan allows 5 seats; the workspace has 8 active members. Deactivate 3 members first."
    """
    over = active - limit
    return (
        f"This plan allows {limit} seat{'s' if limit != 1 else ''}; the workspace has {active} "
        f"active member{'s' if active != 1 else ''}. "
        f"Deactivate {over} member{'s' if over != 1 else ''} first."
    )
