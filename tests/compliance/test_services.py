"""The compliance services (R-MEDIA-1 to R-MEDIA-5): success and refusal side by side,
their audit events, and the emails they send on commit with links that work."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.actor import Actor
from accounts.audit import Action as AccountAction
from accounts.models import AuditEvent, Membership, User, Workspace
from accounts.roles import Role
from compliance import services
from compliance.audit import Action
from compliance.models import (
    Appeal,
    AppealStatus,
    EditorialAuthorization,
    MediaSource,
    MediaStatusChange,
    NewsViolation,
    RequestStatus,
)
from compliance.selectors import is_media_customer
from core.errors import DomainError
from tests.compliance.conftest import USED_AT
from tests.conftest import login
from tests.factories import GroupFactory, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/[^\s<>\"']*)")


def links(message: mail.EmailMessage) -> list[str]:
    """The paths of the absolute links in an email's text part."""
    return LINK.findall(message.body)


def html_of(message: mail.EmailMultiAlternatives) -> str:
    return next(content for content, kind in message.alternatives if kind == "text/html")


def recipients() -> list[str]:
    return sorted(address for m in mail.outbox for address in m.to)


def tomorrow():  # type: ignore[no-untyped-def]
    return timezone.now().date() + timedelta(days=1)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- media_status_set ---------------------------------------------------------------------


def test_first_answer_is_recorded_even_when_no(workspace: Workspace, owner: Membership) -> None:
    change = services.media_status_set(
        actor=Actor.member(owner),
        workspace=workspace,
        is_media_customer=False,
        source=MediaSource.SELF,
    )
    assert change is not None and not change.is_media_customer
    assert not is_media_customer(workspace)
    assert events(Action.MEDIA_STATUS_CHANGED)[0].before == {}


def test_unchanged_declaration_is_a_no_op(media: Workspace, owner: Membership) -> None:
    again = services.media_status_set(
        actor=Actor.member(owner), workspace=media, is_media_customer=True, source="self"
    )
    assert again is None
    assert MediaStatusChange.objects.filter(workspace=media).count() == 1
    assert len(events(Action.MEDIA_STATUS_CHANGED)) == 1


def test_change_appends_history_and_audits_before_and_after(
    media: Workspace, owner: Membership
) -> None:
    change = services.media_status_set(
        actor=Actor.member(owner), workspace=media, is_media_customer=False, source="self"
    )
    assert change is not None and change.actor == owner.user
    assert MediaStatusChange.objects.filter(workspace=media).count() == 2
    assert not is_media_customer(media)
    event = events(Action.MEDIA_STATUS_CHANGED)[-1]
    assert event.before == {"is_media_customer": True, "source": "self"}
    assert event.after == {"is_media_customer": False, "source": "self"}


def test_staff_may_record_a_note_on_an_unchanged_status(media: Workspace, staff: User) -> None:
    change = services.media_status_set(
        actor=Actor.staff(staff),
        workspace=media,
        is_media_customer=True,
        source=MediaSource.STAFF,
        note="Checked the press card.",
    )
    assert change is not None and change.source == "staff"
    assert events(Action.MEDIA_STATUS_CHANGED)[-1].after["note"] == "Checked the press card."


def test_staff_change_needs_a_note(workspace: Workspace, staff: User) -> None:
    with pytest.raises(DomainError, match=services.STAFF_NOTE_REQUIRED):
        services.media_status_set(
            actor=Actor.staff(staff),
            workspace=workspace,
            is_media_customer=True,
            source="staff",
            note=" ",
        )
    assert not MediaStatusChange.objects.exists()


def test_unknown_source_is_refused(workspace: Workspace, owner: Membership) -> None:
    with pytest.raises(DomainError, match=services.UNKNOWN_SOURCE):
        services.media_status_set(
            actor=Actor.member(owner), workspace=workspace, is_media_customer=True, source="gossip"
        )


def test_workspace_cannot_clear_a_status_set_by_staff(
    workspace: Workspace, owner: Membership, staff: User
) -> None:
    services.media_status_set(
        actor=Actor.staff(staff),
        workspace=workspace,
        is_media_customer=True,
        source="staff",
        note="Newspaper.",
    )
    with pytest.raises(DomainError, match="only staff can change that"):
        services.media_status_set(
            actor=Actor.member(owner), workspace=workspace, is_media_customer=False, source="self"
        )
    assert is_media_customer(workspace)
    # Staff can.
    services.media_status_set(
        actor=Actor.staff(staff),
        workspace=workspace,
        is_media_customer=False,
        source="staff",
        note="Closed.",
    )
    assert not is_media_customer(workspace)


