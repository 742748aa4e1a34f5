"""The staff admin of the catalogue: reference data staff edit (as plans), with the plans
that offer a model ticked from billing's plans and the lifecycle's errors beside the date
field. Non-staff never reach it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalogue import offers
from catalogue.admin import DEPRECATED_DATE_AHEAD, RETIRED_DATE_BEHIND
from catalogue.models import NO_RETIREMENT_DATE, RETIREMENT_DATE_NEEDED, BaseModel, Lifecycle
from tests.factories import BaseModelFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:catalogue_basemodel_changelist")
ADD = reverse("admin:catalogue_basemodel_add")


def change_url(model: BaseModel) -> str:
    return reverse("admin:catalogue_basemodel_change", args=[model.pk])


def model_form(model: BaseModel, **changes: Any) -> dict[str, Any]:
    """The change form's POST data for ``model`` as it is, with ``changes``."""
    data: dict[str, Any] = {
        "model_id": model.model_id,
        "name": model.name,
        "kind": model.kind,
        "description": model.description,
        "sort_order": model.sort_order,
        "context_window": model.context_window,
        "lifecycle": model.lifecycle,
        "retirement_date": model.retirement_date.isoformat() if model.retirement_date else "",
        "plans": sorted(model.plan_slugs),
    }
    for flag in ("supports_tools", "supports_vision", "supports_json_mode", "fine_tunable"):
        if getattr(model, flag):
            data[flag] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def field_errors(html: str, field: str) -> list[str]:
    """The errors the form shows beside ``field``."""
    found = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def large() -> BaseModel:
    return BaseModel.objects.get(model_id="mistral-large-2411")


# --- Who may come in -----------------------------------------------------------------------


def test_staff_see_the_changelist_and_the_change_form(staff_client: Client) -> None:
    listed = staff_client.get(CHANGELIST)
    assert listed.status_code == 200
    html = listed.content.decode()
    assert "mistral-large-2411" in html and "open-mixtral-8x22b" in html
    assert "131,072" in html and "tools, JSON, fine-tuning" in html

    form = staff_client.get(change_url(large()))
    assert form.status_code == 200
    html = form.content.decode()
    # Every plan of billing is a checkbox, by its name; the plans that offer it are ticked.
    boxes = re.findall(r'name="plans" value="([a-z-]+)"', html)
    assert boxes == ["free", "api-payg", "pro", "team", "enterprise"]
    assert re.search(r'value="team"[^>]*checked', html)
    assert not re.search(r'value="free"[^>]*checked', html)
    assert "API pay-as-you-go" in html
    assert staff_client.get(ADD).status_code == 200


@pytest.mark.parametrize("path", [CHANGELIST, ADD, "change"])
def test_non_staff_are_sent_to_the_admin_login(client: Client, owner, path: str) -> None:
    target = change_url(large()) if path == "change" else path
    for who in ("anonymous", "member"):
        if who == "member":
            client.force_login(owner.user)
        answer = client.get(target)
        assert answer.status_code == 302 and "/admin/login/" in answer["Location"], who
    posted = client.post(change_url(large()), model_form(large(), name="Hijacked"))
    assert posted.status_code == 302
    assert large().name == "Mistral Large 24.11"


