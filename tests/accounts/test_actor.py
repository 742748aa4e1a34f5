"""Every service checks its actor itself (R-SEC-1): a member of another workspace, a role
one step too low, a non-staff user for staff decisions and another person for a personal
choice are all refused, and nothing is written. Celery tasks, the staff admin and the
service API have no view in front of them: the services are the last line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts import services
from accounts.actor import Actor, authorize
from accounts.dns import StaticResolver
from accounts.models import AuditEvent, JoinRequest, Membership, MemberStatus, Workspace
from accounts.roles import Perm, Role
from api import services as api_services
from billing import services as billing_services
from billing.models import Plan
from compliance import services as compliance_services
from compliance.models import EditorialAuthorization, MediaSource
from core.errors import NotAllowed
from features import services as feature_services
from tests.factories import (
    DomainFactory,
    GroupFactory,
    InvitationFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)


@dataclass
class World:
    ws: Workspace
    owner: Membership
    target: Membership
    objs: dict[str, Any]


@pytest.fixture
def world(db: None) -> World:
    ws = WorkspaceFactory(name="Acme", slug="acme")
    owner = MembershipFactory(workspace=ws, role=Role.OWNER)
    billing_services.subscription_start(actor=Actor.system(), workspace=ws)
    target = MembershipFactory(workspace=ws, role=Role.MEMBER)
    group = GroupFactory(workspace=ws, name="Research")
    group.members.add(target)
    domain = DomainFactory(workspace=ws, name="acme.example")
    # The TXT record is in place: a check that may run verifies the domain.
    StaticResolver.records = {domain.name: [domain.txt_value]}
    invitation = InvitationFactory(workspace=ws, email="new@acme.example", invited_by=owner.user)
    requester = UserFactory(email="asks@acme.example")
    join_request = JoinRequest.objects.create(workspace=ws, user=requester, domain=domain)
    compliance_services.media_status_set(
        actor=Actor.member(owner), workspace=ws, is_media_customer=True, source=MediaSource.SELF
    )
    editorial = EditorialAuthorization.objects.create(
        workspace=ws, requested_by=owner.user, reason="Desk", requested_scope="Desk"
    )
    return World(
        ws,
        owner,
        target,
        {
            "group": group,
            "domain": domain,
            "invitation": invitation,
            "join_request": join_request,
            "editorial": editorial,
            "team": Plan.objects.get(slug="team"),
        },
    )


Call = Callable[[Actor, World], object]

# (name, lowest role allowed, call). Each call names objects of the world's workspace.
WORKSPACE_SERVICES: list[tuple[str, Role, Call]] = [
    (
        "workspace_update_join_settings",
        Role.ADMIN,
        lambda a, w: services.workspace_update_join_settings(
            actor=a, workspace=w.ws, join_mode="auto", default_role=Role.MEMBER
        ),
    ),
    (
        "member_role_change",
        Role.ADMIN,
        lambda a, w: services.member_role_change(actor=a, membership=w.target, role=Role.ADMIN),
    ),
    (
        "member_deactivate",
        Role.ADMIN,
        lambda a, w: services.member_deactivate(actor=a, membership=w.target),
    ),
    (
        "member_reactivate",
        Role.ADMIN,
        lambda a, w: (
            Membership.objects.filter(pk=w.target.pk).update(status=MemberStatus.DEACTIVATED),
            services.member_reactivate(actor=a, membership=w.target),
        ),
    ),
    (
        "member_remove",
        Role.ADMIN,
        lambda a, w: services.member_remove(actor=a, membership=w.target),
    ),
    (
        "invitation_create_many",
        Role.ADMIN,
        lambda a, w: services.invitation_create_many(
            actor=a, workspace=w.ws, emails=["x@acme.example"], role=Role.MEMBER
        ),
    ),
    (
        "invitation_resend",
        Role.ADMIN,
        lambda a, w: services.invitation_resend(actor=a, invitation=w.objs["invitation"]),
    ),
    (
        "invitation_revoke",
        Role.ADMIN,
        lambda a, w: services.invitation_revoke(actor=a, invitation=w.objs["invitation"]),
    ),
    (
        "group_create",
        Role.ADMIN,
        lambda a, w: services.group_create(actor=a, workspace=w.ws, name="Ops"),
    ),
    (
        "group_rename",
        Role.ADMIN,
        lambda a, w: services.group_rename(actor=a, group=w.objs["group"], name="Ops"),
    ),
    (
        "group_delete",
        Role.ADMIN,
        lambda a, w: services.group_delete(actor=a, group=w.objs["group"]),
    ),
    (
        "group_member_add",
        Role.ADMIN,
        lambda a, w: services.group_member_add(actor=a, group=w.objs["group"], membership=w.owner),
    ),
    (
        "group_member_remove",
        Role.ADMIN,
        lambda a, w: services.group_member_remove(
            actor=a, group=w.objs["group"], membership=w.target
        ),
    ),
    (
        "domain_claim",
        Role.ADMIN,
        lambda a, w: services.domain_claim(actor=a, workspace=w.ws, name="acme.org"),
    ),
    (
        "domain_check",
        Role.ADMIN,
        lambda a, w: services.domain_check(actor=a, domain=w.objs["domain"]),
    ),
    (
        "domain_remove",
        Role.ADMIN,
        lambda a, w: services.domain_remove(actor=a, domain=w.objs["domain"]),
    ),
    (
        "join_request_approve",
        Role.ADMIN,
        lambda a, w: services.join_request_approve(actor=a, join_request=w.objs["join_request"]),
    ),
    (
        "join_request_decline",
        Role.ADMIN,
        lambda a, w: services.join_request_decline(actor=a, join_request=w.objs["join_request"]),
    ),
    (
        "subscription_change_plan",
        Role.BILLING,
        lambda a, w: billing_services.subscription_change_plan(
            actor=a, workspace=w.ws, plan=w.objs["team"]
        ),
    ),
    (
        "feature_rule_set",
        Role.ADMIN,
        lambda a, w: feature_services.feature_rule_set(
            actor=a, workspace=w.ws, feature="web_search", effect="deny"
        ),
    ),
    (
        "media_status_set",
        Role.ADMIN,
        lambda a, w: compliance_services.media_status_set(
            actor=a, workspace=w.ws, is_media_customer=False, source=MediaSource.SELF
        ),
    ),
    (
        "editorial_request_create",
        Role.ADMIN,
        lambda a, w: (
            EditorialAuthorization.objects.all().delete(),
            compliance_services.editorial_request_create(
                actor=a, workspace=w.ws, reason="Desk", requested_scope="Desk"
            ),
        ),
    ),
    (
        "appeal_file",
        Role.OWNER,
        lambda a, w: (
            Workspace.objects.filter(pk=w.ws.pk).update(
                suspended_at=timezone.now(), suspension_reason="News"
            ),
            compliance_services.appeal_file(actor=a, workspace=w.ws, statement="Please"),
        ),
    ),
]

ONE_STEP_BELOW = {Role.ADMIN: Role.BILLING, Role.BILLING: Role.MEMBER, Role.OWNER: Role.ADMIN}


def _events() -> int:
    return AuditEvent.objects.count()


@pytest.mark.parametrize(
    ("name", "lowest", "call"), WORKSPACE_SERVICES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_a_member_of_another_workspace_is_refused(
    world: World, name: str, lowest: Role, call: Call
) -> None:
    outsider = MembershipFactory(workspace=WorkspaceFactory(slug="globex"), role=Role.OWNER)
    before = _events()
    with pytest.raises(NotAllowed):
        call(Actor.member(outsider), world)
    assert _events() == before


@pytest.mark.parametrize(
    ("name", "lowest", "call"), WORKSPACE_SERVICES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_a_role_one_step_too_low_is_refused(
    world: World, name: str, lowest: Role, call: Call
) -> None:
    low = MembershipFactory(workspace=world.ws, role=ONE_STEP_BELOW[lowest])
    before = _events()
    with pytest.raises(NotAllowed):
        call(Actor.member(low), world)
    assert _events() == before


@pytest.mark.parametrize(
    ("name", "lowest", "call"), WORKSPACE_SERVICES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_lowest_role_allowed_acts(world: World, name: str, lowest: Role, call: Call) -> None:
    actor = MembershipFactory(workspace=world.ws, role=lowest)
    before = _events()
    call(Actor.member(actor), world)
    assert _events() > before


@pytest.mark.parametrize(
    ("name", "lowest", "call"), WORKSPACE_SERVICES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_a_deactivated_membership_is_refused(
    world: World, name: str, lowest: Role, call: Call
) -> None:
    gone = MembershipFactory(workspace=world.ws, role=Role.OWNER, status=MemberStatus.DEACTIVATED)
    with pytest.raises(NotAllowed):
        call(Actor.member(gone), world)


def test_an_actor_whose_membership_is_of_another_user_is_refused(world: World) -> None:
    # A forged actor: the owner's membership with another person's user.
    forged = Actor(Actor.member(world.owner).kind, user=world.target.user, membership=world.owner)
    with pytest.raises(NotAllowed):
        services.member_remove(actor=forged, membership=world.target)
    assert Membership.objects.filter(pk=world.target.pk).exists()


STAFF_SERVICES: list[tuple[str, Call]] = [
    (
        "workspace_suspend",
        lambda a, w: services.workspace_suspend(actor=a, workspace=w.ws, reason="Unpaid"),
    ),
    (
        "workspace_reactivate",
        lambda a, w: (
            Workspace.objects.filter(pk=w.ws.pk).update(suspended_at=timezone.now()),
            services.workspace_reactivate(actor=a, workspace=w.ws),
        ),
    ),
    (
        "editorial_request_decide",
        lambda a, w: compliance_services.editorial_request_decide(
            actor=a,
            authorization=w.objs["editorial"],
            approve=True,
            ends_on=timezone.now().date() + timedelta(days=30),
        ),
    ),
    (
        "media_status_set by staff",
        lambda a, w: compliance_services.media_status_set(
            actor=a, workspace=w.ws, is_media_customer=True, source=MediaSource.STAFF, note="Seen"
        ),
    ),
    ("service_token_create", lambda a, w: api_services.service_token_create(actor=a, name="gw")),
]


@pytest.mark.parametrize(
    ("name", "call"), STAFF_SERVICES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_staff_decisions_refuse_the_workspace_owner(world: World, name: str, call: Call) -> None:
    before = _events()
    with pytest.raises(NotAllowed):
        call(Actor.member(world.owner), world)
    with pytest.raises(NotAllowed):
        # Staff capacity claimed by a user who is not staff.
        call(Actor.staff(world.owner.user), world)
    assert _events() == before


@pytest.mark.parametrize(
    ("name", "call"), STAFF_SERVICES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_staff_decisions_are_made_by_staff(world: World, name: str, call: Call) -> None:
    staff = UserFactory(email="staff@console.test", is_staff=True)
    before = _events()
    call(Actor.staff(staff), world)
    assert _events() > before


def test_a_member_cannot_switch_a_feature_for_someone_else(world: World) -> None:
    with pytest.raises(NotAllowed):
        feature_services.feature_switch_set(
            actor=Actor.member(world.owner), membership=world.target, feature="web_search", on=False
        )
    assert feature_services.feature_switch_set(
        actor=Actor.member(world.target), membership=world.target, feature="web_search", on=False
    )


def test_a_member_cannot_make_someone_else_leave(world: World) -> None:
    other = MembershipFactory(workspace=world.ws, role=Role.MEMBER)
    with pytest.raises(NotAllowed):
        services.member_leave(actor=Actor.member(world.owner), membership=other)
    services.member_leave(actor=Actor.member(other), membership=other)
    assert not Membership.objects.filter(pk=other.pk).exists()


def test_the_system_acts_only_where_a_service_lets_it(world: World) -> None:
    # Periodic domain checks and suspensions for a violation run as the system...
    services.domain_check(actor=Actor.system(), domain=world.objs["domain"])
    services.workspace_suspend(actor=Actor.system(), workspace=world.ws, reason="News")
    # ...but a role change always needs a person.
    with pytest.raises(NotAllowed):
        authorize(Actor.system(), world.ws.pk, Perm.MANAGE_MEMBERS)


def test_staff_open_a_workspace_for_a_named_owner_only(db: None) -> None:
    staff = UserFactory(email="staff@console.test", is_staff=True)
    someone = UserFactory(email="someone@initech.test")
    with pytest.raises(Exception, match="Choose the user"):
        services.workspace_create(actor=Actor.staff(staff), name="Initech", slug="initech")
    ws = services.workspace_create(
        actor=Actor.staff(staff), name="Initech", slug="initech", owner=someone
    )
    assert Membership.objects.get(workspace=ws).user == someone
    # A user opens workspaces for themselves only.
    with pytest.raises(NotAllowed):
        services.workspace_create(
            actor=Actor.for_user(someone), name="Other", slug="other", owner=staff
        )
