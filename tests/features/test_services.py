"""Services of feature rules and users' own switches (R-WS-6, R-FEAT-1, R-FEAT-2, R-MEDIA-2):
every validation beside its success, the no-op when nothing changes, and the audit event."""

from __future__ import annotations

import pytest

from accounts.actor import Actor
from accounts.models import AuditEvent, Membership, Workspace
from billing.models import Plan
from billing.services import subscription_start
from compliance.models import MediaSource, MediaStatusChange
from core import registry
from core.errors import DomainError
from features import errors
from features.audit import Action
from features.decisions import Code, decide
from features.models import FeatureOptOut, FeatureRule
from features.services import feature_rule_set, feature_switch_set
from tests.factories import FeatureRuleFactory, GroupFactory, MembershipFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _team_plan(workspace: Workspace) -> None:
    subscription_start(
        actor=Actor.system(), workspace=workspace, plan=Plan.objects.get(slug="team")
    )


def media_customer(ws: Workspace, value: bool = True) -> None:
    MediaStatusChange.objects.create(workspace=ws, is_media_customer=value, source=MediaSource.SELF)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- feature_rule_set ------------------------------------------------------------------------


def test_workspace_rule_is_created_changed_and_removed_with_audit(workspace, owner) -> None:
    rule = feature_rule_set(
        actor=Actor.member(owner), workspace=workspace, feature="web_search", effect="deny"
    )
    assert (
        rule is not None
        and rule.effect == "deny"
        and rule.group is None
        and rule.membership is None
    )
    assert rule.updated_by == owner.user

    rule = feature_rule_set(
        actor=Actor.member(owner), workspace=workspace, feature="web_search", effect="allow"
    )
    assert rule is not None and FeatureRule.objects.get().effect == "allow"

    assert (
        feature_rule_set(
            actor=Actor.member(owner), workspace=workspace, feature="web_search", effect="inherit"
        )
        is None
    )
    assert not FeatureRule.objects.exists()

    changes = [(e.before["effect"], e.after["effect"]) for e in events(Action.FEATURE_RULE_CHANGED)]
    assert changes == [("inherit", "deny"), ("deny", "allow"), ("allow", "inherit")]
    first = events(Action.FEATURE_RULE_CHANGED)[0]
    assert first.after["target"] == "workspace" and first.after["feature"] == "web_search"
    assert first.workspace == workspace and first.actor == owner.user
    assert first.target_repr == "Web search for workspace"


def test_group_rule_names_the_group_in_the_audit(workspace, owner) -> None:
    group = GroupFactory(workspace=workspace, name="Contractors")
    rule = feature_rule_set(
        actor=Actor.member(owner), workspace=workspace, feature="canvas", effect="deny", group=group
    )
    assert rule is not None and rule.group == group
    event = events(Action.FEATURE_RULE_CHANGED)[0]
    assert event.after == {"feature": "canvas", "target": "Contractors", "effect": "deny"}
    assert event.target_type == "accounts.group" and event.target_id == str(group.pk)


def test_member_rule_names_the_member_email_in_the_audit(workspace, owner, member) -> None:
    rule = feature_rule_set(
        actor=Actor.member(owner),
        workspace=workspace,
        feature="memory",
        effect="allow",
        membership=member,
    )
    assert rule is not None and rule.membership == member
    assert decide(member, "memory").allowed
    event = events(Action.FEATURE_RULE_CHANGED)[0]
    assert event.after["target"] == "member@acme.test" and event.before["effect"] == "inherit"


def test_rules_of_each_target_are_separate(workspace, owner, member) -> None:
    group = GroupFactory(workspace=workspace)
    feature_rule_set(
        actor=Actor.member(owner), workspace=workspace, feature="canvas", effect="deny"
    )
    feature_rule_set(
        actor=Actor.member(owner),
        workspace=workspace,
        feature="canvas",
        effect="allow",
        group=group,
    )
    feature_rule_set(
        actor=Actor.member(owner),
        workspace=workspace,
        feature="canvas",
        effect="deny",
        membership=member,
    )
    assert FeatureRule.objects.count() == 3


