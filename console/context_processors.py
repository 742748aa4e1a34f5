from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import Membership, MemberStatus
from accounts.roles import Perm, has_perm


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the navigation shell needs: the user's workspaces and what their role allows."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def workspaces() -> list[Membership]:
        return list(
            Membership.objects.filter(user=user, status=MemberStatus.ACTIVE)
            .select_related("workspace")
            .order_by("workspace__name")[:50]
        )

    membership = getattr(request, "membership", None)
    can = {p.value: has_perm(membership.role, p) for p in Perm} if membership else {}
    return {
        "my_workspaces": workspaces,
        "can": can,
        "current_workspace": getattr(request, "workspace", None),
    }
