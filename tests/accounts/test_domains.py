"""Domains page and requests to join (R-WS-4, R-SEC-1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import errors, services
from accounts.dns import StaticResolver
from accounts.invitation_forms import DOMAIN_NOT_ASCII
from accounts.models import AuditEvent, Domain, JoinMode, JoinRequest, JoinRequestStatus, Membership
from accounts.roles import Role
from tests.conftest import HTMX
from tests.factories import PASSWORD, DomainFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/w/acme/domains/"
CLAIM = URL + "claim/"


def reauthenticate(client: Client) -> Client:
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def admin_reauthed(admin_client_ws: Client) -> Client:
    return reauthenticate(admin_client_ws)


def verified_domain(workspace, name: str = "acme.org") -> Domain:
    return DomainFactory(workspace=workspace, name=name, verified_at=timezone.now())


def join_request(workspace, domain: Domain | None = None, email: str | None = None) -> JoinRequest:
    user = UserFactory(**({"email": email} if email else {}))
    return JoinRequest.objects.create(workspace=workspace, user=user, domain=domain)


# --- Claiming ----------------------------------------------------------------------------


def test_claim_shows_the_txt_record_and_check_verifies(admin_reauthed, workspace) -> None:
    response = admin_reauthed.post(CLAIM, {"name": "Acme.ORG."}, **HTMX)
    assert response.status_code == 200
    assert "domains-changed" in response.headers["HX-Trigger"]
    domain = Domain.objects.get(workspace=workspace)
    assert domain.name == "acme.org"
    page = admin_reauthed.get(URL).content.decode()
    assert domain.txt_value in page and 'data-copy="acme.org"' in page and "Check now" in page

    failed = admin_reauthed.post(f"{URL}{domain.pk}/check/", **HTMX)
    html = failed.content.decode()
    assert (
        failed.status_code == 200
        and "No TXT record" in html
        and "not verified yet" in failed.headers["HX-Trigger"]
    )
    StaticResolver.records = {"acme.org": ["v=spf1 -all", domain.txt_value]}
    verified = admin_reauthed.post(f"{URL}{domain.pk}/check/", **HTMX)
    assert (
        "Verified" in verified.content.decode() and "is verified" in verified.headers["HX-Trigger"]
    )
    domain.refresh_from_db()
    assert domain.is_verified
    assert AuditEvent.objects.filter(workspace=workspace, action="domain.verified").exists()


def test_claim_without_javascript_redirects(admin_reauthed, workspace) -> None:
    response = admin_reauthed.post(CLAIM, {"name": "acme.org"})
    domain = Domain.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{URL}#domain-{domain.pk}"
    invalid = admin_reauthed.post(CLAIM, {"name": "gmail.com"})
    assert (
        invalid.status_code == 200
        and errors.FREE_MAIL_DOMAIN in invalid.content.decode().replace("&#x27;", "'")
    )


def test_claim_needs_recent_reauthentication(admin_client_ws) -> None:
    htmx = admin_client_ws.post(CLAIM, {"name": "acme.org"}, **HTMX)
    assert htmx.status_code == 200
    assert htmx["HX-Redirect"].startswith("/accounts/reauthenticate/?next=")
    plain = admin_client_ws.post(CLAIM, {"name": "acme.org"})
    assert plain.status_code == 302 and plain["Location"].startswith("/accounts/reauthenticate/")
    assert not Domain.objects.exists()
    # After the password, allauth replays the suspended claim.
    admin_client_ws.post(plain["Location"], {"password": PASSWORD})
    assert Domain.objects.filter(name="acme.org").exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("not a domain", "Enter a domain name"),
        ("localhost", "Enter a domain name"),
        ("-bad-.org", "Enter a domain name"),
        ("<script>alert(1)</script>", "Enter a domain name"),
        ("'; DROP TABLE x;--", "Enter a domain name"),
        ("асme.org", DOMAIN_NOT_ASCII),  # Cyrillic lookalikes
        ("a" * 254, "at most 253 characters"),
        ("gmail.com", errors.FREE_MAIL_DOMAIN),
        ("@outlook.com", errors.FREE_MAIL_DOMAIN),
    ],
)
def test_claim_bad_input_is_a_field_error(admin_reauthed, name, message) -> None:
    response = admin_reauthed.post(CLAIM, {"name": name}, **HTMX)
    html = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 200 and 'class="error"' in html and message in html
    assert "<script>alert" not in html
    assert not Domain.objects.exists()


def test_claim_taken_and_already_claimed(admin_reauthed, workspace, other_workspace_member) -> None:
    verified_domain(other_workspace_member.workspace, "globex.org")
    taken = admin_reauthed.post(CLAIM, {"name": "globex.org"}, **HTMX)
    assert errors.DOMAIN_TAKEN in taken.content.decode()
    admin_reauthed.post(CLAIM, {"name": "acme.org"}, **HTMX)
    again = admin_reauthed.post(CLAIM, {"name": "ACME.org"}, **HTMX)
    assert errors.DOMAIN_ALREADY_CLAIMED in again.content.decode()
    assert Domain.objects.filter(workspace=workspace).count() == 1


def test_remove_needs_reauthentication_then_removes(admin_client_ws, workspace) -> None:
    domain = verified_domain(workspace)
    response = admin_client_ws.post(f"{URL}{domain.pk}/remove/", {"confirmed": "1"}, **HTMX)
    assert "HX-Redirect" in response.headers and Domain.objects.filter(pk=domain.pk).exists()
    reauthenticate(admin_client_ws)
    response = admin_client_ws.post(f"{URL}{domain.pk}/remove/", {"confirmed": "1"}, **HTMX)
    assert (
        response.status_code == 200
        and response.content == b""
        and "removed" in response.headers["HX-Trigger"]
    )
    assert not Domain.objects.filter(pk=domain.pk).exists()
    assert AuditEvent.objects.filter(workspace=workspace, action="domain.removed").exists()


# --- Joining by domain -------------------------------------------------------------------


def test_autojoin_after_verification(
    workspace, owner, client, django_capture_on_commit_callbacks
) -> None:
    verified_domain(workspace)
    workspace.join_mode = JoinMode.AUTO
    workspace.default_role = Role.BILLING
    workspace.save()
    user = UserFactory(email="newbie@acme.org")
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert Membership.objects.get(workspace=workspace, user=user).role == Role.BILLING


def test_request_to_join_then_approve(admin_client_ws, workspace, client) -> None:
    domain = verified_domain(workspace)
    user = UserFactory(email="asker@acme.org")
    Client().post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    jr = JoinRequest.objects.get(workspace=workspace, user=user)
    assert jr.domain == domain and jr.status == JoinRequestStatus.PENDING
    page = admin_client_ws.get(URL).content.decode()
    assert 'id="join-requests"' in page and "asker@acme.org" in page
    response = admin_client_ws.post(f"{URL}requests/{jr.pk}/approve/", **HTMX)
    assert response.status_code == 200 and "Approved" in response.content.decode()
    assert Membership.objects.get(workspace=workspace, user=user).role == workspace.default_role
    again = admin_client_ws.post(f"{URL}requests/{jr.pk}/decline/", {"confirmed": "1"}, **HTMX)
    assert "already been decided" in again.headers["HX-Trigger"]


def test_decline_without_javascript(admin_client_ws, workspace) -> None:
    jr = join_request(workspace, verified_domain(workspace))
    response = admin_client_ws.post(f"{URL}requests/{jr.pk}/decline/", {"confirmed": "1"})
    assert response.status_code == 302 and response["Location"] == f"{URL}#join-requests"
    jr.refresh_from_db()
    assert jr.status == JoinRequestStatus.DECLINED
    assert not Membership.objects.filter(workspace=workspace, user=jr.user).exists()
    # A declined user is not asked again.
    assert services.domain_autojoin(user=jr.user) == []


# --- Access and performance ----------------------------------------------------------------


def test_every_url_is_404_for_another_workspace(client, workspace, other_workspace_member) -> None:
    domain = DomainFactory(workspace=workspace)
    jr = join_request(workspace, domain)
    client.force_login(other_workspace_member.user)
    reauthenticate(client)
    assert client.get(URL).status_code == 404
    assert client.post(CLAIM, {"name": "acme.org"}).status_code == 404
    for path in (
        f"{domain.pk}/check/",
        f"{domain.pk}/remove/",
        f"requests/{jr.pk}/approve/",
        f"requests/{jr.pk}/decline/",
    ):
        assert client.post(URL + path, **HTMX).status_code == 404
    # Foreign ids through one's own workspace URL are 404 too.
    foreign_domain = DomainFactory(workspace=other_workspace_member.workspace)
    foreign_jr = join_request(other_workspace_member.workspace, foreign_domain)
    owner = MembershipFactory(workspace=workspace, role=Role.OWNER)
    client.force_login(owner.user)
    reauthenticate(client)
    for path in (
        f"{foreign_domain.pk}/check/",
        f"{foreign_domain.pk}/remove/",
        f"requests/{foreign_jr.pk}/approve/",
        f"requests/{foreign_jr.pk}/decline/",
    ):
        assert client.post(URL + path, **HTMX).status_code == 404
    assert Domain.objects.filter(pk=foreign_domain.pk).exists()
    foreign_jr.refresh_from_db()
    assert foreign_jr.status == JoinRequestStatus.PENDING


def test_signed_out_is_sent_to_sign_in(client, workspace) -> None:
    domain = DomainFactory(workspace=workspace)
    for response in (
        client.get(URL),
        client.post(CLAIM, {"name": "x.org"}),
        client.post(f"{URL}{domain.pk}/check/"),
    ):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_plain_member_cannot_manage_domains(member_client, workspace) -> None:
    jr = join_request(workspace)
    assert member_client.get(URL).status_code == 403
    assert member_client.post(f"{URL}requests/{jr.pk}/approve/").status_code == 403
    assert not Membership.objects.filter(user=jr.user).exists()


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_page_queries_are_constant(admin_client_ws, workspace) -> None:
    admin_client_ws.get(URL)  # the first request of a session also records the session

    def make(n: int, start: int) -> None:
        for i in range(start, start + n):
            d = DomainFactory(workspace=workspace, name=f"d{i}.org", created_by=None)
            join_request(workspace, d)

    make(5, 0)
    small = _count(admin_client_ws, URL)
    make(25, 5)
    large = _count(admin_client_ws, URL)
    assert small == large
    assert _count(admin_client_ws, URL + "?jr_page=2") == small


def test_htmx_refresh_returns_only_the_asked_list(admin_client_ws, workspace) -> None:
    join_request(workspace, verified_domain(workspace))
    requests = admin_client_ws.get(URL, HTTP_HX_TARGET="join-requests", **HTMX).content.decode()
    assert requests.lstrip().startswith('<div id="join-requests"')
    domains = admin_client_ws.get(URL, HTTP_HX_TARGET="domain-list", **HTMX).content.decode()
    assert domains.lstrip().startswith('<div id="domain-list"')
