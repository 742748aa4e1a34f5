"""Invitations page and invitation links (R-WS-3, R-UI-2, R-SEC-1)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import errors, services
from accounts.actor import Actor
from accounts.invitation_forms import NO_ADDRESS, NO_VALID_ADDRESS
from accounts.models import AuditEvent, Invitation, InvitationStatus, Membership
from accounts.roles import Role
from tests.conftest import HTMX
from tests.factories import (
    PASSWORD,
    GroupFactory,
    InvitationFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/w/acme/invitations/"
LINK_RE = re.compile(r"http://testserver(/invitations/[^/\s\"]+/)")


def invite(
    client: Client,
    emails: str,
    role: int = Role.MEMBER,
    groups: list[int] | None = None,
    htmx: bool = True,
    capture=None,
):
    data = {"emails": emails, "role": str(role), "groups": [str(g) for g in groups or []]}
    return client.post(URL, data, **(HTMX if htmx else {}))


def link_from(message) -> str:
    match = LINK_RE.search(message.body)
    assert match, message.body
    return match.group(1)


def invitation_link(inv: Invitation) -> str:
    return reverse("invitation_accept", args=[services.invitation_token(inv)])


# --- The page ---------------------------------------------------------------------------


def test_page_shows_form_with_grantable_roles_and_groups(admin_client_ws, workspace) -> None:
    GroupFactory(workspace=workspace, name="Research")
    response = admin_client_ws.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Send invitations" in html and "Research" in html
    roles = re.findall(r'<option value="(\d+)"', html)
    # An admin may not grant owner: the option is not even offered.
    assert str(Role.OWNER.value) not in roles and str(Role.ADMIN.value) in roles


def test_owner_is_offered_owner_role(owner_client) -> None:
    html = owner_client.get(URL).content.decode()
    assert f'<option value="{Role.OWNER.value}"' in html


def test_bulk_invite_reports_each_address_and_sends_emails(
    owner_client, owner, member, workspace, django_capture_on_commit_callbacks
) -> None:
    group = GroupFactory(workspace=workspace, name="Research")
    InvitationFactory(workspace=workspace, email="pending@acme.test")
    text = f"ada@acme.test, not-an-address\n{member.user.email}; pending@acme.test\nGrace <grace@acme.test>"
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(owner_client, text, role=Role.BILLING, groups=[group.pk])
    assert response.status_code == 200
    html = response.content.decode()
    assert "ada@acme.test</span>: Invitation sent." in html
    assert "not-an-address</span>: Not a valid email address." in html
    assert f"{member.user.email}</span>: {errors.ALREADY_MEMBER}" in html
    assert "pending@acme.test</span>: Already invited" in html
    assert "2 of 5 invitations sent." in response.headers["HX-Trigger"]
    assert "invitations-changed" in response.headers["HX-Trigger"]
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@acme.test", "grace@acme.test"]
    msg = next(m for m in mail.outbox if m.to == ["ada@acme.test"])
    html_part, mimetype = msg.alternatives[0]
    assert mimetype == "text/html"
    path = link_from(msg)
    assert f"http://testserver{path}" in html_part
    assert "Acme" in msg.subject
    inv = Invitation.objects.get(email="ada@acme.test")
    assert inv.role == Role.BILLING and list(inv.groups.all()) == [group]


def test_bulk_invite_without_javascript_redirects_then_shows_results(owner_client) -> None:
    response = invite(owner_client, "ada@acme.test, bad", htmx=False)
    assert response.status_code == 302 and response["Location"] == URL
    html = owner_client.get(URL).content.decode()
    assert "ada@acme.test</span>: Invitation sent." in html
    assert "bad</span>: Not a valid email address." in html
    # Shown once.
    assert "Result for each address" not in owner_client.get(URL).content.decode()


def _textarea(html: str) -> str:
    return html.split('name="emails"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]


def test_failed_addresses_stay_in_the_form_with_their_errors(
    owner_client, member, workspace
) -> None:
    group = GroupFactory(workspace=workspace, name="Research")
    InvitationFactory(workspace=workspace, email="pending@acme.test")
    text = f"not-an-address, {member.user.email}\npending@acme.test"
    response = invite(owner_client, text, role=Role.BILLING, groups=[group.pk])
    html = response.content.decode()
    assert "0 of 3 invitations sent." in response.headers["HX-Trigger"]
    assert "not-an-address</span>: Not a valid email address." in html
    assert f"{member.user.email}</span>: {errors.ALREADY_MEMBER}" in html
    # Nothing was sent: every address is still there to fix, for the same role and group.
    assert _textarea(html).split() == ["not-an-address", member.user.email, "pending@acme.test"]
    assert f'<option value="{Role.BILLING.value}" selected>' in html
    assert f'value="{group.pk}" id="id_groups_0" checked' in html


def test_only_the_sent_addresses_leave_the_form(owner_client) -> None:
    response = invite(owner_client, "ada@acme.test, bad, grace@acme.test")
    html = response.content.decode()
    assert "2 of 3 invitations sent." in response.headers["HX-Trigger"]
    assert _textarea(html).split() == ["bad"]


def test_all_sent_empties_the_form(owner_client) -> None:
    html = invite(owner_client, "ada@acme.test").content.decode()
    assert _textarea(html).strip() == ""


def test_failed_addresses_stay_in_the_form_without_javascript(owner_client) -> None:
    response = invite(owner_client, "ada@acme.test, bad", role=Role.BILLING, htmx=False)
    assert response.status_code == 302
    html = owner_client.get(URL).content.decode()
    assert "bad</span>: Not a valid email address." in html
    assert _textarea(html).split() == ["bad"]
    assert f'<option value="{Role.BILLING.value}" selected>' in html
    # Kept once, like the results.
    assert _textarea(owner_client.get(URL).content.decode()).strip() == ""


def test_admin_cannot_invite_an_owner(admin_client_ws) -> None:
    response = invite(admin_client_ws, "boss@acme.test", role=Role.OWNER)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("emails", "message"),
    [
        ("", "This field is required."),
        ("  , ;  ", NO_ADDRESS),
        ("<script>alert(1)</script>", NO_VALID_ADDRESS),
        ("'; DROP TABLE x;--", NO_VALID_ADDRESS),
        ("аdmin@acme.test", NO_VALID_ADDRESS),  # Cyrillic "а"
        ("admin@асme.test", NO_VALID_ADDRESS),  # Cyrillic "а" and "с" in the domain
        ("x" * 50_001, "Ensure this value has at most 50000 characters"),
        (", ".join(f"u{i}@acme.test" for i in range(501)), "at most 500 addresses"),
    ],
)
def test_invite_bad_input_is_a_field_error(owner_client, emails, message) -> None:
    response = invite(owner_client, emails)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error"' in html and message in html.replace("&#x27;", "'")
    assert not Invitation.objects.exists()
    assert "<script>alert" not in html


@pytest.mark.parametrize("role", ["", "abc", "99", "'; DROP TABLE x;--"])
def test_invite_bad_role_is_a_field_error(owner_client, role) -> None:
    response = owner_client.post(URL, {"emails": "a@acme.test", "role": role}, **HTMX)
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("group", ["abc", "999999", "'; DROP TABLE x;--"])
def test_invite_bad_or_foreign_group_is_a_field_error(
    owner_client, other_workspace_member, group
) -> None:
    foreign = GroupFactory(workspace=other_workspace_member.workspace)
    for value in (group, str(foreign.pk)):
        response = owner_client.post(
            URL, {"emails": "a@acme.test", "role": "10", "groups": [value]}, **HTMX
        )
        assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert not Invitation.objects.exists()


def test_mixed_list_with_lookalike_invites_only_the_real_address(
    owner_client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(owner_client, "ada@acme.test аda@acme.test")
    assert "Not a valid email address." in response.content.decode()
    assert list(Invitation.objects.values_list("email", flat=True)) == ["ada@acme.test"]
    assert len(mail.outbox) == 1


def test_list_tabs_and_htmx_partial(owner_client, workspace) -> None:
    InvitationFactory(workspace=workspace, email="p@acme.test")
    InvitationFactory(workspace=workspace, email="r@acme.test", status=InvitationStatus.REVOKED)
    InvitationFactory(
        workspace=workspace, email="late@acme.test", expires_at=timezone.now() - timedelta(hours=1)
    )
    InvitationFactory(workspace=workspace, email="done@acme.test", status=InvitationStatus.ACCEPTED)
    pending = owner_client.get(URL).content.decode()
    assert (
        "p@acme.test" in pending
        and "r@acme.test" not in pending
        and "late@acme.test" not in pending
    )
    expired = owner_client.get(URL + "?status=expired", **HTMX)
    html = expired.content.decode()
    assert 'id="invitation-list"' in html and "<html" not in html
    assert "late@acme.test" in html and "p@acme.test" not in html
    assert "r@acme.test" in owner_client.get(URL + "?status=revoked").content.decode()
    assert "done@acme.test" in owner_client.get(URL + "?status=accepted").content.decode()
    # Unknown filters and pages fall back to the first tab and page.
    assert owner_client.get(URL + "?status='; DROP TABLE x;--&page=<script>").status_code == 200


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_queries_are_constant(owner_client, owner, workspace) -> None:
    groups = [GroupFactory(workspace=workspace) for _ in range(3)]

    def make(n: int) -> None:
        for _ in range(n):
            inv = InvitationFactory(workspace=workspace, invited_by=owner.user)
            inv.groups.add(*groups)

    owner_client.get(URL)  # the first request of a session also records the session
    make(5)
    small = _count_queries(owner_client, URL)
    make(25)
    large = _count_queries(owner_client, URL)
    assert small == large
    assert _count_queries(owner_client, URL + "?status=pending&page=2") == small


# --- Resend and revoke -----------------------------------------------------------------


def test_resend_changes_the_link_and_kills_the_old_one(
    owner_client, workspace, owner, django_capture_on_commit_callbacks
) -> None:
    inv = InvitationFactory(workspace=workspace, email="ada@acme.test", invited_by=owner.user)
    old_link = invitation_link(inv)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"{URL}{inv.pk}/resend/", **HTMX)
    assert response.status_code == 200
    assert f'id="inv-{inv.pk}"' in response.content.decode()
    assert "sent again" in response.headers["HX-Trigger"]
    new_link = link_from(mail.outbox[-1])
    assert new_link != old_link
    client = Client()
    dead = client.get(old_link)
    assert dead.status_code == 404 and errors.INVITATION_INVALID in dead.content.decode()
    assert client.get(new_link).status_code == 200
    inv.refresh_from_db()
    assert inv.send_count == 2


def test_revoke_kills_the_link(owner_client, workspace) -> None:
    inv = InvitationFactory(workspace=workspace)
    link = invitation_link(inv)
    response = owner_client.post(f"{URL}{inv.pk}/revoke/", {"confirmed": "1"}, **HTMX)
    assert response.status_code == 200 and "Revoked" in response.content.decode()
    inv.refresh_from_db()
    assert inv.status == InvitationStatus.REVOKED
    assert AuditEvent.objects.filter(action="invitation.revoked", workspace=workspace).exists()
    page = Client().get(link)
    assert page.status_code == 410 and errors.INVITATION_REVOKED in page.content.decode()
    # Revoking again says why it cannot, without a 500.
    again = owner_client.post(f"{URL}{inv.pk}/revoke/", {"confirmed": "1"}, **HTMX)
    assert again.status_code == 200 and errors.INVITATION_NOT_PENDING in again.headers["HX-Trigger"]


def test_resend_and_revoke_without_javascript(owner_client, workspace) -> None:
    inv = InvitationFactory(workspace=workspace)
    response = owner_client.post(f"{URL}{inv.pk}/revoke/", {"confirmed": "1"})
    assert response.status_code == 302 and response["Location"] == URL
    assert "revoked" in owner_client.get(URL).content.decode()


# --- Access ------------------------------------------------------------------------------


def test_every_url_is_404_for_another_workspace(client, workspace, other_workspace_member) -> None:
    inv = InvitationFactory(workspace=workspace)
    foreign = InvitationFactory(workspace=other_workspace_member.workspace)
    client.force_login(other_workspace_member.user)
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"emails": "a@b.test", "role": "10"}).status_code == 404
    for action in ("resend", "revoke"):
        assert client.post(f"{URL}{inv.pk}/{action}/").status_code == 404
    # A member of acme cannot reach globex's invitation through acme's URL either.
    owner = MembershipFactory(workspace=workspace, role=Role.OWNER)
    client.force_login(owner.user)
    for action in ("resend", "revoke"):
        assert client.post(f"{URL}{foreign.pk}/{action}/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == InvitationStatus.PENDING


def test_signed_out_is_sent_to_sign_in(client, workspace) -> None:
    inv = InvitationFactory(workspace=workspace)
    for response in (client.get(URL), client.post(f"{URL}{inv.pk}/revoke/")):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_plain_member_cannot_invite(member_client) -> None:
    assert member_client.get(URL).status_code == 403
    assert member_client.post(URL, {"emails": "a@acme.test", "role": "10"}).status_code == 403
    assert not Invitation.objects.exists()


# --- Accepting ---------------------------------------------------------------------------


def test_new_user_signs_up_from_the_link_and_lands_in_the_workspace(
    owner_client, owner, workspace, django_capture_on_commit_callbacks
) -> None:
    group = GroupFactory(workspace=workspace, name="Research")
    with django_capture_on_commit_callbacks(execute=True):
        invite(owner_client, "newcomer@elsewhere.test", role=Role.ADMIN, groups=[group.pk])
    link = link_from(mail.outbox[-1])

    visitor = Client()
    page = visitor.get(link)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Acme" in html and owner.user.email in html and "Create an account" in html
    signup = re.search(r'href="([^"]*/accounts/signup/[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "email=newcomer%40elsewhere.test" in signup
    form_page = visitor.get(signup)
    assert 'value="newcomer@elsewhere.test"' in form_page.content.decode()

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = visitor.post(
            signup,
            {
                "email": "newcomer@elsewhere.test",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "birth_date": "1990-04-01",
                "agree_terms": "on",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    [verification] = mail.outbox
    confirm_path = re.search(
        r"http://testserver(/accounts/confirm-email/[^\s]+/)", verification.body
    ).group(1)
    assert visitor.get(confirm_path).status_code == 200
    confirmed = visitor.post(confirm_path)
    assert confirmed.status_code == 302 and confirmed["Location"] == link

    ready = visitor.get(link)
    assert "Join Acme" in ready.content.decode()
    joined = visitor.post(link)
    assert joined.status_code == 302 and joined["Location"] == "/w/acme/"
    m = Membership.objects.get(workspace=workspace, user__email="newcomer@elsewhere.test")
    assert m.role == Role.ADMIN and list(m.groups.all()) == [group]
    assert visitor.get("/w/acme/").status_code == 200
    # The link is now used up.
    used = visitor.get(link)
    assert used.status_code == 410 and errors.INVITATION_USED in used.content.decode()


def test_verification_in_a_later_visit_still_returns_to_the_invitation(workspace, owner) -> None:
    """No ``next`` on the way: the token kept in the session brings the user back."""
    inv = InvitationFactory(
        workspace=workspace, email="later@elsewhere.test", invited_by=owner.user
    )
    link = invitation_link(inv)
    visitor = Client()
    visitor.get(link)
    UserFactory(email="later@elsewhere.test")
    response = visitor.post(
        "/accounts/login/", {"login": "later@elsewhere.test", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == link


def test_existing_user_signs_in_and_accepts(workspace, owner) -> None:
    user = UserFactory(email="existing@elsewhere.test")
    inv = InvitationFactory(workspace=workspace, email=user.email, invited_by=owner.user)
    link = invitation_link(inv)
    visitor = Client()
    page = visitor.get(link).content.decode()
    login_url = re.search(r'href="(/accounts/login/[^"]*)"', page).group(1).replace("&amp;", "&")
    response = visitor.post(login_url, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == link
    assert visitor.post(link)["Location"] == "/w/acme/"
    assert Membership.objects.filter(workspace=workspace, user=user, role=Role.MEMBER).exists()
    assert AuditEvent.objects.filter(action="invitation.accepted", workspace=workspace).exists()


def test_signed_in_as_someone_else_is_told_and_offered_sign_out(
    workspace, other_workspace_member
) -> None:
    inv = InvitationFactory(workspace=workspace, email="invited@elsewhere.test")
    link = invitation_link(inv)
    client = Client()
    client.force_login(other_workspace_member.user)
    html = client.get(link).content.decode()
    assert "invited@elsewhere.test" in html and "Sign out" in html
    response = client.post(link)
    assert response.status_code == 200
    assert not Membership.objects.filter(
        workspace=workspace, user=other_workspace_member.user
    ).exists()
    inv.refresh_from_db()
    assert inv.status == InvitationStatus.PENDING


def test_unverified_address_is_asked_to_verify(workspace) -> None:
    user = UserFactory(email="unverified@elsewhere.test", verified=False)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    inv = InvitationFactory(workspace=workspace, email=user.email)
    client = Client()
    client.force_login(user)
    assert "not verified yet" in client.get(invitation_link(inv)).content.decode()
    client.post(invitation_link(inv))
    assert not Membership.objects.filter(user=user).exists()


def test_signed_out_post_goes_to_sign_in(workspace) -> None:
    inv = InvitationFactory(workspace=workspace)
    response = Client().post(invitation_link(inv))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("expired", 410, errors.INVITATION_EXPIRED),
        ("expired_marked", 410, errors.INVITATION_EXPIRED),
        ("revoked", 410, errors.INVITATION_REVOKED),
        ("used", 410, errors.INVITATION_USED),
        ("resent_old", 404, errors.INVITATION_INVALID),
        ("garbage", 404, errors.INVITATION_INVALID),
        ("truncated", 404, errors.INVITATION_INVALID),
        ("deleted", 404, errors.INVITATION_INVALID),
        ("hostile", 404, errors.INVITATION_INVALID),
    ],
)
def test_bad_links_give_a_clear_page(workspace, owner, kind, status, message) -> None:
    inv = InvitationFactory(workspace=workspace, invited_by=owner.user)
    link = invitation_link(inv)
    if kind == "expired":
        Invitation.objects.filter(pk=inv.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    elif kind == "expired_marked":
        Invitation.objects.filter(pk=inv.pk).update(status=InvitationStatus.EXPIRED)
    elif kind == "revoked":
        services.invitation_revoke(actor=Actor.member(owner), invitation=inv)
    elif kind == "used":
        user = UserFactory(email=inv.email)
        services.invitation_accept(actor=Actor.for_user(user), invitation=inv)
    elif kind == "resent_old":
        services.invitation_resend(actor=Actor.member(owner), invitation=inv)
    elif kind == "garbage":
        link = "/invitations/not-a-token-at-all/"
    elif kind == "truncated":
        link = link[:-6] + "/"
    elif kind == "deleted":
        inv.delete()
    elif kind == "hostile":
        link = "/invitations/%3Cscript%3Ealert(1)'%3B%20DROP%20TABLE%20x%3B--%D0%B0/"
    for client in (Client(), Client()):
        if client is not None:
            response = client.get(link)
            assert response.status_code == status
            html = response.content.decode()
            assert message in html.replace("&#x27;", "'") and "<script>alert" not in html
            assert client.post(link).status_code == status
    assert (
        not Membership.objects.filter(workspace=workspace, user__email=inv.email).exists()
        or kind == "used"
    )
