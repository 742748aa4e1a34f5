"""The connected services' pages (R-CON-1 to R-CON-7): connecting through the local
Google's real redirects, a connection's page (settings, syncs, pausing, progress,
history, disconnecting), the documents, who can see each and why, a member's documents
and one's own; roles, bad input, and query counts that do not grow with the data."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.contrib.messages import get_messages
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from accounts.roles import Role
from billing.models import Plan
from connectors import services, sync, views
from connectors.local.google import LocalGoogle, anyone, domain, group, user
from connectors.models import (
    Connection,
    ConnectionStatus,
    Document,
    Principal,
    PrincipalKind,
    RunKind,
    RunPhase,
    RunStatus,
    SyncRun,
)
from connectors.sync import everyone_principal
from tests.conftest import HTMX
from tests.factories import (
    FeatureRuleFactory,
    MembershipFactory,
    SubscriptionFactory,
    UserFactory,
    WorkspaceFactory,
)

from .conftest import Acme

CALLBACK = "/connectors/google/callback/"
CONFIRMED = {"confirmed": "1"}


def url(name: str, *args: object, slug: str = "acme") -> str:
    return reverse(f"ws:{name}", args=[slug, *args])


def client_of(m: Membership) -> Client:
    c = Client()
    c.force_login(m.user)
    return c


def toast(response: Any) -> dict[str, str]:
    return json.loads(response["HX-Trigger"])["toast"]


def flashed(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def drive(google: LocalGoogle) -> Any:
    d = google.domain
    d.page_size = 3
    d.add_group("eng@acme.example", people=["alan@acme.example"], groups=["platform@acme.example"])
    d.add_group("platform@acme.example", people=["grace@acme.example"])
    d.add_group("sales@acme.example", people=["mary@acme.example"])
    d.add_file("f-arch", "Architecture", permissions=[group("eng@acme.example")])
    d.add_file("f-oncall", "On-call", permissions=[group("platform@acme.example")])
    d.add_file("f-pipeline", "Pipeline", permissions=[group("sales@acme.example")])
    d.add_file("f-memo", "Memo", permissions=[user("Mary@Acme.example", "owner")])
    d.add_file("f-handbook", "Handbook", permissions=[domain("acme.example")])
    d.add_file("f-holidays", "Holidays", permissions=[domain("acme.example", discoverable=False)])
    d.add_file("f-press", "Press kit", permissions=[anyone()])
    return d


@pytest.fixture
def admin(acme: Acme) -> Client:
    return client_of(acme.admin)


def start_connect(admin: Client, google: LocalGoogle) -> str:
    """Post "Connect Google Drive", check the redirect to the local Google's consent, and
    press its Allow: the callback's path and query, as the browser would follow it."""
    response = admin.post(url("connector_google_connect"))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{google.url}/o/oauth2/v2/auth?")
    query = parse_qs(urlsplit(location).query)
    assert query["redirect_uri"] == [f"http://testserver{CALLBACK}"]
    assert query["code_challenge_method"] == ["S256"] and query["state"][0]
    answer = httpx.get(google.approve_url(location), follow_redirects=False)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert back.path == CALLBACK
    assert parse_qs(back.query)["state"] == query["state"]
    return f"{back.path}?{back.query}"


def connect(admin: Client, google: LocalGoogle) -> Connection:
    response = admin.get(start_connect(admin, google))
    conn = Connection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("connection", conn.pk)
    return conn


def synced(conn: Connection) -> SyncRun:
    outcome = sync.run(conn.pk)
    assert outcome.run is not None, outcome.message
    outcome.run.refresh_from_db()
    return outcome.run


# --- Connecting ---------------------------------------------------------------------


def test_connecting_google_drive_then_every_page_shows_what_the_sync_brought(
    google, drive, acme, admin
) -> None:
    conn = connect(admin, google)
    assert conn.account == "admin@acme.example"
    assert conn.display_name == "Google Drive (admin@acme.example)"
    assert conn.credentials.startswith("fernet:")
    page = admin.get(url("connection", conn.pk))
    assert "is connected; the first sync has started" in page.content.decode()
    run = synced(conn)
    assert run.status == RunStatus.SUCCEEDED

    body = admin.get(url("connectors")).content.decode()
    assert "Google Drive (admin@acme.example)" in body and ">7<" in body  # documents
    assert "UTC" in body and "ago" in body or "just now" in body

    body = admin.get(url("connection", conn.pk)).content.decode()
    assert "Succeeded" in body and "Full" in body
    assert 'hx-trigger="every 2s"' not in body  # nothing runs: no polling

    body = admin.get(url("connector_documents")).content.decode()
    assert {"Architecture", "Pipeline", "Press kit"} <= {
        t for t in ("Architecture", "Pipeline", "Press kit") if t in body
    }
    arch = Document.objects.get(title="Architecture")
    body = admin.get(url("connector_document", arch.pk)).content.decode()
    assert "eng@acme.example" in body and "Applied" in body
    assert "alan@acme.example" in body and "grace@acme.example" in body
    assert "mary@acme.example" not in body
    assert "2 members can see it" in body
    assert 'rel="noopener noreferrer"' in body

    why = admin.get(url("connector_why"), {"member": acme.grace.pk, "document": arch.pk})
    text = why.content.decode()
    assert "grace@acme.example can see “Architecture”" in text
    assert "through platform@acme.example" in text

    mine = client_of(acme.grace).get(url("my_documents")).content.decode()
    assert "Architecture" in mine and "On-call" in mine and "Pipeline" not in mine
    assert "3 documents" in mine

    theirs = admin.get(url("member_documents", acme.mary.pk)).content.decode()
    assert "Pipeline" in theirs and "Memo" in theirs and "Architecture" not in theirs


