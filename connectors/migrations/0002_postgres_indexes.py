"""PostgreSQL's indexes for "documents this member may see": a GIN index on the principal
sets (the built-in array operator class: ``&&``), a covering index on the newest-first
order that carries the principals and the source, so the listing and the check can be
answered from the index, and a trigram index for title search (the ORM's ``icontains``
compares ``UPPER(title)``). SQLite, used by the local quick start, has none of them."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS document_principals_gin ON connectors_document "
    "USING gin (principals)",
    "CREATE INDEX IF NOT EXISTS document_newest ON connectors_document "
    "(workspace_id, modified_at DESC, id DESC) INCLUDE (principals, connection_id, library_id)",
    "CREATE INDEX IF NOT EXISTS document_title_trgm ON connectors_document "
    "USING gin (UPPER(title) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS document_pending ON connectors_document (connection_id) "
    "WHERE pending_principals IS NOT NULL",
]
BACKWARD = [
    "DROP INDEX IF EXISTS document_pending",
    "DROP INDEX IF EXISTS document_title_trgm",
    "DROP INDEX IF EXISTS document_newest",
    "DROP INDEX IF EXISTS document_principals_gin",
]


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
    dependencies = [("connectors", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
