from __future__ import annotations

from django.apps import AppConfig


class FeaturesConfig(AppConfig):
    name = "features"
    verbose_name = "Feature controls"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Writes that go around the services retire the decision facts' snapshots too.
        from .snapshot_signals import connect

        connect()