def test_the_pages_with_connect_buttons_may_post_on_to_the_providers(google, acme, admin) -> None:
    """Browsers check form-action against the redirect after a post too."""
    policy = admin.get(url("connectors"))["Content-Security-Policy"]
    form_action = next(d for d in policy.split(";") if d.strip().startswith("form-action"))
    assert "'self'" in form_action and google.url in form_action
    assert "https://login.microsoftonline.com" in form_action
    others = admin.get(url("my_documents"))["Content-Security-Policy"]
    assert google.url not in others


def test_an_htmx_connect_answers_with_hx_redirect(google, acme, admin) -> None:
    response = admin.post(url("connector_google_connect"), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(f"{google.url}/o/oauth2/v2/auth?")


def test_a_state_used_twice_or_forged_stores_nothing(google, drive, acme, admin) -> None:
    back = start_connect(admin, google)
    assert admin.get(back).status_code == 302
    conn = Connection.objects.get()
    sealed = conn.credentials
    again = admin.get(back)
    assert again.status_code == 400
    assert views.STATE_INVALID in again.content.decode()
    conn.refresh_from_db()
    assert Connection.objects.count() == 1 and conn.credentials == sealed

    Connection.objects.all().delete()
    forged = admin.get(CALLBACK, {"state": "forged", "code": "whatever"})
    assert forged.status_code == 400 and views.STATE_INVALID in forged.content.decode()
    no_state = admin.get(CALLBACK, {"code": "whatever"})
    assert no_state.status_code == 400
    assert not Connection.objects.exists()


def test_a_state_from_another_session_or_expired_stores_nothing(
    google, drive, acme, admin, monkeypatch
) -> None:
    back = start_connect(admin, google)
    other = MembershipFactory(
        workspace=acme.workspace, role=Role.ADMIN, user=UserFactory(email="other@acme.example")
    )
    assert client_of(other).get(back).status_code == 400
    monkeypatch.setattr(views, "OAUTH_TTL_SECONDS", -1)
    expired = start_connect(admin, google)
    assert admin.get(expired).status_code == 400
    assert not Connection.objects.exists()


def test_cancelling_at_google_connects_nothing(google, acme, admin) -> None:
    response = admin.post(url("connector_google_connect"))
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    back = admin.get(CALLBACK, {"error": "access_denied", "state": state}, follow=True)
    assert back.redirect_chain[-1][0] == url("connectors")
    assert views.CANCELLED in back.content.decode()
    assert not Connection.objects.exists()
    # The state is spent: answering again is refused.
    assert admin.get(CALLBACK, {"error": "access_denied", "state": state}).status_code == 400


def test_google_refusing_the_code_is_shown_and_stores_nothing(google, drive, acme, admin) -> None:
    back = start_connect(admin, google)
    google.fail("500", path="/token", times=10)
    response = admin.get(back)
    assert response.status_code == 502
    assert "Google Drive was not connected" in response.content.decode()
    assert not Connection.objects.exists()


def test_an_admin_who_lost_the_role_meanwhile_connects_nothing(google, drive, acme, admin) -> None:
    back = start_connect(admin, google)
    Membership.objects.filter(pk=acme.admin.pk).update(role=Role.MEMBER)
    response = admin.get(back)
    assert response.status_code == 403
    assert views.NO_LONGER_ADMIN in response.content.decode()
    assert not Connection.objects.exists()


def test_a_workspace_suspended_meanwhile_connects_nothing(google, drive, acme, admin) -> None:
    back = start_connect(admin, google)
    type(acme.workspace).objects.filter(pk=acme.workspace.pk).update(suspended_at=timezone.now())
    response = admin.get(back)
    assert response.status_code == 403 and views.SUSPENDED in response.content.decode()
    assert not Connection.objects.exists()


def test_the_callback_needs_a_signed_in_user(client) -> None:
    response = client.get(CALLBACK, {"state": "x", "code": "y"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_without_the_plan_the_index_says_so_and_connecting_is_refused(db, google) -> None:
    ws = WorkspaceFactory(name="Solo", slug="solo")
    SubscriptionFactory(workspace=ws, plan=Plan.objects.get(slug="free"))
    owner = MembershipFactory(workspace=ws, role=Role.OWNER)
    c = client_of(owner)
    body = c.get(url("connectors", slug="solo")).content.decode()
    assert "does not include connected services" in body
    assert "Connect Google Drive" not in body
    refused = c.post(url("connector_google_connect", slug="solo"), follow=True)
    assert "plan does not include connected services." in refused.content.decode()
    assert "connectors_oauth" not in c.session


def test_microsoft_is_refused_clearly_while_its_provider_cannot_connect(
    acme, admin, monkeypatch
) -> None:
    monkeypatch.setattr(views, "_microsoft", lambda: None)
    response = admin.post(url("connector_microsoft_connect"), follow=True)
    assert response.status_code == 200
    assert views.MICROSOFT_UNAVAILABLE in response.content.decode()


def test_only_the_newest_few_flows_wait_in_the_session(google, acme, admin) -> None:
    for _ in range(views.OAUTH_MAX_PENDING + 2):
        admin.post(url("connector_google_connect"))
    assert len(admin.session[views.OAUTH_SESSION_KEY]) == views.OAUTH_MAX_PENDING


def test_the_microsoft_flow_follows_its_provider_functions(acme, admin, monkeypatch) -> None:
    """Against a stand-in of connectors.providers.microsoft's connect functions."""
    calls: list[str] = []

    class FakeMicrosoft:
        @staticmethod
        def admin_consent_url(*, state: str, redirect_uri: str) -> str:
            return f"https://login.example/adminconsent?state={state}&redirect_uri={redirect_uri}"

        @staticmethod
        def consent_error(params: dict[str, str]) -> str | None:
            if params.get("error"):
                return params.get("error_description") or params["error"]
            return None if params.get("admin_consent") == "True" else "No consent."

        @staticmethod
        def connect(*, tenant: str) -> tuple[dict[str, str], str, str]:
            calls.append(tenant)
            return {"tenant": tenant}, tenant, "Contoso SharePoint"

    monkeypatch.setattr(views, "_microsoft", lambda: FakeMicrosoft)
    callback = "/connectors/microsoft/callback/"

    def state() -> str:
        response = admin.post(url("connector_microsoft_connect"))
        query = parse_qs(urlsplit(response["Location"]).query)
        assert query["redirect_uri"] == [f"http://testserver{callback}"]
        return query["state"][0]

    cancelled = admin.get(callback, {"error": "access_denied", "state": state()}, follow=True)
    assert views.CANCELLED in cancelled.content.decode()
    refused = admin.get(
        callback, {"error": "invalid_request", "error_description": "Bad tenant", "state": state()}
    )
    assert refused.status_code == 400 and "Bad tenant" in refused.content.decode()
    assert admin.get(callback, {"tenant": "t-1", "admin_consent": "True"}).status_code == 400
    done = admin.get(callback, {"tenant": "t-1", "admin_consent": "True", "state": state()})
    conn = Connection.objects.get()
    assert done["Location"] == url("connection", conn.pk)
    assert (conn.provider, conn.account, conn.display_name) == (
        "microsoft",
        "t-1",
        "Contoso SharePoint",
    )
    assert calls == ["t-1"]


def test_connecting_sharepoint_through_the_local_microsoft(acme, admin, settings, waits) -> None:
    from connectors.local.microsoft import LocalMicrosoft  # noqa: PLC0415
    from connectors.local.microsoft import settings_for as microsoft_settings  # noqa: PLC0415

    callback = "/connectors/microsoft/callback/"
    with LocalMicrosoft(domain="contoso.test") as ms:
        for key, value in microsoft_settings(ms.url).items():
            setattr(settings, key, value)

        def consent() -> str:
            response = admin.post(url("connector_microsoft_connect"))
            assert response["Location"].startswith(f"{ms.url}/organizations/v2.0/adminconsent?")
            answer = httpx.get(response["Location"], follow_redirects=False)
            back = urlsplit(answer.headers["Location"])
            assert back.path == callback
            return f"{back.path}?{back.query}"

        ms.refuse_consent()
        declined = admin.get(consent(), follow=True)
        assert declined.redirect_chain[-1][0] == url("connectors")
        assert views.CANCELLED in declined.content.decode()
        assert not Connection.objects.exists()
        ms.refuse_consent(False)
        done = admin.get(consent())
        conn = Connection.objects.get()
        assert done["Location"] == url("connection", conn.pk)
        assert conn.provider == "microsoft" and conn.credentials.startswith("fernet:")


def test_the_index_lists_connections_or_an_empty_state(acme, admin) -> None:
    body = admin.get(url("connectors")).content.decode()
    assert "No service connected yet" in body
    assert "Connect Google Drive" in body and "Connect SharePoint and OneDrive" in body
    stale = Connection.objects.create(
        workspace=acme.workspace,
        provider="google_drive",
        account="a@acme.example",
        display_name="Old drive",
        last_success_at=timezone.now() - timedelta(days=3),
    )
    body = admin.get(url("connectors")).content.decode()
    assert "Old drive" in body and "Stale: its documents are hidden since" in body
    partial = admin.get(url("connectors"), **HTMX).content.decode()
    assert partial.lstrip().startswith('<div id="connections">') and "<html" not in partial
    assert stale.display_name in partial


# --- Roles --------------------------------------------------------------------------


def test_a_member_gets_403_on_the_admin_pages_and_has_my_documents(acme) -> None:
    doc_conn = Connection.objects.create(
        workspace=acme.workspace, provider="google_drive", account="d@acme.example"
    )
    doc = Document.objects.create(
        workspace=acme.workspace,
        connection=doc_conn,
        source_id="x",
        title="X",
        modified_at=timezone.now(),
    )
    alan = client_of(acme.alan)
    for path in (
        url("connectors"),
        url("connection", doc_conn.pk),
        url("connector_documents"),
        url("connector_document", doc.pk),
        url("connector_why"),
        url("member_documents", acme.grace.pk),
        url("connection_disconnect", doc_conn.pk),
    ):
        assert alan.get(path).status_code == 403, path
    for path in (
        url("connector_google_connect"),
        url("connection_sync", doc_conn.pk),
        url("connection_settings", doc_conn.pk),
        url("connection_disconnect", doc_conn.pk),
    ):
        assert alan.post(path, CONFIRMED).status_code == 403, path
    assert Connection.objects.get(pk=doc_conn.pk).status == ConnectionStatus.CONNECTED
    mine = alan.get(url("my_documents"))
    assert mine.status_code == 200 and "My documents" in mine.content.decode()
    nav = mine.content.decode()
    assert ">Connectors<" not in nav and ">My documents<" in nav
    assert ">Connectors<" in client_of(acme.admin).get(url("my_documents")).content.decode()


def test_a_non_member_gets_404(acme) -> None:
    stranger = MembershipFactory(workspace=WorkspaceFactory(slug="globex"), role=Role.OWNER)
    c = client_of(stranger)
    assert c.get(url("connectors")).status_code == 404
    assert c.get(url("my_documents")).status_code == 404


def test_the_members_page_links_each_member_to_their_documents(acme, admin) -> None:
    body = admin.get(url("members")).content.decode()
    assert url("member_documents", acme.grace.pk) in body
    assert url("member_documents", acme.grace.pk) not in (
        client_of(acme.alan).get(url("members")).content.decode()
    )


# --- A connection's page ------------------------------------------------------------


@pytest.fixture
def conn(acme: Acme) -> Connection:
    return Connection.objects.create(
        workspace=acme.workspace,
        provider="google_drive",
        account="admin@acme.example",
        display_name="Acme Drive",
        last_success_at=timezone.now(),
    )


def test_settings_refuse_bad_values_beside_their_fields(conn, admin) -> None:
    target = url("connection_settings", conn.pk)
    good = {
        "sync_interval": "60",
        "staleness_limit": "24",
        "link_shares": "nobody",
        "hidden_domain_shares": "nobody",
    }
    cases = [
        ({"sync_interval": "5"}, services.INTERVAL_RANGE),
        ({"sync_interval": "20000"}, services.INTERVAL_RANGE),
        ({"sync_interval": "abc"}, "whole number of minutes"),
        ({"sync_interval": "9" * 5000}, "whole number of minutes"),
        ({"staleness_limit": "0"}, services.STALENESS_RANGE),
        ({"sync_interval": "180", "staleness_limit": "2"}, services.STALENESS_RANGE),
        ({"link_shares": "everyone"}, "Choose how link shares map."),
        ({"hidden_domain_shares": "x\x00"}, "Choose how hidden domain shares map."),
    ]
    for change, message in cases:
        response = admin.post(target, {**good, **change}, **HTMX)
        body = response.content.decode()
        assert response.status_code == 200, change
        assert body.lstrip().startswith('<section id="connection-settings"'), change
        assert message in body and 'class="error"' in body, change
        assert "HX-Trigger" not in response
    conn.refresh_from_db()
    assert conn.sync_interval == timedelta(hours=1)
    plain = admin.post(target, {**good, "sync_interval": "5"})
    assert plain.status_code == 200 and services.INTERVAL_RANGE in plain.content.decode()
    assert "<html" in plain.content.decode()

    saved = admin.post(target, {**good, "sync_interval": "30", "link_shares": "workspace"}, **HTMX)
    assert saved.status_code == 200 and "saved" in toast(saved)["message"]
    conn.refresh_from_db()
    assert conn.sync_interval == timedelta(minutes=30) and conn.link_shares == "workspace"
    page = admin.get(url("connection", conn.pk)).content.decode()
    assert "reaches nobody here beyond the people and groups" in page


def test_sync_now_enqueues_a_sync_and_the_state_starts_polling(
    conn, admin, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin.post(url("connection_sync", conn.pk), {"full": "0"}, **HTMX)
    assert response.status_code == 200 and len(callbacks) == 1
    assert "is starting" in toast(response)["message"]
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="connection-actions"')
    assert 'hx-swap-oob="true"' in body and 'hx-trigger="every 2s"' in body
    assert f"part=live&amp;wait={views.WAIT_POLLS - 1}" in body
    # While it waits, each poll counts down; at zero it stops.
    last = admin.get(url("connection", conn.pk), {"part": "live", "wait": "1"}, **HTMX)
    assert "wait=0" in last.content.decode()
    done = admin.get(url("connection", conn.pk), {"part": "live", "wait": "0"}, **HTMX)
    assert 'hx-trigger="every 2s"' not in done.content.decode()
    plain = admin.post(url("connection_sync", conn.pk), {"full": "1"})
    assert plain.status_code == 302 and plain["Location"] == url("connection", conn.pk)


def test_pause_and_resume(conn, admin) -> None:
    paused = admin.post(url("connection_pause", conn.pk), {"paused": "1"}, **HTMX)
    assert "is paused" in toast(paused)["message"] and ">Resume<" in paused.content.decode()
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.PAUSED
    refused = admin.post(url("connection_sync", conn.pk), {"full": "0"}, **HTMX)
    assert toast(refused) == {"message": services.PAUSED, "kind": "error"}
    resumed = admin.post(url("connection_pause", conn.pk), {"paused": "0"}, **HTMX)
    assert "resumed" in toast(resumed)["message"]
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.CONNECTED


def test_the_progress_of_a_run_is_polled_until_it_ends(conn, admin) -> None:
    run = SyncRun.objects.create(
        connection=conn,
        kind=RunKind.FULL,
        phase=RunPhase.DOCUMENTS,
        items_seen=420,
        estimated_total=1000,
        acl_entries_written=900,
        errors=1,
    )
    Connection.objects.filter(pk=conn.pk).update(status=ConnectionStatus.SYNCING)
    body = admin.get(url("connection", conn.pk)).content.decode()
    assert 'hx-trigger="every 2s"' in body and "part=live&amp;was=busy" in body
    assert 'value="42"' in body and "Reading documents" in body and "about 1000" in body
    SyncRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, phase=RunPhase.DONE, finished_at=timezone.now()
    )
    Connection.objects.filter(pk=conn.pk).update(status=ConnectionStatus.CONNECTED)
    ended = admin.get(url("connection", conn.pk), {"part": "live", "was": "busy"}, **HTMX)
    assert 'hx-trigger="every 2s"' not in ended.content.decode()
    assert views.RUN_FINISHED in json.loads(ended["HX-Trigger"])
    history = admin.get(url("connection", conn.pk), {"part": "runs"}, **HTMX).content.decode()
    assert history.lstrip().startswith('<section id="run-history"') and "Succeeded" in history


def test_a_run_without_news_stops_the_polling_and_says_so(conn, admin) -> None:
    SyncRun.objects.create(
        connection=conn, kind=RunKind.FULL, heartbeat_at=timezone.now() - timedelta(hours=2)
    )
    body = admin.get(url("connection", conn.pk)).content.decode()
    assert "No news from this sync" in body and 'hx-trigger="every 2s"' not in body


def test_the_history_shows_errors_expandable_and_pages(conn, admin) -> None:
    now = timezone.now()
    SyncRun.objects.bulk_create(
        SyncRun(
            connection=conn,
            kind=RunKind.INCREMENTAL,
            status=RunStatus.SUCCEEDED,
            phase=RunPhase.DONE,
            started_at=now - timedelta(hours=i + 1),
            finished_at=now - timedelta(hours=i + 1) + timedelta(seconds=75),
            items_seen=i,
        )
        for i in range(views.RUNS_PAGE_SIZE + 2)
    )
    SyncRun.objects.create(
        connection=conn,
        kind=RunKind.FULL,
        status=RunStatus.INTERRUPTED,
        errors=2,
        error_log=[
            {"at": now.isoformat(), "message": "The service answered 500 for /drive/v3/files."},
            {"at": now.isoformat(), "message": "<script>alert(1)</script>"},
        ],
    )
    Connection.objects.filter(pk=conn.pk).update(last_error="The service answered 500.")
    body = admin.get(url("connection", conn.pk)).content.decode()
    assert '<details class="error-log"><summary>2 errors</summary>' in body
    assert "The service answered 500 for /drive/v3/files." in body
    assert "&lt;script&gt;" in body and "<script>alert" not in body
    assert "Last error:" in body and "Interrupted, will resume" in body
    assert "1 min 15 s" in body and "Page 1 of 2" in body
    second = admin.get(url("connection", conn.pk), {"page": "2"}, **HTMX).content.decode()
    assert second.lstrip().startswith('<section id="run-history"') and "Page 2 of 2" in second
    for bad in ("abc", "0", "9" * 50):
        assert admin.get(url("connection", conn.pk), {"page": bad}).status_code == 200


def test_a_stale_connection_says_since_when_its_documents_are_hidden(conn, admin) -> None:
    Connection.objects.filter(pk=conn.pk).update(
        last_success_at=timezone.now() - timedelta(hours=30)
    )
    conn.refresh_from_db()
    since = (conn.last_success_at + conn.staleness_limit).strftime("%Y-%m-%d %H:%M")
    body = admin.get(url("connection", conn.pk)).content.decode()
    assert f"Documents hidden since {since} UTC" in body


def test_needs_reauth_offers_reconnect_through_the_same_flow(google, drive, acme, admin) -> None:
    conn = connect(admin, google)
    Connection.objects.filter(pk=conn.pk).update(
        status=ConnectionStatus.NEEDS_REAUTH, last_error="Google refused the grant."
    )
    body = admin.get(url("connection", conn.pk)).content.decode()
    assert ">Reconnect<" in body and url("connector_google_connect") in body
    assert ">Sync now<" not in body
    response = admin.get(start_connect(admin, google), follow=True)
    assert "is reconnected" in response.content.decode()
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.CONNECTED and Connection.objects.count() == 1


def test_disconnect_asks_first_then_ends_access_at_once(
    google, drive, acme, admin, django_capture_on_commit_callbacks
) -> None:
    conn = connect(admin, google)
    synced(conn)
    grace = client_of(acme.grace)
    assert "Architecture" in grace.get(url("my_documents")).content.decode()
    preview = services.disconnect_preview(conn)
    target = url("connection_disconnect", conn.pk)

    asked = admin.get(target)
    body = asked.content.decode()
    assert asked.status_code == 200 and "Disconnect Google Drive (admin@acme.example)?" in body
    assert f"{preview.documents} documents" in body
    assert f"{preview.permissions} permissions" in body
    assert f"{preview.identities} identities" in body
    dialog = admin.get(target, **HTMX).content.decode()
    assert dialog.lstrip().startswith("<dialog")
    assert admin.post(target).status_code == 200  # no confirmation: asks again
    assert Connection.objects.get(pk=conn.pk).status == ConnectionStatus.CONNECTED

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        done = admin.post(target, CONFIRMED)
    assert done.status_code == 302 and done["Location"] == url("connectors")
    # Access ends at once, before the deletion runs.
    mine = grace.get(url("my_documents")).content.decode()
    assert "Architecture" not in mine and "being disconnected" in mine
    listed = admin.get(url("connectors")).content.decode()
    assert "is disconnected: its documents are hidden now" in listed
    assert "Deleting its copy" in listed and f"0 of {preview.documents} documents deleted" in listed
    assert 'hx-trigger="every 2s"' in listed
    page = admin.get(url("connection", conn.pk)).content.decode()
    assert "Deleting documents" in page and f"0 of {preview.documents} deleted" in page
    assert 'hx-trigger="every 2s"' in page and ">Sync now<" not in page
    assert admin.get(target).status_code == 302  # already disconnecting
    for callback in callbacks:
        callback()
    assert not Connection.objects.filter(pk=conn.pk).exists()
    gone = admin.get(url("connection", conn.pk), {"part": "live", "was": "busy"}, **HTMX)
    assert gone["HX-Redirect"] == url("connectors")
    assert admin.get(url("connection", conn.pk)).status_code == 404
    listed = admin.get(url("connectors"), **HTMX).content.decode()
    assert "No service connected yet" in listed and 'hx-trigger="every 2s"' not in listed


# --- Documents ----------------------------------------------------------------------


def make_documents(
    conn: Connection, n: int, *, principals: list[int] | None = None, start: int = 0
) -> list[Document]:
    now = timezone.now()
    ids = principals if principals is not None else [everyone_principal(conn.workspace_id)]
    return Document.objects.bulk_create(
        Document(
            workspace_id=conn.workspace_id,
            connection=conn,
            source_id=f"s{start + i}",
            title=f"Report {start + i:04d}",
            mime_type="application/pdf",
            owner_email="owner@acme.example",
            modified_at=now - timedelta(minutes=start + i),
            principals=ids,
            acl=[{"kind": "anyone", "value": "", "role": "reader", "principal": ids[0]}],
        )
        for i in range(n)
    )


def test_documents_search_filter_and_keyset_pages(conn, admin) -> None:
    make_documents(conn, 30)
    other = Connection.objects.create(
        workspace=conn.workspace, provider="google_drive", account="b@acme.example"
    )
    Document.objects.create(
        workspace=conn.workspace,
        connection=other,
        source_id="z",
        title="Zebra plan",
        modified_at=timezone.now() - timedelta(days=9),
    )
    first = admin.get(url("connector_documents"))
    body = first.content.decode()
    assert "31 documents" in body and "Report 0000" in body and "Report 0024" in body
    assert "Report 0025" not in body
    cursor = first.context["page"].next_cursor
    assert cursor and "Older" in body
    second = admin.get(url("connector_documents"), {"cursor": cursor}, **HTMX).content.decode()
    assert second.lstrip().startswith('<div id="documents-list">')
    assert "Report 0025" in second and "Zebra plan" in second and "Report 0024" not in second
    assert "Newest" in second
    found = admin.get(url("connector_documents"), {"q": "zebra"}).content.decode()
    assert "Zebra plan" in found and "Report 0000" not in found and "1 document match" in found
    only = admin.get(url("connector_documents"), {"connection": other.pk}).content.decode()
    assert "Zebra plan" in only and "Report 0000" not in only


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 101},
        {"q": "a\x00b"},
        {"connection": "9" * 30},
        {"connection": "abc"},
        {"library": "-1"},
        {"cursor": "nonsense"},
        {"cursor": "9" * 40 + ".1"},
        {"cursor": "1." + "9" * 30},
        {"cursor": "-99999999999999999.1"},
        {"cursor": "x" * 5000},
    ],
    ids=repr,
)
def test_bad_filters_answer_the_list_never_a_500(conn, admin, params) -> None:
    make_documents(conn, 3)
    for extra in ({}, HTMX):
        response = admin.get(url("connector_documents"), params, **extra)
        assert response.status_code == 200
    mine = admin.get(url("my_documents"), params)
    assert mine.status_code == 200
    assert admin.get(url("member_documents", conn.workspace.memberships.first().pk), params)


