"""The agents' reads that pages share: the grants of an agent, agents by exact name and the
share dialog's candidates, each in a fixed number of queries at two sizes."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from accounts.actor import Actor
from accounts.models import Membership, MemberStatus, Workspace
from agents import selectors, services
from agents.access import usable_agents
from agents.models import Agent, AgentGrant, AgentVersion, GrantRole, Visibility
from agents.services import Config, ShareTarget
from tests.agents.conftest import actor
from tests.factories import (
    AgentFactory,
    GroupFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)

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


# --- The lists' pages from compiled statements agree with the querysets ----------------------


def _shown(agents: list[Agent]) -> list[tuple[Any, ...]]:
    return [
        (
            a.pk,
            a.name,
            a.description,
            a.is_disabled,
            a.current.model_ref.public_id if a.current else None,
            a.current.tools if a.current else None,
            a.current.library_ids if a.current else None,
        )
        for a in agents
    ]


def _walk(page_of: Any, size: int) -> tuple[list[Agent], list[Agent]]:
    """Every row of a list, forward by its "Next" cursors, then back by "Previous"."""
    forward: list[Agent] = []
    page = page_of(size=size)
    pages = [page]
    while True:
        forward += page.agents
        assert len(pages) < 100, "the pages do not end"
        if page.next is None:
            break
        page = page_of(size=size, after=page.next)
        pages.append(page)
    backward: list[Agent] = []
    page = pages[-1]
    while page.previous is not None:
        assert len(backward) < 100, "the pages do not end"
        page = page_of(size=size, before=page.previous)
        backward = page.agents + backward
    return forward, backward + pages[-1].agents


@pytest.mark.parametrize("size", [1, 3, 25])
def test_list_pages_from_statements_are_the_querysets_pages(
    team: Workspace, owner, member, config, size: int
) -> None:
    interns = GroupFactory(workspace=team, name="Interns")
    interns.members.add(member)
    loner = MembershipFactory(workspace=team)
    for i in range(4):
        make(owner, config, f"Shared {i}")
        restricted = make(owner, config, f"Restricted {i}", visibility=Visibility.RESTRICTED)
        if i % 2:
            grant(owner, restricted, ShareTarget.group(interns.pk))
        else:
            grant(owner, restricted, ShareTarget.member(member.pk))
    make(member, Config(model=config.model, tools=("web_search",)), "Mine", description="Own")
    # Lower and upper case: whatever order the database's collation gives, both alike.
    make(owner, config, "alpha")
    make(owner, config, "Beta")
    staff = UserFactory(is_staff=True)
    off = make(owner, config, "Switched off")
    services.agent_disable(actor=Actor.staff(staff), agent_id=off.pk, reason="Misleading.")
    fine_tuned = make(owner, config, "Fine-tuned")
    fine_tuned.current.base_model, fine_tuned.current.fine_tuned_id = None, "ft:acme:triage"
    fine_tuned.current.save(update_fields=["base_model", "fine_tuned_id"])
    AgentFactory(workspace=team, created_by=member, name="No version yet", version=False)
    other = WorkspaceFactory()
    AgentFactory(workspace=other, name="Elsewhere")

    K = selectors.ListKind
    cases = [
        (K.USABLE_ALL, owner),
        (K.USABLE_SHARED_AND_GROUPS, member),
        (K.USABLE_SHARED, loner),
        (K.USABLE_CREATED, member),
        (K.CREATED_BY, member),
        (K.WORKSPACE, owner),
    ]
    for kind, m in cases:
        qs = selectors.list_queryset(kind, m)
        expected = _shown(list(qs.order_by("name", "id")))
        assert expected, kind

        def by_statement(m: Membership = m, kind: selectors.ListKind = kind, **kw: Any) -> Any:
            return selectors.list_page(kind, m, **kw)

        def by_queryset(qs: Any = qs, **kw: Any) -> Any:
            return selectors.agent_page(qs, **kw)

        for page_of in (by_statement, by_queryset):
            forward, backward = _walk(page_of, size)
            assert _shown(forward) == expected, (kind, page_of)
            assert _shown(backward) == expected, (kind, page_of)
    # The usable lists are the rule of the access decision (usable_agents).
    for kind, m in cases[:3]:
        listed = {a.pk for a in selectors.list_page(kind, m, size=100).agents}
        assert listed == {a.pk for a in usable_agents(m)}, kind
    names = {a.name for a in selectors.list_page(K.WORKSPACE, owner, size=100).agents}
    assert "Elsewhere" not in names and "No version yet" in names


def test_a_later_page_is_planned_once_whatever_its_cursor_on_postgresql(
    team: Workspace, owner, member, model
) -> None:
    """A page after a cursor runs a prepared statement whose plan serves every cursor: its
    bound is one row comparison, which PostgreSQL estimates alike for any value, where the
    same bound spelt out (name > x OR name = x AND id > y) is planned anew on every request,
    its estimate for a value being far from its estimate for any."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements and their plans are PostgreSQL's")
    group = GroupFactory(workspace=team, name="Readers")
    group.members.add(member)
    agents = Agent.objects.bulk_create(
        Agent(workspace=team, created_by=owner, name=f"Agent {i:04d}", visibility=v)
        for i, v in enumerate([Visibility.WORKSPACE, *[Visibility.RESTRICTED] * 4] * 600)
    )
    AgentVersion.objects.bulk_create(
        AgentVersion(agent=a, number=1, base_model=model) for a in agents
    )
    AgentGrant.objects.bulk_create(AgentGrant(agent=a, group=group) for a in agents[1::10])
    with connection.cursor() as db:
        db.execute(
            "UPDATE agents_agent SET current_id = v.id FROM agents_agentversion v"
            " WHERE v.agent_id = agents_agent.id"
        )
        db.execute("ANALYZE agents_agent, agents_agentgrant, agents_agentversion")
    kind = selectors.ListKind.USABLE_SHARED_AND_GROUPS
    first = selectors.list_page(kind, member, size=12).agents
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    for i in range(threshold + 20):
        page = selectors.list_page(kind, member, size=2, after=selectors.Cursor.of(first[i % 10]))
        assert [a.pk for a in page.agents] == [a.pk for a in first[i % 10 + 1 : i % 10 + 3]]
    with connection.cursor() as db:
        db.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ["%ORDER BY%LIMIT 3) ORDER BY%"],
        )
        plans = db.fetchall()
    assert len(plans) == 1
    generic, custom = plans[0]
    # PostgreSQL plans the first five runs of a prepared statement for their values; from
    # then on the one plan for any value serves, as it proves no dearer.
    assert custom <= 5 and generic >= 15, plans
