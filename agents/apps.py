from __future__ import annotations

from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Billing, below agents, previews a change of plan without reading agents: agents
        # tell it which of theirs a change takes sharing from.
        from billing import effects

        from .plan_effects import sharing_lost

        effects.register("agents.sharing_lost", sharing_lost)
