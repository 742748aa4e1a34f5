"""A Media Customer's journey in Chromium (R-MEDIA-1, R-MEDIA-3, R-MEDIA-4, R-MEDIA-5,
R-UI-2): a user creates a workspace and declares it a Media Customer; its compliance page
says so and takes an editorial-use request. Then the gateway reports a use of verified
news: the workspace is suspended, the owner follows the email's link and appeals, and a
staff member opens the appeal from their email and grants it in the admin."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Membership, Workspace
from compliance import services
from compliance.models import Appeal, AppealStatus, EditorialAuthorization
from compliance.selectors import is_media_customer
from tests.compliance.conftest import USED_AT
from tests.e2e.conftest import NewPage, field_label, first_link, last_email, sign_in
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OWNER = "olivia@ledger.test"
STAFF = "sam@console.test"


def test_media_customer_declares_requests_is_suspended_and_appeals(
    page: Page, new_page: NewPage
) -> None:
    UserFactory(email=OWNER, name="Olivia Owner")
    UserFactory(email=STAFF, name="Sam Staff", is_staff=True, is_superuser=True)

    # Creating the workspace asks the question, with the definition from the terms.
    sign_in(page, OWNER, PASSWORD, next_path="/workspaces/new/")
    page.get_by_label(field_label("Workspace name")).fill("Daily Ledger")
    page.get_by_label(field_label("Address")).fill("ledger")
    question = page.get_by_role(
        "group", name=re.compile("disseminate information for editorial purposes")
    )
    expect(question).to_contain_text("A Media Customer is any entity")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_text("Answer yes or no")).to_be_visible()
    question.get_by_label("Yes").check()
    page.get_by_role("button", name="Create workspace").click()
    page.wait_for_url(re.compile(r"/w/ledger/$"))
    ws = Workspace.objects.get(slug="ledger")
    assert is_media_customer(ws)

    # The compliance page shows the status and takes an editorial-use request.
    page.get_by_role("link", name="Media and compliance").click()
    expect(page.get_by_role("heading", name="Media Customer status")).to_be_visible()
    expect(page.locator("#media-section .badge").first).to_have_text("Media Customer")
    page.get_by_label(field_label("Why the workspace needs verified news")).fill(
        "Our desk checks wire stories."
    )
    page.get_by_label(field_label("Who would use it")).fill("The fact-checking desk")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("A request is waiting for staff")).to_be_visible()
    assert EditorialAuthorization.objects.filter(workspace=ws).count() == 1

    # The gateway reports a use of verified news: the workspace is suspended at once.
    owner = Membership.objects.get(workspace=ws, user__email=OWNER)
    services.news_use_report(workspace=ws, membership=owner, event_id="evt-1", occurred_at=USED_AT)
    link = first_link(last_email(to=OWNER))
    assert link.endswith("/w/ledger/compliance/appeal/")

    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("This workspace is suspended.")
    expect(page.locator(".suspension-reason")).to_contain_text(
        "Verified news used by a Media Customer"
    )
    page.get_by_label(field_label("Your appeal")).fill(
        "A test prompt by a new hire; news is now off for everyone."
    )
    page.get_by_role("button", name="File the appeal").click()
    expect(page.get_by_text("Your appeal is waiting")).to_be_visible()
    appeal = Appeal.objects.get(workspace=ws)

    # Staff open the appeal from their email, sign in on the way, and grant it.
    staff_page = new_page("staff")
    admin_link = first_link(last_email(to=STAFF))
    assert admin_link.endswith(f"/admin/compliance/appeal/{appeal.pk}/change/")
    staff_page.goto(admin_link)
    staff_page.get_by_label(field_label("Email")).fill(STAFF)
    staff_page.get_by_label(field_label("Password")).fill(PASSWORD)
    staff_page.get_by_role("button", name="Sign in", exact=True).click()
    staff_page.wait_for_url(re.compile(rf"/admin/compliance/appeal/{appeal.pk}/change/"))
    expect(staff_page.get_by_text("A test prompt by a new hire")).to_be_visible()
    staff_page.get_by_label("Grant: lift the suspension").check()
    staff_page.get_by_label("Note to the owners").fill("Granted: keep news off.")
    staff_page.get_by_role("button", name="Save", exact=True).click()
    staff_page.wait_for_url(re.compile(r"/admin/compliance/appeal/$"))

    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.GRANTED
    decision = last_email(to=OWNER)
    assert "granted" in decision.subject and "Granted: keep news off." in decision.body
    page.goto(first_link(decision))
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_text("Granted: suspension lifted")).to_be_visible()
