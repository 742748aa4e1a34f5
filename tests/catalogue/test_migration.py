"""The starting catalogue a data migration loads: every row valid, every plan it names a
plan of billing's catalogue, each lifecycle present, and a second run changes nothing."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from billing.models import Plan
from catalogue.models import BaseModel, Kind, Lifecycle, ModelOffer

pytestmark = pytest.mark.django_db

migration = importlib.import_module("catalogue.migrations.0002_models")


def test_the_list_is_loaded_and_every_row_is_valid() -> None:
    models = list(BaseModel.objects.all())
    assert {m.model_id for m in models} == {d["model_id"] for d in migration.MODELS}
    assert len(models) >= 14
    for row in [*models, *ModelOffer.objects.all()]:
        row.full_clean()


def test_it_names_the_public_models_and_each_lifecycle() -> None:
    ids = set(BaseModel.objects.values_list("model_id", flat=True))
    assert {
        "mistral-large-2411",
        "mistral-medium-2505",
        "mistral-small-2503",
        "ministral-8b-2410",
        "ministral-3b-2410",
        "codestral-2501",
        "pixtral-large-2411",
        "mistral-embed",
        "codestral-embed",
        "mistral-moderation-2411",
        "mistral-ocr-2505",
        "open-mistral-nemo",
    } <= ids
    lifecycles = set(BaseModel.objects.values_list("lifecycle", flat=True))
    assert lifecycles == set(Lifecycle.values)
    deprecated = BaseModel.objects.get(lifecycle=Lifecycle.DEPRECATED)
    retired = BaseModel.objects.get(lifecycle=Lifecycle.RETIRED)
    assert deprecated.retirement_date and retired.retirement_date
    assert retired.retirement_date < deprecated.retirement_date
    kinds = set(BaseModel.objects.values_list("kind", flat=True))
    assert {Kind.CHAT, Kind.CODE, Kind.EMBEDDING, Kind.VISION, Kind.MODERATION, Kind.OCR} <= kinds


def test_every_offer_names_a_plan_and_every_plan_offers_models() -> None:
    slugs = set(Plan.objects.values_list("slug", flat=True))
    offered = set(ModelOffer.objects.values_list("plan_slug", flat=True))
    assert offered == slugs == {"free", "api-payg", "pro", "team", "enterprise"}
    # Every model in service is offered somewhere; the API plans offer all of them.
    for model in BaseModel.objects.prefetch_related("offers"):
        assert {"api-payg", "enterprise"} <= model.plan_slugs, model.model_id
    free = set(
        ModelOffer.objects.filter(plan_slug="free").values_list("model__model_id", flat=True)
    )
    assert "mistral-small-2503" in free and "mistral-large-2411" not in free


def test_running_it_again_changes_nothing() -> None:
    large = BaseModel.objects.get(model_id="mistral-large-2411")
    large.name = "Edited by staff"
    large.save(update_fields=["name"])
    large.offers.filter(plan_slug="pro").delete()
    before = (BaseModel.objects.count(), ModelOffer.objects.count())

    migration.load(apps, None)

    assert (BaseModel.objects.count(), ModelOffer.objects.count()) == before
    large.refresh_from_db()
    assert large.name == "Edited by staff" and "pro" not in large.plan_slugs
