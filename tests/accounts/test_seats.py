"""The plan's seat limit (``Workspace.seat_limit``, kept by billing) holds on every way of
joining: invitation, domain auto-join, join-request approval and reactivation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import errors, services
from accounts.actor import Actor
from accounts.audit import Action
from accounts.models import (
    AuditEvent,
    Invitation,
    InvitationStatus,
    JoinMode,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    MemberStatus,
    Workspace,
)
from accounts.roles import Role
from accounts.selectors import Seats
from core.errors import DomainError
from tests.factories import (
    DomainFactory,
    InvitationFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FULL = errors.no_seat_left(2)


def _limit(workspace: Workspace, n: int | None) -> None:
    Workspace.objects.filter(pk=workspace.pk).update(seat_limit=n)
    workspace.refresh_from_db()


def _full(owner: Membership) -> Workspace:
    """The owner's workspace with two seats, both taken."""
    ws = owner.workspace
    MembershipFactory(workspace=ws)
    _limit(ws, 2)
    return ws


def test_the_refusal_names_the_limit_and_who_can_change_the_plan() -> None:
    assert errors.no_seat_left(5) == (
        "This workspace has no seat left: its plan allows 5 members. "
        "An owner or billing member can change the plan."
    )
    assert "allows 1 member." in errors.no_seat_left(1)


def test_invitation_accept_refused_when_full_and_invitation_stays_pending(owner) -> None:
    ws = _full(owner)
    inv = InvitationFactory(workspace=ws, email="late@acme.test")
    user = UserFactory(email="late@acme.test")
    with pytest.raises(DomainError) as exc:
        services.invitation_accept(actor=Actor.for_user(user), invitation=inv)
    assert exc.value.message == FULL
    assert not Membership.objects.filter(workspace=ws, user=user).exists()
    assert Invitation.objects.get(pk=inv.pk).status == InvitationStatus.PENDING


def test_invitation_accept_with_a_seat_left_joins(owner) -> None:
    ws = owner.workspace
    _limit(ws, 2)
    inv = InvitationFactory(workspace=ws, email="in@acme.test")
    user = UserFactory(email="in@acme.test")
    m = services.invitation_accept(actor=Actor.for_user(user), invitation=inv)
    assert m.workspace_id == ws.pk and m.is_active


def test_deactivated_members_hold_no_seat(owner) -> None:
    ws = _full(owner)
    other = Membership.objects.exclude(pk=owner.pk).get(workspace=ws)
    services.member_deactivate(actor=Actor.member(owner), membership=other)
    inv = InvitationFactory(workspace=ws, email="in@acme.test")
    user = UserFactory(email="in@acme.test")
    services.invitation_accept(actor=Actor.for_user(user), invitation=inv)
    # Now full again: the deactivated member cannot come back until a seat frees.
    with pytest.raises(DomainError) as exc:
        services.member_reactivate(actor=Actor.member(owner), membership=other)
    assert exc.value.message == FULL
    assert Membership.objects.get(pk=other.pk).status == MemberStatus.DEACTIVATED


def test_join_request_approval_refused_when_full_and_request_stays_pending(owner) -> None:
    ws = _full(owner)
    jr = JoinRequest.objects.create(workspace=ws, user=UserFactory())
    with pytest.raises(DomainError) as exc:
        services.join_request_approve(actor=Actor.member(owner), join_request=jr)
    assert exc.value.message == FULL
    jr.refresh_from_db()
    assert jr.status == JoinRequestStatus.PENDING
    assert not Membership.objects.filter(workspace=ws, user=jr.user).exists()


def test_domain_autojoin_into_a_full_workspace_leaves_a_join_request(owner) -> None:
    ws = _full(owner)
    Workspace.objects.filter(pk=ws.pk).update(join_mode=JoinMode.AUTO)
    DomainFactory(workspace=ws, name="acme.org", verified_at=ws.created_at)
    user = UserFactory(email="new@acme.org")

    [outcome] = services.domain_autojoin(user=user)

    assert isinstance(outcome, JoinRequest) and outcome.status == JoinRequestStatus.PENDING
    assert not Membership.objects.filter(workspace=ws, user=user).exists()
    event = AuditEvent.objects.get(workspace=ws, action=Action.JOIN_REQUESTED)
    assert event.after == {"reason": "no seat left"}
    # Signing in again asks nothing twice; once a seat frees, the admins approve.
    assert services.domain_autojoin(user=user) == []
    _limit(ws, 3)
    m = services.join_request_approve(actor=Actor.member(owner), join_request=outcome)
    assert m.user_id == user.pk


