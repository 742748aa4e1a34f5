"""Roles and the one permission matrix of the console (R-WS-2).

Roles are gapped integers so they compare: member < billing < admin < owner. Who may
do what is the PERMISSIONS table below; the members page shows it as it is here.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.IntegerChoices):
    MEMBER = 10, "Member"
    BILLING = 20, "Billing"
    ADMIN = 30, "Admin"
    OWNER = 40, "Owner"


class Perm(StrEnum):
    VIEW_WORKSPACE = "view_workspace"
    VIEW_MEMBERS = "view_members"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_INVITATIONS = "manage_invitations"
    MANAGE_GROUPS = "manage_groups"
    MANAGE_DOMAINS = "manage_domains"
    VIEW_AUDIT = "view_audit"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_BILLING = "manage_billing"
    VIEW_PLAN = "view_plan"
    MANAGE_FEATURES = "manage_features"
    MANAGE_COMPLIANCE = "manage_compliance"
    FILE_APPEAL = "file_appeal"
    MANAGE_CONNECTORS = "manage_connectors"
    DELETE_WORKSPACE = "delete_workspace"
    # Staff only: no workspace role holds it (``accounts.actor.authorize`` lets staff act).
    SUSPEND_WORKSPACE = "suspend_workspace"


# What the Roles page lists, in this order. A permission appears here only once the
# console has the page it opens: DELETE_WORKSPACE waits for workspace deletion, and
# MANAGE_BILLING names only the plan change until payments and invoices exist.
PERM_LABELS: dict[Perm, str] = {
    Perm.VIEW_WORKSPACE: "Use the workspace",
    Perm.VIEW_MEMBERS: "See the members list",
    Perm.MANAGE_MEMBERS: "Change roles, deactivate and remove members",
    Perm.MANAGE_INVITATIONS: "Invite, resend and revoke invitations",
    Perm.MANAGE_GROUPS: "Create, rename and delete groups",
    Perm.MANAGE_DOMAINS: "Claim domains and decide join requests",
    Perm.VIEW_AUDIT: "Read and export the audit log",
    Perm.MANAGE_SETTINGS: "Change workspace settings",
    Perm.MANAGE_BILLING: "Change plan",
    Perm.VIEW_PLAN: "See the plan, its limits and compare plans",
    Perm.MANAGE_FEATURES: "Allow and deny features for the workspace, groups and members",
    Perm.MANAGE_COMPLIANCE: "Declare Media Customer status and request editorial-use authorization",
    Perm.FILE_APPEAL: "Appeal a suspension of the workspace",
    Perm.MANAGE_CONNECTORS: "Connect, sync and disconnect services; see who can see each document, and why",
}

_ALL = frozenset(Role)
_ADMINS = frozenset({Role.ADMIN, Role.OWNER})

PERMISSIONS: dict[Perm, frozenset[Role]] = {
    Perm.VIEW_WORKSPACE: _ALL,
    Perm.VIEW_MEMBERS: _ALL,
    Perm.MANAGE_MEMBERS: _ADMINS,
    Perm.MANAGE_INVITATIONS: _ADMINS,
    Perm.MANAGE_GROUPS: _ADMINS,
    Perm.MANAGE_DOMAINS: _ADMINS,
    Perm.VIEW_AUDIT: _ADMINS,
    Perm.MANAGE_SETTINGS: _ADMINS,
    Perm.MANAGE_BILLING: frozenset({Role.BILLING, Role.OWNER}),
    Perm.VIEW_PLAN: frozenset({Role.BILLING, Role.ADMIN, Role.OWNER}),
    Perm.MANAGE_FEATURES: _ADMINS,
    Perm.MANAGE_COMPLIANCE: _ADMINS,
    Perm.FILE_APPEAL: frozenset({Role.OWNER}),
    Perm.MANAGE_CONNECTORS: _ADMINS,
    Perm.DELETE_WORKSPACE: frozenset({Role.OWNER}),
    Perm.SUSPEND_WORKSPACE: frozenset(),
}


def has_perm(role: int, perm: Perm) -> bool:
    return role in PERMISSIONS[perm]


def can_assign_role(actor_role: int, current_role: int | None, new_role: int) -> bool:
    """May a member with ``actor_role`` move someone from ``current_role`` (None for a
    newcomer, as in an invitation) to ``new_role``?

    Owners may grant and take any role. Admins manage everyone below owner and may
    grant any role but owner. Nobody else changes roles.
    """
    if actor_role == Role.OWNER:
        return True
    if actor_role == Role.ADMIN:
        return new_role != Role.OWNER and current_role != Role.OWNER
    return False


def can_manage_member(actor_role: int, target_role: int) -> bool:
    """May a member with ``actor_role`` deactivate, reactivate or remove a member who holds
    ``target_role``? The same rule as keeping them in their role: owners manage everyone,
    admins everyone below owner."""
    return can_assign_role(actor_role, target_role, target_role)


def matrix() -> list[tuple[str, list[bool]]]:
    """Rows of the permission table shown to users: label, then one cell per role. Only
    the permissions of PERM_LABELS: those of features not built yet stay off the page."""
    roles = list(Role)
    return [(label, [r in PERMISSIONS[p] for r in roles]) for p, label in PERM_LABELS.items()]
