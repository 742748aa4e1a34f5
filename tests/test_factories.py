"""The factories make valid rows, tied together the way the console ties them."""

from __future__ import annotations

import pytest
from django.db import models
from django.test import Client

from accounts.audit import Action
from api.models import new_raw_token
from billing.models import Plan
from features.decisions import decide
from tests.api.conftest import features_url
from tests.factories import (
    AgentFactory,
    AgentGrantFactory,
    AgentSettingsFactory,
    AgentVersionFactory,
    AppealFactory,
    AuditEventFactory,
    BaseModelFactory,
    BlockedTermFactory,
    ConnectionFactory,
    DocumentFactory,
    DomainFactory,
    EditorialAuthorizationFactory,
    FeatureOptOutFactory,
    FeatureRuleFactory,
    FeatureUseEventFactory,
    GroupFactory,
    GroupMemberFactory,
    InvitationFactory,
    JoinRequestFactory,
    LibraryFactory,
    LibraryGrantFactory,
    MediaStatusChangeFactory,
    MembershipFactory,
    ModelOfferFactory,
    NewsViolationFactory,
    PlanFactory,
    PrincipalFactory,
    ServiceTokenFactory,
    SubscriptionFactory,
    SyncRunFactory,
    TermsAcceptanceFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

FACTORIES = [
    UserFactory,
    TermsAcceptanceFactory,
    WorkspaceFactory,
    MembershipFactory,
    GroupFactory,
    InvitationFactory,
    DomainFactory,
    JoinRequestFactory,
    AuditEventFactory,
    BaseModelFactory,
    ModelOfferFactory,
    PlanFactory,
    SubscriptionFactory,
    MediaStatusChangeFactory,
    EditorialAuthorizationFactory,
    NewsViolationFactory,
    AppealFactory,
    FeatureRuleFactory,
    FeatureOptOutFactory,
    ServiceTokenFactory,
    FeatureUseEventFactory,
    ConnectionFactory,
    SyncRunFactory,
    PrincipalFactory,
    GroupMemberFactory,
    LibraryFactory,
    LibraryGrantFactory,
    DocumentFactory,
    AgentFactory,
    AgentVersionFactory,
    AgentGrantFactory,
    AgentSettingsFactory,
    BlockedTermFactory,
]


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_each_factory_makes_a_valid_saved_row(factory) -> None:  # type: ignore[no-untyped-def]
    first, second = factory(), factory()
    for row in (first, second):
        assert isinstance(row, models.Model) and row.pk is not None
        row.full_clean()
    assert first.pk != second.pk


def test_every_model_of_the_apps_has_a_factory() -> None:
    from django.apps import apps  # noqa: PLC0415

    covered = {f._meta.model for f in FACTORIES}
    ours = {
        m
        for label in (
            "accounts",
            "catalogue",
            "billing",
            "compliance",
            "features",
            "api",
            "connectors",
            "agents",
        )
        for m in apps.get_app_config(label).get_models()
    }
    assert ours - covered == set()


def test_an_audit_event_is_written_by_record() -> None:
    owner = MembershipFactory()
    event = AuditEventFactory(
        workspace=owner.workspace, actor=owner.user, action=Action.GROUP_CREATED
    )
    assert (event.actor_email, event.workspace_name) == (owner.user.email, owner.workspace.name)


def test_a_plan_given_a_catalogue_slug_is_the_catalogue_plan() -> None:
    team = Plan.objects.get(slug="team")
    assert PlanFactory(slug="team") == team
    assert SubscriptionFactory().plan == Plan.objects.get(slug="free")


def test_rules_and_switches_take_the_workspace_of_their_target() -> None:
    member = MembershipFactory()
    group = GroupFactory()
    assert FeatureRuleFactory(membership=member).workspace == member.workspace
    assert FeatureRuleFactory(group=group).workspace == group.workspace
    assert FeatureOptOutFactory(membership=member).workspace == member.workspace
    SubscriptionFactory(workspace=member.workspace, plan=PlanFactory(slug="team"))
    assert not decide(member, "web_search").allowed


def test_an_approved_editorial_authorization_lifts_the_media_block() -> None:
    member = MembershipFactory()
    SubscriptionFactory(workspace=member.workspace, plan=PlanFactory(slug="team"))
    MediaStatusChangeFactory(workspace=member.workspace)
    assert not decide(member, "news").allowed
    EditorialAuthorizationFactory(workspace=member.workspace, approved=True)
    assert decide(member, "news").allowed


def test_a_service_token_made_from_a_raw_value_authenticates() -> None:
    member = MembershipFactory(workspace=WorkspaceFactory(slug="acme"))
    raw = new_raw_token()
    ServiceTokenFactory(raw=raw)
    answer = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(features_url("acme", member.user_id))
    assert answer.status_code == 200
    stranger = Client(HTTP_AUTHORIZATION=f"Bearer {new_raw_token()}")
    assert stranger.get(features_url("acme", member.user_id)).status_code == 401
