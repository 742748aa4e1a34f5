"""Reads of connected services that pages share. Each costs a fixed number of queries
whatever the number of connections, runs, documents or members, so a page costs the same
with ten documents as with a million.

Document lists are paged by keyset on the newest-first order (``modified_at``, ``id``),
which the covering index ``document_newest`` serves: the page after a cursor reads the
next rows of the index instead of counting and skipping the ones before it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Membership, Workspace
from core import cursors
from core.parsing import DB_ID_MAX, parse_id

from .access import Viewer
from .models import (
    Connection,
    ConnectionStatus,
    Document,
    DocumentKind,
    Library,
    Principal,
    RunStatus,
    SyncRun,
)

PAGE_SIZE = 25
SEARCH_MAX = 100
PICKER_SIZE = 10
# What the lists of documents read of each row: never the access list or the principals.
LIST_FIELDS = (
    "id",
    "workspace_id",
    "title",
    "kind",
    "mime_type",
    "web_url",
    "owner_email",
    "modified_at",
    "connection_id",
    "library_id",
    "connection__id",
    "connection__display_name",
    "connection__provider",
    "library__id",
    "library__name",
)


# --- Connections --------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionRow:
    connection: Connection
    documents: int
    fresh: bool
    hidden_since: datetime | None

    @property
    def purge_percent(self) -> int | None:
        """How much of a disconnected connection's copy is deleted, in percent."""
        c = self.connection
        if c.status != ConnectionStatus.DISCONNECTING or not c.purge_total:
            return None
        return min(100, int(100 * c.purge_done / c.purge_total))

    @property
    def purge_text(self) -> str:
        c = self.connection
        return f"{c.purge_done:,} of {c.purge_total or 0:,} documents deleted"

    @property
    def progress_id(self) -> str:
        return f"purge-{self.connection.pk}"


def hidden_since(conn: Connection) -> datetime | None:
    """When the documents of a connection stopped (or will stop) being shown: its last
    success plus its staleness limit; None when it never synced."""
    if conn.last_success_at is None:
        return None
    return conn.last_success_at + conn.staleness_limit


def connection_rows(workspace: Workspace, now: datetime | None = None) -> list[ConnectionRow]:
    """The workspace's connections with their document counts: two queries."""
    now = now or timezone.now()
    conns = list(Connection.objects.filter(workspace=workspace).order_by("display_name", "id"))
    counts: dict[int, int] = {}
    if conns:
        from .services import document_counts  # noqa: PLC0415  (the services' own count)

        counts = document_counts(workspace)
    return [ConnectionRow(c, counts.get(c.pk, 0), c.is_fresh(now), hidden_since(c)) for c in conns]


def current_run(conn: Connection) -> SyncRun | None:
    return conn.runs.filter(status=RunStatus.RUNNING).order_by("-started_at", "-id").first()


def run_history(conn: Connection) -> QuerySet[SyncRun]:
    return SyncRun.objects.filter(connection=conn).order_by("-started_at", "-id")


def is_busy(conn: Connection, run: SyncRun | None) -> bool:
    """Whether the page should keep polling: a run is going on, or the documents are being
    deleted."""
    return run is not None or conn.status in (
        ConnectionStatus.SYNCING,
        ConnectionStatus.DISCONNECTING,
    )


# --- Keyset pages of documents ------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS_MIN = -62135596800 * 10**6  # 0001-01-01T00:00:00Z
_MICROS_MAX = 253402300799 * 10**6  # 9999-12-31T23:59:59Z


def encode_cursor(doc: Document) -> str:
    delta = doc.modified_at - EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
    return f"{micros}.{doc.pk}"


def decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    """The position a cursor names, or None for anything that is not one (the list then
    starts at the newest): never an error, never a query."""
    if not raw or len(raw) > 45:
        return None
    micros_text, _, id_text = raw.partition(".")
    body = micros_text.removeprefix("-")
    if not (body.isascii() and body.isdigit()) or len(body) > 18:
        return None
    micros = int(micros_text)
    pk = parse_id(id_text)
    if pk is None or not _MICROS_MIN <= micros <= _MICROS_MAX:
        return None
    return EPOCH + timedelta(microseconds=micros), pk