def test_unchanged_rule_is_a_no_op_without_audit(workspace, owner) -> None:
    feature_rule_set(
        actor=Actor.member(owner), workspace=workspace, feature="canvas", effect="deny"
    )
    again = feature_rule_set(
        actor=Actor.member(owner), workspace=workspace, feature="canvas", effect="deny"
    )
    assert again is not None and again.effect == "deny"
    assert (
        feature_rule_set(
            actor=Actor.member(owner), workspace=workspace, feature="news", effect="inherit"
        )
        is None
    )
    assert len(events(Action.FEATURE_RULE_CHANGED)) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"feature": "teleportation", "effect": "deny"}, errors.UNKNOWN_FEATURE),
        ({"feature": "canvas", "effect": "maybe"}, errors.UNKNOWN_EFFECT),
    ],
)
def test_unknown_feature_or_effect_is_refused(workspace, owner, kwargs, message) -> None:
    with pytest.raises(DomainError) as exc:
        feature_rule_set(actor=Actor.member(owner), workspace=workspace, **kwargs)
    assert exc.value.message == message
    assert not FeatureRule.objects.exists() and not events(Action.FEATURE_RULE_CHANGED)


def test_group_or_member_of_another_workspace_is_refused(
    workspace, owner, other_workspace_member
) -> None:
    other = other_workspace_member.workspace
    foreign_group = GroupFactory(workspace=other)
    with pytest.raises(DomainError) as exc:
        feature_rule_set(
            actor=Actor.member(owner),
            workspace=workspace,
            feature="canvas",
            effect="deny",
            group=foreign_group,
        )
    assert exc.value.message == errors.GROUP_NOT_IN_WORKSPACE
    with pytest.raises(DomainError) as exc:
        feature_rule_set(
            actor=Actor.member(owner),
            workspace=workspace,
            feature="canvas",
            effect="deny",
            membership=other_workspace_member,
        )
    assert exc.value.message == errors.MEMBER_NOT_IN_WORKSPACE
    assert not FeatureRule.objects.exists()


def test_group_and_member_at_once_is_refused(workspace, owner, member) -> None:
    group = GroupFactory(workspace=workspace)
    with pytest.raises(DomainError) as exc:
        feature_rule_set(
            actor=Actor.member(owner),
            workspace=workspace,
            feature="canvas",
            effect="deny",
            group=group,
            membership=member,
        )
    assert exc.value.message == errors.ONE_TARGET


def test_news_cannot_be_allowed_for_a_media_customer_at_any_level(workspace, owner, member) -> None:
    media_customer(workspace)
    group = GroupFactory(workspace=workspace)
    for target in ({}, {"group": group}, {"membership": member}):
        with pytest.raises(DomainError) as exc:
            feature_rule_set(
                actor=Actor.member(owner),
                workspace=workspace,
                feature="news",
                effect="allow",
                **target,
            )
        assert exc.value.message == errors.NEWS_MEDIA_CUSTOMER
        assert "editorial-use authorization" in exc.value.message
    assert not FeatureRule.objects.exists() and not events(Action.FEATURE_RULE_CHANGED)
    # Denying news, or allowing anything else, stays possible.
    feature_rule_set(actor=Actor.member(owner), workspace=workspace, feature="news", effect="deny")
    feature_rule_set(
        actor=Actor.member(owner), workspace=workspace, feature="web_search", effect="allow"
    )
    assert FeatureRule.objects.count() == 2


def test_news_can_be_allowed_once_no_longer_a_media_customer(workspace, owner) -> None:
    media_customer(workspace)
    media_customer(workspace, False)
    rule = feature_rule_set(
        actor=Actor.member(owner), workspace=workspace, feature="news", effect="allow"
    )
    assert rule is not None and rule.effect == "allow"


def test_a_leftover_news_allow_of_a_media_customer_can_be_removed(workspace, owner) -> None:
    FeatureRuleFactory(workspace=workspace, feature="news", effect="allow")
    media_customer(workspace)
    assert (
        feature_rule_set(
            actor=Actor.member(owner), workspace=workspace, feature="news", effect="inherit"
        )
        is None
    )
    assert not FeatureRule.objects.exists()


