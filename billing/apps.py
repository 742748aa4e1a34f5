from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Plans and billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The catalogue, below billing, names plans by slug and cannot read them: billing
        # tells it which plans exist, for the choices of its admin.
        from catalogue import offers

        from .selectors import plan_choices

        offers.provide_plans(plan_choices)
