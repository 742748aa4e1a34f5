"""The starting catalogue of plans. Staff edit plans in the admin afterwards; running this
again on a database that has the plans changes nothing."""

from __future__ import annotations

from decimal import Decimal

from django.db import migrations

CHAT = ["web_search", "news", "image_generation", "code_interpreter", "canvas", "memory",
        "conversation_links", "agents", "libraries"]

PLANS = [
    dict(slug="free", name="Free", kind="chat_individual", sort_order=10, is_default=True,
         description="Try the assistant and the API with modest limits.",
         price_basis="free", monthly_price=Decimal("0.00"),
         features=["web_search", "news", "canvas", "conversation_links", "agents"],
         seat_limit=5, requests_per_minute=20, tokens_per_minute=50_000, monthly_token_cap=1_000_000,
         allows_agent_sharing=False, trains_on_data_by_default=True),
    dict(slug="api-payg", name="API pay-as-you-go", kind="api_payg", sort_order=20,
         description="The models through the API, billed by the tokens used.",
         price_basis="usage", monthly_price=None,
         features=["agents", "libraries", "connectors", "fine_tuning", "code_interpreter", "web_search"],
         seat_limit=None, requests_per_minute=300, tokens_per_minute=2_000_000, monthly_token_cap=None,
         allows_agent_sharing=True, trains_on_data_by_default=False),
    dict(slug="pro", name="Pro", kind="chat_individual", sort_order=30,
         description="The assistant for one person, with every chat feature.",
         price_basis="flat", monthly_price=Decimal("14.99"),
         features=CHAT, seat_limit=1, requests_per_minute=60, tokens_per_minute=500_000,
         monthly_token_cap=50_000_000, allows_agent_sharing=False, trains_on_data_by_default=True),
    dict(slug="team", name="Team", kind="chat_team", sort_order=40,
         description="The assistant for a team: shared agents, connectors and admin controls.",
         price_basis="per_seat", monthly_price=Decimal("24.99"),
         features=[*CHAT, "connectors"], seat_limit=150, requests_per_minute=120,
         tokens_per_minute=1_000_000, monthly_token_cap=500_000_000,
         allows_agent_sharing=True, trains_on_data_by_default=False),
    dict(slug="enterprise", name="Enterprise", kind="enterprise", sort_order=50, self_serve=False,
         description="Every feature, custom limits and terms, arranged with our sales team.",
         price_basis="custom", monthly_price=None,
         features=[*CHAT, "connectors", "fine_tuning"], seat_limit=None, requests_per_minute=1_000,
         tokens_per_minute=10_000_000, monthly_token_cap=None,
         allows_agent_sharing=True, trains_on_data_by_default=False),
]


def load(apps, schema_editor):  # noqa: ANN001
    Plan = apps.get_model("billing", "Plan")
    for data in PLANS:
        values = {k: v for k, v in data.items() if k != "slug"}
        Plan.objects.get_or_create(slug=data["slug"], defaults=values)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
