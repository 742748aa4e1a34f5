"""May this member see this document, and why (R-CON-2, R-CON-6): the one decision every
page and the service API go through.

A member's principals are loaded once (``load_viewer``, a fixed number of queries): their
verified email addresses (allauth's ``EmailAddress``, case-insensitively), the source
groups that contain one of them (expanded at the last completed sync), the domains of
those addresses, the workspace itself, their membership and their workspace groups. A
document is visible when its principal set shares one of them, its connection is fresh
(synced within its staleness limit, not being disconnected) and the member's
``connectors`` (or, for a library, ``libraries``) feature decision allows it. Anything
the console cannot tell is a no.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from allauth.account.models import EmailAddress
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Q, QuerySet
from django.db.models.lookups import Lookup
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from accounts.access import fetch_in_workspace
from accounts.actor import Actor
from accounts.models import Group, Membership, MemberStatus
from accounts.roles import Perm
from core import registry
from features.decisions import Decision as FeatureDecision
from features.decisions import WorkspaceFacts, decide_many

from .models import Connection, ConnectionStatus, Document, GroupMember, Library, Principal
from .models import PrincipalKind as K

LIST_CAP = 1000


class Code(StrEnum):
    ALLOWED = "allowed"
    INACTIVE = "membership_inactive"
    FEATURE = "feature_denied"
    STALE = "connection_stale"
    DISCONNECTING = "connection_disconnecting"
    UNREADABLE = "permissions_unreadable"
    NOT_SHARED = "not_shared"
    PENDING = "pending_sync"


@dataclass(frozen=True)
class Holding:
    """How the member holds one principal: "verified email alan@acme.example", "member
    of eng@acme.example through platform@acme.example", ..."""

    kind: str
    label: str
    detail: str = ""


@dataclass(frozen=True)
class Viewer:
    membership_id: int
    workspace_id: int
    name: str
    active: bool
    emails: tuple[str, ...]
    holdings: dict[int, Holding]
    connections: dict[int, Connection]
    features: dict[str, FeatureDecision]
    now: datetime = field(default_factory=timezone.now)

    @property
    def principal_ids(self) -> list[int]:
        return sorted(self.holdings)

    def feature(self, key: str) -> FeatureDecision:
        return self.features[key]

    def visible_connection_ids(self) -> list[int]:
        return sorted(c.pk for c in self.connections.values() if c.is_fresh(self.now))

    def sees_libraries(self) -> bool:
        return self.active and self.features[registry.LIBRARIES].allowed

    def sees_connections(self) -> bool:
        return self.active and self.features[registry.CONNECTORS].allowed


@dataclass(frozen=True)
class DocumentDecision:
    allowed: bool
    code: Code
    reason: str
    steps: tuple[str, ...] = ()


def _verified_emails(user_id: int) -> list[str]:
    return sorted(
        {
            e.lower()
            for e in EmailAddress.objects.filter(user_id=user_id, verified=True).values_list(
                "email", flat=True
            )
        }
    )


