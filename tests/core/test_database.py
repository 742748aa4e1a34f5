"""The database connection of PostgreSQL deployments: parameters bound by the server, so
that a statement a connection runs again and again is prepared once (parsed and planned
once per connection, not on every request), and off for a pooler that keeps none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Workspace
from tests.factories import WorkspaceFactory

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgres://postgres@127.0.0.1:5432/console_settings_probe"


def _options(**env: str) -> dict[str, object]:
    """The database OPTIONS the settings make of ``env`` (read once per process)."""
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES['default']; "
        "print(json.dumps({'options': d.get('OPTIONS', {}), 'age': d['CONN_MAX_AGE']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", ""),
            "VAR_DIR": str(settings.VAR_DIR),
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "console.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_binds_on_the_server_and_prepares_repeated_statements() -> None:
    found = _options(DATABASE_URL=POSTGRES)
    assert found["options"] == {"server_side_binding": True, "prepare_threshold": 5}
    # Connections are kept between requests, or nothing prepared would be used twice.
    assert found["age"] == 60


def test_prepared_statements_can_be_turned_off_for_a_pooler() -> None:
    found = _options(DATABASE_URL=POSTGRES, DB_PREPARED_STATEMENTS="0", DB_CONN_MAX_AGE="0")
    assert found["options"] == {}
    assert found["age"] == 0


def test_sqlite_has_no_binding_options() -> None:
    options = _options(DATABASE_URL="sqlite:///:memory:")["options"]
    assert "server_side_binding" not in options and "prepare_threshold" not in options


@pytest.mark.django_db
def test_a_statement_run_again_and_again_is_prepared_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    ws = WorkspaceFactory()

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall() if '"accounts_workspace"' in row[0]]

    before = prepared()
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    for _ in range(threshold + 1):
        assert Workspace.objects.filter(pk=ws.pk).values_list("slug", flat=True).get() == ws.slug
    after = prepared()
    assert len(after) == len(before) + 1
    assert "$1" in after[-1]  # bound by the server: one plan whatever the id
