"""The staff admin of plans and subscriptions (R-FEAT-3): plans are edited with the
registry's features as checkboxes; subscriptions are a read-only record."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.admin import ONE_DEFAULT
from billing.models import Plan
from core import registry
from tests.billing.conftest import plan, subscribe
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


def plan_form(p: Plan, **changes: Any) -> dict[str, Any]:
    """The change form's POST data for ``p`` as it is, with ``changes``."""
    data: dict[str, Any] = {
        "name": p.name,
        "slug": p.slug,
        "kind": p.kind,
        "description": p.description,
        "sort_order": p.sort_order,
        "price_basis": p.price_basis,
        "monthly_price": "" if p.monthly_price is None else str(p.monthly_price),
        "currency": p.currency,
        "features": list(p.features),
        "seat_limit": p.seat_limit or "",
        "requests_per_minute": p.requests_per_minute or "",
        "tokens_per_minute": p.tokens_per_minute or "",
        "monthly_token_cap": p.monthly_token_cap or "",
    }
    for flag in (
        "allows_agent_sharing",
        "trains_on_data_by_default",
        "self_serve",
        "is_default",
        "is_active",
    ):
        if getattr(p, flag):
            data[flag] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def change_url(p: Plan) -> str:
    return reverse("admin:billing_plan_change", args=[p.pk])


# --- Plans -----------------------------------------------------------------------------------


def _subscribe_many(n: int, slug: str) -> None:
    for _ in range(n):
        subscribe(WorkspaceFactory(), slug)


def _changelist_queries(client: Client, path: str) -> tuple[int, str]:
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(path)
    assert r.status_code == 200
    return len(ctx.captured_queries), r.content.decode()


