"""One run at a time per connection, however many workers (twenty here) start one at once (the
schedule, "Sync now" and a retried task can overlap)."""

from __future__ import annotations

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
