"""The agents section of ``manage.py bench`` (``--sections agents``; PostgreSQL).

One workspace of many members and groups and many agents with mixed sharing (a third
with the whole workspace, the rest restricted to 1 to 20 members or groups, a few
disabled by staff), read as the console and the gateway read it: the agents page's
"usable by me" list (a first page, a later one, "created by me", "all", the search that
says why an agent is not listed), the service API's list of a member's agents and its
fetch of one agent, each for several kinds of member, through Django's test client with
the real views and their authentication (session, service token). Beside them, in the
same run: a bare Django view that renders the same number of rows
(``Agent.objects.filter(workspace=...)[:25]`` in a plain template), the Django admin's
changelist of the workspace's agents, and bare JSON views of the same rows
(console/bench_urls.py). A second workspace of the same sizes restricts every agent, so
that the first pages of its members are measured where what they may use is scarce.

The data is written with COPY once and reused by the next run of the same sizes.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import OutputWrapper
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Group, Membership, User, Workspace
from accounts.roles import Role
from agents import tools
from agents.access import load_member, usable_agents
from agents.models import Agent, AgentGrant, AgentVersion, GrantRole, Visibility
from api.models import SHOWN_CHARS, ServiceToken, hash_token, new_raw_token
from billing.models import Plan, Subscription
from billing.services import add_month
from catalogue.selectors import available_models
from console.bench_connectors import TOPICS, Figure, _copy, _vacuum, measure
from core import registry, snapshots
from features.models import FeatureRule

SEED = 20261101
PAGE = 25
# How deep the later pages are: the page this many "Next" links from the first.
LATER_PAGES = 40
# The member in many groups is in this many (or every group of a smaller workspace).
MANY_GROUPS = 50
# Restricted agents name 1 to this many members or groups.
MOST_TARGETS = 20
ROLES = ("assistant", "helper", "reviewer", "writer", "analyst", "triage", "coach", "bot")
PLAN = "team"

LIST_TARGET = "≤ 15 ms"
FETCH_TARGET = "≤ 5 ms"


# --- The dataset ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Who is who, from the sizes alone, so that a reused dataset needs no bookkeeping.

    Member 0 owns the workspace; 1 is an admin; 2 is in ``MANY_GROUPS`` groups and
    created every hundredth agent; 3 is in no group and has a direct grant on every
    fortieth restricted agent; 4 has the ``agents`` feature turned off by an admin's
    rule. Everyone else is in 1 to 4 groups and receives the grants chance gives."""

    agents: int
    members: int
    groups: int
    # Every this many agents is shared with the whole workspace; 0: none is, every agent
    # is restricted, and a member's usable agents are few and scattered through the names.
    shared_every: int = 3

    @property
    def slug(self) -> str:
        base = f"bench-agents-{self.agents}a-{self.members}m-{self.groups}g"
        return base if self.shared_every else f"{base}-restricted"

    @property
    def domain(self) -> str:
        return f"{self.slug}.bench.test"

    def email(self, i: int) -> str:
        return f"a{i:06d}@{self.domain}"

    @property
    def staff_email(self) -> str:
        return f"staff@{self.domain}"

    OWNER, ADMIN, MANY, DIRECT, DENIED = range(5)
    SPECIAL = 5

    def name(self, i: int) -> str:
        return f"{TOPICS[(i * 7) % len(TOPICS)].capitalize()} {ROLES[i % len(ROLES)]} {i:06d}"


def ensure_dataset(out: OutputWrapper, layout: Layout) -> tuple[Workspace, float | None]:
    ws = Workspace.objects.filter(slug=layout.slug).first()
    if ws is not None:
        out.write(f"Reusing the data of workspace {layout.slug}")
        return ws, None
    out.write(f"Creating workspace {layout.slug} (agents, versions and grants by COPY) ...")
    started = time.perf_counter()
    with transaction.atomic():
        ws = _create(layout)
    _vacuum(Agent, AgentVersion, AgentGrant, Group, Group.members.through, Membership, User)
    built = time.perf_counter() - started
    out.write(f"  created in {built:.1f} s")
    return ws, built


