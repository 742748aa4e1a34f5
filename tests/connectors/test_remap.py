"""A changed link or domain mapping applied to the stored access lists at once
(``connectors.sync.remap``): set-based on PostgreSQL, document by document on SQLite, with
the same outcome for every change of the settings."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.db import transaction

from accounts.actor import Actor
from connectors import access, services, sync
from connectors.local.google import LocalGoogle, anyone, domain, group, user
from connectors.models import (
    Connection,
    Document,
    HiddenDomainShares,
    Library,
    LinkShares,
    Principal,
    PrincipalKind,
)
from tests.concurrency import needs_postgres

from .conftest import Acme, connect_google
from .test_google_sync import killed_after_one_page, synced

SETTINGS = list(itertools.product(LinkShares.values, HiddenDomainShares.values))


def visible(m) -> set[str]:
    m.refresh_from_db()
    return set(access.visible_documents(access.load_viewer(m)).values_list("title", flat=True))


@pytest.fixture
def drive(google: LocalGoogle):
    d = google.domain
    d.page_size = 3
    d.add_group("eng@acme.example", people=["alan@acme.example"], groups=["platform@acme.example"])
    d.add_group("platform@acme.example", people=["grace@acme.example"])
    d.add_group("sales@acme.example", people=["mary@acme.example"])
    d.add_file("f-arch", "Architecture", permissions=[group("eng@acme.example")])
    d.add_file("f-memo", "Memo", permissions=[user("Mary@Acme.example", "owner")])
    d.add_file("f-handbook", "Handbook", permissions=[domain("acme.example")])
    d.add_file("f-holidays", "Holidays", permissions=[domain("acme.example", discoverable=False)])
    d.add_file("f-press", "Press kit", permissions=[anyone()])
    d.add_file("f-listed", "Listed link", permissions=[anyone(discoverable=True, role="writer")])
    d.add_file(
        "f-both",
        "Both",
        permissions=[domain("acme.example", discoverable=False), domain("acme.example")],
    )
    # A domain no other share names: its principal exists only once hidden shares map.
    d.add_file(
        "f-partners",
        "Partners",
        permissions=[user("alan@acme.example"), domain("elsewhere.example", discoverable=False)],
    )
    d.add_file(
        "f-mixed",
        "Mixed",
        permissions=[
            anyone(),
            group("sales@acme.example"),
            domain("acme.example", discoverable=False, role="commenter"),
            user("grace@acme.example", "writer"),
        ],
    )
    d.add_file("f-plain", "Plain", permissions=[user("grace@acme.example")])
    d.add_file("f-abandoned", "Abandoned", permissions=[user("admin@acme.example")])
    d.add_file(
        "f-board", "Board", permissions=[user("admin@acme.example", "owner")], shared_drive=True
    )
    return d


def _connected(google: LocalGoogle, drive, acme: Acme, start: tuple[str, str]) -> Connection:
    """Synced under ``start``, then a run killed after its first page: the memo, newly
    shared with a group that lost a member, waits for the run, and so does another
    document as an abandoned run leaves it (no longer in ``pending_principals``); the
    board's permissions could not be read."""
    conn = connect_google(google, acme)
    conn.link_shares, conn.hidden_domain_shares = start
    conn.save(update_fields=["link_shares", "hidden_domain_shares"])
    google.fail("malformed_permission", path="/drive/v3/files/f-board/permissions")
    synced(conn)
    with google.changing() as d:
        d.remove_member("platform@acme.example", "grace@acme.example")
        d.add_member("platform@acme.example", "mary@acme.example")
        d.set_permissions("f-memo", [group("platform@acme.example"), anyone()])
        d.set_permissions("f-plain", [domain("acme.example", discoverable=False)])
        d.set_permissions("f-abandoned", [group("platform@acme.example"), anyone()])
    killed_after_one_page(conn)
    for title in ("Memo", "Abandoned"):
        doc = Document.objects.get(title=title)
        assert doc.pending_principals and doc.acl[0]["pending"] is True
    Document.objects.filter(title="Abandoned").update(pending_principals=None)
    assert Document.objects.get(title="Board").acl is None
    conn.refresh_from_db()
    return conn


def _library_document(acme: Acme) -> Document:
    lib = Library.objects.create(workspace=acme.workspace, name="Policies")
    return Document.objects.create(
        workspace=acme.workspace,
        library=lib,
        source_id="upload-1",
        title="Policy",
        modified_at=lib.created_at,
        principals=[sync.everyone_principal(acme.workspace.pk)],
        acl=[{"kind": "anyone", "value": "", "role": "reader", "principal": None}],
    )


def _state(workspace_id: int) -> dict[str, Any]:
    """Every document of the workspace with its principals named (kind and key), so that
    states are compared whatever ids the principals were given."""
    names = {
        pid: f"{kind}:{key}"
        for pid, kind, key in Principal.objects.filter(workspace_id=workspace_id).values_list(
            "id", "kind", "key"
        )
    }

    def named(ids: list[int] | None) -> list[str] | None:
        return None if ids is None else sorted(names[i] for i in ids)

    out: dict[str, Any] = {}
    for doc in Document.objects.filter(workspace_id=workspace_id):
        acl = None
        if doc.acl is not None:
            acl = [
                {**e, "principal": None if e["principal"] is None else names[e["principal"]]}
                for e in doc.acl
            ]
        out[doc.title] = (named(doc.principals), named(doc.pending_principals), acl)
    return out


def _visible(acme: Acme) -> dict[str, set[str]]:
    return {
        m.user.email: visible(m) for m in (acme.admin, acme.alan, acme.grace, acme.mary, acme.guest)
    }


