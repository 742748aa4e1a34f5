"""The catalogue's rules as the database holds them (on PostgreSQL and on SQLite) and as
forms meet them (the message beside the field), and the one model reference."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import isolate_apps
from django.utils import timezone

from catalogue.checks import missing_constraint
from catalogue.models import (
    NO_RETIREMENT_DATE,
    ONE_MODEL_NEEDED,
    RETIREMENT_DATE_NEEDED,
    BaseModel,
    Lifecycle,
    ModelOffer,
    ModelRef,
    ModelReference,
    one_model,
)
from tests.factories import BaseModelFactory

pytestmark = pytest.mark.django_db

SOON = date(2030, 1, 31)


def _insert(**fields: Any) -> BaseModel:
    """A row written straight to the database, past ``full_clean``."""
    values: dict[str, Any] = {
        "model_id": "raw-model",
        "name": "Raw",
        "kind": "chat",
        "context_window": 1000,
    }
    values.update(fields)
    with transaction.atomic():
        return BaseModel.objects.create(**values)


# --- Lifecycle -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifecycle", "retirement_date", "constraint"),
    [
        (Lifecycle.DEPRECATED, None, "catalogue_retirement_date_unless_available"),
        (Lifecycle.RETIRED, None, "catalogue_retirement_date_unless_available"),
        (Lifecycle.AVAILABLE, SOON, "catalogue_no_retirement_date_when_available"),
        ("sunset", SOON, "catalogue_lifecycle_known"),
    ],
)
def test_the_database_refuses_a_lifecycle_without_its_date(
    lifecycle: str, retirement_date: date | None, constraint: str
) -> None:
    with pytest.raises(IntegrityError) as refused:
        _insert(lifecycle=lifecycle, retirement_date=retirement_date)
    # SQLite names the failed constraint; PostgreSQL too.
    assert constraint in str(refused.value)
    assert not BaseModel.objects.filter(model_id="raw-model").exists()


def test_the_database_refuses_an_update_that_drops_the_date() -> None:
    model = BaseModelFactory(deprecated=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        BaseModel.objects.filter(pk=model.pk).update(retirement_date=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        BaseModel.objects.filter(pk=model.pk).update(lifecycle=Lifecycle.AVAILABLE)
    model.refresh_from_db()
    assert model.lifecycle == Lifecycle.DEPRECATED and model.retirement_date is not None


def test_the_database_takes_each_lifecycle_with_its_date() -> None:
    _insert(model_id="a")
    _insert(model_id="b", lifecycle=Lifecycle.DEPRECATED, retirement_date=SOON)
    _insert(model_id="c", lifecycle=Lifecycle.RETIRED, retirement_date=date(2024, 1, 1))
    assert BaseModel.objects.filter(model_id__in=["a", "b", "c"]).count() == 3


def test_the_database_refuses_an_empty_context_window() -> None:
    with pytest.raises(IntegrityError) as refused:
        _insert(context_window=0)
    assert "catalogue_context_window_positive" in str(refused.value)


def test_a_plan_offers_a_model_once() -> None:
    model = BaseModelFactory(plans=["team"])
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelOffer.objects.create(model=model, plan_slug="team")


@pytest.mark.parametrize(
    ("lifecycle", "retirement_date", "message"),
    [
        (Lifecycle.DEPRECATED, None, RETIREMENT_DATE_NEEDED),
        (Lifecycle.RETIRED, None, RETIREMENT_DATE_NEEDED),
        (Lifecycle.AVAILABLE, SOON, NO_RETIREMENT_DATE),
    ],
)
def test_clean_puts_the_lifecycle_message_beside_the_date(
    lifecycle: str, retirement_date: date | None, message: str
) -> None:
    model = BaseModelFactory.build(lifecycle=lifecycle, retirement_date=retirement_date)
    with pytest.raises(ValidationError) as refused:
        model.full_clean()
    assert refused.value.message_dict == {"retirement_date": [message]}


@pytest.mark.parametrize(
    "model_id",
    ["Mistral-Large", "mistral_large", "mistral--large", "-large", "large-", "ft:x", "a b"],
)
def test_a_model_id_is_slug_like(model_id: str) -> None:
    with pytest.raises(ValidationError) as refused:
        BaseModelFactory.build(model_id=model_id).full_clean()
    assert list(refused.value.message_dict) == ["model_id"]


def test_a_deprecated_model_reads_as_retired_from_its_date() -> None:
    today = timezone.localdate()
    model = BaseModelFactory.build(lifecycle=Lifecycle.DEPRECATED, retirement_date=today)
    assert model.is_retired_on(today) and not model.is_retired_on(today - timedelta(days=1))
    assert BaseModelFactory.build(retired=True).is_retired_on(today)
    assert not BaseModelFactory.build().is_retired_on(today)


# --- The reference -------------------------------------------------------------------------


def test_a_reference_names_exactly_one_model() -> None:
    large = BaseModel.objects.get(model_id="mistral-large-2411")
    assert ModelRef.of(large).public_id == "mistral-large-2411"
    tuned = ModelRef.fine_tuned("ft:mistral-small-2503:acme:20261201:a1b2c3d4")
    assert tuned.public_id == str(tuned) == "ft:mistral-small-2503:acme:20261201:a1b2c3d4"
    with pytest.raises(ValueError, match="names a base model or a fine-tuned one"):
        ModelRef()
    with pytest.raises(ValueError, match="names a base model or a fine-tuned one"):
        ModelRef(base=large, fine_tuned_id="ft:mistral-large-2411:acme")


@pytest.fixture
def holder() -> Iterator[type[ModelReference]]:
    """A concrete model that names a model, as an agent or a key will, with its table."""
    with isolate_apps("catalogue"):

        class Holder(ModelReference):
            class Meta:
                app_label = "catalogue"
                constraints = [one_model(name="holder_one_model")]

        with connection.schema_editor() as editor:
            editor.create_model(Holder)
        try:
            yield Holder
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(Holder)


# Creating a table needs a connection outside a transaction on SQLite.
@pytest.mark.django_db(transaction=True)
def test_the_database_holds_one_model_per_reference(holder: type[ModelReference]) -> None:
    large = BaseModel.objects.get(model_id="mistral-large-2411")
    tuned = "ft:mistral-large-2411:acme:20261201:a1b2c3d4"
    holder._default_manager.create(base_model=large)
    holder._default_manager.create(fine_tuned_id=tuned)
    for fields in ({}, {"base_model": large, "fine_tuned_id": tuned}):
        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            holder._default_manager.create(**fields)
        assert "holder_one_model" in str(refused.value)

    row = holder(fine_tuned_id=tuned)
    assert row.model_ref == ModelRef.fine_tuned(tuned)
    row.model_ref = ModelRef.of(large)
    assert (row.base_model, row.fine_tuned_id) == (large, "")
    row.full_clean()
    with pytest.raises(ValidationError) as refused_clean:
        holder().full_clean()
    assert refused_clean.value.message_dict == {"base_model": [ONE_MODEL_NEEDED]}
    with pytest.raises(ValidationError) as refused_clean:
        holder(fine_tuned_id="ft:").full_clean()
    assert list(refused_clean.value.message_dict) == ["fine_tuned_id"]


def test_the_system_check_finds_a_reference_without_its_constraint() -> None:
    with isolate_apps("catalogue"):

        class Kept(ModelReference):
            class Meta:
                app_label = "catalogue"
                constraints = [one_model(name="kept_one_model")]

        class Lost(ModelReference):
            class Meta:
                app_label = "catalogue"
                constraints = [models.CheckConstraint(condition=models.Q(id__gt=0), name="lost")]

        errors = missing_constraint([Kept, Lost, BaseModel])
    assert [(e.id, e.obj) for e in errors] == [("catalogue.E001", Lost)]