def _create(layout: Layout) -> Workspace:
    rng = random.Random(SEED)
    now = timezone.now()
    password = make_password(None)  # unusable: the bench signs in with force_login
    users = User.objects.bulk_create(
        (
            User(email=layout.email(i), name=f"Member {i}", password=password)
            for i in range(layout.members)
        ),
        batch_size=5000,
    )
    User.objects.create(
        email=layout.staff_email,
        name="Bench Staff",
        password=password,
        is_staff=True,
        is_superuser=True,
    )
    ws = Workspace.objects.create(
        name=f"Bench {layout.agents:,} agents", slug=layout.slug, created_by=users[0]
    )
    # A plan with agent sharing, set as the data is (no audit event).
    Subscription.objects.create(
        workspace=ws,
        plan=Plan.objects.get(slug=PLAN),
        started_at=now,
        current_period_start=now,
        current_period_end=add_month(now),
    )

    def role(i: int) -> int:
        return Role.OWNER if i == 0 else Role.ADMIN if i == Layout.ADMIN else Role.MEMBER

    memberships = Membership.objects.bulk_create(
        (Membership(workspace=ws, user=u, role=role(i)) for i, u in enumerate(users)),
        batch_size=5000,
    )
    groups = Group.objects.bulk_create(
        (Group(workspace=ws, name=f"Team {g:04d}") for g in range(layout.groups)),
        batch_size=5000,
    )
    through = Group.members.through
    links: list[tuple[int, int]] = []
    for i, m in enumerate(memberships):
        if i == Layout.DIRECT:
            continue
        if i == Layout.MANY:
            chosen = groups[:MANY_GROUPS]
        else:
            chosen = rng.sample(groups, min(len(groups), rng.randint(1, 4)))
        links += [(g.pk, m.pk) for g in chosen]
    _copy(through._meta.db_table, ["group_id", "membership_id"], iter(links))
    # Rules as admins set them: the agents feature off for one member, web search off for
    # a tenth of the groups (so served tools are dropped with a reason).
    FeatureRule.objects.bulk_create(
        [
            FeatureRule(
                workspace=ws,
                membership=memberships[Layout.DENIED],
                feature=registry.AGENTS,
                effect="deny",
            ),
            *(
                FeatureRule(workspace=ws, group=g, feature=registry.WEB_SEARCH, effect="deny")
                for g in groups[::10]
            ),
        ]
    )

    models = list(available_models(PLAN).filter(supports_tools=True).values_list("pk", flat=True))
    assert models, f"the {PLAN} plan offers no model with tools"
    keys = [tools.WEB_SEARCH, tools.CODE_INTERPRETER, tools.IMAGE_GENERATION, tools.NEWS]
    creators = [m.pk for m in memberships]

    def disabled(i: int) -> bool:
        return i % 97 == 5

    def agents() -> Iterator[Sequence[object]]:
        for i in range(layout.agents):
            creator = creators[Layout.MANY] if i % 100 == 2 else rng.choice(creators)
            shared = layout.shared_every and i % layout.shared_every == 0
            visibility = Visibility.WORKSPACE if shared else Visibility.RESTRICTED
            created = now - timedelta(minutes=layout.agents - i)
            yield (
                ws.pk,
                creator,
                layout.name(i),
                f"Helps with {TOPICS[i % len(TOPICS)]}.",
                visibility,
                "f",
                created.isoformat() if disabled(i) else None,
                "Bench: disabled by staff" if disabled(i) else "",
                created.isoformat(),
                created.isoformat(),
            )

    _copy(
        Agent._meta.db_table,
        [
            "workspace_id",
            "created_by_id",
            "name",
            "description",
            "visibility",
            "name_approved_by_staff",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ],
        agents(),
    )
    rows = list(
        Agent.objects.filter(workspace=ws).order_by("pk").values_list("pk", "visibility", "name")
    )
    by_name = {name: (pk, vis) for pk, vis, name in rows}
    agent_ids = [by_name[layout.name(i)] for i in range(layout.agents)]
    author = users[0].pk

    def versions() -> Iterator[Sequence[object]]:
        for i, (pk, _vis) in enumerate(agent_ids):
            chosen = sorted(rng.sample(keys, rng.randint(0, 3)), key=tools.KEYS.index)
            yield (
                pk,
                1,
                author,
                now.isoformat(),
                f"You are a {ROLES[i % len(ROLES)]} for {TOPICS[i % len(TOPICS)]}. Answer briefly.",
                "[" + ",".join(f'"{k}"' for k in chosen) + "]",
                "[]",
                "[]",
                "0.70",
                None,
                "1.00",
                None,
                models[i % len(models)],
                "",
            )

    _copy(
        AgentVersion._meta.db_table,
        [
            "agent_id",
            "number",
            "author_id",
            "created_at",
            "instructions",
            "tools",
            "library_ids",
            "connection_ids",
            "temperature",
            "max_tokens",
            "top_p",
            "restored_from",
            "base_model_id",
            "fine_tuned_id",
        ],
        versions(),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Agent._meta.db_table} a SET current_id = v.id "  # noqa: S608
            f"FROM {AgentVersion._meta.db_table} v "
            "WHERE v.agent_id = a.id AND a.workspace_id = %s",
            [ws.pk],
        )

    member_ids = [m.pk for m in memberships[Layout.SPECIAL :]] or [memberships[-1].pk]
    group_ids = [g.pk for g in groups]
    direct = memberships[Layout.DIRECT].pk
    stamp = now.isoformat()

    def grants() -> Iterator[Sequence[object]]:
        restricted = 0
        for pk, vis in agent_ids:
            if vis != Visibility.RESTRICTED:
                continue
            restricted += 1
            k = rng.randint(1, MOST_TARGETS)
            n_members = sum(rng.random() < 0.5 for _ in range(k))
            people = set(rng.sample(member_ids, min(len(member_ids), n_members)))
            if restricted % 40 == 1:
                people.add(direct)
            teams = rng.sample(group_ids, min(len(group_ids), k - n_members))
            for m in sorted(people):
                role = GrantRole.EDITOR if rng.random() < 0.1 else GrantRole.VIEWER
                yield (pk, m, None, role, stamp)
            for g in teams:
                role = GrantRole.EDITOR if rng.random() < 0.1 else GrantRole.VIEWER
                yield (pk, None, g, role, stamp)

    _copy(
        AgentGrant._meta.db_table,
        ["agent_id", "membership_id", "group_id", "role", "created_at"],
        grants(),
    )
    return ws


