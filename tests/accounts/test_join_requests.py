"""A member never has an open request to join their own workspace (R-WS-4): whichever way
they joined, a pending request of theirs is closed, and approving one that slipped through
says they are a member already instead of claiming they just joined."""

from __future__ import annotations

import json

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from accounts import errors, services
from accounts.actor import Actor
from accounts.models import JoinRequest, JoinRequestStatus, Membership
from accounts.roles import Role
from tests.conftest import HTMX
from tests.factories import (
    PASSWORD,
    DomainFactory,
    InvitationFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def domain(workspace):
    # Requests to join (the workspace's default join mode), on a verified domain.
    return DomainFactory(workspace=workspace, name="acme.org", verified_at=timezone.now())


def confirm_email(user, address: str) -> None:
    """The user adds ``address`` and follows its verification link."""
    email = EmailAddress.objects.create(user=user, email=address, verified=False)
    client = Client()
    client.force_login(user)
    response = client.post(f"/accounts/confirm-email/{EmailConfirmationHMAC(email).key}/")
    assert response.status_code == 302


def pending(workspace, user) -> list[JoinRequest]:
    return list(
        JoinRequest.objects.filter(workspace=workspace, user=user, status=JoinRequestStatus.PENDING)
    )


def test_a_member_confirming_an_address_on_the_domain_asks_nothing(workspace, owner, domain):
    member = MembershipFactory(workspace=workspace, user=UserFactory(email="ada@elsewhere.test"))
    confirm_email(member.user, "ada@acme.org")
    assert EmailAddress.objects.get(email="ada@acme.org").verified
    assert pending(workspace, member.user) == []


def test_a_deactivated_member_confirming_an_address_asks_nothing(workspace, owner, domain):
    member = MembershipFactory(
        workspace=workspace, user=UserFactory(email="bob@elsewhere.test"), status="deactivated"
    )
    confirm_email(member.user, "bob@acme.org")
    assert pending(workspace, member.user) == []


def test_joining_by_invitation_closes_the_pending_request(workspace, owner, domain):
    user = UserFactory(email="cleo@acme.org")
    [jr] = services.domain_autojoin(user=user)
    assert isinstance(jr, JoinRequest) and jr.status == JoinRequestStatus.PENDING
    invitation = InvitationFactory(workspace=workspace, email=user.email, invited_by=owner.user)

    services.invitation_accept(actor=Actor.for_user(user), invitation=invitation)

    assert Membership.objects.filter(workspace=workspace, user=user).exists()
    assert pending(workspace, user) == []
    jr.refresh_from_db()
    assert jr.status == JoinRequestStatus.APPROVED and jr.decided_at is not None
    # Signing in again does not open a new one.
    assert services.domain_autojoin(user=user) == []
    assert pending(workspace, user) == []


def test_the_domains_page_does_not_offer_a_members_request(owner_client, workspace, owner, domain):
    user = UserFactory(email="dan@acme.org")
    services.domain_autojoin(user=user)
    invitation = InvitationFactory(workspace=workspace, email=user.email, invited_by=owner.user)
    services.invitation_accept(actor=Actor.for_user(user), invitation=invitation)

    page = owner_client.get("/w/acme/domains/").content.decode()
    assert "dan@acme.org" not in page.split('id="join-requests"', 1)[-1]
    assert JoinRequest.objects.filter(workspace=workspace, status="pending").count() == 0


def test_a_request_left_open_for_a_member_is_closed_when_they_sign_in(workspace, owner, domain):
    """Requests opened before members' requests were closed on joining: the member's next
    sign-in (which runs the domain join) closes theirs."""
    member = MembershipFactory(workspace=workspace, user=UserFactory(email="eve@acme.org"))
    stale = JoinRequest.objects.create(workspace=workspace, user=member.user, domain=domain)

    response = Client().post("/accounts/login/", {"login": "eve@acme.org", "password": PASSWORD})

    assert response.status_code == 302

    stale.refresh_from_db()
    assert stale.status == JoinRequestStatus.APPROVED


def test_approving_a_members_request_says_they_are_a_member_and_closes_it(
    admin_client_ws, workspace, domain
):
    member = MembershipFactory(
        workspace=workspace, role=Role.MEMBER, user=UserFactory(email="fay@acme.org")
    )
    stale = JoinRequest.objects.create(workspace=workspace, user=member.user, domain=domain)

    response = admin_client_ws.post(f"/w/acme/domains/requests/{stale.pk}/approve/", **HTMX)

    assert response.status_code == 200
    toast = json.loads(response.headers["HX-Trigger"])["toast"]
    assert toast == {
        "message": errors.JOIN_REQUEST_ALREADY_MEMBER.format(email="fay@acme.org"),
        "kind": "error",
    }
    stale.refresh_from_db()
    assert stale.status != JoinRequestStatus.PENDING
    assert Membership.objects.get(pk=member.pk).role == Role.MEMBER


def test_approving_a_members_request_without_javascript(admin_client_ws, workspace, domain):
    member = MembershipFactory(workspace=workspace, user=UserFactory(email="gus@acme.org"))
    stale = JoinRequest.objects.create(workspace=workspace, user=member.user, domain=domain)

    response = admin_client_ws.post(f"/w/acme/domains/requests/{stale.pk}/approve/")

    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert shown == [errors.JOIN_REQUEST_ALREADY_MEMBER.format(email="gus@acme.org")]
    stale.refresh_from_db()
    assert stale.status != JoinRequestStatus.PENDING
