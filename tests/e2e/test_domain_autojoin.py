"""Joining by email domain in Chromium (R-WS-4, R-ACC-1): a workspace has verified its
domain; a new person with an address on it signs up and verifies it. In auto-join mode
they land in the workspace at once; in request mode an admin approves them on the
domains page first."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import JoinMode, JoinRequest, JoinRequestStatus, Membership, Workspace
from accounts.roles import Role
from tests.e2e.conftest import (
    NewPage,
    confirm_email_from_link,
    field_label,
    first_link,
    last_email,
    sign_in,
    sign_up,
)
from tests.factories import (
    PASSWORD,
    DomainFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEWCOMER = "nina@acme-corp.test"
NEWCOMER_PASSWORD = "violet-harbour-lantern-93"


def make_workspace(join_mode: str) -> tuple[Workspace, Membership]:
    ws = WorkspaceFactory(name="Acme", slug="acme", join_mode=join_mode, default_role=Role.MEMBER)
    admin = MembershipFactory(
        workspace=ws, role=Role.OWNER, user=UserFactory(email="owner@acme-corp.test")
    )
    DomainFactory(workspace=ws, name="acme-corp.test", verified_at=timezone.now())
    return ws, admin


def sign_up_and_verify(page: Page) -> None:
    """A stranger signs up with an address on the domain and confirms it from the email."""
    page.goto("/accounts/signup/")
    page.get_by_label(field_label("Email")).fill(NEWCOMER)
    sign_up(page, password=NEWCOMER_PASSWORD, name="Nina Newcomer")
    link = first_link(last_email(to=NEWCOMER))
    assert "/accounts/confirm-email/" in link
    confirm_email_from_link(page, link)


def test_verified_user_of_the_domain_joins_automatically(page: Page) -> None:
    make_workspace(JoinMode.AUTO)

    sign_up_and_verify(page)

    expect(page).to_have_url(re.compile(r"/w/acme/$"))
    expect(page.get_by_role("heading", name="Acme")).to_be_visible()
    membership = Membership.objects.get(workspace__slug="acme", user__email=NEWCOMER)
    assert membership.role == Role.MEMBER


def test_admin_approves_the_request_to_join_on_the_domains_page(
    page: Page, new_page: NewPage
) -> None:
    _, admin = make_workspace(JoinMode.REQUEST)
    newcomer = new_page("newcomer")

    sign_up_and_verify(newcomer)

    # Not in yet: the newcomer sees that an admin will decide.
    expect(newcomer.get_by_text(re.compile("You asked to join"))).to_contain_text("Acme")
    assert not Membership.objects.filter(workspace__slug="acme", user__email=NEWCOMER).exists()
    assert JoinRequest.objects.get(user__email=NEWCOMER).status == JoinRequestStatus.PENDING

    # The admin approves on the domains page.
    sign_in(page, admin.user.email, PASSWORD)
    page.goto("/w/acme/domains/")
    row = page.get_by_role("row").filter(has_text=NEWCOMER)
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("row").filter(has_text=NEWCOMER)).to_contain_text("Approved")
    assert JoinRequest.objects.get(user__email=NEWCOMER).status == JoinRequestStatus.APPROVED

    # The newcomer is a member now.
    newcomer.goto("/")
    expect(newcomer).to_have_url(re.compile(r"/w/acme/$"))
    assert Membership.objects.get(workspace__slug="acme", user__email=NEWCOMER).role == Role.MEMBER