def test_no_limit_lets_everyone_in(owner) -> None:
    ws = owner.workspace
    _limit(ws, None)
    for i in range(3):
        inv = InvitationFactory(workspace=ws, email=f"u{i}@acme.test")
        services.invitation_accept(
            actor=Actor.for_user(UserFactory(email=f"u{i}@acme.test")), invitation=inv
        )
    assert ws.memberships.count() == 4


def test_joining_by_one_path_closes_the_others(owner) -> None:
    """A member has no use for their pending invitation or join request: both are closed
    and audited when they join by any path."""
    ws = owner.workspace
    user = UserFactory(email="both@acme.org")
    jr = JoinRequest.objects.create(workspace=ws, user=user)
    inv = InvitationFactory(workspace=ws, email="BOTH@acme.org")

    services.join_request_approve(actor=Actor.member(owner), join_request=jr)

    inv.refresh_from_db()
    assert inv.status == InvitationStatus.ACCEPTED and inv.accepted_by == user
    event = AuditEvent.objects.get(action=Action.INVITATION_ACCEPTED, target_id=str(inv.pk))
    assert event.after == {"via": "join request"}

    other = UserFactory(email="second@acme.org")
    jr2 = JoinRequest.objects.create(workspace=ws, user=other)
    inv2 = InvitationFactory(workspace=ws, email="second@acme.org")
    services.invitation_accept(actor=Actor.for_user(other), invitation=inv2)
    jr2.refresh_from_db()
    assert jr2.status == JoinRequestStatus.APPROVED and jr2.decided_at is not None
    assert AuditEvent.objects.filter(
        action=Action.JOIN_APPROVED, target_id=str(jr2.pk), after={"via": "invitation"}
    ).exists()


def test_accepting_as_a_member_already_uses_the_invitation(owner, member) -> None:
    inv = InvitationFactory(workspace=owner.workspace, email=member.user.email, role=Role.ADMIN)
    m = services.invitation_accept(actor=Actor.for_user(member.user), invitation=inv)
    assert m.pk == member.pk and m.role == Role.MEMBER
    assert Invitation.objects.get(pk=inv.pk).status == InvitationStatus.ACCEPTED


def test_accepting_an_invitation_the_domain_already_used_lands_in_the_workspace(owner) -> None:
    ws = owner.workspace
    Workspace.objects.filter(pk=ws.pk).update(join_mode=JoinMode.AUTO)
    DomainFactory(workspace=ws, name="acme.org", verified_at=ws.created_at)
    user = UserFactory(email="new@acme.org")
    inv = InvitationFactory(workspace=ws, email=user.email)
    [m] = services.domain_autojoin(user=user)
    assert Invitation.objects.get(pk=inv.pk).status == InvitationStatus.ACCEPTED

    again = services.invitation_accept(actor=Actor.for_user(user), invitation=inv)

    assert again.pk == m.pk
    stranger = UserFactory(email="stranger@acme.test")
    with pytest.raises(DomainError) as exc:
        services.invitation_accept(actor=Actor.for_user(stranger), invitation=inv)
    assert exc.value.message == errors.INVITATION_USED


def test_seats_read_as_used_of_limit_and_left() -> None:
    assert _seats_text(3, 5) == "3 of 5 seats used, 2 left"
    assert _seats_text(5, 5) == "5 of 5 seats used, none left"
    assert _seats_text(1, 1) == "1 of 1 seat used, none left"
    assert _seats_text(7, 5) == "7 of 5 seats used, 2 over the limit"
    assert _seats_text(1, None) == "1 seat used; the plan has no seat limit"


def _seats_text(used: int, limit: int | None) -> str:
    return Seats(used=used, limit=limit).text


def test_members_page_says_how_many_seats_are_left(owner_client, owner, member) -> None:
    ws = owner.workspace
    MembershipFactory(workspace=ws, status=MemberStatus.DEACTIVATED)
    _limit(ws, 5)
    html = owner_client.get(reverse("ws:members", args=[ws.slug])).content.decode()
    assert "2 of 5 seats used, 3 left." in html and "Nobody can join" not in html

    _limit(ws, 2)
    html = owner_client.get(reverse("ws:members", args=[ws.slug])).content.decode()
    assert "2 of 2 seats used, none left." in html
    assert "an owner or billing member can change the plan" in html
