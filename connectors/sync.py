"""Synchronization of a connection (R-CON-2 to R-CON-4): groups, then documents page by
page, then one transaction that makes the run's state current.

How a run never widens access, even when it stops half-way (R-CON-3):
- each document's principals are written from the source's grants as they are now, in
  the page's transaction, together with the checkpoint the run resumes from;
- the run's group expansion is written as *staged* rows; only the final transaction makes
  it current. A document newly shared with a group that lost members in this run would
  otherwise combine the new grant with the old members, which neither the last completed
  state nor the source grants: that principal waits in ``pending_principals`` until the
  final transaction applies it (a group that only gained members, or is new, reaches at
  most whom the source puts in it, and needs no wait);
- a document whose permissions could not be read has no grants;
- removals (deleted files, revoked permissions, documents no longer listed by a full
  run) narrow access, and apply as soon as they are read.
So at every instant each member sees at most what the last completed state or the source
grants. One run at a time holds the connection's lease, renewed with every page.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db import connection as db
from django.db.models import Q
from django.utils import timezone

from .models import (
    Connection,
    ConnectionStatus,
    Document,
    GroupMember,
    HiddenDomainShares,
    LinkShares,
    Principal,
    PrincipalKind,
    RunKind,
    RunPhase,
    RunStatus,
    SyncRun,
)
from .providers import for_connection
from .providers.base import (
    AuthRevoked,
    Page,
    Provider,
    ResyncRequired,
    SourceDocument,
    SourceError,
    SourceGrant,
    SourceGroup,
)
from .providers.http import HttpStatusError

log = logging.getLogger(__name__)

ERROR_LOG_SIZE = 20
BATCH = 1000
# What the access list says of a grant that reaches nobody (the "why" pages show it).
LINK_NOTE = "link share: reaches nobody beyond explicit grants"
UNLISTED_NOTE = "domain share not listed for the domain: reaches nobody beyond explicit grants"


class LeaseLost(Exception):
    """Another run took the connection, or it is being disconnected: stop writing."""


def lease_length() -> timedelta:
    return timedelta(seconds=int(settings.CONNECTORS_LEASE_SECONDS))


@dataclass
class Outcome:
    run: SyncRun | None
    message: str


Progress = Callable[[SyncRun], None]


# Starting and resuming ------------------------------------------------------------


def _acquire(connection_id: int, *, full: bool, triggered_by: str) -> SyncRun | None:
    now = timezone.now()
    with transaction.atomic():
        conn = Connection.objects.select_for_update().filter(pk=connection_id).first()
        if conn is None or conn.status == ConnectionStatus.DISCONNECTING:
            return None
        if conn.status in (ConnectionStatus.NEEDS_REAUTH, ConnectionStatus.PAUSED):
            return None
        if conn.lease_until is not None and conn.lease_until > now:
            return None
        run = conn.runs.filter(status__in=[RunStatus.RUNNING, RunStatus.INTERRUPTED]).first()
        if run is not None and full and run.kind != RunKind.FULL:
            _abandon(run, "Replaced by a full sync.")
            run = None
        if run is not None and run.attempts >= int(settings.CONNECTORS_MAX_ATTEMPTS):
            _abandon(run, "Gave up after repeated errors; a new run starts from the beginning.")
            run = None
        if run is None:
            kind = RunKind.FULL if (full or not conn.cursor) else RunKind.INCREMENTAL
            run = SyncRun.objects.create(
                connection=conn,
                kind=kind,
                triggered_by=triggered_by[:254],
                estimated_total=conn.documents.count() or None if kind == RunKind.FULL else None,
            )
        else:
            run.status = RunStatus.RUNNING
            run.attempts += 1
            run.heartbeat_at = now
            run.save(update_fields=["status", "attempts", "heartbeat_at"])
        conn.lease_run = run.pk
        conn.lease_until = now + lease_length()
        conn.status = ConnectionStatus.SYNCING
        conn.save(update_fields=["lease_run", "lease_until", "status"])
    return run


def _abandon(run: SyncRun, message: str) -> None:
    """An unfinished run that will not resume: its staged groups and pending grants go
    (narrowing only), and the next run starts over."""
    run.status = RunStatus.FAILED
    run.finished_at = timezone.now()
    _log_error(run, message)
    run.save(update_fields=["status", "finished_at", "error_log", "errors"])
    GroupMember.objects.filter(connection_id=run.connection_id, staged=True).delete()
    Document.objects.filter(
        connection_id=run.connection_id, pending_principals__isnull=False
    ).update(pending_principals=None)


def _hold_lease(run: SyncRun) -> None:
    """Renew the lease inside the caller's transaction; the page's writes roll back with
    it when the lease is gone."""
    now = timezone.now()
    held = (
        Connection.objects.filter(pk=run.connection_id, lease_run=run.pk)
        .exclude(status=ConnectionStatus.DISCONNECTING)
        .update(lease_until=now + lease_length())
    )
    if not held:
        raise LeaseLost
    run.heartbeat_at = now


def _release(run: SyncRun, **changes: Any) -> None:
    Connection.objects.filter(pk=run.connection_id, lease_run=run.pk).update(
        lease_run=None, lease_until=None, **changes
    )


def _log_error(run: SyncRun, message: str) -> None:
    run.errors += 1
    run.error_log = [*run.error_log, {"at": timezone.now().isoformat(), "message": message[:500]}][
        -ERROR_LOG_SIZE:
    ]


# The run --------------------------------------------------------------------------


def run(
    connection_id: int,
    *,
    full: bool = False,
    triggered_by: str = "",
    progress: Progress | None = None,
    provider: Provider | None = None,
) -> Outcome:
    """Run (or resume) one sync of a connection. Returns at once, with no run, when
    another run holds the connection."""
    current = _acquire(connection_id, full=full, triggered_by=triggered_by)
    if current is None:
        return Outcome(None, "Another sync of this connection is running, or it cannot sync.")
    conn = Connection.objects.get(pk=connection_id)
    source = provider or for_connection(conn)
    try:
        try:
            _drive(current, conn, source, progress)
        except ResyncRequired:
            with transaction.atomic():
                _hold_lease(current)
                _log_error(current, "The source no longer knew the cursor: enumerating again.")
                current.kind = RunKind.FULL
                current.phase = RunPhase.DOCUMENTS
                current.checkpoint = ""
                current.next_cursor = ""
                current.save()
            _drive(current, conn, source, progress)
    except LeaseLost:
        current.refresh_from_db()
        return Outcome(current, "The sync stopped: the connection was taken over or disconnected.")
    except AuthRevoked as exc:
        return _stop(current, str(exc), reauth=True)
    except (SourceError, OSError) as exc:
        return _stop(current, str(exc))
    except Exception as exc:
        _stop(current, f"Unexpected error: {type(exc).__name__}")
        raise
    finally:
        close = getattr(source, "http", None)
        if close is not None:
            close.close()
    return Outcome(current, "Synced.")


def _stop(current: SyncRun, message: str, *, reauth: bool = False) -> Outcome:
    """The run stops and keeps its checkpoint; the next one resumes it."""
    with transaction.atomic():
        current.refresh_from_db()
        current.status = RunStatus.INTERRUPTED
        _log_error(current, message)
        current.save(update_fields=["status", "errors", "error_log"])
        changes: dict[str, Any] = {"last_error": message[:1000]}
        if reauth:
            changes["status"] = ConnectionStatus.NEEDS_REAUTH
        else:
            # A pause an admin asked for during the run stays.
            if Connection.objects.filter(
                pk=current.connection_id, status=ConnectionStatus.SYNCING
            ).exists():
                changes["status"] = ConnectionStatus.CONNECTED
            retry = min(
                timedelta(minutes=5) * (2 ** max(0, current.attempts - 1)), timedelta(hours=1)
            )
            changes["next_sync_at"] = timezone.now() + retry
        _release(current, **changes)
        if reauth:
            from .services import notify_reauthorization

            notify_reauthorization(current.connection_id)
    log.warning("connector sync interrupted", extra={"run": current.pk, "error": message})
    return Outcome(current, message)


def _drive(current: SyncRun, conn: Connection, source: Provider, progress: Progress | None) -> None:
    # Principal ids, looked up once per run and shared by its phases.
    principals = Principals(conn)
    if current.phase == RunPhase.GROUPS:
        _sync_groups(current, conn, source, principals)
        if progress:
            progress(current)
    if current.phase == RunPhase.DOCUMENTS:
        _sync_documents(current, conn, source, principals, progress)
    if current.phase == RunPhase.FINALIZING:
        _finalize(current, conn)
        if progress:
            progress(current)


# Groups ---------------------------------------------------------------------------


def expand(groups: dict[str, SourceGroup]) -> dict[str, dict[str, list[str]]]:
    """Each group's transitive people, each with the shortest chain of nested groups
    through which they belong (outermost first; empty for a direct member). Cycles end
    where they close; a group the source did not list contributes nobody."""
    out: dict[str, dict[str, list[str]]] = {}
    for top in groups:
        people: dict[str, list[str]] = {}
        seen = {top}
        queue: deque[tuple[str, list[str]]] = deque([(top, [])])
        while queue:
            gid, path = queue.popleft()
            g = groups.get(gid)
            if g is None:
                continue
            for email in g.member_emails:
                people.setdefault(email, path)
            for sub in g.member_groups:
                if sub not in seen:
                    seen.add(sub)
                    queue.append((sub, [*path, sub]))
        out[top] = people
    return out


class Principals:
    """The run's principal ids by (kind, key), created on first use."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.ids: dict[tuple[str, str], int] = {}

    def resolve(self, wanted: Iterable[tuple[str, str, str]]) -> None:
        missing = {(k, key): label for k, key, label in wanted if (k, key) not in self.ids}
        if (PrincipalKind.EVERYONE, "") in missing:
            self.ids[(PrincipalKind.EVERYONE, "")] = everyone_principal(self.conn.workspace_id)
            del missing[(PrincipalKind.EVERYONE, "")]
        if not missing:
            return
        # PostgreSQL reads a chunk as one array; SQLite binds a placeholder per key.
        size = 20 * BATCH if db.vendor == "postgresql" else BATCH
        for chunk in _chunks(list(missing), size):
            self._load([key for _, key in chunk])
            new = [(k, key) for k, key in chunk if (k, key) not in self.ids]
            if not new:
                continue
            self._create([(k, key, missing[(k, key)][:320]) for k, key in new])
            # What another run created meanwhile.
            self._load([key for k, key in new if (k, key) not in self.ids])

    def _create(self, rows: list[tuple[str, str, str]]) -> None:
        if db.vendor != "postgresql":
            Principal.objects.bulk_create(
                [
                    Principal(
                        workspace_id=self.conn.workspace_id,
                        connection=self.conn,
                        kind=k,
                        key=key,
                        label=label,
                    )
                    for k, key, label in rows
                ],
                ignore_conflicts=True,
            )
            return
        # One statement whatever the count, with the new ids back.
        with db.cursor() as cursor:
            cursor.execute(
                "INSERT INTO connectors_principal (workspace_id, connection_id, kind, key, label) "
                "SELECT %s, %s, k, key, label FROM unnest(%s::text[], %s::text[], %s::text[]) "
                "AS t(k, key, label) "
                "ON CONFLICT DO NOTHING RETURNING id, kind, key",
                [
                    self.conn.workspace_id,
                    self.conn.pk,
                    [str(k) for k, _, _ in rows],
                    [key for _, key, _ in rows],
                    [label for _, _, label in rows],
                ],
            )
            for pid, k, key in cursor.fetchall():
                self.ids[(k, key)] = pid

    def _load(self, keys: list[str]) -> None:
        if db.vendor == "postgresql":
            # One array parameter, not a placeholder per key.
            with db.cursor() as cursor:
                cursor.execute(
                    "SELECT id, kind, key FROM connectors_principal "
                    "WHERE connection_id = %s AND key = ANY(%s)",
                    [self.conn.pk, keys],
                )
                rows = cursor.fetchall()
        else:
            rows = list(
                Principal.objects.filter(connection=self.conn, key__in=keys).values_list(
                    "id", "kind", "key"
                )
            )
        for pid, k, key in rows:
            self.ids[(k, key)] = pid

    def __getitem__(self, item: tuple[str, str]) -> int:
        return self.ids[item]


