"""Confirmation of destructive actions (R-UI-1): each one asks first on a page (plain
requests) or in a dialog (HTMX) that names what will be lost, and only a post carrying
the confirm field acts. The browser's confirm() is used nowhere."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    Domain,
    Group,
    Invitation,
    InvitationStatus,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    MemberStatus,
    Workspace,
)
from accounts.roles import Role
from accounts.views.confirm import CONFIRM_FIELD
from tests.conftest import HTMX
from tests.factories import (
    DomainFactory,
    GroupFactory,
    InvitationFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def reauth(client: Client, user) -> None:
    """Mark the session as recently reauthenticated, the way allauth records it."""
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


@dataclass
class Case:
    """One destructive action: its URL, what its confirmation must name, and whether it
    has happened."""

    url: str
    names: list[str]
    done: Callable[[], bool]
    # Where the confirmed post of the dialog sends its answer ("" for a plain form).
    hx_target: str


@pytest.fixture
def ada(workspace: Workspace) -> Membership:
    m = MembershipFactory(
        workspace=workspace,
        role=Role.ADMIN,
        user=UserFactory(email="ada@acme.test", name="Ada Lovelace"),
    )
    for name in ("Research", "Analytics"):
        GroupFactory(workspace=workspace, name=name).members.add(m)
    return m


def _case(name: str, workspace: Workspace, owner: Membership, ada: Membership) -> Case:
    slug = workspace.slug
    if name == "member_remove":
        return Case(
            reverse("ws:member_remove", args=[slug, ada.pk]),
            ["Remove Ada Lovelace from Acme?", "Admin", "Analytics, Research"],
            lambda: not Membership.objects.filter(pk=ada.pk).exists(),
            f"#member-{ada.pk}",
        )
    if name == "member_deactivate":
        return Case(
            reverse("ws:member_deactivate", args=[slug, ada.pk]),
            ["Deactivate Ada Lovelace in Acme?", "ada@acme.test can no longer use Acme"],
            lambda: Membership.objects.get(pk=ada.pk).status == MemberStatus.DEACTIVATED,
            f"#member-{ada.pk}",
        )
    if name == "invitation_revoke":
        inv = InvitationFactory(workspace=workspace, email="grace@acme.test", invited_by=owner.user)
        inv.groups.add(Group.objects.get(workspace=workspace, name="Research"))
        return Case(
            reverse("ws:invitation_revoke", args=[slug, inv.pk]),
            ["Revoke the invitation to grace@acme.test?", "stops working", "Research"],
            lambda: Invitation.objects.get(pk=inv.pk).status == InvitationStatus.REVOKED,
            f"#inv-{inv.pk}",
        )
    if name == "group_delete":
        group = Group.objects.get(workspace=workspace, name="Research")
        return Case(
            reverse("ws:group_delete", args=[slug, group.pk]),
            ["Delete the group Research?", "Its 1 member (Ada Lovelace) lose"],
            lambda: not Group.objects.filter(pk=group.pk).exists(),
            f"#group-{group.pk}",
        )
    if name == "domain_remove":
        domain = DomainFactory(workspace=workspace, name="acme.org", verified_at=timezone.now())
        return Case(
            reverse("ws:domain_remove", args=[slug, domain.pk]),
            ["Remove the domain acme.org?", "no longer ask to join Acme"],
            lambda: not Domain.objects.filter(pk=domain.pk).exists(),
            f"#domain-{domain.pk}",
        )
    if name == "join_request_decline":
        jr = JoinRequest.objects.create(
            workspace=workspace, user=UserFactory(email="hopeful@acme.org")
        )
        return Case(
            reverse("ws:join_request_decline", args=[slug, jr.pk]),
            ["Decline the request of hopeful@acme.org to join Acme?", "cannot ask again"],
            lambda: JoinRequest.objects.get(pk=jr.pk).status == JoinRequestStatus.DECLINED,
            f"#jr-{jr.pk}",
        )
    assert name == "leave"
    return Case(
        reverse("ws:leave", args=[slug]),
        ["Leave Acme?", "Your role: Owner"],
        lambda: not Membership.objects.filter(pk=owner.pk).exists(),
        "",
    )


CASES = [
    "member_remove",
    "member_deactivate",
    "invitation_revoke",
    "group_delete",
    "domain_remove",
    "join_request_decline",
    "leave",
]


@pytest.fixture
def acting(owner_client: Client, owner: Membership, workspace: Workspace) -> Client:
    # A second owner, so that the first may leave; the session counts as reauthenticated
    # for the actions that ask for the password.
    MembershipFactory(workspace=workspace, role=Role.OWNER)
    reauth(owner_client, owner.user)
    return owner_client


@pytest.mark.parametrize("name", CASES)
def test_get_shows_a_confirmation_page_naming_what_is_lost(
    acting, workspace, owner, ada, name
) -> None:
    case = _case(name, workspace, owner, ada)
    response = acting.get(case.url)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    for text in case.names:
        assert text in html
    assert f'name="{CONFIRM_FIELD}" value="1"' in html
    assert f'action="{case.url}"' in html
    assert not case.done()


@pytest.mark.parametrize("name", CASES)
def test_htmx_get_answers_a_dialog(acting, workspace, owner, ada, name) -> None:
    case = _case(name, workspace, owner, ada)
    response = acting.get(case.url, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<dialog class="confirm-dialog')
    assert "HX-Request" in response["Vary"]
    for text in case.names:
        assert text in html
    if case.hx_target:
        assert f'hx-post="{case.url}"' in html and f'hx-target="{case.hx_target}"' in html
    else:
        assert "hx-post" not in html
    # Cancelling closes the dialog without a request.
    assert '<form method="dialog"' in html
    assert not case.done()


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
@pytest.mark.parametrize("name", CASES)
def test_post_without_the_confirm_field_only_asks(
    acting, workspace, owner, ada, name, headers
) -> None:
    case = _case(name, workspace, owner, ada)
    response = acting.post(case.url, {CONFIRM_FIELD: "yes please"}, **headers)
    assert response.status_code == 200
    assert case.names[0] in response.content.decode()
    assert not case.done()


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
@pytest.mark.parametrize("name", CASES)
def test_post_with_the_confirm_field_acts(acting, workspace, owner, ada, name, headers) -> None:
    case = _case(name, workspace, owner, ada)
    response = acting.post(case.url, {CONFIRM_FIELD: "1"}, **headers)
    assert response.status_code in (200, 302)
    assert case.done()


def test_member_cannot_open_a_confirmation(member_client, owner) -> None:
    assert (
        member_client.get(reverse("ws:member_remove", args=["acme", owner.pk])).status_code == 403
    )


def test_group_delete_from_its_page_ends_on_the_list(acting, workspace, ada) -> None:
    group = Group.objects.get(workspace=workspace, name="Research")
    url = reverse("ws:group_delete", args=["acme", group.pk]) + "?from=detail"
    dialog = acting.get(url, **HTMX).content.decode()
    # The page it was asked from disappears: the dialog's form posts plainly.
    assert "hx-post" not in dialog and 'name="from" value="detail"' in dialog
    response = acting.post(
        reverse("ws:group_delete", args=["acme", group.pk]), {CONFIRM_FIELD: "1", "from": "detail"}
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "ws:groups", args=["acme"]
    )


def test_group_delete_names_at_most_five_members(acting, workspace) -> None:
    group = GroupFactory(workspace=workspace, name="Everyone")
    for i in range(7):
        group.members.add(
            MembershipFactory(workspace=workspace, user=UserFactory(name=f"Person {i}"))
        )
    html = acting.get(reverse("ws:group_delete", args=["acme", group.pk])).content.decode()
    assert "Its 7 members (" in html and "and 2 more) lose" in html


def test_pages_offer_the_confirmations_instead_of_the_browsers_confirm(
    acting, workspace, owner, ada
) -> None:
    _case("invitation_revoke", workspace, owner, ada)
    _case("domain_remove", workspace, owner, ada)
    _case("join_request_decline", workspace, owner, ada)
    group = Group.objects.get(workspace=workspace, name="Research")
    pages = {
        reverse("ws:members", args=["acme"]): [f"/w/acme/members/{ada.pk}/remove/"],
        reverse("ws:invitations", args=["acme"]): ["/revoke/"],
        reverse("ws:groups", args=["acme"]): [f"/w/acme/groups/{group.pk}/delete/"],
        reverse("ws:group_detail", args=["acme", group.pk]): [
            f"/w/acme/groups/{group.pk}/delete/?from=detail"
        ],
        reverse("ws:domains", args=["acme"]): ["/remove/", "/decline/"],
        reverse("ws:overview", args=["acme"]): ["/w/acme/leave/"],
    }
    for page, links in pages.items():
        html = acting.get(page).content.decode()
        assert "hx-confirm" not in html, page
        for link in links:
            # A link (works without JavaScript) that htmx opens as the dialog.
            assert re.search(
                rf'href="[^"]*{re.escape(link)}[^"]*" hx-get="[^"]*{re.escape(link)}[^"]*" '
                r'hx-target="#dialog-host"',
                html,
            ), (page, link)


def test_no_template_uses_the_browsers_confirm() -> None:
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text()
        if "hx-confirm" in text or re.search(r"\bconfirm\(", text):
            offenders.append(str(path))
    for path in Path(settings.BASE_DIR, "static").rglob("*.js"):
        if re.search(r"\b(window\.)?confirm\(", path.read_text()):
            offenders.append(str(path))
    assert offenders == []
