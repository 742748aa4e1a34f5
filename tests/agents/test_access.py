"""The one agent access decision: against a reference written separately, over random
sharing rules; the "usable by me" queryset agrees with it; the served configuration; query
counts at two sizes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import Workspace
from accounts.roles import Role
from agents import services
from agents.access import AgentFacts, Code, MemberFacts, decide, evaluate, usable_agents
from agents.models import Agent, AgentGrant, GrantRole, Visibility
from agents.selectors import served_config, who_can_use
from agents.services import Config
from core import registry
from features.decisions import Code as FeatureCode
from features.decisions import Decision, Level
from tests.agents.conftest import actor
from tests.factories import (
    AgentFactory,
    EditorialAuthorizationFactory,
    FeatureRuleFactory,
    GroupFactory,
    LibraryFactory,
    MediaStatusChangeFactory,
    MembershipFactory,
)

ME = 1
ALLOWED = Decision(registry.get("agents"), True, FeatureCode.ALLOWED, "ok", Level.PLAN, ())
DENIED = Decision(registry.get("agents"), False, FeatureCode.GROUP_RULE, "off", Level.GROUP, ())


def reference(
    *, active, admin, feature, plan_shares, creator, visibility, disabled, direct, groups
) -> tuple[bool, bool, bool]:
    """(use, edit, manage), written from the issue's words, not from ``evaluate``."""
    if not active:
        return (False, False, False)
    roles = set(groups) | ({direct} if direct else set())
    if creator:
        rights = {"use", "edit", "manage"}
    elif admin:
        rights = {"use", "edit", "manage"} if plan_shares else {"edit", "manage"}
    elif not plan_shares:
        rights = set()
    elif "editor" in roles:
        rights = {"use", "edit", "manage"}
    elif "viewer" in roles or visibility == "workspace":
        rights = {"use"}
    else:
        rights = set()
    if not feature:
        rights = {"manage"} if admin else set()
    if disabled:
        rights -= {"use", "edit"}
    return ("use" in rights, "edit" in rights, "manage" in rights)


roles = st.sampled_from(["viewer", "editor"])


@settings(max_examples=600)
@given(
    active=st.booleans(),
    admin=st.booleans(),
    feature=st.booleans(),
    plan_shares=st.booleans(),
    creator=st.booleans(),
    visibility=st.sampled_from(["workspace", "restricted"]),
    disabled=st.booleans(),
    direct=st.one_of(st.none(), roles),
    my_groups=st.sets(st.integers(1, 5)),
    group_grants=st.dictionaries(st.integers(1, 8), roles),
    other_grants=st.dictionaries(st.integers(2, 6), roles),
)
def test_agrees_with_the_reference(
    active, admin, feature, plan_shares, creator, visibility, disabled, direct, my_groups,
    group_grants, other_grants,
) -> None:  # fmt: skip
    m = MemberFacts(
        membership_id=ME,
        workspace_id=1,
        active=active,
        admin=admin,
        group_ids=frozenset(my_groups),
        feature=ALLOWED if feature else DENIED,
        plan_shares=plan_shares,
        plan_name="Team",
    )
    member_grants = dict(other_grants)
    if direct:
        member_grants[ME] = direct
    a = AgentFacts(
        agent_id=1,
        creator_id=ME if creator else 99,
        visibility=visibility,
        disabled=disabled,
        disabled_reason="Abuse" if disabled else "",
        member_grants=member_grants,
        group_grants=group_grants,
    )
    got = evaluate(m, a)
    held = [role for gid, role in group_grants.items() if gid in my_groups]
    want = reference(
        active=active,
        admin=admin,
        feature=feature,
        plan_shares=plan_shares,
        creator=creator,
        visibility=visibility,
        disabled=disabled,
        direct=direct,
        groups=held,
    )
    assert (got.use, got.edit, got.manage) == want, got
    assert got.reason and got.steps[-1] == got.reason or got.use
    # The grants to others play no part: lists load only those concerning the member.
    concerning = replace(
        a,
        member_grants={k: v for k, v in member_grants.items() if k == ME},
        group_grants={k: v for k, v in group_grants.items() if k in my_groups},
    )
    assert evaluate(m, concerning) == got


def test_the_reason_chain_names_the_group(team: Workspace, member, config) -> None:
    owner = MembershipFactory(workspace=team)
    agent = AgentFactory(workspace=team, created_by=owner, visibility=Visibility.RESTRICTED)
    group = GroupFactory(workspace=team, name="Research")
    group.members.add(member)
    assert decide(member, agent).code == Code.NOT_SHARED
    AgentGrant.objects.create(agent=agent, group=group, role=GrantRole.VIEWER)
    access = decide(member, agent)
    assert access.use and access.code == Code.GROUP_GRANT and "Research" in access.reason


