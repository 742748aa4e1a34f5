"""The permission matrix and who may grant which role (R-WS-2), for every pair."""

from __future__ import annotations

import itertools

import pytest

from accounts.roles import PERM_LABELS, PERMISSIONS, Perm, Role, can_assign_role, has_perm, matrix

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
    assert len(rows) == len(PERM_LABELS)
    for (label, cells), perm in zip(rows, PERM_LABELS, strict=True):
        assert label == PERM_LABELS[perm]
        assert cells == [r in PERMISSIONS[perm] for r in ROLES]


def test_roles_compare_by_rank() -> None:
    assert Role.MEMBER < Role.BILLING < Role.ADMIN < Role.OWNER


# Each permission the Roles page lists, and the page where a role that has it uses it.
# A label without a page here fails: the page would promise what the console lacks.
PERM_PAGES: dict[Perm, str] = {
    Perm.VIEW_WORKSPACE: "ws:overview",
    Perm.VIEW_MEMBERS: "ws:members",
    Perm.MANAGE_MEMBERS: "ws:members",
    Perm.MANAGE_INVITATIONS: "ws:invitations",
    Perm.MANAGE_GROUPS: "ws:groups",
    Perm.MANAGE_DOMAINS: "ws:domains",
    Perm.VIEW_AUDIT: "ws:audit",
    Perm.MANAGE_SETTINGS: "ws:settings",
    Perm.MANAGE_BILLING: "ws:plan_change",
    Perm.VIEW_PLAN: "ws:plans",
    Perm.MANAGE_FEATURES: "ws:features",
    Perm.MANAGE_COMPLIANCE: "ws:compliance",
    Perm.FILE_APPEAL: "ws:appeal",
    Perm.MANAGE_CONNECTORS: "ws:connectors",
}


@pytest.mark.django_db
def test_every_permission_on_the_roles_page_has_a_page(client, workspace) -> None:
    from django.urls import reverse  # noqa: PLC0415

    from tests.factories import MembershipFactory  # noqa: PLC0415

    owner = MembershipFactory(workspace=workspace, role=Role.OWNER)
    client.force_login(owner.user)
    html = client.get(reverse("ws:roles", args=[workspace.slug])).content.decode()
    shown = [label for label, _ in matrix()]
    assert shown and all(f'<th scope="row">{label}</th>' in html for label in shown)
    assert "Delete the workspace" not in html and "invoice" not in html.lower()
    by_label = {label: perm for perm, label in PERM_LABELS.items()}
    for label in shown:
        perm = by_label[label]
        assert perm in PERM_PAGES, f"{label!r} is listed but names no page of the console"
        name = PERM_PAGES[perm]
        args = [workspace.slug, "team"] if name == "ws:plan_change" else [workspace.slug]
        response = client.get(reverse(name, args=args))
        # The page exists and answers its role (the appeal page may say "not suspended").
        assert response.status_code in (200, 302), (label, name, response.status_code)