def load_viewer(membership: Membership, *, facts: WorkspaceFacts | None = None) -> Viewer:
    """The member's principals and what gates them, in a fixed number of queries."""
    ws_id = membership.workspace_id
    emails = _verified_emails(membership.user_id)
    domains = sorted({e.rsplit("@", 1)[1] for e in emails if "@" in e})
    group_ids = [
        str(g)
        for g in Group.members.through.objects.filter(membership_id=membership.pk).values_list(
            "group_id", flat=True
        )
    ]
    holdings: dict[int, Holding] = {}
    direct = Principal.objects.filter(workspace_id=ws_id).filter(
        Q(kind=K.EMAIL, key__in=emails)
        | Q(kind=K.DOMAIN, key__in=domains)
        | Q(kind=K.EVERYONE, connection__isnull=True)
        | Q(kind=K.MEMBER, key=str(membership.pk), connection__isnull=True)
        | Q(kind=K.GROUP, key__in=group_ids, connection__isnull=True)
    )
    email_ids: list[int] = []
    for pid, kind, key, label in direct.values_list("id", "kind", "key", "label"):
        if kind == K.EMAIL:
            email_ids.append(pid)
            holdings[pid] = Holding(kind, key, f"verified email {key}")
        elif kind == K.DOMAIN:
            holdings[pid] = Holding(kind, key, f"a verified email on {key}")
        elif kind == K.EVERYONE:
            holdings[pid] = Holding(kind, "everyone", "a member of the workspace")
        elif kind == K.MEMBER:
            holdings[pid] = Holding(kind, "you", "named directly")
        else:
            holdings[pid] = Holding(kind, label or key, f"a member of the group {label or key}")
    if email_ids:
        rows = GroupMember.objects.filter(member_id__in=email_ids, staged=False).values_list(
            "group_id", "group__label", "member__key", "path"
        )
        labels_needed: set[int] = set()
        found: list[tuple[int, str, str, list[int]]] = []
        for gid, glabel, email, path in rows:
            found.append((gid, glabel, email, list(path or [])))
            labels_needed.update(path or [])
        labels = dict(
            Principal.objects.filter(pk__in=labels_needed).values_list("id", "label")
            if labels_needed
            else []
        )
        for gid, glabel, email, path in found:
            if gid in holdings:
                continue
            through = ", ".join(labels.get(p, "a nested group") for p in path)
            detail = f"{email} is a member" + (f" through {through}" if through else "")
            holdings[gid] = Holding(K.SOURCE_GROUP, glabel, detail)
    connections = {
        c.pk: c
        for c in Connection.objects.filter(workspace_id=ws_id).only(
            "id",
            "display_name",
            "provider",
            "status",
            "last_success_at",
            "staleness_limit",
            "workspace_id",
        )
    }
    decisions = decide_many(
        membership.workspace,
        [membership],
        [registry.CONNECTORS, registry.LIBRARIES],
        facts=facts,
    )[membership.pk]
    return Viewer(
        membership_id=membership.pk,
        workspace_id=ws_id,
        name=membership.user.email,
        active=membership.status == MemberStatus.ACTIVE,
        emails=tuple(emails),
        holdings=holdings,
        connections=connections,
        features=decisions,
    )


# The decision ---------------------------------------------------------------------


def _when(at: datetime | None) -> str:
    if at is None:
        return "never"
    return timezone.localtime(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _summary(acl: Sequence[dict[str, Any]] | None) -> str:
    counts: dict[str, int] = defaultdict(int)
    for entry in acl or []:
        counts[str(entry.get("kind"))] += 1
    parts = []
    for kind, one, many in (
        ("user", "person", "people"),
        ("group", "group", "groups"),
        ("domain", "domain", "domains"),
        ("anyone", "link", "links"),
    ):
        n = counts.get(kind, 0)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts) if parts else "nobody"


def decide_document(viewer: Viewer, doc: Document) -> DocumentDecision:
    """Pure: the decision for a loaded document (its principals, acl and source)."""
    who = viewer.name
    if not viewer.active:
        return DocumentDecision(False, Code.INACTIVE, f"{who} is not an active member.")
    steps: list[str] = []
    if doc.library_id is not None:
        gate = viewer.features[registry.LIBRARIES]
        if not gate.allowed:
            return DocumentDecision(False, Code.FEATURE, f"Libraries: {gate.reason}")
        source = "the library"
    else:
        gate = viewer.features[registry.CONNECTORS]
        if not gate.allowed:
            return DocumentDecision(False, Code.FEATURE, f"Connectors: {gate.reason}")
        conn = viewer.connections.get(doc.connection_id or 0)
        if conn is None:
            return DocumentDecision(False, Code.DISCONNECTING, "Its connection is gone.")
        if conn.status == ConnectionStatus.DISCONNECTING:
            return DocumentDecision(
                False,
                Code.DISCONNECTING,
                f"{conn.display_name} is being disconnected: its documents are hidden.",
            )
        if not conn.is_fresh(viewer.now):
            return DocumentDecision(
                False,
                Code.STALE,
                f"{conn.display_name} last synced {_when(conn.last_success_at)}, longer ago "
                f"than its limit: its documents are hidden until it syncs again.",
            )
        source = f"{conn.display_name} (synced {_when(conn.last_success_at)})"
        steps.append(f"Source: {source}.")
        if doc.acl is None:
            return DocumentDecision(
                False,
                Code.UNREADABLE,
                "Its permissions could not be read at the last sync, so nobody sees it.",
                tuple(steps),
            )
    matched = [p for p in doc.principals if p in viewer.holdings]
    if matched:
        h = viewer.holdings[matched[0]]
        if h.kind == K.SOURCE_GROUP:
            reason = f"Shared with the group {h.label} in {source}, of which {h.detail}."
        elif h.kind == K.EMAIL:
            reason = f"Shared with {h.label} in {source}, {who}'s {h.detail}."
        elif h.kind == K.DOMAIN:
            reason = f"Shared with everyone at {h.label} in {source}; {who} has {h.detail}."
        elif h.kind == K.EVERYONE:
            reason = f"Shared with the whole workspace in {source}."
        elif h.kind == K.MEMBER:
            reason = f"Shared with {who} directly in {source}."
        else:
            reason = f"Shared with the group {h.label} in {source}, of which {who} is a member."
        others = len(matched) - 1
        if others:
            steps.append(f"Also reachable through {others} other grant{'s' if others > 1 else ''}.")
        return DocumentDecision(True, Code.ALLOWED, reason, tuple(steps))
    if doc.pending_principals:
        n = len(doc.pending_principals)
        return DocumentDecision(
            False,
            Code.PENDING,
            f"Not shared with {who} now; {n} new group grant{'s' if n > 1 else ''} of this "
            "document apply when the running sync completes, with the groups' new members.",
            tuple(steps),
        )
    return DocumentDecision(
        False,
        Code.NOT_SHARED,
        f"Shared with {_summary(doc.acl) if doc.library_id is None else 'other members'}; "
        f"{who} is in none.",
        tuple(steps),
    )