def test_another_workspaces_connection_is_not_a_filter_choice(conn, admin) -> None:
    other_ws = WorkspaceFactory(slug="globex")
    foreign = Connection.objects.create(
        workspace=other_ws, provider="google_drive", account="x@globex.example"
    )
    Document.objects.create(
        workspace=other_ws,
        connection=foreign,
        source_id="g",
        title="Globex secret",
        modified_at=timezone.now(),
    )
    body = admin.get(url("connector_documents"), {"connection": foreign.pk}).content.decode()
    assert "Globex secret" not in body and "This filter is ignored" in body
    assert admin.get(url("connector_document", Document.objects.get().pk)).status_code == 404


def test_the_document_page_shows_a_drive_path_from_the_stored_folders(conn, acme, admin) -> None:
    """Drive names a parent, not a path: the page reads the folders above, in one query."""
    now = timezone.now()

    def stored(source_id: str, title: str, parent: str, kind: str = "folder") -> Document:
        return Document.objects.create(
            workspace=acme.workspace,
            connection=conn,
            source_id=source_id,
            title=title,
            kind=kind,
            parent_source_id=parent,
            modified_at=now,
        )

    stored("fld-1", "Projects", "root")
    stored("fld-2", "<i>Apollo</i>", "fld-1")
    doc = stored("d-1", "Plan", "fld-2", kind="file")
    body = admin.get(url("connector_document", doc.pk)).content.decode()
    assert "/Projects/&lt;i&gt;Apollo&lt;/i&gt;" in body


