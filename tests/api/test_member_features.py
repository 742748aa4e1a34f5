"""GET /api/service/workspaces/<slug>/members/<member>/features (R-FEAT-1, R-FEAT-4, R-MEDIA-2):
each feature's decision for one member, from the console's one decision, with the plan's limits."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.actor import Actor
from accounts.models import MemberStatus, Workspace
from api import errors
from api.auth import TOKENS
from billing.models import Plan
from billing.services import subscription_start
from compliance.models import MediaStatusChange
from core import registry, snapshots
from features.decisions import decide_all
from features.models import Effect, FeatureRule
from tests.api.conftest import features_url
from tests.factories import (
    FeatureOptOutFactory,
    FeatureRuleFactory,
    GroupFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_by_user_id(api, member, owner) -> None:
    response = api.get(features_url("acme", member.user_id))

    assert response.status_code == 200
    body = response.json()
    assert body["workspace"] == {
        "slug": "acme",
        "suspended": False,
        "plan": {
            "slug": "free",
            "name": "Free",
            "requests_per_minute": 20,
            "tokens_per_minute": 50_000,
            "monthly_token_cap": 1_000_000,
        },
    }
    assert body["member"] == {
        "user_id": member.user_id,
        "email": "member@acme.test",
        "role": "member",
        "status": "active",
    }
    assert [f["key"] for f in body["features"]] == list(registry.KEYS)


def test_by_email_without_regard_to_case(api, member, owner) -> None:
    by_email = api.get(features_url("acme", "Member@ACME.test"))
    by_id = api.get(features_url("acme", member.user_id))
    assert by_email.status_code == 200
    assert by_email.json() == by_id.json()


def test_features_are_the_decisions_of_decide_all(api, workspace, member, owner) -> None:
    group = GroupFactory(workspace=workspace, name="Interns")
    group.members.add(member)
    FeatureRuleFactory(
        workspace=workspace, feature=registry.WEB_SEARCH, group=group, effect=Effect.DENY
    )
    FeatureOptOutFactory(workspace=workspace, membership=member, feature=registry.CANVAS)

    body = api.get(features_url("acme", member.user_id)).json()

    expected = [
        {
            "key": d.key,
            "label": d.feature.label,
            "allowed": d.allowed,
            "code": str(d.code),
            "reason": d.reason,
            "level": str(d.level),
        }
        for d in decide_all(member).values()
    ]
    assert body["features"] == expected
    by_key = {f["key"]: f for f in body["features"]}
    assert by_key["web_search"]["allowed"] is False
    assert by_key["web_search"]["code"] == "group_rule"
    assert by_key["web_search"]["reason"] == "Turned off for the group Interns by an admin."
    assert by_key["canvas"]["code"] == "user_switch"
    assert by_key["news"]["allowed"] is True


def test_plan_and_limits_of_the_current_subscription(api, workspace, member, owner) -> None:
    subscription_start(
        actor=Actor.system(), workspace=workspace, plan=Plan.objects.get(slug="enterprise")
    )
    plan = Plan.objects.get(slug="enterprise")

    body = api.get(features_url("acme", member.user_id)).json()

    assert body["workspace"]["plan"] == {
        "slug": "enterprise",
        "name": plan.name,
        "requests_per_minute": plan.requests_per_minute,
        "tokens_per_minute": plan.tokens_per_minute,
        "monthly_token_cap": plan.monthly_token_cap,
    }
    by_key = {f["key"]: f for f in body["features"]}
    assert by_key["fine_tuning"]["allowed"] is True


def test_one_feature(api, member, owner) -> None:
    response = api.get(features_url("acme", member.user_id) + "?feature=news")
    assert response.status_code == 200
    assert [f["key"] for f in response.json()["features"]] == ["news"]


def test_unknown_feature_is_400(api, member, owner) -> None:
    response = api.get(features_url("acme", member.user_id) + "?feature=teleport")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == errors.UNKNOWN_FEATURE
    assert error["message"].startswith(
        "Unknown feature “teleport”. Known features: web_search, news,"
    )
    assert set(error["fields"]) == {"feature"}


def test_media_customer_member_is_denied_news_with_the_reason(
    api, workspace, member, owner
) -> None:
    MediaStatusChange.objects.create(workspace=workspace, is_media_customer=True, source="self")
    news = api.get(features_url("acme", member.user_id) + "?feature=news").json()["features"][0]
    assert news["allowed"] is False
    assert news["code"] == "media_customer"
    assert news["level"] == "compliance"
    assert news["reason"].startswith("Media Customer:")


def test_suspended_workspace(api, workspace, member, owner) -> None:
    Workspace.objects.filter(pk=workspace.pk).update(
        suspended_at=timezone.now(), suspension_reason="Unpaid"
    )
    body = api.get(features_url("acme", member.user_id)).json()
    assert body["workspace"]["suspended"] is True
    assert {f["code"] for f in body["features"]} == {"workspace_suspended"}
    assert not any(f["allowed"] for f in body["features"])


def test_deactivated_member_is_found_and_denied_everything(api, workspace, member, owner) -> None:
    member.status = MemberStatus.DEACTIVATED
    member.save(update_fields=["status"])
    body = api.get(features_url("acme", member.user.email)).json()
    assert body["member"]["status"] == "deactivated"
    assert {f["code"] for f in body["features"]} == {"membership_inactive"}


def test_unknown_workspace_is_404(api, member) -> None:
    response = api.get(features_url("initech", member.user_id))
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": errors.WORKSPACE_NOT_FOUND,
            "message": "No workspace has the address “initech”.",
        }
    }


@pytest.mark.parametrize(
    "ref", ["stranger@acme.test", "999999", "0", "not-an-email", "99999999999999999999999"]
)
def test_unknown_member_is_404(api, workspace, owner, ref: str) -> None:
    UserFactory(email="stranger@acme.test")  # a user, but not a member of acme
    response = api.get(features_url("acme", ref))
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == errors.MEMBER_NOT_FOUND
    assert error["message"] == errors.MEMBER_UNKNOWN.format(member=ref, slug="acme")


def test_member_of_another_workspace_is_not_found_here(api, owner, other_workspace_member) -> None:
    for ref in (other_workspace_member.user_id, other_workspace_member.user.email):
        response = api.get(features_url("acme", ref))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == errors.MEMBER_NOT_FOUND
    # ...and found in its own workspace.
    assert api.get(features_url("globex", other_workspace_member.user_id)).status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_are_405_json(api, member, owner, method: str) -> None:
    response = getattr(api, method)(features_url("acme", member.user_id))
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json()["error"]["code"] == errors.METHOD_NOT_ALLOWED


def _populate(workspace: Workspace, member, n: int) -> None:  # type: ignore[no-untyped-def]
    """n groups of the member, each with rules; n other members with their own rules."""
    for i in range(n):
        group = GroupFactory(workspace=workspace, name=f"Team {n}-{i}")
        group.members.add(member)
        FeatureRuleFactory(
            workspace=workspace,
            feature=registry.KEYS[i % len(registry.KEYS)],
            group=group,
            effect=Effect.ALLOW if i % 2 else Effect.DENY,
        )
        other = MembershipFactory(
            workspace=workspace, user=UserFactory(email=f"other{n}-{i}@acme.test")
        )
        FeatureRuleFactory(
            workspace=workspace, feature=registry.CANVAS, membership=other, effect=Effect.DENY
        )
        FeatureOptOutFactory(workspace=workspace, membership=other, feature=registry.WEB_SEARCH)
    FeatureRuleFactory(
        workspace=workspace,
        feature=registry.KEYS[n % len(registry.KEYS)],
        membership=member,
        effect=Effect.ALLOW,
    )


def _queries(api, url: str) -> int:  # type: ignore[no-untyped-def]
    # Each call reads the token from the database, as after a token is saved.
    snapshots.moved(TOKENS)
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("media_customer", [False, True])
@pytest.mark.parametrize("by", ["id", "email"])
def test_query_count_is_small_and_constant(
    api, workspace, member, owner, by: str, media_customer: bool
) -> None:
    """Two data sizes (groups, rules, switches, other members): the same number of queries."""
    if media_customer:
        # Its exceptions in force are one read more; a subscription spares looking up the default plan.
        MediaStatusChange.objects.create(workspace=workspace, is_media_customer=True, source="self")
        subscription_start(
            actor=Actor.system(), workspace=workspace, plan=Plan.objects.get(slug="team")
        )
    url = features_url("acme", member.user_id if by == "id" else member.user.email)
    _populate(workspace, member, 2)
    small = _queries(api, url)
    FeatureRule.objects.filter(membership=member).delete()
    _populate(workspace, member, 30)
    large = _queries(api, url)

    assert small == large
    assert small <= 11


def test_an_address_stored_with_capitals_is_found_too(api, workspace, owner) -> None:
    mixed = MembershipFactory(workspace=workspace, user=UserFactory(email="Grace.Hopper@Acme.test"))
    for ref in ("grace.hopper@acme.test", "GRACE.HOPPER@ACME.TEST", "Grace.Hopper@Acme.test"):
        response = api.get(features_url("acme", ref))
        assert response.status_code == 200, ref
        assert response.json()["member"]["user_id"] == mixed.user_id
