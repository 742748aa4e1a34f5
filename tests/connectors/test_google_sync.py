"""Google Drive through the local Google: connecting, full and incremental syncs, every
mapping rule, identities, staleness, faults and resuming (R-CON-1 to R-CON-4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone

from accounts.actor import Actor
from accounts.models import MemberStatus
from connectors import access, selectors, services, sync
from connectors.local.google import FOLDER, anyone, domain, group, user
from connectors.models import (
    Connection,
    ConnectionStatus,
    Document,
    GroupMember,
    LinkShares,
    Principal,
    RunKind,
    RunStatus,
    SyncRun,
)
from connectors.providers import for_connection
from connectors.providers.base import SourceError

from .conftest import connect_google


def visible(m) -> set[str]:
    m.refresh_from_db()
    viewer = access.load_viewer(m)
    return set(access.visible_documents(viewer).values_list("title", flat=True))


def decision(m, title: str) -> access.DocumentDecision:
    doc = Document.objects.get(title=title)
    return access.decide_document(access.load_viewer(m), doc)


def synced(conn: Connection, **kw) -> SyncRun:
    outcome = sync.run(conn.pk, **kw)
    assert outcome.run is not None, outcome.message
    outcome.run.refresh_from_db()
    return outcome.run


class Killed(SourceError):
    pass


def killed_after_one_page(conn: Connection) -> SyncRun | None:
    """An incremental run whose worker dies after the first page of changes."""
    provider = for_connection(conn)
    real = provider.changes

    def one_page_then_die(cursor, checkpoint):
        pages = real(cursor, checkpoint)
        yield next(pages)
        raise Killed("worker lost")

    provider.changes = one_page_then_die  # type: ignore[method-assign]
    return sync.run(conn.pk, provider=provider).run


@pytest.fixture
def drive(google):
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
    d.add_file(
        "f-board", "Board", permissions=[user("admin@acme.example", "owner")], shared_drive=True
    )
    return d


def test_the_admin_connects_with_pkce_and_a_full_sync_maps_every_rule(google, drive, acme):
    conn = connect_google(google, acme)
    assert conn.account == "admin@acme.example"
    assert conn.credentials.startswith("fernet:") and "ya29" not in conn.credentials
    run = synced(conn)
    assert run.status == RunStatus.SUCCEEDED and run.kind == RunKind.FULL
    assert run.items_seen == 8 and run.groups_seen == 3
    # Nested groups: grace is in platform, which is in eng.
    assert visible(acme.grace) == {"Architecture", "On-call", "Handbook"}
    assert visible(acme.alan) == {"Architecture", "Handbook"}
    # A user grant matches case-insensitively.
    assert visible(acme.mary) == {"Pipeline", "Memo", "Handbook"}
    # The shared drive's file came through permissions.list.
    assert visible(acme.admin) == {"Handbook", "Board"}
    # Another domain's member sees none of the domain shares.
    assert visible(acme.guest) == set()


def test_why_names_the_group_and_the_nested_path(google, drive, acme):
    synced(connect_google(google, acme))
    yes = decision(acme.grace, "Architecture")
    assert yes.allowed
    assert "eng@acme.example" in yes.reason and "through platform@acme.example" in yes.reason
    no = decision(acme.guest, "Architecture")
    assert not no.allowed and no.code == access.Code.NOT_SHARED
    assert "1 group" in no.reason


def test_link_and_hidden_domain_shares_reach_nobody_by_default_and_follow_the_setting(
    google, drive, acme
):
    conn = connect_google(google, acme)
    synced(conn)
    assert "Press kit" not in visible(acme.guest)
    assert "Holidays" not in visible(acme.alan)
    why = decision(acme.alan, "Press kit")
    assert not why.allowed and "1 link" in why.reason
    change = services.SettingsChange(
        sync_interval=conn.sync_interval,
        staleness_limit=conn.staleness_limit,
        link_shares=LinkShares.WORKSPACE,
        hidden_domain_shares="domain",
    )
    services.connection_settings_update(
        actor=Actor.member(acme.admin), connection_id=conn.pk, change=change
    )
    # Applied at once from the stored access lists, without a sync; group grants stay.
    assert {"Press kit", "Holidays", "Architecture"} <= visible(acme.alan)
    assert "Press kit" in visible(acme.guest) and "Holidays" not in visible(acme.guest)
    back = services.SettingsChange(
        sync_interval=conn.sync_interval,
        staleness_limit=conn.staleness_limit,
        link_shares=LinkShares.NOBODY,
        hidden_domain_shares="nobody",
    )
    services.connection_settings_update(
        actor=Actor.member(acme.admin), connection_id=conn.pk, change=back
    )
    assert not {"Press kit", "Holidays"} & visible(acme.alan)
    assert visible(acme.alan) == {"Architecture", "Handbook"}
    assert not any(e.get("pending") for e in Document.objects.get(title="Architecture").acl)


def test_removed_at_the_source_is_removed_at_the_next_incremental_sync(google, drive, acme):
    conn = connect_google(google, acme)
    synced(conn)
    with google.changing() as d:
        d.set_permissions("f-memo", [user("alan@acme.example")])
        d.remove_file("f-pipeline")
        d.remove_member("platform@acme.example", "grace@acme.example")
        d.trash("f-handbook")
    run = synced(conn)
    assert run.kind == RunKind.INCREMENTAL
    assert run.items_seen == 3  # the three changed files, not the whole drive
    assert visible(acme.mary) == set()
    assert visible(acme.alan) == {"Architecture", "Memo"}
    assert visible(acme.grace) == set()
    assert not Document.objects.filter(source_id__in=["f-pipeline", "f-handbook"]).exists()


def test_identities_apply_without_a_sync(google, drive, acme):
    synced(connect_google(google, acme))
    # The guest adds a verified address on the domain: sees what it is granted at once.
    EmailAddress.objects.create(user=acme.guest.user, email="GRACE2@acme.example", verified=True)
    assert visible(acme.guest) == {"Handbook"}
    # An unverified address counts for nothing.
    EmailAddress.objects.create(user=acme.guest.user, email="mary@acme.example", verified=False)
    assert "Memo" not in visible(acme.guest)
    # A deactivated member sees nothing at once.
    acme.grace.status = MemberStatus.DEACTIVATED
    acme.grace.save(update_fields=["status"])
    assert visible(acme.grace) == set()
    assert decision(acme.grace, "Handbook").code == access.Code.INACTIVE


def test_a_person_who_joins_later_sees_their_documents_at_once(google, drive, acme):
    with google.changing() as d:
        d.add_file("f-welcome", "Welcome pack", permissions=[user("newhire@acme.example")])
    synced(connect_google(google, acme))
    from tests.factories import MembershipFactory, UserFactory

    newcomer = MembershipFactory(
        workspace=acme.workspace, user=UserFactory(email="newhire@acme.example")
    )
    assert visible(newcomer) == {"Welcome pack", "Handbook"}


def test_a_stale_connection_hides_its_documents_and_says_why(google, drive, acme):
    conn = connect_google(google, acme)
    synced(conn)
    Connection.objects.filter(pk=conn.pk).update(
        last_success_at=timezone.now() - timedelta(hours=25)
    )
    assert visible(acme.alan) == set()
    why = decision(acme.alan, "Handbook")
    assert why.code == access.Code.STALE and "syncs again" in why.reason
    synced(conn)
    assert "Handbook" in visible(acme.alan)


def test_a_malformed_permission_gives_the_file_no_grants(google, drive, acme):
    conn = connect_google(google, acme)
    google.fail("malformed_permission", path="/drive/v3/files/f-board/permissions")
    run = synced(conn)
    assert run.status == RunStatus.SUCCEEDED and run.errors >= 1
    assert "Board" not in visible(acme.admin)
    assert decision(acme.admin, "Board").code == access.Code.UNREADABLE


def test_groups_the_account_may_not_read_reach_nobody(google, drive, acme):
    google.domain.directory_forbidden = True
    run = synced(connect_google(google, acme))
    assert run.status == RunStatus.SUCCEEDED
    assert any("Groups could not be read" in e["message"] for e in run.error_log)
    assert visible(acme.grace) == {"Handbook"}


def test_throttling_is_honoured_with_retry_after(google, drive, acme, waits):
    conn = connect_google(google, acme)
    google.fail("429", path="/drive/v3/files", retry_after="7")
    google.fail("503", path="/admin/directory/v1/groups", retry_after="3")
    run = synced(conn)
    assert run.status == RunStatus.SUCCEEDED
    assert 7.0 in waits and 3.0 in waits


def test_a_run_killed_mid_listing_resumes_where_it_stopped(google, drive, acme):
    conn = connect_google(google, acme)
    # Page 1 answers, then the connection drops on every retry of page 2.
    google.fail("drop", path="/drive/v3/files", times=3, after=1)
    first = synced(conn)
    assert first.status == RunStatus.INTERRUPTED
    assert first.checkpoint and first.items_seen == 3
    assert Connection.objects.get(pk=conn.pk).lease_until is None
    # Nothing the last completed state (none) does not grant: no document is visible yet
    # beyond what the source grants for the pages read.
    assert visible(acme.alan) <= {"Architecture", "Handbook"}
    Connection.objects.filter(pk=conn.pk).update(next_sync_at=None)
    google.requests.clear()
    second = synced(conn)
    assert second.pk == first.pk and second.status == RunStatus.SUCCEEDED
    assert second.attempts == 2
    listing = [r for r in google.requests if r == "GET /drive/v3/files"]
    assert len(listing) == 2  # pages 2 and 3 only
    assert visible(acme.grace) == {"Architecture", "On-call", "Handbook"}


def test_running_twice_gives_the_same_state(google, drive, acme):
    conn = connect_google(google, acme)
    synced(conn)
    state = sorted(Document.objects.values_list("source_id", "principals"))
    members = GroupMember.objects.count()
    synced(conn, full=True)
    assert sorted(Document.objects.values_list("source_id", "principals")) == state
    assert GroupMember.objects.count() == members


def test_one_run_at_a_time(google, drive, acme):
    conn = connect_google(google, acme)
    Connection.objects.filter(pk=conn.pk).update(
        lease_run=999, lease_until=timezone.now() + timedelta(minutes=5)
    )
    outcome = sync.run(conn.pk)
    assert outcome.run is None and "Another sync" in outcome.message
    assert not SyncRun.objects.filter(connection=conn).exists()


def test_a_revoked_grant_needs_reauthorization_and_emails_the_admins(
    google, drive, acme, django_capture_on_commit_callbacks
):
    conn = connect_google(google, acme)
    synced(conn)
    google.revoke_grant()
    with google.changing() as d:
        d.rename("f-memo", "Memo v2")
    with django_capture_on_commit_callbacks(execute=True):
        run = synced(conn)
    assert run.status == RunStatus.INTERRUPTED
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.NEEDS_REAUTH
    sent = [m for m in mail.outbox if "Acme Drive" in m.subject or "Acme Drive" in m.body]
    assert sent and {"admin@acme.example"} <= {a for m in sent for a in m.to}
    # Reconnecting the same account brings it back.
    again = connect_google(google, acme)
    assert again.pk == conn.pk and again.status == ConnectionStatus.CONNECTED
    synced(again)
    assert Document.objects.filter(title="Memo v2").exists()


def test_a_document_newly_shared_with_a_changed_group_waits_for_the_run(google, drive, acme):
    """Mid-run, the new grant with the old members would reach someone neither state
    grants: grace leaves platform while the memo is shared with platform."""
    conn = connect_google(google, acme)
    synced(conn)
    with google.changing() as d:
        d.remove_member("platform@acme.example", "grace@acme.example")
        d.add_member("platform@acme.example", "mary@acme.example")
        d.set_permissions("f-memo", [group("platform@acme.example")])
        d.set_permissions("f-arch", [group("sales@acme.example")])
    run = killed_after_one_page(conn)
    assert run is not None and run.status == RunStatus.INTERRUPTED
    # Narrowing applies at once: alan and grace lost Architecture.
    assert "Architecture" not in visible(acme.alan) | visible(acme.grace)
    # Neither the old state (memo: mary only) nor the source (grace left) lets grace see it.
    assert "Memo" not in visible(acme.grace)
    why = decision(acme.mary, "Memo")
    assert not why.allowed and why.code == access.Code.PENDING
    Connection.objects.filter(pk=conn.pk).update(next_sync_at=None)
    synced(conn)
    assert "Memo" in visible(acme.mary) and "Memo" not in visible(acme.grace)
    assert "Architecture" in visible(acme.mary)


def test_disconnect_ends_access_at_once_and_deletes_everything(
    google, drive, acme, django_capture_on_commit_callbacks
):
    conn = connect_google(google, acme)
    synced(conn)
    preview = services.disconnect_preview(conn)
    assert preview.documents == 8
    assert preview.permissions == sum(
        len(p) for p in Document.objects.values_list("principals", flat=True)
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.connection_disconnect(actor=Actor.member(acme.admin), connection_id=conn.pk)
    assert visible(acme.alan) == set()
    assert Document.objects.filter(connection=conn).exists()  # deletion not yet run
    for callback in callbacks:
        callback()
    assert not Connection.objects.filter(pk=conn.pk).exists()
    assert not Document.objects.exists()
    assert not Principal.objects.filter(connection__isnull=False).exists()
    assert not GroupMember.objects.exists()
    assert "POST /revoke" in google.requests


def test_a_member_may_not_disconnect_and_another_workspace_cannot_touch_it(
    google, drive, acme, other_workspace_member
):
    from core.errors import NotAllowed

    conn = connect_google(google, acme)
    with pytest.raises(NotAllowed):
        services.connection_disconnect(actor=Actor.member(acme.alan), connection_id=conn.pk)
    with pytest.raises(NotAllowed):
        services.connection_disconnect(
            actor=Actor.member(other_workspace_member), connection_id=conn.pk
        )
    assert Connection.objects.get(pk=conn.pk).status != ConnectionStatus.DISCONNECTING


def test_the_command_runs_a_sync_in_the_foreground_with_its_progress(google, drive, acme):
    from io import StringIO

    from django.core.management import CommandError, call_command

    conn = connect_google(google, acme)
    out = StringIO()
    call_command("connector_sync", "acme", "--connection", str(conn.pk), stdout=out)
    text = out.getvalue()
    assert "Reading documents: 3 items" in text
    assert "Full sync succeeded: 8 items" in text
    out = StringIO()
    call_command("connector_sync", "acme", stdout=out)
    assert "Incremental sync succeeded: 0 items" in out.getvalue()
    with pytest.raises(CommandError, match="No workspace"):
        call_command("connector_sync", "nowhere")
    with pytest.raises(CommandError, match="No connection"):
        call_command("connector_sync", "acme", "--connection", "999999")


def test_the_schedule_syncs_each_connection_when_its_interval_has_passed(google, drive, acme):
    from connectors import tasks

    conn = connect_google(google, acme)
    synced(conn)
    conn.refresh_from_db()
    assert conn.next_sync_at > timezone.now() + timedelta(minutes=59)
    assert tasks.sync_due_connections() == 0  # not due yet
    with google.changing() as d:
        d.rename("f-memo", "Memo (scheduled)")
    Connection.objects.filter(pk=conn.pk).update(next_sync_at=timezone.now() - timedelta(seconds=1))
    paused = connect_google(google, acme)  # the same account: the same connection
    assert paused.pk == conn.pk
    assert tasks.sync_due_connections() == 1  # eager in tests: the run happens now
    assert Document.objects.filter(title="Memo (scheduled)").exists()
    services.connection_pause(actor=Actor.member(acme.admin), connection_id=conn.pk, paused=True)
    Connection.objects.filter(pk=conn.pk).update(next_sync_at=timezone.now() - timedelta(seconds=1))
    assert tasks.sync_due_connections() == 0


def test_a_group_that_only_gains_members_applies_a_new_grant_at_once(google, drive, acme):
    """Its current members are all still in it at the source, so the grant need not wait
    for the run: mary sees Architecture as soon as its page is written, grace (who joins
    sales in this run) once the run completes."""
    conn = connect_google(google, acme)
    synced(conn)
    with google.changing() as d:
        d.add_member("sales@acme.example", "grace@acme.example")
        d.set_permissions("f-arch", [group("eng@acme.example"), group("sales@acme.example")])
    run = killed_after_one_page(conn)
    assert run is not None and run.status == RunStatus.INTERRUPTED
    assert run.changed_groups == []
    assert "Architecture" in visible(acme.mary)
    assert decision(acme.mary, "Architecture").allowed
    Connection.objects.filter(pk=conn.pk).update(next_sync_at=None)
    synced(conn)
    assert "Architecture" in visible(acme.grace) and "Architecture" in visible(acme.mary)


def test_hostile_text_from_the_source_is_stored_as_given_without_nul(google, drive, acme):
    """Tabs, line ends and backslashes survive the page's COPY; a NUL (which the
    database's text cannot hold) goes, in titles, paths, grants and groups alike."""
    google.domain.add_file(
        "f-odd",
        "Tab\there\nline\\back\x00slash \u00e9t\u00e9",
        permissions=[user("alan@acme.example", "owner"), group("eng\x00@acme.example")],
    )
    google.domain.add_group("eng\x00@acme.example", people=["grace@acme.example"])
    conn = connect_google(google, acme)
    run = synced(conn)
    assert run.status == RunStatus.SUCCEEDED, run.error_log
    doc = Document.objects.get(source_id="f-odd")
    assert doc.title == "Tab\there\nline\\backslash \u00e9t\u00e9"
    assert {e["value"] for e in doc.acl} == {"alan@acme.example", "eng@acme.example"}
    assert "Tab\there\nline\\backslash \u00e9t\u00e9" in visible(acme.alan)
    assert "Tab\there\nline\\backslash \u00e9t\u00e9" in visible(acme.grace)
    keys = set(Principal.objects.filter(connection=conn).values_list("key", flat=True))
    assert "eng@acme.example" in keys and not any("\x00" in k for k in keys)