# --- editorial_request_create -------------------------------------------------------------


def test_request_by_a_media_customer_is_recorded_audited_and_emailed_to_staff(
    media: Workspace, owner: Membership, staff: User, django_capture_on_commit_callbacks
) -> None:
    UserFactory(email="not-staff@console.test")
    with django_capture_on_commit_callbacks(execute=True):
        req = services.editorial_request_create(
            actor=Actor.member(owner),
            workspace=media,
            reason="Fact-checking",
            requested_scope="The desk",
        )
    assert req.status == RequestStatus.PENDING and req.requested_by == owner.user
    assert events(Action.EDITORIAL_REQUESTED)[0].after == {
        "reason": "Fact-checking",
        "requested_scope": "The desk",
    }
    assert recipients() == ["staff@console.test"]
    message = mail.outbox[0]
    assert (
        "Acme" in message.subject
        and "Fact-checking" in message.body
        and "Fact-checking" in html_of(message)
    )
    [path] = links(message)
    assert path == f"/admin/compliance/editorialauthorization/{req.pk}/change/"
    staff_client = login(Client(), staff)
    assert staff_client.get(path).status_code == 200


def test_request_refused_for_a_workspace_that_is_not_a_media_customer(
    workspace: Workspace, owner: Membership
) -> None:
    with pytest.raises(DomainError, match=services.NOT_MEDIA_CUSTOMER):
        services.editorial_request_create(
            actor=Actor.member(owner), workspace=workspace, reason="r", requested_scope="s"
        )
    assert not EditorialAuthorization.objects.exists()


def test_one_pending_request_at_a_time(media: Workspace, owner: Membership, staff: User) -> None:
    first = services.editorial_request_create(
        actor=Actor.member(owner), workspace=media, reason="r", requested_scope="s"
    )
    with pytest.raises(DomainError, match=services.EDITORIAL_PENDING):
        services.editorial_request_create(
            actor=Actor.member(owner), workspace=media, reason="again", requested_scope="s"
        )
    services.editorial_request_decide(
        actor=Actor.staff(staff), authorization=first, approve=False, note="Not now."
    )
    services.editorial_request_create(
        actor=Actor.member(owner), workspace=media, reason="again", requested_scope="s"
    )
    assert EditorialAuthorization.objects.filter(workspace=media).count() == 2


@pytest.mark.parametrize(
    ("reason", "scope", "message"),
    [(" ", "s", services.REASON_REQUIRED), ("r", "", services.SCOPE_REQUIRED)],
)
def test_request_needs_a_reason_and_a_scope(
    media: Workspace, owner: Membership, reason: str, scope: str, message: str
) -> None:
    with pytest.raises(DomainError, match=message):
        services.editorial_request_create(
            actor=Actor.member(owner), workspace=media, reason=reason, requested_scope=scope
        )


# --- editorial_request_decide -------------------------------------------------------------


@pytest.fixture
def pending(media: Workspace, owner: Membership) -> EditorialAuthorization:
    return services.editorial_request_create(
        actor=Actor.member(owner),
        workspace=media,
        reason="Fact-checking",
        requested_scope="The desk",
    )


def test_approval_records_the_scope_and_emails_owners_and_admins(
    pending: EditorialAuthorization,
    staff: User,
    desk,
    admin_member: Membership,
    member: Membership,
    django_capture_on_commit_callbacks,
) -> None:
    MembershipFactory(workspace=pending.workspace, role=Role.BILLING)
    mail.outbox.clear()
    ends = tomorrow()
    with django_capture_on_commit_callbacks(execute=True):
        auth = services.editorial_request_decide(
            actor=Actor.staff(staff),
            authorization=pending,
            approve=True,
            scope_group=desk,
            ends_on=ends,
            scope_note="Desk only",
            note="Granted for the elections.",
        )
    assert (
        auth.status == RequestStatus.APPROVED and auth.scope_group == desk and auth.ends_on == ends
    )
    assert auth.decided_by == staff and auth.decided_at is not None
    event = events(Action.EDITORIAL_DECIDED)[0]
    assert event.after["status"] == "approved" and event.after["scope"] == desk.name
    assert event.after["ends_on"] == ends.isoformat()
    # Owners and admins, not members or billing.
    assert recipients() == ["admin@acme.test", "owner@acme.test"]
    message = mail.outbox[0]
    assert (
        "approved" in message.subject
        and desk.name in message.body
        and "Granted for the elections." in html_of(message)
    )
    [path] = links(message)
    assert path == "/w/acme/compliance/"
    assert login(Client(), admin_member.user).get(path).status_code == 200