# --- The measures --------------------------------------------------------------------------


@dataclass
class Row:
    measure: str
    member: str
    target: str
    console: Figure
    bare: Figure
    admin: Figure | None = None


@dataclass
class Kind:
    label: str
    index: int
    membership: Membership = field(init=False)
    client: Client = field(init=False)
    usable: int = 0
    groups: int = 0
    direct: int = 0


NEXT_LINK = re.compile(r'<a href="([^"]+)"[^>]*rel="next"')


def _timed(get: Callable[[int], Any], n: int, warmup: int, expect: int = 200) -> Figure:
    """``get(i)`` answers a response; the figure, or what the answer was instead."""
    first = get(0)
    if first.status_code != expect:
        return Figure(0, 0, 0, f"HTTP {first.status_code}")
    return measure(get, n, warmup)


def _page(client: Client, url: str) -> Callable[[int], Any]:
    def get(i: int) -> Any:
        return client.get(url)

    return get


def _later_url(client: Client, first: str, pages: int) -> tuple[str, int]:
    """The page ``pages`` "Next" links from ``first`` (or the last one there is), and how
    many links were followed."""
    url, followed = first, 0
    for _ in range(pages):
        body = client.get(url).content.decode()
        found = NEXT_LINK.search(body)
        if found is None:
            break
        target = unescape(found[1])
        url = f"{first.split('?')[0]}{target}" if target.startswith("?") else target
        followed += 1
    return url, followed


def _later_api(client: Client, first: str, pages: int) -> tuple[str, int]:
    """The service API's list ``pages`` pages on (following ``next_cursor``), if it pages."""
    url, followed = first, 0
    for _ in range(pages):
        body = client.get(url).json()
        cursor = body.get("next_cursor")
        if not cursor:
            break
        url = f"{first}?{urlencode({'cursor': cursor})}"
        followed += 1
    return url, followed