def test_a_first_sync_that_lists_a_document_twice_keeps_one(google, drive, acme):
    """A file listed again on a later page (it changed while the listing ran) is updated,
    not refused, in a first full sync's direct writes."""
    conn = connect_google(google, acme)
    provider = for_connection(conn)
    real = provider.list_all

    def twice(checkpoint):
        first = None
        for page in real(checkpoint):
            if first is None:
                first = page.documents[0]
            elif not page.checkpoint:
                page.documents.append(first)
            yield page

    provider.list_all = twice  # type: ignore[method-assign]
    outcome = sync.run(conn.pk, full=True, provider=provider)
    assert outcome.run is not None and outcome.run.status == RunStatus.SUCCEEDED
    assert Document.objects.filter(connection=conn).count() == len(drive.files)
    assert visible(acme.alan) == {"Architecture", "Handbook"}


def test_paths_come_from_the_folders_and_follow_a_rename_or_a_move(google, drive, acme):
    """Drive gives parents, not paths: the path is read from the stored folders, so a
    renamed folder changes the path of everything below it with the one changed row."""
    d = google.domain
    d.add_file(
        "fld-top",
        "Projects",
        mime_type=FOLDER,
        parent="root-id",
        permissions=[user("alan@acme.example")],
    )
    d.add_file("fld-sub", "Apollo", mime_type=FOLDER, parent="fld-top")
    d.add_file("f-plan", "Plan", parent="fld-sub", permissions=[user("alan@acme.example")])
    d.add_file("f-root", "Loose notes", parent="root-id", permissions=[user("alan@acme.example")])
    conn = connect_google(google, acme)
    synced(conn)

    def path(source_id: str) -> str:
        return selectors.document_path(Document.objects.get(connection=conn, source_id=source_id))

    assert path("f-plan") == "/Projects/Apollo"
    assert path("fld-sub") == "/Projects"
    assert path("fld-top") == "/" and path("f-root") == "/"
    assert path("f-memo") == ""  # no parent the account can see
    with google.changing() as d:
        d.rename("fld-top", "Archive")
    run = synced(conn)
    assert run.kind == RunKind.INCREMENTAL and run.items_seen == 1
    assert path("f-plan") == "/Archive/Apollo" and path("fld-sub") == "/Archive"
    with google.changing() as d:
        d.move("f-plan", "fld-top")
    synced(conn)
    assert path("f-plan") == "/Archive"