def test_the_document_page_shows_the_access_list_as_given_and_never_trusts_its_link(
    conn, acme, admin
) -> None:
    everyone = everyone_principal(acme.workspace.pk)
    eng = Principal.objects.create(
        workspace=acme.workspace,
        connection=conn,
        kind=PrincipalKind.SOURCE_GROUP,
        key="g-1",
        label="eng@acme.example",
    )
    doc = Document.objects.create(
        workspace=acme.workspace,
        connection=conn,
        source_id="d",
        title="<b>Roadmap</b>",
        web_url="javascript:alert(1)",
        path="Shared/Plans",
        modified_at=timezone.now(),
        principals=[everyone],
        pending_principals=[eng.pk],
        acl=[
            {
                "kind": "anyone",
                "value": "",
                "role": "reader",
                "principal": None,
                "note": "link share: reaches nobody beyond explicit grants",
            },
            {
                "kind": "group",
                "value": "g-1",
                "role": "writer",
                "principal": eng.pk,
                "pending": True,
            },
            {"kind": "domain", "value": "acme.example", "role": "reader", "principal": everyone},
        ],
    )
    body = admin.get(url("connector_document", doc.pk)).content.decode()
    assert "&lt;b&gt;Roadmap&lt;/b&gt;" in body and "<b>Roadmap</b>" not in body
    assert 'href="javascript:' not in body and "javascript:alert(1)" in body
    assert "Reaches nobody" in body and "Link share: reaches nobody beyond explicit grants" in body
    assert "Pending" in body and "eng@acme.example" in body
    assert "Shared/Plans" in body
    assert f"{acme.workspace.memberships.count()} members can see it" in body
    found = admin.get(url("connector_document", doc.pk), {"q": "grace"}, **HTMX).content.decode()
    assert found.lstrip().startswith('<div id="who">')
    assert "grace@acme.example" in found and "alan@acme.example" not in found
    assert "1 match “grace”" in found
    assert url("connector_why") + f"?document={doc.pk}" in body

    unreadable = Document.objects.create(
        workspace=acme.workspace,
        connection=conn,
        source_id="u",
        title="U",
        modified_at=timezone.now(),
        acl=None,
    )
    body = admin.get(url("connector_document", unreadable.pk)).content.decode()
    assert "could not be read at the last sync" in body and "Nobody in the workspace" in body


