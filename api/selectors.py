"""Reads of the service API: one member of a workspace, by user id or email; a page of the
documents a member may see; the agents a member may use, and one agent of a workspace."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.access import MEMBER_ROW, membership_of_row
from accounts.models import Membership, User, Workspace
from agents.access import Access, Code, load_member_snapshot
from agents.models import Agent
from agents.selectors import (
    LIST_COLUMNS,
    Served,
    ServedSummary,
    agent_columns,
    list_page,
    served_config,
    served_summaries,
    usable_list,
)
from agents.selectors import Cursor as AgentCursor
from connectors.access import Viewer, visible_documents, visible_ids
from connectors.models import Document
from core import cursors, statements

from .forms import MemberRef
from .pagination import Cursor

_USER = statements.attnames(User)
_MEMBER_COLUMNS = (*MEMBER_ROW, *(f"user__{n}" for n in _USER))


def _members_of(slug: str) -> QuerySet[Membership]:
    return Membership.objects.filter(workspace__slug=slug)


_MEMBER_BY_ID = statements.Statement(
    lambda slug, user_id: (
        _members_of(slug).filter(user_id=user_id).values_list(*_MEMBER_COLUMNS)[:1]
    ),
    slug=str,
    user_id=int,
)
_MEMBER_BY_EMAIL = statements.Statement(
    lambda slug, email: (
        _members_of(slug).filter(user__email=email).values_list(*_MEMBER_COLUMNS)[:1]
    ),
    slug=str,
    email=str,
)


def _membership_of(row: tuple[object, ...] | None) -> Membership | None:
    if row is None:
        return None
    membership, at = membership_of_row(row)
    Membership.user.field.set_cached_value(membership, statements.instance(User, _USER, row, at)[0])
    return membership


def membership_by_ref(slug: str, ref: MemberRef) -> Membership | None:
    """The membership (active or deactivated) of the user named by ``ref`` in the workspace
    ``slug``, with its workspace and user, in one query (a compiled statement: the
    gateway asks this on every call)."""
    if ref.user_id is not None:
        return _membership_of(_MEMBER_BY_ID.first(slug=slug, user_id=ref.user_id))
    assert ref.email is not None
    # Addresses are stored lowercased: the exact match on the lowercased address uses the
    # unique index of users' emails, where a case-insensitive comparison reads every member
    # of the workspace. The comparison is kept for an address stored otherwise.
    return (
        _membership_of(_MEMBER_BY_EMAIL.first(slug=slug, email=ref.email.lower()))
        or _members_of(slug)
        .select_related("workspace", "user")
        .filter(user__email__iexact=ref.email)
        .first()
    )


def workspace_exists(slug: str) -> bool:
    return Workspace.objects.filter(slug=slug).exists()


# --- A member's documents (connectors.access decides; these only page and filter) -----

# What the list answers of each document: the compact fields, and its source's name.
_LISTED = (
    "id",
    "title",
    "kind",
    "mime_type",
    "web_url",
    "modified_at",
    "connection_id",
    "library_id",
    "library__name",
)


@dataclass(frozen=True)
class DocumentPage:
    documents: list[Document]
    # Where the next page starts; None on the last page.
    next_cursor: Cursor | None


def document_page(viewer: Viewer, *, q: str, after: Cursor | None, limit: int) -> DocumentPage:
    """One page of the documents the member may see, newest first, in one query of
    ``limit + 1`` rows (the extra one tells whether a page follows). The keyset bound is
    one row comparison, where the (workspace, modified_at, id) index starts its scan
    (``cursors.beyond``); a connection's name comes from the viewer, a library's from the
    join."""
    qs = visible_documents(viewer)
    if q:
        # icontains is UPPER(title) LIKE UPPER(%q%): the trigram index on UPPER(title) serves it.
        qs = qs.filter(title__icontains=q)
    if after is not None:
        position = (after.modified_at, after.id)
        qs = cursors.beyond(qs, ("modified_at", "id"), position, backwards=True)
    rows = list(qs.select_related("library").only(*_LISTED)[: limit + 1])
    documents = rows[:limit]
    more = len(rows) > limit
    last = documents[-1] if documents else None
    return DocumentPage(
        documents=documents,
        next_cursor=Cursor(last.modified_at, last.pk) if more and last is not None else None,
    )


def visible_subset(viewer: Viewer, ids: list[int]) -> list[int]:
    """Which of ``ids`` the member may see, in the order given: the retrieval filter keeps
    the ranking of its candidates."""
    visible = set(visible_ids(viewer, ids))
    return [i for i in ids if i in visible]


# --- Agents (agents.access decides; these only list and fetch) -----------------------------


@dataclass(frozen=True)
class UsableAgent:
    agent: Agent
    served: ServedSummary


@dataclass(frozen=True)
class UsableAgentPage:
    rows: list[UsableAgent]
    # Where the next page starts; None on the last page.
    next_cursor: AgentCursor | None


def usable_agent_list(
    membership: Membership, *, after: AgentCursor | None = None, limit: int = 50
) -> UsableAgentPage:
    """One page of the agents the member may use, by name then id, each with its tools as
    the member would be served them: a fixed number of queries whatever the number of
    agents, grants and groups (``list_page`` of the member's usable list, then
    ``served_summaries`` for the page)."""
    facts, member = load_member_snapshot(membership)
    kind = usable_list(member)
    if kind is None:
        return UsableAgentPage([], None)
    page = list_page(kind, membership, size=limit, after=after)
    served = served_summaries(membership, page.agents, member=member, facts=facts)
    rows = [UsableAgent(a, served[a.pk]) for a in page.agents if a.pk in served]
    return UsableAgentPage(rows, page.next)


def served_agent(membership: Membership, agent: Agent) -> Served:
    """The agent as the platform serves it to the member (``served_config``), the member's
    decision facts from their snapshot: the agent and its grants are read from the
    database every time, so an agent deleted, disabled or unshared is refused from the
    moment that commits."""
    facts, member = load_member_snapshot(membership)
    return served_config(membership, agent, member=member, facts=facts)


# What the fetch reads: what the lists read, and the version's text and settings, which
# it serves.
_SERVED = agent_columns(
    LIST_COLUMNS.agent,
    (
        *LIST_COLUMNS.version,
        "number",
        "instructions",
        "temperature",
        "max_tokens",
        "top_p",
    ),
)
_AGENT_BY_ID = statements.Statement(
    lambda workspace_id, agent_id: Agent.objects.filter(
        pk=agent_id, workspace_id=workspace_id, current__isnull=False
    ).values_list(*_SERVED.paths()),
    workspace_id=int,
    agent_id=int,
)


def agent_of_workspace(workspace_id: int, agent_id: int) -> Agent | None:
    """The agent ``agent_id`` of the workspace with its current version and model, or None
    when it is missing, deleted or another workspace's: one query (a compiled statement).
    Nothing caches it, so a deleted agent is missed from the moment its deletion commits."""
    row = _AGENT_BY_ID.first(workspace_id=workspace_id, agent_id=agent_id)
    return _SERVED.build(row) if row is not None else None


def refusal_code(access: Access) -> str:
    """The stable code of a refusal to use. An admin is refused only where the plan has no
    sharing (``agents.access`` keeps ``admin`` as the code of what they are to the agent),
    so that refusal answers ``plan_forbids_sharing``."""
    if access.code is Code.ADMIN:
        return Code.PLAN_FORBIDS_SHARING.value
    return access.code.value
