"""Workspaces: creating, switching, the overview, the roles page, join settings and
leaving (R-WS-1, R-WS-2, R-WS-4 settings, R-UI-1)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.actor import Actor
from accounts.models import AuditEvent, JoinMode, Membership, Workspace
from accounts.roles import Role
from tests.conftest import HTMX, login
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db
NEW = "/workspaces/new/"


def test_create_workspace_plain_post_redirects_into_it(client: Client) -> None:
    user = UserFactory()
    login(client, user)
    response = client.post(
        NEW, {"name": "Initech Labs", "slug": "initech", "is_media_customer": "no"}
    )
    assert response.status_code == 302 and response["Location"] == "/w/initech/"
    ws = Workspace.objects.get(slug="initech")
    assert Membership.objects.get(workspace=ws, user=user).role == Role.OWNER
    assert AuditEvent.objects.filter(workspace=ws, action="workspace.created").count() == 1


def test_create_workspace_htmx_answers_client_redirect(client: Client) -> None:
    login(client, UserFactory())
    response = client.post(
        NEW, {"name": "Initech", "slug": "initech", "is_media_customer": "no"}, **HTMX
    )
    assert response.status_code == 200 and response["HX-Redirect"] == "/w/initech/"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "slug": "ok"}, "name", "This field is required."),
        ({"name": "x" * 101, "slug": "ok"}, "name", "at most 100 characters"),
        (
            {"name": "<script>alert(1)</script>", "slug": "ok"},
            "name",
            "cannot contain &lt; or &gt;",
        ),
        ({"name": "Fine", "slug": ""}, "slug", "This field is required."),
        ({"name": "Fine", "slug": "Bad Slug"}, "slug", "Enter a valid"),
        ({"name": "Fine", "slug": "'; DROP TABLE x;--"}, "slug", "Enter a valid"),
        ({"name": "Fine", "slug": "аcme"}, "slug", "Enter a valid"),  # Cyrillic а
        ({"name": "Fine", "slug": "-edge-"}, "slug", "hyphen"),
        ({"name": "Fine", "slug": "admin"}, "slug", "reserved"),
        ({"name": "Fine", "slug": "x" * 51}, "slug", "at most 50 characters"),
    ],
)
def test_create_workspace_bad_input_field_errors_and_nothing_created(
    client: Client, data: dict[str, str], field: str, message: str
) -> None:
    login(client, UserFactory())
    response = client.post(NEW, {**data, "is_media_customer": "no"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="id_{field}_error"' in body and message in body
    assert not Workspace.objects.exists()


def test_create_workspace_taken_slug_says_so(client: Client, workspace: Workspace) -> None:
    login(client, UserFactory())
    response = client.post(
        NEW, {"name": "Other", "slug": workspace.slug, "is_media_customer": "no"}
    )
    assert "already taken" in response.content.decode()
    assert Workspace.objects.count() == 1


def test_home_sends_a_single_workspace_member_into_it(client: Client, owner: Membership) -> None:
    login(client, owner.user)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/w/acme/"


def test_home_lists_workspaces_and_switcher_shows_them(client: Client, owner: Membership) -> None:
    other = WorkspaceFactory(name="Globex", slug="globex")
    MembershipFactory(workspace=other, user=owner.user, role=Role.MEMBER)
    login(client, owner.user)
    body = client.get("/").content.decode()
    assert "Acme" in body and "Globex" in body
    page = client.get("/w/globex/").content.decode()
    assert 'href="/w/acme/"' in page  # the switcher offers the other workspace
    # The last workspace visited becomes the current one.
    assert client.get("/")["Location"] == "/w/globex/"


def test_deactivated_member_no_longer_sees_the_workspace(
    client: Client, member: Membership
) -> None:
    member.status = "deactivated"
    member.save()
    login(client, member.user)
    assert client.get("/w/acme/").status_code == 404


def test_roles_page_shows_the_matrix(member_client: Client) -> None:
    body = member_client.get("/w/acme/roles/").content.decode()
    for label in (
        "Owner",
        "Admin",
        "Billing",
        "Member",
        "Change roles, deactivate and remove members",
    ):
        assert label in body


def test_overview_hides_admin_cards_from_members(member_client: Client) -> None:
    assert "Pending invitations" not in member_client.get("/w/acme/").content.decode()


def test_overview_shows_admin_cards_to_owner(owner_client: Client) -> None:
    body = owner_client.get("/w/acme/").content.decode()
    assert "Pending invitations" in body and "Verified domains" in body


SETTINGS = "/w/acme/settings/"


def test_settings_change_join_mode_htmx_toast_and_audit(
    owner_client: Client, workspace: Workspace
) -> None:
    response = owner_client.post(
        SETTINGS, {"join_mode": "auto", "default_role": Role.BILLING}, **HTMX
    )
    assert response.status_code == 200 and "toast" in response["HX-Trigger"]
    workspace.refresh_from_db()
    assert workspace.join_mode == JoinMode.AUTO and workspace.default_role == Role.BILLING
    event = AuditEvent.objects.get(action="workspace.updated")
    assert event.before["join_mode"] == "request" and event.after["default_role"] == Role.BILLING


def test_settings_plain_post_redirects(owner_client: Client) -> None:
    response = owner_client.post(SETTINGS, {"join_mode": "auto", "default_role": Role.MEMBER})
    assert response.status_code == 302 and response["Location"] == SETTINGS


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"join_mode": "everyone", "default_role": Role.MEMBER},
        {"join_mode": "auto", "default_role": Role.OWNER},
        {"join_mode": "auto", "default_role": "'; DROP TABLE x;--"},
        {"join_mode": "<b>auto</b>", "default_role": 10},
    ],
)
def test_settings_bad_input_changes_nothing(
    owner_client: Client, workspace: Workspace, data: dict[str, object]
) -> None:
    response = owner_client.post(SETTINGS, data, **HTMX)
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.join_mode == JoinMode.REQUEST and workspace.default_role == Role.MEMBER
    assert not AuditEvent.objects.filter(action="workspace.updated").exists()


def test_settings_forbidden_to_members(member_client: Client, workspace: Workspace) -> None:
    assert member_client.get(SETTINGS).status_code == 403
    assert (
        member_client.post(SETTINGS, {"join_mode": "auto", "default_role": 10}).status_code == 403
    )
    workspace.refresh_from_db()
    assert workspace.join_mode == JoinMode.REQUEST


def test_leave_workspace(member_client: Client, member: Membership) -> None:
    response = member_client.post("/w/acme/leave/", {"confirmed": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert AuditEvent.objects.filter(action="member.left").exists()


def test_last_owner_cannot_leave(owner_client: Client, owner: Membership) -> None:
    response = owner_client.post("/w/acme/leave/", {"confirmed": "1"}, follow=True)
    assert "at least one owner" in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()


def _queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_overview_and_home_queries_do_not_grow(owner_client: Client, owner: Membership) -> None:
    for i in range(3):
        MembershipFactory(workspace=WorkspaceFactory(slug=f"extra-{i}"), user=owner.user)
    owner_client.get("/w/acme/")  # the first request records the browser session
    small = (_queries(owner_client, "/w/acme/"), _queries(owner_client, "/?all"))
    for i in range(3, 30):
        MembershipFactory(workspace=WorkspaceFactory(slug=f"extra-{i}"), user=owner.user)
        MembershipFactory(workspace=owner.workspace)
    assert (_queries(owner_client, "/w/acme/"), _queries(owner_client, "/?all")) == small


def test_overview_recent_activity_for_admins_only(
    client: Client, owner: Membership, member: Membership
) -> None:
    from accounts import services

    services.group_create(actor=Actor.member(owner), workspace=owner.workspace, name="Research")
    body = login(client, owner.user).get("/w/acme/").content.decode()
    assert "Recent activity" in body and "owner@acme.test created the group Research." in body
    assert "group.created" not in body
    body = login(client, member.user).get("/w/acme/").content.decode()
    assert "Recent activity" not in body and "created the group" not in body


def test_settings_lead_to_the_media_customer_declaration(owner_client: Client) -> None:
    body = owner_client.get(SETTINGS).content.decode()
    assert "Media Customer status" in body and 'href="/w/acme/compliance/"' in body


# --- The navigation shell --------------------------------------------------------------


def _nav_sections(html: str) -> dict[str, list[str]]:
    """The sidebar's headings, each with the links under it."""
    import re  # noqa: PLC0415

    nav = html.split('<nav class="sidenav" aria-label="Workspace">', 1)[1].split("</nav>", 1)[0]
    sections: dict[str, list[str]] = {}
    current = ""
    for heading, link in re.findall(
        r'<p class="nav-group">([^<]+)</p>|<a href="[^"]*"[^>]*>([^<]+)</a>', nav
    ):
        if heading:
            current = heading
            sections[current] = []
        else:
            sections.setdefault(current, []).append(link)
    return sections