def test_decline_clears_the_scope_and_says_so(
    pending: EditorialAuthorization,
    staff: User,
    owner: Membership,
    django_capture_on_commit_callbacks,
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        auth = services.editorial_request_decide(
            actor=Actor.staff(staff), authorization=pending, approve=False, note="No."
        )
    assert (
        auth.status == RequestStatus.DECLINED and auth.ends_on is None and auth.scope_group is None
    )
    assert "declined" in mail.outbox[0].subject and "No." in mail.outbox[0].body


def test_only_staff_decide(pending: EditorialAuthorization, owner: Membership) -> None:
    with pytest.raises(DomainError, match=services.STAFF_ONLY):
        services.editorial_request_decide(
            actor=Actor.member(owner), authorization=pending, approve=True, ends_on=tomorrow()
        )
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING


@pytest.mark.parametrize(
    ("days", "message"),
    [(None, services.END_DATE_REQUIRED), (0, services.END_DATE_PAST), (-3, services.END_DATE_PAST)],
)
def test_approval_needs_an_end_in_the_future(
    pending: EditorialAuthorization, staff: User, days, message: str
) -> None:
    ends_on = None if days is None else timezone.now().date() + timedelta(days=days)
    with pytest.raises(DomainError, match=message):
        services.editorial_request_decide(
            actor=Actor.staff(staff), authorization=pending, approve=True, ends_on=ends_on
        )


def test_approval_scope_must_be_a_group_of_the_workspace(
    pending: EditorialAuthorization, staff: User
) -> None:
    foreign = GroupFactory(workspace=WorkspaceFactory(slug="globex"))
    with pytest.raises(DomainError, match=services.GROUP_OF_OTHER_WORKSPACE):
        services.editorial_request_decide(
            actor=Actor.staff(staff),
            authorization=pending,
            approve=True,
            scope_group=foreign,
            ends_on=tomorrow(),
        )


def test_a_decided_request_cannot_be_decided_again(
    pending: EditorialAuthorization, staff: User
) -> None:
    services.editorial_request_decide(
        actor=Actor.staff(staff), authorization=pending, approve=False
    )
    with pytest.raises(DomainError, match=services.ALREADY_DECIDED):
        services.editorial_request_decide(
            actor=Actor.staff(staff), authorization=pending, approve=True, ends_on=tomorrow()
        )


# --- news_use_report ----------------------------------------------------------------------


def report(
    workspace: Workspace, membership: Membership, event_id: str = "evt-1"
) -> NewsViolation | None:
    return services.news_use_report(
        workspace=workspace, membership=membership, event_id=event_id, occurred_at=USED_AT
    )


def test_news_use_outside_a_media_customer_is_not_a_violation(
    workspace: Workspace, member: Membership
) -> None:
    assert report(workspace, member) is None
    workspace.refresh_from_db()
    assert not workspace.is_suspended and not NewsViolation.objects.exists()


def test_news_use_by_a_media_customer_suspends_records_and_emails(
    media: Workspace,
    owner: Membership,
    admin_member: Membership,
    member: Membership,
    staff: User,
    django_capture_on_commit_callbacks,
) -> None:
    second_owner = MembershipFactory(
        workspace=media, role=Role.OWNER, user=UserFactory(email="owner2@acme.test")
    )
    gone = MembershipFactory(
        workspace=media,
        role=Role.OWNER,
        user=UserFactory(email="gone@acme.test"),
        status="deactivated",
    )
    with django_capture_on_commit_callbacks(execute=True):
        violation = report(media, member)
    assert violation is not None
    assert (violation.user_email, violation.event_id, violation.occurred_at) == (
        "member@acme.test",
        "evt-1",
        USED_AT,
    )
    media.refresh_from_db()
    assert media.is_suspended
    assert (
        media.suspension_reason
        == "Verified news used by a Media Customer (member member@acme.test, 2026-11-24 09:30 UTC)"
    )
    assert len(events(AccountAction.WORKSPACE_SUSPENDED)) == 1
    assert events(Action.NEWS_VIOLATION_RECORDED)[0].after["event_id"] == "evt-1"
    # Every active owner and every staff user; not the admin, the member, or a deactivated owner.
    assert recipients() == ["owner2@acme.test", "owner@acme.test", "staff@console.test"]
    assert gone.user.email not in recipients()
    by_recipient = {m.to[0]: m for m in mail.outbox}
    to_owner, to_staff = by_recipient["owner@acme.test"], by_recipient["staff@console.test"]
    assert media.suspension_reason in to_owner.body and media.suspension_reason in html_of(to_owner)
    assert links(to_owner) == ["/w/acme/compliance/appeal/"]
    assert login(Client(), second_owner.user).get("/w/acme/compliance/appeal/").status_code == 200
    admin_links = links(to_staff)
    assert admin_links[0] == f"/admin/compliance/newsviolation/{violation.pk}/change/"
    staff_client = login(Client(), staff)
    for path in admin_links:
        assert staff_client.get(path).status_code == 200


def test_the_same_event_reported_twice_counts_once(
    media: Workspace,
    owner: Membership,
    member: Membership,
    staff: User,
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = report(media, member)
    with django_capture_on_commit_callbacks(execute=True):
        second = report(media, member)
    assert first is not None and second is None
    assert NewsViolation.objects.count() == 1
    assert len(events(AccountAction.WORKSPACE_SUSPENDED)) == 1
    assert len(events(Action.NEWS_VIOLATION_RECORDED)) == 1
    assert len(mail.outbox) == 2  # the owner and the staff user, once


def test_a_member_of_another_workspace_is_refused(
    media: Workspace, other_workspace_member: Membership
) -> None:
    with pytest.raises(DomainError, match=services.MEMBER_OF_OTHER_WORKSPACE):
        report(media, other_workspace_member)
    assert not NewsViolation.objects.exists()


def test_another_event_while_suspended_is_recorded_and_the_suspension_kept(
    media: Workspace, owner: Membership, member: Membership
) -> None:
    report(media, member, "evt-1")
    media.refresh_from_db()
    reason = media.suspension_reason
    assert report(media, member, "evt-2") is not None
    media.refresh_from_db()
    assert media.suspension_reason == reason
    assert (
        NewsViolation.objects.count() == 2 and len(events(AccountAction.WORKSPACE_SUSPENDED)) == 1
    )


def test_an_authorization_in_force_covers_its_group_only(
    media: Workspace, owner: Membership, member: Membership, desk, staff: User
) -> None:
    req = services.editorial_request_create(
        actor=Actor.member(owner), workspace=media, reason="r", requested_scope="desk"
    )
    services.editorial_request_decide(
        actor=Actor.staff(staff),
        authorization=req,
        approve=True,
        scope_group=desk,
        ends_on=tomorrow(),
    )
    assert report(media, member, "covered") is None
    media.refresh_from_db()
    assert not media.is_suspended
    # The owner is not in the desk.
    assert report(media, owner, "not-covered") is not None
    media.refresh_from_db()
    assert media.is_suspended


def test_a_whole_workspace_authorization_covers_everyone(
    media: Workspace, owner: Membership, member: Membership, staff: User
) -> None:
    req = services.editorial_request_create(
        actor=Actor.member(owner), workspace=media, reason="r", requested_scope="all"
    )
    services.editorial_request_decide(
        actor=Actor.staff(staff), authorization=req, approve=True, ends_on=tomorrow()
    )
    assert report(media, member) is None and report(media, owner, "evt-2") is None


# --- appeal_file --------------------------------------------------------------------------


@pytest.fixture
def suspended(media: Workspace, owner: Membership, member: Membership) -> Workspace:
    report(media, member)
    media.refresh_from_db()
    mail.outbox.clear()
    return media


def test_owner_files_an_appeal_recorded_audited_and_emailed_to_staff(
    suspended: Workspace, owner: Membership, staff: User, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        appeal = services.appeal_file(
            actor=Actor.member(owner), workspace=suspended, statement="It was a test prompt."
        )
    assert (
        appeal.status == AppealStatus.PENDING
        and appeal.suspension_reason == suspended.suspension_reason
    )
    assert events(Action.APPEAL_FILED)[0].after["statement"] == "It was a test prompt."
    assert recipients() == ["staff@console.test"]
    message = mail.outbox[0]
    assert "It was a test prompt." in message.body and "It was a test prompt." in html_of(message)
    [path] = links(message)
    assert path == f"/admin/compliance/appeal/{appeal.pk}/change/"
    assert login(Client(), staff).get(path).status_code == 200


def test_appeal_refused_when_not_suspended(media: Workspace, owner: Membership) -> None:
    with pytest.raises(DomainError, match=services.NOT_SUSPENDED):
        services.appeal_file(actor=Actor.member(owner), workspace=media, statement="Please")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BILLING, Role.MEMBER])
def test_only_owners_appeal(suspended: Workspace, role: Role) -> None:
    someone = MembershipFactory(workspace=suspended, role=role)
    with pytest.raises(DomainError, match=services.OWNERS_ONLY):
        services.appeal_file(actor=Actor.member(someone), workspace=suspended, statement="Please")
    outsider = UserFactory()
    with pytest.raises(DomainError, match=services.OWNERS_ONLY):
        services.appeal_file(
            actor=Actor.for_user(outsider), workspace=suspended, statement="Please"
        )
    assert not Appeal.objects.exists()


def test_one_pending_appeal_at_a_time(suspended: Workspace, owner: Membership) -> None:
    services.appeal_file(actor=Actor.member(owner), workspace=suspended, statement="Please")
    with pytest.raises(DomainError, match=services.APPEAL_PENDING):
        services.appeal_file(actor=Actor.member(owner), workspace=suspended, statement="Again")


def test_appeal_needs_a_statement(suspended: Workspace, owner: Membership) -> None:
    with pytest.raises(DomainError, match=services.STATEMENT_REQUIRED):
        services.appeal_file(actor=Actor.member(owner), workspace=suspended, statement="   ")


# --- appeal_decide ------------------------------------------------------------------------


@pytest.fixture
def appeal(suspended: Workspace, owner: Membership) -> Appeal:
    return services.appeal_file(
        actor=Actor.member(owner), workspace=suspended, statement="It was a test prompt."
    )


def test_granted_appeal_lifts_the_suspension_and_tells_the_owners(
    appeal: Appeal,
    staff: User,
    owner: Membership,
    admin_member: Membership,
    django_capture_on_commit_callbacks,
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decided = services.appeal_decide(
            actor=Actor.staff(staff), appeal=appeal, grant=True, note="Accepted, be careful."
        )
    assert decided.status == AppealStatus.GRANTED and decided.decided_by == staff
    ws = Workspace.objects.get(pk=appeal.workspace_id)
    assert not ws.is_suspended
    assert len(events(AccountAction.WORKSPACE_REACTIVATED)) == 1
    assert events(Action.APPEAL_DECIDED)[0].after == {
        "status": "granted",
        "note": "Accepted, be careful.",
    }
    assert recipients() == ["owner@acme.test"]
    message = mail.outbox[0]
    assert "granted" in message.subject and "Accepted, be careful." in message.body
    assert "Accepted, be careful." in html_of(message)
    [path] = links(message)
    assert login(Client(), owner.user).get(path).status_code == 200


def test_rejected_appeal_keeps_the_suspension(
    appeal: Appeal, staff: User, owner: Membership, django_capture_on_commit_callbacks
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.appeal_decide(
            actor=Actor.staff(staff), appeal=appeal, grant=False, note="Repeated use."
        )
    ws = Workspace.objects.get(pk=appeal.workspace_id)
    assert ws.is_suspended and not events(AccountAction.WORKSPACE_REACTIVATED)
    assert "rejected" in mail.outbox[0].subject and "Repeated use." in mail.outbox[0].body
    # A new appeal may be filed after a rejection.
    services.appeal_file(actor=Actor.member(owner), workspace=ws, statement="New facts.")


def test_rejection_needs_a_note(appeal: Appeal, staff: User) -> None:
    with pytest.raises(DomainError, match=services.NOTE_REQUIRED_TO_REJECT):
        services.appeal_decide(actor=Actor.staff(staff), appeal=appeal, grant=False, note="")


def test_only_staff_decide_appeals_and_only_once(
    appeal: Appeal, staff: User, owner: Membership
) -> None:
    with pytest.raises(DomainError, match=services.STAFF_ONLY):
        services.appeal_decide(actor=Actor.member(owner), appeal=appeal, grant=True)
    services.appeal_decide(actor=Actor.staff(staff), appeal=appeal, grant=True)
    with pytest.raises(DomainError, match=services.ALREADY_DECIDED):
        services.appeal_decide(
            actor=Actor.staff(staff), appeal=appeal, grant=False, note="Changed my mind"
        )
