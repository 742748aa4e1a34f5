"""PostgreSQL's indexes for "documents this member may see": a GIN index on the principal
sets (the built-in array operator class: ``&&``), a covering index on the newest-first
order that carries the principals and the source, so the listing and the check can be
answered from the index, and a trigram index for title search (the ORM's ``icontains``
compares ``UPPER(title)``). SQLite, used by the local quick start, has none of them.

The primary key's index carries the same columns (``INCLUDE``), so that the retrieval
filter (``visible_ids``: which of a thousand candidate ids the member may see) is an
index-only scan. At a million documents (``manage.py bench --sections connectors``) the
scan that reads the table for each candidate took 7 to 60 ms for 1,000 ids, as the pages
were cached or not; the index alone about 3 ms. A separate covering index on ``id`` is
not used: the planner prices the plain primary key scan lower, the table being in id
order. A later migration that rebuilds the primary key would drop the included columns."""

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
    "CREATE UNIQUE INDEX IF NOT EXISTS document_pkey_covering ON connectors_document (id) "
    "INCLUDE (workspace_id, connection_id, library_id, principals)",
    "ALTER TABLE connectors_document DROP CONSTRAINT {pkey}, "
    "ADD CONSTRAINT {pkey} PRIMARY KEY USING INDEX document_pkey_covering",
]
BACKWARD = [
    "CREATE UNIQUE INDEX IF NOT EXISTS document_pkey_plain ON connectors_document (id)",
    "ALTER TABLE connectors_document DROP CONSTRAINT {pkey}, "
    "ADD CONSTRAINT {pkey} PRIMARY KEY USING INDEX document_pkey_plain",
    "DROP INDEX IF EXISTS document_pending",
    "DROP INDEX IF EXISTS document_title_trgm",
    "DROP INDEX IF EXISTS document_newest",
    "DROP INDEX IF EXISTS document_principals_gin",
]


def _pkey(schema_editor):
    """The primary key constraint's name (PostgreSQL's default, connectors_document_pkey)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'connectors_document'::regclass AND contype = 'p'"
        )
        return schema_editor.quote_name(cursor.fetchone()[0])


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in FORWARD:
        schema_editor.execute(sql.format(pkey=_pkey(schema_editor)) if "{pkey}" in sql else sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql.format(pkey=_pkey(schema_editor)) if "{pkey}" in sql else sql)


class Migration(migrations.Migration):
    dependencies = [("connectors", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
