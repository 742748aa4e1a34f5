"""The agents' reads that pages share: the grants of an agent, agents by exact name and the
share dialog's candidates, each in a fixed number of queries at two sizes."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import Membership, MemberStatus, Workspace
from agents import selectors, services
from agents.models import Agent, GrantRole, Visibility
from agents.services import Config, ShareTarget
from tests.agents.conftest import actor
from tests.factories import GroupFactory, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def make(m: Membership, config: Config, name: str, **kw: Any) -> Agent:
    return services.agent_create(
        actor=actor(m), workspace=m.workspace, name=name, config=config, **kw
    )


def grant(m: Membership, agent: Agent, target: ShareTarget, role: str = GrantRole.VIEWER) -> None:
    services.agent_share_grant(actor=actor(m), agent_id=agent.pk, target=target, role=role)


def test_grants_are_listed_with_their_group_or_member_in_one_query(
    team: Workspace, owner, config, django_assert_num_queries
) -> None:
    agent = make(owner, config, "Helper", visibility=Visibility.RESTRICTED)
    for i in range(5):
        grant(owner, agent, ShareTarget.group(GroupFactory(workspace=team, name=f"G{i}").pk))
        grant(owner, agent, ShareTarget.member(MembershipFactory(workspace=team).pk))
    with django_assert_num_queries(1):
        rows = selectors.grants(agent)
        labels = [g.group.name if g.group else g.membership.user.email for g in rows]
    # Groups by name, members by email (where grants of the other kind fall, the database
    # decides: NULL names sort last on PostgreSQL, first on SQLite).
    assert [x for x in labels if x.startswith("G")] == ["G0", "G1", "G2", "G3", "G4"]
    emails = [x for x in labels if "@" in x]
    assert len(emails) == 5 and emails == sorted(emails)


def test_named_finds_the_exact_name_in_the_workspace_only(
    team: Workspace, owner, config, django_assert_num_queries
) -> None:
    make(owner, config, "Payroll")
    make(owner, config, "Payroll assistant")
    with django_assert_num_queries(1):
        found = selectors.named(team.pk, "PAYROLL", limit=5)
        assert [a.current.number for a in found if a.current] == [1]
    assert [a.name for a in found] == ["Payroll"]
    assert selectors.named(WorkspaceFactory().pk, "Payroll", limit=5) == []


@pytest.mark.parametrize("size", [2, 12])
def test_share_candidates_search_groups_and_active_members_with_their_roles(
    team: Workspace, owner, config, size: int, django_assert_num_queries
) -> None:
    # Names the search cannot match ("gra"): factories give random ones (Graham, Grant...).
    type(owner.user).objects.filter(pk=owner.user_id).update(name="Olivia Owner")
    agent = make(owner, config, "Helper", visibility=Visibility.RESTRICTED)
    groups = [GroupFactory(workspace=team, name=f"Graphics {i:02}") for i in range(size)]
    members = [
        MembershipFactory(
            workspace=team, user=UserFactory(email=f"gra{i:02}@acme.test", name=f"Member {i}")
        )
        for i in range(size)
    ]
    MembershipFactory(
        workspace=team, status=MemberStatus.DEACTIVATED, user=UserFactory(email="gra@gone.test")
    )
    GroupFactory(workspace=WorkspaceFactory(), name="Grapes")  # another workspace's
    grant(owner, agent, ShareTarget.group(groups[0].pk), GrantRole.EDITOR)
    grant(owner, agent, ShareTarget.member(members[1].pk))
    with django_assert_num_queries(3):
        choices = selectors.share_candidates(agent, "gra", limit=10)
    # An agent reaches the whole workspace by its visibility: no "everyone" choice.
    assert choices.offered == ()
    found = choices.found
    shown = min(size, 10)
    assert [c.label for c in found[:shown]] == [g.name for g in groups[:shown]]
    assert [c.label for c in found[shown:]] == [m.user.email for m in members[:shown]]
    assert found[0].target == f"group:{groups[0].pk}" and found[0].role == GrantRole.EDITOR
    assert found[shown + 1].role == GrantRole.VIEWER and found[shown].role == ""
    with django_assert_num_queries(0):
        assert selectors.share_candidates(agent, " ", limit=10).all == ()