def test_why_picks_a_member_and_a_document_and_answers_in_a_sentence(conn, acme, admin) -> None:
    [doc] = make_documents(conn, 1, principals=[999_999])
    page = admin.get(url("connector_why"), {"mq": "grace", "dq": "report"}).content.decode()
    assert "grace@acme.example" in page and "Report 0000" in page
    assert f"member={acme.grace.pk}" in page and f"document={doc.pk}" in page
    answer = admin.get(url("connector_why"), {"member": acme.grace.pk, "document": doc.pk}, **HTMX)
    text = answer.content.decode()
    assert text.lstrip().startswith('<div id="why">')
    assert "grace@acme.example cannot see “Report 0000”" in text
    assert "is in none" in text
    nobody = admin.get(url("connector_why"), {"mq": "nobody-like-this"}).content.decode()
    assert "No member matches" in nobody
    foreign = MembershipFactory(workspace=WorkspaceFactory(slug="globex"))
    for params in (
        {"member": "abc"},
        {"member": "9" * 30},
        {"member": foreign.pk, "document": doc.pk},
        {"document": "999999"},
        {"mq": "a\x00"},
        {"dq": "x" * 500},
    ):
        response = admin.get(url("connector_why"), params)
        assert response.status_code == 200, params
        assert "cannot see" not in response.content.decode() and "can see “" not in (
            response.content.decode()
        )
    body = admin.get(url("connector_why"), {"member": foreign.pk}).content.decode()
    assert views.NO_SUCH_MEMBER in body