def test_a_model_is_retired_not_deleted(staff_client: Client) -> None:
    model = large()
    delete = reverse("admin:catalogue_basemodel_delete", args=[model.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert "delete_selected" not in staff_client.get(CHANGELIST).content.decode()
    assert BaseModel.objects.filter(pk=model.pk).exists()


# --- Lists ---------------------------------------------------------------------------------


def _listed(client: Client, query: str) -> set[str]:
    html = client.get(f"{CHANGELIST}?{query}").content.decode()
    return set(re.findall(r'<th class="field-model_id"><a href="[^"]+">([a-z0-9-]+)</a>', html))


def test_filters_by_kind_lifecycle_and_plan_and_search(staff_client: Client) -> None:
    assert _listed(staff_client, "kind=embedding") == {"mistral-embed", "codestral-embed"}
    assert _listed(staff_client, "lifecycle=retired") == {"open-mixtral-8x22b"}
    assert _listed(staff_client, "lifecycle=deprecated") == {"pixtral-12b-2409"}
    free = _listed(staff_client, "plan=free")
    assert "mistral-small-2503" in free and "mistral-large-2411" not in free
    assert _listed(staff_client, "q=codestral") == {"codestral-2501", "codestral-embed"}
    assert _listed(staff_client, "q=mixture-of-experts") == {"open-mixtral-8x22b"}


def _changelist_queries(client: Client) -> int:
    client.get(CHANGELIST)
    with CaptureQueriesContext(connection) as ctx:
        answer = client.get(CHANGELIST)
    assert answer.status_code == 200
    return len(ctx.captured_queries)


def test_the_changelist_reads_in_fixed_queries_at_two_sizes(staff_client: Client) -> None:
    for _ in range(3):
        BaseModelFactory(plans=["team", "pro"])
    small = _changelist_queries(staff_client)
    for _ in range(40):
        BaseModelFactory(plans=["team", "pro", "enterprise"], deprecated=True)
    assert _changelist_queries(staff_client) == small


# --- Editing -------------------------------------------------------------------------------


def test_staff_add_a_model_with_its_plans(staff_client: Client) -> None:
    data = model_form(
        BaseModelFactory.build(model_id="mistral-tiny-2612", name="Mistral Tiny"),
        plans=["free", "team"],
    )
    answer = staff_client.post(ADD, data)
    assert answer.status_code == 302, answer.content.decode()
    model = BaseModel.objects.get(model_id="mistral-tiny-2612")
    assert model.plan_slugs == {"free", "team"} and model.lifecycle == Lifecycle.AVAILABLE


def test_staff_change_the_plans_that_offer_a_model(staff_client: Client) -> None:
    model = large()
    assert model.plan_slugs == {"api-payg", "pro", "team", "enterprise"}
    answer = staff_client.post(change_url(model), model_form(model, plans=["free", "team"]))
    assert answer.status_code == 302, answer.content.decode()
    assert large().plan_slugs == {"free", "team"}


def test_an_unknown_plan_is_refused(staff_client: Client) -> None:
    model = large()
    answer = staff_client.post(change_url(model), model_form(model, plans=["team", "platinum"]))
    assert answer.status_code == 200
    assert field_errors(answer.content.decode(), "plans") == [
        "Select a valid choice. platinum is not one of the available choices."
    ]
    assert "team" in large().plan_slugs


def test_staff_deprecate_a_model_with_a_date_ahead(staff_client: Client) -> None:
    when = timezone.localdate() + timedelta(days=120)
    answer = staff_client.post(
        change_url(large()),
        model_form(large(), lifecycle="deprecated", retirement_date=when.isoformat()),
    )
    assert answer.status_code == 302, answer.content.decode()
    model = large()
    assert (model.lifecycle, model.retirement_date) == (Lifecycle.DEPRECATED, when)


@pytest.mark.parametrize(
    ("lifecycle", "days", "message"),
    [
        ("deprecated", None, RETIREMENT_DATE_NEEDED),
        ("retired", None, RETIREMENT_DATE_NEEDED),
        ("available", 30, NO_RETIREMENT_DATE),
        ("deprecated", 0, DEPRECATED_DATE_AHEAD),
        ("deprecated", -5, DEPRECATED_DATE_AHEAD),
        ("retired", 1, RETIRED_DATE_BEHIND),
    ],
)
def test_a_lifecycle_without_the_right_date_shows_the_error_beside_the_date(
    staff_client: Client, lifecycle: str, days: int | None, message: str
) -> None:
    when = "" if days is None else (timezone.localdate() + timedelta(days=days)).isoformat()
    answer = staff_client.post(
        change_url(large()), model_form(large(), lifecycle=lifecycle, retirement_date=when)
    )
    assert answer.status_code == 200
    html = answer.content.decode()
    assert field_errors(html, "retirement_date") == [message.replace("'", "&#x27;")]
    assert "catalogue_" not in html  # no constraint name leaks into the page
    assert large().lifecycle == Lifecycle.AVAILABLE


def test_a_model_whose_retirement_date_has_come_can_still_be_edited(staff_client: Client) -> None:
    model = BaseModelFactory(deprecated=True, plans=["team"])
    BaseModel.objects.filter(pk=model.pk).update(
        retirement_date=timezone.localdate() - timedelta(days=1)
    )
    model.refresh_from_db()
    answer = staff_client.post(change_url(model), model_form(model, description="Now retired."))
    assert answer.status_code == 302, answer.content.decode()


def test_a_bad_model_id_and_an_empty_context_window_are_refused_beside_them(
    staff_client: Client,
) -> None:
    answer = staff_client.post(
        change_url(large()), model_form(large(), model_id="Mistral Large", context_window=0)
    )
    html = answer.content.decode()
    assert answer.status_code == 200
    assert field_errors(html, "model_id") and field_errors(html, "context_window")
    assert large().context_window == 131_072


def test_without_billing_the_plan_choices_are_the_slugs_the_offers_name(monkeypatch) -> None:
    # Billing provides the plans when the apps are ready; the catalogue alone falls back.
    assert offers.plan_choices()[0] == ("free", "Free")
    monkeypatch.setattr(offers, "_plans", None)
    slugs = ["api-payg", "enterprise", "free", "pro", "team"]
    assert offers.plan_choices() == [(slug, slug) for slug in slugs]