def _sign_in(ws: Workspace, layout: Layout, kinds: list[Kind]) -> None:
    """Each kind's member, signed in, with what they may use."""
    for k in kinds:
        k.membership = Membership.objects.select_related("user", "workspace").get(
            workspace=ws, user__email=layout.email(k.index)
        )
        k.client = Client(raise_request_exception=False)
        k.client.force_login(k.membership.user)
        facts = load_member(k.membership)
        k.usable = usable_agents(k.membership, member=facts).count()
        k.groups = len(facts.group_ids)
        k.direct = AgentGrant.objects.filter(membership=k.membership).count()


def _first_pages(
    index: str, kinds: list[Kind], n: int, warmup: int, bare: Figure, admin: Figure | None = None
) -> list[Row]:
    """Each kind's first page of "usable by me"."""
    return [
        Row(
            f"Usable by me, first page ({PAGE})",
            k.label,
            LIST_TARGET,
            _timed(_page(k.client, index), n, warmup),
            bare,
            admin,
        )
        for k in kinds
    ]


@contextmanager
def _service_api(name: str) -> Iterator[Client]:
    """A client of the service API with a token of its own, deleted after."""
    raw = new_raw_token()
    token = ServiceToken.objects.create(
        name=name, prefix=raw[:SHOWN_CHARS], token_hash=hash_token(raw)
    )
    try:
        yield Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {raw}")
    finally:
        token.delete()


def _api_row(
    api: Client,
    ws: Workspace,
    url: str,
    label: str,
    measure: Callable[[int], str],
    n: int,
    warmup: int,
) -> Row:
    """The service API's answer at ``url`` beside a bare JSON view of as many rows;
    ``measure`` names the row from that number."""
    answer = api.get(url)
    listed = len(answer.json().get("agents", [])) if answer.status_code == 200 else 0
    bare = reverse("bench_bare_agent_list", args=[ws.pk, max(1, listed)])
    return Row(
        measure(listed),
        label,
        LIST_TARGET,
        _timed(_page(api, url), n, warmup),
        _timed(_page(Client(), bare), n, warmup),
    )


def _api_lists(api: Client, ws: Workspace, kinds: list[Kind], n: int, warmup: int) -> list[Row]:
    """The service API's first page of each kind's agents."""
    return [
        _api_row(
            api,
            ws,
            reverse("api_member_agents", args=[ws.slug, k.membership.user.email]),
            k.label,
            lambda listed: f"Service API: the member's agents, first page ({listed} rows)",
            n,
            warmup,
        )
        for k in kinds
    ]


def measure_restricted(
    ws: Workspace, layout: Layout, n: int, warmup: int
) -> tuple[list[Kind], list[Row]]:
    """The first pages of the workspace where every agent is restricted: a member's usable
    agents are few and scattered through the names, so the list reads far more rows to
    fill a page than where a third are shared with everyone."""
    many = min(MANY_GROUPS, layout.groups)
    kinds = [
        Kind(f"all restricted: in {many} groups", Layout.MANY),
        Kind("all restricted: a member", Layout.SPECIAL),
    ]
    _sign_in(ws, layout, kinds)
    kinds[1].label = f"all restricted: in {kinds[1].groups} groups"
    rows: list[Row] = []
    with _service_api("Bench agents (restricted)") as api:
        index = reverse("ws:agents", args=[ws.slug])
        bare_html = _timed(_page(Client(), reverse("bench_bare_agents", args=[ws.pk])), n, warmup)
        rows += _first_pages(index, kinds, n, warmup, bare_html)
        rows += _api_lists(api, ws, kinds, n, warmup)
    return kinds, rows


