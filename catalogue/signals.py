"""Every saved or deleted base model or offer retires the catalogue's snapshots
(``selectors.CATALOGUE``), whoever writes it: staff edit the catalogue in the admin."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from core import snapshots

from .models import BaseModel, ModelOffer
from .selectors import CATALOGUE


def _retire(sender: type, **kwargs: Any) -> None:
    snapshots.moved(CATALOGUE)


def connect() -> None:
    for model in (BaseModel, ModelOffer):
        uid = f"snapshot-retire-{model._meta.label_lower}"
        post_save.connect(_retire, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_retire, sender=model, dispatch_uid=f"{uid}-delete")