def document_decision(membership: Membership, document_id: int) -> DocumentDecision | None:
    """The decision for one document of the member's workspace; None when there is none."""
    viewer = load_viewer(membership)
    # get(), not first(): no ORDER BY (the model's newest-first) to compile and plan for
    # one row by its primary key.
    try:
        doc = Document.objects.get(pk=document_id, workspace_id=viewer.workspace_id)
    except Document.DoesNotExist:
        return None
    return decide_document(viewer, doc)


# Lists ----------------------------------------------------------------------------


def visible_documents(viewer: Viewer) -> QuerySet[Document]:
    """Every document the member may see, newest first: one indexed query."""
    sources = Q(pk__in=[])
    if viewer.sees_connections():
        ids = viewer.visible_connection_ids()
        if ids:
            sources |= Q(connection_id__in=ids)
    if viewer.sees_libraries():
        sources |= Q(library__isnull=False)
    if not viewer.active or not viewer.holdings:
        return Document.objects.none()
    return (
        Document.objects.filter(workspace_id=viewer.workspace_id)
        .filter(sources)
        .filter(principals__overlaps=viewer.principal_ids)
        .order_by("-modified_at", "-id")
    )


class _AnyOf(Lookup[list[int]]):
    """``id = ANY(%s)``: many ids as one array parameter. As ``pk__in``, a thousand ids
    cost more to prepare and bind (a placeholder each, which psycopg's client-side binding
    splits the query at) than the index scan that answers them. SQLite reads a JSON
    array."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        ids = sorted({int(i) for i in value})
        return ("%s", [ids if connection.vendor == "postgresql" else json.dumps(ids)])

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY({rhs}::bigint[])", (*lhs_params, *rhs_params)
        # lhs is a column reference and rhs a placeholder: no value is interpolated.
        sql = f"{lhs} IN (SELECT value FROM json_each({rhs}))"  # noqa: S608
        return sql, (*lhs_params, *rhs_params)


def visible_ids(viewer: Viewer, ids: Iterable[int]) -> list[int]:
    """The retrieval filter: which of these documents the member may see. Unordered, so
    that the primary key's index, which carries the principals (migration 0002), answers
    it without reading the table."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return []
    qs = visible_documents(viewer).filter(_AnyOf(F("pk"), wanted)).order_by()
    return sorted(qs.values_list("pk", flat=True))


def capped_count(qs: QuerySet[Document], cap: int = LIST_CAP) -> tuple[int, bool]:
    """How many, up to ``cap``; an exact count of a large visible set costs too much, so
    the page shows "1,000+"."""
    n = qs.order_by().values("pk")[: cap + 1].count()
    return min(n, cap), n > cap


# Who can see a document (the admins' view) -----------------------------------------