def measure_agents(
    ws: Workspace, layout: Layout, n: int, warmup: int
) -> tuple[list[Kind], list[Row]]:
    staff = User.objects.get(email=layout.staff_email)
    admin_client = Client(raise_request_exception=False)
    admin_client.force_login(staff)
    kinds = [
        Kind(f"in {min(MANY_GROUPS, layout.groups)} groups", Layout.MANY),
        Kind("direct grants only", Layout.DIRECT),
        Kind("admin", Layout.ADMIN),
        Kind("agents feature off", Layout.DENIED),
    ]
    _sign_in(ws, layout, kinds)
    rows: list[Row] = []
    with _service_api("Bench agents") as api:
        index = reverse("ws:agents", args=[ws.slug])
        bare_page = _page(Client(), reverse("bench_bare_agents", args=[ws.pk]))
        changelist = f"{reverse('admin:agents_agent_changelist')}?workspace__id__exact={ws.pk}"
        admin_page = _page(admin_client, changelist)
        bare_html = _timed(bare_page, n, warmup)
        admin_html = _timed(admin_page, n, warmup)

        rows += _first_pages(index, kinds, n, warmup, bare_html, admin_html)
        many, direct, admin_kind = kinds[0], kinds[1], kinds[2]
        later, followed = _later_url(many.client, index, LATER_PAGES)
        if followed:
            # The admin's page as deep, at its own page size.
            per_page = admin_site_page_size()
            deeper = f"{changelist}&p={followed * PAGE // per_page + 1}"
            rows.append(
                Row(
                    f"Usable by me, {followed} pages on (rows {followed * PAGE:,} and after)",
                    many.label,
                    LIST_TARGET,
                    _timed(_page(many.client, later), n, warmup),
                    bare_html,
                    _timed(_page(admin_client, deeper), n, warmup),
                )
            )
        rows.append(
            Row(
                "Created by me, first page",
                many.label,
                LIST_TARGET,
                _timed(_page(many.client, f"{index}?tab=mine"), n, warmup),
                bare_html,
                admin_html,
            )
        )
        rows.append(
            Row(
                "All, first page",
                admin_kind.label,
                LIST_TARGET,
                _timed(_page(admin_kind.client, f"{index}?tab=all"), n, warmup),
                bare_html,
                admin_html,
            )
        )
        hidden = (
            Agent.objects.filter(workspace=ws, visibility=Visibility.RESTRICTED)
            .exclude(grants__membership=direct.membership)
            .exclude(created_by=direct.membership)
            .order_by("pk")
            .values_list("name", flat=True)
            .first()
        )
        if hidden is not None:
            search = f"{index}?{urlencode({'q': hidden})}"
            said = direct.client.get(search).content.decode()
            assert "is not listed" in said, "the search does not say why"
            rows.append(
                # No target: a search reads the trigram index of every agent's name on
                # the platform, and a long name's common trigrams are most of its cost.
                Row(
                    "Search by the exact name of an agent not shared (says why)",
                    direct.label,
                    "",
                    _timed(_page(direct.client, search), n, warmup),
                    bare_html,
                    _timed(
                        _page(admin_client, f"{changelist}&{urlencode({'q': hidden})}"),
                        n,
                        warmup,
                    ),
                )
            )

        # The service API.
        rows += _api_lists(api, ws, kinds, n, warmup)
        first_api = reverse("api_member_agents", args=[ws.slug, many.membership.user.email])
        later_api, followed = _later_api(api, first_api, LATER_PAGES // 4)
        if followed:
            rows.append(
                _api_row(
                    api,
                    ws,
                    later_api,
                    many.label,
                    lambda _listed: f"Service API: the member's agents, {followed} pages on",
                    n,
                    warmup,
                )
            )
        after_change: list[Row] = []
        for k in kinds:
            usable = list(
                usable_agents(k.membership).values_list("pk", flat=True)[: n + warmup]
            ) or list(
                Agent.objects.filter(workspace=ws, disabled_at__isnull=True)
                .order_by("pk")
                .values_list("pk", flat=True)[: n + warmup]
            )
            member = k.membership.user.email

            def fetch(i: int, ids: list[int] = usable, member: str = member) -> Any:
                url = reverse("api_agent_config", args=[ws.slug, ids[i % len(ids)]])
                return api.get(url, {"member": member})

            def bare_fetch(i: int, ids: list[int] = usable) -> Any:
                return Client().get(reverse("bench_bare_agent", args=[ids[i % len(ids)]]))

            expect = 403 if k.index == Layout.DENIED else 200
            rows.append(
                Row(
                    "Service API: one agent as served" + (" (403)" if expect == 403 else ""),
                    k.label,
                    FETCH_TARGET,
                    _timed(fetch, n, warmup, expect),
                    _timed(bare_fetch, n, warmup),
                )
            )
            if k is many:
                # The same calls right after a change of the workspace's decision facts
                # (a rule, a group's members, the plan), which retires their snapshot.
                def cold(i: int, fetch: Callable[[int], Any] = fetch) -> Any:
                    snapshots.moved(snapshots.decisions(ws.pk))
                    return fetch(i)

                after_change.append(
                    Row(
                        "Service API: one agent as served, just after a change of the facts",
                        k.label,
                        "",
                        _timed(cold, n, warmup),
                        _timed(bare_fetch, n, warmup),
                    )
                )
        rows += after_change
    return kinds, rows


def admin_site_page_size() -> int:
    from django.contrib import admin  # noqa: PLC0415

    return int(admin.site.get_model_admin(Agent).list_per_page)


@contextmanager
def _quiet_refusals() -> Iterator[None]:
    """The 403s measured on purpose are not logged as warnings, one a request."""
    log = logging.getLogger("django.request")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


# --- The section ---------------------------------------------------------------------------


def run(out: OutputWrapper, *, agents: int, members: int, groups: int, n: int, warmup: int) -> None:
    if connection.vendor != "postgresql":
        out.write("\nAgents: measured on PostgreSQL only (COPY writes its data).\n")
        return
    layout = Layout(
        agents=max(30, agents), members=max(Layout.SPECIAL + 5, members), groups=max(2, groups)
    )
    ws, _built = ensure_dataset(out, layout)
    restricted = replace(layout, shared_every=0)
    sparse, _built = ensure_dataset(out, restricted)
    with override_settings(ROOT_URLCONF="console.bench_urls"), _quiet_refusals():
        kinds, rows = measure_agents(ws, layout, n, warmup)
        more_kinds, more_rows = measure_restricted(sparse, restricted, n, warmup)
    _print(out, ws, layout, [*kinds, *more_kinds], [*rows, *more_rows], n)


def _print(
    out: OutputWrapper, ws: Workspace, layout: Layout, kinds: list[Kind], rows: list[Row], n: int
) -> None:
    grants = AgentGrant.objects.filter(agent__workspace=ws).count()
    shared = Agent.objects.filter(workspace=ws, visibility=Visibility.WORKSPACE).count()
    links = Group.members.through.objects.filter(group__workspace=ws).count()
    out.write(
        f"\nAgents on {connection.vendor}: one workspace of {layout.agents:,} agents "
        f"({shared:,} shared with the whole workspace, the others restricted to 1 to "
        f"{MOST_TARGETS} members or groups: {grants:,} grants), {layout.members:,} members, "
        f"{layout.groups:,} groups ({links:,} memberships of groups). {n} requests each through "
        "Django's test client, server time in ms, queries per request. The console's pages "
        "are the real views with a signed-in member; the bare page renders "
        f"Agent.objects.filter(workspace=...)[:{PAGE}] in a plain template, the admin is the "
        "changelist of the workspace's agents (a later page: the admin's page as deep), the "
        "service API's calls carry the service token, the bare JSON views answer the same "
        "rows from one query with no authentication. The members' decision facts are read "
        f"from their snapshot (snapshots {'on' if settings.SNAPSHOTS else 'off'}, cache "
        f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}), kept from one "
        "request to the next until a change of them; the agents and grants from the "
        'database on every request. The members marked "all restricted" are of a '
        "second workspace of the same sizes where no agent is shared with the whole "
        "workspace: what they may use is a few agents scattered among all.\n\n"
    )
    for k in kinds:
        out.write(
            f"- {k.label}: {k.membership.user.email} is in {k.groups} groups, holds "
            f"{k.direct} direct grants and may use {k.usable:,} agents\n"
        )
    out.write(
        "\n| Measure | Member | Target p95 | Console median | Console p95 | Console queries "
        "| Bare median | Bare p95 | Bare queries | Admin median | Admin p95 | Admin queries |\n"
    )
    out.write(
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )
    for row in rows:
        admin = row.admin.cells() if row.admin is not None else ["", "", ""]
        out.write(
            "| "
            + " | ".join(
                [
                    row.measure,
                    row.member,
                    row.target,
                    *row.console.cells(),
                    *row.bare.cells(),
                    *admin,
                ]
            )
            + " |\n"
        )
