"""Groups of members: list, create, rename, delete and membership (R-WS-7, R-UI-1, R-SEC-1)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import errors
from accounts.audit import Action
from accounts.member_forms import (
    GROUP_NAME_EMPTY,
    GROUP_NAME_INVISIBLE,
    GROUP_NAME_MIXED,
    GROUP_NAME_TOO_LONG,
    NO_SUCH_MEMBER,
)
from accounts.models import AuditEvent, Group
from accounts.roles import Role
from tests.conftest import HTMX
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings) -> None:
    # Many users are made here; the production hasher would spend seconds on each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def group(workspace):
    return GroupFactory(workspace=workspace, name="Research")


def url(name: str, *args: object, slug: str = "acme") -> str:
    return reverse(f"ws:{name}", args=[slug, *args])


def toast(response) -> str:
    return json.loads(response["HX-Trigger"])["toast"]["message"]


# --- List ----------------------------------------------------------------------------------


def test_list_shows_groups_with_member_counts(member_client, workspace, member, owner) -> None:
    g = GroupFactory(workspace=workspace, name="Research")
    g.members.add(member, owner)
    GroupFactory(workspace=workspace, name="Empty")
    r = member_client.get(url("groups"))
    assert r.status_code == 200
    body = r.content.decode()
    row = body.split(f'<tr id="group-{g.pk}">', 1)[1].split("</tr>", 1)[0]
    assert "Research" in row and '<td class="num">2</td>' in row
    assert "Empty" in body
    # A member without MANAGE_GROUPS sees no controls.
    assert "Create group" not in body and "Delete" not in body


def test_htmx_list_request_gets_the_section(owner_client, group) -> None:
    r = owner_client.get(url("groups"), **HTMX)
    body = r.content.decode()
    assert body.lstrip().startswith('<div id="groups-section">') and "<html" not in body


def _count_queries(client: Client, path: str) -> int:
    client.get(path)  # session bookkeeping happens once, on the first request
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def _fill(workspace, n: int) -> None:
    for _ in range(n):
        g = GroupFactory(workspace=workspace)
        g.members.add(
            MembershipFactory(workspace=workspace), MembershipFactory(workspace=workspace)
        )


def test_list_query_count_does_not_grow(owner_client, workspace) -> None:
    _fill(workspace, 5)
    small = _count_queries(owner_client, url("groups"))
    _fill(workspace, 25)
    assert _count_queries(owner_client, url("groups")) == small


def test_detail_query_count_does_not_grow(owner_client, workspace, group) -> None:
    for _ in range(5):
        group.members.add(MembershipFactory(workspace=workspace))
    small = _count_queries(owner_client, url("group_detail", group.pk))
    for _ in range(25):
        group.members.add(MembershipFactory(workspace=workspace))
    assert _count_queries(owner_client, url("group_detail", group.pk)) == small


# --- Create ----------------------------------------------------------------------------------


def test_create_htmx_returns_section_and_toast(owner_client, owner, workspace) -> None:
    r = owner_client.post(url("group_create"), {"name": "  Data   science "}, **HTMX)
    assert r.status_code == 200
    assert toast(r) == "Group Data science created."
    assert "Data science" in r.content.decode()
    g = Group.objects.get(workspace=workspace)
    assert g.name == "Data science"
    event = AuditEvent.objects.get(action=Action.GROUP_CREATED)
    assert event.actor == owner.user and event.after == {"name": "Data science"}


def test_create_plain_redirects_with_message(owner_client) -> None:
    r = owner_client.post(url("group_create"), {"name": "Ops"})
    assert r.status_code == 302 and r["Location"] == url("groups")
    assert "Group Ops created." in owner_client.get(r["Location"]).content.decode()


def test_create_duplicate_name_is_a_field_error(owner_client, group) -> None:
    r = owner_client.post(url("group_create"), {"name": "research"}, **HTMX)
    assert r.status_code == 200 and "HX-Trigger" not in r
    assert errors.GROUP_EXISTS in r.content.decode()
    assert Group.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", GROUP_NAME_EMPTY),
        ("   ", GROUP_NAME_EMPTY),
        ("x" * 81, GROUP_NAME_TOO_LONG),
        ("Ops\u202eevil", GROUP_NAME_INVISIBLE),  # right-to-left override
        ("Op\u200bs", GROUP_NAME_INVISIBLE),  # zero-width space
        ("Res\x00earch", "Null characters are not allowed."),
        ("Rеsearch", GROUP_NAME_MIXED),  # Cyrillic е inside a Latin word
        ("Αdmins", GROUP_NAME_MIXED),  # Greek capital alpha
    ],
)
def test_create_bad_names_answer_with_field_errors_and_change_nothing(
    owner_client, name, message
) -> None:
    r = owner_client.post(url("group_create"), {"name": name}, **HTMX)
    assert r.status_code == 200 and "HX-Trigger" not in r
    body = r.content.decode()
    assert 'class="field has-error"' in body
    assert message.replace("'", "&#x27;") in body
    assert not Group.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert(1)</script>",
        "'; DROP TABLE accounts_group;--",
        'R&D "core"',
        "Научный отдел",
        "研究",
    ],
)
def test_names_are_stored_as_typed_and_escaped_on_display(owner_client, workspace, name) -> None:
    r = owner_client.post(url("group_create"), {"name": name}, **HTMX)
    assert "HX-Trigger" in r
    g = Group.objects.get(workspace=workspace)
    assert g.name == name
    for page in [owner_client.get(url("groups")), owner_client.get(url("group_detail", g.pk))]:
        body = page.content.decode()
        assert "<script>alert(1)" not in body
        if "<" in name:
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_fullwidth_letters_are_folded_so_lookalike_duplicates_are_caught(
    owner_client, group
) -> None:
    r = owner_client.post(url("group_create"), {"name": "Ｒｅｓｅａｒｃｈ"}, **HTMX)
    assert errors.GROUP_EXISTS in r.content.decode()
    assert Group.objects.count() == 1


# --- Detail, rename, delete --------------------------------------------------------------------


def test_detail_lists_group_members(member_client, group, member, owner) -> None:
    group.members.add(member)
    r = member_client.get(url("group_detail", group.pk))
    body = r.content.decode()
    assert r.status_code == 200
    assert "member@acme.test" in body and "owner@acme.test" not in body
    assert "Rename" not in body and "Add to group" not in body


def test_rename_htmx_and_plain(owner_client, owner, group) -> None:
    r = owner_client.post(url("group_rename", group.pk), {"name": "Research & Development"}, **HTMX)
    assert r.status_code == 200
    assert r.content.decode().lstrip().startswith('<div id="group-header"')
    assert "Research &amp; Development" in r.content.decode()
    assert toast(r) == "Group renamed to Research & Development."
    r = owner_client.post(url("group_rename", group.pk), {"name": "R&D"})
    assert r.status_code == 302 and r["Location"] == url("group_detail", group.pk)
    group.refresh_from_db()
    assert group.name == "R&D"
    events = AuditEvent.objects.filter(action=Action.GROUP_RENAMED).order_by("id")
    assert [e.after["name"] for e in events] == ["Research & Development", "R&D"]
    assert events[0].before == {"name": "Research"}


@pytest.mark.parametrize(
    ("name", "message"),
    [("", GROUP_NAME_EMPTY), ("y" * 200, GROUP_NAME_TOO_LONG), ("other", errors.GROUP_EXISTS)],
)
def test_rename_errors_are_inline_and_change_nothing(
    owner_client, workspace, group, name, message
) -> None:
    GroupFactory(workspace=workspace, name="Other")
    r = owner_client.post(url("group_rename", group.pk), {"name": name}, **HTMX)
    assert r.status_code == 200 and "HX-Trigger" not in r
    assert message in r.content.decode()
    group.refresh_from_db()
    assert group.name == "Research"
    r = owner_client.post(url("group_rename", group.pk), {"name": name})
    assert r.status_code == 200 and message in r.content.decode()


def test_delete_htmx_from_the_list(owner_client, owner, group, member) -> None:
    group.members.add(member)
    body = owner_client.get(url("groups")).content.decode()
    assert f'hx-get="{url("group_delete", group.pk)}" hx-target="#dialog-host"' in body
    dialog = owner_client.get(url("group_delete", group.pk), **HTMX).content.decode()
    assert "Delete the group Research?" in dialog and "Its 1 member (" in dialog
    r = owner_client.post(url("group_delete", group.pk), {"confirmed": "1"}, **HTMX)
    assert r.status_code == 200 and r.content == b""
    assert toast(r) == "Group Research deleted."
    assert not Group.objects.filter(pk=group.pk).exists()
    event = AuditEvent.objects.get(action=Action.GROUP_DELETED)
    assert event.before == {"name": "Research", "members": 1}


def test_delete_without_javascript_confirms_first(owner_client, group) -> None:
    r = owner_client.get(url("group_delete", group.pk))
    assert r.status_code == 200 and "Delete the group Research?" in r.content.decode()
    r = owner_client.post(url("group_delete", group.pk))
    assert r.status_code == 200 and 'name="confirmed"' in r.content.decode()
    assert Group.objects.filter(pk=group.pk).exists()
    r = owner_client.post(url("group_delete", group.pk), {"confirmed": "1"})
    assert r.status_code == 302 and r["Location"] == url("groups")
    assert not Group.objects.filter(pk=group.pk).exists()


# --- Members of a group -----------------------------------------------------------------------


def test_add_member_by_email_htmx(owner_client, owner, group, member) -> None:
    r = owner_client.post(
        url("group_member_add", group.pk), {"email": "  MEMBER@acme.test "}, **HTMX
    )
    assert r.status_code == 200
    assert r.content.decode().lstrip().startswith('<div id="group-members">')
    assert toast(r) == "member@acme.test added to Research."
    assert list(group.members.all()) == [member]
    event = AuditEvent.objects.get(action=Action.GROUP_MEMBER_ADDED)
    assert event.after == {"member": "member@acme.test"} and event.actor == owner.user


def test_add_member_plain_redirects(owner_client, group, member) -> None:
    r = owner_client.post(url("group_member_add", group.pk), {"email": "member@acme.test"})
    assert r.status_code == 302 and r["Location"] == url("group_detail", group.pk)
    assert group.members.filter(pk=member.pk).exists()


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "This field is required."),
        ("not-an-email", "Enter a valid email address."),
        ("<script>@x.test", "Enter a valid email address."),
        ("'; DROP TABLE x;--", "Enter a valid email address."),
        ("a" * 250 + "@acme.test", "Ensure this value has at most 254 characters"),
        ("mеmber@acme.test", "Enter a valid email address."),  # Cyrillic е in the local part
        ("member@аcme.test", NO_SUCH_MEMBER),  # Cyrillic а in the domain: valid, but nobody
        ("stranger@acme.test", NO_SUCH_MEMBER),
        ("owner@globex.test", NO_SUCH_MEMBER),  # a user of another workspace
    ],
)
def test_add_member_bad_input_is_inline(
    owner_client, group, member, other_workspace_member, email, message
) -> None:
    UserFactory(email="stranger@acme.test")
    r = owner_client.post(url("group_member_add", group.pk), {"email": email}, **HTMX)
    assert r.status_code == 200 and "HX-Trigger" not in r
    assert message in r.content.decode()
    assert not group.members.exists()
    # Without JavaScript: the page again, with the error beside the field.
    r = owner_client.post(url("group_member_add", group.pk), {"email": email})
    assert r.status_code == 200 and message in r.content.decode()
    assert not group.members.exists()


def test_remove_member_htmx_and_audit(owner_client, group, member) -> None:
    group.members.add(member)
    r = owner_client.post(url("group_member_remove", group.pk, member.pk), **HTMX)
    assert toast(r) == "member@acme.test removed from Research."
    assert not group.members.exists()
    assert AuditEvent.objects.filter(action=Action.GROUP_MEMBER_REMOVED).count() == 1


def test_remove_member_plain_redirects(owner_client, group, member) -> None:
    group.members.add(member)
    r = owner_client.post(url("group_member_remove", group.pk, member.pk))
    assert r.status_code == 302 and r["Location"] == url("group_detail", group.pk)
    assert not group.members.exists()


# --- Permissions and isolation ---------------------------------------------------------------


def _actions(group, member) -> list[tuple[str, dict[str, str]]]:
    return [
        (url("group_create"), {"name": "Intruders"}),
        (url("group_rename", group.pk), {"name": "Taken over"}),
        (url("group_delete", group.pk), {"confirmed": "1"}),
        (url("group_member_add", group.pk), {"email": member.user.email}),
        (url("group_member_remove", group.pk, member.pk), {}),
    ]


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BILLING])
def test_roles_without_manage_groups_are_refused(
    client, workspace, owner, group, member, role
) -> None:
    group.members.add(member)
    actor = MembershipFactory(workspace=workspace, role=role)
    client.force_login(actor.user)
    assert client.get(url("groups")).status_code == 200
    assert client.get(url("group_detail", group.pk)).status_code == 200
    for path, data in _actions(group, member):
        assert client.post(path, data).status_code == 403
        assert client.post(path, data, **HTMX).status_code == 403
    group.refresh_from_db()
    assert group.name == "Research" and list(group.members.all()) == [member]
    assert Group.objects.count() == 1 and not AuditEvent.objects.exists()


def test_admin_may_manage_groups(admin_client_ws, group, member) -> None:
    r = admin_client_ws.post(
        url("group_member_add", group.pk), {"email": member.user.email}, **HTMX
    )
    assert "HX-Trigger" in r


def test_signed_out_visitor_is_sent_to_sign_in(client, group, member) -> None:
    login = reverse("account_login")
    for path in [url("groups"), url("group_detail", group.pk), url("group_delete", group.pk)]:
        r = client.get(path)
        assert r.status_code == 302 and r["Location"].startswith(login)
    for path, data in _actions(group, member):
        r = client.post(path, data)
        assert r.status_code == 302 and r["Location"].startswith(login)
    assert Group.objects.count() == 1 and group.name == "Research"


def test_member_of_another_workspace_gets_404_everywhere(
    client, group, member, other_workspace_member
) -> None:
    group.members.add(member)
    client.force_login(other_workspace_member.user)
    assert client.get(url("groups")).status_code == 404
    assert client.get(url("group_detail", group.pk)).status_code == 404
    assert client.get(url("group_delete", group.pk)).status_code == 404
    for path, data in _actions(group, member):
        assert client.post(path, data).status_code == 404
        assert client.post(path, data, **HTMX).status_code == 404
    group.refresh_from_db()
    assert group.name == "Research" and group.members.count() == 1


def test_foreign_ids_under_own_workspace_are_404(
    client, workspace, group, member, other_workspace_member
) -> None:
    """The outsider owns globex and puts acme's group and member ids under globex."""
    client.force_login(other_workspace_member.user)
    g, m = group.pk, member.pk
    assert client.get(url("group_detail", g, slug="globex")).status_code == 404
    for name, args, data in [
        ("group_rename", [g], {"name": "x"}),
        ("group_delete", [g], {"confirmed": "1"}),
        ("group_member_add", [g], {"email": member.user.email}),
        ("group_member_remove", [g, m], {}),
    ]:
        assert client.post(url(name, *args, slug="globex"), data, **HTMX).status_code == 404
    # A globex group with an acme member id: the member lookup is scoped too.
    own = GroupFactory(workspace=other_workspace_member.workspace, name="Mine")
    own.members.add(other_workspace_member)
    assert (
        client.post(url("group_member_remove", own.pk, m, slug="globex"), **HTMX).status_code == 404
    )
    # And adding an acme member by email to a globex group finds nobody.
    r = client.post(
        url("group_member_add", own.pk, slug="globex"), {"email": member.user.email}, **HTMX
    )
    assert NO_SUCH_MEMBER in r.content.decode()
    assert Group.objects.get(pk=g).name == "Research"


