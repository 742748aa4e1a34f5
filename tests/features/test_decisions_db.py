"""The decision over the database: the loaders read the right rows, in a fixed number of
queries, and ``decide_many`` agrees with ``decide`` and with the reference."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.actor import Actor
from accounts.models import Membership, MemberStatus, Workspace
from billing.models import Plan
from billing.services import subscription_start
from compliance.models import EditorialAuthorization, MediaSource, MediaStatusChange, RequestStatus
from compliance.selectors import MediaState
from core import registry
from features import decisions
from features.decisions import Code, MemberFacts, WorkspaceFacts, decide, decide_all, decide_many
from tests.factories import (
    FeatureOptOutFactory,
    FeatureRuleFactory,
    GroupFactory,
    MembershipFactory,
    WorkspaceFactory,
)
from tests.features.test_decisions import reference


def on_plan(ws: Workspace, slug: str = "team") -> None:
    subscription_start(actor=Actor.system(), workspace=ws, plan=Plan.objects.get(slug=slug))


def media(ws: Workspace, value: bool = True) -> None:
    MediaStatusChange.objects.create(workspace=ws, is_media_customer=value, source=MediaSource.SELF)


def test_a_workspace_without_subscription_is_on_the_default_plan(member: Membership) -> None:
    d = decide(member, registry.IMAGE_GENERATION)
    assert d.code == Code.NOT_IN_PLAN and d.reason == "Not included in the Free plan."
    on_plan(member.workspace)
    assert decide(member, registry.IMAGE_GENERATION).allowed


def test_rules_of_each_level_are_read(member: Membership) -> None:
    ws = member.workspace
    on_plan(ws)
    group = GroupFactory(workspace=ws, name="Contractors")
    group.members.add(member)
    FeatureRuleFactory(workspace=ws, feature="web_search", effect="deny")
    FeatureRuleFactory(workspace=ws, group=group, feature="canvas", effect="deny")
    FeatureRuleFactory(workspace=ws, membership=member, feature="memory", effect="allow")
    FeatureOptOutFactory(workspace=ws, membership=member, feature="image_generation")
    got = decide_all(member)
    assert list(got) == list(registry.KEYS)
    assert got["web_search"].code == Code.WORKSPACE_RULE
    assert got["canvas"].reason == "Turned off for the group Contractors by an admin."
    assert got["memory"].allowed
    assert got["image_generation"].code == Code.USER_SWITCH
    assert got["code_interpreter"].allowed


def test_rules_of_another_workspace_or_member_do_not_apply(
    member: Membership, owner: Membership
) -> None:
    on_plan(member.workspace)
    other = MembershipFactory()
    FeatureRuleFactory(workspace=other.workspace, feature="web_search", effect="deny")
    FeatureRuleFactory(
        workspace=member.workspace, membership=owner, feature="web_search", effect="deny"
    )
    FeatureOptOutFactory(workspace=member.workspace, membership=owner, feature="canvas")
    assert decide(member, "web_search").allowed
    assert decide(member, "canvas").allowed
    assert not decide(owner, "web_search").allowed


def test_deactivated_members_are_denied(member: Membership) -> None:
    member.status = MemberStatus.DEACTIVATED
    assert decide(member, "web_search").code == Code.MEMBERSHIP_INACTIVE


def test_the_latest_media_status_counts(member: Membership) -> None:
    media(member.workspace, True)
    assert decide(member, "news").code == Code.MEDIA_CUSTOMER
    media(member.workspace, False)
    assert decide(member, "news").allowed


def test_an_exception_holds_until_its_end_date_inclusive(member: Membership) -> None:
    ws = member.workspace
    media(ws)
    today = timezone.now().date()
    exc = EditorialAuthorization.objects.create(
        workspace=ws,
        reason="Fact-checking desk",
        requested_scope="Newsroom",
        status=RequestStatus.APPROVED,
        ends_on=today,
    )
    assert decide(member, "news").allowed
    exc.ends_on = today - timedelta(days=1)
    exc.save()
    assert decide(member, "news").code == Code.MEDIA_CUSTOMER
    exc.ends_on, exc.status = today + timedelta(days=30), RequestStatus.DECLINED
    exc.save()
    assert decide(member, "news").code == Code.MEDIA_CUSTOMER


def _populate(ws: Workspace, members: int, groups: int) -> list[Membership]:
    rows = [MembershipFactory(workspace=ws) for _ in range(members)]
    group_rows = [GroupFactory(workspace=ws) for _ in range(groups)]
    for i, m in enumerate(rows):
        group_rows[i % groups].members.add(m)
        FeatureRuleFactory(workspace=ws, membership=m, feature=registry.KEYS[i % 12], effect="deny")
        FeatureOptOutFactory(workspace=ws, membership=m, feature="web_search")
    for i, g in enumerate(group_rows):
        FeatureRuleFactory(workspace=ws, group=g, feature=registry.KEYS[i % 12], effect="allow")
    FeatureRuleFactory(workspace=ws, feature="canvas", effect="deny")
    return rows


@pytest.mark.parametrize("by_list", [True, False], ids=["id-list", "whole-workspace"])
def test_decide_many_takes_the_same_queries_whatever_the_size(
    db: None, monkeypatch: pytest.MonkeyPatch, by_list: bool
) -> None:
    if not by_list:
        monkeypatch.setattr(decisions, "_ID_LIST_LIMIT", 1)
    counts = []
    for size, groups in ((3, 1), (40, 8)):
        ws = WorkspaceFactory()
        on_plan(ws)
        media(ws)
        EditorialAuthorization.objects.create(
            workspace=ws,
            reason="r",
            requested_scope="s",
            status=RequestStatus.APPROVED,
            ends_on=timezone.now().date(),
        )
        rows = _populate(ws, size, groups)
        ws = Workspace.objects.get(pk=ws.pk)
        with CaptureQueriesContext(connection) as ctx:
            result = decide_many(ws, rows)
        assert len(result) == size and all(len(v) == 12 for v in result.values())
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 7


def test_decide_many_agrees_with_decide(db: None) -> None:
    ws = WorkspaceFactory()
    on_plan(ws)
    rows = _populate(ws, 12, 3)
    many = decide_many(ws, rows)
    for m in rows:
        for key in registry.KEYS:
            one = decide(m, key)
            assert (many[m.pk][key].allowed, many[m.pk][key].code, many[m.pk][key].reason) == (
                one.allowed,
                one.code,
                one.reason,
            )


# --- Random rule sets written to the database ------------------------------------------------

keys = st.sampled_from(registry.KEYS)
effect = st.sampled_from(["allow", "deny"])


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=st.sampled_from(["free", "pro", "team", "enterprise"]),
    is_media=st.booleans(),
    ws_rules=st.dictionaries(keys, effect),
    group_rules=st.dictionaries(st.tuples(st.integers(0, 2), keys), effect),
    member_rules=st.dictionaries(keys, effect),
    in_groups=st.sets(st.integers(0, 2)),
    opt_outs=st.sets(keys),
)
def test_random_rules_in_the_database_agree_with_the_reference(
    plan: str,
    is_media: bool,
    ws_rules: dict[str, str],
    group_rules: dict[tuple[int, str], str],
    member_rules: dict[str, str],
    in_groups: set[int],
    opt_outs: set[str],
) -> None:
    with transaction.atomic():
        ws = WorkspaceFactory()
        on_plan(ws, plan)
        if is_media:
            media(ws)
        m = MembershipFactory(workspace=ws)
        groups = [GroupFactory(workspace=ws) for _ in range(3)]
        for i in in_groups:
            groups[i].members.add(m)
        for key, eff in ws_rules.items():
            FeatureRuleFactory(workspace=ws, feature=key, effect=eff)
        for (i, key), eff in group_rules.items():
            FeatureRuleFactory(workspace=ws, group=groups[i], feature=key, effect=eff)
        for key, eff in member_rules.items():
            FeatureRuleFactory(workspace=ws, membership=m, feature=key, effect=eff)
        for key in opt_outs:
            FeatureOptOutFactory(workspace=ws, membership=m, feature=key)
        # The facts as generated, not as the loaders read them: the loaders are under test.
        ws_facts = WorkspaceFacts(
            plan_name=plan,
            plan_features=Plan.objects.get(slug=plan).feature_keys,
            suspended=False,
            suspension_reason="",
            media=MediaState(is_media, ()),
            workspace_rules=ws_rules,
            group_rules={(groups[i].pk, key): eff for (i, key), eff in group_rules.items()},
            group_names={},
        )
        m_facts = MemberFacts(
            m.pk,
            True,
            frozenset(groups[i].pk for i in in_groups),
            member_rules,
            frozenset(opt_outs),
        )
        for key, d in decide_all(m).items():
            assert (d.allowed, str(d.code)) == reference(registry.get(key), ws_facts, m_facts)
        transaction.set_rollback(True)
