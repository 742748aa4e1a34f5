"""Libraries in Chromium (R-CON-5): the owner shares a library with a group through the
share dialog's search; a member of the group sees it, a member outside does not."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.actor import Actor
from connectors import libraries
from tests.e2e.conftest import NewPage, sign_in, team_with_a_group
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_share_with_a_group_through_the_dialog(page: Page, new_page: NewPage) -> None:
    team = team_with_a_group()
    owner, grace, alan = team.owner, team.grace, team.alan
    library = libraries.library_create(
        actor=Actor.member(owner), workspace=team.workspace, name="Handbooks", description=""
    )
    path = f"/w/acme/libraries/{library.pk}/"

    sign_in(page, owner.user.email, PASSWORD, next_path=path)
    page.get_by_role("link", name="Share…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Share Handbooks")).to_be_visible()
    expect(dialog).to_contain_text("Everyone in the workspace")
    # htmx focuses the search once it has wired it: typing earlier would search nothing.
    search = dialog.get_by_label("Find a group or a member")
    expect(search).to_be_focused()
    search.fill("Resea")
    dialog.get_by_label("Role for Research").select_option("editor")
    dialog.get_by_role("button", name=re.compile("^Share with Research")).click()
    expect(page.locator("#library-sharing")).to_contain_text("Research")
    # The dialog's matches refresh with the role held now.
    expect(
        dialog.get_by_role("button", name=re.compile("^Change role with Research"))
    ).to_be_visible()
    assert library.grants.get().role == "editor"

    member = new_page("grace")
    sign_in(member, grace.user.email, PASSWORD, next_path="/w/acme/libraries/")
    expect(member.get_by_role("link", name="Handbooks")).to_be_visible()

    outsider = new_page("alan")
    sign_in(outsider, alan.user.email, PASSWORD, next_path="/w/acme/libraries/")
    expect(outsider.get_by_role("link", name="Handbooks")).to_have_count(0)
    answer = outsider.goto(path)
    assert answer is not None and answer.status == 404
