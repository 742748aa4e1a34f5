"""The feature pages (R-WS-6, R-FEAT-1, R-FEAT-2, R-MEDIA-2, R-UI-1): the admins' matrix
and its cells, the "why" popover, and My features with the user's own switch."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.actor import Actor
from accounts.models import AuditEvent, Workspace
from accounts.roles import Role
from billing.models import Plan
from billing.services import subscription_start
from compliance.models import EditorialAuthorization, MediaSource, MediaStatusChange, RequestStatus
from features import errors
from features.audit import Action
from features.models import FeatureOptOut, FeatureRule
from tests.conftest import HTMX, login
from tests.factories import (
    FeatureOptOutFactory,
    FeatureRuleFactory,
    GroupFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def url(name: str, *args: object, slug: str = "acme") -> str:
    return reverse(f"ws:{name}", args=[slug, *args])


def trigger(response) -> dict:
    return json.loads(response["HX-Trigger"]) if "HX-Trigger" in response else {}


def toast(response) -> str:
    return trigger(response)["toast"]["message"]


def on_team_plan(ws: Workspace) -> None:
    subscription_start(actor=Actor.system(), workspace=ws, plan=Plan.objects.get(slug="team"))


def media_customer(ws: Workspace) -> None:
    MediaStatusChange.objects.create(workspace=ws, is_media_customer=True, source=MediaSource.SELF)


def rule_post(client: Client, *, htmx: bool = True, **data: object):
    return client.post(url("feature_rule"), data, **(HTMX if htmx else {}))


def between(body: str, start: str, end: str) -> str:
    return body.split(start, 1)[1].split(end, 1)[0]


@pytest.fixture
def group(workspace, member):
    g = GroupFactory(workspace=workspace, name="Contractors")
    g.members.add(member)
    return g


# --- Access --------------------------------------------------------------------------------


def test_member_gets_403_on_the_admin_page_and_its_actions(member_client, member) -> None:
    assert member_client.get(url("features")).status_code == 403
    assert member_client.get(url("feature_why", member.pk, "web_search")).status_code == 403
    r = rule_post(member_client, feature="web_search", effect="deny", target="workspace")
    assert r.status_code == 403
    assert not FeatureRule.objects.exists()


def test_billing_member_gets_403_too(client, workspace, owner) -> None:
    billing = MembershipFactory(workspace=workspace, role=Role.BILLING)
    assert login(client, billing.user).get(url("features")).status_code == 403


def test_admin_and_owner_see_the_page(admin_client_ws, workspace) -> None:
    r = admin_client_ws.get(url("features"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "<html" in body and 'id="workspace-rules"' in body and 'id="members-matrix"' in body
    assert 'id="groups-matrix"' in body


def test_navigation_links(admin_member, member) -> None:
    body = login(Client(), admin_member.user).get(url("my_features")).content.decode()
    assert f'href="{url("features")}"' in body and f'href="{url("my_features")}"' in body
    body = login(Client(), member.user).get(url("my_features")).content.decode()
    assert f'href="{url("features")}"' not in body and f'href="{url("my_features")}"' in body


# --- The matrix ----------------------------------------------------------------------------


def test_workspace_section_lists_every_feature_with_plan_and_decision(
    owner_client, workspace
) -> None:
    FeatureRuleFactory(workspace=workspace, feature="canvas", effect="deny")
    body = owner_client.get(url("features")).content.decode()
    for label in (
        "Web search",
        "Verified news",
        "Image generation",
        "Fine-tuning",
        "Agent sharing",
    ):
        assert label in body
    # Free plan (no subscription): image generation is not in it.
    image = between(body, '<tr id="feature-image_generation">', "</tr>")
    assert "Not in your plan" in image and f'href="{url("plans")}"' in image
    assert "Not included in the Free plan." in image
    canvas = between(body, '<tr id="feature-canvas">', "</tr>")
    assert '<option value="deny" selected>' in canvas
    assert "Turned off for the whole workspace by an admin." in canvas
    web = between(body, '<tr id="feature-web_search">', "</tr>")
    assert '<option value="inherit" selected>' in web and "Included" in web
    assert 'for="rule-w-web_search">Web search for everyone</label>' in web


def test_groups_and_members_show_their_rules_and_decisions(
    owner_client, workspace, member, group
) -> None:
    on_team_plan(workspace)
    FeatureRuleFactory(workspace=workspace, group=group, feature="web_search", effect="deny")
    FeatureRuleFactory(workspace=workspace, membership=member, feature="memory", effect="allow")
    body = owner_client.get(url("features")).content.decode()
    groups = between(body, 'id="groups-matrix"', "</table>")
    assert "Contractors" in groups
    cell = between(groups, f'id="rule-g{group.pk}-web_search"', "</select>")
    assert '<option value="deny" selected>' in cell
    row = between(body, f'<tr id="member-{member.pk}">', "</tr>")
    search = between(row, f'id="rule-m{member.pk}-web_search"', "</td>")
    assert '<option value="inherit" selected>' in search
    assert (
        "Denied: why?" in search and "Turned off for the group Contractors by an admin." in search
    )
    assert url("feature_why", member.pk, "web_search") in search
    memory = between(row, f'id="rule-m{member.pk}-memory"', "</td>")
    assert '<option value="allow" selected>' in memory and "Allowed: why?" in memory


def test_member_search_and_htmx_partial(owner_client, workspace, member) -> None:
    MembershipFactory(
        workspace=workspace, user=UserFactory(email="zoe@acme.test", name="Zoe Quill")
    )
    r = owner_client.get(url("features"), {"q": "zoe"}, HTTP_HX_TARGET="members-matrix", **HTMX)
    body = r.content.decode()
    assert body.lstrip().startswith('<div id="members-matrix"') and "<html" not in body
    assert "zoe@acme.test" in body and "member@acme.test" not in body
    assert "1 member match" in body
    r = owner_client.get(url("features"), {"q": "QUILL"})
    assert "zoe@acme.test" in r.content.decode()
    r = owner_client.get(
        url("features"), {"q": "nobody-here"}, HTTP_HX_TARGET="members-matrix", **HTMX
    )
    assert "No member matches this search" in r.content.decode()


def test_groups_htmx_partial(owner_client, group) -> None:
    r = owner_client.get(url("features"), HTTP_HX_TARGET="groups-matrix", **HTMX)
    body = r.content.decode()
    assert (
        body.lstrip().startswith('<div id="groups-matrix"')
        and "Contractors" in body
        and "members-matrix" not in body
    )


def test_members_are_paged_by_50(owner_client, workspace, owner) -> None:
    for _ in range(51):
        MembershipFactory(workspace=workspace)
    body = owner_client.get(url("features")).content.decode()
    assert body.count('<tr id="member-') == 50 and "Page 1 of 2" in body
    body = owner_client.get(url("features"), {"page": 2}).content.decode()
    assert body.count('<tr id="member-') == 2


def test_news_is_locked_for_a_media_customer(owner_client, workspace, member, group) -> None:
    media_customer(workspace)
    body = owner_client.get(url("features")).content.decode()
    assert "Media Customer:" in body and f'href="{url("compliance")}"' in body
    news = between(body, '<tr id="feature-news">', "</tr>")
    assert 'id="rule-w-news" name="effect" class="rule rule-inherit" disabled' in news
    assert (
        "admins cannot switch verified news on" in news
        and "Request an editorial-use authorization" in news
    )
    assert "Set</button>" not in news
    # Groups and members: news may be denied or inherited, never allowed.
    group_news = between(body, f'id="rule-g{group.pk}-news"', "</select>")
    assert '<option value="allow" disabled>' in group_news
    member_news = between(body, f'id="rule-m{member.pk}-news"', "</td>")
    assert '<option value="allow" disabled>' in member_news and "Media Customer" in member_news
    # Other features are untouched.
    assert '<option value="allow" disabled>' not in between(
        body, '<tr id="feature-canvas">', "</tr>"
    )


def test_news_can_still_be_denied_for_everyone_under_an_editorial_authorization(
    owner_client, workspace
) -> None:
    media_customer(workspace)
    EditorialAuthorization.objects.create(
        workspace=workspace,
        reason="Newsroom",
        requested_scope="Everyone",
        status=RequestStatus.APPROVED,
        ends_on=timezone.now().date() + timedelta(days=30),
    )
    news = between(
        owner_client.get(url("features")).content.decode(), '<tr id="feature-news">', "</tr>"
    )
    assert 'class="rule rule-inherit">' in news and '<option value="allow" disabled>' in news
    r = rule_post(owner_client, feature="news", effect="deny", target="workspace")
    assert toast(r) == "Verified news: denied for everyone."


def test_groups_are_paged_and_plain_posts_come_back_to_the_page(owner_client, workspace) -> None:
    groups = [GroupFactory(workspace=workspace, name=f"Team {i:02d}") for i in range(26)]
    body = owner_client.get(url("features")).content.decode()
    assert 'aria-label="Pages of groups"' in body and "Team 24" in body and "Team 25" not in body
    r = owner_client.get(url("features"), {"gpage": 2}, HTTP_HX_TARGET="groups-matrix", **HTMX)
    page = r.content.decode()
    assert (
        page.lstrip().startswith('<div id="groups-matrix"')
        and "Team 25" in page
        and "Team 00" not in page
    )
    assert 'name="back" value="gpage=2"' in page
    r = rule_post(
        owner_client,
        htmx=False,
        feature="canvas",
        effect="allow",
        target="group",
        target_id=groups[25].pk,
        back="gpage=2",
    )
    assert r["Location"] == f"{url('features')}?gpage=2#group-rules"


def test_news_allow_for_a_media_customer_is_an_error_in_the_cell(
    owner_client, workspace, member
) -> None:
    media_customer(workspace)
    r = rule_post(
        owner_client, feature="news", effect="allow", target="member", target_id=member.pk
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert body.startswith('<td class="fcell">') and errors.NEWS_MEDIA_CUSTOMER in body
    assert '<option value="inherit" selected>' in body and 'aria-invalid="true"' in body
    assert "toast" not in trigger(r)
    r = rule_post(owner_client, feature="news", effect="allow", target="workspace")
    assert r.status_code == 200 and r.content.decode().lstrip().startswith('<tr id="feature-news">')
    assert errors.NEWS_MEDIA_CUSTOMER in r.content.decode()
    assert not FeatureRule.objects.exists()


# --- Setting a cell ------------------------------------------------------------------------


def test_workspace_rule_by_htmx_returns_the_row_a_toast_and_the_change_event(
    owner_client, workspace
) -> None:
    r = rule_post(owner_client, feature="canvas", effect="deny", target="workspace")
    assert r.status_code == 200
    body = r.content.decode()
    assert body.lstrip().startswith('<tr id="feature-canvas">') and "<html" not in body
    assert '<option value="deny" selected>' in body and "Turned off for the whole workspace" in body
    events = trigger(r)
    assert (
        events["toast"]["message"] == "Canvas: denied for everyone."
        and "features-changed" in events
    )
    rule = FeatureRule.objects.get()
    assert (rule.feature, rule.effect, rule.group, rule.membership) == (
        "canvas",
        "deny",
        None,
        None,
    )
    assert AuditEvent.objects.filter(action=Action.FEATURE_RULE_CHANGED).count() == 1


def test_group_rule_by_htmx_returns_the_cell(owner_client, workspace, group) -> None:
    r = rule_post(
        owner_client, feature="web_search", effect="deny", target="group", target_id=group.pk
    )
    body = r.content.decode()
    assert body.startswith('<td class="fcell">') and f'id="rule-g{group.pk}-web_search"' in body
    assert '<option value="deny" selected>' in body
    assert toast(
        r
    ) == "Web search: denied for the group Contractors." and "features-changed" in trigger(r)
    assert FeatureRule.objects.get().group == group


def test_member_rule_by_htmx_returns_the_cell_with_the_decision(
    owner_client, workspace, member
) -> None:
    r = rule_post(
        owner_client, feature="canvas", effect="deny", target="member", target_id=member.pk
    )
    body = r.content.decode()
    assert body.startswith('<td class="fcell">') and "Denied: why?" in body
    assert "Turned off for this member by an admin." in body
    assert toast(r) == "Canvas: denied for member@acme.test." and "features-changed" not in trigger(
        r
    )
    r = rule_post(
        owner_client, feature="canvas", effect="inherit", target="member", target_id=member.pk
    )
    assert "Allowed: why?" in r.content.decode() and not FeatureRule.objects.exists()
    assert "inherited from the level above" in toast(r)


def test_plain_post_redirects_back_with_a_message(owner_client, workspace, member) -> None:
    r = rule_post(
        owner_client,
        htmx=False,
        feature="canvas",
        effect="deny",
        target="member",
        target_id=member.pk,
        back="q=mem&page=1&evil=1",
    )
    assert r.status_code == 302
    assert r["Location"] == f"{url('features')}?q=mem&page=1#member-rules"
    page = owner_client.get(r["Location"]).content.decode()
    assert "Canvas: denied for member@acme.test." in page
    assert FeatureRule.objects.get().effect == "deny"


def test_plain_post_error_redirects_with_the_error(owner_client, workspace) -> None:
    media_customer(workspace)
    r = rule_post(owner_client, htmx=False, feature="news", effect="allow", target="workspace")
    assert r.status_code == 302 and r["Location"].endswith("#workspace-rules")
    assert errors.NEWS_MEDIA_CUSTOMER in owner_client.get(r["Location"]).content.decode()


@pytest.mark.parametrize(
    ("data", "message", "start"),
    [
        (
            {"feature": "teleportation", "effect": "deny", "target": "member"},
            errors.UNKNOWN_FEATURE,
            "<td",
        ),
        (
            {"feature": "teleportation", "effect": "deny", "target": "workspace"},
            errors.UNKNOWN_FEATURE,
            "<tr>",
        ),
        ({"feature": "canvas", "effect": "deny", "target": "planet"}, errors.UNKNOWN_TARGET, "<td"),
        (
            {"feature": "canvas", "effect": "deny", "target": "group"},
            errors.TARGET_ID_MISSING,
            "<td",
        ),
    ],
)
def test_malformed_cells_answer_200_with_the_error(owner_client, data, message, start) -> None:
    r = rule_post(owner_client, **data)
    assert r.status_code == 200
    body = r.content.decode()
    assert body.startswith(start) and message in body and 'role="alert"' in body
    assert not FeatureRule.objects.exists()


def test_bad_effect_redraws_the_real_cell_with_the_error(owner_client, group) -> None:
    r = rule_post(
        owner_client, feature="canvas", effect="sometimes", target="group", target_id=group.pk
    )
    body = r.content.decode()
    assert (
        r.status_code == 200
        and f'id="rule-g{group.pk}-canvas"' in body
        and errors.UNKNOWN_EFFECT in body
    )


def test_target_of_another_workspace_is_404(owner_client, other_workspace_member) -> None:
    foreign = GroupFactory(workspace=other_workspace_member.workspace)
    r = rule_post(
        owner_client, feature="canvas", effect="deny", target="group", target_id=foreign.pk
    )
    assert r.status_code == 404
    r = rule_post(
        owner_client,
        feature="canvas",
        effect="deny",
        target="member",
        target_id=other_workspace_member.pk,
    )
    assert r.status_code == 404
    assert not FeatureRule.objects.exists()


def test_suspended_workspace_refuses_changes(owner_client, workspace, owner) -> None:
    from accounts.services import workspace_suspend  # noqa: PLC0415

    workspace_suspend(actor=Actor.system(), workspace=workspace, reason="Unpaid")
    r = rule_post(owner_client, feature="canvas", effect="deny", target="workspace")
    assert r.status_code == 403 and not FeatureRule.objects.exists()


# --- The "why" popover ---------------------------------------------------------------------


def test_why_popover_shows_the_decision_chain(owner_client, workspace, member, group) -> None:
    on_team_plan(workspace)
    FeatureRuleFactory(workspace=workspace, group=group, feature="web_search", effect="deny")
    r = owner_client.get(url("feature_why", member.pk, "web_search"), **HTMX)
    body = r.content.decode()
    assert (
        r.status_code == 200
        and body.lstrip().startswith('<div class="why-chain">')
        and "<html" not in body
    )
    assert "Web search for member@acme.test: denied." in body
    assert "Turned off for the group Contractors by an admin." in body
    for label in ("Compliance", "Plan: Team", "Workspace rule", "Group: Contractors"):
        assert f'<span class="step-label">{label}</span>' in body
    assert 'badge-danger">Deny</span>' in body


def test_why_works_as_a_page_without_javascript(owner_client, member) -> None:
    r = owner_client.get(url("feature_why", member.pk, "canvas"))
    body = r.content.decode()
    assert r.status_code == 200 and "<html" in body and "Back to Features" in body
    assert "Canvas for member@acme.test: allowed." in body and "Own switch" in body


def test_why_unknown_feature_or_foreign_member_is_404(
    owner_client, member, other_workspace_member
) -> None:
    assert owner_client.get(url("feature_why", member.pk, "teleportation")).status_code == 404
    assert (
        owner_client.get(url("feature_why", other_workspace_member.pk, "canvas")).status_code == 404
    )


# --- My features ---------------------------------------------------------------------------


def test_my_features_lists_every_feature_with_the_decision(
    member_client, workspace, member, group
) -> None:
    on_team_plan(workspace)
    FeatureRuleFactory(workspace=workspace, group=group, feature="web_search", effect="deny")
    r = member_client.get(url("my_features"))
    assert r.status_code == 200
    body = r.content.decode()
    assert body.count('<tr id="my-') == 12
    web = between(body, '<tr id="my-web_search">', "</tr>")
    assert "Denied" in web and "Turned off for the group Contractors by an admin." in web
    assert 'role="switch"' not in web
    canvas = between(body, '<tr id="my-canvas">', "</tr>")
    assert "Allowed" in canvas and 'role="switch" aria-checked="true"' in canvas
    agents = between(body, '<tr id="my-agents">', "</tr>")
    assert 'role="switch"' not in agents and "Not switchable by users" in agents
    fine_tuning = between(body, '<tr id="my-fine_tuning">', "</tr>")
    assert "Not included in the Team plan." in fine_tuning


def test_my_features_of_a_media_customer_explains_news(member_client, workspace) -> None:
    media_customer(workspace)
    news = between(
        member_client.get(url("my_features")).content.decode(), '<tr id="my-news">', "</tr>"
    )
    assert "Denied" in news and "Media Customer" in news and 'role="switch"' not in news


def test_switch_off_and_on_by_htmx(member_client, member) -> None:
    r = member_client.post(url("my_feature_switch"), {"feature": "canvas", "on": "0"}, **HTMX)
    assert r.status_code == 200
    body = r.content.decode()
    assert body.lstrip().startswith('<tr id="my-canvas">') and "<html" not in body
    assert (
        "Switched off" in body and 'aria-checked="false"' in body and 'name="on" value="1"' in body
    )
    assert toast(r) == "Canvas switched off."
    assert FeatureOptOut.objects.filter(membership=member, feature="canvas").exists()

    r = member_client.post(url("my_feature_switch"), {"feature": "canvas", "on": "1"}, **HTMX)
    assert 'aria-checked="true"' in r.content.decode() and toast(r) == "Canvas switched on."
    assert not FeatureOptOut.objects.exists()
    assert AuditEvent.objects.filter(action=Action.FEATURE_SWITCHED).count() == 2


def test_switch_without_javascript_redirects(member_client, member) -> None:
    r = member_client.post(url("my_feature_switch"), {"feature": "canvas", "on": "0"})
    assert r.status_code == 302 and r["Location"] == url("my_features")
    page = member_client.get(r["Location"]).content.decode()
    assert "Canvas switched off." in page and FeatureOptOut.objects.count() == 1


def test_switch_refused_when_an_admin_denies(member_client, workspace, member) -> None:
    FeatureRuleFactory(workspace=workspace, feature="canvas", effect="deny")
    r = member_client.post(url("my_feature_switch"), {"feature": "canvas", "on": "0"}, **HTMX)
    assert r.status_code == 200
    body = r.content.decode()
    assert (
        "You cannot switch Canvas on or off" in body
        and 'role="alert"' in body
        and "toast" not in trigger(r)
    )
    assert not FeatureOptOut.objects.exists()
    r = member_client.post(url("my_feature_switch"), {"feature": "canvas", "on": "0"})
    assert "You cannot switch Canvas on or off" in member_client.get(r["Location"]).content.decode()


def test_switch_of_a_feature_users_cannot_switch_or_unknown(member_client) -> None:
    r = member_client.post(url("my_feature_switch"), {"feature": "agents", "on": "0"}, **HTMX)
    assert errors.NOT_SWITCHABLE.format(feature="Agents") in r.content.decode()
    r = member_client.post(
        url("my_feature_switch"), {"feature": "teleportation", "on": "0"}, **HTMX
    )
    assert (
        r.status_code == 200
        and r.content.decode().startswith("<tr><td")
        and errors.UNKNOWN_FEATURE in r.content.decode()
    )
    assert not FeatureOptOut.objects.exists()


def test_switch_acts_on_ones_own_membership_only(member_client, member, owner) -> None:
    member_client.post(
        url("my_feature_switch"), {"feature": "canvas", "on": "0", "membership": owner.pk}, **HTMX
    )
    assert FeatureOptOut.objects.get().membership == member


# --- Query counts --------------------------------------------------------------------------


def _fill(workspace: Workspace, members: int, groups: int) -> None:
    made = [GroupFactory(workspace=workspace) for _ in range(groups)]
    for i in range(members):
        m = MembershipFactory(workspace=workspace)
        made[i % groups].members.add(m)
        made[(i + 1) % groups].members.add(m)
        FeatureRuleFactory(workspace=workspace, membership=m, feature="memory", effect="allow")
        FeatureOptOutFactory(workspace=workspace, membership=m, feature="canvas")
    for g in made:
        FeatureRuleFactory(workspace=workspace, group=g, feature="web_search", effect="deny")
    FeatureRule.objects.update_or_create(
        workspace=workspace,
        feature="connectors",
        group=None,
        membership=None,
        defaults={"effect": "deny"},
    )


def _queries(client: Client, path: str, **extra: str) -> int:
    client.get(path, **extra)  # session bookkeeping happens once, on the first request
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path, **extra).status_code == 200
    return len(ctx.captured_queries)


def test_matrix_queries_do_not_grow_with_members_groups_and_rules(owner_client, workspace) -> None:
    on_team_plan(workspace)
    media_customer(workspace)
    _fill(workspace, members=5, groups=1)
    small = _queries(owner_client, url("features"))
    small_part = _queries(owner_client, url("features"), HTTP_HX_TARGET="members-matrix", **HTMX)
    _fill(workspace, members=40, groups=5)
    assert _queries(owner_client, url("features")) == small
    assert (
        _queries(owner_client, url("features"), HTTP_HX_TARGET="members-matrix", **HTMX)
        == small_part
    )
    assert small <= 25


def test_my_features_queries_do_not_grow(member_client, workspace, member) -> None:
    on_team_plan(workspace)
    _fill(workspace, members=2, groups=1)
    small = _queries(member_client, url("my_features"))
    _fill(workspace, members=20, groups=6)
    for g in workspace.groups.all():
        g.members.add(member)
    assert _queries(member_client, url("my_features")) == small


def test_names_in_cells_are_escaped(owner_client, workspace) -> None:
    g = GroupFactory(workspace=workspace, name='<img src=x onerror="alert(1)">')
    m = MembershipFactory(
        workspace=workspace, user=UserFactory(email="x@acme.test", name="<b>Bold</b>")
    )
    body = owner_client.get(url("features")).content.decode()
    assert "<img src=x" not in body and "<b>Bold</b>" not in body
    assert (
        f'for="rule-g{g.pk}-canvas">Canvas for the group &lt;img src=x onerror=&quot;alert(1)&quot;&gt;</label>'
        in body
    )
    assert f'id="rule-m{m.pk}-canvas"' in body


# --- One form per table, lazy blocks of members, page weight -------------------------------


def block_get(client: Client, n: int, **params: object):
    return client.get(
        url("features"), {"block": n, **params}, HTTP_HX_TARGET=f"members-block-{n}", **HTMX
    )


def cell_post(client: Client, name: str, value: str, *, htmx: bool = True, **data: object):
    """A table's form as the browser posts it: with htmx the select that changed names
    itself in HX-Trigger-Name; without, the whole form goes."""
    extra = {**HTMX, "HTTP_HX_TRIGGER_NAME": name} if htmx else {}
    return client.post(url("feature_rule"), {name: value, **data}, **extra)


def test_groups_and_members_are_one_form_per_table(owner_client, workspace, group) -> None:
    for _ in range(30):
        MembershipFactory(workspace=workspace)
    body = owner_client.get(url("features")).content.decode()
    # The whole workspace's 12 rules, the groups' table, the members' table, the members'
    # search and sign-out; the search sends no token.
    assert body.count("<form") == 12 + 2 + 1 + 1
    assert body.count('name="csrfmiddlewaretoken"') == 12 + 2 + 1
    groups = between(body, 'id="groups-matrix"', "</form>")
    assert groups.count("<form") == 1 and groups.count("<select") == 12
    assert f'name="g{group.pk}:canvas:inherit"' in groups
    members = between(body, 'id="members-matrix"', "</form>")
    assert members.count("<form") == 1
    # Without JavaScript, one button per table posts it.
    assert 'name="save" value="members"' in members and 'name="save" value="groups"' in groups


def test_members_beyond_the_first_block_load_as_they_scroll_into_view(
    owner_client, workspace, owner
) -> None:
    for _ in range(24):
        MembershipFactory(workspace=workspace)
    body = owner_client.get(url("features")).content.decode()
    assert "{#" not in body and "{%" not in body
    # Every member of the page is named; only the first block of 10 has its cells.
    assert body.count('<tr id="member-') == 25
    assert body.count('id="rule-m') == 10 * 12
    assert '<tbody id="members-block-1">' in body
    for n in (2, 3):
        lazy = between(body, f'<tbody id="members-block-{n}"', "</tbody>")
        assert 'hx-trigger="intersect once"' in lazy and 'hx-swap="outerHTML"' in lazy
        assert f'hx-get="{url("features")}?block={n}"' in lazy
        assert f'href="{url("features")}?block={n}#members-block-{n}"' in lazy
    assert "Show the rules of these 5 members" in between(body, "members-block-3", "</tbody>")

    r = block_get(owner_client, 3)
    part = r.content.decode()
    assert r.status_code == 200 and part.startswith('<tbody id="members-block-3">')
    assert "<html" not in part and part.count('<tr id="member-') == 5
    assert part.count('id="rule-m') == 5 * 12 and part.count(": why?") == 5 * 12
    assert "hx-get" not in part.split(">", 1)[0]
    # A block past the end (members left meanwhile) comes back empty, not as another block.
    assert block_get(owner_client, 4).content.decode().strip() == (
        '<tbody id="members-block-4">\n</tbody>'
    )


def test_without_javascript_a_block_link_draws_that_block(owner_client, workspace, owner) -> None:
    made = [MembershipFactory(workspace=workspace) for _ in range(14)]
    r = owner_client.get(url("features"), {"block": 2, "q": "acme"})
    body = r.content.decode()
    block = between(body, '<tbody id="members-block-2">', "</tbody>")
    assert block.count('<tr id="member-') == 5 and block.count("<select") == 5 * 12
    assert 'hx-get="' + url("features") + '?q=acme&amp;block=1"' in body
    # The way back after a plain post keeps the search and the block.
    assert 'name="back" value="q=acme&amp;block=2"' in body
    assert f'id="rule-m{made[0].pk}-canvas"' in block


def test_a_cell_sent_by_htmx_sets_that_rule_alone(owner_client, workspace, member, group) -> None:
    FeatureRule.objects.create(
        workspace=workspace, membership=member, feature="memory", effect="allow"
    )
    r = cell_post(
        owner_client,
        f"m{member.pk}:canvas:inherit",
        "deny",
        # htmx sends the one select; other changed-looking cells in a body are not applied.
        **{f"m{member.pk}:memory:inherit": "deny", f"g{group.pk}:canvas:inherit": "deny"},
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert body.startswith('<td class="fcell">') and f'name="m{member.pk}:canvas:deny"' in body
    assert '<option value="deny" selected>' in body and "Denied: why?" in body
    assert toast(r) == "Canvas: denied for member@acme.test." and "features-changed" not in trigger(
        r
    )
    rules = {(r.feature, r.effect) for r in FeatureRule.objects.all()}
    assert rules == {("canvas", "deny"), ("memory", "allow")}

    r = cell_post(owner_client, f"g{group.pk}:web_search:inherit", "deny")
    assert f'id="rule-g{group.pk}-web_search"' in r.content.decode()
    assert toast(
        r
    ) == "Web search: denied for the group Contractors." and "features-changed" in trigger(r)
    assert FeatureRule.objects.get(group=group).effect == "deny"


def test_a_table_posted_without_javascript_sets_the_changed_cells_and_comes_back(
    owner_client, workspace, member, group
) -> None:
    # Another admin allowed memory for the member after this page was drawn with "inherit".
    FeatureRule.objects.create(
        workspace=workspace, membership=member, feature="memory", effect="allow"
    )
    r = cell_post(
        owner_client,
        f"m{member.pk}:canvas:inherit",
        "deny",
        htmx=False,
        **{
            f"m{member.pk}:memory:inherit": "inherit",  # untouched: the other admin's rule stays
            f"m{member.pk}:agents:inherit": "allow",
            "back": "q=mem&block=2&evil=1",
            "save": "members",
        },
    )
    assert r.status_code == 302
    assert r["Location"] == f"{url('features')}?q=mem&block=2#member-{member.pk}"
    rules = {(r.feature, r.effect) for r in FeatureRule.objects.filter(membership=member)}
    assert rules == {("canvas", "deny"), ("agents", "allow"), ("memory", "allow")}
    page = owner_client.get(r["Location"]).content.decode()
    assert "Canvas: denied for member@acme.test." in page
    assert "Agents: allowed for member@acme.test." in page

    r = cell_post(owner_client, f"g{group.pk}:canvas:inherit", "inherit", htmx=False, save="groups")
    assert r["Location"] == f"{url('features')}#group-rules"
    assert "No rule was changed." in owner_client.get(r["Location"]).content.decode()


def test_a_table_post_error_is_named_after_its_cell(owner_client, workspace, member) -> None:
    media_customer(workspace)
    r = cell_post(owner_client, f"m{member.pk}:news:inherit", "allow", htmx=False)
    assert r["Location"] == f"{url('features')}#member-{member.pk}"
    page = owner_client.get(r["Location"]).content.decode()
    assert f"Verified news for member@acme.test: {errors.NEWS_MEDIA_CUSTOMER}" in page
    r = cell_post(owner_client, f"m{member.pk}:news:inherit", "allow")
    body = r.content.decode()
    assert r.status_code == 200 and body.startswith('<td class="fcell">')
    assert errors.NEWS_MEDIA_CUSTOMER in body and 'aria-invalid="true"' in body
    assert not FeatureRule.objects.exists()


@pytest.mark.parametrize(
    ("name", "value", "message", "real_cell"),
    [
        ("m{pk}:teleportation:inherit", "deny", errors.UNKNOWN_FEATURE, False),
        ("m{pk}:canvas:inherit", "sometimes", errors.UNKNOWN_EFFECT, True),
        ("x{pk}:canvas:inherit", "deny", errors.UNKNOWN_TARGET, False),
        ("m{pk}:canvas", "deny", errors.UNKNOWN_TARGET, False),
    ],
)
def test_forged_cells_answer_200_with_the_error(
    owner_client, member, name, value, message, real_cell
) -> None:
    r = cell_post(owner_client, name.format(pk=member.pk), value)
    body = r.content.decode()
    assert r.status_code == 200 and body.startswith('<td class="fcell">')
    assert message in body and 'role="alert"' in body
    assert (f'id="rule-m{member.pk}-canvas"' in body) is real_cell
    assert not FeatureRule.objects.exists()


def test_cells_of_another_workspace_are_404(owner_client, member, other_workspace_member) -> None:
    foreign = GroupFactory(workspace=other_workspace_member.workspace)
    assert cell_post(owner_client, f"g{foreign.pk}:canvas:inherit", "deny").status_code == 404
    name = f"m{other_workspace_member.pk}:canvas:inherit"
    assert cell_post(owner_client, name, "deny").status_code == 404
    # Without JavaScript, a foreign cell among others changes nothing at all.
    r = cell_post(
        owner_client, name, "deny", htmx=False, **{f"m{member.pk}:canvas:inherit": "deny"}
    )
    assert r.status_code == 404 and not FeatureRule.objects.exists()


def test_a_member_cell_links_to_its_decision_chain(owner_client, member) -> None:
    body = owner_client.get(url("features")).content.decode()
    cell = between(body, f'id="rule-m{member.pk}-canvas"', "</td>")
    # A link without JavaScript; console.js opens the chain in a popover instead.
    assert f'<a class="why-mark dec-yes" href="{url("feature_why", member.pk, "canvas")}"' in cell
    assert 'aria-label="Allowed: why?"' in cell


def test_matrix_page_weight_for_50_members_by_12_features(owner_client, workspace, owner) -> None:
    """A full page of members and of groups, with rules at every level: the page, not
    the blocks loaded as they scroll into view, stays under 200 KB."""
    on_team_plan(workspace)
    _fill(workspace, members=49, groups=25)
    r = owner_client.get(url("features"))
    body = r.content.decode()
    assert body.count('<tr id="member-') == 50 and body.count('<tr id="group-') == 25
    assert len(r.content) < 200 * 1024, f"{len(r.content):,} bytes"
    blocks = [block_get(owner_client, n) for n in range(2, 6)]
    assert all(b.content.decode().count('<tr id="member-') == 10 for b in blocks)
    # A block is its rows alone, without the shell or the other sections.
    assert all(len(b.content) < 64 * 1024 for b in blocks)


def test_block_and_cell_queries_do_not_grow(owner_client, workspace, member, group) -> None:
    on_team_plan(workspace)
    _fill(workspace, members=12, groups=1)
    small_block = _queries(
        owner_client, f"{url('features')}?block=2", HTTP_HX_TARGET="members-block-2", **HTMX
    )
    _fill(workspace, members=40, groups=5)
    assert (
        _queries(
            owner_client, f"{url('features')}?block=2", HTTP_HX_TARGET="members-block-2", **HTMX
        )
        == small_block
    )
    assert small_block <= 20
