"""The services of agents: each rule, with bad input beside the good."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from accounts.actor import Actor
from accounts.models import AuditEvent, Membership, Workspace
from agents import names, services
from agents.access import access_agent
from agents.audit import Action
from agents.models import Agent, AgentGrant, AgentVersion, Visibility, WorkspaceSharing
from agents.selectors import usable_agents
from agents.services import Config, ShareTarget
from catalogue.models import BaseModel, ModelRef
from core.errors import DomainError, NotAllowed
from tests.agents.conftest import actor
from tests.factories import (
    AgentFactory,
    BaseModelFactory,
    BlockedTermFactory,
    ConnectionFactory,
    GroupFactory,
    LibraryFactory,
    MediaStatusChangeFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db


def create(m: Membership, config: Config, name: str = "Triage", **kw: object) -> Agent:
    return services.agent_create(
        actor=actor(m), workspace=m.workspace, name=name, config=config, **kw
    )


def test_create_writes_version_one_and_an_audit_event(team: Workspace, member, config) -> None:
    agent = create(member, config, description="Sorts tickets")
    assert agent.current is not None and agent.current.number == 1
    assert agent.visibility == Visibility.WORKSPACE  # the terms' default
    event = AuditEvent.objects.get(action=Action.AGENT_CREATED)
    assert event.after["version"] == 1 and "instructions" not in event.after


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"temperature": Decimal("2.01")}, "temperature"),
        ({"temperature": Decimal("-0.1")}, "temperature"),
        ({"temperature": "NaN"}, "temperature"),
        ({"temperature": Decimal("0.123")}, "temperature"),
        ({"top_p": Decimal("1.5")}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 32_001}, "max_tokens"),
        ({"instructions": "nul\x00"}, "instructions"),
        ({"instructions": "x" * 20_001}, "instructions"),
        ({"tools": ("teleport",)}, "tools"),
        ({"tools": ("document_search",)}, "library_ids"),
        ({"library_ids": (1,)}, "tools"),
        ({"tools": ("document_search",), "library_ids": ("x",)}, "library_ids"),
        ({"tools": ("document_search",), "library_ids": (2**70,)}, "library_ids"),
    ],
)
def test_create_refuses_bad_settings(team, member, config, change, field) -> None:
    with pytest.raises(DomainError) as exc:
        create(member, replace(config, **change))
    assert exc.value.field == field
    assert not Agent.objects.exists()


def test_ranges_are_inclusive(team, member, config) -> None:
    agent = create(
        member,
        replace(config, temperature=Decimal("2"), top_p=Decimal("0"), max_tokens=32_000),
    )
    assert agent.current.temperature == Decimal("2.00")  # type: ignore[union-attr]


def test_a_model_not_in_the_plan_is_refused(team, member, config) -> None:
    outside = BaseModelFactory(plans=["enterprise"])
    with pytest.raises(DomainError) as exc:
        create(member, replace(config, model=ModelRef.of(outside)))
    assert exc.value.field == "model" and "not offered on the Team plan" in exc.value.message


def test_a_model_without_tools_refuses_tools(team, member, config) -> None:
    plain = BaseModelFactory(plans=["team"], supports_tools=False)
    with pytest.raises(DomainError, match="does not support tools"):
        create(member, replace(config, model=ModelRef.of(plain), tools=("web_search",)))


def test_another_workspaces_library_or_connection_is_refused(team, member, config) -> None:
    foreign = LibraryFactory(workspace=WorkspaceFactory())
    with pytest.raises(DomainError, match=services.FOREIGN_LIBRARY):
        create(member, replace(config, tools=("document_search",), library_ids=(foreign.pk,)))
    conn = ConnectionFactory(workspace=WorkspaceFactory())
    with pytest.raises(DomainError, match=services.FOREIGN_CONNECTION):
        create(member, replace(config, tools=("document_search",), connection_ids=(conn.pk,)))
    own = LibraryFactory(workspace=team)
    agent = create(member, replace(config, tools=("document_search",), library_ids=(own.pk,)))
    assert agent.current.library_ids == [own.pk]  # type: ignore[union-attr]


def test_a_media_customer_refuses_verified_news(team, member, config) -> None:
    create(member, replace(config, tools=("news",)), name="Before")
    MediaStatusChangeFactory(workspace=team)
    with pytest.raises(DomainError, match=services.MEDIA_NEWS):
        create(member, replace(config, tools=("news", "web_search")))


def test_names_are_checked_and_unique_without_case(team, member, config) -> None:
    create(member, config, name="Triage")
    with pytest.raises(DomainError, match="already has an agent"):
        create(member, config, name="TRIAGE")
    with pytest.raises(DomainError, match="reads as"):
        create(member, config, name="Мistral desk")
    BlockedTermFactory(term="scam")
    with pytest.raises(DomainError, match='blocked term "scam"'):
        create(member, config, name="Scam finder")


def test_the_constraint_backs_the_name_check(team, member, config) -> None:
    create(member, config, name="Triage")
    agent = create(member, config, name="Other")
    agent.name = "triage"
    with pytest.raises(DomainError, match="already has an agent"):
        services._save_agent_name(agent, ["name"])


def test_update_makes_a_new_version_and_returns_early_when_nothing_changed(
    team, member, config
) -> None:
    agent = create(member, config)
    same = services.agent_update(
        actor=actor(member), agent_id=agent.pk, name="Triage", description="", config=config
    )
    assert same.current.number == 1 and AgentVersion.objects.count() == 1  # type: ignore[union-attr]
    changed = services.agent_update(
        actor=actor(member),
        agent_id=agent.pk,
        name="Triage",
        description="",
        config=replace(config, instructions="Be thorough."),
    )
    assert changed.current.number == 2  # type: ignore[union-attr]
    event = AuditEvent.objects.get(action=Action.AGENT_UPDATED)
    assert (event.before["version"], event.after["version"]) == (1, 2)
    first = AgentVersion.objects.get(agent=agent, number=1)
    assert first.instructions == "Answer briefly."  # versions are never rewritten


def test_restore_copies_an_older_version_as_the_next(team, member, config) -> None:
    agent = create(member, config)
    services.agent_update(
        actor=actor(member),
        agent_id=agent.pk,
        name="Triage",
        description="",
        config=replace(config, instructions="v2"),
    )
    restored = services.agent_restore_version(actor=actor(member), agent_id=agent.pk, number=1)
    assert restored.current.number == 3 and restored.current.instructions == "Answer briefly."  # type: ignore[union-attr]
    assert restored.current.restored_from == 1  # type: ignore[union-attr]
    with pytest.raises(DomainError, match=services.NO_SUCH_VERSION):
        services.agent_restore_version(actor=actor(member), agent_id=agent.pk, number=99)


def test_only_editors_edit_and_viewers_use(team, member, config) -> None:
    agent = create(member, config, visibility=Visibility.RESTRICTED)
    other = MembershipFactory(workspace=team)
    with pytest.raises(NotAllowed):
        services.agent_update(
            actor=actor(other), agent_id=agent.pk, name="X", description="", config=config
        )
    services.agent_share_grant(
        actor=actor(member), agent_id=agent.pk, target=ShareTarget.member(other.pk), role="viewer"
    )
    assert list(usable_agents(other)) == [agent]
    with pytest.raises(NotAllowed):
        services.agent_share_grant(
            actor=actor(other),
            agent_id=agent.pk,
            target=ShareTarget.member(other.pk),
            role="editor",
        )
    services.agent_share_grant(
        actor=actor(member), agent_id=agent.pk, target=ShareTarget.member(other.pk), role="editor"
    )
    services.agent_update(
        actor=actor(other), agent_id=agent.pk, name="Triage 2", description="", config=config
    )


def test_sharing_refuses_foreign_targets_and_unknown_roles(team, member, config) -> None:
    agent = create(member, config)
    for target in (
        ShareTarget.member(MembershipFactory().pk),
        ShareTarget.group(GroupFactory().pk),
        ShareTarget.member(2**70),
    ):
        with pytest.raises(DomainError, match=services.UNKNOWN_TARGET):
            services.agent_share_grant(
                actor=actor(member), agent_id=agent.pk, target=target, role="viewer"
            )
    with pytest.raises(DomainError, match=services.UNKNOWN_ROLE):
        services.agent_share_grant(
            actor=actor(member),
            agent_id=agent.pk,
            target=ShareTarget.group(GroupFactory(workspace=team).pk),
            role="owner",
        )


def test_sharing_needs_the_plan_but_unsharing_does_not(workspace, member, config) -> None:
    # The default (Free) plan has agents but no sharing.
    agent = create(member, config, visibility=Visibility.RESTRICTED)
    group = GroupFactory(workspace=workspace)
    with pytest.raises(DomainError, match=services.SHARING_NOT_IN_PLAN):
        services.agent_share_grant(
            actor=actor(member),
            agent_id=agent.pk,
            target=ShareTarget.group(group.pk),
            role="viewer",
        )
    with pytest.raises(DomainError, match=services.SHARING_NOT_IN_PLAN):
        services.agent_visibility_set(
            actor=actor(member), agent_id=agent.pk, visibility="workspace"
        )
    grant = AgentGrant.objects.create(agent=agent, group=group)
    services.agent_share_revoke(actor=actor(member), agent_id=agent.pk, grant_id=grant.pk)
    assert AuditEvent.objects.filter(action=Action.AGENT_UNSHARED).count() == 1


def test_admins_only_rule_for_the_whole_workspace(team, member, admin_member, config) -> None:
    services.agent_settings_update(
        actor=actor(admin_member),
        workspace=team,
        default_visibility="workspace",
        workspace_sharing=WorkspaceSharing.ADMINS,
    )
    agent = create(member, config)
    assert agent.visibility == Visibility.RESTRICTED  # the default, narrowed for a member
    with pytest.raises(NotAllowed, match=services.WORKSPACE_SHARING_ADMINS):
        services.agent_visibility_set(
            actor=actor(member), agent_id=agent.pk, visibility="workspace"
        )
    services.agent_visibility_set(
        actor=actor(admin_member), agent_id=agent.pk, visibility="workspace"
    )
    with pytest.raises(NotAllowed):
        services.agent_settings_update(
            actor=actor(member),
            workspace=team,
            default_visibility="workspace",
            workspace_sharing="everyone",
        )


def test_delete_removes_instructions_and_answers_404_at_once(team, member, config) -> None:
    agent = create(member, config)
    other = MembershipFactory(workspace=team)
    assert access_agent(actor(other), agent.pk)[0] == agent
    lost = services.agent_delete(actor=actor(member), agent_id=agent.pk)
    assert lost == 2
    assert not AgentVersion.objects.exists()
    event = AuditEvent.objects.get(action=Action.AGENT_DELETED)
    assert event.before == {"name": "Triage", "agent_id": agent.pk, "members": 2}
    from django.http import Http404  # noqa: PLC0415

    with pytest.raises(Http404):
        access_agent(actor(other), agent.pk)
    with pytest.raises(DomainError, match=services.NO_SUCH_AGENT):
        services.agent_delete(actor=actor(member), agent_id=agent.pk)


def test_a_viewer_cannot_delete(team, member, config) -> None:
    agent = create(member, config)
    with pytest.raises(NotAllowed):
        services.agent_delete(actor=actor(MembershipFactory(workspace=team)), agent_id=agent.pk)


def test_staff_disable_with_a_reason_members_then_see(team, member, config) -> None:
    agent = create(member, config)
    staff = Actor.staff(UserFactory(is_staff=True))
    with pytest.raises(NotAllowed):
        services.agent_disable(actor=actor(member), agent_id=agent.pk, reason="x")
    with pytest.raises(DomainError, match=services.REASON_NEEDED):
        services.agent_disable(actor=staff, agent_id=agent.pk, reason="  ")
    services.agent_disable(actor=staff, agent_id=agent.pk, reason="Impersonates a bank")
    assert list(usable_agents(member)) == []
    from agents.access import decide  # noqa: PLC0415

    access = decide(member, Agent.objects.get(pk=agent.pk))
    assert not access.use and access.manage and "Impersonates a bank" in access.reason
    services.agent_enable(actor=staff, agent_id=agent.pk)
    assert list(usable_agents(member)) == [agent]


def test_staff_approval_lets_a_platform_name_stand_until_a_rename(team, member, config) -> None:
    agent = create(member, config, name="Helpdesk")
    staff = Actor.staff(UserFactory(is_staff=True))
    services.agent_name_approve(actor=staff, agent_id=agent.pk)
    agent.refresh_from_db()
    assert agent.name_approved_by_staff
    with pytest.raises(DomainError, match="reads as"):
        services.agent_update(
            actor=actor(member),
            agent_id=agent.pk,
            name="Mistral desk",
            description="",
            config=config,
        )


def test_end_for_workspace_ends_every_agent_and_no_other(team, member, config) -> None:
    create(member, config, name="One")
    create(member, config, name="Two")
    elsewhere = AgentFactory()
    assert services.end_for_workspace(team) == 2
    assert list(Agent.objects.all()) == [elsewhere]
    assert AgentVersion.objects.filter(agent__workspace=team).count() == 0
    event = AuditEvent.objects.get(action=Action.AGENTS_ENDED)
    assert event.after == {"agents": 2} and event.actor is None
    with pytest.raises(NotAllowed):
        services.end_for_workspace(team, actor=actor(member))


def test_members_without_the_agents_feature_cannot_create(member: Membership, config) -> None:
    from tests.factories import FeatureRuleFactory  # noqa: PLC0415

    FeatureRuleFactory(membership=member, feature="agents", effect="deny")
    with pytest.raises(NotAllowed, match="not available"):
        create(member, config)


def test_blocked_terms_are_staff_only(db: None) -> None:
    staff = Actor.staff(UserFactory(is_staff=True))
    services.blocked_term_add(actor=staff, term="scam")
    with pytest.raises(DomainError, match=services.TERM_TAKEN):
        services.blocked_term_add(actor=staff, term="SCAM")
    with pytest.raises(NotAllowed):
        services.blocked_term_add(actor=Actor.for_user(UserFactory()), term="fraud")
    assert names.problem("Scam bot", services.blocked_terms()) is not None


def test_bad_model_names_a_base_model(team, member, model: BaseModel) -> None:
    with pytest.raises(DomainError, match="Fine-tuned models cannot be used yet"):
        create(member, Config(model=ModelRef.fine_tuned("ft:x-1:acme:a1")))