@dataclass(frozen=True)
class DocumentPage:
    rows: list[Document]
    next_cursor: str
    # Whether this page starts after a cursor (a "Newest" link then leads back).
    after_cursor: bool


def keyset_page(qs: QuerySet[Document], cursor: str | None, size: int = PAGE_SIZE) -> DocumentPage:
    """One page of ``qs`` (newest first) after ``cursor``: one query."""
    position = decode_cursor(cursor)
    if position is not None:
        at, pk = position
        bound = (at, min(pk, DB_ID_MAX))
        qs = cursors.beyond(qs, ("modified_at", "id"), bound, backwards=True)
    rows = list(qs.order_by("-modified_at", "-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return DocumentPage(
        rows, encode_cursor(rows[-1]) if more and rows else "", position is not None
    )


def for_list(qs: QuerySet[Document]) -> QuerySet[Document]:
    """What a list shows of each document, the source's name with it, in the same query."""
    return qs.select_related("connection", "library").only(*LIST_FIELDS)


def search_title(qs: QuerySet[Document], q: str) -> QuerySet[Document]:
    q = q.strip()[:SEARCH_MAX]
    return qs.filter(title__icontains=q) if q else qs


def workspace_documents(
    workspace: Workspace,
    *,
    q: str = "",
    connection_id: int | None = None,
    library_id: int | None = None,
) -> QuerySet[Document]:
    """Every document of the workspace (the admins' list), filtered."""
    qs = Document.objects.filter(workspace=workspace)
    if connection_id is not None:
        qs = qs.filter(connection_id=connection_id)
    if library_id is not None:
        qs = qs.filter(library_id=library_id)
    return search_title(qs, q)


def connection_choices(workspace: Workspace) -> QuerySet[Connection]:
    return (
        Connection.objects.filter(workspace=workspace)
        .only("id", "display_name", "workspace_id")
        .order_by("display_name", "id")
    )


def library_choices(workspace: Workspace) -> QuerySet[Library]:
    return (
        Library.objects.filter(workspace=workspace)
        .only("id", "name", "workspace_id")
        .order_by("name", "id")
    )


# --- One document -------------------------------------------------------------------

GRANT_KINDS = {
    "user": "Person",
    "group": "Group",
    "domain": "Domain",
    "anyone": "Anyone with the link",
}


@dataclass(frozen=True)
class AclRow:
    kind: str
    value: str
    label: str
    role: str
    reaches_nobody: bool
    note: str
    pending: bool
    applied: bool


def acl_rows(document: Document) -> list[AclRow] | None:
    """The access list as the source gave it, with the names the sync stored for its
    groups (one query); None when the source's permissions could not be read."""
    if document.acl is None:
        return None
    entries = [e for e in document.acl if isinstance(e, dict)]
    pids = {e["principal"] for e in entries if isinstance(e.get("principal"), int)}
    labels: dict[int, str] = {}
    if pids:
        labels = dict(
            Principal.objects.filter(pk__in=pids, workspace_id=document.workspace_id)
            .exclude(label="")
            .values_list("id", "label")
        )
    # An entry marked pending waits only while its principal is among the document's
    # pending ones: the run that applies them leaves the stored marks as they were.
    waiting = set(document.pending_principals or [])
    held = set(document.principals or [])
    rows = []
    for e in entries:
        kind = str(e.get("kind", ""))
        value = str(e.get("value", ""))
        pid = e.get("principal")
        label = labels.get(pid, "") if isinstance(pid, int) else ""
        rows.append(
            AclRow(
                kind=GRANT_KINDS.get(kind, kind.capitalize() or "Unknown"),
                value=value if value else ("anyone" if kind == "anyone" else ""),
                label=label if label and label != value else "",
                role=str(e.get("role", "")),
                reaches_nobody=pid is None,
                note=str(e.get("note", "")),
                pending=bool(e.get("pending")) and pid in waiting,
                applied=pid in held,
            )
        )
    return rows


# How many folders up a path is followed (a source should give no cycle, nor this depth).
PATH_DEPTH = 64

_FOLDERS_UP = """
WITH RECURSIVE up(source_id, parent, title, depth) AS (
    SELECT source_id, parent_source_id, title, 1 FROM connectors_document
    WHERE connection_id = %(connection)s AND source_id = %(parent)s AND kind = %(folder)s
    UNION ALL
    SELECT f.source_id, f.parent_source_id, f.title, up.depth + 1
    FROM up JOIN connectors_document f
      ON f.connection_id = %(connection)s AND f.source_id = up.parent AND f.kind = %(folder)s
    WHERE up.depth < %(depth)s
)
SELECT source_id, title FROM up ORDER BY depth
"""


def document_path(document: Document) -> str:
    """Where the document sits: the path the source gave, or (Drive gives only the
    parent's id) the names of its stored folders from the top down, in one query. "/" for
    one at the top of a drive or below a folder the account cannot see; empty for one with
    no parent (shared with the account directly)."""
    if document.path or not document.parent_source_id or document.connection_id is None:
        return document.path
    with connection.cursor() as cursor:
        cursor.execute(
            _FOLDERS_UP,
            {
                "connection": document.connection_id,
                "parent": document.parent_source_id,
                "folder": DocumentKind.FOLDER.value,
                "depth": PATH_DEPTH,
            },
        )
        names: list[str] = []
        seen: set[str] = set()
        for source_id, title in cursor.fetchall():
            if source_id in seen:  # a cycle: the chain ends where it closes
                break
            seen.add(source_id)
            names.append(title)
    return "/" + "/".join(reversed(names))


def safe_web_url(url: str) -> str:
    """The document's link, only when it is a web address: a source could name a
    ``javascript:`` URL, and the sync stores what it is given."""
    lowered = url.strip().lower()
    return url.strip() if lowered.startswith(("https://", "http://")) else ""


def filter_who(rows: Sequence[tuple[Membership, str]], q: str) -> list[tuple[Membership, str]]:
    q = q.strip().lower()[:SEARCH_MAX]
    if not q:
        return list(rows)
    return [
        (m, why)
        for m, why in rows
        if q in m.user.email.lower() or q in (getattr(m.user, "name", "") or "").lower()
    ]


# --- Pickers of the "why" page ------------------------------------------------------


def member_matches(workspace: Workspace, q: str, *, limit: int = PICKER_SIZE) -> list[Membership]:
    q = q.strip()[:SEARCH_MAX]
    if not q:
        return []
    return list(
        Membership.objects.filter(workspace=workspace)
        .filter(Q(user__email__icontains=q) | Q(user__name__icontains=q))
        .select_related("user")
        .order_by("user__email", "id")[:limit]
    )


def document_matches(workspace: Workspace, q: str, *, limit: int = PICKER_SIZE) -> list[Document]:
    q = q.strip()[:SEARCH_MAX]
    if not q:
        return []
    return list(for_list(search_title(Document.objects.filter(workspace=workspace), q))[:limit])


# --- What a member's lists say about their sources ---------------------------------


@dataclass(frozen=True)
class SourceNote:
    name: str
    text: str


def hidden_sources(viewer: Viewer) -> list[SourceNote]:
    """Connections whose documents the member does not see now, and why (no query: the
    viewer loaded them)."""
    out = []
    for conn in sorted(viewer.connections.values(), key=lambda c: (c.display_name, c.pk)):
        if conn.status == ConnectionStatus.DISCONNECTING:
            out.append(
                SourceNote(conn.display_name, "is being disconnected: its documents are hidden.")
            )
        elif conn.last_success_at is None:
            out.append(SourceNote(conn.display_name, "has not completed a sync yet."))
        elif not conn.is_fresh(viewer.now):
            since = hidden_since(conn)
            when = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if since else "now"
            out.append(
                SourceNote(
                    conn.display_name,
                    f"has not synced within its limit: its documents are hidden since {when}, "
                    "until it syncs again.",
                )
            )
    return out


# --- What other apps name (an agent's document-search sources) ------------------------------


def library_names(workspace_id: int, ids: Iterable[int] | None = None) -> dict[int, str]:
    """The workspace's libraries (of ``ids`` when given), name by id: one query."""
    qs = Library.objects.filter(workspace_id=workspace_id)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return dict(qs.order_by("name", "id").values_list("id", "name"))


def connection_names(workspace_id: int, ids: Iterable[int] | None = None) -> dict[int, str]:
    """The workspace's connections (of ``ids`` when given), name by id: one query."""
    qs = Connection.objects.filter(workspace_id=workspace_id)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return dict(qs.order_by("display_name", "id").values_list("id", "display_name"))
