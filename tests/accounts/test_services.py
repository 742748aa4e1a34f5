"""Services of accounts: roles, last owner, invitations and domains (R-WS-2..4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts import errors, services
from accounts.actor import Actor
from accounts.dns import StaticResolver
from accounts.models import AuditEvent, Invitation, InvitationStatus, JoinMode, Membership
from accounts.roles import Role
from core.errors import DomainError
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_workspace_create_makes_creator_owner_and_audits() -> None:
    user = UserFactory()
    ws = services.workspace_create(actor=Actor.for_user(user), name="Initech", slug="initech")
    m = Membership.objects.get(workspace=ws, user=user)
    assert m.role == Role.OWNER
    assert AuditEvent.objects.filter(workspace=ws, action="workspace.created").exists()


def test_slug_taken_is_a_field_error() -> None:
    user = UserFactory()
    services.workspace_create(actor=Actor.for_user(user), name="A", slug="same")
    with pytest.raises(DomainError) as exc:
        services.workspace_create(actor=Actor.for_user(user), name="B", slug="same")
    assert exc.value.field == "slug"


def test_last_owner_cannot_be_demoted_removed_or_leave(owner, admin_member) -> None:
    with pytest.raises(DomainError, match="at least one owner"):
        services.member_leave(actor=Actor.member(owner), membership=owner)
    with pytest.raises(DomainError):
        services.member_role_change(
            actor=Actor.member(admin_member),
            membership=owner,
            role=Role.MEMBER,
        )
    # A second owner makes the first removable.
    second = MembershipFactory(workspace=owner.workspace, role=Role.OWNER)
    services.member_role_change(actor=Actor.member(second), membership=owner, role=Role.ADMIN)
    owner.refresh_from_db()
    assert owner.role == Role.ADMIN
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.before == {"role": Role.OWNER} and event.after == {"role": Role.ADMIN}


def test_invite_many_reports_each_address(
    owner, member, django_capture_on_commit_callbacks
) -> None:
    ws = owner.workspace
    with django_capture_on_commit_callbacks(execute=True):
        results = services.invitation_create_many(
            actor=Actor.member(owner),
            workspace=ws,
            emails=services.parse_email_list(
                f"new@x.test, bad-address; {member.user.email}\nnew@x.test"
            ),
            role=Role.MEMBER,
        )
    by_email = {r.email: r for r in results}
    assert by_email["new@x.test"].ok
    assert not by_email["bad-address"].ok
    assert by_email[member.user.email].message == errors.ALREADY_MEMBER
    assert len(mail.outbox) == 1
    msg = mail.outbox[0]
    assert msg.to == ["new@x.test"]
    assert msg.alternatives and "http://testserver/invitations/" in msg.body
    again = services.invitation_create_many(
        actor=Actor.member(owner),
        workspace=ws,
        emails=["NEW@x.test"],
        role=Role.MEMBER,
    )
    assert again[0].message == errors.ALREADY_INVITED


def test_invitation_link_single_use_and_expiry(owner) -> None:
    ws = owner.workspace
    [res] = services.invitation_create_many(
        actor=Actor.member(owner),
        workspace=ws,
        emails=["joiner@x.test"],
        role=Role.ADMIN,
    )
    token = services.invitation_token(res.invitation)
    joiner = UserFactory(email="joiner@x.test")
    inv = services.invitation_from_token(token)
    m = services.invitation_accept(actor=Actor.for_user(joiner), invitation=inv)
    assert m.role == Role.ADMIN
    with pytest.raises(DomainError, match="already been used"):
        services.invitation_from_token(token)
    with pytest.raises(DomainError, match="not valid"):
        services.invitation_from_token(token + "x")
    [res2] = services.invitation_create_many(
        actor=Actor.member(owner),
        workspace=ws,
        emails=["late@x.test"],
        role=Role.MEMBER,
    )
    Invitation.objects.filter(pk=res2.invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(DomainError, match="expired"):
        services.invitation_from_token(services.invitation_token(res2.invitation))
    assert services.invitations_expire() == 1
    assert Invitation.objects.get(pk=res2.invitation.pk).status == InvitationStatus.EXPIRED


def test_domain_claim_verify_and_autojoin(owner) -> None:
    ws = owner.workspace
    with pytest.raises(DomainError, match="public email"):
        services.domain_claim(actor=Actor.member(owner), workspace=ws, name="gmail.com")
    d = services.domain_claim(actor=Actor.member(owner), workspace=ws, name="Initech.Example.ORG.")
    assert d.name == "initech.example.org"
    d = services.domain_check(actor=Actor.member(owner), domain=d)
    assert not d.is_verified and "No TXT record" in d.last_error
    StaticResolver.records = {d.name: ["other", d.txt_value]}
    d = services.domain_check(actor=Actor.member(owner), domain=d)
    assert d.is_verified
    other = WorkspaceFactory()
    other_owner = MembershipFactory(workspace=other, role=Role.OWNER)
    with pytest.raises(DomainError, match="another workspace"):
        services.domain_claim(
            actor=Actor.member(other_owner), workspace=other, name="initech.example.org"
        )
    ws.join_mode = JoinMode.AUTO
    ws.default_role = Role.BILLING
    ws.save()
    user = UserFactory(email="bob@initech.example.org")
    [m] = services.domain_autojoin(user=user)
    assert isinstance(m, Membership) and m.role == Role.BILLING
    assert services.domain_autojoin(user=user) == []


# --- Renaming a workspace ------------------------------------------------------------------


def test_workspace_rename_audits_before_and_after(owner) -> None:
    ws = services.workspace_rename(
        actor=Actor.member(owner), workspace=owner.workspace, name=" New  name "
    )
    assert ws.name == "New name"
    ws.refresh_from_db()
    assert ws.name == "New name"
    event = AuditEvent.objects.get(action="workspace.updated")
    assert (event.before, event.after, event.actor) == (
        {"name": "Acme"},
        {"name": "New name"},
        owner.user,
    )


def test_workspace_rename_to_the_same_name_does_nothing(owner) -> None:
    services.workspace_rename(actor=Actor.member(owner), workspace=owner.workspace, name="Acme")
    assert not AuditEvent.objects.filter(action="workspace.updated").exists()


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BILLING])
def test_workspace_rename_refuses_roles_below_admin(workspace, owner, role) -> None:
    m = MembershipFactory(workspace=workspace, role=role)
    with pytest.raises(DomainError, match=errors.WORKSPACE_RENAME_NOT_ALLOWED):
        services.workspace_rename(actor=Actor.member(m), workspace=workspace, name="Taken over")
    workspace.refresh_from_db()
    assert workspace.name == "Acme"


def test_workspace_rename_refuses_outsiders_and_deactivated_admins(workspace, owner) -> None:
    stranger = MembershipFactory(workspace=WorkspaceFactory(), role=Role.OWNER)
    gone = MembershipFactory(workspace=workspace, role=Role.ADMIN, status="deactivated")
    for actor in (Actor.member(stranger), Actor.member(gone), Actor.for_user(UserFactory())):
        with pytest.raises(DomainError, match=errors.WORKSPACE_RENAME_NOT_ALLOWED):
            services.workspace_rename(actor=actor, workspace=workspace, name="Taken over")
    workspace.refresh_from_db()
    assert workspace.name == "Acme"


def test_workspace_rename_validates_the_name(owner) -> None:
    with pytest.raises(DomainError) as exc:
        services.workspace_rename(
            actor=Actor.member(owner), workspace=owner.workspace, name="x" * 101
        )
    assert exc.value.field == "name"
    with pytest.raises(DomainError, match=errors.WORKSPACE_NAME_REQUIRED):
        services.workspace_rename(actor=Actor.member(owner), workspace=owner.workspace, name=" \t ")
