"""The permission matrix and who may grant which role (R-WS-2), for every pair."""

from __future__ import annotations

import itertools

import pytest

from accounts.roles import PERMISSIONS, Perm, Role, can_assign_role, has_perm, matrix

ROLES = list(Role)


@pytest.mark.parametrize(
    ("actor", "current", "new"), list(itertools.product(ROLES, [None, *ROLES], ROLES))
)
def test_can_assign_role_every_triple(actor: Role, current: Role | None, new: Role) -> None:
    expected = actor == Role.OWNER or (
        actor == Role.ADMIN and new != Role.OWNER and current != Role.OWNER
    )
    assert can_assign_role(actor, current, new) is expected


def test_only_admins_and_owners_manage_people() -> None:
    for perm in (
        Perm.MANAGE_MEMBERS,
        Perm.MANAGE_INVITATIONS,
        Perm.MANAGE_GROUPS,
        Perm.MANAGE_DOMAINS,
        Perm.VIEW_AUDIT,
    ):
        assert {r for r in ROLES if has_perm(r, perm)} == {Role.ADMIN, Role.OWNER}


def test_billing_role_manages_billing_but_not_people() -> None:
    assert has_perm(Role.BILLING, Perm.MANAGE_BILLING)
    assert not has_perm(Role.ADMIN, Perm.MANAGE_BILLING)
    assert not has_perm(Role.BILLING, Perm.MANAGE_MEMBERS)


def test_only_owner_deletes_workspace() -> None:
    assert [r for r in ROLES if has_perm(r, Perm.DELETE_WORKSPACE)] == [Role.OWNER]


def test_matrix_rows_mirror_the_table() -> None:
    rows = matrix()
    # Staff-only permissions (no workspace role holds them) are not a row of the table.
    shown = [p for p in Perm if PERMISSIONS[p]]
    assert Perm.SUSPEND_WORKSPACE not in shown and len(rows) == len(shown)
    for (_label, cells), perm in zip(rows, shown, strict=True):
        assert cells == [r in PERMISSIONS[perm] for r in ROLES]


def test_roles_compare_by_rank() -> None:
    assert Role.MEMBER < Role.BILLING < Role.ADMIN < Role.OWNER