def everyone_principal(workspace_id: int) -> int:
    p, _ = Principal.objects.get_or_create(
        workspace_id=workspace_id, connection=None, kind=PrincipalKind.EVERYONE, key=""
    )
    return p.pk


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _clean_group(g: SourceGroup) -> SourceGroup:
    """A source's NUL characters go: the database's text holds none."""
    texts = (g.source_id, g.label, *g.member_emails, *g.member_groups)
    if not any("\x00" in t for t in texts):
        return g
    return SourceGroup(
        _text(g.source_id),
        _text(g.label),
        tuple(map(_text, g.member_emails)),
        tuple(map(_text, g.member_groups)),
    )


def _sync_groups(
    current: SyncRun, conn: Connection, source: Provider, principals: Principals
) -> None:
    groups: dict[str, SourceGroup] = {}
    unreadable = ""
    try:
        for g in source.groups():
            g = _clean_group(g)
            groups[g.source_id] = g
    except HttpStatusError as exc:
        if exc.status not in (403, 404):
            raise
        # No right to read the directory: group grants then reach nobody (fail closed).
        unreadable = "Groups could not be read (the account may not read the directory); documents shared with groups reach nobody through them."
        groups = {}
    expansion = expand(groups)
    principals.resolve(
        [(PrincipalKind.SOURCE_GROUP, gid, groups[gid].label) for gid in groups]
        + [(PrincipalKind.EMAIL, email, email) for people in expansion.values() for email in people]
    )
    committed: dict[int, set[int]] = {}
    committed_rows: set[tuple[int, int, tuple[int, ...]]] = set()
    for group_pid, member_pid, path in GroupMember.objects.filter(
        connection=conn, staged=False
    ).values_list("group_id", "member_id", "path"):
        committed.setdefault(group_pid, set()).add(member_pid)
        committed_rows.add((group_pid, member_pid, tuple(path or ())))
    staged: dict[int, set[int]] = {}
    rows: list[tuple[int, int, list[int]]] = []
    for gid, people in expansion.items():
        g_pid = principals[(PrincipalKind.SOURCE_GROUP, gid)]
        members = staged.setdefault(g_pid, set())
        for email, path in people.items():
            m_pid = principals[(PrincipalKind.EMAIL, email)]
            members.add(m_pid)
            rows.append((g_pid, m_pid, [principals[(PrincipalKind.SOURCE_GROUP, p)] for p in path]))
    # Only a group that loses members can widen access through a new grant: combining it
    # with the current (larger) expansion would reach someone the source no longer puts in
    # it. A group that only gains members, or is new, reaches at most who the source says.
    changed = sorted(g for g, before in committed.items() if before - staged.get(g, set()))
    # Most runs find the groups as they were: nothing to stage, nothing to swap at the end.
    same = committed_rows == {(g, m, tuple(path)) for g, m, path in rows}
    with transaction.atomic():
        _hold_lease(current)
        GroupMember.objects.filter(connection=conn, staged=True).delete()
        if not same:
            _write_group_members(conn, rows)
        current.groups_written = not same
        current.groups_seen = len(groups)
        current.changed_groups = changed
        current.phase = RunPhase.DOCUMENTS
        if unreadable:
            _log_error(current, unreadable)
        current.save()


