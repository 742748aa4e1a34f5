"""Reads of agents that pages and the service API share, each in a fixed number of
queries: the lists ("usable by me", "created by me", all) a page at a time, "who can use
it" and the configuration the platform serves to a member."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Value, Window
from django.db.models.functions import Lower

from accounts import selectors as account_selectors
from accounts.models import Membership, MemberStatus
from accounts.selectors import ShareCandidates
from catalogue.models import BaseModel
from core import cursors, registry, statements
from core.parsing import is_storable_text
from features.decisions import Decision, WorkspaceFacts, load_workspace_facts

from . import sources, tools
from .access import (
    Access,
    MemberFacts,
    Usable,
    decide,
    evaluate,
    feature_decisions,
    load_members,
    usable_agents,
    usable_rule,
    usable_shape,
)
from .access import agent_facts as load_agent_facts
from .models import NAME_MAX, Agent, AgentGrant, AgentVersion, Visibility

PAGE_SIZE = 25

__all__ = ["usable_agents"]


def _listed(qs: QuerySet[Agent]) -> QuerySet[Agent]:
    # A list shows no instructions: they may be long, and are left in the database.
    return (
        qs.select_related("current", "current__base_model")
        .defer("current__instructions")
        .order_by("name", "id")
    )


# --- A page of a list ------------------------------------------------------------------------

CURSOR_SALT = "agents.list.cursor"
# A signed cursor of the longest name, escaped to JSON and in base64, stays below this.
CURSOR_MAX = 1200
CursorInvalid = cursors.CursorInvalid


@dataclass(frozen=True)
class Cursor:
    """A position in a list ordered by (name, id): a page starts just after it (or ends
    just before it). Signed (``core.cursors``), so that a position nobody handed out is
    refused as a whole rather than read as some other one."""

    name: str
    id: int

    def encode(self) -> str:
        return cursors.sign(CURSOR_SALT, self.name, self.id)

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        name, pk = cursors.unsign(raw, salt=CURSOR_SALT, max_length=CURSOR_MAX)
        if not isinstance(name, str) or len(name) > NAME_MAX or not is_storable_text(name):
            raise CursorInvalid(raw)
        return cls(name=name, id=pk)

    @classmethod
    def parse(cls, raw: str | None) -> Cursor | None:
        """The cursor of a query parameter; None when absent or not one."""
        try:
            return cls.decode(raw) if raw else None
        except CursorInvalid:
            return None

    @classmethod
    def of(cls, agent: Agent) -> Cursor:
        return cls(name=agent.name, id=agent.pk)


@dataclass(frozen=True)
class AgentPage:
    agents: list[Agent]
    # Where the next page starts and the previous one ends; None when there is none.
    next: Cursor | None
    previous: Cursor | None


# Fetches up to ``size + 1`` agents after a cursor (or before it, nearest first).
type Fetch = Callable[[Cursor | None, bool, int], list[Agent]]


def _paged(fetch: Fetch, size: int, after: Cursor | None, before: Cursor | None) -> AgentPage:
    if before is not None:
        rows = fetch(before, True, size + 1)
        more_before = len(rows) > size
        agents = list(reversed(rows[:size]))
        previous = Cursor.of(agents[0]) if more_before and agents else None
        return AgentPage(agents, Cursor.of(agents[-1]) if agents else None, previous)
    rows = fetch(after, False, size + 1)
    agents = rows[:size]
    following = Cursor.of(agents[-1]) if len(rows) > size and agents else None
    previous = Cursor.of(agents[0]) if after is not None and agents else None
    return AgentPage(agents, following, previous)


def _keyset(qs: QuerySet[Agent], name: str, pk: int, backwards: bool) -> QuerySet[Agent]:
    """The rows beyond the position (name, pk): the (workspace, name, id) index starts at
    the cursor (``cursors.beyond``)."""
    return cursors.beyond(qs, ("name", "id"), (name, pk), backwards=backwards)


def _order(qs: QuerySet[Agent], backwards: bool) -> QuerySet[Agent]:
    return qs.order_by("-name", "-id") if backwards else qs.order_by("name", "id")


def agent_page(
    qs: QuerySet[Agent],
    *,
    size: int = PAGE_SIZE,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> AgentPage:
    """One page of a list ordered by (name, id), in one query of ``size + 1`` rows and no
    count: the extra row tells whether a page follows. ``after`` asks for the rows after
    the cursor (the "Next" link), ``before`` for the rows before it ("Previous"). Keyset
    pages cost the same deep in the list as on its first page, where OFFSET reads every
    row it skips."""

    def fetch(cursor: Cursor | None, backwards: bool, n: int) -> list[Agent]:
        page = qs if cursor is None else _keyset(qs, cursor.name, cursor.id, backwards)
        return list(_order(page, backwards)[:n])

    return _paged(fetch, size, after, before)


# --- The lists' pages as compiled statements -------------------------------------------


@dataclass(frozen=True)
class AgentColumns:
    """Which columns of an agent, its current version and that version's base model a
    statement reads (attnames, in each model's order), and the agent made of its row."""

    agent: tuple[str, ...]
    version: tuple[str, ...]
    base: tuple[str, ...] = ("id", "model_id")

    def paths(self) -> tuple[str, ...]:
        return (
            *self.agent,
            *(f"current__{n}" for n in self.version),
            *(f"current__base_model__{n}" for n in self.base),
        )

    def build(self, row: Sequence[Any], bases: dict[int, BaseModel] | None = None) -> Agent:
        """The agent of ``row``; ``bases``: the base models made for earlier rows, by id (a
        page's agents name a few models between them), which the rows share."""
        agent, at = statements.instance(Agent, self.agent, row, 0)
        if agent.current_id is None:  # an agent without a version: the join found none
            agent.current = None
            return agent
        version, at = statements.instance(AgentVersion, self.version, row, at)
        base_id = version.base_model_id
        if base_id is None:
            version.base_model = None
        elif bases is not None and base_id in bases:
            version.base_model = bases[base_id]
        else:
            version.base_model = statements.instance(BaseModel, self.base, row, at)[0]
            if bases is not None:
                bases[base_id] = version.base_model
        agent.current = version
        return agent


def agent_columns(agent: Sequence[str], version: Sequence[str]) -> AgentColumns:
    return AgentColumns(
        tuple(statements.attnames(Agent, only=("id", *agent))),
        tuple(statements.attnames(AgentVersion, only=("id", "base_model_id", *version))),
    )


# What the lists read: what the access decision, the served tools and the page show; not
# the version's instructions and settings.
LIST_COLUMNS = agent_columns(
    (
        "name",
        "description",
        "workspace_id",
        "created_by_id",
        "visibility",
        "disabled_at",
        "disabled_reason",
        "updated_at",
        "current_id",
    ),
    ("tools", "library_ids", "connection_ids", "fine_tuned_id"),
)


class ListKind(StrEnum):
    """The lists a statement pages: "usable by me" in each of its shapes, "created by me",
    and the admins' "all"."""

    USABLE_CREATED = f"usable_{Usable.CREATED}"
    USABLE_ALL = f"usable_{Usable.ALL}"
    USABLE_SHARED = f"usable_{Usable.SHARED}"
    USABLE_SHARED_AND_GROUPS = f"usable_{Usable.SHARED_AND_GROUPS}"
    CREATED_BY = "created_by"
    WORKSPACE = "workspace"


def _list_rule(kind: ListKind, workspace_id: Any, membership_id: Any) -> Q:
    if kind is ListKind.CREATED_BY:
        return Q(workspace_id=workspace_id, created_by_id=membership_id)
    if kind is ListKind.WORKSPACE:
        return Q(workspace_id=workspace_id)
    return usable_rule(Usable(kind.removeprefix("usable_")), workspace_id, membership_id)


def _reads_member(kind: ListKind) -> bool:
    """Every list names its workspace; these also name the member."""
    return kind not in (ListKind.WORKSPACE, ListKind.USABLE_ALL)


# One statement per list, direction and page size: a few dozen in all (sizes are bounded).
_PAGES: dict[tuple[ListKind, bool | None, int], statements.Statement] = {}


def _page_statement(kind: ListKind, backwards: bool | None, n: int) -> statements.Statement:
    """The statement of ``n`` rows of the list from its start (``backwards`` None), or
    beyond a cursor."""
    key = (kind, backwards, n)
    found = _PAGES.get(key)
    if found is not None:
        return found

    def build(**p: Any) -> QuerySet[Any]:
        qs = Agent.objects.filter(_list_rule(kind, p["workspace_id"], p.get("membership_id")))
        if backwards is not None:
            qs = _keyset(qs, p["name"], p["pk"], backwards)
        # The page's ids first, then their rows: the ids come from the list's index, which
        # holds what the rule reads (Agent.Meta.indexes), so the agents the rule passes
        # over on the way (most of them, for a member who may use few) are not read.
        ids = _order(qs, bool(backwards)).values("id")[:n]
        page = Agent.objects.filter(id__in=ids)
        return _order(page, bool(backwards)).values_list(*LIST_COLUMNS.paths())

    params: dict[str, statements.ParamType] = {"workspace_id": int}
    if _reads_member(kind):
        params["membership_id"] = int
    if backwards is not None:
        params |= {"name": str, "pk": int}
    statement = statements.Statement(build, **params)
    _PAGES[key] = statement
    return statement


def list_page(
    kind: ListKind,
    membership: Membership,
    *,
    size: int = PAGE_SIZE,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> AgentPage:
    """``agent_page`` of a list without search or filter, from a statement compiled once:
    the lists' busiest pages, and the service API's list, compile no query."""

    def fetch(cursor: Cursor | None, backwards: bool, n: int) -> list[Agent]:
        values: dict[str, int | str] = {"workspace_id": membership.workspace_id}
        if _reads_member(kind):
            values["membership_id"] = membership.pk
        if cursor is not None:
            values |= {"name": cursor.name, "pk": cursor.id}
        statement = _page_statement(kind, None if cursor is None else backwards, n)
        bases: dict[int, BaseModel] = {}
        return [LIST_COLUMNS.build(row, bases) for row in statement.rows(**values)]

    return _paged(fetch, size, after, before)


def list_queryset(kind: ListKind, membership: Membership) -> QuerySet[Agent]:
    """The list as a queryset, to narrow by a search (``search``) before ``agent_page``."""
    return _listed(Agent.objects.filter(_list_rule(kind, membership.workspace_id, membership.pk)))


def usable_list(m: MemberFacts) -> ListKind | None:
    """The list of what the member may use; None when they use no agent."""
    shape = usable_shape(m)
    return None if shape is None else ListKind(f"usable_{shape}")


def named(workspace_id: int, name: str, *, limit: int) -> list[Agent]:
    """The agents of the workspace named exactly ``name``, case aside, with their current
    version (at most ``limit``): one query."""
    # Compared in lower case, as the names' uniqueness is (agent_name_unique_in_workspace):
    # its index answers, where an ``iexact`` (upper case) would search the trigrams.
    qs = Agent.objects.alias(lowered=Lower("name")).filter(
        workspace_id=workspace_id, lowered=Lower(Value(name))
    )
    return list(qs.select_related("current")[:limit])


def search(qs: QuerySet[Agent], q: str = "", *, model: str = "", tool: str = "") -> QuerySet[Agent]:
    """A list narrowed by name (contains, case-insensitive), model id and tool key."""
    if q:
        qs = qs.filter(name__icontains=q)
    if model:
        qs = qs.filter(Q(current__base_model__model_id=model) | Q(current__fine_tuned_id=model))
    if tool in tools.BY_KEY:
        # The JSON list as text holds the key in quotes; no key is a part of another's
        # quoted form, and the lookup works alike on PostgreSQL and SQLite.
        qs = qs.filter(current__tools__icontains=f'"{tool}"')
    return qs


@dataclass(frozen=True)
class SharedAgents:
    count: int
    first: tuple[Agent, ...]


def shared_beyond_creator(workspace_id: int, *, first: int) -> SharedAgents:
    """The agents of the workspace that members other than their creator may use while the
    plan has sharing: shared with the whole workspace, with a group, or with a member who
    is not the creator (any grant, once the creator has left). How many, and the first
    ``first`` by name: one query, whatever their number."""
    grants = AgentGrant.objects.filter(agent=OuterRef("pk"))
    rule = (
        Q(visibility=Visibility.WORKSPACE)
        # A grant to a group, or to a member other than the creator.
        | Q(Exists(grants.exclude(membership_id=OuterRef("created_by_id"))))
        # That comparison is unknown without a creator: any grant is then beyond them.
        | Q(Exists(grants), created_by__isnull=True)
    )
    # The total rides on every row (a window over the whole filtered set, counted before
    # the limit), so the count and the first names are one query.
    found = list(
        Agent.objects.filter(rule, workspace_id=workspace_id)
        .annotate(total=Window(Count("id")))
        .order_by("name", "id")
        .only("id", "name", "workspace_id")[: max(1, first)]
    )
    return SharedAgents(found[0].total if found else 0, tuple(found[:first]))


def versions(agent: Agent) -> QuerySet[AgentVersion]:
    """The agent's history, newest first, with authors: one query."""
    return agent.versions.select_related("author", "base_model").order_by("-number")


# --- Sharing ------------------------------------------------------------------------------


def grants(agent: Agent) -> list[AgentGrant]:
    """The agent's grants with their group or member, by group name then email: one query."""
    return list(
        AgentGrant.objects.filter(agent=agent)
        .select_related("group", "membership__user")
        .order_by("group__name", "membership__user__email", "id")
    )


def share_candidates(agent: Agent, q: str, *, limit: int) -> ShareCandidates:
    """The share dialog's groups and active members of the agent's workspace whose name
    (or email) contains ``q``, with the role each holds on the agent now: three queries.
    An agent is shared with the whole workspace by its visibility, not by a grant."""

    def held() -> dict[str, str]:
        return {
            (f"group:{g}" if g is not None else f"member:{mm}"): role
            for mm, g, role in AgentGrant.objects.filter(agent=agent).values_list(
                "membership_id", "group_id", "role"
            )
        }

    return account_selectors.share_candidates(agent.workspace_id, q, limit=limit, held=held)


# --- Who can use it ------------------------------------------------------------------------


@dataclass(frozen=True)
class WhoRow:
    membership: Membership
    access: Access


@dataclass(frozen=True)
class WhoPage:
    rows: list[WhoRow]
    count: int
    page: int
    pages: int


def who_can_use(agent: Agent, q: str = "", *, page: int = 1, size: int = PAGE_SIZE) -> WhoPage:
    """The active members who may use the agent, with the reason for each, by email;
    searched by email or name, paginated, counted. A fixed number of queries: the members,
    the workspace's facts, the members' groups and rules, the agent's grants."""
    members_qs = (
        Membership.objects.filter(workspace_id=agent.workspace_id, status=MemberStatus.ACTIVE)
        .select_related("user", "workspace")
        .order_by("user__email", "id")
    )
    if q:
        members_qs = members_qs.filter(Q(user__email__icontains=q) | Q(user__name__icontains=q))
    memberships = list(members_qs)
    if not memberships:
        return WhoPage([], 0, 1, 1)
    ws_facts = load_workspace_facts(memberships[0].workspace)
    facts = load_members(ws_facts, memberships)
    a = load_agent_facts([agent])[agent.pk]
    rows = [WhoRow(m, access) for m in memberships if (access := evaluate(facts[m.pk], a)).use]
    pages = max(1, -(-len(rows) // size))
    page = min(max(1, page), pages)
    return WhoPage(rows[(page - 1) * size : page * size], len(rows), page, pages)


# --- What the platform serves ----------------------------------------------------------------


# Why a tool was dropped, beyond the feature decision's own codes (``features.decisions.Code``,
# e.g. ``not_in_plan``, ``group_rule``, ``media_customer``): stable values for the service API.
SOURCE_MISSING = "source_missing"
NO_SOURCE_LEFT = "no_source_left"
MEDIA_CUSTOMER = "media_customer"


@dataclass(frozen=True)
class Dropped:
    tool: str
    reason: str
    code: str = ""


@dataclass(frozen=True)
class ServedConfig:
    agent_id: int
    name: str
    version: int
    model: str
    instructions: str
    tools: tuple[str, ...]
    library_ids: tuple[int, ...]
    connection_ids: tuple[int, ...]
    temperature: Decimal
    max_tokens: int | None
    top_p: Decimal
    dropped: tuple[Dropped, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "agent_id": self.agent_id,
            "name": self.name,
            "version": self.version,
            "model": self.model,
            "instructions": self.instructions,
            "tools": list(self.tools),
            "document_search": {
                "library_ids": list(self.library_ids),
                "connection_ids": list(self.connection_ids),
            },
            "completion": {
                "temperature": str(self.temperature),
                "max_tokens": self.max_tokens,
                "top_p": str(self.top_p),
            },
            "dropped": [{"tool": d.tool, "code": d.code, "reason": d.reason} for d in self.dropped],
        }


@dataclass(frozen=True)
class Served:
    access: Access
    config: ServedConfig | None


MEDIA_DROPPED = (
    "The workspace is a Media Customer: its agents cannot carry verified news (R-MEDIA-2)."
)
SOURCE_GONE = "{what} {pk} does not exist any more."


Found = dict[int, str]


@dataclass(frozen=True)
class ServedTools:
    """A version's tools as a member may use them, the sources left to its document
    search, and each tool dropped with its reason."""

    tools: tuple[str, ...]
    library_ids: tuple[int, ...]
    connection_ids: tuple[int, ...]
    dropped: tuple[Dropped, ...]


def _served_tools(
    agent: Agent,
    version: AgentVersion,
    decisions: dict[str, Decision],
    media: bool,
    found: tuple[Found, Found] | None = None,
) -> ServedTools:
    """``found``: the workspace's libraries and connections among those the agents name,
    loaded once for many agents; None loads this agent's."""
    kept: list[str] = []
    dropped: list[Dropped] = []
    for key in version.tools:
        tool = tools.BY_KEY.get(key)
        if tool is None:
            continue
        if key == tools.NEWS and media:
            dropped.append(Dropped(key, MEDIA_DROPPED, MEDIA_CUSTOMER))
            continue
        if tool.feature is not None:
            decision = decisions[tool.feature]
            if not decision.allowed:
                dropped.append(Dropped(key, f"{tool.label}: {decision.reason}", str(decision.code)))
                continue
        kept.append(key)
    library_ids: tuple[int, ...] = ()
    connection_ids: tuple[int, ...] = ()
    if tools.DOCUMENT_SEARCH in kept:
        ws_id = agent.workspace_id
        for what, feature, ids, load, preloaded in (
            (
                "Library",
                registry.LIBRARIES,
                version.library_ids,
                sources.libraries,
                found[0] if found else None,
            ),
            (
                "Connection",
                registry.CONNECTORS,
                version.connection_ids,
                sources.connections,
                found[1] if found else None,
            ),
        ):
            if not ids:
                continue
            decision = decisions[feature]
            if not decision.allowed:
                label = registry.get(feature).label
                dropped.append(
                    Dropped(
                        f"{tools.DOCUMENT_SEARCH}:{feature}",
                        f"{label}: {decision.reason}",
                        str(decision.code),
                    )
                )
                continue
            present = preloaded if preloaded is not None else load(ws_id, ids)
            for pk in ids:
                if pk not in present:
                    dropped.append(
                        Dropped(
                            f"{tools.DOCUMENT_SEARCH}:{pk}",
                            SOURCE_GONE.format(what=what, pk=pk),
                            SOURCE_MISSING,
                        )
                    )
            kept_ids = tuple(pk for pk in ids if pk in present)
            if what == "Library":
                library_ids = kept_ids
            else:
                connection_ids = kept_ids
        if not (library_ids or connection_ids):
            kept.remove(tools.DOCUMENT_SEARCH)
            dropped.append(
                Dropped(
                    tools.DOCUMENT_SEARCH,
                    "No source of document search is left to you.",
                    NO_SOURCE_LEFT,
                )
            )
    return ServedTools(tuple(kept), library_ids, connection_ids, tuple(dropped))


def _config(
    agent: Agent,
    version: AgentVersion,
    decisions: dict[str, Decision],
    media: bool,
    found: tuple[Found, Found] | None = None,
) -> ServedConfig:
    served = _served_tools(agent, version, decisions, media, found)
    return ServedConfig(
        agent_id=agent.pk,
        name=agent.name,
        version=version.number,
        model=version.model_ref.public_id,
        instructions=version.instructions,
        tools=served.tools,
        library_ids=served.library_ids,
        connection_ids=served.connection_ids,
        temperature=version.temperature,
        max_tokens=version.max_tokens,
        top_p=version.top_p,
        dropped=served.dropped,
    )


def served_config(
    membership: Membership,
    agent: Agent,
    *,
    member: MemberFacts | None = None,
    facts: WorkspaceFacts | None = None,
) -> Served:
    """The current version as this member may use it: only the tools their feature
    decisions allow (a group denied web search gets the agent without it), each dropped
    one with its reason; None in ``config`` when they may not use the agent. A caller that
    has the workspace's facts and the member's passes them (``facts``, ``member``)."""
    ws_facts = facts if facts is not None else load_workspace_facts(membership.workspace)
    m = member if member is not None else load_members(ws_facts, [membership])[membership.pk]
    access = decide(membership, agent, member=m)
    version = agent.current
    if not access.use or version is None:
        return Served(access, None)
    decisions = feature_decisions(membership, m, ws_facts, tools.FEATURES)
    return Served(access, _config(agent, version, decisions, ws_facts.media.is_media_customer))


@dataclass(frozen=True)
class ServedSummary:
    """What a list shows of an agent as the platform serves it to a member."""

    model: str
    tools: tuple[str, ...]


def served_summaries(
    membership: Membership,
    agents: list[Agent],
    *,
    member: MemberFacts | None = None,
    facts: WorkspaceFacts | None = None,
) -> dict[int, ServedSummary]:
    """The model and the tools the member would be served of each agent they may use
    (``usable_agents``, with their current versions), by agent id: the member's decisions
    once and the sources the agents name in two queries, so a fixed number of queries
    whatever the number of agents. Nothing of the instructions is read (a list defers
    them). An agent the member may not use, or without a version, is left out."""
    if not agents:
        return {}
    ws_facts = facts if facts is not None else load_workspace_facts(membership.workspace)
    m = member if member is not None else load_members(ws_facts, [membership])[membership.pk]
    found = load_agent_facts((a for a in agents if a.workspace_id == m.workspace_id), concerning=m)
    usable = [a for a in agents if a.pk in found and a.current is not None]
    usable = [a for a in usable if evaluate(m, found[a.pk]).use]
    if not usable:
        return {}
    decisions = feature_decisions(membership, m, ws_facts, tools.FEATURES)
    library_ids = {pk for a in usable if a.current for pk in a.current.library_ids}
    connection_ids = {pk for a in usable if a.current for pk in a.current.connection_ids}
    ws_id = membership.workspace_id
    preloaded = (
        sources.libraries(ws_id, library_ids) if library_ids else {},
        sources.connections(ws_id, connection_ids) if connection_ids else {},
    )
    media = ws_facts.media.is_media_customer
    out: dict[int, ServedSummary] = {}
    for a in usable:
        if a.current is not None:
            served = _served_tools(a, a.current, decisions, media, preloaded)
            out[a.pk] = ServedSummary(a.current.model_ref.public_id, served.tools)
    return out
