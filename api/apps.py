from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Service API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Writes of tokens that go around the services retire their snapshots too.
        from .auth import connect_signals

        connect_signals()