def test_non_numeric_ids_are_404(owner_client) -> None:
    assert owner_client.get("/w/acme/groups/abc/").status_code == 404
    assert owner_client.post("/w/acme/groups/1;DROP/delete/").status_code == 404
    assert owner_client.post("/w/acme/groups/1/members/x/remove/").status_code == 404


def test_no_inline_styles_or_handlers(owner_client, group) -> None:
    for path in [url("groups"), url("group_detail", group.pk), url("group_delete", group.pk)]:
        body = owner_client.get(path).content.decode()
        assert "style=" not in body and "onclick" not in body and "hx-on" not in body
        assert "csrfmiddlewaretoken" in body


# --- The group's page: title, count, member picker ----------------------------------------


def test_group_page_is_titled_with_the_group_name(member_client, group) -> None:
    html = member_client.get(url("group_detail", group.pk)).content.decode()
    assert "<title>Research · Console</title>" in html
    h1 = html.split('<div class="page-header">', 1)[1].split("</h1>", 1)[0]
    assert ">Research</span>" in h1 and "Group" not in h1


def test_count_and_title_refresh_on_group_changed(owner_client, group, member) -> None:
    html = owner_client.get(url("group_detail", group.pk)).content.decode()
    for part in ("group-summary", "group-title"):
        tag = html.split(f'id="{part}"', 1)[1].split(">", 1)[0]
        assert f'hx-get="{url("group_detail", group.pk)}"' in tag
        assert 'hx-trigger="group-changed from:body"' in tag
    assert "0 members" in html

    r = owner_client.post(url("group_member_add", group.pk), {"member": member.pk}, **HTMX)
    # Sent once the list is swapped in, so the count asks for the new figure.
    assert "group-changed" in r["HX-Trigger-After-Settle"]
    summary = owner_client.get(
        url("group_detail", group.pk), HTTP_HX_TARGET="group-summary", **HTMX
    ).content.decode()
    assert summary.lstrip().startswith('<p id="group-summary"') and "1 member " in summary
    assert "<title>" not in summary

    r = owner_client.post(url("group_member_remove", group.pk, member.pk), **HTMX)
    assert "group-changed" in r["HX-Trigger-After-Settle"]
    r = owner_client.post(url("group_rename", group.pk), {"name": "R&D"}, **HTMX)
    assert "group-changed" in r["HX-Trigger-After-Settle"]
    title = owner_client.get(
        url("group_detail", group.pk), HTTP_HX_TARGET="group-title", **HTMX
    ).content.decode()
    # A <title> at the top of the answer: htmx puts it on the browser's tab.
    assert title.lstrip().startswith("<title>R&amp;D · Console</title>")
    assert '<span id="group-title"' in title and ">R&amp;D</span>" in title


