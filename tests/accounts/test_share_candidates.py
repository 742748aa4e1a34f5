"""The share dialogs' search (agents', libraries'): the groups and active members of one
workspace matching a search, the whole workspace where it is offered, each with the role
the caller says it holds; in a fixed number of queries, none for an empty search."""

from __future__ import annotations

import pytest

from accounts.models import MemberStatus, Workspace
from accounts.selectors import EVERYONE_TARGET, ShareCandidate, share_candidates
from tests.factories import GroupFactory, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def no_roles() -> dict[str, str]:
    return {}


def test_groups_then_active_members_of_the_workspace_match(
    workspace: Workspace, django_assert_num_queries
) -> None:
    research = GroupFactory(workspace=workspace, name="Research")
    GroupFactory(workspace=workspace, name="Sales")
    GroupFactory(workspace=WorkspaceFactory(), name="Research abroad")
    ada = MembershipFactory(
        workspace=workspace, user=UserFactory(email="ada@acme.test", name="Ada Research")
    )
    rex = MembershipFactory(workspace=workspace, user=UserFactory(email="rex@acme.test", name=""))
    MembershipFactory(
        workspace=workspace,
        status=MemberStatus.DEACTIVATED,
        user=UserFactory(email="research@gone.test"),
    )
    asked: list[bool] = []

    def held() -> dict[str, str]:
        asked.append(True)
        return {f"group:{research.pk}": "editor", f"member:{rex.pk}": "viewer"}

    with django_assert_num_queries(2):
        choices = share_candidates(workspace.pk, " rese ", limit=10, held=held)
    assert choices.offered == () and asked == [True]
    assert choices.found == (
        ShareCandidate(f"group:{research.pk}", "Research", "group", "editor"),
        ShareCandidate(f"member:{ada.pk}", "ada@acme.test", "member, Ada Research", ""),
    )
    rexes = share_candidates(workspace.pk, "rex@", limit=10, held=held).found
    assert rexes == (ShareCandidate(f"member:{rex.pk}", "rex@acme.test", "member", "viewer"),)


def test_each_kind_stops_at_the_limit(workspace: Workspace) -> None:
    for i in range(4):
        GroupFactory(workspace=workspace, name=f"Team {i}")
        MembershipFactory(workspace=workspace, user=UserFactory(email=f"team{i}@acme.test"))
    found = share_candidates(workspace.pk, "team", limit=2, held=no_roles).found
    assert [c.label for c in found] == ["Team 0", "Team 1", "team0@acme.test", "team1@acme.test"]


def test_the_whole_workspace_is_offered_whatever_the_search(
    workspace: Workspace, django_assert_num_queries
) -> None:
    def held() -> dict[str, str]:
        return {EVERYONE_TARGET: "viewer"}

    with django_assert_num_queries(0):
        choices = share_candidates(workspace.pk, "", limit=10, held=held, everyone=True)
    everyone = ShareCandidate(
        EVERYONE_TARGET, "Everyone in the workspace", "every member", "viewer"
    )
    assert choices.offered == (everyone,) and choices.found == () and choices.all == (everyone,)


@pytest.mark.parametrize("q", ["", "   ", "a\x00b", "\ud800"])
def test_an_empty_search_or_one_the_database_cannot_hold_asks_nothing(
    workspace: Workspace, q: str, django_assert_num_queries
) -> None:
    def held() -> dict[str, str]:
        raise AssertionError("no candidate, no roles to read")

    with django_assert_num_queries(0):
        assert share_candidates(workspace.pk, q, limit=10, held=held).all == ()


def test_a_long_search_is_cut_to_its_first_hundred_characters(workspace: Workspace) -> None:
    MembershipFactory(workspace=workspace, user=UserFactory(email="x" * 100 + "@acme.test"))
    found = share_candidates(workspace.pk, "x" * 100 + "y" * 400, limit=10, held=no_roles).found
    assert [c.label for c in found] == ["x" * 100 + "@acme.test"]
