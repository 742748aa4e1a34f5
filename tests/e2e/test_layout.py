"""The console at a laptop's width (1280 x 800) in Chromium: wide tables stay usable, and
destructive actions ask in a dialog that names what will be lost (R-UI-1)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.actor import Actor
from accounts.models import Membership
from accounts.roles import Role
from billing.models import Plan
from billing.services import subscription_start
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, GroupFactory, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1280, 800


def make_workspace() -> tuple[Membership, list[Membership]]:
    """A workspace whose members have long names, long addresses and many groups: the
    table is as wide as it gets in real use."""
    ws = WorkspaceFactory(name="Acme", slug="acme")
    subscription_start(actor=Actor.system(), workspace=ws, plan=Plan.objects.get(slug="team"))
    owner = MembershipFactory(
        workspace=ws, role=Role.OWNER, user=UserFactory(email="ada@acme.test", name="Ada Admin")
    )
    groups = [
        GroupFactory(workspace=ws, name=name)
        for name in ("Research and development", "Customer success", "Contractors", "Legal")
    ]
    members = []
    for i in range(6):
        m = MembershipFactory(
            workspace=ws,
            role=Role.MEMBER,
            user=UserFactory(
                email=f"maximilian.alexander.vonhabsburg-lothringen.{i}@subsidiary.acme-holdings.test",
                name=f"Maximilian Alexander von Habsburg-Lothringen {i}",
            ),
        )
        for g in groups:
            g.members.add(m)
        members.append(m)
    return owner, members


def within_viewport(page: Page, selector_box: dict[str, float] | None) -> bool:
    assert selector_box is not None
    return (
        selector_box["x"] >= 0
        and selector_box["y"] >= 0
        and selector_box["x"] + selector_box["width"] <= WIDTH
        and selector_box["y"] + selector_box["height"] <= HEIGHT
    )


def test_members_row_menu_fits_and_remove_asks_in_a_dialog(page: Page) -> None:
    owner, members = make_workspace()
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    sign_in(page, owner.user.email, PASSWORD, next_path="/w/acme/members/")
    expect(page.get_by_role("heading", name="Members", level=1)).to_be_visible()
    # The page does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH

    # The first row (the newest member): its row actions are in the last column.
    target = members[-1]
    row = page.locator(f"#member-{target.pk}")
    menu = row.locator("details.row-menu")
    summary = menu.locator("summary")
    expect(summary).to_be_visible()
    assert within_viewport(page, summary.bounding_box())
    summary.click()
    remove = menu.get_by_role("link", name=re.compile(r"^Remove…"))
    expect(remove).to_be_visible()
    body = menu.locator(".row-menu-body")
    assert within_viewport(page, body.bounding_box())
    for control in (menu.get_by_role("button", name="Save role"), remove):
        assert within_viewport(page, control.bounding_box())

    # Remove asks in a dialog naming who loses what; Cancel keeps the member.
    remove.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Remove {target.user.name} from Acme?")
    expect(dialog).to_contain_text("Their groups: Contractors, Customer success, Legal")
    assert within_viewport(page, dialog.bounding_box())
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert Membership.objects.filter(pk=target.pk).exists()

    summary.click()
    remove.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name=f"Remove {target.user.email}").click()
    expect(page.locator(f"#member-{target.pk}")).to_have_count(0)
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text(f"{target.user.email} was removed from Acme.")
    assert not Membership.objects.filter(pk=target.pk).exists()


def test_features_matrix_keeps_its_first_column_when_scrolled(page: Page) -> None:
    owner, members = make_workspace()
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    sign_in(page, owner.user.email, PASSWORD, next_path="/w/acme/features/")
    expect(page.get_by_role("heading", name="Features", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH

    wrap = page.locator("#members-matrix .table-wrap")
    wrap.scroll_into_view_if_needed()
    scrollable = wrap.evaluate("el => el.scrollWidth - el.clientWidth")
    assert scrollable > 0, "the matrix is expected to be wider than the page here"
    wrap.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    page.wait_for_function("el => el.scrollLeft > 0", arg=wrap.element_handle(), timeout=5_000)

    target = members[-1]
    name_cell = page.locator(f"#members-matrix tr#member-{target.pk} th[scope=row]")
    # Bring the row into view by scrolling the page up and down only.
    name_cell.evaluate("el => window.scrollBy(0, el.getBoundingClientRect().top - 300)")
    assert wrap.evaluate("el => el.scrollLeft") == scrollable
    box = wrap.bounding_box()
    assert box is not None
    header = page.locator("#members-matrix thead th").first
    for cell in (name_cell, header):
        cell_box = cell.bounding_box()
        assert cell_box is not None
        # Still at the left edge of the scrolled table, not scrolled away with the rest.
        assert box["x"] - 1 <= cell_box["x"] <= box["x"] + 2, (cell_box, box)
    expect(name_cell).to_contain_text(target.user.name)
    # Painted over the scrolled cells, not under them: the name is what the eye finds there.
    top = page.evaluate(
        """([el]) => { const r = el.getBoundingClientRect();
             const hit = document.elementFromPoint(r.x + 20, r.y + r.height / 2);
             return el.contains(hit); }""",
        [name_cell.element_handle()],
    )
    assert top, "the member's name is covered by the scrolled cells"
    # A name wraps between words, never inside one.
    words = target.user.name.split()
    assert name_cell.locator(".member-name").evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    assert all(w in name_cell.inner_text() for w in words)
