"""Feature controls in Chromium (R-WS-6, R-FEAT-1, R-FEAT-2): an admin denies Web search to
a group on the Features page; a member of that group signs in and sees on My features
that Web search is denied, and why, then switches another feature off for themselves."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.actor import Actor
from accounts.models import Membership
from accounts.roles import Role
from billing.models import Plan
from billing.services import subscription_start
from features.models import FeatureOptOut, FeatureRule
from tests.e2e.conftest import NewPage, sign_in
from tests.factories import PASSWORD, GroupFactory, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def make_workspace() -> tuple[Membership, Membership]:
    ws = WorkspaceFactory(name="Acme", slug="acme")
    subscription_start(actor=Actor.system(), workspace=ws, plan=Plan.objects.get(slug="team"))
    admin = MembershipFactory(
        workspace=ws, role=Role.ADMIN, user=UserFactory(email="ada@acme.test", name="Ada Admin")
    )
    member = MembershipFactory(
        workspace=ws, role=Role.MEMBER, user=UserFactory(email="cody@acme.test", name="Cody")
    )
    GroupFactory(workspace=ws, name="Contractors").members.add(member)
    return admin, member


def test_admin_denies_a_feature_to_a_group_and_the_member_sees_why(
    page: Page, new_page: NewPage
) -> None:
    admin, member = make_workspace()

    # The admin opens Features from the navigation and denies Web search to Contractors.
    sign_in(page, admin.user.email, PASSWORD, next_path="/w/acme/")
    page.get_by_role("navigation", name="Workspace").get_by_role(
        "link", name="Features", exact=True
    ).click()
    expect(page.get_by_role("heading", name="Features", level=1)).to_be_visible()
    cell = page.get_by_label("Web search for the group Contractors")
    expect(cell).to_have_value("inherit")
    cell.select_option("deny")
    expect(page.locator("#toasts")).to_contain_text("Web search: denied for the group Contractors.")
    expect(page.get_by_label("Web search for the group Contractors")).to_have_value("deny")
    rule = FeatureRule.objects.get()
    assert (rule.feature, rule.effect, rule.group.name) == ("web_search", "deny", "Contractors")

    # The members section follows: Cody's Web search is now denied, and the "why"
    # popover shows the chain down to the group's rule.
    row = page.locator(f"#member-{member.pk}")
    cell = row.get_by_role("cell").filter(has=page.get_by_label("Web search for cody@acme.test"))
    cell.get_by_role("button", name="Denied: why?").click()
    popover = cell.locator("[popover]")
    expect(popover).to_be_visible()
    expect(popover).to_contain_text("Group: Contractors")
    expect(popover).to_contain_text("Turned off for the group Contractors by an admin.")
    popover.get_by_role("button", name="Close").click()
    expect(popover).to_be_hidden()

    # Cody signs in and opens My features.
    cody = new_page("member")
    sign_in(cody, member.user.email, PASSWORD, next_path="/w/acme/")
    nav = cody.get_by_role("navigation", name="Workspace")
    expect(nav.get_by_role("link", name="Features", exact=True)).to_have_count(0)
    nav.get_by_role("link", name="My features").click()
    web = cody.get_by_role("row").filter(
        has=cody.get_by_role("rowheader", name=re.compile("^Web search"))
    )
    expect(web).to_contain_text("Denied")
    expect(web).to_contain_text("Turned off for the group Contractors by an admin.")
    expect(web.get_by_role("switch")).to_have_count(0)

    # Where the admins leave the choice, Cody switches Canvas off for himself.
    canvas = cody.get_by_role("switch", name="Canvas")
    expect(canvas).to_have_attribute("aria-checked", "true")
    canvas.click()
    expect(cody.locator("#toasts")).to_contain_text("Canvas switched off.")
    expect(cody.get_by_role("switch", name="Canvas")).to_have_attribute("aria-checked", "false")
    assert FeatureOptOut.objects.filter(membership=member, feature="canvas").exists()


def test_members_load_as_they_scroll_and_a_late_cell_saves(page: Page) -> None:
    admin, member = make_workspace()
    made = [MembershipFactory(workspace=admin.workspace) for _ in range(23)]
    oldest = made[0]  # the page lists the newest first: the oldest is in the last block
    sign_in(page, admin.user.email, PASSWORD, next_path="/w/acme/features/")
    page.goto("/w/acme/features/")
    last = page.locator("#members-block-3")
    # Named at once, its cells come as the block scrolls into view.
    expect(last.get_by_role("rowheader", name=re.compile(oldest.user.email))).to_be_visible()
    expect(last.get_by_role("combobox")).to_have_count(0)
    last.scroll_into_view_if_needed()
    cell = page.get_by_label(f"Canvas for {oldest.user.email}")
    expect(cell).to_have_value("inherit")
    cell.select_option("deny")
    expect(page.locator("#toasts")).to_contain_text(f"Canvas: denied for {oldest.user.email}.")
    expect(page.get_by_label(f"Canvas for {oldest.user.email}")).to_have_value("deny")
    rule = FeatureRule.objects.get()
    assert (rule.membership, rule.feature, rule.effect) == (oldest, "canvas", "deny")


def test_without_javascript_a_table_saves_its_changed_cells(
    browser: Browser, live_server: Any, e2e_settings: object
) -> None:
    admin, member = make_workspace()
    for _ in range(12):
        MembershipFactory(workspace=admin.workspace)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, admin.user.email, PASSWORD, next_path="/w/acme/features/")
        page.goto("/w/acme/features/")
        # Cody joined early: his row is in the second block, drawn through its link.
        expect(page.get_by_label("Canvas for cody@acme.test")).to_have_count(0)
        page.get_by_role("link", name=re.compile("Show the rules of these")).click()
        expect(page).to_have_url(re.compile(r"[?&]block=2"))
        page.get_by_label("Canvas for cody@acme.test").select_option("deny")
        page.get_by_label("Memory for cody@acme.test").select_option("allow")
        page.get_by_role("button", name="Save the changes to the members").click()
        expect(page).to_have_url(re.compile(rf"block=2#member-{member.pk}$"))
        expect(page.locator("#toasts")).to_contain_text("Canvas: denied for cody@acme.test.")
        expect(page.locator("#toasts")).to_contain_text("Memory: allowed for cody@acme.test.")
        expect(page.get_by_label("Canvas for cody@acme.test")).to_have_value("deny")
        rules = {(r.feature, r.effect) for r in FeatureRule.objects.filter(membership=member)}
        assert rules == {("canvas", "deny"), ("memory", "allow")}

        page.get_by_label("Agents for the group Contractors").select_option("deny")
        page.get_by_role("button", name="Save the changes to the groups").click()
        expect(page.locator("#toasts")).to_contain_text("Agents: denied for the group Contractors.")
        assert FeatureRule.objects.get(group__name="Contractors").effect == "deny"
    finally:
        context.close()