def test_failed_add_sends_no_group_changed(owner_client, group) -> None:
    r = owner_client.post(url("group_member_add", group.pk), {"email": "nobody@acme.test"}, **HTMX)
    assert "HX-Trigger-After-Settle" not in r


@pytest.fixture
def people(workspace, group, member):
    """Members to pick from: twelve "Lovelace"s, one already in the group."""
    found = [
        MembershipFactory(
            workspace=workspace,
            user=UserFactory(email=f"ada{i}@acme.test", name=f"Ada Lovelace {i:02}"),
        )
        for i in range(12)
    ]
    group.members.add(found[0])
    return found


def test_member_search_by_name_or_email_excludes_the_group(owner_client, group, people) -> None:
    search = url("group_member_search", group.pk)
    r = owner_client.get(search, {"q": "lovelace"}, **HTMX)
    html = r.content.decode()
    assert html.lstrip().startswith('<div id="member-picker-results"')
    listed = [m for m in people if m.user.email + "</span>" in html]
    assert len(listed) == 10 and people[0] not in listed
    assert "The first 10 matches" in html
    r = owner_client.get(search, {"q": "ADA5@"}, **HTMX)
    html = r.content.decode()
    assert "ada5@acme.test" in html and "ada6@acme.test" not in html
    assert "The first" not in html
    assert f'name="member" value="{people[5].pk}"' in html
    assert (
        "No member outside this group matches"
        in owner_client.get(search, {"q": "ada0@"}, **HTMX).content.decode()
    )


