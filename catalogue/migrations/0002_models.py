"""The starting catalogue of base models, and the plans that offer them (by the slugs of
billing's plan catalogue: free, api-payg, pro, team, enterprise). Staff edit the models in
the admin afterwards; running this again on a database that has them changes nothing.

The pay-as-you-go API and Enterprise offer every model; Free the small, open and code
models; Pro the chat models a person uses through the assistant; Team those and the
embedding and moderation models its libraries and controls need. The retired model keeps
its offers, so that a key or agent that named it is told it was retired, not that the
plan lacks it."""

from __future__ import annotations

import datetime

from django.db import migrations

EVERY_PLAN = ["free", "api-payg", "pro", "team", "enterprise"]
CHAT_PLANS = ["api-payg", "pro", "team", "enterprise"]
API_PLANS = ["api-payg", "enterprise"]
TEAM_PLANS = ["api-payg", "team", "enterprise"]
CHAT = dict(supports_tools=True, supports_json_mode=True)
K128 = 131_072

MODELS = [
    dict(model_id="mistral-large-2411", name="Mistral Large 24.11", kind="chat", sort_order=10,
         description="The flagship model for complex reasoning, knowledge and coding tasks.",
         context_window=K128, fine_tunable=True, **CHAT, plans=CHAT_PLANS),
    dict(model_id="mistral-medium-2505", name="Mistral Medium 3", kind="chat", sort_order=20,
         description="Frontier-class multimodal model at a medium cost.",
         context_window=K128, supports_vision=True, **CHAT, plans=CHAT_PLANS),
    dict(model_id="mistral-small-2503", name="Mistral Small 3.1", kind="chat", sort_order=30,
         description="A small, fast model with image understanding.",
         context_window=K128, supports_vision=True, fine_tunable=True, **CHAT, plans=EVERY_PLAN),
    dict(model_id="ministral-8b-2410", name="Ministral 8B", kind="chat", sort_order=40,
         description="An edge model with a high performance to price ratio.",
         context_window=K128, fine_tunable=True, **CHAT, plans=EVERY_PLAN),
    dict(model_id="ministral-3b-2410", name="Ministral 3B", kind="chat", sort_order=50,
         description="The smallest edge model, for on-device and low-latency use.",
         context_window=K128, fine_tunable=True, **CHAT, plans=["free", *TEAM_PLANS]),
    dict(model_id="open-mistral-nemo", name="Mistral Nemo", kind="chat", sort_order=60,
         description="A 12B open model, multilingual, built with NVIDIA.",
         context_window=K128, fine_tunable=True, **CHAT, plans=EVERY_PLAN),
    dict(model_id="codestral-2501", name="Codestral 25.01", kind="code", sort_order=70,
         description="Code generation and fill-in-the-middle in more than 80 languages.",
         context_window=262_144, fine_tunable=True, **CHAT, plans=EVERY_PLAN),
    dict(model_id="pixtral-large-2411", name="Pixtral Large", kind="vision", sort_order=80,
         description="Image understanding on top of Mistral Large.",
         context_window=K128, supports_vision=True, **CHAT, plans=CHAT_PLANS),
    dict(model_id="mistral-ocr-2505", name="Mistral OCR 25.05", kind="ocr", sort_order=90,
         description="Text, tables and images out of documents and scans.",
         context_window=K128, supports_vision=True, plans=CHAT_PLANS),
    dict(model_id="voxtral-small-2507", name="Voxtral Small", kind="audio", sort_order=100,
         description="Speech understanding: transcription, questions about audio, voice commands.",
         context_window=32_768, supports_tools=True, plans=CHAT_PLANS),
    dict(model_id="mistral-embed", name="Mistral Embed", kind="embedding", sort_order=110,
         description="Text embeddings for retrieval, clustering and classification.",
         context_window=8_192, plans=EVERY_PLAN),
    dict(model_id="codestral-embed", name="Codestral Embed", kind="embedding", sort_order=120,
         description="Embeddings of code, for code search and retrieval.",
         context_window=8_192, plans=TEAM_PLANS),
    dict(model_id="mistral-moderation-2411", name="Mistral Moderation 24.11", kind="moderation",
         sort_order=130, description="Classifies text in the moderation policy's categories.",
         context_window=8_192, plans=["free", *TEAM_PLANS]),
    dict(model_id="pixtral-12b-2409", name="Pixtral 12B", kind="vision", sort_order=140,
         description="The first open vision model; Mistral Small 3.1 replaces it.",
         context_window=K128, supports_vision=True, fine_tunable=True, **CHAT,
         lifecycle="deprecated", retirement_date=datetime.date(2027, 3, 31), plans=API_PLANS),
    dict(model_id="open-mixtral-8x22b", name="Mixtral 8x22B", kind="chat", sort_order=150,
         description="A sparse mixture-of-experts open model; Mistral Small 3.1 replaces it.",
         context_window=65_536, **CHAT,
         lifecycle="retired", retirement_date=datetime.date(2025, 3, 30), plans=API_PLANS),
]


def load(apps, schema_editor):  # noqa: ANN001
    BaseModel = apps.get_model("catalogue", "BaseModel")
    ModelOffer = apps.get_model("catalogue", "ModelOffer")
    for data in MODELS:
        values = {k: v for k, v in data.items() if k not in ("model_id", "plans")}
        model, created = BaseModel.objects.get_or_create(model_id=data["model_id"], defaults=values)
        if created:
            ModelOffer.objects.bulk_create(
                [ModelOffer(model=model, plan_slug=slug) for slug in data["plans"]]
            )


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
