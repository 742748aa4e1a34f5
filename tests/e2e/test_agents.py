"""Agents in Chromium (R-AGT-1 to R-AGT-6): an admin builds an agent and restricts it to a
group; a member of the group sees it and its configuration, a member outside does not;
the owner deletes it and the member's list no longer has it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from agents.models import Agent
from tests.e2e.conftest import NewPage, field_label, sign_in, team_with_a_group
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_build_restrict_to_a_group_use_and_delete(page: Page, new_page: NewPage) -> None:
    team = team_with_a_group()
    owner, grace, alan, research = team.owner, team.grace, team.alan, team.research

    sign_in(page, owner.user.email, PASSWORD, next_path="/w/acme/agents/new/")
    page.get_by_label(field_label("Name")).fill("Paper scout")
    page.get_by_label(field_label("Model")).select_option(index=1)
    page.get_by_label(field_label("Instructions")).fill("Find three recent papers on the topic.")
    page.get_by_label("Web search").check()
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("heading", name="Paper scout", level=2)).to_be_visible()
    agent = Agent.objects.get(name="Paper scout")

    # Restricted, then shared with the Research group.
    page.get_by_label("Visibility").select_option("restricted")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("#agent-sharing")).to_contain_text("Visible to:")
    page.get_by_role("link", name="Share…").click()
    dialog = page.get_by_role("dialog")
    # htmx focuses the search once it has wired it: typing earlier would search nothing.
    search = dialog.get_by_label("Find a group or a member")
    expect(search).to_be_focused()
    search.fill("Resea")
    dialog.get_by_role("button", name=re.compile("^Share with Research")).click()
    expect(page.locator("#agent-sharing")).to_contain_text("Research")
    agent.refresh_from_db()
    assert agent.visibility == "restricted"
    assert agent.grants.filter(group=research).exists()

    member = new_page("grace")
    sign_in(member, grace.user.email, PASSWORD, next_path="/w/acme/agents/")
    expect(member.get_by_role("link", name="Paper scout")).to_be_visible()
    member.get_by_role("link", name="Paper scout").click()
    # Its configuration as the platform serves it to her: the tool, and the instructions.
    expect(member.locator("dl.facts").first).to_contain_text("web_search")
    member.get_by_text("Instructions", exact=True).first.click()
    expect(member.get_by_text("Find three recent papers on the topic.").first).to_be_visible()

    outsider = new_page("alan")
    sign_in(outsider, alan.user.email, PASSWORD, next_path="/w/acme/agents/")
    expect(outsider.get_by_role("link", name="Paper scout")).to_have_count(0)
    answer = outsider.goto(f"/w/acme/agents/{agent.pk}/")
    assert answer is not None and answer.status == 404

    page.goto(f"/w/acme/agents/{agent.pk}/")
    page.get_by_role("link", name=re.compile("^Delete")).click()
    confirm = page.get_by_role("dialog")
    expect(confirm).to_contain_text("Paper scout")
    confirm.get_by_role("button", name=re.compile("^Delete")).click()
    page.wait_for_load_state()
    assert not Agent.objects.filter(pk=agent.pk).exists()

    member.goto("/w/acme/agents/")
    expect(member.get_by_role("link", name="Paper scout")).to_have_count(0)
