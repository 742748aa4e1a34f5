from __future__ import annotations

from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connected services and libraries"
    default_auto_field = "django.db.models.BigAutoField"
