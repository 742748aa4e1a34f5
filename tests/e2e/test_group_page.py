"""A group's page in Chromium (R-WS-7): the member picker finds people as the admin
types, and the count, the heading and the tab's title follow each change."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import Role
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, GroupFactory, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_pick_a_member_then_rename_and_the_page_follows(page: Page) -> None:
    ws = WorkspaceFactory(name="Acme", slug="acme")
    owner = MembershipFactory(
        workspace=ws, role=Role.OWNER, user=UserFactory(email="ada@acme.test", name="Ada Admin")
    )
    MembershipFactory(workspace=ws, user=UserFactory(email="grace@acme.test", name="Grace Hopper"))
    group = GroupFactory(workspace=ws, name="Research")

    sign_in(page, owner.user.email, PASSWORD, next_path=f"/w/acme/groups/{group.pk}/")
    expect(page).to_have_title("Research · Console")
    expect(page.get_by_role("heading", name="Research", level=1)).to_be_visible()
    summary = page.locator("#group-summary")
    expect(summary).to_contain_text("0 members")

    page.get_by_label("Find members by name or email").fill("hopp")
    results = page.locator("#member-picker-results")
    expect(results).to_contain_text("Grace Hopper")
    results.get_by_role("button", name=re.compile("^Add grace@acme.test")).click()

    expect(page.locator("#toasts")).to_contain_text("grace@acme.test added to Research.")
    expect(page.get_by_role("table")).to_contain_text("grace@acme.test")
    expect(summary).to_contain_text("1 member ")
    expect(results).to_contain_text("No member outside this group matches")
    assert group.members.filter(user__email="grace@acme.test").exists()

    page.get_by_label(re.compile("^Group name")).fill("Research and development")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", name="Research and development", level=1)).to_be_visible()
    expect(page).to_have_title("Research and development · Console")
    expect(page.locator("#group-summary")).to_contain_text("1 member ")
