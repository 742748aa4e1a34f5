"""The invitation journey in Chromium (R-WS-3, R-ACC-1, R-ACC-2, R-ACC-6, R-WS-5, R-WS-8,
R-UI-2): an admin invites an address; the invitee opens the email's link signed out,
creates an account, verifies the address from the second email and lands in the
workspace; the admin changes the newcomer's role twice, confirming their password the
first time only; the audit log shows the events."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Membership
from accounts.roles import Role
from tests.e2e.conftest import (
    NewPage,
    confirm_email_from_link,
    field_label,
    first_link,
    last_email,
    sign_in,
    sign_up,
    submit_sensitive,
)
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

INVITEE = "newcomer@example.test"
INVITEE_PASSWORD = "violet-harbour-lantern-93"


@pytest.fixture
def acme() -> Membership:
    ws = WorkspaceFactory(name="Acme", slug="acme")
    MembershipFactory(workspace=ws, role=Role.OWNER, user=UserFactory(email="owner@acme.test"))
    return MembershipFactory(
        workspace=ws, role=Role.ADMIN, user=UserFactory(email="admin@acme.test", name="Ada Admin")
    )


def test_invitee_signs_up_from_the_email_and_admin_changes_their_role(
    acme: Membership, page: Page, new_page: NewPage
) -> None:
    # The admin signs in through the real sign-in page and invites an address.
    sign_in(page, acme.user.email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/w/acme/"))
    page.goto("/w/acme/invitations/")
    page.get_by_label("Email addresses").fill(INVITEE)
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_role("table")).to_contain_text(INVITEE)

    # The invitee opens the link from the email in a browser of their own.
    invitation_link = first_link(last_email(to=INVITEE))
    assert "/invitations/" in invitation_link
    invitee = new_page("invitee")
    invitee.goto(invitation_link)
    expect(invitee.get_by_role("heading", name="Join Acme")).to_be_visible()
    invitee.get_by_role("link", name="Create an account").click()

    # Sign-up: the invited address is filled in already.
    expect(invitee.get_by_label(field_label("Email"))).to_have_value(INVITEE)
    sign_up(invitee, password=INVITEE_PASSWORD, name="Nina Newcomer")

    # Verification from the second email, then back to the invitation and into Acme.
    verification = last_email(to=INVITEE)
    assert verification.subject != "", verification
    verify_link = first_link(verification)
    assert "/accounts/confirm-email/" in verify_link
    confirm_email_from_link(invitee, verify_link)
    # Verified and signed in, the invitee is back on the invitation and accepts it.
    expect(invitee).to_have_url(re.compile(r"/invitations/"))
    invitee.get_by_role("button", name="Join Acme").click()
    expect(invitee).to_have_url(re.compile(r"/w/acme/$"))
    expect(invitee.get_by_role("heading", name="Acme")).to_be_visible()
    newcomer = Membership.objects.get(workspace__slug="acme", user__email=INVITEE)
    assert newcomer.role == Role.MEMBER

    # The admin makes the newcomer an admin on the members page.
    page.goto("/w/acme/members/")

    def save_role(label: str) -> Callable[[], None]:
        def save() -> None:
            row = page.get_by_role("row").filter(has_text=INVITEE)
            # The row's actions are in its menu.
            menu = row.locator("details.row-menu")
            if not menu.evaluate("details => details.open"):
                menu.locator("summary").click()
            row.get_by_label(f"Role of {INVITEE}").select_option(label=label)
            row.get_by_role("button", name="Save role").click()

        return save

    role_url = f"/members/{newcomer.pk}/role/"
    badge = page.get_by_role("row").filter(has_text=INVITEE).locator(".badge").first
    # Changing a role asks the admin to confirm their password first: signing in is not
    # a confirmation.
    submit_sensitive(page, save_role("Billing"), role_url, PASSWORD, reauth=True)
    expect(badge).to_have_text("Billing")
    # Confirmed a moment ago: the next change is not asked again.
    submit_sensitive(page, save_role("Admin"), role_url, PASSWORD, reauth=False)
    expect(badge).to_have_text("Admin")
    newcomer.refresh_from_db()
    assert newcomer.role == Role.ADMIN

    # Both events are in the audit log.
    page.goto("/w/acme/audit/")
    log = page.get_by_role("table")
    expect(log).to_contain_text(f"{INVITEE} accepted their invitation.")
    expect(log).to_contain_text(f"{INVITEE} joined as Member by invitation")
    expect(log).to_contain_text(f"changed the role of {INVITEE} from Member to Billing.")
    expect(log).to_contain_text(f"changed the role of {INVITEE} from Billing to Admin.")