def _write_group_members(conn: Connection, rows: list[tuple[int, int, list[int]]]) -> None:
    """The run's expansion, as staged rows: by COPY on PostgreSQL."""
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            sql = "COPY connectors_groupmember (connection_id, group_id, member_id, path, staged) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for g_pid, m_pid, path in rows:
                    copy.write_row((conn.pk, g_pid, m_pid, json.dumps(path), True))
        return
    for chunk in _chunks(rows, 5000):
        GroupMember.objects.bulk_create(
            GroupMember(connection=conn, group_id=g, member_id=m, path=path, staged=True)
            for g, m, path in chunk
        )


# Documents ------------------------------------------------------------------------


class Mapper:
    """The source's grants of one document as principal ids, by the connection's
    settings (R-CON-2): people by email, groups by source id, discoverable domain shares
    to the domain, links by ``link_shares``, hidden domain shares by
    ``hidden_domain_shares``. Grants repeat across documents (the same owners and
    groups), so each distinct one is mapped once per run."""

    def __init__(self, conn: Connection, current: SyncRun, principals: Principals) -> None:
        self.conn = conn
        self.changed = set(current.changed_groups)
        self.principals = principals
        # (kind, value, role, discoverable) -> (principal, is a changed group, entry, JSON)
        self._entries: dict[
            tuple[str, str, str, bool], tuple[int | None, bool, dict[str, Any], str]
        ] = {}

    def refresh(self) -> bool:
        """Read the connection's mapping again, inside the page's transaction (after its
        lease is renewed, which waits for a settings change in progress): a setting an
        admin changed during the run applies to the pages still to come, or they would
        undo the change's narrowing. Whether it changed."""
        fields = ("link_shares", "hidden_domain_shares")
        now = Connection.objects.filter(pk=self.conn.pk).values_list(*fields).first()
        if now is None or now == tuple(getattr(self.conn, f) for f in fields):
            return False
        self.conn.link_shares, self.conn.hidden_domain_shares = now
        self._entries.clear()
        return True

    def wanted(self, grants: list[SourceGrant] | None) -> list[tuple[str, str, str]]:
        out: list[tuple[str, str, str]] = []
        for g in grants or []:
            target = self._target(g)
            if target is not None:
                out.append((*target, _text(g.label or g.value)))
        return out

    def names_changed(self, grants: list[SourceGrant] | None) -> bool:
        """Whether the grants name a group that lost members in this run."""
        if not self.changed:
            return False
        for g in grants or ():
            if g.kind == "group":
                pid = self.principals.ids.get((PrincipalKind.SOURCE_GROUP, _text(g.value)))
                if pid in self.changed:
                    return True
        return False

    def _target(self, g: SourceGrant) -> tuple[str, str] | None:
        if g.kind == "user":
            return (PrincipalKind.EMAIL, _text(g.value))
        if g.kind == "group":
            return (PrincipalKind.SOURCE_GROUP, _text(g.value))
        if g.kind == "domain":
            if g.discoverable or self.conn.hidden_domain_shares == HiddenDomainShares.DOMAIN:
                return (PrincipalKind.DOMAIN, _text(g.value))
            return None
        if g.kind == "anyone" and self.conn.link_shares == LinkShares.WORKSPACE:
            return (PrincipalKind.EVERYONE, "")
        return None

    def _entry(self, g: SourceGrant) -> tuple[int | None, bool, dict[str, Any], str]:
        key = (g.kind, g.value, g.role, g.discoverable)
        found = self._entries.get(key)
        if found is not None:
            return found
        target = self._target(g)
        entry: dict[str, Any] = {"kind": g.kind, "value": _text(g.value), "role": _text(g.role)}
        if not g.discoverable:
            entry["discoverable"] = False
        pid: int | None = None
        if target is None:
            entry["principal"] = None
            entry["note"] = LINK_NOTE if g.kind == "anyone" else UNLISTED_NOTE
        else:
            pid = self.principals[target]
            entry["principal"] = pid
        changed = (
            pid is not None
            and target is not None
            and (target[0] == PrincipalKind.SOURCE_GROUP and pid in self.changed)
        )
        found = (pid, changed, entry, json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
        self._entries[key] = found
        return found

    def _map(
        self, grants: list[SourceGrant], old: set[int]
    ) -> tuple[list[int], list[int], list[tuple[dict[str, Any], str]]]:
        now_ids: set[int] = set()
        pending: set[int] = set()
        acl: list[tuple[dict[str, Any], str]] = []
        for g in grants:
            pid, changed, entry, text = self._entry(g)
            if pid is None:
                pass
            elif changed and pid not in old:
                pending.add(pid)
                entry = {**entry, "pending": True}
                text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
            else:
                now_ids.add(pid)
            acl.append((entry, text))
        return sorted(now_ids), sorted(pending - now_ids), acl

    def map(
        self, grants: list[SourceGrant] | None, old: set[int]
    ) -> tuple[list[int], list[int], list[dict[str, Any]] | None]:
        """Principals now, principals waiting for the run to complete, and the access
        list as the pages show it (None: the permissions could not be read)."""
        if grants is None:
            return [], [], None
        ids, pending, acl = self._map(grants, old)
        return ids, pending, [entry for entry, _ in acl]

    def map_json(
        self, grants: list[SourceGrant] | None, old: set[int]
    ) -> tuple[list[int], list[int], str | None]:
        """``map``, with the access list as JSON text, as a page is written."""
        if grants is None:
            return [], [], None
        ids, pending, acl = self._map(grants, old)
        return ids, pending, "[" + ",".join(text for _, text in acl) + "]"


def _sync_documents(
    current: SyncRun,
    conn: Connection,
    source: Provider,
    principals: Principals,
    progress: Progress | None,
) -> None:
    mapper = Mapper(conn, current, principals)
    if current.kind == RunKind.FULL:
        if not current.next_cursor:
            current.next_cursor = source.start_cursor()
            current.save(update_fields=["next_cursor"])
        pages = source.list_all(current.checkpoint)
    else:
        pages = source.changes(conn.cursor, current.checkpoint)
    # A first full sync (nothing stored but what this run wrote) inserts its pages
    # directly; a page that meets a stored document falls back to the upsert.
    fresh = (
        current.kind == RunKind.FULL
        and db.vendor == "postgresql"
        and not Document.objects.filter(connection=conn).exclude(seen_run=current.pk).exists()
    )
    for page in pages:
        principals.resolve(w for d in page.documents for w in mapper.wanted(d.grants))
        with transaction.atomic():
            _hold_lease(current)
            if mapper.refresh():
                principals.resolve(w for d in page.documents for w in mapper.wanted(d.grants))
            written = _write_page(current, conn, page, mapper, fresh=fresh)
            current.checkpoint = page.checkpoint
            if page.next_cursor:
                current.next_cursor = page.next_cursor
            current.items_seen += len(page.documents) + len(page.removed)
            current.acl_entries_written += written
            current.removed += len(page.removed)
            for message in page.errors:
                _log_error(current, message)
            if not page.checkpoint:
                current.phase = RunPhase.FINALIZING
            current.save()
        if progress:
            progress(current)
    if current.phase != RunPhase.FINALIZING:
        # A source that ends without a last page (an empty change list) is done too.
        current.phase = RunPhase.FINALIZING
        current.save(update_fields=["phase"])


def _web_url(url: str) -> str:
    """Only a web address is kept: a source cannot make the pages link to a script."""
    url = url.strip()[:2000]
    return url if url.lower().startswith(("https://", "http://")) else ""


# What a sync writes of each document: the key, then what an upsert updates.
UPSERT_KEY = ("workspace_id", "connection_id", "source_id")
UPSERT_FIELDS = (
    "title",
    "kind",
    "mime_type",
    "web_url",
    "size",
    "parent_source_id",
    "path",
    "modified_at",
    "owner_email",
    "principals",
    "pending_principals",
    "acl",
    "seen_run",
    "synced_at",
)
COLUMNS = (*UPSERT_KEY, *UPSERT_FIELDS)

# COPY's text format: backslash, tab and line ends escaped. PostgreSQL's text holds no
# NUL character, so a source's NUL goes (here and in the SQLite path alike).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": None})


_COPY_SPECIAL = re.compile(r"[\\\t\n\r\x00]")


def _text(value: str) -> str:
    return value.replace("\x00", "") if "\x00" in value else value


def _copy_text(value: str | None) -> str:
    if value is None:
        return "\\N"
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


def _copy_ids(ids: list[int] | None) -> str:
    return "\\N" if ids is None else "{" + ",".join(map(str, ids)) + "}"


def _copy_line(row: tuple[Any, ...]) -> str:
    """One document row (COLUMNS) in COPY's text format."""
    (ws, conn, sid, title, kind, mime, url, size, parent, path, modified, owner) = row[:12]
    principals, pending, acl, seen, synced = row[12:]
    return "\t".join(
        (
            str(ws),
            str(conn),
            _copy_text(sid),
            _copy_text(title),
            _copy_text(kind),
            _copy_text(mime),
            _copy_text(url),
            "\\N" if size is None else str(int(size)),
            _copy_text(parent),
            _copy_text(path),
            modified.isoformat(),
            _copy_text(owner),
            _copy_ids(principals),
            _copy_ids(pending),
            _copy_text(acl),
            str(seen),
            synced.isoformat(),
        )
    )


def _insert_by_copy(rows: list[tuple[Any, ...]]) -> bool:
    """PostgreSQL: the page straight into the documents by COPY, in a savepoint; False
    (and nothing written) when one of them is already stored."""
    # Each line ends with the empty ``file`` of a synced document.
    text = "\t\n".join(map(_copy_line, rows)) + "\t\n"
    try:
        with transaction.atomic(), db.cursor() as cursor, db.wrap_database_errors:
            sql = f"COPY connectors_document ({', '.join(COLUMNS)}, file) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                copy.write(text)
    except IntegrityError:
        return False
    return True


def _upsert_by_copy(rows: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: the page goes by COPY (text format, formatted here) into a temporary
    table, then one INSERT ... ON CONFLICT moves it into the documents. Building and
    binding a thousand-row upsert's parameters costs several times what the database
    spends on it."""
    names = ", ".join(COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in UPSERT_FIELDS)
    text = "\n".join(map(_copy_line, rows)) + "\n"
    with db.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS connectors_sync_page "  # noqa: S608 - names are ours
            f"ON COMMIT DELETE ROWS AS SELECT {names} FROM connectors_document WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY connectors_sync_page ({names}) FROM STDIN") as copy:
            copy.write(text)
        cursor.execute(
            f"INSERT INTO connectors_document ({names}, file) "  # noqa: S608 - names are ours
            f"SELECT {names}, '' FROM connectors_sync_page "
            f"ON CONFLICT (connection_id, source_id) DO UPDATE SET {updates}"
        )
        cursor.execute("DELETE FROM connectors_sync_page")


def _write_page(
    current: SyncRun, conn: Connection, page: Page, mapper: Mapper, *, fresh: bool = False
) -> int:
    now = timezone.now()
    docs: dict[str, SourceDocument] = {d.source_id: d for d in page.documents}
    # The stored principals matter only to a document that names a group which lost
    # members in this run (Mapper.map): most pages need no read.
    asked = [sid for sid, d in docs.items() if mapper.names_changed(d.grants)]
    old: dict[str, list[int]] = (
        dict(
            Document.objects.filter(connection=conn, source_id__in=asked).values_list(
                "source_id", "principals"
            )
        )
        if asked
        else {}
    )
    rows: list[tuple[Any, ...]] = []
    written = 0
    for d in docs.values():
        ids, pending, acl = mapper.map_json(d.grants, set(old.get(d.source_id) or ()))
        written += len(ids) + len(pending)
        rows.append(
            (
                conn.workspace_id,
                conn.pk,
                _text(d.source_id)[:255],
                _text(d.title)[:500] or "Untitled",
                d.kind,
                _text(d.mime_type)[:255],
                _web_url(_text(d.web_url)),
                d.size,
                _text(d.parent_source_id)[:255],
                _text(d.path)[:1000],
                d.modified_at,
                _text(d.owner_email)[:254],
                ids,
                pending or None,
                acl,
                current.pk,
                now,
            )
        )
    if rows:
        if db.vendor == "postgresql":
            if not (fresh and _insert_by_copy(rows)):
                _upsert_by_copy(rows)
        else:
            Document.objects.bulk_create(
                [_document(row) for row in rows],
                batch_size=BATCH,
                update_conflicts=True,
                unique_fields=["connection", "source_id"],
                update_fields=list(UPSERT_FIELDS),
            )
    gone = [sid for sid in page.removed if sid not in docs]
    if gone:
        Document.objects.filter(connection=conn, source_id__in=gone).delete()
    return written


def _document(row: tuple[Any, ...]) -> Document:
    values = dict(zip(COLUMNS, row, strict=True))
    if values["acl"] is not None:
        values["acl"] = json.loads(values["acl"])
    return Document(**values)


# Completing -----------------------------------------------------------------------


def _apply_pending(conn: Connection) -> None:
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute(
                "UPDATE connectors_document SET principals = ARRAY("
                "SELECT DISTINCT unnest(principals || pending_principals) ORDER BY 1), "
                "pending_principals = NULL, "
                "acl = CASE WHEN acl IS NULL THEN NULL ELSE (SELECT "
                "coalesce(jsonb_agg(e - 'pending'), '[]'::jsonb) "
                "FROM jsonb_array_elements(acl) AS e) END "
                "WHERE connection_id = %s AND pending_principals IS NOT NULL",
                [conn.pk],
            )
        return
    pending = Document.objects.filter(connection=conn, pending_principals__isnull=False)
    for doc in pending.only("id", "principals", "pending_principals", "acl").iterator():
        acl = [{k: v for k, v in e.items() if k != "pending"} for e in doc.acl or []]
        Document.objects.filter(pk=doc.pk).update(
            principals=[*doc.principals, *(doc.pending_principals or [])],
            pending_principals=None,
            acl=acl if doc.acl is not None else None,
        )


def _finalize(current: SyncRun, conn: Connection) -> None:
    now = timezone.now()
    with transaction.atomic():
        _hold_lease(current)
        if current.groups_written:
            GroupMember.objects.filter(connection=conn, staged=False).delete()
            GroupMember.objects.filter(connection=conn, staged=True).update(staged=False)
        _apply_pending(conn)
        if current.kind == RunKind.FULL:
            gone, _ = (
                Document.objects.filter(connection=conn)
                .filter(~Q(seen_run=current.pk) | Q(seen_run__isnull=True))
                .delete()
            )
            current.removed += gone
        current.status = RunStatus.SUCCEEDED
        current.phase = RunPhase.DONE
        current.finished_at = now
        current.checkpoint = ""
        current.save()
        fresh = Connection.objects.select_for_update().get(pk=conn.pk)
        fresh.cursor = current.next_cursor or fresh.cursor
        fresh.last_success_at = now
        fresh.last_error = ""
        fresh.next_sync_at = now + fresh.sync_interval
        if fresh.status == ConnectionStatus.SYNCING:
            fresh.status = ConnectionStatus.CONNECTED
        fresh.lease_run = None
        fresh.lease_until = None
        fresh.save(
            update_fields=[
                "cursor",
                "last_success_at",
                "last_error",
                "next_sync_at",
                "status",
                "lease_run",
                "lease_until",
            ]
        )


# A changed mapping ----------------------------------------------------------------


def remap(conn: Connection) -> int:
    """Apply the connection's link and domain mapping (changed by an admin) to every
    document at once, from the access lists as the last sync stored them: narrowing
    takes effect immediately, and so does widening, without waiting for a sync. An entry
    that waits for its run (``pending``) stays as it is and counts for nobody, also once
    the run is abandoned (its principal then left ``pending_principals``): applying it
    would combine the new grant with the group's members of before the run. A document
    whose permissions could not be read keeps no grants. Returns how many documents
    changed."""
    if db.vendor == "postgresql":
        return _remap_sql(conn)
    return _remap_python(conn)


def _waits(entry: dict[str, Any]) -> bool:
    return bool(entry.get("pending"))


def _stored_grant(entry: dict[str, Any]) -> SourceGrant:
    return SourceGrant(
        kind=entry["kind"],
        value=entry.get("value", ""),
        role=entry.get("role", "reader"),
        discoverable=entry.get("discoverable", True),
    )


def _remap_python(conn: Connection) -> int:
    """Document by document through the Mapper: SQLite's way (the quick start)."""
    principals = Principals(conn)
    mapper = Mapper(conn, SyncRun(changed_groups=[]), principals)
    changed = 0
    docs = Document.objects.filter(connection=conn, acl__isnull=False).only(
        "id", "acl", "principals"
    )
    for doc in docs.iterator(chunk_size=BATCH):
        stored: list[dict[str, Any]] = doc.acl or []
        grants = [_stored_grant(e) for e in stored if not _waits(e)]
        principals.resolve(mapper.wanted(grants))
        ids, _, mapped = mapper.map(grants, set())
        # Entries in their order, the waiting ones where they were.
        fresh = iter(mapped or ())
        acl = [e if _waits(e) else next(fresh) for e in stored]
        if ids != doc.principals or acl != stored:
            Document.objects.filter(pk=doc.pk).update(principals=ids, acl=acl)
            changed += 1
    return changed


# The principals the mapping needs: whether any link share is stored, and the domains of
# the hidden domain shares (only those the settings map to someone are asked for).
_REMAP_TARGETS = """
SELECT DISTINCT e->>'kind', CASE WHEN e->>'kind' = 'domain' THEN e->>'value' ELSE '' END
FROM connectors_document AS d CROSS JOIN LATERAL jsonb_array_elements(d.acl) AS e
WHERE d.connection_id = %(connection)s AND d.acl IS NOT NULL
  AND (d.acl @> '[{"kind": "anyone"}]' OR d.acl @> '[{"kind": "domain", "discoverable": false}]')
  AND ((%(links)s AND e->>'kind' = 'anyone')
    OR (%(hidden)s AND e->>'kind' = 'domain' AND e->'discoverable' = 'false'::jsonb))
"""

# Each entry as Mapper writes it: people, groups and listed domain shares keep the
# principal the sync stored, a link share maps to the workspace or nobody, a hidden domain
# share to its domain or nobody (with the note); an entry that waits for its run stays as
# it is. The principals are those of the entries that do not wait, sorted and distinct.
# Only the documents that change are written, and only those are read entry by entry
# (``_changing``).
_REMAP = """
UPDATE connectors_document AS doc SET acl = m.acl, principals = m.principals
FROM (
  SELECT src.id, n.acl, n.principals
  FROM connectors_document AS src
  CROSS JOIN LATERAL (
    SELECT
      coalesce(jsonb_agg(
        CASE
          WHEN f.waits THEN a.e
          WHEN t.pid IS NOT NULL AND NOT f.hidden THEN jsonb_build_object(
            'kind', f.kind, 'value', f.value, 'role', f.role, 'principal', t.pid)
          WHEN t.pid IS NOT NULL THEN jsonb_build_object(
            'kind', f.kind, 'value', f.value, 'role', f.role, 'discoverable', false,
            'principal', t.pid)
          WHEN NOT f.hidden THEN jsonb_build_object(
            'kind', f.kind, 'value', f.value, 'role', f.role, 'principal', NULL,
            'note', t.note)
          ELSE jsonb_build_object(
            'kind', f.kind, 'value', f.value, 'role', f.role, 'discoverable', false,
            'principal', NULL, 'note', t.note)
        END
        ORDER BY a.n
      ), '[]'::jsonb) AS acl,
      coalesce(
        array_agg(DISTINCT t.pid ORDER BY t.pid) FILTER (WHERE NOT f.waits AND t.pid IS NOT NULL),
        '{}'::integer[]
      ) AS principals
    FROM jsonb_array_elements(src.acl) WITH ORDINALITY AS a(e, n)
    CROSS JOIN LATERAL (
      SELECT
        coalesce(a.e->'pending' = 'true'::jsonb, false) AS waits,
        coalesce(a.e->'discoverable' = 'false'::jsonb, false) AS hidden,
        a.e->'kind' AS kind,
        coalesce(a.e->'value', '""'::jsonb) AS value,
        coalesce(a.e->'role', '"reader"'::jsonb) AS role
    ) AS f
    CROSS JOIN LATERAL (
      SELECT
        CASE a.e->>'kind'
          WHEN 'user' THEN (a.e->>'principal')::integer
          WHEN 'group' THEN (a.e->>'principal')::integer
          WHEN 'domain' THEN CASE
            WHEN NOT f.hidden THEN (a.e->>'principal')::integer
            ELSE (%(domains)s::jsonb ->> (a.e->>'value'))::integer
          END
          WHEN 'anyone' THEN %(everyone)s::integer
        END AS pid,
        CASE WHEN a.e->>'kind' = 'anyone'
          THEN %(link_note)s::text ELSE %(unlisted_note)s::text END AS note
    ) AS t
  ) AS n
  WHERE src.connection_id = %(connection)s AND src.acl IS NOT NULL
    AND src.acl @? %(changing)s::jsonpath
    AND (n.acl IS DISTINCT FROM src.acl OR n.principals IS DISTINCT FROM src.principals)
) AS m
WHERE doc.id = m.id
"""


def _changing(*, links: bool, hidden: bool) -> str:
    """Which documents the mapping changes: those with a link or hidden domain entry
    that names nobody where the settings now map it to someone, or the reverse. The sync
    stores every other entry as the Mapper maps it, whatever the settings."""
    link = "==" if links else "!="
    domain = "==" if hidden else "!="
    return (
        f'$[*] ? ((@.kind == "anyone" && @.principal {link} null)'
        f' || (@.kind == "domain" && @.discoverable == false && @.principal {domain} null))'
    )


def _remap_sql(conn: Connection) -> int:
    """PostgreSQL: the principals the mapping needs first (created when missing), then
    one UPDATE of the documents that change, in the caller's transaction."""
    links = conn.link_shares == LinkShares.WORKSPACE
    hidden = conn.hidden_domain_shares == HiddenDomainShares.DOMAIN
    targets: list[tuple[str, str]] = []
    if links or hidden:
        with db.cursor() as cursor:
            cursor.execute(
                _REMAP_TARGETS, {"connection": conn.pk, "links": links, "hidden": hidden}
            )
            targets = [(kind, value) for kind, value in cursor.fetchall()]
    principals = Principals(conn)
    everyone = (PrincipalKind.EVERYONE, "")
    domains = sorted(value for kind, value in targets if kind == "domain")
    principals.resolve(
        [(PrincipalKind.DOMAIN, value, value) for value in domains]
        + ([(*everyone, "")] if ("anyone", "") in targets else [])
    )
    with db.cursor() as cursor:
        cursor.execute(
            _REMAP,
            {
                "connection": conn.pk,
                "changing": _changing(links=links, hidden=hidden),
                "everyone": principals.ids.get(everyone),
                "domains": json.dumps(
                    {value: principals[(PrincipalKind.DOMAIN, value)] for value in domains}
                ),
                "link_note": LINK_NOTE,
                "unlisted_note": UNLISTED_NOTE,
            },
        )
        return int(cursor.rowcount)
