"""``manage.py bench``: page times at scale, beside the stock admin as the baseline.

Builds (once; a second run with the same sizes reuses it) a workspace with many
members, groups, invitations and audit events, then requests the console's pages and
the Django admin changelists of the same rows in the same run, through Django's test
client, and prints a markdown table of median and p95 server time and query counts.

``--sections`` chooses what runs: ``pages`` (the default: the pages and the service API),
``connectors`` (console.bench_connectors: document access and sync at scale, beside
django-guardian; PostgreSQL) and ``agents`` (console.bench_agents: the agents page's lists
and the service API's agent list and fetch at scale, beside a bare view and the admin;
PostgreSQL).

``make bench`` runs it on PostgreSQL (DATABASE_URL); the command creates the database
and its schema when they are missing.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.actor import Actor
from accounts.audit import Action, Cursor
from accounts.models import (
    AuditEvent,
    Group,
    Invitation,
    InvitationStatus,
    Membership,
    MemberStatus,
    User,
    Workspace,
)
from accounts.roles import Role
from api.models import SHOWN_CHARS, ServiceToken, hash_token, new_raw_token
from billing.models import Plan, Subscription
from billing.selectors import current_subscription
from billing.services import add_month, subscription_start
from console import bench_agents, bench_connectors, bench_urls
from features.models import FeatureOptOut, FeatureRule

SECTIONS = ("pages", "connectors", "agents")


@dataclass
class Timing:
    status: int
    median_ms: float
    p95_ms: float
    queries: int
    # The weight of the answer's body (the HTML), which the browser downloads and parses.
    size: int = 0

    def cells(self) -> list[str]:
        if self.status != 200:
            return [f"HTTP {self.status}", "", "", ""]
        return [
            f"{self.median_ms:.1f}",
            f"{self.p95_ms:.1f}",
            str(self.queries),
            f"{self.size / 1024:,.1f}",
        ]


class Command(BaseCommand):
    help = "Measure the console's pages at scale beside the Django admin (prints a markdown table)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=int, default=10_000)
        parser.add_argument("--groups", type=int, default=100)
        parser.add_argument("--invitations", type=int, default=1_000)
        parser.add_argument("--events", type=int, default=100_000)
        parser.add_argument("--requests", type=int, default=50, help="Measured requests per page.")
        parser.add_argument(
            "--warmup", type=int, default=3, help="Unmeasured requests per page first."
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="Skip creating or updating the schema."
        )
        parser.add_argument(
            "--sections",
            default="pages",
            help=f"Comma-separated, of {', '.join(SECTIONS)} (default: pages).",
        )
        # The connectors section's sizes.
        parser.add_argument("--documents", type=int, default=1_000_000)
        parser.add_argument("--acl-members", type=int, default=10_000)
        parser.add_argument("--acl-groups", type=int, default=1_000)
        parser.add_argument("--sync-documents", type=int, default=100_000)
        parser.add_argument("--sync-groups", type=int, default=100)
        # The agents section's sizes.
        parser.add_argument("--agents", type=int, default=20_000)
        parser.add_argument("--agent-members", type=int, default=10_000)
        parser.add_argument("--agent-groups", type=int, default=1_000)

    def handle(self, *args: Any, **opts: Any) -> None:
        sections = [s.strip() for s in opts["sections"].split(",") if s.strip()]
        unknown = sorted(set(sections) - set(SECTIONS))
        if unknown or not sections:
            raise CommandError(f"Unknown sections {unknown}; choose among {', '.join(SECTIONS)}.")
        if not opts["no_migrate"]:
            self._ensure_database()
            call_command("migrate", interactive=False, verbosity=0)
        if "pages" in sections:
            self._pages(opts)
        if "connectors" in sections:
            bench_connectors.run(
                self.stdout,
                documents=opts["documents"],
                members=opts["acl_members"],
                groups=opts["acl_groups"],
                sync_documents=opts["sync_documents"],
                sync_groups=opts["sync_groups"],
                n=max(1, opts["requests"]),
                warmup=max(0, opts["warmup"]),
            )
        if "agents" in sections:
            bench_agents.run(
                self.stdout,
                agents=opts["agents"],
                members=opts["agent_members"],
                groups=opts["agent_groups"],
                n=max(1, opts["requests"]),
                warmup=max(0, opts["warmup"]),
            )

    def _pages(self, opts: dict[str, Any]) -> None:
        sizes = {k: opts[k] for k in ("members", "groups", "invitations", "events")}
        if sizes["members"] < 2:
            sizes["members"] = 2
        ws, owner, staff = self._dataset(**sizes)
        if current_subscription(ws) is None:
            # Data built before workspaces had plans: decide features on the Team plan.
            subscription_start(
                actor=Actor.system(), workspace=ws, plan=Plan.objects.get(slug="team")
            )

        console_client = Client(raise_request_exception=False)
        console_client.force_login(owner)
        admin_client = Client(raise_request_exception=False)
        admin_client.force_login(staff)

        middle = (
            AuditEvent.objects.filter(workspace=ws)
            .order_by("-created_at", "-id")
            .only("id", "created_at")[sizes["events"] // 2 : sizes["events"] // 2 + 1]
            .first()
        )
        deep_cursor = Cursor(middle.created_at, middle.pk).encode() if middle else ""
        audit = reverse("ws:audit", args=[ws.slug])
        wsq = f"workspace__id__exact={ws.pk}"
        per_page = 50
        deep_admin_page = max(
            1, min(sizes["events"] // 2 // per_page, math.ceil(sizes["events"] / per_page))
        )
        filtered = f"action={Action.MEMBER_ROLE_CHANGED}"
        pairs = [
            (
                "Members",
                reverse("ws:members", args=[ws.slug]),
                f"{reverse('admin:accounts_membership_changelist')}?{wsq}",
            ),
            (
                "Invitations",
                reverse("ws:invitations", args=[ws.slug]),
                f"{reverse('admin:accounts_invitation_changelist')}?{wsq}",
            ),
            (
                "Audit log, first page",
                audit,
                f"{reverse('admin:accounts_auditevent_changelist')}?{wsq}",
            ),
            (
                "Audit log, filtered by action",
                f"{audit}?{filtered}",
                f"{reverse('admin:accounts_auditevent_changelist')}?{wsq}&{filtered}",
            ),
            (
                "Audit log, middle of the log",
                f"{audit}?before={deep_cursor}",
                f"{reverse('admin:accounts_auditevent_changelist')}?{wsq}&p={deep_admin_page}",
            ),
            # Every feature against the workspace, a page of groups and a page of members
            # with their decisions; the admin lists the workspace's rules.
            (
                "Features matrix",
                reverse("ws:features", args=[ws.slug]),
                f"{reverse('admin:features_featurerule_changelist')}?{wsq}",
            ),
        ]
        # The matrix draws its first block of members at once and each further block when it
        # scrolls into view: one such request, as htmx sends it, beside the same baseline.
        features = reverse("ws:features", args=[ws.slug])
        lazy = (
            "Features matrix, a block of members",
            f"{features}?block=2",
            f"{reverse('admin:features_featurerule_changelist')}?{wsq}",
        )
        lazy_headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "members-block-2"}
        n, warmup = max(1, opts["requests"]), max(0, opts["warmup"])
        rows = []
        for label, console_url, admin_url in pairs:
            rows.append(
                (
                    label,
                    self._measure(console_client, console_url, n, warmup),
                    self._measure(admin_client, admin_url, n, warmup),
                )
            )
        rows.append(
            (
                lazy[0],
                self._measure(console_client, lazy[1], n, warmup, lazy_headers),
                self._measure(admin_client, lazy[2], n, warmup),
            )
        )
        self._print(rows, sizes, n)
        self._service_api(ws, n, warmup)

    # --- Measuring ---------------------------------------------------------------------

    def _measure(
        self, client: Client, url: str, n: int, warmup: int, headers: dict[str, str] | None = None
    ) -> Timing:
        extra = headers or {}
        for _ in range(warmup):
            self._get(client, url, extra)
        times: list[float] = []
        status = 200
        for _ in range(n):
            start = time.perf_counter()
            status, _size = self._get(client, url, extra)
            times.append((time.perf_counter() - start) * 1000)
        # Queries are counted on one more request, so capturing them costs no measured time.
        with CaptureQueriesContext(connection) as ctx:
            _status, size = self._get(client, url, extra)
        ordered = sorted(times)
        p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
        return Timing(status, statistics.median(ordered), p95, len(ctx.captured_queries), size)

    @staticmethod
    def _get(client: Client, url: str, headers: dict[str, str]) -> tuple[int, int]:
        """The status and the body's size in bytes."""
        response = client.get(url, **headers)  # type: ignore[arg-type]
        if response.streaming:
            body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        else:
            body = response.content
        return response.status_code, len(body)

    def _print(self, rows: list[tuple[str, Timing, Timing]], sizes: dict[str, int], n: int) -> None:
        out = self.stdout
        out.write(
            f"\nConsole pages vs the Django admin on {connection.vendor}: {sizes['members']:,} members, "
            f"{sizes['groups']:,} groups, {sizes['invitations']:,} invitations, {sizes['events']:,} audit events; "
            f"{n} requests each, server time in ms, weight of the HTML in KB.\n\n"
        )
        out.write(
            "| Page | Console median | Console p95 | Console queries | Console KB "
            "| Admin median | Admin p95 | Admin queries | Admin KB |\n"
        )
        out.write("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
        for label, console, admin_timing in rows:
            out.write("| " + " | ".join([label, *console.cells(), *admin_timing.cells()]) + " |\n")

    # --- The service API (R-FEAT-4) ------------------------------------------------------

    def _service_api(self, ws: Workspace, n: int, warmup: int) -> None:
        """The gateway's decision call for one member, beside a bare Django view that answers a
        JSON body of the same size (console/bench_urls.py), measured in the same run."""
        raw = new_raw_token()
        token = ServiceToken.objects.create(
            name="Bench", prefix=raw[:SHOWN_CHARS], token_hash=hash_token(raw)
        )
        member = (
            Membership.objects.filter(workspace=ws, status=MemberStatus.ACTIVE, role=Role.MEMBER)
            .select_related("user")
            .order_by("pk")
            .first()
        ) or Membership.objects.select_related("user").filter(workspace=ws).order_by("pk").first()
        assert member is not None
        api_client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {raw}")
        try:
            with override_settings(ROOT_URLCONF="console.bench_urls"):
                url = reverse("api_member_features", args=[ws.slug, member.user.email])
                answer = api_client.get(url)
                bench_urls.BARE_PAYLOAD = answer.json() if answer.status_code == 200 else {}
                api_timing = self._measure(api_client, url, n, warmup)
                bare_url = reverse("bench_bare_json")
                bare_timing = self._measure(
                    Client(raise_request_exception=False), bare_url, n, warmup
                )
                bare_size = len(Client().get(bare_url).content)
        finally:
            token.delete()
        out = self.stdout
        out.write(
            f"\nService API on {connection.vendor}: one member's {len(bench_urls.BARE_PAYLOAD.get('features', []))} "
            f"feature decisions ({len(answer.content):,} bytes) beside a bare Django JSON view answering "
            f"{bare_size:,} bytes; {n} requests each, server time in ms.\n\n"
        )
        # The heading above gives both bodies' size, which is the same: no weight column.
        out.write("| Service API | Median | p95 | Queries |\n")
        out.write("| --- | ---: | ---: | ---: |\n")
        out.write(
            "| " + " | ".join(["Member features (service API)", *api_timing.cells()[:3]]) + " |\n"
        )
        out.write("| " + " | ".join(["Bare Django JSON view", *bare_timing.cells()[:3]]) + " |\n")

    # --- Data ------------------------------------------------------------------------------

    def _ensure_database(self) -> None:
        if connection.vendor != "postgresql":
            return
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            if "does not exist" not in str(exc):
                raise
            name = connection.settings_dict["NAME"]
            self.stdout.write(f"Creating database {name}")
            # The maintenance database is where CREATE DATABASE runs.
            with connection._nodb_cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')

    def _dataset(
        self, *, members: int, groups: int, invitations: int, events: int
    ) -> tuple[Workspace, User, User]:
        slug = f"bench-{members}m-{groups}g-{invitations}i-{events}e"
        domain = f"{slug}.bench.test"
        ws = Workspace.objects.filter(slug=slug).first()
        if ws is not None:
            self.stdout.write(f"Reusing the data of workspace {slug}")
            return (
                ws,
                User.objects.get(email=f"owner@{domain}"),
                User.objects.get(email=f"staff@{domain}"),
            )
        self.stdout.write(f"Creating workspace {slug} ...")
        started = time.perf_counter()
        with transaction.atomic():
            ws, owner, staff = self._create(slug, domain, members, groups, invitations, events)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(f"  created in {time.perf_counter() - started:.1f} s")
        return ws, owner, staff

    def _create(
        self, slug: str, domain: str, members: int, groups: int, invitations: int, events: int
    ) -> tuple[Workspace, User, User]:
        now = timezone.now()
        batch = 2000
        password = make_password(None)  # unusable: the bench signs in with force_login
        owner = User.objects.create(email=f"owner@{domain}", name="Bench Owner", password=password)
        staff = User.objects.create(
            email=f"staff@{domain}",
            name="Bench Staff",
            password=password,
            is_staff=True,
            is_superuser=True,
        )
        ws = Workspace.objects.create(
            name=f"Bench {members:,} members", slug=slug, created_by=owner
        )
        # A paying workspace's plan, so feature decisions walk every level as they would there
        # (created as the data is, without an audit event: the audit log has its own count).
        Subscription.objects.create(
            workspace=ws,
            plan=Plan.objects.get(slug="team"),
            started_at=now,
            current_period_start=now,
            current_period_end=add_month(now),
        )
        users = User.objects.bulk_create(
            (
                User(
                    email=f"m{i:06d}@{domain}",
                    name=f"Member {i}",
                    password=password,
                    date_joined=now - timedelta(minutes=i),
                )
                for i in range(members - 1)
            ),
            batch_size=batch,
        )
        memberships = [Membership.objects.create(workspace=ws, user=owner, role=Role.OWNER)]

        def role_of(i: int) -> int:
            return Role.ADMIN if i % 100 == 0 else Role.BILLING if i % 50 == 1 else Role.MEMBER

        memberships += Membership.objects.bulk_create(
            (
                Membership(
                    workspace=ws,
                    user=u,
                    role=role_of(i),
                    status=MemberStatus.DEACTIVATED if i % 20 == 7 else MemberStatus.ACTIVE,
                    joined_at=now - timedelta(minutes=i),
                )
                for i, u in enumerate(users)
            ),
            batch_size=batch,
        )
        group_rows = Group.objects.bulk_create(
            (Group(workspace=ws, name=f"Team {g:03d}") for g in range(groups)), batch_size=batch
        )
        if group_rows:
            through = Group.members.through
            links = []
            for i, m in enumerate(memberships):
                links.append(through(group_id=group_rows[i % groups].pk, membership_id=m.pk))
                if i % 3 == 0 and groups > 1:
                    links.append(
                        through(group_id=group_rows[(i + 1) % groups].pk, membership_id=m.pk)
                    )
            through.objects.bulk_create(links, batch_size=batch)
        self._feature_rules(ws, group_rows, memberships)
        statuses = [InvitationStatus.PENDING] * 7 + [
            InvitationStatus.ACCEPTED,
            InvitationStatus.REVOKED,
            InvitationStatus.EXPIRED,
        ]
        Invitation.objects.bulk_create(
            (
                Invitation(
                    workspace=ws,
                    email=f"invitee{i:05d}@{domain}",
                    role=Role.MEMBER,
                    status=statuses[i % len(statuses)],
                    invited_by=owner,
                    created_at=now - timedelta(hours=i),
                    sent_at=now - timedelta(hours=i),
                    expires_at=now + timedelta(days=7) - timedelta(hours=i),
                )
                for i in range(invitations)
            ),
            batch_size=batch,
        )
        actions = Action.choices()
        actors = [owner, *(u for i, u in enumerate(users) if role_of(i) == Role.ADMIN)]
        step = timedelta(days=365) / max(events, 1)
        member_emails = [u.email for u in users] or [owner.email]
        AuditEvent.objects.bulk_create(
            (
                AuditEvent(
                    workspace=ws,
                    workspace_name=ws.name,
                    actor=actors[i % len(actors)],
                    actor_email=actors[i % len(actors)].email,
                    action=actions[i % len(actions)],
                    target_type="accounts.membership",
                    target_id=str(i),
                    target_repr=member_emails[i % len(member_emails)],
                    before={"role": "Member"},
                    after={"role": "Admin"},
                    ip_address=f"10.{i % 250}.{(i // 250) % 250}.{i % 7 + 1}",
                    created_at=now - step * i,
                )
                for i in range(events)
            ),
            batch_size=batch,
        )
        return ws, owner, staff

    @staticmethod
    def _feature_rules(ws: Workspace, groups: list[Group], memberships: list[Membership]) -> None:
        """Rules at every level, as admins set them: a few for the whole workspace, some
        groups denying or allowing, some members with their own rule or switch."""
        rules = [
            FeatureRule(workspace=ws, feature="memory", effect="allow"),
            FeatureRule(workspace=ws, feature="fine_tuning", effect="deny"),
        ]
        rules += [
            FeatureRule(workspace=ws, group=g, feature="web_search", effect="deny")
            for g in groups[::10]
        ]
        rules += [
            FeatureRule(workspace=ws, group=g, feature="image_generation", effect="deny")
            for g in groups[3::7]
        ]
        rules += [
            FeatureRule(workspace=ws, group=g, feature="connectors", effect="allow")
            for g in groups[1::5]
        ]
        rules += [
            FeatureRule(workspace=ws, membership=m, feature="canvas", effect="deny")
            for m in memberships[::25]
        ]
        rules += [
            FeatureRule(workspace=ws, membership=m, feature="memory", effect="deny")
            for m in memberships[5::40]
        ]
        FeatureRule.objects.bulk_create(rules, batch_size=2000)
        FeatureOptOut.objects.bulk_create(
            (
                FeatureOptOut(workspace=ws, membership=m, feature="web_search")
                for m in memberships[2::30]
            ),
            batch_size=2000,
        )
