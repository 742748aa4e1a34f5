"""The compliance pages of a workspace (R-MEDIA-1, R-MEDIA-4, R-MEDIA-5, R-UI-1): who sees
them, the declaration and request forms with HTMX and without, the suspended workspace's
notice and appeal page, workspace creation with the Media Customer question, and query
counts at two sizes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.actor import Actor
from accounts.models import Group, Membership, User, Workspace
from accounts.roles import Role
from billing.models import Subscription
from compliance import services
from compliance.forms import MEDIA_ANSWER_REQUIRED
from compliance.models import (
    MEDIA_CUSTOMER_DEFINITION,
    Appeal,
    AppealStatus,
    EditorialAuthorization,
    MediaStatusChange,
    RequestStatus,
)
from compliance.selectors import is_media_customer
from tests.compliance.conftest import USED_AT
from tests.conftest import HTMX, login
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/w/acme/compliance/"
REQUEST = "/w/acme/compliance/editorial-request/"
APPEAL = "/w/acme/compliance/appeal/"
NEW = "/workspaces/new/"


def toast(response) -> str:  # type: ignore[no-untyped-def]
    return json.loads(response["HX-Trigger"])["toast"]["message"]


def suspend(workspace: Workspace, member: Membership) -> None:
    services.news_use_report(
        workspace=workspace, membership=member, event_id="evt", occurred_at=USED_AT
    )
    workspace.refresh_from_db()


# --- Who sees the page --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.OWNER, 200), (Role.ADMIN, 200), (Role.BILLING, 403), (Role.MEMBER, 403)],
)
def test_page_by_role(client: Client, workspace: Workspace, role: Role, status: int) -> None:
    m = MembershipFactory(workspace=workspace, role=role)
    login(client, m.user)
    assert client.get(PAGE).status_code == status
    nav = client.get("/w/acme/").content.decode()
    assert ("Media and compliance" in nav) == (status == 200)


def test_outsider_gets_404(
    client: Client, workspace: Workspace, other_workspace_member: Membership
) -> None:
    login(client, other_workspace_member.user)
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, {"is_media_customer": "yes"}).status_code == 404
    assert client.get(APPEAL).status_code == 404
    assert not MediaStatusChange.objects.exists()


def test_page_shows_the_definition_and_an_undeclared_status(owner_client: Client) -> None:
    body = owner_client.get(PAGE).content.decode()
    assert MEDIA_CUSTOMER_DEFINITION in body and "Not declared yet" in body
    assert "Save the declaration" in body
    # No editorial section for a workspace that is not a Media Customer.
    assert "Editorial-use authorizations" not in body
    assert "The workspace is not suspended." in body


def test_page_shows_status_who_set_it_and_the_history(
    owner_client: Client, media: Workspace, staff: User
) -> None:
    services.media_status_set(
        actor=Actor.staff(staff),
        workspace=media,
        is_media_customer=True,
        source="staff",
        note="Press card checked.",
    )
    body = owner_client.get(PAGE).content.decode()
    assert "Media Customer" in body and "Set by the platform's staff" in body
    assert (
        "Press card checked." in body
        and "Declared at creation" in body
        and "owner@acme.test" in body
    )
    assert "the workspace cannot clear it" in body
    # Staff addresses are not shown to the workspace.
    assert "staff@console.test" not in body
    assert "Ask for an editorial-use authorization" in body


# --- The declaration ----------------------------------------------------------------------


def test_declare_with_htmx_answers_the_section_and_a_toast(
    owner_client: Client, workspace: Workspace
) -> None:
    response = owner_client.post(PAGE, {"is_media_customer": "yes"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="media-section"') and "<html" not in body
    assert "Verified news is now blocked" in toast(response)
    assert is_media_customer(workspace)
    change = MediaStatusChange.objects.get()
    assert change.source == "self" and change.note == "Declared in the console"


def test_declare_with_a_plain_post_redirects(owner_client: Client, media: Workspace) -> None:
    response = owner_client.post(PAGE, {"is_media_customer": "no"})
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not is_media_customer(media)
    assert "not a Media Customer" in owner_client.get(PAGE).content.decode()


def test_declaring_the_same_again_changes_nothing(owner_client: Client, media: Workspace) -> None:
    response = owner_client.post(PAGE, {"is_media_customer": "yes"}, **HTMX)
    assert "Nothing changed" in toast(response)
    assert MediaStatusChange.objects.count() == 1


@pytest.mark.parametrize("data", [{}, {"is_media_customer": "maybe"}])
def test_declaration_needs_a_yes_or_no(
    owner_client: Client, workspace: Workspace, data: dict[str, str]
) -> None:
    response = owner_client.post(PAGE, data, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_is_media_customer_error"' in body
    assert not MediaStatusChange.objects.exists()


def test_a_status_set_by_staff_cannot_be_cleared_here(
    owner_client: Client, workspace: Workspace, staff: User
) -> None:
    services.media_status_set(
        actor=Actor.staff(staff),
        workspace=workspace,
        is_media_customer=True,
        source="staff",
        note="n",
    )
    response = owner_client.post(PAGE, {"is_media_customer": "no"}, **HTMX)
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert "only staff can change that" in response.content.decode()
    assert is_media_customer(workspace)


def test_member_cannot_declare(member_client: Client, workspace: Workspace) -> None:
    assert member_client.post(PAGE, {"is_media_customer": "yes"}).status_code == 403
    assert not MediaStatusChange.objects.exists()


# --- Editorial-use requests ---------------------------------------------------------------

REQUEST_DATA = {
    "reason": "Our desk checks wire stories.",
    "requested_scope": "The fact-checking desk",
}


def test_request_with_htmx(
    owner_client: Client, media: Workspace, staff: User, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(REQUEST, REQUEST_DATA, **HTMX)
    assert response.status_code == 200 and "Request sent" in toast(response)
    body = response.content.decode()
    assert "Waiting for staff" in body and "Our desk checks wire stories." in body
    # The form gives way to the notice while a request is pending.
    assert "A request is waiting for staff" in body and 'id="editorial-form"' not in body
    req = EditorialAuthorization.objects.get()
    assert req.requested_by.email == "owner@acme.test" and req.status == RequestStatus.PENDING


def test_request_with_a_plain_post_redirects(admin_client_ws: Client, media: Workspace) -> None:
    response = admin_client_ws.post(REQUEST, REQUEST_DATA)
    assert response.status_code == 302 and response["Location"] == PAGE + "#editorial"
    assert EditorialAuthorization.objects.count() == 1


def test_request_fields_are_required(owner_client: Client, media: Workspace) -> None:
    response = owner_client.post(REQUEST, {"reason": "", "requested_scope": ""}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_reason_error"' in body and 'id="id_requested_scope_error"' in body
    assert not EditorialAuthorization.objects.exists()


def test_request_refused_when_not_a_media_customer(
    owner_client: Client, workspace: Workspace
) -> None:
    response = owner_client.post(REQUEST, REQUEST_DATA, **HTMX)
    assert response.status_code == 200
    assert services.NOT_MEDIA_CUSTOMER in response.content.decode()
    assert not EditorialAuthorization.objects.exists()


def test_request_list_shows_status_scope_and_end(
    owner_client: Client, media: Workspace, owner: Membership, staff: User, desk: Group
) -> None:
    req = services.editorial_request_create(
        actor=Actor.member(owner), workspace=media, **REQUEST_DATA
    )
    ends = timezone.now().date() + timedelta(days=30)
    services.editorial_request_decide(
        actor=Actor.staff(staff), authorization=req, approve=True, scope_group=desk, ends_on=ends
    )
    row = (
        owner_client.get(PAGE)
        .content.decode()
        .split(f'<tr id="editorial-{req.pk}">', 1)[1]
        .split("</tr>", 1)[0]
    )
    assert "In force" in row and f"Group {desk.name}" in row and ends.isoformat() in row


def test_member_cannot_request(member_client: Client, media: Workspace) -> None:
    assert member_client.post(REQUEST, REQUEST_DATA).status_code == 403
    assert not EditorialAuthorization.objects.exists()


def test_request_page_answers_get_with_405(owner_client: Client) -> None:
    assert owner_client.get(REQUEST).status_code == 405


# --- A suspended workspace ----------------------------------------------------------------


def test_members_see_the_notice_and_cannot_act(
    client: Client, media: Workspace, owner: Membership, member: Membership
) -> None:
    suspend(media, member)
    login(client, member.user)
    body = client.get("/w/acme/").content.decode()
    assert (
        "This workspace is suspended." in body and "Verified news used by a Media Customer" in body
    )
    assert "File an appeal" not in body
    response = client.post("/w/acme/groups/new/", {"name": "Sneaky"})
    assert response.status_code == 403 and "is suspended" in response.content.decode()
    assert not Group.objects.filter(name="Sneaky").exists()
    assert client.get(APPEAL).status_code == 403


def test_owner_sees_the_appeal_link_everywhere(
    owner_client: Client, media: Workspace, member: Membership
) -> None:
    suspend(media, member)
    body = owner_client.get("/w/acme/").content.decode()
    assert 'href="/w/acme/compliance/appeal/">File an appeal' in body
    refused = owner_client.post("/w/acme/groups/new/", {"name": "x"})
    assert (
        refused.status_code == 403
        and 'href="/w/acme/compliance/appeal/"' in refused.content.decode()
    )
    page = owner_client.get(PAGE).content.decode()
    assert "The workspace is suspended" in page and "File an appeal" in page


def test_suspended_compliance_page_is_read_only(
    owner_client: Client, media: Workspace, member: Membership
) -> None:
    suspend(media, member)
    body = owner_client.get(PAGE).content.decode()
    assert "Save the declaration" not in body and 'id="editorial-form"' not in body
    assert owner_client.post(PAGE, {"is_media_customer": "no"}).status_code == 403
    assert owner_client.post(REQUEST, REQUEST_DATA).status_code == 403
    assert is_media_customer(media) and not EditorialAuthorization.objects.exists()


def test_admin_reads_the_suspension_but_cannot_appeal(
    admin_client_ws: Client, media: Workspace, member: Membership
) -> None:
    suspend(media, member)
    body = admin_client_ws.get(PAGE).content.decode()
    assert "Only an owner of the workspace can appeal" in body
    assert admin_client_ws.get(APPEAL).status_code == 403
    assert admin_client_ws.post(APPEAL, {"statement": "Please"}).status_code == 403
    assert not Appeal.objects.exists()


# --- The appeal page ----------------------------------------------------------------------


def test_owner_appeals_with_htmx(
    owner_client: Client, media: Workspace, member: Membership
) -> None:
    suspend(media, member)
    page = owner_client.get(APPEAL).content.decode()
    assert media.suspension_reason in page and "File the appeal" in page
    response = owner_client.post(APPEAL, {"statement": "It was a test prompt."}, **HTMX)
    assert response.status_code == 200 and "Appeal filed" in toast(response)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="appeal-section">')
    assert (
        "Your appeal is waiting" in body
        and "It was a test prompt." in body
        and "File the appeal" not in body
    )
    appeal = Appeal.objects.get()
    assert (
        appeal.status == AppealStatus.PENDING
        and appeal.suspension_reason == media.suspension_reason
    )


def test_owner_appeals_with_a_plain_post(
    owner_client: Client, media: Workspace, member: Membership
) -> None:
    suspend(media, member)
    response = owner_client.post(APPEAL, {"statement": "Please"})
    assert response.status_code == 302 and response["Location"] == APPEAL
    assert Appeal.objects.count() == 1


def test_appeal_needs_a_statement(
    owner_client: Client, media: Workspace, member: Membership
) -> None:
    suspend(media, member)
    response = owner_client.post(APPEAL, {"statement": ""}, **HTMX)
    assert response.status_code == 200 and 'id="id_statement_error"' in response.content.decode()
    assert not Appeal.objects.exists()


def test_appeal_refused_when_not_suspended(owner_client: Client, workspace: Workspace) -> None:
    assert "is not suspended" in owner_client.get(APPEAL).content.decode()
    response = owner_client.post(APPEAL, {"statement": "Please"}, **HTMX)
    assert response.status_code == 200 and services.NOT_SUSPENDED in response.content.decode()
    assert not Appeal.objects.exists()


def test_decided_appeals_are_listed_with_the_decision(
    owner_client: Client, media: Workspace, owner: Membership, member: Membership, staff: User
) -> None:
    suspend(media, member)
    appeal = services.appeal_file(actor=Actor.member(owner), workspace=media, statement="Please")
    services.appeal_decide(
        actor=Actor.staff(staff), appeal=appeal, grant=False, note="Repeated use."
    )
    body = owner_client.get(APPEAL).content.decode()
    assert "Rejected: suspension kept" in body and "Repeated use." in body
    # Rejected: a new appeal may be filed.
    assert "File the appeal" in body


# --- Creating a workspace answers the question --------------------------------------------


def test_creation_page_asks_the_question_with_the_definition(client: Client) -> None:
    login(client, UserFactory())
    body = client.get(NEW).content.decode()
    assert "Does this organisation disseminate information for editorial purposes?" in body
    assert MEDIA_CUSTOMER_DEFINITION in body
    assert 'type="radio" name="is_media_customer" value="yes"' in body
    assert "checked" not in body  # no default answer


def test_creation_requires_an_answer(client: Client) -> None:
    login(client, UserFactory())
    response = client.post(NEW, {"name": "Ledger", "slug": "ledger"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_is_media_customer_error"' in body and MEDIA_ANSWER_REQUIRED.split(":")[0] in body
    assert not Workspace.objects.filter(slug="ledger").exists()


@pytest.mark.parametrize(("answer", "expected"), [("yes", True), ("no", False)])
def test_creation_records_the_declaration_and_the_subscription(
    client: Client, answer: str, expected: bool
) -> None:
    user = UserFactory()
    login(client, user)
    response = client.post(NEW, {"name": "Ledger", "slug": "ledger", "is_media_customer": answer})
    assert response.status_code == 302
    ws = Workspace.objects.get(slug="ledger")
    assert is_media_customer(ws) is expected
    change = MediaStatusChange.objects.get(workspace=ws)
    assert (change.source, change.note, change.actor) == ("self", "Declared at creation", user)
    assert Subscription.objects.filter(workspace=ws, ended_at__isnull=True).count() == 1


# --- Query counts -------------------------------------------------------------------------


def _count(client: Client, path: str) -> int:
    client.get(path)  # session bookkeeping happens once, on the first request
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def _fill(workspace: Workspace, owner: Membership, staff: User, n: int) -> None:
    groups = [GroupFactory(workspace=workspace) for _ in range(2)]
    for i in range(n):
        services.media_status_set(
            actor=Actor.staff(staff),
            workspace=workspace,
            is_media_customer=True,
            source="staff",
            note=f"n{i}",
        )
        req = services.editorial_request_create(
            actor=Actor.member(owner), workspace=workspace, reason=f"r{i}", requested_scope="s"
        )
        services.editorial_request_decide(
            actor=Actor.staff(staff),
            authorization=req,
            approve=True,
            scope_group=groups[i % 2],
            ends_on=timezone.now().date() + timedelta(days=5),
        )
        workspace.refresh_from_db()
        if not workspace.is_suspended:
            services.news_use_report(
                workspace=workspace, membership=owner, event_id=f"e{i}", occurred_at=USED_AT
            )
        appeal = services.appeal_file(
            actor=Actor.member(owner), workspace=workspace, statement=f"s{i}"
        )
        services.appeal_decide(actor=Actor.staff(staff), appeal=appeal, grant=False, note="no")


@pytest.mark.parametrize("path", [PAGE, APPEAL])
def test_query_count_does_not_grow_with_the_lists(
    owner_client: Client, media: Workspace, owner: Membership, staff: User, path: str
) -> None:
    _fill(media, owner, staff, 2)
    small = _count(owner_client, path)
    _fill(media, owner, staff, 12)
    large = _count(owner_client, path)
    assert large == small, f"{path}: {small} queries with few rows, {large} with many"
    assert small <= 12