def test_a_folder_cycle_from_the_source_ends_the_path_where_it_closes(google, drive, acme):
    d = google.domain
    d.add_file("fld-a", "A", mime_type=FOLDER, parent="fld-b")
    d.add_file("fld-b", "B", mime_type=FOLDER, parent="fld-a")
    d.add_file("f-in", "Inside", parent="fld-a", permissions=[user("alan@acme.example")])
    conn = connect_google(google, acme)
    assert synced(conn).status == RunStatus.SUCCEEDED
    assert (
        selectors.document_path(Document.objects.get(connection=conn, source_id="f-in")) == "/B/A"
    )


def test_a_mapping_narrowed_during_a_run_applies_to_the_pages_still_to_come(google, drive, acme):
    """The admin stops mapping links to the workspace while a full sync runs: the pages
    the run writes afterwards follow the new setting instead of undoing it."""
    conn = connect_google(google, acme)
    wide = services.SettingsChange(
        sync_interval=conn.sync_interval,
        staleness_limit=conn.staleness_limit,
        link_shares=LinkShares.WORKSPACE,
        hidden_domain_shares="nobody",
    )
    services.connection_settings_update(
        actor=Actor.member(acme.admin), connection_id=conn.pk, change=wide
    )
    provider = for_connection(conn)
    real = provider.list_all

    def narrowed_after_the_first_page(checkpoint):
        for i, page in enumerate(real(checkpoint)):
            yield page
            if i == 0:
                services.connection_settings_update(
                    actor=Actor.member(acme.admin),
                    connection_id=conn.pk,
                    change=services.SettingsChange(
                        sync_interval=conn.sync_interval,
                        staleness_limit=conn.staleness_limit,
                        link_shares=LinkShares.NOBODY,
                        hidden_domain_shares="nobody",
                    ),
                )

    provider.list_all = narrowed_after_the_first_page  # type: ignore[method-assign]
    outcome = sync.run(conn.pk, full=True, provider=provider)
    assert outcome.run is not None and outcome.run.status == RunStatus.SUCCEEDED
    assert "Press kit" not in visible(acme.guest) | visible(acme.alan)
    press = Document.objects.get(title="Press kit")
    assert press.principals == [] and press.acl[0]["principal"] is None


def test_a_run_that_finds_the_groups_unchanged_stages_nothing_and_one_that_does_swaps(
    google, drive, acme
):
    conn = connect_google(google, acme)
    synced(conn)
    before = set(GroupMember.objects.filter(connection=conn).values_list("pk", flat=True))
    again = synced(conn)
    assert again.kind == RunKind.INCREMENTAL and not again.groups_written
    # The same rows, not rewritten copies.
    assert set(GroupMember.objects.filter(connection=conn).values_list("pk", flat=True)) == before
    assert "Architecture" in visible(acme.grace)  # through eng, which holds platform
    with google.changing() as d:
        d.remove_member("eng@acme.example", "platform@acme.example")
    changed = synced(conn)
    assert changed.groups_written
    assert "Architecture" not in visible(acme.grace) and "On-call" in visible(acme.grace)
    assert "Architecture" in visible(acme.alan)
    # Every group gone at the source: their expansion goes too, and so does access.
    with google.changing() as d:
        d.groups.clear()
    assert synced(conn).groups_written
    assert not GroupMember.objects.filter(connection=conn).exists()
    assert "Architecture" not in visible(acme.alan) and "On-call" not in visible(acme.grace)
