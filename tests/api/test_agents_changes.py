"""Every change is answered at once by the service API's agent calls (R-AGT-6): the agent
and its grants are read from the database on every call, and the members' decision facts
from a snapshot (core.snapshots) that each service changing them retires. Each test warms
the snapshot with a list and a fetch, changes one thing through its service, and reads
again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from accounts import services as accounts_services
from accounts.actor import Actor
from accounts.models import Group, Membership, Workspace
from agents import services as agent_services
from agents.models import Agent, GrantRole, Visibility
from agents.services import Config
from billing import services as billing_services
from billing.models import Plan
from catalogue.models import BaseModel, ModelRef
from compliance import services as compliance_services
from compliance.models import MediaSource
from features import services as feature_services
from features.decisions import load_facts_snapshot
from features.models import FeatureRule
from tests.billing.test_admin import change_url, plan_form
from tests.factories import (
    AgentFactory,
    BaseModelFactory,
    GroupFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def list_url(member: Membership) -> str:
    return f"/api/service/workspaces/acme/members/{member.user_id}/agents"


def agent_url(agent: Agent, member: Membership) -> str:
    return f"/api/service/workspaces/acme/agents/{agent.pk}?{urlencode({'member': member.user_id})}"


@pytest.fixture
def model(db: None) -> BaseModel:
    return BaseModelFactory(plans=["team", "free"], context_window=32_000)


@pytest.fixture
def team(workspace: Workspace) -> Workspace:
    SubscriptionFactory(workspace=workspace, plan=Plan.objects.get(slug="team"))
    return workspace


@pytest.fixture
def support(team: Workspace, member: Membership) -> Group:
    group = GroupFactory(workspace=team, name="Support")
    group.members.add(member)
    return group


@pytest.fixture
def helper(team: Workspace, owner: Membership, support: Group, model: BaseModel) -> Agent:
    """Restricted to the group Support, with web search, verified news and the interpreter."""
    agent = AgentFactory(
        workspace=team,
        created_by=owner,
        name="Helper",
        visibility=Visibility.RESTRICTED,
        version__base_model=model,
        version__tools=["web_search", "news", "code_interpreter"],
    )
    agent.grants.create(group=support, role=GrantRole.VIEWER)
    return agent


class Gateway:
    """The service API as the gateway calls it, for one member."""

    def __init__(self, api: Client, member: Membership) -> None:
        self.api, self.member = api, member

    def listed(self) -> list[str]:
        response = self.api.get(list_url(self.member))
        assert response.status_code == 200, response.content[:300]
        return [a["name"] for a in response.json()["agents"]]

    def fetch(self, agent: Agent) -> Any:
        return self.api.get(agent_url(agent, self.member))

    def tools(self, agent: Agent) -> list[str]:
        response = self.fetch(agent)
        assert response.status_code == 200, response.content[:300]
        return list(response.json()["tools"])

    def refusal(self, agent: Agent) -> str:
        response = self.fetch(agent)
        assert response.status_code in (403, 404), response.content[:300]
        error = response.json()["error"]
        return str(error.get("reason_code", error["code"]))


@pytest.fixture
def gateway(api: Client, member: Membership, helper: Agent) -> Gateway:
    g = Gateway(api, member)
    # Warm: the snapshot of the member's decision facts is taken.
    assert g.listed() == ["Helper"]
    assert g.tools(helper) == ["web_search", "news", "code_interpreter"]
    return g


def staff() -> Actor:
    return Actor.staff(UserFactory(is_staff=True))


# --- The agent itself ------------------------------------------------------------------------


def test_a_deleted_agent_is_gone_at_once(gateway: Gateway, owner, helper) -> None:
    agent_services.agent_delete(actor=Actor.member(owner), agent_id=helper.pk)
    assert gateway.refusal(helper) == "agent_not_found"
    assert gateway.listed() == []


def test_a_disabled_agent_is_refused_at_once(gateway: Gateway, helper) -> None:
    agent_services.agent_disable(actor=staff(), agent_id=helper.pk, reason="Impersonation")
    assert gateway.refusal(helper) == "disabled_by_staff"
    assert gateway.listed() == []


def test_an_unshared_agent_is_refused_at_once(gateway: Gateway, owner, helper) -> None:
    grant = helper.grants.get()
    agent_services.agent_share_revoke(
        actor=Actor.member(owner), agent_id=helper.pk, grant_id=grant.pk
    )
    assert gateway.refusal(helper) == "not_shared"
    assert gateway.listed() == []


def test_an_agent_restricted_again_is_refused_at_once(gateway: Gateway, team, owner, model) -> None:
    everyone = AgentFactory(
        workspace=team, created_by=owner, name="Everyone", version__base_model=model
    )
    assert gateway.tools(everyone) == []
    agent_services.agent_visibility_set(
        actor=Actor.member(owner), agent_id=everyone.pk, visibility=Visibility.RESTRICTED
    )
    assert gateway.refusal(everyone) == "not_shared"
    assert gateway.listed() == ["Helper"]


def test_a_new_version_is_served_at_once(gateway: Gateway, owner, helper, model) -> None:
    agent_services.agent_update(
        actor=Actor.member(owner),
        agent_id=helper.pk,
        name="Helper",
        description="",
        config=Config(model=ModelRef.of(model), instructions="New.", tools=("web_search",)),
    )
    body = gateway.fetch(helper).json()
    assert (body["version"], body["instructions"], body["tools"]) == (2, "New.", ["web_search"])


# --- The member's decision facts -------------------------------------------------------------


def test_a_group_rule_drops_the_tool_at_once(gateway: Gateway, team, owner, support, helper):
    feature_services.feature_rule_set(
        actor=Actor.member(owner),
        workspace=team,
        feature="web_search",
        effect="deny",
        group=support,
    )
    assert gateway.tools(helper) == ["news", "code_interpreter"]
    assert gateway.fetch(helper).json()["dropped"][0]["code"] == "group_rule"


def test_the_members_own_switch_drops_the_tool_at_once(gateway: Gateway, member, helper) -> None:
    feature_services.feature_switch_set(
        actor=Actor.member(member), membership=member, feature="web_search", on=False
    )
    assert gateway.tools(helper) == ["news", "code_interpreter"]


def test_agents_turned_off_for_the_member_at_once(gateway: Gateway, team, owner, member, helper):
    feature_services.feature_rule_set(
        actor=Actor.member(owner),
        workspace=team,
        feature="agents",
        effect="deny",
        membership=member,
    )
    assert gateway.refusal(helper) == "feature_denied"
    assert gateway.listed() == []


def test_leaving_the_group_loses_the_agent_at_once(
    gateway: Gateway, owner, member, support, helper
):
    accounts_services.group_member_remove(
        actor=Actor.member(owner), group=support, membership=member
    )
    assert gateway.refusal(helper) == "not_shared"
    assert gateway.listed() == []


def test_joining_a_group_gains_its_agent_at_once(
    gateway: Gateway, team, owner, member, model
) -> None:
    ops = GroupFactory(workspace=team, name="Ops")
    runbook = AgentFactory(
        workspace=team,
        created_by=owner,
        name="Runbook",
        visibility=Visibility.RESTRICTED,
        version__base_model=model,
    )
    runbook.grants.create(group=ops, role=GrantRole.VIEWER)
    assert gateway.refusal(runbook) == "not_shared"
    accounts_services.group_member_add(actor=Actor.member(owner), group=ops, membership=member)
    assert gateway.fetch(runbook).json()["access"]["code"] == "group_grant"
    assert gateway.listed() == ["Helper", "Runbook"]


def test_a_deleted_group_takes_its_grants_at_once(gateway: Gateway, owner, support, helper) -> None:
    accounts_services.group_delete(actor=Actor.member(owner), group=support)
    assert gateway.refusal(helper) == "not_shared"


def test_a_renamed_group_is_named_at_once(gateway: Gateway, owner, support, helper) -> None:
    accounts_services.group_rename(actor=Actor.member(owner), group=support, name="Helpdesk")
    reason = gateway.fetch(helper).json()["access"]["reason"]
    assert reason == "Shared with the group Helpdesk as Viewer."


def test_a_plan_without_sharing_is_applied_at_once(gateway: Gateway, team, owner, helper) -> None:
    billing_services.subscription_change_plan(
        actor=Actor.member(owner), workspace=team, plan=Plan.objects.get(slug="free")
    )
    assert gateway.refusal(helper) == "plan_forbids_sharing"
    assert gateway.listed() == []


def test_a_plan_staff_edit_is_applied_at_once(gateway: Gateway, staff_client, helper) -> None:
    team_plan = Plan.objects.get(slug="team")
    features = [f for f in team_plan.features if f != "code_interpreter"]
    response = staff_client.post(change_url(team_plan), plan_form(team_plan, features=features))
    assert response.status_code == 302, response.content[:500]
    assert gateway.tools(helper) == ["web_search", "news"]


def test_a_media_customer_loses_verified_news_at_once(gateway: Gateway, team, owner, helper):
    def declare(is_media_customer: bool) -> None:
        compliance_services.media_status_set(
            actor=Actor.member(owner),
            workspace=team,
            is_media_customer=is_media_customer,
            source=MediaSource.SELF,
        )

    declare(True)
    assert gateway.tools(helper) == ["web_search", "code_interpreter"]
    declare(False)
    assert gateway.tools(helper) == ["web_search", "news", "code_interpreter"]


def test_an_editorial_exception_is_in_the_facts_at_once(gateway: Gateway, team, owner, member):
    compliance_services.media_status_set(
        actor=Actor.member(owner), workspace=team, is_media_customer=True, source=MediaSource.SELF
    )
    request = compliance_services.editorial_request_create(
        actor=Actor.member(owner), workspace=team, reason="Our newsroom.", requested_scope="All"
    )
    facts, _member = load_facts_snapshot(member)
    assert facts.media.is_media_customer and facts.media.exceptions == ()
    compliance_services.editorial_request_decide(
        actor=staff(),
        authorization=request,
        approve=True,
        ends_on=timezone.now().date() + timedelta(days=30),
    )
    facts, _member = load_facts_snapshot(member)
    assert [e.id for e in facts.media.exceptions] == [request.pk]


def test_a_suspended_workspace_and_a_deactivated_member_are_refused_at_once(
    gateway: Gateway, team, owner, member, helper
) -> None:
    accounts_services.workspace_suspend(actor=staff(), workspace=team, reason="Unpaid")
    assert gateway.refusal(helper) == "feature_denied"
    accounts_services.workspace_reactivate(actor=staff(), workspace=team)
    assert gateway.tools(helper) == ["web_search", "news", "code_interpreter"]
    accounts_services.member_deactivate(actor=Actor.member(owner), membership=member)
    assert gateway.refusal(helper) == "membership_inactive"
    assert gateway.listed() == []


# --- Writes that go around the services (the Django admin, a shell) ----------------------


def test_a_rule_saved_around_the_services_applies_at_once(gateway: Gateway, team, support, helper):
    rule = FeatureRule.objects.create(
        workspace=team, feature="web_search", group=support, effect="deny"
    )
    assert gateway.tools(helper) == ["news", "code_interpreter"]
    rule.delete()
    assert gateway.tools(helper) == ["web_search", "news", "code_interpreter"]


def test_a_member_taken_out_of_the_group_around_the_services_loses_it_at_once(
    gateway: Gateway, member, support, helper
):
    support.members.remove(member)
    assert gateway.refusal(helper) == "not_shared"
    member.groups.add(support)  # the reverse side of the relation
    assert gateway.tools(helper) == ["web_search", "news", "code_interpreter"]
