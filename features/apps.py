from __future__ import annotations

from django.apps import AppConfig


class FeaturesConfig(AppConfig):
    name = "features"
    verbose_name = "Feature controls"
    default_auto_field = "django.db.models.BigAutoField"