def test_my_documents_says_why_when_the_feature_is_denied(conn, acme) -> None:
    make_documents(conn, 2)
    FeatureRuleFactory(workspace=acme.workspace, feature="connectors", effect="deny")
    body = client_of(acme.alan).get(url("my_documents")).content.decode()
    assert "Report 0000" not in body
    assert "<strong>Connectors:</strong> Turned off for the whole workspace" in body


def test_my_documents_notes_a_stale_connection(conn, acme) -> None:
    make_documents(conn, 2)
    Connection.objects.filter(pk=conn.pk).update(last_success_at=timezone.now() - timedelta(days=2))
    body = client_of(acme.alan).get(url("my_documents")).content.decode()
    assert "Report 0000" not in body and "has not synced within its limit" in body


def test_a_large_visible_set_is_counted_up_to_the_cap(conn, acme) -> None:
    make_documents(conn, 1001)
    body = client_of(acme.alan).get(url("my_documents")).content.decode()
    assert "1,000+ documents" in body


def test_my_documents_search_and_pages(conn, acme) -> None:
    make_documents(conn, 30)
    alan = client_of(acme.alan)
    first = alan.get(url("my_documents"))
    assert "30 documents" in first.content.decode()
    cursor = first.context["page"].next_cursor
    second = alan.get(url("my_documents"), {"cursor": cursor}, **HTMX).content.decode()
    assert "Report 0029" in second and "Report 0000" not in second
    found = alan.get(url("my_documents"), {"q": "0007"}).content.decode()
    assert "Report 0007" in found and "Report 0008" not in found


