"""`make run`'s demo connection: Acme Research connects the local demo Drive through the
consent flow, and its first sync gives members documents, and reasons."""

from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.models import Membership
from connectors import access, sync
from connectors.local.google import LocalGoogle, demo_domain, settings_for
from connectors.models import Connection, RunStatus
from console import demo


@pytest.fixture
def demo_drive(settings):
    server = LocalGoogle(demo_domain()).start()
    for key, value in settings_for(server.url).items():
        setattr(settings, key, value)
    yield server
    server.stop()


def _visible(email: str) -> set[str]:
    m = Membership.objects.select_related("workspace", "user").get(
        workspace__slug="acme", user__email=email
    )
    return set(access.visible_documents(access.load_viewer(m)).values_list("title", flat=True))


@override_settings(DOMAIN_RESOLVER="accounts.dns.StaticResolver")
def test_the_demo_connects_its_drive_and_the_first_sync_explains_access(
    db, demo_drive, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        demo.seed()
    conn = Connection.objects.get(workspace__slug="acme")
    assert conn.display_name == "Acme Drive (demo)"
    run = sync.run(conn.pk).run
    assert run is not None
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.items_seen == 38
    # edsger is in platform, inside eng: the engineering documents through the nesting.
    assert "On-call handbook" in _visible("edsger@acme.example")
    assert "Architecture overview" in _visible("edsger@acme.example")
    assert "Budget forecast" in _visible("katherine@acme.example")
    assert "Budget forecast" not in _visible("alan@acme.example")
    # The link share and the hidden domain share reach nobody by default.
    assert not {"Press kit", "Holiday calendar"} & _visible("alan@acme.example")
    # Loading the demo again connects nothing twice.
    with django_capture_on_commit_callbacks(execute=False):
        demo.seed()
    assert Connection.objects.filter(workspace__slug="acme").count() == 1


def test_without_the_demo_drive_the_demo_has_no_connection(db, settings):
    settings.GOOGLE_CLIENT_ID = ""
    with override_settings(DOMAIN_RESOLVER="accounts.dns.StaticResolver"):
        demo.seed()
    assert not Connection.objects.exists()


@override_settings(DOMAIN_RESOLVER="accounts.dns.StaticResolver")
def test_the_demo_has_agents_restricted_sharing_a_library_and_refused_news(
    db, settings, tmp_path, django_capture_on_commit_callbacks
):
    from agents.models import Agent

    settings.MEDIA_ROOT = tmp_path
    settings.GOOGLE_CLIENT_ID = ""
    with django_capture_on_commit_callbacks(execute=True):
        demo.seed()
    acme = {a.name: a for a in Agent.objects.filter(workspace__slug="acme")}
    assert acme["Literature reviewer"].visibility == "restricted"
    assert acme["Literature reviewer"].grants.filter(group__name="Research").exists()
    assert acme["Handbook helper"].current.library_ids
    ledger = Agent.objects.get(workspace__slug="daily-ledger")
    assert "news" not in ledger.current.tools
    with django_capture_on_commit_callbacks(execute=True):
        demo.seed()
    assert Agent.objects.count() == 3
