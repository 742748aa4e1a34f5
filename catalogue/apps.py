from __future__ import annotations

from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = "Model catalogue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the reference's system check)
        from .signals import connect

        # Writes of the catalogue, from the admin or a shell, retire its snapshots.
        connect()
