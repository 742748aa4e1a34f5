"""The staff admin (R-UI-3, R-WS-8) and what a suspension does to a workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.audit import Action
from accounts.models import (
    AuditEvent,
    Invitation,
    InvitationStatus,
    JoinRequestStatus,
    Membership,
    MemberStatus,
    TermsAcceptance,
    User,
    Workspace,
)
from accounts.roles import Role
from tests.conftest import HTMX
from tests.factories import (
    AuditEventFactory,
    DomainFactory,
    GroupFactory,
    InvitationFactory,
    JoinRequestFactory,
    MembershipFactory,
    TermsAcceptanceFactory,
    UserFactory,
    WorkspaceFactory,
)


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:  # type: ignore[no-untyped-def]
    # Hundreds of users per test: a slow password hash would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def changelist(model: str) -> str:
    return reverse(f"admin:accounts_{model}_changelist")


def populate(workspace: Workspace, n: int, tag: str) -> None:
    """n rows of every accounts model, each with its related rows. The rows of the first
    user (i = 0) are the ones the filters of the changelists leave out: a staff user, a
    deactivated membership, a revoked invitation, a verified domain, a declined request, an
    audit event of another action; the other workspace, whose address says acme, is
    suspended."""
    groups = [GroupFactory(workspace=workspace, name=f"{tag} group {i}") for i in range(2)]
    other = WorkspaceFactory(
        name=f"{tag} other", slug=f"{tag}-acme-other", suspended_at=timezone.now()
    )
    for i in range(n):
        first = i == 0
        user = UserFactory(email=f"{tag}{i}@acme.test", verified=False, is_staff=first)
        m = MembershipFactory(
            workspace=workspace,
            user=user,
            role=Role.MEMBER,
            status=MemberStatus.DEACTIVATED if first else MemberStatus.ACTIVE,
        )
        groups[i % 2].members.add(m)
        InvitationFactory(
            workspace=workspace,
            email=f"{tag}-invitee{i}@acme.test",
            invited_by=user,
            status=InvitationStatus.REVOKED if first else InvitationStatus.PENDING,
        )
        DomainFactory(
            workspace=workspace,
            name=f"{tag}{i}.example.org",
            created_by=user,
            verified_at=timezone.now() if first else None,
        )
        TermsAcceptanceFactory(user=user, version=f"v{i}")
        JoinRequestFactory(
            workspace=other,
            user=user,
            status=JoinRequestStatus.DECLINED if first else JoinRequestStatus.PENDING,
        )
        AuditEventFactory(
            workspace=workspace,
            actor=user,
            action=Action.GROUP_RENAMED if first else Action.GROUP_CREATED,
            target_repr=f"{tag} {i}",
        )


# Each changelist with a search and its filters, and the rows of ``populate(ws, 3, "a")``
# it shows: the search and every filter leave out at least one row.
CHANGELISTS = [
    ("user", {"q": "acme", "is_staff__exact": "0"}, {"a1@acme.test", "a2@acme.test"}),
    ("termsacceptance", {"q": "acme", "version": "v1"}, {"a1@acme.test accepted v1"}),
    ("workspace", {"q": "acme", "suspended": "no"}, {"Acme"}),
    (
        "membership",
        {"q": "acme", "role__exact": str(Role.MEMBER), "status__exact": "active"},
        {"a1@acme.test in Acme (Member)", "a2@acme.test in Acme (Member)"},
    ),
    ("group", {"q": "group 1"}, {"a group 1"}),
    (
        "invitation",
        {"q": "invitee", "status__exact": "pending"},
        {"a-invitee1@acme.test to Acme", "a-invitee2@acme.test to Acme"},
    ),
    ("domain", {"q": "example", "verified": "no"}, {"a1.example.org", "a2.example.org"}),
    (
        "joinrequest",
        {"q": "acme", "status__exact": "pending"},
        {"a1@acme.test asks to join a other", "a2@acme.test asks to join a other"},
    ),
    (
        "auditevent",
        {"q": "acme", "action": Action.GROUP_CREATED},
        {"group.created by a1@acme.test", "group.created by a2@acme.test"},
    ),
]


@pytest.mark.parametrize(("model", "params", "expected"), CHANGELISTS)
def test_changelists_load_with_search_and_filters(staff_client, workspace, model, params, expected):
    populate(workspace, 3, "a")
    assert staff_client.get(changelist(model)).status_code == 200
    response = staff_client.get(changelist(model), params)
    assert response.status_code == 200
    cl = response.context["cl"]
    assert {str(row) for row in cl.result_list} == expected
    assert cl.result_count == len(expected)


def _queries(client: Client, path: str) -> int:
    client.get(path)  # warm up: the first request of a session records it
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("model", "params"), [(m, {}) for m, _, _ in CHANGELISTS])
def test_changelist_query_count_does_not_grow(staff_client, workspace, model, params):
    populate(workspace, 3, "a")
    small = _queries(staff_client, changelist(model))
    populate(workspace, 12, "b")
    assert _queries(staff_client, changelist(model)) == small


def test_user_change_page_shows_age_gate_and_terms_read_only(staff_client, workspace, owner):
    user = owner.user
    user.birth_date = datetime(2010, 5, 1, tzinfo=UTC).date()
    user.save(update_fields=["birth_date"])
    TermsAcceptance.objects.create(user=user, version="2026-09-01", ip_address="198.51.100.7")
    html = staff_client.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    assert "2026-09-01" in html and "198.51.100.7" in html
    assert 'name="birth_date"' not in html  # shown, not editable
    assert 'name="username"' not in html
    assert "Acme" in html  # the user's workspaces


def test_staff_add_a_user_by_email(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Person@Acme.test",
            "usable_password": "false",
            "password1": "",
            "password2": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.person@acme.test")
    assert not user.has_usable_password()


def test_non_staff_cannot_open_the_admin(owner_client):
    response = owner_client.get(changelist("auditevent"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_bulk_delete_is_not_offered(staff_client, workspace):
    populate(workspace, 1, "a")
    for model in ("workspace", "membership", "invitation", "user", "group", "domain"):
        form = staff_client.get(changelist(model)).context["action_form"]
        actions = form.fields["action"].choices if form else []
        assert "delete_selected" not in [value for value, _ in actions], model


# --- Workspace suspension (R-MEDIA, Terms 7) ------------------------------------------


def _action(client: Client, action: str, workspaces: list[Workspace], **extra: str):  # type: ignore[no-untyped-def]
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(w.pk) for w in workspaces], **extra}
    return client.post(changelist("workspace"), data)


def test_suspend_asks_for_a_reason_first(staff_client, workspace):
    response = _action(staff_client, "suspend", [workspace])
    assert response.status_code == 200
    assert "Reason" in response.content.decode()
    workspace.refresh_from_db()
    assert not workspace.is_suspended


@pytest.mark.parametrize("reason", ["", "    "])
def test_suspend_without_a_reason_changes_nothing(staff_client, workspace, reason):
    response = _action(staff_client, "suspend", [workspace], apply="1", reason=reason)
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    workspace.refresh_from_db()
    assert not workspace.is_suspended
    assert not AuditEvent.objects.filter(action=Action.WORKSPACE_SUSPENDED).exists()


def test_suspend_and_reactivate_are_audited(staff_client, staff, workspace, other_workspace_member):
    other = other_workspace_member.workspace
    response = _action(
        staff_client, "suspend", [workspace, other], apply="1", reason="Unpaid <b>invoice</b>"
    )
    assert response.status_code == 302
    for ws in (workspace, other):
        ws.refresh_from_db()
        assert ws.is_suspended and ws.suspension_reason == "Unpaid <b>invoice</b>"
    event = AuditEvent.objects.get(workspace=workspace, action=Action.WORKSPACE_SUSPENDED)
    assert event.actor == staff and event.after == {"reason": "Unpaid <b>invoice</b>"}

    assert _action(staff_client, "reactivate", [workspace]).status_code == 302
    workspace.refresh_from_db()
    other.refresh_from_db()
    assert not workspace.is_suspended and other.is_suspended
    event = AuditEvent.objects.get(workspace=workspace, action=Action.WORKSPACE_REACTIVATED)
    assert event.actor == staff and event.before == {"reason": "Unpaid <b>invoice</b>"}


def test_suspension_fields_are_not_editable_on_the_form(staff_client, workspace):
    html = staff_client.get(
        reverse("admin:accounts_workspace_change", args=[workspace.pk])
    ).content.decode()
    assert 'name="suspended_at"' not in html and 'name="suspension_reason"' not in html
    assert f"workspace__id__exact={workspace.pk}" in html  # link to its audit log


def test_suspended_workspace_members_see_the_notice_and_cannot_act(staff_client, workspace, owner):
    _action(staff_client, "suspend", [workspace], apply="1", reason="Policy review")
    client = Client()
    client.force_login(owner.user)
    settings_url = reverse("ws:settings", args=[workspace.slug])
    page = client.get(settings_url)
    assert page.status_code == 200
    assert "This workspace is suspended" in page.content.decode()
    assert "Policy review" in page.content.decode()
    for headers in ({}, HTMX):
        response = client.post(
            settings_url, {"join_mode": "auto", "default_role": Role.ADMIN}, **headers
        )
        assert response.status_code == 403
        assert "suspended.html" in [t.name for t in response.templates]
    workspace.refresh_from_db()
    assert workspace.join_mode == "request"
    # Reactivated, the same change goes through.
    _action(staff_client, "reactivate", [workspace])
    client.post(settings_url, {"join_mode": "auto", "default_role": Role.ADMIN})
    workspace.refresh_from_db()
    assert workspace.join_mode == "auto"


# --- Audit admin is read-only -----------------------------------------------------------


@pytest.fixture
def event(workspace: Workspace) -> AuditEvent:
    return AuditEvent.objects.create(
        workspace=workspace,
        workspace_name=workspace.name,
        actor_email="admin@acme.test",
        action=Action.GROUP_CREATED,
        target_repr="Research",
        after={"name": "Research"},
    )


def test_audit_admin_cannot_add_change_or_delete(staff_client, event):
    assert staff_client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    change_url = reverse("admin:accounts_auditevent_change", args=[event.pk])
    page = staff_client.get(change_url)
    assert page.status_code == 200  # viewable
    assert 'name="action"' not in page.content.decode()
    assert (
        staff_client.post(change_url, {"action": "forged", "target_repr": "x"}).status_code == 403
    )
    assert (
        staff_client.post(
            reverse("admin:accounts_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    response = staff_client.post(
        changelist("auditevent"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(event.pk)], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    event_now = AuditEvent.objects.get(pk=event.pk)
    assert event_now.action == Action.GROUP_CREATED and event_now.target_repr == "Research"


def test_terms_acceptances_are_read_only(staff_client, owner):
    acceptance = TermsAcceptance.objects.create(user=owner.user, version="2026-09-01")
    assert staff_client.get(reverse("admin:accounts_termsacceptance_add")).status_code == 403
    url = reverse("admin:accounts_termsacceptance_change", args=[acceptance.pk])
    assert staff_client.post(url, {"version": "forged"}).status_code == 403
    acceptance.refresh_from_db()
    assert acceptance.version == "2026-09-01"


def test_staff_see_one_workspace_log_and_search_it(staff_client, event, other_workspace_member):
    AuditEvent.objects.create(
        workspace=other_workspace_member.workspace,
        action=Action.GROUP_CREATED,
        actor_email="x@globex.test",
        target_repr="Elsewhere",
    )
    response = staff_client.get(
        changelist("auditevent"), {"workspace__id__exact": event.workspace_id}
    )
    assert [e.pk for e in response.context["cl"].result_list] == [event.pk]
    response = staff_client.get(changelist("auditevent"), {"q": "globex"})
    assert [e.target_repr for e in response.context["cl"].result_list] == ["Elsewhere"]


def test_audit_admin_filters_by_date(staff_client, workspace):
    old = datetime(2025, 1, 15, tzinfo=UTC)
    AuditEvent.objects.create(workspace=workspace, action="x.y", target_repr="Old", created_at=old)
    AuditEvent.objects.create(
        workspace=workspace,
        action="x.y",
        target_repr="Recent",
        created_at=datetime.now(UTC) - timedelta(hours=1),
    )
    response = staff_client.get(
        changelist("auditevent"), {"created_at__year": "2025", "created_at__month": "1"}
    )
    assert [e.target_repr for e in response.context["cl"].result_list] == ["Old"]


def test_invitation_revoke_action_is_audited(staff_client, staff, workspace):
    inv = InvitationFactory(workspace=workspace)
    response = staff_client.post(
        changelist("invitation"), {"action": "revoke", ACTION_CHECKBOX_NAME: [str(inv.pk)]}
    )
    assert response.status_code == 302
    inv.refresh_from_db()
    assert inv.status == "revoked"
    assert AuditEvent.objects.get(action=Action.INVITATION_REVOKED).actor == staff


def test_membership_admin_is_view_only(staff_client, owner):
    url = reverse("admin:accounts_membership_change", args=[owner.pk])
    assert staff_client.post(url, {"role": Role.MEMBER}).status_code == 403
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER
    assert Invitation.objects.count() == 0
