"""Reads of the feature pages (R-WS-6). Decisions themselves come from
``features.decisions``; these return the rows the matrix is drawn over and the rules an
admin has set, each in one query whatever the size of the workspace."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from accounts.models import Group, Membership, Workspace
from accounts.selectors import MEMBER_ORDER

from .decisions import INHERIT
from .models import FeatureRule

SEARCH_MAX = 100


def matrix_members(workspace: Workspace, q: str = "") -> QuerySet[Membership]:
    """Members of the workspace for the matrix, newest first (the order of the members
    page, served by the (workspace, joined_at) index), optionally searched by name or email."""
    qs = Membership.objects.filter(workspace=workspace).select_related("user")
    q = q.strip()[:SEARCH_MAX]
    if q:
        qs = qs.filter(Q(user__email__icontains=q) | Q(user__name__icontains=q))
    return qs.order_by(*MEMBER_ORDER)


def matrix_groups(workspace: Workspace) -> QuerySet[Group]:
    return (
        Group.objects.filter(workspace=workspace)
        .only("id", "name", "workspace_id")
        .order_by("name", "id")
    )


def member_rules(workspace: Workspace, membership_ids: Iterable[int]) -> dict[tuple[int, str], str]:
    """The members' own rules, by (membership id, feature): one query for a page of members."""
    rows = FeatureRule.objects.filter(workspace=workspace, membership_id__in=list(membership_ids))
    return {
        (mid, feature): effect
        for mid, feature, effect in rows.values_list("membership_id", "feature", "effect")
    }


def rule_effect(
    workspace: Workspace,
    feature: str,
    *,
    group: Group | None = None,
    membership: Membership | None = None,
) -> str:
    """The effect of one rule: "allow", "deny", or "inherit" when there is none."""
    effect = (
        FeatureRule.objects.filter(
            workspace=workspace, feature=feature, group=group, membership=membership
        )
        .values_list("effect", flat=True)
        .first()
    )
    return effect or INHERIT
