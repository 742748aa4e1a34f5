"""What the Media Customer status and its exceptions do to the one feature decision
(R-MEDIA-2, R-MEDIA-4): verified news is blocked for a Media Customer, an approved
editorial-use authorization lifts the block for its scope only and only until its last
day (inclusive), and other features are untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.actor import Actor
from accounts.models import Membership, User, Workspace
from compliance import services
from compliance.models import EditorialAuthorization, RequestStatus
from features.decisions import Code, decide
from tests.factories import FeatureRuleFactory

pytestmark = pytest.mark.django_db

NEWS = "news"


def approve(
    workspace: Workspace, owner: Membership, staff: User, *, group=None, days: int = 1
) -> EditorialAuthorization:  # type: ignore[no-untyped-def]
    req = services.editorial_request_create(
        actor=Actor.member(owner), workspace=workspace, reason="r", requested_scope="s"
    )
    return services.editorial_request_decide(
        actor=Actor.staff(staff),
        authorization=req,
        approve=True,
        scope_group=group,
        ends_on=timezone.now().date() + timedelta(days=days),
    )


def test_news_is_allowed_outside_a_media_customer(workspace: Workspace, member: Membership) -> None:
    assert decide(member, NEWS).allowed


def test_a_media_customer_member_is_denied_news_with_the_reason(
    media: Workspace, member: Membership
) -> None:
    decision = decide(member, NEWS)
    assert not decision.allowed and decision.code == Code.MEDIA_CUSTOMER
    assert "Media Customer" in decision.reason
    # Other features are not affected.
    assert decide(member, "web_search").allowed


def test_an_admin_allow_rule_does_not_lift_the_block(
    media: Workspace, member: Membership, owner: Membership
) -> None:
    FeatureRuleFactory(workspace=media, feature=NEWS, effect="allow", updated_by=owner.user)
    assert decide(member, NEWS).code == Code.MEDIA_CUSTOMER


def test_an_exception_lifts_the_block_for_its_group_only(
    media: Workspace, owner: Membership, member: Membership, desk, staff: User
) -> None:
    approve(media, owner, staff, group=desk)
    assert decide(member, NEWS).allowed  # in the desk
    assert decide(owner, NEWS).code == Code.MEDIA_CUSTOMER  # not in the desk


def test_a_whole_workspace_exception_lifts_it_for_everyone(
    media: Workspace, owner: Membership, member: Membership, staff: User
) -> None:
    approve(media, owner, staff)
    assert decide(member, NEWS).allowed and decide(owner, NEWS).allowed


def test_an_exception_lasts_until_its_last_day_inclusive(
    media: Workspace,
    owner: Membership,
    member: Membership,
    desk,
    staff: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth = approve(media, owner, staff, group=desk, days=2)
    last_day = auth.ends_on
    assert last_day is not None

    def at(day) -> None:  # type: ignore[no-untyped-def]
        moment = datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda: moment)

    at(last_day)
    assert decide(member, NEWS).allowed
    at(last_day + timedelta(days=1))
    assert decide(member, NEWS).code == Code.MEDIA_CUSTOMER


def test_pending_and_declined_requests_lift_nothing(
    media: Workspace, owner: Membership, member: Membership, staff: User
) -> None:
    req = services.editorial_request_create(
        actor=Actor.member(owner), workspace=media, reason="r", requested_scope="s"
    )
    assert decide(member, NEWS).code == Code.MEDIA_CUSTOMER
    services.editorial_request_decide(actor=Actor.staff(staff), authorization=req, approve=False)
    assert EditorialAuthorization.objects.get().status == RequestStatus.DECLINED
    assert decide(member, NEWS).code == Code.MEDIA_CUSTOMER


def test_clearing_the_status_lifts_the_block(
    media: Workspace, owner: Membership, member: Membership
) -> None:
    services.media_status_set(
        actor=Actor.member(owner), workspace=media, is_media_customer=False, source="self"
    )
    assert decide(member, NEWS).allowed
