"""The one door per object kind (``accounts.access``): each function scopes to the
actor's workspace and authorizes in one call, and answers 404 whether the object is
missing, of another workspace or out of the actor's reach."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.http import Http404

from accounts import access
from accounts.actor import Actor
from accounts.models import JoinRequest, Membership
from accounts.roles import Role
from tests.factories import (
    DomainFactory,
    GroupFactory,
    InvitationFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)

KINDS: dict[str, tuple[Callable[[Actor, int], object], Role | None]] = {
    # kind: (access function, a role that may not reach it, or None when every member may)
    "member": (access.access_member, None),
    "group": (access.access_group, None),
    "invitation": (access.access_invitation, Role.BILLING),
    "domain": (access.access_domain, Role.BILLING),
    "join_request": (access.access_join_request, Role.MEMBER),
}


def _make(kind: str, owner: Membership) -> int:
    ws = owner.workspace
    if kind == "member":
        return int(MembershipFactory(workspace=ws).pk)
    if kind == "group":
        return int(GroupFactory(workspace=ws).pk)
    if kind == "invitation":
        return int(InvitationFactory(workspace=ws, invited_by=owner.user).pk)
    domain = DomainFactory(workspace=ws)
    if kind == "domain":
        return int(domain.pk)
    return int(JoinRequest.objects.create(workspace=ws, user=UserFactory(), domain=domain).pk)


@pytest.fixture
def acme_owner(db: None) -> Membership:
    return MembershipFactory(workspace=WorkspaceFactory(slug="acme"), role=Role.OWNER)


@pytest.fixture
def globex_owner(db: None) -> Membership:
    return MembershipFactory(workspace=WorkspaceFactory(slug="globex"), role=Role.OWNER)


@pytest.mark.parametrize("kind", KINDS)
def test_an_object_of_the_actors_workspace_is_returned(kind: str, acme_owner: Membership) -> None:
    fetch, _ = KINDS[kind]
    pk = _make(kind, acme_owner)
    assert fetch(Actor.member(acme_owner), pk).pk == pk  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", KINDS)
def test_another_workspaces_object_is_a_404(
    kind: str, acme_owner: Membership, globex_owner: Membership
) -> None:
    fetch, _ = KINDS[kind]
    pk = _make(kind, globex_owner)
    with pytest.raises(Http404):
        fetch(Actor.member(acme_owner), pk)


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_object_is_a_404(kind: str, acme_owner: Membership) -> None:
    fetch, _ = KINDS[kind]
    with pytest.raises(Http404):
        fetch(Actor.member(acme_owner), 987654321)


@pytest.mark.parametrize("kind", [k for k, (_, low) in KINDS.items() if low is not None])
def test_an_object_out_of_the_roles_reach_is_a_404(kind: str, acme_owner: Membership) -> None:
    fetch, low = KINDS[kind]
    assert low is not None
    pk = _make(kind, acme_owner)
    member = MembershipFactory(workspace=acme_owner.workspace, role=low)
    with pytest.raises(Http404):
        fetch(Actor.member(member), pk)


@pytest.mark.parametrize("kind", KINDS)
def test_actors_without_a_membership_reach_nothing(kind: str, acme_owner: Membership) -> None:
    fetch, _ = KINDS[kind]
    pk = _make(kind, acme_owner)
    staff = UserFactory(is_staff=True)
    for actor in (Actor.staff(staff), Actor.system(), Actor.for_user(acme_owner.user)):
        with pytest.raises(Http404):
            fetch(actor, pk)