def test_member_search_never_lists_another_workspace(
    owner_client, group, other_workspace_member
) -> None:
    html = owner_client.get(
        url("group_member_search", group.pk), {"q": "globex"}, **HTMX
    ).content.decode()
    assert "owner@globex.test" not in html


@pytest.mark.parametrize("q", ["", "   ", "<script>", "%", "x" * 1000])
def test_member_search_odd_input_is_harmless(owner_client, group, people, q) -> None:
    r = owner_client.get(url("group_member_search", group.pk), {"q": q}, **HTMX)
    assert r.status_code == 200 and "<script>" not in r.content.decode()


def test_member_search_query_count_is_flat(owner_client, group, people, workspace) -> None:
    search = url("group_member_search", group.pk)
    owner_client.get(search, {"q": "ada"}, **HTMX)
    with CaptureQueriesContext(connection) as small:
        owner_client.get(search, {"q": "ada"}, **HTMX)
    for i in range(20):
        MembershipFactory(workspace=workspace, user=UserFactory(name=f"Ada More {i}"))
    with CaptureQueriesContext(connection) as large:
        owner_client.get(search, {"q": "ada"}, **HTMX)
    assert len(small.captured_queries) == len(large.captured_queries)


def test_picker_works_without_javascript(owner_client, group, people) -> None:
    # The search form opens the group's page with the matches.
    r = owner_client.get(url("group_member_search", group.pk), {"q": "ada3@"})
    assert r.status_code == 302
    page = owner_client.get(r["Location"]).content.decode()
    assert "<html" in page and f'name="member" value="{people[3].pk}"' in page
    # Adding posts the member's id; the answer comes back to the same search.
    r = owner_client.post(url("group_member_add", group.pk), {"member": people[3].pk, "q": "ada3@"})
    assert r.status_code == 302 and r["Location"].startswith(
        url("group_detail", group.pk) + "?q=ada3%40"
    )
    assert group.members.filter(pk=people[3].pk).exists()
    assert (
        "No member outside this group matches" in owner_client.get(r["Location"]).content.decode()
    )


