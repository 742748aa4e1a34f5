"""The plan pages (R-FEAT-3, R-FEAT-4): the current plan, the comparison and the change of
plan, by role, with and without HTMX, and their query counts at two sizes."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.actor import Actor
from accounts.models import AuditEvent
from accounts.roles import Role
from accounts.services import workspace_suspend
from billing import errors
from billing.audit import Action
from billing.models import Plan, PlanKind, PriceBasis, Subscription
from tests.billing.conftest import add_members, subscribe
from tests.conftest import HTMX, login
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def url(name: str, *args: object, slug: str = "acme") -> str:
    return reverse(f"ws:{name}", args=[slug, *args])


def current_plan(workspace) -> str:
    return Subscription.objects.get(workspace=workspace, ended_at__isnull=True).plan.slug


def text(response) -> str:
    """The page's text without tags or repeated spaces, for reading sentences."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


# --- The current plan --------------------------------------------------------------------------


def test_plan_page_shows_the_plan_its_cycle_seats_and_limits(
    owner_client, workspace, owner
) -> None:
    sub = subscribe(workspace, "team")
    add_members(workspace, 2)

    r = owner_client.get(url("plan"))

    assert r.status_code == 200
    body = text(r)
    assert "Team" in body and "Chat, team (per seat)" in body and "Active" in body
    assert "EUR 24.99 per seat per month" in body
    start, end = (
        sub.current_period_start.date().isoformat(),
        sub.current_period_end.date().isoformat(),
    )
    assert f"Current cycle {start} to {end}" in body
    assert "3 of 150" in body
    assert "Requests per minute 120" in body
    assert "Tokens per minute 1,000,000" in body
    assert "Monthly token cap 500,000,000" in body
    assert "Agent sharing Allowed" in body
    assert "Inputs by default Not used for training" in body
    included = r.content.decode().split('class="plan-features"', 1)[1].split("</ul>", 1)[0]
    for label in ("Web search", "Verified news", "Connectors", "Agent sharing"):
        assert label in included
    assert "Fine-tuning" not in included
    # The owner may change plan: the header action says so.
    assert f'href="{url("plans")}">Change plan</a>' in r.content.decode()


def test_plan_page_says_no_limit_for_empty_limits(owner_client, workspace) -> None:
    subscribe(workspace, "api-payg")
    body = text(owner_client.get(url("plan")))
    assert "Monthly token cap No limit" in body
    assert "Billed by usage" in body
    assert "this plan has no seat limit" in body


def test_plan_page_without_subscription_shows_the_default_plan(owner_client, workspace) -> None:
    body = text(owner_client.get(url("plan")))
    assert "Free" in body and "Default plan" in body
    assert "None yet: the workspace has the default plan's features and limits." in body
    assert "Inputs by default Used for training unless the workspace opts out" in body


def test_plan_page_warns_when_members_exceed_the_seats(owner_client, workspace) -> None:
    subscribe(workspace, "pro")
    add_members(workspace, 2)
    assert "2 members over the plan's seat limit." in text(owner_client.get(url("plan")))


def test_admin_reads_the_plan_pages_but_cannot_change(admin_client_ws, workspace) -> None:
    subscribe(workspace, "free")
    r = admin_client_ws.get(url("plan"))
    assert r.status_code == 200 and "Compare plans</a>" in r.content.decode()
    r = admin_client_ws.get(url("plans"))
    assert r.status_code == 200
    assert "/plans/team/change/" not in r.content.decode() and "Choose<" not in r.content.decode()
    assert "The workspace's owners and billing members can change plan." in text(r)
    assert admin_client_ws.get(url("plan_change", "team")).status_code == 403
    r = admin_client_ws.post(url("plan_change", "team"), {"confirm": "on"})
    assert r.status_code == 403
    assert current_plan(workspace) == "free"


@pytest.mark.parametrize("name", ["plan", "plans"])
def test_member_gets_403_on_the_plan_pages(member_client, workspace, name) -> None:
    r = member_client.get(url(name))
    assert r.status_code == 403


def test_member_gets_403_on_the_change_page(member_client, workspace) -> None:
    subscribe(workspace, "free")
    assert member_client.get(url("plan_change", "team")).status_code == 403
    assert member_client.post(url("plan_change", "team"), {"confirm": "on"}).status_code == 403
    assert current_plan(workspace) == "free"