def test_usable_agents_agrees_with_the_decision(team: Workspace, member, admin_member) -> None:
    group = GroupFactory(workspace=team)
    group.members.add(member)
    other = MembershipFactory(workspace=team)
    agents = [
        AgentFactory(workspace=team, created_by=other),  # whole workspace
        AgentFactory(workspace=team, created_by=other, visibility=Visibility.RESTRICTED),
        AgentFactory(workspace=team, created_by=member, visibility=Visibility.RESTRICTED),
        AgentFactory(workspace=team, created_by=other, visibility=Visibility.RESTRICTED),
        AgentFactory(workspace=team, created_by=other, visibility=Visibility.RESTRICTED),
        AgentFactory(
            workspace=team, created_by=other, disabled_at="2026-01-01T00:00Z", disabled_reason="x"
        ),
        AgentFactory(),  # another workspace
    ]
    AgentGrant.objects.create(agent=agents[3], membership=member)
    AgentGrant.objects.create(agent=agents[4], group=group, role=GrantRole.EDITOR)
    for m in (member, admin_member, other):
        listed = set(usable_agents(m))
        assert listed == {a for a in agents if decide(m, a).use}
    assert set(usable_agents(member)) == {agents[0], agents[2], agents[3], agents[4]}


def test_a_plan_without_sharing_leaves_each_agent_to_its_creator(workspace, member) -> None:
    other = MembershipFactory(workspace=workspace)
    agent = AgentFactory(workspace=workspace, created_by=other)
    access = decide(member, agent)
    assert not access.use and access.code == Code.PLAN_FORBIDS_SHARING
    assert list(usable_agents(other)) == [agent]


def _agent_with_tools(team: Workspace, config: Config, creator, tools, **kw) -> Agent:
    return services.agent_create(
        actor=actor(creator),
        workspace=team,
        name="Researcher",
        config=replace(config, tools=tools, **kw),
    )


def test_served_config_drops_a_tool_a_group_is_denied(team, member, owner, config) -> None:
    agent = _agent_with_tools(team, config, owner, ("web_search", "code_interpreter"))
    group = GroupFactory(workspace=team, name="Interns")
    group.members.add(member)
    FeatureRuleFactory(group=group, feature="web_search", effect="deny")
    served = served_config(member, agent)
    assert served.config is not None
    assert served.config.tools == ("code_interpreter",)
    assert [d.tool for d in served.config.dropped] == ["web_search"]
    assert "Interns" in served.config.dropped[0].reason
    assert served_config(owner, agent).config.tools == ("web_search", "code_interpreter")  # type: ignore[union-attr]


def test_a_media_customer_drops_verified_news_with_the_reason(team, member, owner, config) -> None:
    agent = _agent_with_tools(team, config, owner, ("news", "web_search"))
    MediaStatusChangeFactory(workspace=team)
    EditorialAuthorizationFactory(workspace=team, approved=True)  # not for agents
    served = served_config(member, agent).config
    assert served is not None and served.tools == ("web_search",)
    assert served.dropped[0].tool == "news" and "Media Customer" in served.dropped[0].reason


def test_served_config_keeps_only_sources_that_remain(team, member, owner, config) -> None:
    kept, gone = LibraryFactory(workspace=team), LibraryFactory(workspace=team)
    agent = _agent_with_tools(
        team, config, owner, ("document_search",), library_ids=(kept.pk, gone.pk)
    )
    gone.delete()
    served = served_config(member, agent).config
    assert served is not None and served.library_ids == (kept.pk,)
    FeatureRuleFactory(membership=member, feature="libraries", effect="deny")
    served = served_config(member, agent).config
    assert served is not None and served.tools == () and served.library_ids == ()


def test_served_config_is_none_without_access(team, member, owner, config) -> None:
    agent = services.agent_create(
        actor=actor(owner), workspace=team, name="Private", config=config, visibility="restricted"
    )
    served = served_config(member, agent)
    assert served.config is None and served.access.code == Code.NOT_SHARED


def _populate(team: Workspace, n: int) -> None:
    groups = [GroupFactory(workspace=team) for _ in range(n)]
    for i in range(n):
        m = MembershipFactory(workspace=team, role=Role.ADMIN if i == 0 else Role.MEMBER)
        groups[i].members.add(m)
        restricted = AgentFactory(workspace=team, created_by=m, visibility=Visibility.RESTRICTED)
        AgentGrant.objects.create(agent=restricted, group=groups[(i + 1) % n])
        AgentFactory(workspace=team, created_by=m)


@pytest.mark.parametrize("n", [2, 12])
def test_usable_agents_queries_do_not_grow(team, member, n, django_assert_num_queries) -> None:
    _populate(team, n)
    GroupFactory(workspace=team).members.add(member)
    # The workspace's facts (plan, rules, Media Customer state), the member's groups, rules
    # and switches, the agents with their versions and models.
    with django_assert_num_queries(7):
        rows = list(usable_agents(member))
        assert all(r.current is not None and r.current.base_model is not None for r in rows)
    assert len(rows) == n


@pytest.mark.parametrize("n", [2, 12])
def test_who_can_use_queries_do_not_grow(team, n, django_assert_num_queries) -> None:
    _populate(team, n)
    agent = Agent.objects.filter(workspace=team, visibility=Visibility.WORKSPACE).first()
    assert agent is not None
    # The members, the workspace's facts, the members' groups, rules and switches, the
    # agent's grants with the groups' names.
    with django_assert_num_queries(8):
        page = who_can_use(agent, size=5)
    assert page.count == n and len(page.rows) == min(5, n)
    assert {row.access.code for row in page.rows} <= {
        Code.WHOLE_WORKSPACE,
        Code.CREATOR,
        Code.ADMIN,
    }