def test_pick_adds_by_id_and_refreshes_the_list(owner_client, owner, group, people) -> None:
    r = owner_client.post(
        url("group_member_add", group.pk), {"member": people[4].pk, "q": "lovelace"}, **HTMX
    )
    html = r.content.decode()
    assert toast(r) == "ada4@acme.test added to Research."
    assert group.members.filter(pk=people[4].pk).exists()
    # The list shows the new member, and the picker keeps the search without them.
    table = html.split("<table", 1)[1]
    assert "ada4@acme.test" in table
    picker = html.split('id="member-picker-results"', 1)[1].split("</div>", 1)[0]
    assert "ada4@acme.test" not in picker and "ada5@acme.test" in picker


@pytest.mark.parametrize("value", ["abc", "1;DROP", "-1", "99999999"])
def test_pick_with_a_bad_id_is_404(owner_client, group, value) -> None:
    r = owner_client.post(url("group_member_add", group.pk), {"member": value}, **HTMX)
    assert r.status_code == 404
    assert not group.members.exists()


def test_pick_of_another_workspaces_member_is_404(
    owner_client, group, other_workspace_member
) -> None:
    r = owner_client.post(
        url("group_member_add", group.pk), {"member": other_workspace_member.pk}, **HTMX
    )
    assert r.status_code == 404
    assert not group.members.exists()


def test_member_search_is_for_managers_only(member_client, group) -> None:
    assert member_client.get(url("group_member_search", group.pk), {"q": "a"}).status_code == 403