def test_plan_changelist_counts_current_subscriptions_without_n_plus_one(staff_client) -> None:
    _subscribe_many(2, "team")
    small, _ = _changelist_queries(staff_client, reverse("admin:billing_plan_changelist"))
    _subscribe_many(10, "team")
    _subscribe_many(3, "pro")
    large, html = _changelist_queries(staff_client, reverse("admin:billing_plan_changelist"))
    assert large == small
    team_row = html.split(f'href="{change_url(plan("team"))}"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="field-current_subscriptions">12</td>' in team_row
    assert "EUR 24.99 per seat per month" in team_row
    pro_row = html.split(f'href="{change_url(plan("pro"))}"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="field-current_subscriptions">3</td>' in pro_row


def test_plan_changelist_filter_by_subscribers(staff_client) -> None:
    _subscribe_many(1, "team")
    html = staff_client.get(
        reverse("admin:billing_plan_changelist") + "?subscribed=yes"
    ).content.decode()
    assert change_url(plan("team")) in html and change_url(plan("pro")) not in html


def test_plan_change_form_lists_features_as_checkboxes_without_agent_sharing(staff_client) -> None:
    r = staff_client.get(change_url(plan("team")))
    html = r.content.decode()
    assert r.status_code == 200
    boxes = dict.fromkeys(re.findall(r'name="features" value="([a-z_]+)"', html))
    assert list(boxes) == [k for k in registry.KEYS if k != registry.AGENT_SHARING]
    assert 'value="connectors"' in html and 'name="allows_agent_sharing"' in html
    # The team plan's features are ticked.
    assert re.search(r'value="connectors"[^>]*checked', html)
    assert not re.search(r'value="fine_tuning"[^>]*checked', html)


def test_plan_saved_with_features_as_a_list_in_registry_order(staff_client) -> None:
    p = plan("pro")
    r = staff_client.post(
        change_url(p), plan_form(p, features=["memory", "fine_tuning", "web_search"])
    )
    assert r.status_code == 302, r.content.decode()
    p.refresh_from_db()
    assert p.features == ["web_search", "memory", "fine_tuning"]
    assert p.feature_keys == frozenset({"web_search", "memory", "fine_tuning"})


def test_plan_with_an_unknown_feature_is_rejected(staff_client) -> None:
    p = plan("pro")
    before = list(p.features)
    r = staff_client.post(change_url(p), plan_form(p, features=["web_search", "teleportation"]))
    assert r.status_code == 200
    assert (
        "Select a valid choice. teleportation is not one of the available choices."
        in r.content.decode()
    )
    p.refresh_from_db()
    assert p.features == before


def test_plan_clean_refuses_a_paid_plan_without_price(staff_client) -> None:
    p = plan("pro")
    r = staff_client.post(change_url(p), plan_form(p, monthly_price=""))
    assert r.status_code == 200
    assert "A plan priced per month or per seat needs a monthly price." in r.content.decode()
    p.refresh_from_db()
    assert p.monthly_price == Decimal("14.99")


def test_a_second_default_plan_is_refused_with_a_clear_message(staff_client) -> None:
    p = plan("pro")
    r = staff_client.post(change_url(p), plan_form(p, is_default="on"))
    assert r.status_code == 200
    html = r.content.decode()
    assert ONE_DEFAULT.format(plan="Free") in html
    assert "plan_one_default" not in html
    assert list(Plan.objects.filter(is_default=True).values_list("slug", flat=True)) == ["free"]


def test_staff_add_a_plan(staff_client) -> None:
    data = plan_form(
        plan("pro"), slug="pro-plus", name="Pro Plus", monthly_price="29.00", features=["canvas"]
    )
    r = staff_client.post(reverse("admin:billing_plan_add"), data)
    assert r.status_code == 302, r.content.decode()
    assert Plan.objects.get(slug="pro-plus").features == ["canvas"]


def test_a_plan_slug_is_fixed_once_the_plan_exists(staff_client) -> None:
    # The model catalogue names the plans that offer a model by their slugs.
    p = plan("team")
    html = staff_client.get(change_url(p)).content.decode()
    assert 'name="slug"' not in html and "team" in html
    r = staff_client.post(change_url(p), plan_form(p, slug="team-2", name="Team II"))
    assert r.status_code == 302, r.content.decode()
    p.refresh_from_db()
    assert (p.slug, p.name) == ("team", "Team II")
    assert 'name="slug"' in staff_client.get(reverse("admin:billing_plan_add")).content.decode()


def test_plan_has_no_bulk_delete(staff_client) -> None:
    html = staff_client.get(reverse("admin:billing_plan_changelist")).content.decode()
    assert "delete_selected" not in html


# --- Subscriptions ---------------------------------------------------------------------------


def test_subscription_changelist_is_read_only_with_filters_and_search(staff_client) -> None:
    ws = WorkspaceFactory(name="Initech", slug="initech")
    subscribe(ws, "team")
    subscribe(WorkspaceFactory(name="Hooli", slug="hooli"), "free")
    path = reverse("admin:billing_subscription_changelist")

    html = staff_client.get(path).content.decode()
    assert "Initech" in html and "Hooli" in html
    assert reverse("admin:billing_subscription_add") not in html
    for param in ("plan__id__exact", "status__exact", "current=yes", "current=no"):
        assert param in html

    found = staff_client.get(path + "?q=initech").content.decode()
    assert "Initech" in found and "Hooli" not in found
    current = staff_client.get(path + "?current=no").content.decode()
    assert "Initech" not in current
    by_plan = staff_client.get(path + f"?plan__id__exact={plan('free').pk}").content.decode()
    assert "Hooli" in by_plan and "Initech" not in by_plan


def test_subscription_changelist_query_count_does_not_grow(staff_client) -> None:
    _subscribe_many(2, "team")
    small, _ = _changelist_queries(staff_client, reverse("admin:billing_subscription_changelist"))
    _subscribe_many(20, "free")
    large, _ = _changelist_queries(staff_client, reverse("admin:billing_subscription_changelist"))
    assert large == small


def test_subscription_change_page_cannot_edit(staff_client) -> None:
    sub = subscribe(WorkspaceFactory(), "team")
    path = reverse("admin:billing_subscription_change", args=[sub.pk])
    r = staff_client.get(path)
    assert r.status_code == 200 and 'name="plan"' not in r.content.decode()
    staff_client.post(path, {"plan": plan("free").pk, "status": "ended"})
    sub.refresh_from_db()
    assert sub.plan.slug == "team" and sub.ended_at is None


def test_a_new_seat_limit_reaches_the_workspaces_on_the_plan(staff_client) -> None:
    ws = WorkspaceFactory()
    subscribe(ws, "team")
    p = plan("team")
    r = staff_client.post(change_url(p), plan_form(p, seat_limit="12"))
    assert r.status_code == 302, r.content.decode()
    ws.refresh_from_db()
    assert ws.seat_limit == 12