def test_other_workspace_member_gets_404(
    client: Client, workspace, owner, other_workspace_member
) -> None:
    login(client, other_workspace_member.user)
    for path in (url("plan"), url("plans"), url("plan_change", "team")):
        assert client.get(path).status_code == 404
    assert client.post(url("plan_change", "team"), {"confirm": "on"}).status_code == 404
    assert not Subscription.objects.filter(workspace=workspace).exists()


def test_navigation_shows_money_only_to_roles_that_see_the_plan(
    client: Client, workspace, owner, member
) -> None:
    billing = MembershipFactory(workspace=workspace, role=Role.BILLING)
    for membership, shown in [(owner, True), (billing, True), (member, False)]:
        login(client, membership.user)
        body = client.get(url("groups")).content.decode()
        assert ('<p class="nav-group">Money</p>' in body) is shown
        assert (f'href="{url("plan")}"' in body) is shown


# --- Comparing plans -----------------------------------------------------------------------


def test_compare_page_lists_the_active_plans_with_the_current_one_marked(
    owner_client, workspace
) -> None:
    subscribe(workspace, "team")
    Plan.objects.filter(slug="pro").update(is_active=False)

    r = owner_client.get(url("plans"))

    html = r.content.decode()
    header = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    names = re.findall(r'<span class="compare-name">([^<]+)</span>', header)
    assert names == ["Free", "API pay-as-you-go", "Team", "Enterprise"]
    current = re.findall(
        r'<th scope="col" class="plan-col is-current" aria-current="true">\s*'
        r'<span class="compare-name">([^<]+)</span>',
        header,
    )
    assert current == ["Team"]
    # Choose links for the self-serve plans other than the current one; sales for enterprise.
    assert f'href="{url("plan_change", "free")}"' in html
    assert f'href="{url("plan_change", "api-payg")}"' in html
    assert f'href="{url("plan_change", "team")}"' not in html
    assert f'href="{url("plan_change", "enterprise")}"' not in html
    assert "Contact sales" in html and "Your plan" in html


def test_compare_page_rows_show_prices_limits_and_features(owner_client, workspace) -> None:
    subscribe(workspace, "free")
    html = owner_client.get(url("plans")).content.decode()

    def row(label: str) -> list[str]:
        tr = html.split(f'<th scope="row">{label}', 1)[1].split("</tr>", 1)[0]
        return [
            " ".join(re.sub(r"<[^>]+>", " ", td).split())
            for td in re.findall(r"<td[^>]*>(.*?)</td>", tr)
        ]

    assert row("Price") == [
        "Free",
        "Billed by usage",
        "EUR 14.99 per month",
        "EUR 24.99 per seat per month",
        "Custom contract",
    ]
    assert row("Seats") == ["5", "No limit", "1", "150", "No limit"]
    assert row("Tokens per minute") == ["50,000", "2,000,000", "500,000", "1,000,000", "10,000,000"]
    assert row("Monthly token cap") == [
        "1,000,000",
        "No limit",
        "50,000,000",
        "500,000,000",
        "No limit",
    ]
    assert row("Training on inputs by default") == [
        "Yes, unless opted out",
        "No",
        "Yes, unless opted out",
        "No",
        "No",
    ]
    assert row("Fine-tuning") == [
        "✕ Not included",
        "✓ Included",
        "✕ Not included",
        "✕ Not included",
        "✓ Included",
    ]
    assert row("Agent sharing") == [
        "✕ Not included",
        "✓ Included",
        "✕ Not included",
        "✓ Included",
        "✓ Included",
    ]


def test_compare_page_marks_the_default_plan_current_without_subscription(
    billing_client, workspace
) -> None:
    html = billing_client.get(url("plans")).content.decode()
    assert re.search(r'aria-current="true">\s*<span class="compare-name">Free</span>', html)
    assert f'href="{url("plan_change", "team")}"' in html


def test_compare_page_names_a_retired_current_plan(owner_client, workspace) -> None:
    subscribe(workspace, "pro")
    Plan.objects.filter(slug="pro").update(is_active=False)
    assert "The workspace is on the Pro plan, which is no longer offered." in text(
        owner_client.get(url("plans"))
    )


# --- Changing plan -------------------------------------------------------------------------


