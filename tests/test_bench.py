"""`manage.py bench` runs end to end at a tiny size and prints its table (R-WS-5, R-WS-8)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import AuditEvent, Membership, Workspace

SIZES = {"members": 50, "groups": 5, "invitations": 20, "events": 200, "requests": 3, "warmup": 1}


@pytest.mark.django_db
def test_bench_runs_and_prints_the_table() -> None:
    out = StringIO()
    call_command("bench", stdout=out, **SIZES)
    text = out.getvalue()
    ws = Workspace.objects.get(slug__startswith="bench-50m")
    assert Membership.objects.filter(workspace=ws).count() == 50
    assert AuditEvent.objects.filter(workspace=ws).count() == 200
    assert "| Page | Console median |" in text
    for label in (
        "Members",
        "Invitations",
        "Audit log, first page",
        "Audit log, filtered by action",
        "Features matrix",
    ):
        assert f"| {label} |" in text
    for label in (
        "Audit log, first page",
        "Features matrix",
        "Features matrix, a block of members",
    ):
        row = next(line for line in text.splitlines() if line.startswith(f"| {label} |"))
        assert "HTTP" not in row  # the page and its admin baseline answered 200
    # Each page's weight beside its time: the HTML's size in KB, the console's and the admin's.
    assert "| Console queries | Console KB | Admin median |" in text and "| Admin KB |" in text
    matrix, block = (
        next(line for line in text.splitlines() if line.startswith(f"| {label} |"))
        for label in ("Features matrix", "Features matrix, a block of members")
    )
    page_kb, block_kb = (float(row.split("|")[5].replace(",", "")) for row in (matrix, block))
    # The lazy block is a part of the page's members, not the page again.
    assert 0 < block_kb < page_kb < 200

    # A second run reuses the data instead of creating it again.
    again = StringIO()
    call_command("bench", stdout=again, **SIZES)
    assert "Reusing the data" in again.getvalue()
    assert Workspace.objects.filter(slug=ws.slug).count() == 1
