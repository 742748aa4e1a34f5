"""The connectors section of ``manage.py bench`` (``--sections connectors``; PostgreSQL).

Reads: "may this member see this document", the retrieval filter, the newest documents a
member may see (a first and a later page), the capped count and title search, each for
three kinds of member, beside django-guardian's object permissions holding the same
grants, measured in the same run. Writes: a full sync through ``connectors.sync.run``
with an in-process provider (no HTTP; its pages built before the timing, as the COPY's
rows are) beside a raw COPY of the same rows, an incremental run with no changes, and the
memory a full sync holds while its pages are built as it reads them.

The read data (one workspace, its members with verified addresses, one Drive connection,
its groups and documents) is written with COPY once and reused by the next run of the
same sizes. Guardian's rows are derived from the documents' principal sets in SQL, so both
sides hold the same grants. Guardian is installed by console.bench_settings, which
``make bench`` uses; without it the baseline cells say so.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group as AuthGroup
from django.core.management.base import OutputWrapper
from django.db import connection, transaction
from django.db.models import Max, Min, Q, QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, MemberStatus, User, Workspace
from accounts.roles import Role
from billing.models import Plan, Subscription
from billing.services import add_month
from connectors import sync
from connectors.access import (
    LIST_CAP,
    Viewer,
    capped_count,
    decide_document,
    document_decision,
    load_viewer,
    visible_documents,
    visible_ids,
)
from connectors.models import (
    Connection,
    Document,
    GroupMember,
    HiddenDomainShares,
    LinkShares,
    Principal,
)
from connectors.models import PrincipalKind as K
from connectors.models import Provider as ProviderKind
from connectors.providers.base import Page, SourceDocument, SourceGrant, SourceGroup

SEED = 20260901
PAGE = 25
CANDIDATES = 1000
# A later page of the listing starts below this many rows (or half the member's rows).
LATER = 1000
TOPICS = (
    "roadmap budget hiring pricing security onboarding launch retention forecast "
    "migration incident compliance vendor training offsite benchmark design research "
    "contract invoice partnership quarterly strategy audit payroll analytics support "
    "release sprint customer marketing legal facilities procurement travel recruiting "
    "architecture inventory expenses revenue planning interview survey workshop "
    "dashboard checklist handbook policy proposal summary review template"
).split()
KINDS = ("notes", "plan", "draft", "deck", "report", "minutes", "brief", "sheet", "memo")
# Pages of the fake provider, as Drive lists them; its first documents are folders.
SYNC_PAGE = 1000
FOLDERS = 500
FOLDER_TYPE = "application/vnd.google-apps.folder"
# The documents' columns as the sync writes them, and the empty file of a synced document.
DOCUMENT_COLUMNS = [*sync.COLUMNS, "file"]


# --- Measuring -----------------------------------------------------------------------------


@dataclass
class Figure:
    median_ms: float
    p95_ms: float
    queries: int
    note: str = ""

    def cells(self) -> list[str]:
        if self.note:
            return [self.note, "", ""]
        return [f"{self.median_ms:.2f}", f"{self.p95_ms:.2f}", str(self.queries)]


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def measure(call: Callable[[int], object], n: int, warmup: int) -> Figure:
    """``call(i)`` for i in 0..n-1, each timed, after ``warmup`` calls with inputs of
    their own (n and above); the call whose queries are counted is not timed."""
    for i in range(n, n + warmup):
        call(i)
    times: list[float] = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        call(0)
    return Figure(statistics.median(times), p95(times), len(ctx.captured_queries))


# --- The read dataset ----------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Who is who, from the sizes alone, so that a reused dataset needs no bookkeeping.

    Members are corp people first, then contractors (in no group, on a domain no document
    names: they see their own documents only), then guests of a partner domain (in the
    partners group and a few small ones). Groups 0 to 4 are large: everyone (80% of the
    corp people, shared on 40% of the documents), three departments and the partners;
    the others are small teams."""

    documents: int
    members: int
    groups: int

    @property
    def slug(self) -> str:
        return f"bench-acl-{self.documents}d-{self.members}m-{self.groups}g"

    @property
    def guests(self) -> int:
        return max(1, self.members // 100)

    @property
    def contractors(self) -> int:
        return max(1, self.members // 100)

    @property
    def corp(self) -> int:
        return self.members - self.guests - self.contractors

    def domain(self, kind: str) -> str:
        return f"{kind}.{self.slug}.test"

    def email(self, i: int) -> str:
        if i < self.corp:
            return f"m{i:06d}@{self.domain('corp')}"
        if i < self.corp + self.contractors:
            return f"c{i:06d}@{self.domain('contractor')}"
        return f"g{i:06d}@{self.domain('partner')}"

    # The three kinds of member measured.
    @property
    def wide(self) -> int:
        return self.corp // 10

    @property
    def own(self) -> int:
        return self.corp

    @property
    def guest(self) -> int:
        return self.corp + self.contractors

    def big_groups(self) -> list[tuple[str, float, range]]:
        """(name, share of the documents, members) of groups 0 to 4."""
        c, g0 = self.corp, self.corp + self.contractors
        return [
            ("everyone", 0.40, range(0, c * 8 // 10)),
            ("engineering", 0.05, range(c * 2 // 10, c * 7 // 10)),
            ("platform", 0.03, range(c * 4 // 10, c * 7 // 10)),
            ("sales", 0.02, range(c * 6 // 10, c * 8 // 10)),
            ("partners", 0.025, range(c * 8 // 10, c * 84 // 100)),
        ] + [("", 0.0, range(g0, self.members))]


def _tsv(value: object) -> str:
    """A value of COPY's text format; the bench writes no tab, newline or backslash."""
    if value is None:
        return "\\N"
    if isinstance(value, list):
        return "{" + ",".join(str(v) for v in value) + "}"
    return str(value)


def _copy(table: str, columns: Sequence[str], rows: Iterator[Sequence[object]]) -> int:
    """COPY rows into a table, in chunks of text; the number of rows."""
    n = 0
    with connection.cursor() as cursor:
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with cursor.copy(sql) as copy:
            chunk: list[str] = []
            for row in rows:
                chunk.append("\t".join(_tsv(v) for v in row))
                n += 1
                if len(chunk) >= 5000:
                    copy.write("\n".join(chunk) + "\n")
                    chunk = []
            if chunk:
                copy.write("\n".join(chunk) + "\n")
    return n


def _guardian() -> bool:
    return apps.is_installed("guardian")


@dataclass
class Dataset:
    layout: Layout
    workspace: Workspace
    connection: Connection
    acl_entries: int
    built_in: float | None = None
    guardian_rows: int = 0
    guardian_built_in: float | None = None


def ensure_dataset(out: OutputWrapper, layout: Layout) -> Dataset:
    ws = Workspace.objects.filter(slug=layout.slug).first()
    built_in = None
    if ws is None:
        out.write(f"Creating workspace {layout.slug} (documents by COPY) ...")
        started = time.perf_counter()
        with transaction.atomic():
            ws = _create(layout)
        _vacuum(Document, Principal, GroupMember, Membership, EmailAddress, User)
        built_in = time.perf_counter() - started
        out.write(f"  created in {built_in:.1f} s")
    else:
        out.write(f"Reusing the data of workspace {layout.slug}")
    conn = Connection.objects.get(workspace=ws)
    # Fresh, whenever the data was made: documents are shown only from a recent sync.
    Connection.objects.filter(pk=conn.pk).update(last_success_at=timezone.now())
    conn.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce(sum(cardinality(principals)), 0) FROM {Document._meta.db_table} "  # noqa: S608
            "WHERE workspace_id = %s",
            [ws.pk],
        )
        (entries,) = cursor.fetchone()
    data = Dataset(layout, ws, conn, int(entries), built_in)
    if _guardian():
        _ensure_guardian(out, data)
    return data


def _vacuum(*models: Any) -> None:
    """Index-only scans need the visibility map, and the planner fresh statistics."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def _create(layout: Layout) -> Workspace:
    rng = random.Random(SEED)
    now = timezone.now()
    password = make_password(None)  # unusable: nobody signs in
    users = User.objects.bulk_create(
        (
            User(email=layout.email(i), name=f"Member {i}", password=password)
            for i in range(layout.members)
        ),
        batch_size=5000,
    )
    EmailAddress.objects.bulk_create(
        (EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users),
        batch_size=5000,
    )
    ws = Workspace.objects.create(
        name=f"Bench {layout.documents:,} documents", slug=layout.slug, created_by=users[0]
    )
    # A plan that includes connectors and has no seat limit, set as the data is.
    Subscription.objects.create(
        workspace=ws,
        plan=Plan.objects.get(slug="enterprise"),
        started_at=now,
        current_period_start=now,
        current_period_end=add_month(now),
    )
    Membership.objects.bulk_create(
        (
            Membership(workspace=ws, user=u, role=Role.OWNER if i == 0 else Role.MEMBER)
            for i, u in enumerate(users)
        ),
        batch_size=5000,
    )
    conn = Connection.objects.create(
        workspace=ws,
        provider=ProviderKind.GOOGLE_DRIVE,
        account=f"admin@{layout.domain('corp')}",
        display_name="Bench Drive",
        created_by=users[0],
        last_success_at=now,
        cursor="bench",
    )

    def principal(kind: str, key: str, label: str = "") -> Principal:
        return Principal(workspace=ws, connection=conn, kind=kind, key=key, label=label)

    emails = Principal.objects.bulk_create(
        (principal(K.EMAIL, layout.email(i), layout.email(i)) for i in range(layout.members)),
        batch_size=5000,
    )
    big = layout.big_groups()
    group_names = [name for name, _, _ in big[:5]] + [
        f"team-{g:04d}" for g in range(5, layout.groups)
    ]
    groups = Principal.objects.bulk_create(
        principal(K.SOURCE_GROUP, f"grp{g:04d}", f"{name}@{layout.domain('corp')}")
        for g, name in enumerate(group_names)
    )
    corp_domain, *_ = Principal.objects.bulk_create(
        principal(K.DOMAIN, layout.domain(kind), layout.domain(kind))
        for kind in ("corp", "contractor", "partner")
    )
    # Group expansion as a completed sync leaves it: about five groups a member.
    members_of: list[set[int]] = [set(r) for _, _, r in big[:5]]
    members_of[4].update(big[5][2])
    members_of += [set() for _ in range(5, layout.groups)]
    small = list(range(5, layout.groups))
    for i in range(layout.members):
        if layout.corp <= i < layout.corp + layout.contractors:
            continue
        k = 3 + (rng.random() < 0.15)
        for g in rng.sample(small, min(k, len(small))):
            members_of[g].add(i)
    GroupMember.objects.bulk_create(
        (
            GroupMember(connection=conn, group=groups[g], member=emails[i], staged=False)
            for g, people in enumerate(members_of)
            for i in sorted(people)
        ),
        batch_size=5000,
    )

    # Documents: the owner, the large groups by their share, 0 to 3 small teams, now and
    # then a colleague or the corp domain; modified over three years, in no order.
    span = 3 * 365 * 86400
    base = now.timestamp()
    shares = [(g, share) for g, (_, share, _) in enumerate(big[:5])]
    domain_label = layout.domain("corp")

    def documents() -> Iterator[Sequence[object]]:
        for n in range(layout.documents):
            owner = rng.randrange(layout.members)
            acl: list[dict[str, object]] = [
                {
                    "kind": "user",
                    "value": layout.email(owner),
                    "role": "owner",
                    "principal": emails[owner].pk,
                }
            ]
            chosen = [g for g, share in shares if rng.random() < share]
            r = rng.random()
            k = 0 if r < 0.20 else 1 if r < 0.58 else 2 if r < 0.90 else 3
            chosen += rng.sample(small, min(k, len(small)))
            for g in chosen:
                acl.append(
                    {
                        "kind": "group",
                        "value": groups[g].key,
                        "role": "reader",
                        "principal": groups[g].pk,
                    }
                )
            if rng.random() < 0.15:
                other = rng.randrange(layout.members)
                acl.append(
                    {
                        "kind": "user",
                        "value": layout.email(other),
                        "role": "writer",
                        "principal": emails[other].pk,
                    }
                )
            if rng.random() < 0.005:
                acl.append(
                    {
                        "kind": "domain",
                        "value": domain_label,
                        "role": "reader",
                        "principal": corp_domain.pk,
                    }
                )
            ids = sorted({int(str(e["principal"])) for e in acl})
            title = f"{rng.choice(TOPICS).capitalize()} {rng.choice(KINDS)} {n}"
            modified = datetime.fromtimestamp(base - rng.random() * span, UTC)
            yield (
                ws.pk,
                conn.pk,
                f"doc{n:08d}",
                title,
                "file",
                "application/vnd.google-apps.document",
                f"https://docs.example/d/doc{n:08d}",
                rng.randrange(1000, 5_000_000),
                "",
                f"/Shared/{group_names[chosen[0]] if chosen else 'My Drive'}",
                modified.isoformat(),
                layout.email(owner),
                ids,
                None,
                json.dumps(acl, separators=(",", ":")),
                None,
                now.isoformat(),
                "",
            )

    _copy(
        Document._meta.db_table,
        DOCUMENT_COLUMNS,
        documents(),
    )
    return ws


def _ensure_guardian(out: OutputWrapper, data: Dataset) -> None:
    """Guardian's rows for the same grants: a user permission for each email principal of
    a document, a group permission for each source group and domain (a guardian group per
    source group, with the same people, and per domain, with its members)."""
    from guardian.models import GroupObjectPermission, UserObjectPermission  # noqa: PLC0415

    prefix = f"{data.layout.slug}:"
    if AuthGroup.objects.filter(name__startswith=prefix).exists():
        data.guardian_rows = int(
            UserObjectPermission.objects.filter(user__email__endswith=f".{data.layout.slug}.test")
            .order_by()
            .count()
            + GroupObjectPermission.objects.filter(group__name__startswith=prefix).count()
        )
        return
    out.write("Writing guardian's object permissions for the same grants ...")
    started = time.perf_counter()
    from django.contrib.auth.models import Permission  # noqa: PLC0415
    from django.contrib.contenttypes.models import ContentType  # noqa: PLC0415

    ct = ContentType.objects.get_for_model(Document)
    perm = Permission.objects.get(content_type=ct, codename="view_document")
    conn = data.connection
    principal = Principal._meta.db_table
    with transaction.atomic():
        AuthGroup.objects.bulk_create(
            (
                AuthGroup(name=f"{prefix}{pid}")
                for pid in Principal.objects.filter(
                    connection=conn, kind__in=[K.SOURCE_GROUP, K.DOMAIN]
                ).values_list("pk", flat=True)
            ),
            batch_size=5000,
        )
        statements = [
            "CREATE TEMP TABLE bench_pmap "
            "(principal_id bigint PRIMARY KEY, user_id bigint, group_id int) ON COMMIT DROP",
            f"INSERT INTO bench_pmap SELECT p.id, u.id, NULL FROM {principal} p "  # noqa: S608
            f"JOIN {User._meta.db_table} u ON u.email = p.key "
            f"WHERE p.connection_id = {conn.pk} AND p.kind = 'email'",
            f"INSERT INTO bench_pmap SELECT p.id, NULL, g.id FROM {principal} p "  # noqa: S608
            f"JOIN {AuthGroup._meta.db_table} g ON g.name = '{prefix}' || p.id::text "
            f"WHERE p.connection_id = {conn.pk}",
            "ANALYZE bench_pmap",
            # People of each source group, and of each domain.
            f"INSERT INTO {User.groups.through._meta.db_table} (user_id, group_id) "  # noqa: S608
            f"SELECT m.user_id, g.group_id FROM {GroupMember._meta.db_table} gm "
            "JOIN bench_pmap m ON m.principal_id = gm.member_id "
            "JOIN bench_pmap g ON g.principal_id = gm.group_id "
            f"WHERE gm.connection_id = {conn.pk} AND NOT gm.staged",
            f"INSERT INTO {User.groups.through._meta.db_table} (user_id, group_id) "  # noqa: S608
            f"SELECT m.user_id, g.group_id FROM {principal} p "
            "JOIN bench_pmap m ON m.principal_id = p.id "
            f"JOIN {principal} d ON d.connection_id = {conn.pk} AND d.kind = 'domain' "
            "AND d.key = split_part(p.key, '@', 2) "
            "JOIN bench_pmap g ON g.principal_id = d.id "
            f"WHERE p.connection_id = {conn.pk} AND p.kind = 'email'",
            f"INSERT INTO {UserObjectPermission._meta.db_table} "  # noqa: S608
            "(object_pk, content_type_id, permission_id, user_id) "
            f"SELECT d.id::text, {ct.pk}, {perm.pk}, m.user_id "
            f"FROM {Document._meta.db_table} d CROSS JOIN LATERAL unnest(d.principals) AS p(id) "
            "JOIN bench_pmap m ON m.principal_id = p.id "
            f"WHERE d.workspace_id = {data.workspace.pk} AND m.user_id IS NOT NULL",
            f"INSERT INTO {GroupObjectPermission._meta.db_table} "  # noqa: S608
            "(object_pk, content_type_id, permission_id, group_id) "
            f"SELECT d.id::text, {ct.pk}, {perm.pk}, m.group_id "
            f"FROM {Document._meta.db_table} d CROSS JOIN LATERAL unnest(d.principals) AS p(id) "
            "JOIN bench_pmap m ON m.principal_id = p.id "
            f"WHERE d.workspace_id = {data.workspace.pk} AND m.group_id IS NOT NULL",
        ]
        rows = 0
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                if "objectpermission" in sql.split("(")[0]:
                    rows += cursor.rowcount
    _vacuum(UserObjectPermission, GroupObjectPermission, AuthGroup, User.groups.through)
    data.guardian_rows = rows
    data.guardian_built_in = time.perf_counter() - started
    out.write(f"  {rows:,} rows in {data.guardian_built_in:.1f} s")


# --- The reads -----------------------------------------------------------------------------


@dataclass
class Member:
    label: str
    membership: Membership
    viewer: Viewer
    visible: int
    share: float
    # Where later pages start: the last row of the page before, a page apart.
    cursors: list[tuple[datetime, int]] = field(default_factory=list)
    depth: int = 0
    user: User = field(init=False)

    def __post_init__(self) -> None:
        self.user = self.membership.user

    @property
    def pages_label(self) -> str:
        last = self.depth + PAGE * (len(self.cursors) - 1)
        return (
            f"below rows {self.depth:,} to {last:,}"
            if last > self.depth
            else f"below row {self.depth:,}"
        )


def _member(data: Dataset, index: int, label: str, calls: int) -> Member:
    membership = Membership.objects.select_related("user", "workspace").get(
        workspace=data.workspace, user__email=data.layout.email(index)
    )
    assert membership.status == MemberStatus.ACTIVE
    viewer = load_viewer(membership)
    visible = visible_documents(viewer).count()
    member = Member(label, membership, viewer, visible, visible / data.layout.documents)
    member.depth = min(LATER, visible // 2)
    if member.depth >= 1:
        rows = visible_documents(viewer).values_list("modified_at", "pk")
        member.cursors = list(rows[member.depth - 1 : member.depth - 1 + PAGE * calls])[::PAGE]
    return member


def _below(qs: QuerySet[Document], at: datetime, pk: int) -> QuerySet[Document]:
    """Keyset: the rows after (``at``, ``pk``) in newest-first order. The ``<=`` bound is
    redundant and lets the (workspace, modified_at, id) index start at the cursor."""
    return qs.filter(Q(modified_at__lte=at) & (Q(modified_at__lt=at) | Q(pk__lt=pk)))


def _word(i: int) -> str:
    """Search words by call, each in about a fiftieth of the titles."""
    return TOPICS[i % len(TOPICS)]


@dataclass
class Row:
    measure: str
    member: str
    target: str
    console: Figure
    baseline: Figure


@dataclass
class Inputs:
    """What each call asks, the same for the console and for guardian."""

    checks: list[int]
    batches: list[list[int]]


READS = (
    (
        "check_warm",
        "May see this document, warm (viewer loaded; 1 fetch + decide_document)",
        "< 1 ms",
    ),
    ("check_cold", "May see this document, cold (document_decision: loads the viewer)", ""),
    ("retrieval", f"Retrieval filter of {CANDIDATES:,} candidate ids (visible_ids)", "< 10 ms"),
    ("first", f"{PAGE} newest visible, first page", "< 10 ms"),
    ("later", f"{PAGE} newest visible, keyset pages", "< 10 ms"),
    ("count", "Visible count capped at 1,000 (capped_count)", "< 10 ms"),
    (
        "search",
        f"Title search in the visible set (a word of 2% of titles), {PAGE} newest",
        "< 30 ms",
    ),
)


def measure_reads(data: Dataset, n: int, warmup: int) -> tuple[list[Member], list[Row], str]:
    layout = data.layout
    calls = n + warmup
    members = [
        _member(data, layout.wide, "wide: a huge group", calls),
        _member(data, layout.guest, "guest", calls),
        _member(data, layout.own, "own grants only", calls),
    ]
    bounds = Document.objects.filter(workspace=data.workspace).aggregate(Min("pk"), Max("pk"))
    low, high = int(bounds["pk__min"]), int(bounds["pk__max"])
    rng = random.Random(SEED + 1)
    batches = [[rng.randint(low, high) for _ in range(CANDIDATES)] for _ in range(calls)]
    guardian = _guardian()
    missing = Figure(0, 0, 0, "guardian not installed")
    rows: list[Row] = []
    agreement: list[str] = []
    ids = Document.objects.filter(workspace=data.workspace).values_list("pk", flat=True)
    anyone = list(ids.filter(pk__in=[i for batch in batches[:2] for i in batch]))
    rng.shuffle(anyone)
    for m in members:
        viewer = m.viewer
        # Documents to check: half among those the member sees, half any.
        seen = visible_ids(viewer, batches[0]) or [
            pk for _, pk in visible_documents(viewer).values_list("modified_at", "pk")[:calls]
        ]
        checks = [
            seen[i % len(seen)] if i % 2 == 0 and seen else anyone[i % len(anyone)]
            for i in range(calls)
        ]
        inputs = Inputs(checks, batches)
        cursors = m.cursors

        def warm(i: int, viewer: Viewer = viewer, checks: list[int] = checks) -> object:
            # The fetch of document_decision, the viewer already loaded.
            doc = Document.objects.get(pk=checks[i], workspace_id=viewer.workspace_id)
            return decide_document(viewer, doc)

        def cold(i: int, m: Member = m, checks: list[int] = checks) -> object:
            return document_decision(m.membership, checks[i])

        def retrieval(i: int, viewer: Viewer = viewer) -> list[int]:
            return visible_ids(viewer, batches[i])

        def first(i: int, viewer: Viewer = viewer) -> list[Document]:
            return list(visible_documents(viewer)[:PAGE])

        def later(i: int, viewer: Viewer = viewer, cursors: list[Any] = cursors) -> object:
            at, pk = cursors[i % len(cursors)]
            return list(_below(visible_documents(viewer), at, pk)[:PAGE])

        def count(i: int, viewer: Viewer = viewer) -> object:
            return capped_count(visible_documents(viewer))

        def search(i: int, viewer: Viewer = viewer) -> object:
            return list(visible_documents(viewer).filter(title__icontains=_word(i))[:PAGE])

        console = {
            "check_warm": measure(warm, n, warmup),
            "check_cold": measure(cold, n, warmup),
            "retrieval": measure(retrieval, n, warmup),
            "first": measure(first, n, warmup),
            "count": measure(count, n, warmup),
            "search": measure(search, n, warmup),
        }
        if cursors:
            console["later"] = measure(later, n, warmup)
        base: dict[str, Figure] = {}
        if guardian:
            base, same = _guardian_reads(m, inputs, n, warmup, retrieval(0), first(0))
            agreement.append(f"{m.label}: {'same' if same else 'DIFFERENT'}")
        for key, label, target in READS:
            if key not in console:
                continue
            if key == "later":
                label = f"{label} {m.pages_label}"
            rows.append(Row(label, m.label, target, console[key], base.get(key, missing)))
    return members, rows, "; ".join(agreement)


def _guardian_reads(
    m: Member,
    inputs: Inputs,
    n: int,
    warmup: int,
    console_ids: list[int],
    console_page: list[Document],
) -> tuple[dict[str, Figure], bool]:
    """The same questions through guardian: a new ObjectPermissionChecker per check, and
    get_objects_for_user ordered, filtered and sliced as the console's lists are."""
    from guardian.core import ObjectPermissionChecker  # noqa: PLC0415
    from guardian.shortcuts import get_objects_for_user  # noqa: PLC0415

    user = m.user
    ws_id = m.viewer.workspace_id

    def objects() -> QuerySet[Document]:
        qs = get_objects_for_user(user, "connectors.view_document", Document)
        return qs.order_by("-modified_at", "-id")

    def check(i: int) -> object:
        doc = Document.objects.get(pk=inputs.checks[i], workspace_id=ws_id)
        return ObjectPermissionChecker(user).has_perm("view_document", doc)

    def retrieval(i: int) -> list[int]:
        return sorted(objects().filter(pk__in=inputs.batches[i]).values_list("pk", flat=True))

    def first(i: int) -> list[Document]:
        return list(objects()[:PAGE])

    def later(i: int) -> object:
        at, pk = m.cursors[i % len(m.cursors)]
        return list(_below(objects(), at, pk)[:PAGE])

    def count(i: int) -> object:
        found = objects().order_by().values("pk")[: LIST_CAP + 1].count()
        return min(found, LIST_CAP), found > LIST_CAP

    def search(i: int) -> object:
        return list(objects().filter(title__icontains=_word(i))[:PAGE])

    same = retrieval(0) == console_ids and [d.pk for d in first(0)] == [d.pk for d in console_page]
    out = {
        "check_warm": measure(check, n, warmup),
        "retrieval": measure(retrieval, n, warmup),
        "first": measure(first, n, warmup),
        "count": measure(count, n, warmup),
        "search": measure(search, n, warmup),
    }
    # Guardian has one check: it loads nothing beforehand.
    out["check_cold"] = out["check_warm"]
    if m.cursors:
        out["later"] = measure(later, n, warmup)
    return out, same


# --- The sync ------------------------------------------------------------------------------


class FakeProvider:
    """An in-process source, ``connectors.providers.base.Provider``: documents in pages of
    1,000, each shared with its owner, a group and a colleague (or, one in ten, the
    domain), and groups of people (one in ten holds another group); no HTTP. Everything is
    derived from the document's number, so the source is the same on every run."""

    def __init__(self, documents: int, groups: int, domain: str, people: int = 5000) -> None:
        self.documents = documents
        self.n_groups = max(1, groups)
        self.domain = domain
        self.people = max(2, people)
        self.base = datetime(2026, 1, 1, tzinfo=UTC)
        self.prepared: list[Page] = []

    def person(self, k: int) -> str:
        return f"p{k:05d}@{self.domain}"

    def group_id(self, g: int) -> str:
        return f"sg{g:04d}"

    def start_cursor(self) -> str:
        return "cursor-1"

    def parent(self, i: int) -> str:
        """The first FOLDERS documents are a tree of folders; the others sit in them."""
        if i == 0:
            return "root"
        return f"f{((i - 1) // 5 if i < FOLDERS else i % FOLDERS):08d}"

    def title(self, i: int) -> str:
        return f"{TOPICS[i % len(TOPICS)].capitalize()} {KINDS[i % len(KINDS)]} {i}"

    def document(self, i: int) -> SourceDocument:
        owner = (i * 7919) % self.people
        colleague = (owner + 1 + i % (self.people - 1)) % self.people
        third = (
            SourceGrant("domain", self.domain, "reader")
            if i % 10 == 0
            else SourceGrant("user", self.person(colleague), "writer")
        )
        return SourceDocument(
            source_id=f"f{i:08d}",
            title=self.title(i),
            modified_at=self.base - timedelta(seconds=(i * 7727) % (3 * 365 * 86400)),
            kind="folder" if i < FOLDERS else "file",
            mime_type=FOLDER_TYPE if i < FOLDERS else "application/vnd.google-apps.document",
            web_url=f"https://docs.example/d/f{i:08d}",
            size=None if i < FOLDERS else 1000 + i % 100_000,
            parent_source_id=self.parent(i),
            owner_email=self.person(owner),
            grants=[
                SourceGrant("user", self.person(owner), "owner"),
                SourceGrant("group", self.group_id((i * 104729) % self.n_groups), "reader"),
                third,
            ],
        )

    def prepare(self) -> None:
        """Build the pages now, so that a timed run measures the sync, not the source
        (the COPY baseline's rows are built before it is timed, too)."""
        self.prepared = list(self.list_all(""))

    def list_all(self, checkpoint: str) -> Iterator[Page]:
        if self.prepared and not checkpoint:
            yield from self.prepared
            return
        for first in range(int(checkpoint or 0), self.documents, SYNC_PAGE):
            last = min(first + SYNC_PAGE, self.documents)
            done = last >= self.documents
            yield Page(
                documents=[self.document(i) for i in range(first, last)],
                checkpoint="" if done else str(last),
                next_cursor=self.start_cursor() if done else "",
            )

    def changes(self, cursor: str, checkpoint: str) -> Iterator[Page]:
        yield Page(next_cursor=cursor)

    def groups(self) -> Iterator[SourceGroup]:
        per = max(1, self.people // self.n_groups)
        for g in range(self.n_groups):
            nested = (self.group_id(g + 1),) if g % 10 == 0 and g + 1 < self.n_groups else ()
            yield SourceGroup(
                self.group_id(g),
                f"group{g:04d}@{self.domain}",
                tuple(self.person((g * per + k) % self.people) for k in range(per)),
                nested,
            )

    def revoke(self) -> None:
        return None


@dataclass
class SyncFigures:
    documents: int
    entries: int
    groups: int
    full_s: float
    full_pages: list[float]
    copy_s: float
    copy_pages: list[float]
    incremental: list[float]
    peak_first_mb: float
    peak_all_mb: float
    first_docs: int
    remap_s: float
    remapped: int


def _sync_workspace() -> Workspace:
    ws, created = Workspace.objects.get_or_create(
        slug="bench-sync", defaults={"name": "Bench sync"}
    )
    if created:
        # On a plan with connectors, as a workspace that syncs is.
        now = timezone.now()
        Subscription.objects.create(
            workspace=ws,
            plan=Plan.objects.get(slug="enterprise"),
            started_at=now,
            current_period_start=now,
            current_period_end=add_month(now),
        )
    return ws


def _sync_cleanup(ws: Workspace) -> None:
    if Connection.objects.filter(workspace=ws).exists():
        Connection.objects.filter(workspace=ws).delete()
        _vacuum(Document, Principal, GroupMember)


def _new_connection(ws: Workspace, name: str) -> Connection:
    return Connection.objects.create(
        workspace=ws,
        provider=ProviderKind.GOOGLE_DRIVE,
        account=f"{name}@sync.bench.test",
        display_name=f"Bench {name}",
    )


def _copy_baseline(ws: Workspace, source: FakeProvider) -> tuple[float, list[float]]:
    """The rows the sync writes (principals, group members, documents with their
    principal sets and access lists), prepared first, then written by COPY: principals,
    the groups' expansion, and the documents in pages of 1,000, each page its own
    transaction as the sync's are. Only the writing is timed."""
    conn = _new_connection(ws, "copy")
    groups = {g.source_id: g for g in source.groups()}
    expansion = sync.expand(groups)
    people = sorted(
        {e for p in expansion.values() for e in p}
        | {source.person(k) for k in range(source.people)}
    )
    principal_rows = (
        [(ws.pk, conn.pk, K.SOURCE_GROUP, gid, g.label) for gid, g in groups.items()]
        + [(ws.pk, conn.pk, K.EMAIL, e, e) for e in people]
        + [(ws.pk, conn.pk, K.DOMAIN, source.domain, source.domain)]
    )
    docs = [source.document(i) for i in range(source.documents)]
    started = time.perf_counter()
    _copy(
        Principal._meta.db_table,
        ["workspace_id", "connection_id", "kind", "key", "label"],
        iter(principal_rows),
    )
    ids = {
        (kind, key): pid
        for pid, kind, key in Principal.objects.filter(connection=conn).values_list(
            "pk", "kind", "key"
        )
    }
    _copy(
        GroupMember._meta.db_table,
        ["connection_id", "group_id", "member_id", "path", "staged"],
        (
            (
                conn.pk,
                ids[(K.SOURCE_GROUP, gid)],
                ids[(K.EMAIL, email)],
                json.dumps([ids[(K.SOURCE_GROUP, p)] for p in path]),
                "f",
            )
            for gid, members in expansion.items()
            for email, path in members.items()
        ),
    )
    prepare = time.perf_counter() - started
    kinds = {"user": K.EMAIL, "group": K.SOURCE_GROUP, "domain": K.DOMAIN}
    now = timezone.now().isoformat()
    pages: list[list[Sequence[object]]] = []
    for first in range(0, len(docs), SYNC_PAGE):
        page: list[Sequence[object]] = []
        for d in docs[first : first + SYNC_PAGE]:
            acl = [
                {
                    "kind": g.kind,
                    "value": g.value,
                    "role": g.role,
                    "principal": ids[(kinds[g.kind], g.value)],
                }
                for g in d.grants or []
            ]
            page.append(
                (
                    ws.pk,
                    conn.pk,
                    d.source_id,
                    d.title,
                    d.kind,
                    d.mime_type,
                    d.web_url,
                    d.size,
                    d.parent_source_id,
                    d.path,
                    d.modified_at.isoformat(),
                    d.owner_email,
                    sorted({int(str(e["principal"])) for e in acl}),
                    None,
                    json.dumps(acl, separators=(",", ":")),
                    None,
                    now,
                    "",
                )
            )
        pages.append(page)
    times: list[float] = []
    for page in pages:
        start = time.perf_counter()
        _copy(Document._meta.db_table, DOCUMENT_COLUMNS, iter(page))
        times.append(time.perf_counter() - start)
    return prepare + sum(times), times


def measure_sync(documents: int, groups: int, incremental_runs: int = 5) -> SyncFigures:
    ws = _sync_workspace()
    _sync_cleanup(ws)
    source = FakeProvider(documents, groups, "sync.bench.test")
    try:
        copy_s, copy_pages = _copy_baseline(ws, source)

        conn = _new_connection(ws, "full")
        marks: list[float] = []
        source.prepare()

        def tick(run: Any) -> None:
            marks.append(time.perf_counter())

        started = time.perf_counter()
        outcome = sync.run(conn.pk, full=True, provider=source, progress=tick)
        full_s = time.perf_counter() - started
        assert outcome.run is not None and outcome.run.status == "succeeded", outcome.message
        entries = int(outcome.run.acl_entries_written)
        # The first mark ends the groups phase; each further one, a page.
        pages = [b - a for a, b in zip(marks, marks[1:], strict=False)]
        incremental = []
        for _ in range(incremental_runs):
            started = time.perf_counter()
            again = sync.run(conn.pk, provider=source)
            incremental.append(time.perf_counter() - started)
            assert again.run is not None and again.run.kind == "incremental", again.message
            assert again.run.status == "succeeded", again.message
        # An admin maps links to the workspace and hidden domain shares to their domain.
        conn.link_shares, conn.hidden_domain_shares = (
            LinkShares.WORKSPACE,
            HiddenDomainShares.DOMAIN,
        )
        started = time.perf_counter()
        with transaction.atomic():
            remapped = sync.remap(conn)
        remap_s = time.perf_counter() - started

        source.prepared = []
        # Memory, in a run of its own (tracing slows Python down), its pages built as the
        # run reads them: the peak after the first fifth of the documents, and at the end.
        traced = _new_connection(ws, "memory")
        first_docs = max(SYNC_PAGE, documents // 5)
        peaks: dict[str, int] = {}

        def watch(run: Any) -> None:
            if run.items_seen >= first_docs and "first" not in peaks:
                peaks["first"] = tracemalloc.get_traced_memory()[1]

        tracemalloc.start()
        try:
            sync.run(traced.pk, full=True, provider=source, progress=watch)
            peaks["all"] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    finally:
        _sync_cleanup(ws)
    mb = 1024 * 1024
    return SyncFigures(
        documents=documents,
        entries=entries,
        groups=groups,
        full_s=full_s,
        full_pages=pages,
        copy_s=copy_s,
        copy_pages=copy_pages,
        incremental=incremental,
        peak_first_mb=peaks.get("first", peaks["all"]) / mb,
        peak_all_mb=peaks["all"] / mb,
        first_docs=min(first_docs, documents),
        remap_s=remap_s,
        remapped=remapped,
    )


# --- The section ---------------------------------------------------------------------------


def run(
    out: OutputWrapper,
    *,
    documents: int,
    members: int,
    groups: int,
    sync_documents: int,
    sync_groups: int,
    n: int,
    warmup: int,
) -> None:
    if connection.vendor != "postgresql":
        out.write("\nConnectors: measured on PostgreSQL only (its indexes are the subject).\n")
        return
    layout = Layout(documents=max(100, documents), members=max(20, members), groups=max(6, groups))
    data = ensure_dataset(out, layout)
    chosen, rows, agreement = measure_reads(data, n, warmup)
    _print_reads(out, data, chosen, rows, agreement, n)
    figures = measure_sync(max(SYNC_PAGE, sync_documents), max(1, sync_groups))
    _print_sync(out, figures)


def _print_reads(
    out: OutputWrapper,
    data: Dataset,
    chosen: list[Member],
    rows: list[Row],
    agreement: str,
    n: int,
) -> None:
    layout = data.layout
    memberships = GroupMember.objects.filter(connection=data.connection, staged=False).count()
    guardian = (
        f"guardian: {data.guardian_rows:,} user and group object permissions for the same "
        "grants, a guardian group per source group and per domain"
        if _guardian()
        else "guardian is not installed (make bench installs it: console.bench_settings)"
    )
    out.write(
        f"\nConnectors on {connection.vendor}: one workspace of {layout.documents:,} documents, "
        f"{layout.members:,} members with a verified email each, {layout.groups:,} source groups "
        f"({memberships:,} memberships), {data.acl_entries:,} ACL entries; {guardian}. "
        f"{n} calls each (each call a new document, candidate batch, page or word, except the "
        "first page and the count), time in ms through the ORM, queries per call; the "
        "guardian check fetches the document too, with a new ObjectPermissionChecker each "
        "time, and its lists are get_objects_for_user ordered and sliced the same way.\n\n"
    )
    if agreement:
        out.write(
            f"Guardian's answers beside the console's (one candidate batch, the first page): "
            f"{agreement}.\n\n"
        )
    for m in chosen:
        out.write(
            f"- {m.label}: {m.user.email} holds {len(m.viewer.holdings)} principals and sees "
            f"{m.visible:,} documents ({100 * m.share:.1f}%)\n"
        )
    out.write(
        "\n| Measure | Member | Target p95 | Console median | Console p95 | Console queries "
        "| Guardian median | Guardian p95 | Guardian queries |\n"
    )
    out.write("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
    for row in rows:
        out.write(
            "| "
            + " | ".join(
                [row.measure, row.member, row.target, *row.console.cells(), *row.baseline.cells()]
            )
            + " |\n"
        )


def _print_sync(out: OutputWrapper, f: SyncFigures) -> None:
    def rate(seconds: float) -> str:
        return f"{f.documents / seconds:,.0f}" if seconds else ""

    def ms(values: Sequence[float]) -> list[str]:
        if not values:
            return ["", ""]
        return [f"{1000 * statistics.median(values):.1f}", f"{1000 * p95(values):.1f}"]

    inc = statistics.median(f.incremental)
    out.write(
        f"\nSync on {connection.vendor}: {f.documents:,} documents with {f.entries:,} grants and "
        f"{f.groups:,} groups, through connectors.sync.run with an in-process provider "
        f"(pages of {SYNC_PAGE:,} SourceDocuments, no HTTP), beside a raw COPY of the same "
        "rows (principals, group members, then the documents in pages of 1,000, each its own "
        "transaction) into the same tables, in the same run; a workspace of its own.\n\n"
    )
    out.write("| Sync | Seconds | Documents per second | Page median ms | Page p95 ms | Target |\n")
    out.write("| --- | ---: | ---: | ---: | ---: | --- |\n")
    out.write(
        "| "
        + " | ".join(
            [
                "Full sync (connectors.sync.run)",
                f"{f.full_s:.1f}",
                rate(f.full_s),
                *ms(f.full_pages),
                f"at least half of COPY: {f.copy_s / f.full_s:.0%} of it",
            ]
        )
        + " |\n"
    )
    out.write(
        "| "
        + " | ".join(
            [
                "Raw COPY of the same rows (baseline)",
                f"{f.copy_s:.1f}",
                rate(f.copy_s),
                *ms(f.copy_pages),
                "",
            ]
        )
        + " |\n"
    )
    out.write(
        "| "
        + " | ".join(
            [
                f"Incremental sync, no changes (median, p95 of {len(f.incremental)} runs)",
                f"{inc:.2f} (p95 {p95(f.incremental):.2f})",
                "",
                "",
                "",
                f"20x faster than the full sync: {f.full_s / inc:,.0f}x",
            ]
        )
        + " |\n"
    )
    out.write(
        f"| Links and hidden domain shares mapped to someone (connectors.sync.remap, "
        f"{f.remapped:,} documents changed) | {f.remap_s:.2f} | {rate(f.remap_s)} | | | |\n"
    )
    out.write("\n| Memory of a full sync | MB |\n| --- | ---: |\n")
    out.write(
        f"| Peak Python heap (tracemalloc, a traced run), first {f.first_docs:,} documents "
        f"| {f.peak_first_mb:.1f} |\n"
    )
    out.write(
        f"| Peak Python heap (tracemalloc, the same run), all {f.documents:,} documents "
        f"| {f.peak_all_mb:.1f} |\n"
    )
