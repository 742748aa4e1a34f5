"""One run at a time per connection, however many workers (twenty here) start one at once (the
schedule, "Sync now" and a retried task can overlap)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from connectors import sync
from connectors.models import Document, RunStatus, SyncRun
from tests.concurrency import needs_postgres, run_concurrently

from .conftest import connect_google

THREADS = 20


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_many_workers_starting_a_sync_at_once_run_it_once(google, acme):
    d = google.domain
    d.page_size = 2
    for i in range(6):
        d.add_file(
            f"f{i}",
            f"File {i}",
            permissions=[{"type": "user", "emailAddress": "alan@acme.example", "role": "reader"}],
        )
    conn = connect_google(google, acme)  # its first sync runs at once (eager tasks)
    before = set(SyncRun.objects.values_list("pk", flat=True))
    with google.changing() as changing:
        for i in range(6):
            changing.rename(f"f{i}", f"Renamed {i}")
    google.requests.clear()
    # Each page takes a while, so every thread tries while the first run holds the lease.
    google.fail("stall", path="/drive/v3/changes", times=3, stall_seconds=0.4)

    out = run_concurrently(lambda i: sync.run(conn.pk, triggered_by=f"worker {i}"), THREADS)
    assert out.unexpected() == {}
    ran = [o for o in out.results.values() if o.run is not None]
    assert len(ran) == 1, [o.message for o in out.results.values()]
    new = SyncRun.objects.exclude(pk__in=before)
    assert new.count() == 1 and new.get().status == RunStatus.SUCCEEDED
    assert set(Document.objects.values_list("title", flat=True)) == {
        f"Renamed {i}" for i in range(6)
    }
    pages = [r for r in google.requests if r == "GET /drive/v3/changes"]
    assert len(pages) == 3  # one run's three pages, not twenty runs' worth


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_admins_changing_the_link_mapping_at_once_leave_it_applied_as_it_ends(google, acme):
    """Each change locks the connection and applies its mapping to the documents in the
    same transaction, and a full sync that started before them (its pages stalled) writes
    its pages with the mapping the connection has by then: the documents end mapped as the
    connection is."""
    from accounts.actor import Actor
    from connectors import access, services
    from connectors.local.google import anyone, user
    from connectors.models import Connection, LinkShares

    d = google.domain
    d.page_size = 2
    for i in range(6):
        d.add_file(f"l{i}", f"Link {i}", permissions=[anyone(), user("alan@acme.example")])
    conn = connect_google(google, acme)
    google.fail("stall", path="/drive/v3/files", times=2, stall_seconds=0.2)

    def change(i: int) -> object:
        if i == 0:
            return sync.run(conn.pk, full=True, triggered_by="racing")
        time.sleep(0.05)  # the sync has read the connection
        return services.connection_settings_update(
            actor=Actor.member(acme.admin),
            connection_id=conn.pk,
            change=services.SettingsChange(
                # Each one a change: a new interval, links to the workspace.
                sync_interval=conn.sync_interval + timedelta(minutes=i),
                staleness_limit=conn.staleness_limit,
                link_shares=LinkShares.WORKSPACE,
                hidden_domain_shares="nobody",
            ),
        )

    out = run_concurrently(change, THREADS)
    assert out.unexpected() == {}
    final = Connection.objects.get(pk=conn.pk).link_shares
    assert final == LinkShares.WORKSPACE
    guest = set(
        access.visible_documents(access.load_viewer(acme.guest)).values_list("title", flat=True)
    )
    links = {f"Link {i}" for i in range(6)}
    assert guest == (links if final == LinkShares.WORKSPACE else set())
    for doc in Document.objects.filter(title__in=links):
        link = next(e for e in doc.acl if e["kind"] == "anyone")
        assert (link["principal"] is not None) == (final == LinkShares.WORKSPACE)
