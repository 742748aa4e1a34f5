"""Staff changes in the admin go through the services: the change forms of workspace data
are read-only, admin actions call the services (rules hold, every change is audited), and
"add workspace" opens one as the console's page does."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Domain, Group, JoinRequest, Membership, User, Workspace
from accounts.roles import Role
from billing.selectors import current_subscription
from compliance.selectors import is_media_customer
from console.admin import OWNER_UNKNOWN
from tests.factories import (
    DomainFactory,
    GroupFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory(email="staff@console.test", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


def admin_url(model: str, view: str, *args: object) -> str:
    return reverse(f"admin:accounts_{model}_{view}", args=args)


def test_staff_open_a_workspace_with_its_owner_plan_and_media_answer(
    staff_client: Client, staff: User
) -> None:
    owner = UserFactory(email="ceo@initech.test")
    response = staff_client.post(
        admin_url("workspace", "add"),
        {
            "name": "Initech",
            "slug": "initech",
            "owner": "CEO@initech.test",
            "is_media_customer": "yes",
        },
    )
    assert response.status_code == 302
    ws = Workspace.objects.get(slug="initech")
    assert Membership.objects.get(workspace=ws).user == owner
    assert Membership.objects.get(workspace=ws).role == Role.OWNER
    assert current_subscription(ws) is not None
    assert is_media_customer(ws)
    created = AuditEvent.objects.get(workspace=ws, action="workspace.created")
    assert created.actor == staff


def test_opening_a_workspace_for_an_unknown_owner_says_why(staff_client: Client) -> None:
    response = staff_client.post(
        admin_url("workspace", "add"),
        {
            "name": "Initech",
            "slug": "initech",
            "owner": "nobody@initech.test",
            "is_media_customer": "no",
        },
    )
    assert response.status_code == 200
    assert OWNER_UNKNOWN in response.content.decode()
    assert not Workspace.objects.filter(slug="initech").exists()


def test_a_taken_slug_is_an_error_beside_the_field(staff_client: Client) -> None:
    WorkspaceFactory(slug="initech")
    UserFactory(email="ceo@initech.test")
    response = staff_client.post(
        admin_url("workspace", "add"),
        {
            "name": "Initech",
            "slug": "initech",
            "owner": "ceo@initech.test",
            "is_media_customer": "no",
        },
    )
    assert response.status_code == 200 and "already taken" in response.content.decode()


def test_a_verified_domain_cannot_be_renamed_in_its_change_form(staff_client: Client) -> None:
    domain = DomainFactory(name="acme.example", verified_at=timezone.now())
    page = staff_client.get(admin_url("domain", "change", domain.pk))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    staff_client.post(
        admin_url("domain", "change", domain.pk),
        {"name": "gmail.com", "workspace": domain.workspace_id},
    )
    domain.refresh_from_db()
    assert domain.name == "acme.example"


def test_a_groups_members_cannot_be_set_from_another_workspace(staff_client: Client) -> None:
    group = GroupFactory()
    stranger = MembershipFactory()  # of another workspace
    staff_client.post(
        admin_url("group", "change", group.pk),
        {"name": group.name, "workspace": group.workspace_id, "members": [stranger.pk]},
    )
    assert not group.members.exists()


def test_staff_decide_join_requests_through_the_service(staff_client: Client, staff: User) -> None:
    domain = DomainFactory(verified_at=timezone.now())
    jr = JoinRequest.objects.create(workspace=domain.workspace, user=UserFactory(), domain=domain)
    response = staff_client.post(
        admin_url("joinrequest", "changelist"),
        {"action": "approve", "_selected_action": [jr.pk]},
    )
    assert response.status_code == 302
    assert Membership.objects.filter(workspace=domain.workspace, user=jr.user).exists()
    event = AuditEvent.objects.get(action="join_request.approved")
    assert event.actor == staff


def test_staff_remove_domains_and_delete_groups_with_an_audit_event(
    staff_client: Client, staff: User
) -> None:
    domain = DomainFactory()
    group = GroupFactory()
    staff_client.post(
        admin_url("domain", "changelist"), {"action": "remove", "_selected_action": [domain.pk]}
    )
    staff_client.post(
        admin_url("group", "changelist"),
        {"action": "delete_groups", "_selected_action": [group.pk]},
    )
    assert not Domain.objects.filter(pk=domain.pk).exists()
    assert not Group.objects.filter(pk=group.pk).exists()
    assert {e.action for e in AuditEvent.objects.filter(actor=staff)} == {
        "domain.removed",
        "group.deleted",
    }


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": "", "slug": "", "owner": "", "is_media_customer": ""},
        {
            "name": "x" * 101,
            "slug": "initech",
            "owner": "ceo@initech.test",
            "is_media_customer": "no",
        },
        {
            "name": "Ini\x00tech",
            "slug": "initech",
            "owner": "ceo@initech.test",
            "is_media_customer": "no",
        },
        {
            "name": "Initech",
            "slug": "ini\x00tech",
            "owner": "ceo@initech.test",
            "is_media_customer": "no",
        },
        {
            "name": "Initech",
            "slug": "initech",
            "owner": "not an address",
            "is_media_customer": "no",
        },
        {
            "name": "Initech",
            "slug": "initech",
            "owner": "ceo@initech.test",
            "is_media_customer": "maybe",
        },
        {
            "name": "<script>x</script>",
            "slug": "../etc",
            "owner": "ceo@initech.test",
            "is_media_customer": "no",
        },
    ],
)
def test_bad_input_to_add_workspace_is_an_error_and_opens_nothing(
    staff_client: Client, data: dict[str, str]
) -> None:
    UserFactory(email="ceo@initech.test")
    response = staff_client.post(admin_url("workspace", "add"), data)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode() or "errornote" in response.content.decode()
    assert not Workspace.objects.exists()
    assert not AuditEvent.objects.exists()
