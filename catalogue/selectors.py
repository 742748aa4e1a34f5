"""Reads of the catalogue that pages, forms and the service API share. The plan comes as
its slug; ``billing.selectors.models_for_workspace`` answers for a workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from core import snapshots

from .models import (
    FINE_TUNED_PREFIX,
    BaseModel,
    Kind,
    Lifecycle,
    ModelRef,
    fine_tuned_id_validator,
    model_id_validator,
)


def in_service(today: date) -> Q:
    """Models served on ``today``: available, or deprecated with their retirement date
    still ahead (as ``BaseModel.is_retired_on`` reads it)."""
    return Q(lifecycle=Lifecycle.AVAILABLE) | Q(
        lifecycle=Lifecycle.DEPRECATED, retirement_date__gt=today
    )


def available_models(
    plan_slug: str, kind: Kind | str | None = None, *, today: date | None = None
) -> QuerySet[BaseModel]:
    """The models a workspace on the plan ``plan_slug`` may use today, of ``kind`` when
    given, in the catalogue's order. One query, however many models and plans."""
    models = BaseModel.objects.filter(
        in_service(today or timezone.localdate()), offers__plan_slug=plan_slug
    )
    if kind is not None:
        models = models.filter(kind=kind)
    return models.order_by("sort_order", "name", "model_id")


# The stamp of the snapshots made of the catalogue (core.snapshots): any saved or deleted
# model or offer moves it (catalogue.apps).
CATALOGUE = "catalogue"


@dataclass(frozen=True)
class ModelOption:
    model_id: str
    name: str


def model_options(plan_slug: str) -> list[ModelOption]:
    """``available_models`` of the plan as a list's filter offers them, from their
    snapshot: no query while the catalogue is as it was."""
    today = timezone.localdate()
    return snapshots.read(
        f"catalogue-options:{plan_slug}:{today.isoformat()}",
        [CATALOGUE],
        lambda: [
            ModelOption(m.model_id, m.name)
            for m in available_models(plan_slug, today=today).only("model_id", "name")
        ],
    )


def ref_for(public_id: str) -> ModelRef | None:
    """The reference for an id the API or a form received: a fine-tuned id as it is (its
    owner is checked where fine-tuned models live), a base model's id when the catalogue
    has it, else None. An id of the wrong shape (NUL characters included) reaches no
    query; a base model costs two, its offers prefetched so that ``resolve`` needs none."""
    fine_tuned = public_id.startswith(FINE_TUNED_PREFIX)
    try:
        (fine_tuned_id_validator if fine_tuned else model_id_validator)(public_id)
    except ValidationError:
        return None
    if fine_tuned:
        return ModelRef.fine_tuned(public_id)
    model = BaseModel.objects.filter(model_id=public_id).prefetch_related("offers").first()
    return ModelRef.of(model) if model is not None else None
