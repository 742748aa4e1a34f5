"""The members page and its row actions (R-WS-2, R-WS-5, R-UI-1, R-SEC-1)."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import errors, services
from accounts.audit import Action
from accounts.models import AuditEvent, Membership, MemberStatus
from accounts.roles import Role
from core.errors import DomainError
from tests.conftest import HTMX
from tests.factories import PASSWORD, GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings) -> None:
    # Many users are made here; the production hasher would spend seconds on each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def url(name: str, *args: object, slug: str = "acme") -> str:
    return reverse(f"ws:{name}", args=[slug, *args])


def reauth(client: Client, user) -> None:
    """Mark the session as recently reauthenticated, the way allauth records it."""
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


# The field a destructive action's confirmation posts (accounts.views.confirm).
CONFIRMED = {"confirmed": "1"}


def toast(response) -> str:
    return json.loads(response["HX-Trigger"])["toast"]["message"]


# --- The list ----------------------------------------------------------------------------


def test_list_shows_members_with_role_status_groups_and_date(
    owner_client, owner, member, workspace
) -> None:
    group = GroupFactory(workspace=workspace, name="Research")
    group.members.add(member)
    r = owner_client.get(url("members"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "member@acme.test" in body and "owner@acme.test" in body
    assert "Research" in body
    assert 'class="badge badge-primary">Owner<' in body
    assert member.joined_at.strftime("%Y-%m-%d") in body
    assert "<html" in body  # a plain request gets the whole page


def test_htmx_request_gets_only_the_table(owner_client, member) -> None:
    r = owner_client.get(url("members"), {"q": "member"}, **HTMX)
    body = r.content.decode()
    assert r.status_code == 200
    assert body.lstrip().startswith('<div id="members-table">')
    assert "<html" not in body
    assert "member@acme.test" in body and "owner@acme.test" not in body


def test_history_restore_gets_the_whole_page(owner_client) -> None:
    r = owner_client.get(
        url("members"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in r.content.decode()


def test_search_by_name_or_email_case_insensitive(owner_client, workspace) -> None:
    MembershipFactory(
        workspace=workspace, user=UserFactory(email="ada@acme.test", name="Ada Lovelace")
    )
    MembershipFactory(
        workspace=workspace, user=UserFactory(email="grace@acme.test", name="Grace Hopper")
    )
    body = owner_client.get(url("members"), {"q": "LOVELACE"}).content.decode()
    assert "ada@acme.test" in body and "grace@acme.test" not in body
    body = owner_client.get(url("members"), {"q": "grace@"}).content.decode()
    assert "grace@acme.test" in body and "ada@acme.test" not in body


def test_filters_role_status_group(owner_client, owner, workspace) -> None:
    billing = MembershipFactory(
        workspace=workspace, role=Role.BILLING, user=UserFactory(email="bill@acme.test")
    )
    gone = MembershipFactory(
        workspace=workspace,
        status=MemberStatus.DEACTIVATED,
        user=UserFactory(email="gone@acme.test"),
    )
    grouped = MembershipFactory(workspace=workspace, user=UserFactory(email="grouped@acme.test"))
    group = GroupFactory(workspace=workspace, name="Ops")
    group.members.add(grouped)

    body = owner_client.get(url("members"), {"role": Role.BILLING.value}).content.decode()
    assert (
        billing.user.email in body and gone.user.email not in body and owner.user.email not in body
    )
    body = owner_client.get(url("members"), {"status": "deactivated"}).content.decode()
    assert gone.user.email in body and billing.user.email not in body
    body = owner_client.get(url("members"), {"group": group.pk}).content.decode()
    assert grouped.user.email in body and billing.user.email not in body
    body = owner_client.get(url("members"), {"q": "nobody-here"}).content.decode()
    assert "No member matches these filters" in body


def test_filters_are_kept_in_the_pagination_links(owner_client, workspace) -> None:
    for i in range(55):
        MembershipFactory(workspace=workspace, user=UserFactory(email=f"bulk{i:02d}@acme.test"))
    r = owner_client.get(url("members"), {"q": "bulk"})
    body = r.content.decode()
    assert "Page 1 of 2" in body
    assert "?q=bulk&amp;page=2" in body
    assert body.count('<tr id="member-') == 50
    r2 = owner_client.get(url("members"), {"q": "bulk", "page": 2})
    assert r2.content.decode().count('<tr id="member-') == 5
    # A page number that is not one falls back to a real page.
    assert owner_client.get(url("members"), {"page": "x'; DROP"}).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"role": "99"}, "Role"),
        ({"role": "owner"}, "Role"),
        ({"status": "<script>alert(1)</script>"}, "Status"),
        ({"group": "abc"}, "Group"),
        ({"group": "'; DROP TABLE x;--"}, "Group"),
        ({"q": "x" * 101}, "Search"),
    ],
)
def test_bad_filters_answer_with_errors_and_are_ignored(
    owner_client, member, params, field
) -> None:
    r = owner_client.get(url("members"), params)
    assert r.status_code == 200
    body = r.content.decode()
    assert 'class="error"' in body  # beside the field
    assert f"{field}: " in body  # and said in the table
    assert "member@acme.test" in body  # the other filters still apply: none here
    assert "<script>alert" not in body


def test_hostile_search_is_escaped_and_matches_nothing(owner_client, member) -> None:
    for q in [
        "<script>alert(1)</script>",
        "'; DROP TABLE accounts_user;--",
        "mеmber",
    ]:  # Cyrillic е
        r = owner_client.get(url("members"), {"q": q})
        body = r.content.decode()
        assert r.status_code == 200
        assert "<script>alert(1)" not in body
        assert "No member matches" in body
    assert Membership.objects.filter(pk=member.pk).exists()


def test_group_filter_of_another_workspace_is_an_invalid_choice(
    owner_client, member, other_workspace_member
) -> None:
    foreign = GroupFactory(workspace=other_workspace_member.workspace, name="Foreign")
    body = owner_client.get(url("members"), {"group": foreign.pk}).content.decode()
    assert "Group: " in body
    assert "Foreign" not in body


def test_every_role_sees_the_list_but_only_admins_see_controls(
    client, workspace, owner, member
) -> None:
    billing = MembershipFactory(workspace=workspace, role=Role.BILLING)
    admin = MembershipFactory(workspace=workspace, role=Role.ADMIN)
    for m, controls in [(member, False), (billing, False), (admin, True), (owner, True)]:
        client.force_login(m.user)
        body = client.get(url("members")).content.decode()
        assert "member@acme.test" in body
        assert ("Save role" in body) is controls
        assert ("Actions</th>" in body) is controls


def test_admin_has_no_controls_on_owner_or_self(
    admin_client_ws, admin_member, owner, member
) -> None:
    body = admin_client_ws.get(url("members")).content.decode()
    row = lambda m: body.split(f'<tr id="member-{m.pk}">', 1)[1].split("</tr>", 1)[0]  # noqa: E731
    assert "Save role" not in row(owner)
    assert "Save role" not in row(admin_member)
    assert "Save role" in row(member)
    # An admin is never offered the owner role.
    assert f'value="{Role.OWNER.value}"' not in row(member)


def _query_count(client: Client, params: dict[str, object]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url("members"), params)
        assert r.status_code == 200
    return len(ctx.captured_queries)


def _grow(workspace, n: int, group) -> None:
    for _ in range(n):
        m = MembershipFactory(workspace=workspace)
        group.members.add(m)
        GroupFactory(workspace=workspace).members.add(m)


@pytest.mark.parametrize("params", [{}, {"q": "acme", "status": "active", "role": "10"}, "group"])
def test_query_count_does_not_grow_with_rows(owner_client, workspace, params) -> None:
    group = GroupFactory(workspace=workspace, name="Everyone")
    if params == "group":
        params = {"group": group.pk}
    _grow(workspace, 5, group)
    # The first request of a session writes session bookkeeping once; measure after it.
    _query_count(owner_client, params)
    small = _query_count(owner_client, params)
    _grow(workspace, 25, group)
    large = _query_count(owner_client, params)
    assert small == large
    assert small <= 15  # session, user sessions and shell included


# --- Isolation and sign-in -----------------------------------------------------------------


ACTIONS = ["member_role", "member_deactivate", "member_reactivate", "member_remove"]


def test_signed_out_visitor_is_sent_to_sign_in(client, member) -> None:
    r = client.get(url("members"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("account_login"))
    for name in ACTIONS:
        r = client.post(url(name, member.pk), {"role": Role.OWNER.value})
        assert r.status_code == 302 and r["Location"].startswith(reverse("account_login"))
    member.refresh_from_db()
    assert member.role == Role.MEMBER and member.status == MemberStatus.ACTIVE


def test_member_of_another_workspace_gets_404_everywhere(
    client, member, other_workspace_member
) -> None:
    client.force_login(other_workspace_member.user)
    reauth(client, other_workspace_member.user)
    assert client.get(url("members")).status_code == 404
    for name in ACTIONS:
        assert (
            client.post(
                url(name, member.pk), {"role": Role.OWNER.value, "confirmed": "1"}
            ).status_code
            == 404
        )
        assert (
            client.post(url(name, member.pk), {"role": Role.OWNER.value}, **HTMX).status_code == 404
        )
    member.refresh_from_db()
    assert member.role == Role.MEMBER and member.status == MemberStatus.ACTIVE


def test_foreign_membership_id_under_own_workspace_is_404(
    owner_client, owner, other_workspace_member
) -> None:
    reauth(owner_client, owner.user)
    foreign = other_workspace_member
    for name in ACTIONS:
        r = owner_client.post(
            url(name, foreign.pk), {"role": Role.MEMBER.value, "confirmed": "1"}, **HTMX
        )
        assert r.status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == Role.OWNER and foreign.status == MemberStatus.ACTIVE


def test_non_numeric_id_is_404(owner_client) -> None:
    assert owner_client.post("/w/acme/members/abc/role/", {"role": 10}).status_code == 404
    assert owner_client.post("/w/acme/members/1;DROP/remove/").status_code == 404


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BILLING])
def test_post_without_permission_is_refused_and_changes_nothing(
    client, workspace, owner, role
) -> None:
    actor = MembershipFactory(workspace=workspace, role=role)
    target = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    client.force_login(actor.user)
    reauth(client, actor.user)
    for name in ACTIONS:
        assert (
            client.post(
                url(name, target.pk), {"role": Role.ADMIN.value, "confirmed": "1"}
            ).status_code
            == 403
        )
        assert (
            client.post(url(name, target.pk), {"role": Role.ADMIN.value}, **HTMX).status_code == 403
        )
    target.refresh_from_db()
    assert target.role == Role.MEMBER and target.status == MemberStatus.ACTIVE
    assert not AuditEvent.objects.filter(action__startswith="member.").exists()


# --- Change role -----------------------------------------------------------------------------


def test_role_change_requires_recent_reauthentication_htmx(owner_client, member) -> None:
    r = owner_client.post(
        url("member_role", member.pk), {"role": Role.ADMIN.value, "back": "q=mem"}, **HTMX
    )
    assert r.status_code == 200
    target = urlsplit(r["HX-Redirect"])
    assert target.path == reverse("account_reauthenticate")
    # The confirmation comes back to the change itself, which allauth replays.
    assert parse_qs(target.query)["next"] == [url("member_role", member.pk)]
    member.refresh_from_db()
    assert member.role == Role.MEMBER


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_the_role_change_completes_after_reauthentication(
    owner_client, owner, member, headers
) -> None:
    r = owner_client.post(
        url("member_role", member.pk), {"role": Role.ADMIN.value, "back": "q=mem"}, **headers
    )
    confirm = r["HX-Redirect"] if headers else r["Location"]
    member.refresh_from_db()
    assert member.role == Role.MEMBER
    done = owner_client.post(confirm, {"password": PASSWORD})
    member.refresh_from_db()
    assert member.role == Role.ADMIN
    # The replayed change answers as a plain post: back to the list it came from.
    assert done.status_code == 302 and done["Location"] == url("members") + "?q=mem"
    assert AuditEvent.objects.filter(action=Action.MEMBER_ROLE_CHANGED).count() == 1


def test_role_change_requires_recent_reauthentication_plain(owner_client, member) -> None:
    r = owner_client.post(url("member_role", member.pk), {"role": Role.ADMIN.value})
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("account_reauthenticate"))
    member.refresh_from_db()
    assert member.role == Role.MEMBER


def test_reauthenticating_with_the_password_then_changing_role(owner_client, owner, member) -> None:
    r = owner_client.post(
        reverse("account_reauthenticate"), {"password": PASSWORD, "next": url("members")}
    )
    assert r.status_code == 302 and r["Location"] == url("members")
    r = owner_client.post(url("member_role", member.pk), {"role": Role.ADMIN.value}, **HTMX)
    assert "HX-Redirect" not in r
    member.refresh_from_db()
    assert member.role == Role.ADMIN


def test_stale_reauthentication_is_asked_again(owner_client, owner, member) -> None:
    session = owner_client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time() - 3600, "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(owner.user.pk)
    session.save()
    r = owner_client.post(url("member_role", member.pk), {"role": Role.ADMIN.value}, **HTMX)
    assert "HX-Redirect" in r


def test_role_change_htmx_success_returns_row_and_toast(owner_client, owner, member) -> None:
    reauth(owner_client, owner.user)
    r = owner_client.post(url("member_role", member.pk), {"role": Role.ADMIN.value}, **HTMX)
    assert r.status_code == 200
    body = r.content.decode()
    assert body.lstrip().startswith(f'<tr id="member-{member.pk}">')
    assert ">Admin<" in body
    assert toast(r) == "member@acme.test is now Admin."
    member.refresh_from_db()
    assert member.role == Role.ADMIN
    event = AuditEvent.objects.get(action=Action.MEMBER_ROLE_CHANGED)
    assert (
        event.actor == owner.user
        and event.before == {"role": Role.MEMBER}
        and event.after == {"role": Role.ADMIN}
    )


def test_role_change_plain_success_redirects_back_with_filters(owner_client, owner, member) -> None:
    reauth(owner_client, owner.user)
    r = owner_client.post(
        url("member_role", member.pk), {"role": Role.BILLING.value, "back": "q=mem&role=10&evil=x"}
    )
    assert r.status_code == 302
    assert r["Location"] == url("members") + "?q=mem&role=10"
    page = owner_client.get(r["Location"]).content.decode()
    assert "member@acme.test is now Billing." in page
    member.refresh_from_db()
    assert member.role == Role.BILLING


def test_back_cannot_redirect_elsewhere(owner_client, owner, member) -> None:
    reauth(owner_client, owner.user)
    r = owner_client.post(
        url("member_role", member.pk), {"role": Role.BILLING.value, "back": "https://evil.test/"}
    )
    assert r["Location"] == url("members")


def test_owner_demotes_co_owner_then_admin_cannot_touch_the_owner(client, workspace, owner) -> None:
    other = MembershipFactory(workspace=workspace, role=Role.OWNER)
    client.force_login(other.user)
    reauth(client, other.user)
    r = client.post(url("member_role", owner.pk), {"role": Role.ADMIN.value}, **HTMX)
    assert toast(r) == "owner@acme.test is now Admin."
    # The former owner, now admin, cannot deactivate the remaining owner.
    client.force_login(owner.user)
    r = client.post(url("member_deactivate", other.pk), CONFIRMED, **HTMX)
    assert r.status_code == 200
    assert errors.ROLE_NOT_ALLOWED in r.content.decode()
    other.refresh_from_db()
    assert other.status == MemberStatus.ACTIVE


def test_last_owner_error_is_shown_in_the_row(owner_client, owner, workspace, monkeypatch) -> None:
    # Through the page an owner always acts beside another active owner (themself), so the
    # service's last-owner guard is met only in a race; its message must still land inline.
    co = MembershipFactory(workspace=workspace, role=Role.OWNER)
    reauth(owner_client, owner.user)

    def refuse(**kwargs: object) -> None:
        raise DomainError(errors.LAST_OWNER)

    monkeypatch.setattr(services, "member_role_change", refuse)
    r = owner_client.post(url("member_role", co.pk), {"role": Role.MEMBER.value}, **HTMX)
    assert r.status_code == 200
    assert errors.LAST_OWNER in r.content.decode()
    assert "HX-Trigger" not in r
    r = owner_client.post(url("member_role", co.pk), {"role": Role.MEMBER.value})
    assert errors.LAST_OWNER in owner_client.get(r["Location"]).content.decode()
    co.refresh_from_db()
    assert co.role == Role.OWNER


def test_own_role_cannot_be_changed(owner_client, owner) -> None:
    reauth(owner_client, owner.user)
    r = owner_client.post(url("member_role", owner.pk), {"role": Role.ADMIN.value}, **HTMX)
    assert r.status_code == 200
    assert errors.CANNOT_CHANGE_SELF in r.content.decode()
    assert "HX-Trigger" not in r
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_admin_cannot_grant_owner_inline_and_plain(admin_client_ws, admin_member, member) -> None:
    reauth(admin_client_ws, admin_member.user)
    r = admin_client_ws.post(url("member_role", member.pk), {"role": Role.OWNER.value}, **HTMX)
    assert r.status_code == 200
    assert errors.ROLE_NOT_ALLOWED in r.content.decode()
    assert "HX-Trigger" not in r
    r = admin_client_ws.post(url("member_role", member.pk), {"role": Role.OWNER.value})
    assert r.status_code == 302
    page = admin_client_ws.get(r["Location"]).content.decode()
    assert errors.ROLE_NOT_ALLOWED in page
    member.refresh_from_db()
    assert member.role == Role.MEMBER
    assert not AuditEvent.objects.filter(action=Action.MEMBER_ROLE_CHANGED).exists()


@pytest.mark.parametrize(
    "value", ["", "99", "owner", "<script>x</script>", "'; DROP TABLE x;--", "４０", "1" * 500]
)
def test_bad_role_values_answer_with_an_inline_error(owner_client, owner, member, value) -> None:
    reauth(owner_client, owner.user)
    r = owner_client.post(url("member_role", member.pk), {"role": value}, **HTMX)
    assert r.status_code == 200
    body = r.content.decode()
    assert 'class="error" role="alert"' in body
    assert "<script>x" not in body
    member.refresh_from_db()
    assert member.role == Role.MEMBER


# --- Deactivate, reactivate, remove -----------------------------------------------------------


def test_deactivate_and_reactivate_htmx(owner_client, owner, member) -> None:
    r = owner_client.post(url("member_deactivate", member.pk), CONFIRMED, **HTMX)
    assert ">Deactivated<" in r.content.decode() and "Reactivate" in r.content.decode()
    assert "deactivated" in toast(r)
    member.refresh_from_db()
    assert member.status == MemberStatus.DEACTIVATED
    r = owner_client.post(url("member_reactivate", member.pk), **HTMX)
    assert ">Active<" in r.content.decode()
    assert toast(r) == "member@acme.test is active again."
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE
    actions = list(
        AuditEvent.objects.filter(target_id=str(member.pk)).values_list("action", flat=True)
    )
    assert Action.MEMBER_DEACTIVATED in actions and Action.MEMBER_REACTIVATED in actions


def test_deactivate_plain_redirects_with_message(owner_client, member) -> None:
    r = owner_client.post(url("member_deactivate", member.pk), CONFIRMED)
    assert r.status_code == 302 and r["Location"] == url("members")
    assert "can no longer sign in" in owner_client.get(r["Location"]).content.decode()


def test_deactivated_member_loses_access(owner_client, client, member) -> None:
    owner_client.post(url("member_deactivate", member.pk), CONFIRMED, **HTMX)
    other = Client()
    other.force_login(member.user)
    assert other.get(url("members")).status_code == 404


def test_deactivate_self_is_refused_inline(owner_client, owner) -> None:
    r = owner_client.post(url("member_deactivate", owner.pk), CONFIRMED, **HTMX)
    assert errors.CANNOT_CHANGE_SELF in r.content.decode()
    owner.refresh_from_db()
    assert owner.status == MemberStatus.ACTIVE


def test_admin_cannot_deactivate_or_remove_owner(admin_client_ws, owner) -> None:
    for name in ["member_deactivate", "member_remove"]:
        r = admin_client_ws.post(url(name, owner.pk), CONFIRMED, **HTMX)
        assert errors.ROLE_NOT_ALLOWED in r.content.decode()
    owner.refresh_from_db()
    assert owner.status == MemberStatus.ACTIVE


def test_last_owner_cannot_be_removed_by_deactivated_co_owner_path(
    client, workspace, owner
) -> None:
    # Two owners; one removes the other: fine. Then the remaining owner's removal by an
    # admin is refused (role), and by themself is refused (self): the workspace keeps one.
    second = MembershipFactory(workspace=workspace, role=Role.OWNER)
    client.force_login(second.user)
    r = client.post(url("member_remove", owner.pk), CONFIRMED, **HTMX)
    assert r.content == b"" and "removed" in toast(r)
    r = client.post(url("member_remove", second.pk), CONFIRMED, **HTMX)
    assert errors.CANNOT_CHANGE_SELF in r.content.decode()
    assert Membership.objects.filter(workspace=workspace, role=Role.OWNER).count() == 1


def test_remove_htmx_empties_the_row_and_audits(owner_client, owner, member) -> None:
    r = owner_client.post(url("member_remove", member.pk), CONFIRMED, **HTMX)
    assert r.status_code == 200 and r.content == b""
    assert toast(r) == "member@acme.test was removed from Acme."
    assert not Membership.objects.filter(pk=member.pk).exists()
    event = AuditEvent.objects.get(action=Action.MEMBER_REMOVED)
    assert event.target_repr == "member@acme.test" and event.actor == owner.user


def test_remove_opens_a_confirmation_naming_who_loses_access(owner_client, member) -> None:
    body = owner_client.get(url("members")).content.decode()
    row = body.split(f'<tr id="member-{member.pk}">', 1)[1].split("</tr>", 1)[0]
    link = url("member_remove", member.pk)
    assert f'href="{link}?" hx-get="{link}?" hx-target="#dialog-host"' in row
    dialog = owner_client.get(link, **HTMX).content.decode()
    assert f"Remove {member.user.name} from Acme?" in dialog and "loses access" in dialog


def test_remove_without_javascript_asks_for_confirmation_first(owner_client, member) -> None:
    r = owner_client.post(url("member_remove", member.pk), {"back": "q=mem"})
    assert r.status_code == 200
    body = r.content.decode()
    assert f"Remove {member.user.name} from Acme?" in body and 'name="confirmed"' in body
    assert Membership.objects.filter(pk=member.pk).exists()
    r = owner_client.post(url("member_remove", member.pk), {"confirmed": "1", "back": "q=mem"})
    assert r.status_code == 302 and r["Location"] == url("members") + "?q=mem"
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_remove_confirmation_page_by_get(owner_client, member) -> None:
    r = owner_client.get(url("member_remove", member.pk))
    assert r.status_code == 200 and "loses access" in r.content.decode()
    assert Membership.objects.filter(pk=member.pk).exists()


def test_member_cannot_open_the_remove_confirmation(member_client, owner) -> None:
    assert member_client.get(url("member_remove", owner.pk)).status_code == 403


def test_htmx_attributes_and_csrf_on_row_forms(owner_client, member) -> None:
    body = owner_client.get(url("members")).content.decode()
    row = body.split(f'<tr id="member-{member.pk}">', 1)[1].split("</tr>", 1)[0]
    assert (
        row.count("csrfmiddlewaretoken") == 1
    )  # one form per row, each button posting to its own action
    assert f'hx-target="#member-{member.pk}"' in row
    assert "style=" not in body and "onclick" not in body and "hx-on" not in body