def who_can_see(
    document: Document, *, facts: WorkspaceFacts | None = None
) -> list[tuple[Membership, str]]:
    """The active members who may see a document, each with the reason, by email."""
    if document.connection_id is not None:
        # A stale or disconnecting source shows nobody: decided before any other read.
        conn = Connection.objects.filter(pk=document.connection_id).first()
        if conn is None or not conn.is_fresh():
            return []
    ws = document.workspace_id
    pids = set(document.principals)
    principals = list(
        Principal.objects.filter(pk__in=pids).values_list("id", "kind", "key", "label")
    )
    memberships = Membership.objects.filter(
        workspace_id=ws, status=MemberStatus.ACTIVE
    ).select_related("user", "workspace")
    everyone = any(k == K.EVERYONE for _, k, _, _ in principals)
    emails = {key: f"shared with {key}" for _, k, key, _ in principals if k == K.EMAIL}
    domains = {key for _, k, key, _ in principals if k == K.DOMAIN}
    member_ids = {
        int(key): "shared with them directly"
        for _, k, key, _ in principals
        if k == K.MEMBER and key.isdigit()
    }
    console_groups = {
        int(key): label for _, k, key, label in principals if k == K.GROUP and key.isdigit()
    }
    source_groups = {pid: label or key for pid, k, key, label in principals if k == K.SOURCE_GROUP}
    for gid, email, glabel in GroupMember.objects.filter(
        group_id__in=list(source_groups), staged=False
    ).values_list("group_id", "member__key", "group__label"):
        emails.setdefault(email, f"member of the group {glabel or source_groups[gid]}")
    reasons: dict[int, str] = {}
    if everyone:
        chosen = list(memberships)
        for m in chosen:
            reasons[m.pk] = "shared with the whole workspace"
    else:
        q = Q(pk__in=list(member_ids))
        if console_groups:
            q |= Q(groups__in=list(console_groups))
        by_email: dict[int, str] = {}
        if emails or domains:
            addr = EmailAddress.objects.filter(verified=True, user__memberships__workspace_id=ws)
            dq = Q(email__in=[])
            for e in emails:
                dq |= Q(email__iexact=e)
            for d in domains:
                dq |= Q(email__iendswith="@" + d)
            for user_id, email in addr.filter(dq).values_list("user_id", "email"):
                e = email.lower()
                by_email.setdefault(
                    user_id, emails.get(e) or f"a verified email on {e.rsplit('@', 1)[-1]}"
                )
            q |= Q(user_id__in=list(by_email))
        chosen = list(memberships.filter(q).distinct())
        group_links: dict[int, int] = {}
        if console_groups:
            for mid, gid in Group.members.through.objects.filter(
                group_id__in=list(console_groups), membership_id__in=[m.pk for m in chosen]
            ).values_list("membership_id", "group_id"):
                group_links.setdefault(mid, gid)
        for m in chosen:
            if m.pk in member_ids:
                reasons[m.pk] = member_ids[m.pk]
            elif m.pk in group_links:
                reasons[m.pk] = f"member of the workspace group {console_groups[group_links[m.pk]]}"
            else:
                reasons[m.pk] = by_email.get(m.user_id, "")
    if not chosen:
        return []
    feature = registry.LIBRARIES if document.library_id is not None else registry.CONNECTORS
    decisions = decide_many(chosen[0].workspace, chosen, [feature], facts=facts)
    out = [(m, reasons[m.pk]) for m in chosen if decisions[m.pk][feature].allowed]
    out.sort(key=lambda pair: pair[0].user.email)
    return out


# Doors for URLs -------------------------------------------------------------------


def access_connection(actor: Actor, connection_id: int) -> Connection:
    qs = Connection.objects.select_related("workspace")
    return fetch_in_workspace(actor, Perm.MANAGE_CONNECTORS, qs, connection_id, "connection")


def access_document(actor: Actor, document_id: int) -> Document:
    """A document as the admins' pages see it (every document of the workspace)."""
    qs = Document.objects.select_related("connection", "library")
    return fetch_in_workspace(actor, Perm.MANAGE_CONNECTORS, qs, document_id, "document")


def access_library(actor: Actor, library_id: int) -> Library:
    qs = Library.objects.select_related("workspace")
    return fetch_in_workspace(actor, Perm.VIEW_WORKSPACE, qs, library_id, "library")
