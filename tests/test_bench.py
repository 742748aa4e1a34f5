"""`manage.py bench` runs end to end at a tiny size and prints its tables (R-WS-5, R-WS-8):
the pages, the connectors section and the agents section."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import AuditEvent, Membership, Workspace
from agents.models import Agent, AgentGrant, Visibility
from api.models import ServiceToken
from connectors.models import Connection, Document

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


CONNECTORS = {
    "sections": "connectors",
    "documents": 3000,
    "acl_members": 200,
    "acl_groups": 20,
    "sync_documents": 2000,
    "sync_groups": 5,
    "requests": 2,
    "warmup": 1,
}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the connectors section measures PostgreSQL"
)
@pytest.mark.django_db(transaction=True)  # it runs VACUUM, which no transaction may hold
def test_connectors_section_prints_its_tables() -> None:
    out = StringIO()
    call_command("bench", stdout=out, **CONNECTORS)
    text = out.getvalue()
    ws = Workspace.objects.get(slug="bench-acl-3000d-200m-20g")
    assert Document.objects.filter(workspace=ws).count() == 3000
    assert "| Measure | Member | Target p95 | Console median |" in text
    rows = [line for line in text.splitlines() if line.startswith("| May see this document")]
    assert len(rows) == 6  # warm and cold, for each of the three kinds of member
    for label in ("wide: a huge group", "guest", "own grants only"):
        assert f"| 25 newest visible, first page | {label} |" in text
    assert "| Full sync (connectors.sync.run) |" in text
    assert "| Raw COPY of the same rows (baseline) |" in text
    assert (
        "| Links and hidden domain shares mapped to someone (connectors.sync.remap, 0 documents"
        in text
    )
    # The sync's workspace is emptied after it is measured.
    assert not Connection.objects.filter(workspace__slug="bench-sync").exists()

    again = StringIO()
    call_command("bench", stdout=again, **{**CONNECTORS, "sync_documents": 1000})
    assert "Reusing the data of workspace bench-acl-3000d-200m-20g" in again.getvalue()
    assert Document.objects.filter(workspace=ws).count() == 3000


AGENTS = {
    "sections": "agents",
    "agents": 300,
    "agent_members": 60,
    "agent_groups": 12,
    "requests": 2,
    "warmup": 1,
}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the agents section writes its data by COPY"
)
@pytest.mark.django_db(transaction=True)  # it runs VACUUM, which no transaction may hold
def test_agents_section_prints_its_table() -> None:
    out = StringIO()
    call_command("bench", stdout=out, **AGENTS)
    text = out.getvalue()
    ws = Workspace.objects.get(slug="bench-agents-300a-60m-12g")
    assert Agent.objects.filter(workspace=ws).count() == 300
    assert Agent.objects.filter(workspace=ws, current__isnull=True).count() == 0
    assert AgentGrant.objects.filter(agent__workspace=ws).exists()
    assert "| Measure | Member | Target p95 | Console median |" in text
    assert "| Bare median | Bare p95 | Bare queries | Admin median |" in text
    kinds = ("in 12 groups", "direct grants only", "admin", "agents feature off")
    for label in kinds:
        assert f"| Usable by me, first page (25) | {label} |" in text
    # The second workspace restricts every agent: its members use a few, scattered.
    restricted = Workspace.objects.get(slug="bench-agents-300a-60m-12g-restricted")
    assert Agent.objects.filter(workspace=restricted).count() == 300
    assert not Agent.objects.filter(workspace=restricted, visibility=Visibility.WORKSPACE)
    assert "| Usable by me, first page (25) | all restricted: in 12 groups |" in text
    scarce = re.search(r"- all restricted: in (\d) groups: .* may use (\d+) agents", text)
    assert scarce is not None and 0 < int(scarce[2]) < 300
    assert f"| Usable by me, first page (25) | all restricted: in {scarce[1]} groups |" in text
    lines = text.splitlines()
    api_lists = [line for line in lines if line.startswith("| Service API: the member's agents")]
    fetches = [line for line in lines if line.startswith("| Service API: one agent as served")]
    assert len(fetches) == 5 and len(api_lists) >= 6
    assert sum("just after a change of the facts" in line for line in fetches) == 1
    assert "The members' decision facts are read from their snapshot (snapshots on" in text
    later = [line for line in lines if line.startswith("| Usable by me,") and "pages on" in line]
    assert len(later) == 1
    # Every page, call and baseline answered as expected (a refusal is measured as a 403).
    for line in lines:
        if line.startswith(("| Usable", "| Created", "| All", "| Search", "| Service API")):
            assert "HTTP" not in line, line
    # The bench's token does not outlive the run.
    assert not ServiceToken.objects.exists()

    again = StringIO()
    call_command("bench", stdout=again, **AGENTS)
    assert "Reusing the data of workspace bench-agents-300a-60m-12g" in again.getvalue()
    assert Agent.objects.filter(workspace=ws).count() == 300


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the note of other databases")
@pytest.mark.django_db
def test_agents_section_says_it_needs_postgresql() -> None:
    out = StringIO()
    call_command("bench", stdout=out, **AGENTS)
    assert "Agents: measured on PostgreSQL only" in out.getvalue()


@pytest.mark.django_db
def test_unknown_sections_are_refused() -> None:
    with pytest.raises(CommandError, match="Unknown sections"):
        call_command("bench", sections="pages,nope", stdout=StringIO())