# --- Query counts at two sizes ------------------------------------------------------


def count_queries(c: Client, path: str, params: dict[str, Any] | None = None) -> int:
    c.get(path, params or {})  # session bookkeeping happens once, on the first request
    with CaptureQueriesContext(db) as ctx:
        assert c.get(path, params or {}).status_code == 200
    return len(ctx.captured_queries)


def grow(acme: Acme, conn: Connection, n: int, start: int) -> None:
    """n more of everything a list shows: documents, members, runs, connections, ACL
    entries."""
    make_documents(conn, n, start=start)
    for i in range(n):
        MembershipFactory(
            workspace=acme.workspace, user=UserFactory(email=f"m{start + i}@acme.example")
        )
        Connection.objects.create(
            workspace=acme.workspace,
            provider="google_drive",
            account=f"c{start + i}@acme.example",
            display_name=f"Drive {start + i}",
            last_success_at=timezone.now(),
        )
    SyncRun.objects.bulk_create(
        SyncRun(
            connection=conn,
            kind=RunKind.INCREMENTAL,
            status=RunStatus.SUCCEEDED,
            error_log=[{"at": "2026-01-01T00:00:00", "message": "m"}],
        )
        for _ in range(n)
    )


@pytest.fixture
def big_doc(conn: Connection, acme: Acme) -> Document:
    everyone = everyone_principal(acme.workspace.pk)
    return Document.objects.create(
        workspace=acme.workspace,
        connection=conn,
        source_id="big",
        title="Big",
        modified_at=timezone.now() + timedelta(days=1),
        principals=[everyone],
        acl=[],
    )


