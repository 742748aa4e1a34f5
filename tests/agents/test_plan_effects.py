"""A change of plan that takes agent sharing away, as the plan-change preview shows it: the
agents shared beyond their creator, counted and the first named with a link, in a fixed
number of queries; and the agent's page after the change, saying why sharing is off."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, Workspace
from accounts.roles import Role
from agents import selectors, services
from agents.models import Agent, GrantRole, Visibility
from agents.services import Config, ShareTarget
from billing import services as billing
from billing.models import Plan
from tests.agents.conftest import actor
from tests.conftest import login
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LOST = "shared beyond their creator become usable by their creator alone"


def url(name: str, *args: object) -> str:
    return reverse(f"ws:{name}", args=["acme", *args])


def text(response: Any) -> str:
    """The page's text, tags taken out where they stand (a link in a sentence leaves no
    space before the full stop), spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", response.content.decode()).split())


def make(m: Membership, config: Config, name: str, **kw: Any) -> Agent:
    return services.agent_create(
        actor=actor(m), workspace=m.workspace, name=name, config=config, **kw
    )


def share(m: Membership, agent: Agent, target: ShareTarget) -> None:
    services.agent_share_grant(
        actor=actor(m), agent_id=agent.pk, target=target, role=GrantRole.VIEWER
    )


@pytest.fixture
def other(team: Workspace) -> Membership:
    return MembershipFactory(workspace=team, user=UserFactory(email="grace@acme.test"))


def test_the_preview_names_the_agents_shared_beyond_their_creator(
    client: Client, team, owner, member, other, config
) -> None:
    group = GroupFactory(workspace=team, name="Research")
    make(member, config, "Sales assistant")  # the whole workspace
    legal = make(member, config, "Legal triage", visibility=Visibility.RESTRICTED)
    share(member, legal, ShareTarget.group(group.pk))
    payroll = make(member, config, "Payroll", visibility=Visibility.RESTRICTED)
    share(member, payroll, ShareTarget.member(other.pk))
    for i in range(3):
        make(owner, config, f"Wiki {i}")
    # Not shared beyond the creator: restricted without grants, or granted to them alone.
    make(member, config, "Diary", visibility=Visibility.RESTRICTED)
    own = make(member, config, "Notes", visibility=Visibility.RESTRICTED)
    share(member, own, ShareTarget.member(member.pk))

    login(client, owner.user)
    r = client.get(url("plan_change", "free"))

    assert r.status_code == 200
    body = text(r)
    assert "Agent sharing is not part of Free" in body
    assert f"6 agents {LOST}: Legal triage, Payroll, Sales assistant and 3 more." in body
    html = r.content.decode()
    assert f'<a href="{url("agent", legal.pk)}">Legal triage</a>' in html
    assert f'<a href="{url("agent", payroll.pk)}">Payroll</a>' in html
    assert "Diary" not in body and "Notes" not in body


def test_one_agent_reads_in_the_singular_and_is_named_alone(
    client: Client, team, owner, member, config
) -> None:
    make(member, config, "Sales assistant")
    login(client, owner.user)
    body = text(client.get(url("plan_change", "free")))
    assert (
        "1 agent shared beyond its creator becomes usable by its creator alone: "
        "Sales assistant." in body
    )
    assert "more." not in body


def test_without_shared_agents_the_preview_says_only_that_sharing_goes(
    client: Client, team, owner, member, config
) -> None:
    make(member, config, "Diary", visibility=Visibility.RESTRICTED)
    login(client, owner.user)
    r = client.get(url("plan_change", "free"))
    body = text(r)
    assert "Agent sharing is not part of Free" in body
    assert "usable by its creator alone" in body  # the plan's rule, said once
    assert "shared beyond" not in body and "Diary" not in body
    assert 'aria-label="What else changes"' not in r.content.decode()


@pytest.mark.parametrize("slug", ["api-payg", "enterprise"])
def test_a_plan_that_keeps_sharing_says_nothing_of_agents(
    client: Client, team, owner, member, config, slug: str
) -> None:
    make(member, config, "Sales assistant")
    login(client, owner.user)
    r = client.get(url("plan_change", slug))
    body = text(r)
    assert r.status_code == 200
    assert "Agent sharing" not in body and "shared beyond" not in body
    assert "Sales assistant" not in body


def test_a_billing_member_reads_the_count_without_the_names(
    client: Client, team, owner, member, config
) -> None:
    billing_member = MembershipFactory(workspace=team, role=Role.BILLING)
    make(member, config, "Sales assistant")
    make(member, config, "Secret plans", visibility=Visibility.RESTRICTED)
    share(member, Agent.objects.get(name="Secret plans"), ShareTarget.member(owner.pk))
    login(client, billing_member.user)
    body = text(client.get(url("plan_change", "free")))
    assert f"2 agents {LOST}." in body
    assert "Sales assistant" not in body and "Secret plans" not in body


def _queries(client: Client, path: str) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_the_preview_takes_the_same_queries_at_two_sizes(
    client: Client, team, owner, member, other, config
) -> None:
    group = GroupFactory(workspace=team)
    for i in range(2):
        agent = make(member, config, f"Small {i}", visibility=Visibility.RESTRICTED)
        share(member, agent, ShareTarget.group(group.pk))
    login(client, owner.user)
    small = _queries(client, url("plan_change", "free"))
    for i in range(12):
        agent = make(member, config, f"Large {i}", visibility=Visibility.RESTRICTED)
        share(member, agent, ShareTarget.member(other.pk))
        make(owner, config, f"Open {i}")
    assert _queries(client, url("plan_change", "free")) == small
    assert f"26 agents {LOST}" in text(client.get(url("plan_change", "free")))


def test_an_agent_whose_creator_left_counts_when_it_has_any_grant(
    team, owner, member, other, config
) -> None:
    agent = make(member, config, "Orphan", visibility=Visibility.RESTRICTED)
    share(member, agent, ShareTarget.member(other.pk))
    make(member, config, "Lonely", visibility=Visibility.RESTRICTED)
    Agent.objects.filter(created_by=member).update(created_by=None)
    shared = selectors.shared_beyond_creator(team.pk, first=3)
    assert shared.count == 1 and [a.name for a in shared.first] == ["Orphan"]


def test_after_the_change_the_agent_page_says_why_sharing_is_off(
    client: Client, team, owner, member, other, config
) -> None:
    agent = make(member, config, "Sales assistant")
    billing.subscription_change_plan(
        actor=actor(owner), workspace=team, plan=Plan.objects.get(slug="free")
    )

    login(client, member.user)
    page = client.get(url("agent", agent.pk))
    body = text(page)
    assert page.status_code == 200
    assert (
        "Sharing is not available: Not included in the Free plan. The agent is usable by its "
        "creator alone." in body
    )
    assert url("agent_share", agent.pk) not in page.content.decode()
    # Another member loses it, and the list says why when they look for it by name.
    login(client, other.user)
    assert client.get(url("agent", agent.pk)).status_code == 404
    found = text(client.get(url("agents"), {"q": "Sales assistant"}))
    assert "“Sales assistant” is not listed: The Free plan has no agent sharing" in found