# --- feature_switch_set ----------------------------------------------------------------------


def test_user_switches_a_feature_off_and_on_with_audit(member) -> None:
    assert (
        feature_switch_set(
            actor=Actor.member(member), membership=member, feature="web_search", on=False
        )
        is True
    )
    assert FeatureOptOut.objects.filter(membership=member, feature="web_search").exists()
    d = decide(member, "web_search")
    assert not d.allowed and d.code == Code.USER_SWITCH

    assert (
        feature_switch_set(
            actor=Actor.member(member), membership=member, feature="web_search", on=True
        )
        is True
    )
    assert not FeatureOptOut.objects.exists()
    assert decide(member, "web_search").allowed

    switched = events(Action.FEATURE_SWITCHED)
    assert [(e.before["on"], e.after["on"]) for e in switched] == [(True, False), (False, True)]
    assert (
        switched[0].actor == member.user
        and switched[0].target_repr == "Web search for member@acme.test"
    )


def test_switch_to_the_current_state_is_a_no_op(member) -> None:
    assert (
        feature_switch_set(actor=Actor.member(member), membership=member, feature="canvas", on=True)
        is False
    )
    feature_switch_set(actor=Actor.member(member), membership=member, feature="canvas", on=False)
    assert (
        feature_switch_set(
            actor=Actor.member(member), membership=member, feature="canvas", on=False
        )
        is False
    )
    assert FeatureOptOut.objects.count() == 1
    assert len(events(Action.FEATURE_SWITCHED)) == 1


def test_feature_users_cannot_switch_is_refused(member) -> None:
    assert not registry.get("agents").user_switchable
    with pytest.raises(DomainError) as exc:
        feature_switch_set(
            actor=Actor.member(member), membership=member, feature="agents", on=False
        )
    assert exc.value.message == errors.NOT_SWITCHABLE.format(feature="Agents")
    assert not FeatureOptOut.objects.exists()


def test_unknown_feature_switch_is_refused(member) -> None:
    with pytest.raises(DomainError) as exc:
        feature_switch_set(actor=Actor.member(member), membership=member, feature="nope", on=False)
    assert exc.value.message == errors.UNKNOWN_FEATURE


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (
            lambda ws, m: FeatureRuleFactory(workspace=ws, feature="canvas", effect="deny"),
            "Turned off for the whole workspace by an admin.",
        ),
        (
            lambda ws, m: FeatureRuleFactory(
                workspace=ws, membership=m, feature="canvas", effect="deny"
            ),
            "Turned off for this member by an admin.",
        ),
    ],
)
def test_switch_is_refused_while_an_admin_denies_the_feature(
    workspace, member, setup, reason
) -> None:
    setup(workspace, member)
    with pytest.raises(DomainError) as exc:
        feature_switch_set(
            actor=Actor.member(member), membership=member, feature="canvas", on=False
        )
    assert exc.value.message == errors.SWITCH_NOT_ALLOWED.format(feature="Canvas", reason=reason)
    assert not FeatureOptOut.objects.exists() and not events(Action.FEATURE_SWITCHED)


def test_switch_is_refused_for_a_feature_outside_the_plan(db) -> None:
    ws = WorkspaceFactory()  # on the Free plan: no image generation
    m = MembershipFactory(workspace=ws)
    with pytest.raises(DomainError) as exc:
        feature_switch_set(
            actor=Actor.member(m), membership=m, feature="image_generation", on=False
        )
    assert "Not included in the Free plan." in exc.value.message


def test_switch_is_refused_for_news_of_a_media_customer(workspace, member) -> None:
    media_customer(workspace)
    with pytest.raises(DomainError) as exc:
        feature_switch_set(actor=Actor.member(member), membership=member, feature="news", on=False)
    assert "Media Customer" in exc.value.message


def test_switch_of_one_member_leaves_others_alone(workspace, member, owner) -> None:
    feature_switch_set(actor=Actor.member(member), membership=member, feature="canvas", on=False)
    assert decide(owner, "canvas").allowed
    assert isinstance(FeatureOptOut.objects.get().membership, Membership)