def test_lists_cost_the_same_queries_with_3_and_30_rows(
    conn, acme, admin, big_doc, django_assert_num_queries
) -> None:
    alan = client_of(acme.alan)
    pages = [
        (admin, url("connectors"), None),
        (admin, url("connection", conn.pk), None),
        (admin, url("connector_documents"), None),
        (admin, url("connector_documents"), {"q": "report"}),
        (admin, url("connector_document", big_doc.pk), None),
        (admin, url("connector_why"), {"mq": "acme", "dq": "report"}),
        (admin, url("member_documents", acme.alan.pk), None),
        (alan, url("my_documents"), None),
        (alan, url("my_documents"), {"q": "report"}),
    ]
    grow(acme, conn, 3, 0)
    Document.objects.filter(pk=big_doc.pk).update(
        acl=[
            {"kind": "user", "value": f"u{i}", "role": "reader", "principal": None}
            for i in range(3)
        ]
    )
    small = [count_queries(c, p, q) for c, p, q in pages]
    grow(acme, conn, 27, 3)
    Document.objects.filter(pk=big_doc.pk).update(
        acl=[
            {"kind": "user", "value": f"u{i}", "role": "reader", "principal": None}
            for i in range(30)
        ]
    )
    for (c, path, params), expected in zip(pages, small, strict=True):
        c.get(path, params or {})
        with django_assert_num_queries(expected):
            assert c.get(path, params or {}).status_code == 200
