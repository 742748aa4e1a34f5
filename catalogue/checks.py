"""A system check: every concrete model that names a model through ``ModelReference``
carries the constraint that it names exactly one (``one_model``). An abstract model's
constraints are lost as soon as a subclass writes its own ``Meta.constraints``, which is
why the constraint is a function the subclass calls, and why this check exists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core import checks
from django.db import models

from .models import ONE_MODEL, ModelReference


def missing_constraint(candidates: Iterable[type[models.Model]]) -> list[checks.Error]:
    errors = []
    for model in candidates:
        if not issubclass(model, ModelReference) or model._meta.abstract:
            continue
        if not any(
            isinstance(c, models.CheckConstraint) and c.condition == ONE_MODEL
            for c in model._meta.constraints
        ):
            errors.append(
                checks.Error(
                    f"{model._meta.label} names a model through ModelReference without its "
                    "constraint.",
                    hint="Add catalogue.models.one_model(name=...) to Meta.constraints.",
                    obj=model,
                    id="catalogue.E001",
                )
            )
    return errors


@checks.register(checks.Tags.models)
def check_model_references(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    configs = app_configs or apps.get_app_configs()
    return missing_constraint(m for config in configs for m in config.get_models())