def test_change_page_shows_the_effects_and_the_confirmation(owner_client, workspace) -> None:
    subscribe(workspace, "team")

    r = owner_client.get(url("plan_change", "api-payg"))

    assert r.status_code == 200
    html = r.content.decode()
    lost = html.split('aria-label="Features lost"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r"<li>([^<]+)</li>", lost) == [
        "Verified news",
        "Image generation",
        "Canvas",
        "Memory",
        "Conversation links",
    ]
    gained = html.split('aria-label="Features gained"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r"<li>([^<]+)</li>", gained) == ["Fine-tuning"]
    body = text(r)
    assert "From Team to API pay-as-you-go" in body
    assert "Price after Billed by usage" in body
    assert "Monthly token cap: 500,000,000 → No limit" not in body  # a higher limit is not a loss
    assert "Seats 150 No limit Higher" in body
    assert 'name="confirm"' in html and "I understand" in body


def test_change_page_shows_seats_over_and_hides_the_form(owner_client, workspace) -> None:
    subscribe(workspace, "team")
    add_members(workspace, 2)

    r = owner_client.get(url("plan_change", "pro"))

    body = text(r)
    assert "Pro allows 1 seat; the workspace has 3 active members, 2 over the limit." in body
    assert errors.seats_over(limit=1, active=3) in body
    assert 'name="confirm"' not in r.content.decode()
    assert "Agent sharing is not part of Pro" in body


def test_change_page_for_enterprise_says_contact_sales(owner_client, workspace, settings) -> None:
    settings.SALES_CONTACT_URL = "mailto:sales@platform.test"
    subscribe(workspace, "team")
    r = owner_client.get(url("plan_change", "enterprise"))
    html = r.content.decode()
    assert r.status_code == 200 and 'name="confirm"' not in html
    assert errors.PLAN_CONTACT_SALES.format(plan="Enterprise") in html
    assert 'href="mailto:sales@platform.test">Contact sales</a>' in html


@pytest.mark.parametrize("slug", ["no-such-plan", "retired"])
def test_change_page_is_404_for_an_unknown_or_inactive_plan(owner_client, workspace, slug) -> None:
    Plan.objects.filter(slug="pro").update(slug="retired", is_active=False)
    assert owner_client.get(url("plan_change", slug)).status_code == 404
    assert owner_client.post(url("plan_change", slug), {"confirm": "on"}).status_code == 404


def test_confirmed_change_redirects_to_the_plan_page_with_a_message(
    owner_client, workspace, owner
) -> None:
    subscribe(workspace, "free")

    r = owner_client.post(url("plan_change", "team"), {"confirm": "on"})

    assert r.status_code == 302 and r["Location"] == url("plan")
    assert current_plan(workspace) == "team"
    event = AuditEvent.objects.get(action=Action.PLAN_CHANGED)
    assert (
        event.actor == owner.user
        and event.before == {"plan": "Free"}
        and event.after == {"plan": "Team"}
    )
    assert (
        "The workspace is now on the Team plan." in owner_client.get(r["Location"]).content.decode()
    )


def test_confirmed_htmx_change_answers_with_hx_redirect(
    billing_client, workspace, billing_member
) -> None:
    subscribe(workspace, "free")

    r = billing_client.post(url("plan_change", "team"), {"confirm": "on"}, **HTMX)

    assert r.status_code == 200 and r["HX-Redirect"] == url("plan")
    assert current_plan(workspace) == "team"
    assert AuditEvent.objects.get(action=Action.PLAN_CHANGED).actor == billing_member.user
    assert (
        "The workspace is now on the Team plan." in billing_client.get(url("plan")).content.decode()
    )


def test_change_without_confirmation_is_an_error_beside_the_form(owner_client, workspace) -> None:
    subscribe(workspace, "free")

    r = owner_client.post(url("plan_change", "team"), {})

    assert r.status_code == 200
    html = r.content.decode()
    assert "<html" in html and 'class="field has-error field-check"' in html
    assert errors.CONFIRM_REQUIRED in html
    assert current_plan(workspace) == "free"
    assert not AuditEvent.objects.filter(action=Action.PLAN_CHANGED).exists()


def test_htmx_change_without_confirmation_answers_the_form_partial(owner_client, workspace) -> None:
    subscribe(workspace, "free")

    r = owner_client.post(url("plan_change", "team"), {"confirm": ""}, **HTMX)

    html = r.content.decode()
    assert r.status_code == 200 and "HX-Redirect" not in r
    assert html.lstrip().startswith('<div id="change-form" class="card">') and "<html" not in html
    assert errors.CONFIRM_REQUIRED in html
    assert current_plan(workspace) == "free"


def test_refused_change_shows_the_reason_beside_the_form(owner_client, workspace) -> None:
    subscribe(workspace, "team")
    add_members(workspace, 2)

    r = owner_client.post(url("plan_change", "pro"), {"confirm": "on"}, **HTMX)

    assert r.status_code == 200 and "HX-Redirect" not in r
    html = r.content.decode()
    assert errors.seats_over(limit=1, active=3) in html
    assert html.count(errors.seats_over(limit=1, active=3)) == 1
    assert current_plan(workspace) == "team"


def test_change_to_the_current_plan_is_refused_on_the_page(owner_client, workspace) -> None:
    subscribe(workspace, "team")
    r = owner_client.post(url("plan_change", "team"), {"confirm": "on"})
    assert r.status_code == 200
    assert errors.PLAN_IS_CURRENT.format(plan="Team") in r.content.decode()
    assert Subscription.objects.filter(workspace=workspace).count() == 1


def test_suspended_workspace_cannot_change_plan(owner_client, workspace) -> None:
    subscribe(workspace, "free")
    workspace_suspend(actor=Actor.system(), workspace=workspace, reason="Unpaid")
    r = owner_client.post(url("plan_change", "team"), {"confirm": "on"})
    assert r.status_code == 403
    assert current_plan(workspace) == "free"
    # Reading stays possible.
    assert owner_client.get(url("plan")).status_code == 200


def test_toast_is_not_sent_on_refusal(owner_client, workspace) -> None:
    subscribe(workspace, "team")
    r = owner_client.post(url("plan_change", "team"), {"confirm": "on"}, **HTMX)
    assert "HX-Trigger" not in r or "toast" not in json.loads(r["HX-Trigger"])


# --- Query counts ------------------------------------------------------------------------


def _count_queries(client: Client, path: str) -> int:
    client.get(path)  # session bookkeeping happens once, on the first request
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def _add_plans(n: int) -> None:
    for i in range(n):
        Plan.objects.create(
            slug=f"extra-{i}",
            name=f"Extra {i}",
            kind=PlanKind.CHAT_TEAM,
            price_basis=PriceBasis.PER_SEAT,
            monthly_price=Decimal("5.00"),
            features=["web_search", "canvas"],
            seat_limit=10 + i,
            sort_order=100 + i,
        )


@pytest.mark.parametrize("name", ["plan", "plans"])
def test_plan_pages_query_count_does_not_grow_with_members(owner_client, workspace, name) -> None:
    subscribe(workspace, "team")
    add_members(workspace, 3)
    small = _count_queries(owner_client, url(name))
    add_members(workspace, 27)
    assert _count_queries(owner_client, url(name)) == small


def test_compare_page_query_count_does_not_grow_with_plans(owner_client, workspace) -> None:
    subscribe(workspace, "team")
    Plan.objects.exclude(slug__in=["free", "team"]).update(is_active=False)
    small = _count_queries(owner_client, url("plans"))
    _add_plans(4)
    assert Plan.objects.filter(is_active=True).count() == 6
    assert _count_queries(owner_client, url("plans")) == small


def test_change_page_query_count_does_not_grow_with_members(owner_client, workspace) -> None:
    subscribe(workspace, "free")
    small = _count_queries(owner_client, url("plan_change", "team"))
    add_members(workspace, 27)
    assert _count_queries(owner_client, url("plan_change", "team")) == small


# --- Promises of features not built yet ---------------------------------------------------


def test_plan_pages_say_that_the_training_opt_out_is_not_available_yet(
    owner_client, workspace
) -> None:
    body = text(owner_client.get(url("plan")))
    assert (
        "Used for training unless the workspace opts out (opting out is not available yet)" in body
    )
    assert "opting a workspace out of training is not available yet" in text(
        owner_client.get(url("plans"))
    )


def test_change_page_says_what_losing_agent_sharing_means(owner_client, workspace) -> None:
    subscribe(workspace, "team")
    body = text(owner_client.get(url("plan_change", "pro")))
    assert (
        "Agent sharing is not part of Pro: from the change on, every agent is usable by its "
        "creator alone." in body
    )
    # No agent is shared, so no agent is named (tests/agents/test_plan_effects.py).
    assert "shared beyond" not in body
    assert "Opting the workspace out of training is not available yet." in body