@pytest.mark.parametrize("role", list(Role))
def test_every_sidebar_heading_has_a_link_under_it(
    client: Client, workspace: Workspace, owner: Membership, role: Role
) -> None:
    m = owner if role == Role.OWNER else MembershipFactory(workspace=workspace, role=role)
    sections = _nav_sections(login(client, m.user).get("/w/acme/").content.decode())
    assert sections and all(sections.values()), sections
    assert ("Trust" in sections) is (role != Role.MEMBER and role != Role.BILLING)


def test_member_sidebar_has_no_trust_heading(member_client: Client) -> None:
    html = member_client.get("/w/acme/").content.decode()
    assert ">Trust</p>" not in html
    assert "Trust" not in _nav_sections(html)


def test_the_sidebar_is_each_workspaces_and_roles_own_and_marks_the_page(
    client: Client, owner: Membership
) -> None:
    other = WorkspaceFactory(name="Globex", slug="globex")
    there = MembershipFactory(workspace=other, user=owner.user, role=Role.MEMBER)
    login(client, owner.user)
    acme = client.get("/w/acme/members/").content.decode()
    globex = client.get("/w/globex/members/").content.decode()
    assert 'href="/w/acme/settings/"' in acme and "/w/globex/" not in _sidebar(acme)
    assert "/w/acme/" not in _sidebar(globex) and 'href="/w/globex/settings/"' not in globex
    assert 'href="/w/acme/members/" aria-current="page"' in acme
    groups = client.get("/w/acme/groups/").content.decode()
    assert 'href="/w/acme/groups/" aria-current="page"' in groups
    assert 'href="/w/acme/members/" aria-current' not in groups
    # A new role shows its links on the next page.
    Membership.objects.filter(pk=there.pk).update(role=Role.ADMIN)
    assert 'href="/w/globex/settings/"' in client.get("/w/globex/members/").content.decode()


