"""Connecting Google Drive in Chromium (R-CON-1, R-CON-7): the consent of the local Google
and back, the first sync, a member's documents, the progress polled while a run goes on,
and disconnecting through the confirmation dialog."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.roles import Role
from billing.models import Plan
from connectors.local.google import LocalGoogle, group, settings_for
from connectors.models import Connection, ConnectionStatus, RunKind, RunPhase, RunStatus, SyncRun
from connectors.providers import http
from tests.e2e.conftest import NewPage, sign_in
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    SubscriptionFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def google(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalGoogle]:
    monkeypatch.setattr(http, "sleep", lambda seconds: None)
    server = LocalGoogle().start()
    for key, value in settings_for(server.url).items():
        setattr(settings, key, value)
    settings.CONNECTORS_HTTP_RETRIES = 1
    with server.changing() as d:
        d.add_group("eng@acme.example", people=["grace@acme.example"])
        d.add_file("f-arch", "Architecture", permissions=[group("eng@acme.example")])
        d.add_file("f-board", "Board minutes")
    try:
        yield server
    finally:
        server.stop()


def test_connect_sync_watch_and_disconnect(page: Page, new_page: NewPage, google) -> None:
    ws = WorkspaceFactory(name="Acme", slug="acme")
    SubscriptionFactory(workspace=ws, plan=Plan.objects.get(slug="team"))
    admin = MembershipFactory(
        workspace=ws, role=Role.ADMIN, user=UserFactory(email="admin@acme.example")
    )
    grace = MembershipFactory(workspace=ws, user=UserFactory(email="grace@acme.example"))

    sign_in(page, admin.user.email, PASSWORD, next_path="/w/acme/connectors/")
    expect(page.get_by_role("heading", name="Connectors", level=1)).to_be_visible()
    expect(page.get_by_text("No service connected yet")).to_be_visible()
    page.get_by_role("button", name="Connect Google Drive").click()
    # The local Google's consent page, then back through the callback; the first sync
    # runs at once here (tasks are eager in tests).
    expect(page.get_by_role("heading", name="Local Google Drive (demo)")).to_be_visible()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="Google Drive (admin@acme.example)")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("is connected")
    expect(page.locator("#run-history")).to_contain_text("Succeeded")
    conn = Connection.objects.get()

    other = new_page("grace")
    sign_in(other, grace.user.email, PASSWORD, next_path="/w/acme/connectors/mine/")
    expect(other.get_by_role("table")).to_contain_text("Architecture")
    expect(other.get_by_role("table")).not_to_contain_text("Board minutes")

    # A run going on: the page shows its progress and follows it until it ends.
    run = SyncRun.objects.create(
        connection=conn, kind=RunKind.INCREMENTAL, phase=RunPhase.DOCUMENTS, items_seen=3
    )
    Connection.objects.filter(pk=conn.pk).update(status=ConnectionStatus.SYNCING)
    page.reload()
    expect(page.get_by_role("progressbar", name="Reading documents")).to_be_visible()
    SyncRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, phase=RunPhase.DONE, finished_at=timezone.now()
    )
    Connection.objects.filter(pk=conn.pk).update(status=ConnectionStatus.CONNECTED)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.locator("#run-history tbody tr")).to_have_count(2)
    expect(page.locator("#run-history")).not_to_contain_text("Running")

    page.get_by_role("link", name=re.compile("^Disconnect…")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("2 documents")
    dialog.get_by_role("button", name="Disconnect Google Drive (admin@acme.example)").click()
    expect(page.get_by_role("heading", name="Connectors", level=1)).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("is disconnected")
    expect(page.get_by_text("No service connected yet")).to_be_visible()
    assert not Connection.objects.exists()

    other.reload()
    expect(other.get_by_text("No document to show")).to_be_visible()


def test_ask_why_then_a_permission_removed_at_the_source_ends_access(
    page: Page, new_page: NewPage, google
) -> None:
    ws = WorkspaceFactory(name="Acme", slug="acme")
    SubscriptionFactory(workspace=ws, plan=Plan.objects.get(slug="team"))
    admin = MembershipFactory(
        workspace=ws, role=Role.ADMIN, user=UserFactory(email="admin@acme.example")
    )
    grace = MembershipFactory(workspace=ws, user=UserFactory(email="grace@acme.example"))

    sign_in(page, admin.user.email, PASSWORD, next_path="/w/acme/connectors/")
    page.get_by_role("button", name="Connect Google Drive").click()
    page.get_by_role("button", name="Allow").click()
    expect(page.locator("#run-history")).to_contain_text("Succeeded")

    # Why does grace see Architecture? Through the group the source shares it with.
    page.goto("/w/acme/connectors/why/")
    page.get_by_label(re.compile("^Member")).fill("grace")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="grace@acme.example").click()
    page.get_by_label(re.compile("^Document")).fill("Archi")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Architecture").click()
    answer = page.locator(".why-answer")
    expect(answer).to_contain_text("grace@acme.example can see “Architecture”")
    expect(answer).to_contain_text("eng@acme.example")

    other = new_page("grace")
    sign_in(other, grace.user.email, PASSWORD, next_path="/w/acme/connectors/mine/")
    expect(other.get_by_role("table")).to_contain_text("Architecture")

    # The source takes the permission away; the next sync removes it.
    with google.changing() as d:
        d.set_permissions("f-arch", [])
    page.goto(f"/w/acme/connectors/{Connection.objects.get().pk}/")
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#toasts")).to_contain_text("is starting")
    page.reload()
    expect(page.locator("#run-history tbody tr")).to_have_count(2)
    expect(page.locator("#run-history")).not_to_contain_text("Running")

    other.reload()
    expect(other.get_by_text("No document to show")).to_be_visible()
    page.goto(f"/w/acme/connectors/why/?member={grace.pk}")
    page.get_by_label(re.compile("^Document")).fill("Archi")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Architecture").click()
    expect(page.locator(".why-answer")).to_contain_text("cannot see")
