"""PostgreSQL's trigram index on agents' names: the lists' search (the ORM's ``icontains``
compares ``UPPER(name)`` with ``LIKE``) and the exact name that the "usable by me" list
explains when it leaves the agent out (``iexact``: ``UPPER(name) = UPPER(...)``) are both
served by it, instead of reading every agent of the workspace. SQLite, used by the local
quick start, has none."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS agent_name_trgm ON agents_agent "
    "USING gin (UPPER(name) gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS agent_name_trgm"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in FORWARD:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("agents", "0002_list_indexes")]
    operations = [migrations.RunPython(forward, backward)]