class _Undo(Exception):
    pass


def _outcome(remap, conn: Connection, target: tuple[str, str], acme: Acme) -> dict[str, Any]:
    """What ``remap`` leaves under ``target``; undone afterwards."""
    conn.link_shares, conn.hidden_domain_shares = target
    seen: dict[str, Any] = {}
    try:
        with transaction.atomic():
            conn.save(update_fields=["link_shares", "hidden_domain_shares"])
            seen["changed"] = remap(conn)
            # Once applied, the same settings change nothing more.
            seen["again"] = remap(conn)
            seen["state"] = _state(conn.workspace_id)
            seen["principals"] = sorted(
                Principal.objects.filter(workspace_id=conn.workspace_id).values_list("kind", "key")
            )
            seen["visible"] = _visible(acme)
            raise _Undo
    except _Undo:
        pass
    return seen


@needs_postgres
@pytest.mark.parametrize("start", SETTINGS, ids="-".join)
def test_the_set_based_remap_equals_the_document_by_document_one(google, drive, acme, start):
    conn = _connected(google, drive, acme, start)
    policy = _library_document(acme)
    before, seen_before = _state(acme.workspace.pk), _visible(acme)
    for target in SETTINGS:
        expected = _outcome(sync._remap_python, conn, target, acme)
        got = _outcome(sync._remap_sql, conn, target, acme)
        assert got == expected, (start, target)
        assert got["again"] == 0
        assert (got["changed"] == 0) == (target == start)
        if target == start:
            assert got["state"] == before and got["visible"] == seen_before
        state, seen = got["state"], got["visible"]
        links, hidden = target[0] == LinkShares.WORKSPACE, target[1] == HiddenDomainShares.DOMAIN
        # Links reach the whole workspace or nobody; hidden domain shares the domain or nobody.
        assert ("Press kit" in seen["guest@elsewhere.example"]) is links
        assert ("Listed link" in seen["guest@elsewhere.example"]) is links
        assert ("Holidays" in seen["alan@acme.example"]) is hidden
        assert "Holidays" not in seen["guest@elsewhere.example"]
        assert ("Partners" in seen["guest@elsewhere.example"]) is hidden
        assert ("Mixed" in seen["alan@acme.example"]) is (links or hidden)
        assert ("Plain" in seen["alan@acme.example"]) is hidden
        # The listed share of the domain reaches it whatever the setting; the hidden
        # entry beside it names the domain or says why it does not.
        assert "Both" in seen["alan@acme.example"]
        principals, _, acl = state["Both"]
        assert principals == ["domain:acme.example"]
        assert acl[0]["principal"] == ("domain:acme.example" if hidden else None)
        assert ("note" in acl[0]) is not hidden and acl[0]["discoverable"] is False
        # The waiting grant still waits, whoever the memo's link now reaches.
        principals, pending, acl = state["Memo"]
        assert pending == ["source_group:platform@acme.example"]
        assert [e.get("pending", False) for e in acl] == [True, False]
        assert principals == (["everyone:"] if links else [])
        # Grace left the group: only the link (when it maps) shows her the memo.
        assert ("Memo" in seen["grace@acme.example"]) is links
        # A grant of an abandoned run does not apply with the group's members of before.
        principals, pending, acl = state["Abandoned"]
        assert pending is None and acl[0]["pending"] is True
        assert principals == (["everyone:"] if links else [])
        assert ("Abandoned" in seen["grace@acme.example"]) is links
        # Unreadable permissions: no grants; a library's document is not the mapping's.
        assert state["Board"] == ([], None, None)
        assert "Board" not in seen["admin@acme.example"]
        assert state["Policy"] == before["Policy"]
        # People and groups are as the sync mapped them.
        assert state["Architecture"] == before["Architecture"]
        assert {"Architecture", "Both", "Handbook"} <= seen["alan@acme.example"]
    policy.refresh_from_db()
    assert policy.acl is not None and policy.acl[0]["principal"] is None


def test_the_hidden_entry_beside_a_listed_share_of_its_domain_follows_the_setting(
    google, drive, acme
):
    """Principals do not change (the listed share already names the domain), the access
    list the pages explain does."""
    conn = connect_google(google, acme)
    synced(conn)

    def change(hidden: str) -> None:
        services.connection_settings_update(
            actor=Actor.member(acme.admin),
            connection_id=conn.pk,
            change=services.SettingsChange(
                sync_interval=conn.sync_interval,
                staleness_limit=conn.staleness_limit,
                link_shares=LinkShares.NOBODY,
                hidden_domain_shares=hidden,
            ),
        )
        conn.refresh_from_db()

    domain_pid = Principal.objects.get(kind=PrincipalKind.DOMAIN, key="acme.example").pk
    both = Document.objects.get(title="Both")
    assert both.principals == [domain_pid] and both.acl[0]["principal"] is None
    change(HiddenDomainShares.DOMAIN)
    both.refresh_from_db()
    assert both.principals == [domain_pid]
    assert both.acl[0] == {
        "kind": "domain",
        "value": "acme.example",
        "role": "reader",
        "discoverable": False,
        "principal": domain_pid,
    }
    assert "Partners" in visible(acme.guest)
    change(HiddenDomainShares.NOBODY)
    both.refresh_from_db()
    assert both.principals == [domain_pid]
    assert both.acl[0]["principal"] is None and both.acl[0]["note"] == sync.UNLISTED_NOTE
    assert "Partners" not in visible(acme.guest)