def _sidebar(html: str) -> str:
    return html.split('<nav class="sidenav"')[1].split("</nav>")[0]


# --- Renaming the workspace --------------------------------------------------------------

RENAME = "/w/acme/settings/name/"


def test_settings_page_offers_the_rename_form(owner_client: Client) -> None:
    html = owner_client.get(SETTINGS).content.decode()
    assert 'id="rename-form"' in html and 'hx-post="/w/acme/settings/name/"' in html
    assert 'value="Acme"' in html


def test_rename_htmx_redirects_to_the_settings_with_the_new_name(
    owner_client: Client, workspace: Workspace
) -> None:
    response = owner_client.post(RENAME, {"name": "  Acme   Labs "}, **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == SETTINGS
    workspace.refresh_from_db()
    assert workspace.name == "Acme Labs" and workspace.slug == "acme"
    page = owner_client.get(SETTINGS).content.decode()
    assert "The workspace is now called Acme Labs." in page
    assert '<span class="switcher-name">Acme Labs</span>' in page
    event = AuditEvent.objects.get(action="workspace.updated")
    assert (event.before, event.after) == ({"name": "Acme"}, {"name": "Acme Labs"})


def test_rename_plain_post_redirects(admin_client_ws: Client, workspace: Workspace) -> None:
    response = admin_client_ws.post(RENAME, {"name": "Acme Corp"})
    assert response.status_code == 302 and response["Location"] == SETTINGS
    workspace.refresh_from_db()
    assert workspace.name == "Acme Corp"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("<b>x</b>", "cannot contain < or >"),
        ("x" * 101, "at most 100"),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_rename_errors_beside_the_field(
    owner_client: Client, workspace: Workspace, name: str, message: str, headers: dict[str, str]
) -> None:
    response = owner_client.post(RENAME, {"name": name}, **headers)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_name_error"' in html and message in html.replace("&lt;", "<").replace(
        "&gt;", ">"
    )
    if headers:
        assert html.lstrip().startswith('<form id="rename-form"')
    workspace.refresh_from_db()
    assert workspace.name == "Acme"
    assert not AuditEvent.objects.filter(action="workspace.updated").exists()


def test_rename_is_refused_to_members(member_client: Client, workspace: Workspace) -> None:
    assert member_client.post(RENAME, {"name": "Mine"}).status_code == 403
    workspace.refresh_from_db()
    assert workspace.name == "Acme"
