"""The agents' pages: the list, the builder, the agent's page with its history, sharing,
"who can use it" and deletion, with and without htmx; rights and bad input beside them."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.actor import Actor
from accounts.models import Membership, Workspace
from agents import names, selectors, services
from agents.models import Agent, AgentGrant, GrantRole, Visibility
from agents.services import Config, ShareTarget
from billing.models import Plan
from catalogue.models import BaseModel, Lifecycle, ModelRef
from features.services import feature_rule_set
from tests.agents.conftest import actor
from tests.conftest import HTMX, login
from tests.factories import (
    AgentFactory,
    BaseModelFactory,
    FeatureRuleFactory,
    GroupFactory,
    LibraryFactory,
    MembershipFactory,
    SubscriptionFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db


def url(name: str, *args: object, slug: str = "acme") -> str:
    return reverse(f"ws:{name}", args=[slug, *args])


def make(m: Membership, config: Config, name: str = "Triage", **kw: Any) -> Agent:
    return services.agent_create(
        actor=actor(m), workspace=m.workspace, name=name, config=config, **kw
    )


def form_data(base: BaseModel, **over: Any) -> dict[str, Any]:
    data = {
        "name": "Helper",
        "description": "Helps.",
        "model": base.model_id,
        "instructions": "Be brief.",
        "temperature": "0.70",
        "top_p": "1.00",
        "max_tokens": "",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def other(team: Workspace) -> Membership:
    """A second plain member of acme."""
    return MembershipFactory(workspace=team, user=UserFactory(email="grace@acme.test"))


# --- The list ------------------------------------------------------------------------------


def test_the_list_shows_usable_agents_with_and_without_htmx(
    client: Client, team, owner, member, config
) -> None:
    make(owner, config, "Shared one")
    make(owner, config, "Secret", visibility=Visibility.RESTRICTED)
    login(client, member.user)
    page = client.get(url("agents"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Shared one" in body and "Secret" not in body and "<html" in body
    assert ">Agents</a>" in body  # the shell's link
    part = client.get(url("agents"), **HTMX)
    assert part.status_code == 200 and "<html" not in part.content.decode()
    assert 'id="agents-list"' in part.content.decode()


def test_a_description_is_cut_only_beyond_120_characters(
    client: Client, team, owner, config
) -> None:
    exact = make(owner, config, "Exact", description="e" * 120)
    longer = make(owner, config, "Longer", description="l" * 121)
    # A combining accent adds no character a reader sees: 120 of them, shown whole.
    accented = make(owner, config, "Accented", description="e\u0301" * 60)
    login(client, owner.user)
    body = client.get(url("agents"), {"tab": "all"}).content.decode()

    def shown(agent) -> str:
        row = re.search(rf'<tr id="agent-{agent.pk}">(.*?)</tr>', body, re.S).group(1)
        return unescape(re.search(r'<div class="help">(.*?)</div>', row).group(1))

    assert shown(exact) == "e" * 120
    assert shown(longer) == "l" * 119 + "…"
    assert shown(accented) == "\u00e9" * 60


def test_each_row_links_to_the_agent_and_shows_its_model_tools_and_access(
    client: Client, team, owner, member, config
) -> None:
    long = "Sorts incoming tickets <b>by urgency</b>. " * 10
    mine = make(member, Config(model=config.model, tools=("web_search",)), "Mine", description=long)
    shared = make(owner, config, "Shared one")
    hostile = make(owner, config, '<img src=x onerror="alert(1)"> & co')
    staff = UserFactory(is_staff=True)
    gone = make(owner, config, "Switched off")
    services.agent_disable(actor=Actor.staff(staff), agent_id=gone.pk, reason="Misleading name.")
    login(client, member.user)
    body = client.get(url("agents"), {"tab": "all"}).content.decode()
    assert f'<a href="{url("agent", mine.pk)}">Mine</a>' in body
    assert f'<a href="{url("agent", shared.pk)}">Shared one</a>' in body
    row = re.search(rf'<tr id="agent-{mine.pk}">(.*?)</tr>', body, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    # The description cut at 120 characters, escaped.
    assert "&lt;b&gt;by urgency&lt;/b&gt;" in cells[0] and "<b>" not in cells[0]
    assert unescape(re.search(r'<div class="help">(.*?)</div>', cells[0]).group(1)) == (
        long[:119] + "…"
    )
    assert cells[1] == config.model.public_id
    assert cells[2] == "Web search"
    assert cells[3] == "Whole workspace"
    assert "Manage" in cells[4]
    shared_row = re.search(rf'<tr id="agent-{shared.pk}">(.*?)</tr>', body, re.S).group(1)
    assert re.findall(r"<td>(.*?)</td>", shared_row, re.S)[2] == "none"
    assert ">Use</span>" in shared_row
    # A name is text: escaped, quotes too, never markup.
    hostile_row = re.search(rf'<tr id="agent-{hostile.pk}">(.*?)</tr>', body, re.S).group(1)
    assert "<img" not in hostile_row
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co</a>" in hostile_row
    # Disabled by staff: not usable, so not in the member's list; an admin's "all" shows
    # it with a badge, and its link, as they may still delete it.
    assert f'id="agent-{gone.pk}"' not in body
    login(client, owner.user)
    body = client.get(url("agents"), {"tab": "all"}).content.decode()
    gone_row = re.search(rf'<tr id="agent-{gone.pk}">(.*?)</tr>', body, re.S).group(1)
    assert '<span class="badge badge-danger">Disabled</span>' in gone_row
    assert f'<a href="{url("agent", gone.pk)}">Switched off</a>' in gone_row
    assert ">Manage</span>" in gone_row


def test_tabs_created_by_me_and_all_for_admins(client: Client, team, owner, member, config) -> None:
    make(owner, config, "Owners", visibility=Visibility.RESTRICTED)
    make(member, config, "Members")
    login(client, member.user)
    mine = client.get(url("agents"), {"tab": "mine"}).content.decode()
    assert "Members" in mine and "Owners" not in mine
    # A member asking for "all" gets their usable list, and no "All" tab.
    everything = client.get(url("agents"), {"tab": "all"}).content.decode()
    assert "Owners" not in everything and "?tab=all" not in everything
    login(client, owner.user)
    everything = client.get(url("agents"), {"tab": "all"}).content.decode()
    assert "Owners" in everything and "Members" in everything and "?tab=all" in everything


def test_search_and_filters_by_model_and_tool(client: Client, team, owner, config) -> None:
    other_model = BaseModelFactory(plans=["team"])
    make(owner, config, "Alpha")
    make(owner, Config(model=config.model, tools=("web_search",)), "Beta")
    make(owner, Config(model=ModelRef.of(other_model)), "Gamma")
    login(client, owner.user)

    def names_in(**params: str) -> set[str]:
        body = client.get(url("agents"), params).content.decode()
        return {n for n in ("Alpha", "Beta", "Gamma") if f">{n}</a>" in body}

    assert names_in() == {"Alpha", "Beta", "Gamma"}
    assert names_in(q="alp") == {"Alpha"}
    assert names_in(tool="web_search") == {"Beta"}
    assert names_in(model=other_model.model_id) == {"Gamma"}
    assert names_in(q="zzz") == set()
    assert "No agent matches" in client.get(url("agents"), {"q": "zzz"}).content.decode()
    # Values not offered are no filter and no error.
    assert names_in(tool="nope", model="x" * 500) == {"Alpha", "Beta", "Gamma"}


def test_empty_states(client: Client, team, member) -> None:
    login(client, member.user)
    assert "No agent is usable by you yet" in client.get(url("agents")).content.decode()
    mine = client.get(url("agents"), {"tab": "mine"}).content.decode()
    assert "You have created no agent yet" in mine


def test_searching_an_agent_you_cannot_use_says_why_within_the_workspace(
    client: Client, team, owner, member, config
) -> None:
    make(owner, config, "Payroll", visibility=Visibility.RESTRICTED)
    # Another workspace's agent of the same name says nothing.
    globex = WorkspaceFactory(slug="globex")
    SubscriptionFactory(workspace=globex, plan=Plan.objects.get(slug="team"))
    outsider = MembershipFactory(workspace=globex)
    make(outsider, config, "Ledger", visibility=Visibility.RESTRICTED)
    login(client, member.user)
    body = client.get(url("agents"), {"q": "payroll"}).content.decode()
    assert "“Payroll” is not listed: The agent is not shared with you." in body
    assert "is not listed" not in client.get(url("agents"), {"q": "Ledger"}).content.decode()
    # Only an exact name is explained: a part of it reveals nothing.
    assert "is not listed" not in client.get(url("agents"), {"q": "pay"}).content.decode()


def test_the_list_follows_a_change_of_the_members_decisions_at_once(
    client: Client, team, owner, member, config
) -> None:
    make(owner, config, "Shared one")
    login(client, member.user)
    assert ">Shared one</a>" in client.get(url("agents")).content.decode()
    feature_rule_set(
        actor=actor(owner), workspace=team, feature="agents", effect="deny", membership=member
    )
    body = client.get(url("agents")).content.decode()
    assert "Agents are off for you" in body and ">Shared one</a>" not in body
    feature_rule_set(
        actor=actor(owner), workspace=team, feature="agents", effect="inherit", membership=member
    )
    assert ">Shared one</a>" in client.get(url("agents")).content.decode()


def test_the_plan_without_sharing_says_why(client: Client, workspace, member, config) -> None:
    # The default (Free) plan has agents but no sharing.
    other = MembershipFactory(workspace=workspace)
    agent = make(member, config, "Mine")
    make(other, config, "Theirs")
    login(client, member.user)
    body = client.get(url("agents"), {"q": "Theirs"}).content.decode()
    assert "“Theirs” is not listed: The Free plan has no agent sharing" in body
    page = client.get(url("agent", agent.pk)).content.decode()
    assert "Sharing is not available" in page and url("agent_share", agent.pk) not in page


@pytest.mark.parametrize("q", ["agent", ""])
@pytest.mark.parametrize("tab", ["usable", "mine", "all"])
def test_the_list_takes_the_same_queries_at_two_sizes(
    client: Client, team, owner, member, config, tab: str, q: str
) -> None:
    group = GroupFactory(workspace=team, name="Research")
    group.members.add(owner)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            agent = make(owner, config, f"Agent {i:03}", visibility=Visibility.RESTRICTED)
            services.agent_share_grant(
                actor=actor(owner),
                agent_id=agent.pk,
                target=ShareTarget.group(group.pk),
                role=GrantRole.VIEWER,
            )

    login(client, owner.user)
    add(2, 0)
    with CaptureQueriesContext(connection) as cold:
        assert client.get(url("agents"), {"tab": tab, "q": q}).status_code == 200
    with CaptureQueriesContext(connection) as small:
        assert client.get(url("agents"), {"tab": tab, "q": q}).status_code == 200
    add(12, 2)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url("agents"), {"tab": tab, "q": q}).status_code == 200
    assert len(small) == len(large), (len(small), len(large))
    # The first request read the decision facts (the workspace's plan, rules and Media
    # Customer state, the member's groups, rules and switches) and the models the filter
    # offers; the others, their snapshots.
    assert len(cold) == len(small) + FACTS_QUERIES + 1


# What the decision facts of one member take when their snapshot is cold.
FACTS_QUERIES = 6
NEXT = re.compile(r'<a href="([^"]+)"[^>]*rel="next"')
PREVIOUS = re.compile(r'<a href="([^"]+)"[^>]*rel="prev"')
ROW = re.compile(r'<tr id="agent-(\d+)"')


def _many(team: Workspace, owner: Membership, n: int, start: int = 0) -> list[Agent]:
    return [
        AgentFactory(workspace=team, created_by=owner, name=f"Agent {i:03}")
        for i in range(start, start + n)
    ]


def _follow(client: Client, body: str, link: re.Pattern[str], **headers: Any) -> str:
    found = link.search(body)
    assert found is not None, "no such link"
    return client.get(url("agents") + unescape(found[1]), **headers).content.decode()


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_the_list_pages_by_name_with_next_and_previous(
    client: Client, team, owner, member, headers: dict[str, str]
) -> None:
    agents = _many(team, owner, 30)
    hidden = AgentFactory(
        workspace=team, created_by=owner, name="Agent 010b", visibility=Visibility.RESTRICTED
    )
    login(client, member.user)
    first = client.get(url("agents"), **headers).content.decode()
    assert [int(pk) for pk in ROW.findall(first)] == [a.pk for a in agents[:25]]
    assert PREVIOUS.search(first) is None and "Page 1 of" not in first
    second = _follow(client, first, NEXT, **headers)
    assert [int(pk) for pk in ROW.findall(second)] == [a.pk for a in agents[25:]]
    assert NEXT.search(second) is None
    assert f'id="agent-{hidden.pk}"' not in first + second
    back = _follow(client, second, PREVIOUS, **headers)
    assert ROW.findall(back) == ROW.findall(first)
    # The first page again: nothing before it.
    assert PREVIOUS.search(back) is None
    # A cursor nobody handed out is the first page, not an error.
    for junk in ("nonsense", "x" * 5000, "a\x00b", "WyJBZ2VudCAwMjAiLDFd:forged"):
        again = client.get(url("agents"), {"after": junk}, **headers)
        assert again.status_code == 200
        assert ROW.findall(again.content.decode()) == ROW.findall(first)


def test_pages_keep_the_tab_and_the_search(client: Client, team, owner, member) -> None:
    _many(team, owner, 30)
    AgentFactory(workspace=team, created_by=owner, name="Other 1")
    login(client, owner.user)
    first = client.get(url("agents"), {"tab": "all", "q": "agent"}).content.decode()
    link = NEXT.search(first)
    assert link is not None and "tab=all" in unescape(link[1]) and "q=agent" in unescape(link[1])
    second = _follow(client, first, NEXT)
    assert len(ROW.findall(second)) == 5 and "Other 1" not in second


def test_a_cursor_is_read_back_only_as_written() -> None:
    cursor = selectors.Cursor("Ünïcode – ok " + "x" * 51, 42)
    assert selectors.Cursor.decode(cursor.encode()) == cursor
    signer = signing.Signer(salt=selectors.CURSOR_SALT)
    for value in (["name"], [1, "x"], ["x" * 65, 1], ["a\x00b", 1], ["ok", 0], ["ok", True]):
        with pytest.raises(selectors.CursorInvalid):
            selectors.Cursor.decode(signer.sign_object(value))
    # Signed for another list (the service API's documents), or not signed at all.
    other = signing.Signer(salt="api.documents.cursor").sign_object(["ok", 1])
    for raw in (other, "", "x" * (selectors.CURSOR_MAX + 1), "not a cursor"):
        with pytest.raises(selectors.CursorInvalid):
            selectors.Cursor.decode(raw)
        assert selectors.Cursor.parse(raw) is None


@pytest.mark.parametrize("tab", ["usable", "mine", "all"])
def test_first_and_later_pages_take_the_same_queries_at_two_sizes(
    client: Client, team, owner, member, tab: str
) -> None:
    group = GroupFactory(workspace=team, name="Research")
    group.members.add(owner)

    def add(n: int, start: int) -> None:
        for a in _many(team, owner, n, start):
            if a.pk % 2:
                AgentGrant.objects.create(agent=a, group=group)
                AgentGrant.objects.create(agent=a, membership=member, role=GrantRole.EDITOR)

    def counts() -> tuple[int, int]:
        client.get(url("agents"), {"tab": tab})  # the snapshot of the decision facts
        with CaptureQueriesContext(connection) as first:
            body = client.get(url("agents"), {"tab": tab}).content.decode()
        assert len(ROW.findall(body)) == 25
        with CaptureQueriesContext(connection) as later:
            _follow(client, body, NEXT)
        return len(first), len(later)

    login(client, owner.user)
    add(30, 0)
    small = counts()
    add(60, 30)
    assert counts() == small


# --- The builder ---------------------------------------------------------------------------


def test_the_builder_shows_each_tool_with_why_not(client: Client, team, member, model) -> None:
    FeatureRuleFactory(membership=member, feature="web_search", effect="deny")
    login(client, member.user)
    page = client.get(url("agent_new"))
    assert page.status_code == 200 and "<html" in page.content.decode()
    body = page.content.decode()
    assert "Web search" in body and "Not usable by you" in body
    assert model.model_id in body
    part = client.get(url("agent_new"), **HTMX).content.decode()
    assert 'id="agent-form"' in part and "<html" not in part


def test_creating_makes_version_one_with_and_without_htmx(
    client: Client, team, member, model
) -> None:
    library = LibraryFactory(workspace=team)
    login(client, member.user)
    data = form_data(model, tools=["document_search"], libraries=[str(library.pk)])
    response = client.post(url("agent_new"), data)
    agent = Agent.objects.get(workspace=team, name="Helper")
    assert response.status_code == 302 and response["Location"] == url("agent", agent.pk)
    assert agent.current is not None and agent.current.number == 1
    assert agent.current.library_ids == [library.pk]
    response = client.post(url("agent_new"), form_data(model, name="Second"), **HTMX)
    assert response.status_code == 200 and "HX-Redirect" in response


def test_preview_shows_what_the_platform_would_receive_and_saves_nothing(
    client: Client, team, member, model, config
) -> None:
    FeatureRuleFactory(membership=member, feature="web_search", effect="deny")
    login(client, member.user)
    data = form_data(model, tools=["web_search", "code_interpreter"], preview="1")
    for extra in ({}, HTMX):
        response = client.post(url("agent_new"), data, **extra)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Preview: what the platform will receive" in body and "Be brief." in body
        assert "<code>code_interpreter</code>" in body
        assert "Left out for you" in body and "<code>web_search</code>:" in body
    assert not Agent.objects.exists()
    # A problem the services find shows beside its field, as on saving.
    response = client.post(
        url("agent_new"), form_data(model, tools=["document_search"], preview="1")
    )
    assert services.SEARCH_NEEDS_SOURCES in response.context["form"].errors["libraries"]
    agent = make(member, config, "Helper")
    response = client.post(
        url("agent_edit", agent.pk),
        form_data(model, instructions="New words.", preview="1"),
        **HTMX,
    )
    assert "version 2" in response.content.decode() and "New words." in response.content.decode()
    agent.refresh_from_db()
    assert agent.current is not None and agent.current.number == 1


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"name": ""}, "name", names.NAME_EMPTY),
        ({"name": "x" * 65}, "name", names.NAME_TOO_LONG),
        ({"name": "Bad\x00name"}, "name", None),
        ({"name": "Bad\u202ename"}, "name", names.NAME_INVISIBLE),
        ({"name": "Mistral helper"}, "name", None),
        ({"name": "<script>alert(1)</script>" * 3}, "name", names.NAME_TOO_LONG),
        ({"description": "d" * 501}, "description", services.DESCRIPTION_TOO_LONG),
        ({"instructions": "i" * 20_001}, "instructions", services.INSTRUCTIONS_TOO_LONG),
        ({"instructions": "ok\x00"}, "instructions", None),
        ({"temperature": "2.5"}, "temperature", services.TEMPERATURE_RANGE),
        ({"temperature": "-1"}, "temperature", services.TEMPERATURE_RANGE),
        ({"temperature": "abc"}, "temperature", services.NUMBER_INVALID),
        ({"temperature": ""}, "temperature", services.TEMPERATURE_RANGE),
        ({"top_p": "1.5"}, "top_p", services.TOP_P_RANGE),
        ({"max_tokens": "0"}, "max_tokens", None),
        ({"max_tokens": "9" * 30}, "max_tokens", None),
        ({"max_tokens": "100000"}, "max_tokens", None),
        ({"model": "not-a-model"}, "model", None),
        ({"model": ""}, "model", None),
        ({"tools": ["teleport"]}, "tools", None),
        ({"tools": ["document_search"]}, "libraries", services.SEARCH_NEEDS_SOURCES),
        ({"libraries": ["9" * 30]}, "libraries", services.FOREIGN_LIBRARY),
    ],
)
def test_bad_input_answers_the_form_with_the_error_beside_the_field(
    client: Client, team, member, model, over, field, message
) -> None:
    login(client, member.user)
    for extra in ({}, HTMX):
        response = client.post(url("agent_new"), form_data(model, **over), **extra)
        assert response.status_code == 200
        form = response.context["form"]
        assert field in form.errors, form.errors
        if message:
            assert message in form.errors[field]
        assert f'id="id_{field}_error"' in response.content.decode() or field in (
            "tools",
            "libraries",
        )
    assert not Agent.objects.filter(workspace=team).exists()


def test_a_model_not_in_the_plan_and_another_workspaces_library_are_refused(
    client: Client, team, member, model
) -> None:
    not_offered = BaseModelFactory(plans=[])
    foreign = LibraryFactory(workspace=WorkspaceFactory())
    login(client, member.user)
    response = client.post(url("agent_new"), form_data(not_offered))
    assert "model" in response.context["form"].errors
    data = form_data(model, tools=["document_search"], libraries=[str(foreign.pk)])
    response = client.post(url("agent_new"), data)
    assert services.FOREIGN_LIBRARY in response.context["form"].errors["libraries"]
    assert not Agent.objects.exists()


def test_a_duplicate_name_is_refused_beside_the_field(
    client: Client, team, member, model, config
) -> None:
    make(member, config, "Helper")
    login(client, member.user)
    response = client.post(url("agent_new"), form_data(model, name="HELPER"))
    assert response.status_code == 200
    assert names.NAME_TAKEN in response.context["form"].errors["name"]


def test_editing_saves_a_new_version_and_previews_the_served_config(
    client: Client, team, member, config, model
) -> None:
    agent = make(member, config, "Helper")
    login(client, member.user)
    page = client.get(url("agent_edit", agent.pk))
    body = page.content.decode()
    assert page.status_code == 200 and "What the platform receives" in body
    assert model.model_id in body and "Answer briefly." in body
    assert 'id="agent-form"' in client.get(url("agent_edit", agent.pk), **HTMX).content.decode()
    response = client.post(
        url("agent_edit", agent.pk), form_data(model, instructions="Be kind.", temperature="0.3")
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.current is not None and agent.current.number == 2
    assert agent.current.temperature == Decimal("0.30")
    response = client.post(url("agent_edit", agent.pk), form_data(model, temperature="9"), **HTMX)
    assert response.status_code == 200
    assert services.TEMPERATURE_RANGE in response.context["form"].errors["temperature"]


def test_viewers_cannot_edit_and_editors_can(
    client: Client, team, owner, member, config, model
) -> None:
    agent = make(owner, config, "Helper")
    login(client, member.user)
    # The whole workspace uses it: the page answers, the builder does not.
    assert client.get(url("agent", agent.pk)).status_code == 200
    assert client.get(url("agent_edit", agent.pk)).status_code == 404
    assert client.post(url("agent_edit", agent.pk), form_data(model)).status_code == 404
    assert client.get(url("agent_share", agent.pk)).status_code == 404
    assert client.get(url("agent_delete", agent.pk)).status_code == 404
    body = client.get(url("agent", agent.pk)).content.decode()
    assert url("agent_edit", agent.pk) not in body and url("agent_delete", agent.pk) not in body
    services.agent_share_grant(
        actor=actor(owner),
        agent_id=agent.pk,
        target=ShareTarget.member(member.pk),
        role=GrantRole.EDITOR,
    )
    assert client.get(url("agent_edit", agent.pk)).status_code == 200
    assert client.get(url("agent_share", agent.pk)).status_code == 200


# --- The agent's page ----------------------------------------------------------------------


def test_the_page_with_and_without_htmx_and_404_for_who_may_not_use(
    client: Client, team, owner, member, config
) -> None:
    agent = make(owner, config, "Secret", visibility=Visibility.RESTRICTED)
    login(client, owner.user)
    page = client.get(url("agent", agent.pk))
    body = page.content.decode()
    assert page.status_code == 200 and "<html" in body
    assert "Current version: 1" in body and "Who can use it" in body
    part = client.get(url("agent", agent.pk), **HTMX).content.decode()
    assert 'id="agent-main"' in part and "<html" not in part
    login(client, member.user)
    assert client.get(url("agent", agent.pk)).status_code == 404
    assert client.get(url("agent", agent.pk), **HTMX).status_code == 404
    assert client.get(url("agent", 10**9)).status_code == 404


def test_managers_reach_a_disabled_agent_to_delete_it_and_users_do_not(
    client: Client, team, owner, member, config
) -> None:
    agent = make(member, config, "Helper")
    Agent.objects.filter(pk=agent.pk).update(
        disabled_at="2026-01-01T00:00Z", disabled_reason="Reported name"
    )
    other = MembershipFactory(workspace=team)
    login(client, owner.user)
    body = client.get(url("agent", agent.pk)).content.decode()
    assert "Disabled by the platform's staff: Reported name" in body
    assert url("agent_delete", agent.pk) in body and url("agent_edit", agent.pk) not in body
    assert client.get(url("agent_edit", agent.pk)).status_code == 404
    login(client, other.user)
    assert client.get(url("agent", agent.pk)).status_code == 404


def test_another_workspaces_member_gets_404(
    client: Client, team, owner, config, other_workspace_member
) -> None:
    agent = make(owner, config, "Helper")
    login(client, other_workspace_member.user)
    assert client.get(url("agent", agent.pk)).status_code == 404
    assert client.get(url("agent", agent.pk, slug="globex")).status_code == 404


def test_history_shows_a_diff_and_restores_an_older_version(
    client: Client, team, member, config
) -> None:
    agent = make(member, config, "Helper")
    services.agent_update(
        actor=actor(member),
        agent_id=agent.pk,
        name="Helper",
        description="",
        config=Config(
            model=config.model, instructions="Answer at length.", temperature=Decimal("0.2")
        ),
    )
    login(client, member.user)
    body = client.get(url("agent", agent.pk)).content.decode()
    assert "-Answer briefly." in body and "+Answer at length." in body
    assert "Temperature: 0.70 → 0.20" in body
    response = client.post(url("agent_restore", agent.pk, 1), **HTMX)
    assert response.status_code == 200 and "toast" in response["HX-Trigger"]
    agent.refresh_from_db()
    assert agent.current is not None and agent.current.number == 3
    assert agent.current.instructions == "Answer briefly." and agent.current.restored_from == 1
    response = client.post(url("agent_restore", agent.pk, 99))
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.current is not None and agent.current.number == 3


def test_a_viewer_cannot_restore(client: Client, team, owner, member, config) -> None:
    agent = make(owner, config, "Helper")
    services.agent_update(
        actor=actor(owner),
        agent_id=agent.pk,
        name="Helper",
        description="",
        config=Config(model=config.model, instructions="Other."),
    )
    login(client, member.user)
    assert client.post(url("agent_restore", agent.pk, 1)).status_code == 404
    agent.refresh_from_db()
    assert agent.current is not None and agent.current.number == 2


# --- Sharing -------------------------------------------------------------------------------


def test_the_share_dialog_searches_members_and_groups_by_htmx(
    client: Client, team, owner, other, config
) -> None:
    agent = make(owner, config, "Helper", visibility=Visibility.RESTRICTED)
    GroupFactory(workspace=team, name="Graphics")
    GroupFactory(workspace=WorkspaceFactory(), name="Grape")  # another workspace's
    login(client, owner.user)
    page = client.get(url("agent_share", agent.pk))
    assert page.status_code == 200 and "<html" in page.content.decode()
    dialog = client.get(url("agent_share", agent.pk), **HTMX).content.decode()
    assert "<dialog" in dialog
    results = client.get(
        url("agent_share", agent.pk), {"q": "gra"}, HTTP_HX_TARGET="share-results", **HTMX
    ).content.decode()
    assert "Graphics" in results and "grace@acme.test" in results and "Grape" not in results
    assert "<dialog" not in results
    # The results' forms post to the share URL, not to the page they are shown in.
    share = url("agent_share", agent.pk)
    assert f'hx-post="{share}"' in results and 'hx-post=""' not in results


def test_sharing_with_a_group_then_revoking(client: Client, team, owner, other, config) -> None:
    agent = make(owner, config, "Helper", visibility=Visibility.RESTRICTED)
    group = GroupFactory(workspace=team, name="Research")
    group.members.add(other)
    login(client, owner.user)
    response = client.post(
        url("agent_share", agent.pk), {"target": f"group:{group.pk}", "role": "editor"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Group Research" in body and 'hx-swap-oob="true"' in body
    assert "grace@acme.test" in body  # "who can use it" refreshed beside it
    grant = AgentGrant.objects.get(agent=agent)
    assert grant.role == GrantRole.EDITOR
    assert login(Client(), other.user).get(url("agent_edit", agent.pk)).status_code == 200
    response = client.post(url("agent_unshare", agent.pk, grant.pk))
    assert response.status_code == 302 and not AgentGrant.objects.filter(agent=agent).exists()
    assert login(Client(), other.user).get(url("agent", agent.pk)).status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"target": "", "role": "viewer"},
        {"target": "group:", "role": "viewer"},
        {"target": "robot:1", "role": "viewer"},
        {"target": "group:" + "9" * 30, "role": "viewer"},
        {"target": "<script>", "role": "viewer"},
        {"target": "member:1", "role": "owner"},
    ],
)
def test_bad_share_input_shares_nothing(client: Client, team, owner, config, data) -> None:
    agent = make(owner, config, "Helper", visibility=Visibility.RESTRICTED)
    login(client, owner.user)
    response = client.post(url("agent_share", agent.pk), data, **HTMX)
    assert response.status_code == 204 and "toast" in response["HX-Trigger"]
    response = client.post(url("agent_share", agent.pk), data)
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert not AgentGrant.objects.exists()


def test_another_workspaces_group_or_member_is_refused(
    client: Client, team, owner, config, other_workspace_member
) -> None:
    agent = make(owner, config, "Helper", visibility=Visibility.RESTRICTED)
    foreign_group = GroupFactory(workspace=other_workspace_member.workspace)
    login(client, owner.user)
    for target in (f"group:{foreign_group.pk}", f"member:{other_workspace_member.pk}"):
        response = client.post(url("agent_share", agent.pk), {"target": target, "role": "viewer"})
        assert services.UNKNOWN_TARGET in response.content.decode()
    assert not AgentGrant.objects.exists()


def test_visibility_changes_and_bad_values_change_nothing(
    client: Client, team, owner, member, config
) -> None:
    agent = make(owner, config, "Helper")
    login(client, owner.user)
    response = client.post(url("agent_visibility", agent.pk), {"visibility": "restricted"}, **HTMX)
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.visibility == Visibility.RESTRICTED
    assert login(Client(), member.user).get(url("agent", agent.pk)).status_code == 404
    for bad in ("", "everyone", "\x00"):
        client.post(url("agent_visibility", agent.pk), {"visibility": bad})
    agent.refresh_from_db()
    assert agent.visibility == Visibility.RESTRICTED


# --- Who can use it ------------------------------------------------------------------------


def test_who_can_use_it_lists_reasons_searches_and_pages(
    client: Client, team, owner, member, other, config
) -> None:
    agent = make(owner, config, "Helper", visibility=Visibility.RESTRICTED)
    services.agent_share_grant(
        actor=actor(owner),
        agent_id=agent.pk,
        target=ShareTarget.member(member.pk),
        role=GrantRole.VIEWER,
    )
    login(client, owner.user)
    body = client.get(url("agent", agent.pk)).content.decode()
    assert "member@acme.test" in body and "Shared with you as Viewer." in body
    assert "grace@acme.test" not in body and 'Who can use it <span class="muted">(2)' in body
    part = client.get(
        url("agent", agent.pk), {"q": "member"}, HTTP_HX_TARGET="agent-who", **HTMX
    ).content.decode()
    assert 'id="agent-who"' in part and "member@acme.test" in part
    assert "owner@acme.test" not in part and "<html" not in part
    for i in range(30):
        MembershipFactory(workspace=team, user=UserFactory(email=f"m{i:02}@acme.test"))
    services.agent_visibility_set(actor=actor(owner), agent_id=agent.pk, visibility="workspace")
    first = client.get(url("agent", agent.pk), HTTP_HX_TARGET="agent-who", **HTMX)
    assert "(33)" in first.content.decode() and "Page 1 of 2" in first.content.decode()
    second = client.get(url("agent", agent.pk), {"page": "2"}, HTTP_HX_TARGET="agent-who", **HTMX)
    assert "Page 2 of 2" in second.content.decode()
    huge = client.get(
        url("agent", agent.pk), {"page": "9" * 40}, HTTP_HX_TARGET="agent-who", **HTMX
    )
    assert huge.status_code == 200


def test_who_can_use_it_takes_the_same_queries_at_two_sizes(
    client: Client, team, owner, config
) -> None:
    agent = make(owner, config, "Helper", visibility=Visibility.RESTRICTED)
    group = GroupFactory(workspace=team, name="Research")
    services.agent_share_grant(
        actor=actor(owner),
        agent_id=agent.pk,
        target=ShareTarget.group(group.pk),
        role=GrantRole.VIEWER,
    )
    login(client, owner.user)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            m = MembershipFactory(workspace=team, user=UserFactory(email=f"p{i:03}@acme.test"))
            group.members.add(m)

    add(2, 0)
    with CaptureQueriesContext(connection) as small:
        client.get(url("agent", agent.pk), HTTP_HX_TARGET="agent-who", **HTMX)
    with CaptureQueriesContext(connection) as small_page:
        client.get(url("agent", agent.pk))
    add(30, 2)
    with CaptureQueriesContext(connection) as large:
        client.get(url("agent", agent.pk), HTTP_HX_TARGET="agent-who", **HTMX)
    with CaptureQueriesContext(connection) as large_page:
        client.get(url("agent", agent.pk))
    assert len(small) == len(large)
    assert len(small_page) == len(large_page)


# --- Deleting ------------------------------------------------------------------------------


def test_delete_asks_naming_how_many_lose_it_then_deletes(
    client: Client, team, owner, member, other, config
) -> None:
    agent = make(owner, config, "Helper")
    login(client, owner.user)
    ask = client.get(url("agent_delete", agent.pk))
    assert ask.status_code == 200 and "3 members lose the agent" in ask.content.decode()
    dialog = client.get(url("agent_delete", agent.pk), **HTMX).content.decode()
    assert "<dialog" in dialog and "hx-confirm" not in dialog
    # A post without the confirm field only asks again.
    assert client.post(url("agent_delete", agent.pk)).status_code == 200
    assert Agent.objects.filter(pk=agent.pk).exists()
    response = client.post(url("agent_delete", agent.pk), {"confirmed": "1"}, **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == url("agents")
    assert not Agent.objects.filter(pk=agent.pk).exists()
    assert client.get(url("agent", agent.pk)).status_code == 404
    listed = login(Client(), member.user).get(url("agents")).content.decode()
    assert "Helper" not in listed


def test_admins_set_the_default_visibility_and_who_may_share_with_the_workspace(
    client: Client, team, owner, member, config
) -> None:
    from accounts.models import AuditEvent
    from agents.models import AgentSettings

    login(client, owner.user)
    page = client.get(url("agent_settings"))
    assert page.status_code == 200 and "New agents are visible to" in page.content.decode()
    assert url("agent_settings") in client.get(url("agents")).content.decode()
    bad = client.post(
        url("agent_settings"),
        {"default_visibility": "everyone\x00", "workspace_sharing": "nobody"},
        **HTMX,
    )
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert not AgentSettings.objects.exists()
    saved = client.post(
        url("agent_settings"),
        {"default_visibility": "restricted", "workspace_sharing": "admins"},
        **HTMX,
    )
    assert saved.status_code == 200 and "HX-Trigger" in saved.headers
    row = AgentSettings.objects.get(workspace=team)
    assert (row.default_visibility, row.workspace_sharing) == ("restricted", "admins")
    assert AuditEvent.objects.filter(action="agent_settings.changed").count() == 1
    # New agents follow the default; a plain member may not widen one to everyone.
    agent = make(member, config, "Notes")
    assert agent.visibility == "restricted"
    login(client, member.user)
    assert client.get(url("agent_settings")).status_code == 403
    assert client.post(
        url("agent_visibility", agent.pk), {"visibility": "workspace"}
    ).status_code in (200, 302)
    agent.refresh_from_db()
    assert agent.visibility == "restricted"


def test_the_model_filter_follows_the_catalogue_at_once(client: Client, team, owner, model) -> None:
    login(client, owner.user)

    def offered() -> set[str]:
        body = client.get(url("agents")).content.decode()
        return set(
            re.findall(
                r'<option value="([^"]+)"', body.split('id="agents-model"')[1].split("</select>")[0]
            )
        )

    assert model.model_id in offered()
    assert model.model_id in offered()  # from its snapshot now
    added = BaseModelFactory(plans=["team"])
    assert added.model_id in offered()
    model.lifecycle, model.retirement_date = Lifecycle.RETIRED, date(2026, 1, 1)
    model.save()
    assert model.model_id not in offered()
    added.offers.all().delete()  # a bulk delete: each offer's signal still fires
    assert added.model_id not in offered()
