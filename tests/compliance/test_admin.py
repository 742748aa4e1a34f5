"""The staff admin of compliance (R-MEDIA-1, R-MEDIA-3 to R-MEDIA-5, R-UI-3): staff set
the Media Customer status with a note, decide editorial-use requests and appeals through
the services, and read violations; history rows are read-only; lists stay flat in queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.actor import Actor
from accounts.models import AuditEvent, Group, Membership, User, Workspace
from accounts.roles import Role
from compliance import services
from compliance.audit import Action
from compliance.models import (
    Appeal,
    AppealStatus,
    EditorialAuthorization,
    MediaStatusChange,
    NewsViolation,
    RequestStatus,
)
from compliance.selectors import is_media_customer
from tests.compliance.conftest import USED_AT
from tests.factories import GroupFactory, MembershipFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def url(model: str, view: str, *args: object) -> str:
    return reverse(f"admin:compliance_{model}_{view}", args=args)


def day(offset: int) -> str:
    return (timezone.now().date() + timedelta(days=offset)).isoformat()


# --- Media Customer status ----------------------------------------------------------------


def test_staff_set_the_status_with_a_note_through_the_service(
    staff_client: Client, staff: User, workspace: Workspace
) -> None:
    response = staff_client.post(
        url("mediastatuschange", "add"),
        {
            "workspace": workspace.pk,
            "is_media_customer": "on",
            "note": "Publishes a daily newspaper.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    change = MediaStatusChange.objects.get()
    assert (change.source, change.actor, change.note) == (
        "staff",
        staff,
        "Publishes a daily newspaper.",
    )
    assert is_media_customer(workspace)
    event = AuditEvent.objects.get(action=Action.MEDIA_STATUS_CHANGED)
    assert event.actor == staff and event.after["source"] == "staff"


def test_staff_clear_the_status(staff_client: Client, media: Workspace) -> None:
    response = staff_client.post(
        url("mediastatuschange", "add"), {"workspace": media.pk, "note": "Not a publisher."}
    )
    assert response.status_code == 302
    assert not is_media_customer(media)


def test_the_note_is_required(staff_client: Client, workspace: Workspace) -> None:
    response = staff_client.post(
        url("mediastatuschange", "add"),
        {"workspace": workspace.pk, "is_media_customer": "on", "note": "  "},
    )
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not MediaStatusChange.objects.exists()


def test_history_rows_are_read_only(staff_client: Client, media: Workspace) -> None:
    change = MediaStatusChange.objects.get()
    page = staff_client.get(url("mediastatuschange", "change", change.pk))
    assert page.status_code == 200 and 'name="note"' not in page.content.decode()
    response = staff_client.post(
        url("mediastatuschange", "change", change.pk), {"workspace": media.pk, "note": "edited"}
    )
    assert response.status_code == 403
    assert (
        staff_client.post(
            url("mediastatuschange", "delete", change.pk), {"post": "yes"}
        ).status_code
        == 403
    )
    change.refresh_from_db()
    assert change.note == "Declared at creation"


def test_changelist_filters_and_search(staff_client: Client, media: Workspace) -> None:
    other = WorkspaceFactory(name="Globex", slug="globex")
    other_owner = MembershipFactory(workspace=other, role=Role.OWNER)
    services.media_status_set(
        actor=Actor.member(other_owner), workspace=other, is_media_customer=False, source="self"
    )
    page = staff_client.get(url("mediastatuschange", "changelist"), {"q": "acme"}).content.decode()
    assert "Acme" in page and "Globex" not in page
    page = staff_client.get(
        url("mediastatuschange", "changelist"), {"is_media_customer__exact": "0"}
    ).content.decode()
    assert "Globex" in page and "Acme" not in page


# --- Editorial-use requests ---------------------------------------------------------------


@pytest.fixture
def pending(media: Workspace, owner: Membership) -> EditorialAuthorization:
    return services.editorial_request_create(
        actor=Actor.member(owner),
        workspace=media,
        reason="Fact-checking",
        requested_scope="The desk",
    )


def test_change_form_offers_only_the_workspace_groups(
    staff_client: Client, pending: EditorialAuthorization, desk: Group
) -> None:
    GroupFactory(workspace=WorkspaceFactory(slug="globex"), name="Foreign group")
    body = staff_client.get(url("editorialauthorization", "change", pending.pk)).content.decode()
    assert desk.name in body and "Foreign group" not in body
    assert "Fact-checking" in body and 'name="decision"' in body


def test_staff_approve_with_scope_and_end(
    staff_client: Client,
    staff: User,
    pending: EditorialAuthorization,
    desk: Group,
    owner: Membership,
    django_capture_on_commit_callbacks,
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url("editorialauthorization", "change", pending.pk),
            {
                "decision": "approve",
                "scope_group": desk.pk,
                "ends_on": day(30),
                "scope_note": "Desk",
                "decision_note": "Ok",
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    pending.refresh_from_db()
    assert (
        pending.status == RequestStatus.APPROVED
        and pending.scope_group == desk
        and pending.decided_by == staff
    )
    assert pending.ends_on.isoformat() == day(30) and pending.decision_note == "Ok"
    assert AuditEvent.objects.filter(action=Action.EDITORIAL_DECIDED).count() == 1
    assert [m.to for m in mail.outbox] == [["owner@acme.test"]]
    # Decided: the row is now read-only.
    assert (
        staff_client.post(
            url("editorialauthorization", "change", pending.pk), {"decision": "decline"}
        ).status_code
        == 403
    )
    page = staff_client.get(url("editorialauthorization", "change", pending.pk)).content.decode()
    assert 'name="decision"' not in page


def test_staff_decline(staff_client: Client, pending: EditorialAuthorization) -> None:
    response = staff_client.post(
        url("editorialauthorization", "change", pending.pk),
        {"decision": "decline", "decision_note": "No"},
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == RequestStatus.DECLINED and pending.ends_on is None


@pytest.mark.parametrize(
    ("ends_on", "message"), [("", services.END_DATE_REQUIRED), (day(0), services.END_DATE_PAST)]
)
def test_approval_needs_a_future_end(
    staff_client: Client, pending: EditorialAuthorization, ends_on: str, message: str
) -> None:
    response = staff_client.post(
        url("editorialauthorization", "change", pending.pk),
        {"decision": "approve", "ends_on": ends_on},
    )
    assert response.status_code == 200 and message in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING


def test_a_foreign_group_is_refused(staff_client: Client, pending: EditorialAuthorization) -> None:
    foreign = GroupFactory(workspace=WorkspaceFactory(slug="globex"))
    response = staff_client.post(
        url("editorialauthorization", "change", pending.pk),
        {"decision": "approve", "scope_group": foreign.pk, "ends_on": day(5)},
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING


def test_staff_cannot_add_requests(staff_client: Client) -> None:
    assert staff_client.get(url("editorialauthorization", "add")).status_code == 403


def test_requests_filter_by_status(staff_client: Client, pending: EditorialAuthorization) -> None:
    assert (
        "Acme"
        in staff_client.get(
            url("editorialauthorization", "changelist"), {"status__exact": "pending"}
        ).content.decode()
    )
    assert (
        "Acme"
        not in staff_client.get(
            url("editorialauthorization", "changelist"), {"status__exact": "approved"}
        ).content.decode()
    )


# --- Violations and appeals ---------------------------------------------------------------


@pytest.fixture
def appeal(media: Workspace, owner: Membership, member: Membership) -> Appeal:
    services.news_use_report(
        workspace=media, membership=member, event_id="evt", occurred_at=USED_AT
    )
    media.refresh_from_db()
    return services.appeal_file(
        actor=Actor.member(owner), workspace=media, statement="It was a test prompt."
    )


def test_violations_are_read_only(staff_client: Client, appeal: Appeal) -> None:
    violation = NewsViolation.objects.get()
    assert staff_client.get(url("newsviolation", "changelist")).status_code == 200
    page = staff_client.get(url("newsviolation", "change", violation.pk))
    assert page.status_code == 200 and "member@acme.test" in page.content.decode()
    assert staff_client.get(url("newsviolation", "add")).status_code == 403
    assert (
        staff_client.post(url("newsviolation", "delete", violation.pk), {"post": "yes"}).status_code
        == 403
    )


def test_staff_grant_an_appeal(
    staff_client: Client, appeal: Appeal, django_capture_on_commit_callbacks
) -> None:
    page = staff_client.get(url("appeal", "change", appeal.pk)).content.decode()
    assert "It was a test prompt." in page and "Suspended: Verified news used" in page
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url("appeal", "change", appeal.pk),
            {"decision": "grant", "decision_note": "Be careful."},
        )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.GRANTED
    assert not Workspace.objects.get(pk=appeal.workspace_id).is_suspended
    assert [m.to for m in mail.outbox] == [["owner@acme.test"]]


def test_rejecting_an_appeal_needs_a_note(staff_client: Client, appeal: Appeal) -> None:
    response = staff_client.post(
        url("appeal", "change", appeal.pk), {"decision": "reject", "decision_note": ""}
    )
    assert (
        response.status_code == 200
        and services.NOTE_REQUIRED_TO_REJECT in response.content.decode()
    )
    response = staff_client.post(
        url("appeal", "change", appeal.pk), {"decision": "reject", "decision_note": "Repeated."}
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.REJECTED
    assert Workspace.objects.get(pk=appeal.workspace_id).is_suspended


def test_non_staff_cannot_reach_the_admin(
    client: Client, owner: Membership, appeal: Appeal
) -> None:
    client.force_login(owner.user)
    response = client.post(url("appeal", "change", appeal.pk), {"decision": "grant"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.PENDING


# --- Query counts -------------------------------------------------------------------------


def _populate(n: int, staff: User, tag: str) -> None:
    for i in range(n):
        ws = WorkspaceFactory(name=f"{tag} {i}", slug=f"{tag}-{i}")
        owner = MembershipFactory(workspace=ws, role=40)
        group = GroupFactory(workspace=ws)
        services.media_status_set(
            actor=Actor.member(owner), workspace=ws, is_media_customer=True, source="self"
        )
        req = services.editorial_request_create(
            actor=Actor.member(owner), workspace=ws, reason="r", requested_scope="s"
        )
        services.editorial_request_decide(
            actor=Actor.staff(staff),
            authorization=req,
            approve=True,
            scope_group=group,
            ends_on=timezone.now().date() + timedelta(days=3),
        )
        services.news_use_report(workspace=ws, membership=owner, event_id="e", occurred_at=USED_AT)
        appeal = services.appeal_file(actor=Actor.member(owner), workspace=ws, statement="s")
        services.appeal_decide(actor=Actor.staff(staff), appeal=appeal, grant=True)


def _count(client: Client, path: str) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "model", ["mediastatuschange", "editorialauthorization", "newsviolation", "appeal"]
)
def test_changelists_do_not_grow_in_queries(staff_client: Client, staff: User, model: str) -> None:
    _populate(2, staff, "small")
    small = _count(staff_client, url(model, "changelist"))
    _populate(10, staff, "large")
    large = _count(staff_client, url(model, "changelist"))
    assert large == small, f"{model}: {small} queries with 2 workspaces, {large} with 12"
