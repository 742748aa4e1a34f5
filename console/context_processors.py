from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import Membership, MemberStatus
from accounts.roles import Perm, has_perm
from core import statements

# The workspace switcher's entries: (workspace id, slug, name) of the user's active
# memberships by name; on every page, so its SQL is compiled once.
_SWITCHER = statements.Statement(
    lambda user_id: (
        Membership.objects.filter(user_id=user_id, status=MemberStatus.ACTIVE)
        .order_by("workspace__name", "workspace_id")
        .values_list("workspace_id", "workspace__slug", "workspace__name")[:50]
    ),
    user_id=int,
)


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the navigation shell needs: the user's workspaces and what their role allows."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def workspaces() -> list[dict[str, Any]]:
        return [
            {"workspace_id": pk, "slug": slug, "name": name}
            for pk, slug, name in _SWITCHER.rows(user_id=user.pk)
        ]

    membership = getattr(request, "membership", None)
    can = {p.value: has_perm(membership.role, p) for p in Perm} if membership else {}
    return {
        "my_workspaces": workspaces,
        "can": can,
        "membership_role": membership.role if membership else None,
        "current_workspace": getattr(request, "workspace", None),
    }
