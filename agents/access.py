"""May this member use, edit or manage this agent, and why (R-AGT-2 to R-AGT-4): the one
decision every page and the service API go through.

The answer, for an active member with the ``agents`` feature, by what they are to it:

- its creator, or an admin of the workspace: use, edit and manage (share, delete);
- where the plan has no agent sharing, nobody else: an agent is usable by its creator
  alone (admins still manage it, so they can delete it);
- an Editor grant, to them or to a group they are in: use, edit and manage;
- a Viewer grant, to them or a group, or an agent shared with the whole workspace: use.

A deactivated membership reaches nothing. A member whose ``agents`` feature is denied
uses nothing; an admin among them still manages. An agent disabled by staff is used and
edited by nobody; its managers may still delete it.

``evaluate`` is pure over facts loaded once (``load_member``, ``load_agents``: a fixed
number of queries for any number of agents); ``usable_agents`` is the same rule as one
queryset.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from accounts.actor import Actor, ActorKind
from accounts.models import Group, Membership, MemberStatus
from accounts.roles import Role
from core import registry, statements
from features.decisions import Decision as FeatureDecision
from features.decisions import MemberFacts as FeatureMemberFacts
from features.decisions import (
    WorkspaceFacts,
    decide_many,
    load_facts_snapshot,
    load_member_facts,
    load_workspace_facts,
)
from features.decisions import evaluate as evaluate_feature

from .models import Agent, AgentGrant, GrantRole, Visibility


class Code(StrEnum):
    """Why the answer came out as it did; stable values for the service API."""

    CREATOR = "creator"
    ADMIN = "admin"
    DIRECT_GRANT = "direct_grant"
    GROUP_GRANT = "group_grant"
    WHOLE_WORKSPACE = "whole_workspace"
    NOT_SHARED = "not_shared"
    PLAN_FORBIDS_SHARING = "plan_forbids_sharing"
    FEATURE_DENIED = "feature_denied"
    DISABLED = "disabled_by_staff"
    MEMBERSHIP_INACTIVE = "membership_inactive"


@dataclass(frozen=True)
class MemberFacts:
    membership_id: int
    workspace_id: int
    active: bool
    admin: bool
    group_ids: frozenset[int]
    # The member's ``agents`` decision.
    feature: FeatureDecision
    # Whether the workspace's plan has agent sharing (``agent_sharing``).
    plan_shares: bool
    plan_name: str
    group_names: Mapping[int, str] = field(default_factory=dict)
    # What the features' loaders read of the member (groups, rules, switches), kept so that
    # the features an agent's tools need are decided without reading them again.
    features: FeatureMemberFacts | None = field(default=None, compare=False)


@dataclass(frozen=True)
class AgentFacts:
    agent_id: int
    creator_id: int | None
    visibility: str
    disabled: bool
    disabled_reason: str = ""
    member_grants: Mapping[int, str] = field(default_factory=dict)  # membership id -> role
    group_grants: Mapping[int, str] = field(default_factory=dict)  # group id -> role
    # The granted groups' names, read with the grants, for the reason.
    group_names: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Access:
    use: bool
    edit: bool
    manage: bool
    code: Code
    reason: str
    steps: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.use


def _none(code: Code, reason: str, steps: list[str], *, manage: bool = False) -> Access:
    return Access(False, False, manage, code, reason, (*steps, reason))


def evaluate(m: MemberFacts, a: AgentFacts) -> Access:
    steps: list[str] = []
    if not m.active:
        return _none(Code.MEMBERSHIP_INACTIVE, "This membership is deactivated.", steps)
    creator = a.creator_id is not None and a.creator_id == m.membership_id

    # What the member is to the agent, most rights first.
    use, manage = False, False
    if creator:
        code, reason, use, manage = Code.CREATOR, "You created this agent.", True, True
    elif m.admin:
        code, reason, use, manage = Code.ADMIN, "Admins manage every agent.", True, True
        if not m.plan_shares:
            use = False
            reason = (
                f"Admins manage every agent; the {m.plan_name} plan has no agent sharing, "
                "so only its creator uses it."
            )
    elif not m.plan_shares:
        reason = f"The {m.plan_name} plan has no agent sharing: only its creator uses it."
        return _none(Code.PLAN_FORBIDS_SHARING, reason, steps)
    else:
        code, reason = Code.NOT_SHARED, "The agent is not shared with you."
        direct = a.member_grants.get(m.membership_id)
        groups = sorted(
            (a.group_names.get(gid) or m.group_names.get(gid, f"#{gid}"), role)
            for gid, role in a.group_grants.items()
            if gid in m.group_ids
        )
        group_editor = next((name for name, role in groups if role == GrantRole.EDITOR), None)
        if direct == GrantRole.EDITOR:
            code, reason, use, manage = Code.DIRECT_GRANT, "Shared with you as Editor.", True, True
        elif group_editor is not None:
            code, use, manage = Code.GROUP_GRANT, True, True
            reason = f"Shared with the group {group_editor} as Editor."
        elif direct == GrantRole.VIEWER:
            code, reason, use = Code.DIRECT_GRANT, "Shared with you as Viewer.", True
        elif groups:
            code, use = Code.GROUP_GRANT, True
            reason = f"Shared with the group {groups[0][0]} as Viewer."
        elif a.visibility == Visibility.WORKSPACE:
            code, reason, use = Code.WHOLE_WORKSPACE, "Shared with the whole workspace.", True
        if not use:
            return _none(code, reason, steps)
    steps.append(reason)

    if not m.feature.allowed:
        return _none(Code.FEATURE_DENIED, f"Agents: {m.feature.reason}", steps, manage=m.admin)
    if a.disabled:
        why = "Disabled by the platform's staff" + (
            f": {a.disabled_reason}" if a.disabled_reason else "."
        )
        return _none(Code.DISABLED, why, steps, manage=manage)
    return Access(use, manage, manage, code, reason, tuple(steps))


# --- Loading the facts --------------------------------------------------------------------


def load_member(membership: Membership, *, facts: WorkspaceFacts | None = None) -> MemberFacts:
    """The member's side: their groups and the ``agents`` decision, in a fixed number of
    queries (the workspace's facts unless given, then the member's groups, rules and
    switches)."""
    ws_facts = facts if facts is not None else load_workspace_facts(membership.workspace)
    return load_members(ws_facts, [membership])[membership.pk]


def _facts_of(
    agent: Agent, grants: Iterable[tuple[int | None, int | None, str | None, str]]
) -> AgentFacts:
    members: dict[int, str] = {}
    groups: dict[int, str] = {}
    names: dict[int, str] = {}
    for membership_id, group_id, group_name, role in grants:
        if membership_id is not None:
            members[membership_id] = role
        elif group_id is not None:
            groups[group_id] = role
            names[group_id] = group_name or ""
    return AgentFacts(
        agent_id=agent.pk,
        creator_id=agent.created_by_id,
        visibility=agent.visibility,
        disabled=agent.is_disabled,
        disabled_reason=agent.disabled_reason,
        member_grants=members,
        group_grants=groups,
        group_names=names,
    )


def _grant_rows(grants: QuerySet[AgentGrant]) -> QuerySet[Any]:
    """The grants as (agent, member, group, group's name, role). The name is read per grant
    found, from the group's key: a join would read, and hash, every group of the platform
    to name the few a member's grants hold."""
    name = Group.objects.filter(pk=OuterRef("group_id")).order_by().values("name")
    return grants.annotate(group_name=Subquery(name)).values_list(
        "agent_id", "membership_id", "group_id", "group_name", "role"
    )


def _groups_of(membership_id: int) -> QuerySet[Any]:
    """The groups the member is in, as a subquery: the same SQL whatever their number (a
    list of ids would make each member's query text, and its compiling, as long as their
    groups). ``evaluate`` counts a group's grant only for the groups of the facts it is
    given, so a group joined since they were read adds nothing to it."""
    return Group.members.through.objects.filter(membership_id=membership_id).values("group_id")


def agent_facts(
    agents: Iterable[Agent], *, concerning: MemberFacts | None = None
) -> dict[int, AgentFacts]:
    """The agents' side: their grants and the granted groups' names, one query for any
    number of agents. ``concerning``: only the grants to that member and to their groups,
    all that ``evaluate`` reads for them (an agent may hold hundreds of others)."""
    agents = list(agents)
    found: dict[int, list[tuple[int | None, int | None, str | None, str]]] = defaultdict(list)
    ids = list(dict.fromkeys(a.pk for a in agents if a.pk is not None))
    if ids and concerning is not None and len(ids) <= _MOST_COMPILED:
        statement = _grants_statement(len(ids), bool(concerning.group_ids))
        values = {f"a{i}": pk for i, pk in enumerate(ids)}
        rows = statement.rows(membership_id=concerning.membership_id, **values)
    elif ids:
        grants = AgentGrant.objects.filter(agent_id__in=ids)
        if concerning is not None:
            grants = grants.filter(_concerning(concerning.membership_id, concerning.group_ids))
        rows = list(_grant_rows(grants))
    else:
        rows = []
    for agent_id, *grant in rows:
        found[agent_id].append(tuple(grant))
    return {a.pk: _facts_of(a, found.get(a.pk, ())) for a in agents}


def _concerning(membership_id: Any, in_groups: object) -> Q:
    """The grants to the member, and to their groups if they are in any."""
    mine = Q(membership_id=membership_id)
    return mine | Q(group_id__in=_groups_of(membership_id)) if in_groups else mine


# A list's page of agents holds at most this many (the service API's largest page): its
# grants to a member are read by a statement of that many ids, compiled once (one id: the
# service API's fetch, on every call).
_MOST_COMPILED = 201
_GRANTS: dict[tuple[int, bool], statements.Statement] = {}


def _grants_statement(n: int, in_groups: bool) -> statements.Statement:
    found = _GRANTS.get((n, in_groups))
    if found is None:
        names = [f"a{i}" for i in range(n)]
        found = statements.Statement(
            lambda membership_id, **ids: _grant_rows(
                AgentGrant.objects.filter(agent_id__in=[ids[k] for k in names]).filter(
                    _concerning(membership_id, in_groups)
                )
            ),
            membership_id=int,
            **dict.fromkeys(names, int),
        )
        _GRANTS[(n, in_groups)] = found
    return found


def load_members(
    workspace_facts: WorkspaceFacts, memberships: list[Membership]
) -> dict[int, MemberFacts]:
    """``load_member`` for many members of one workspace: three queries (the features'
    loader of groups, rules and switches) whatever the number of members and groups. The
    names of groups come with the agents' grants (``agent_facts``)."""
    if not memberships:
        return {}
    found = load_member_facts(memberships[0].workspace, memberships)
    return {m.pk: member_from(m, workspace_facts, found[m.pk]) for m in memberships}


def member_from(
    membership: Membership, workspace_facts: WorkspaceFacts, found: FeatureMemberFacts
) -> MemberFacts:
    """The member's side from the features' facts of the member, already loaded: no query."""
    return MemberFacts(
        membership_id=membership.pk,
        workspace_id=membership.workspace_id,
        active=membership.status == MemberStatus.ACTIVE,
        admin=membership.role >= Role.ADMIN,
        group_ids=found.group_ids,
        feature=evaluate_feature(registry.get(registry.AGENTS), workspace_facts, found),
        plan_shares=registry.AGENT_SHARING in workspace_facts.plan_features,
        plan_name=workspace_facts.plan_name,
        features=found,
    )


def load_member_snapshot(membership: Membership) -> tuple[WorkspaceFacts, MemberFacts]:
    """``load_member`` for the hot paths: the workspace's and the member's facts from their
    snapshot (``features.decisions.load_facts_snapshot``), no query while it holds."""
    workspace_facts, found = load_facts_snapshot(membership)
    return workspace_facts, member_from(membership, workspace_facts, found)


def feature_decisions(
    membership: Membership, m: MemberFacts, facts: WorkspaceFacts, keys: Iterable[str]
) -> dict[str, FeatureDecision]:
    """The member's decisions of ``keys`` from the facts already loaded (no query), or from
    ``features.decisions`` when the member's were not kept."""
    if m.features is not None:
        return {k: evaluate_feature(registry.get(k), facts, m.features) for k in keys}
    return decide_many(membership.workspace, [membership], keys, facts=facts)[membership.pk]


def decide(membership: Membership, agent: Agent, *, member: MemberFacts | None = None) -> Access:
    """May this member use, edit or manage this agent, and why."""
    if agent.workspace_id != membership.workspace_id:
        return _none(Code.NOT_SHARED, "The agent is not shared with you.", [])
    m = member if member is not None else load_member(membership)
    # A draft (the builder's preview of an agent not yet saved) holds no grants. The
    # groups are the member's in the database (``_groups_of``).
    grants = (
        _grants_statement(1, True).rows(membership_id=membership.pk, a0=agent.pk)
        if agent.pk is not None
        else []
    )
    return evaluate(m, _facts_of(agent, (g[1:] for g in grants)))


def decide_for_agents(m: MemberFacts, agents: Iterable[Agent]) -> dict[int, Access]:
    """The member's answer for each agent of their workspace: one query for the grants."""
    found = agent_facts((a for a in agents if a.workspace_id == m.workspace_id), concerning=m)
    return {pk: evaluate(m, facts) for pk, facts in found.items()}


# --- "Usable by me" as one queryset -------------------------------------------------------


class Usable(StrEnum):
    """The shapes of the rule of ``use`` as a filter, by what the member is."""

    CREATED = "created"  # the plan has no sharing: what they created
    ALL = "all"  # an admin: every agent
    SHARED = "shared"  # theirs, the whole workspace's, and their direct grants
    SHARED_AND_GROUPS = "shared_and_groups"  # and their groups' grants


def usable_shape(m: MemberFacts) -> Usable | None:
    """Which shape of the rule applies to the member; None when they use no agent."""
    if not m.active or not m.feature.allowed:
        return None
    if not m.plan_shares:
        return Usable.CREATED
    if m.admin:
        return Usable.ALL
    return Usable.SHARED_AND_GROUPS if m.group_ids else Usable.SHARED


def usable_rule(shape: Usable, workspace_id: int, membership_id: int) -> Q:
    """The rule of ``evaluate`` for ``use`` of that shape, as a filter on agents."""
    if shape is Usable.CREATED:
        rule = Q(created_by_id=membership_id)
    elif shape is Usable.ALL:
        rule = Q()
    else:
        grants = AgentGrant.objects.filter(agent=OuterRef("pk"))
        rule = Q(created_by_id=membership_id) | Q(visibility=Visibility.WORKSPACE)
        rule |= Q(Exists(grants.filter(membership_id=membership_id)))
        if shape is Usable.SHARED_AND_GROUPS:
            rule |= Q(Exists(grants.filter(group_id__in=_groups_of(membership_id))))
    return Q(workspace_id=workspace_id, disabled_at__isnull=True, current__isnull=False) & rule


def usable_filter(m: MemberFacts) -> Q | None:
    """The rule of ``evaluate`` for ``use``, as a filter on agents of the member's
    workspace; None when the member uses none."""
    shape = usable_shape(m)
    return None if shape is None else usable_rule(shape, m.workspace_id, m.membership_id)


def usable_agents(membership: Membership, *, member: MemberFacts | None = None) -> QuerySet[Agent]:
    """The agents this member may use, by name, with their current version (its
    instructions left in the database, as lists show none) and model: a fixed number of
    queries whatever the number of agents, grants and groups."""
    m = member if member is not None else load_member(membership)
    rule = usable_filter(m)
    qs = (
        Agent.objects.select_related("current", "current__base_model")
        .defer("current__instructions")
        .order_by("name", "id")
    )
    return qs.none() if rule is None else qs.filter(rule)


# --- The door for URLs ----------------------------------------------------------------


def access_agent(actor: Actor, agent_id: int, *, need: str = "use") -> tuple[Agent, Access]:
    """The agent ``agent_id`` of the actor's workspace with the actor's access to it, or
    404: missing, of another workspace, or out of reach (``need``: use, edit or manage)
    alike, so a URL never tells which."""
    m = actor.membership
    if actor.kind is not ActorKind.MEMBER or m is None or m.status != MemberStatus.ACTIVE:
        raise Http404("No such agent.")
    agent = (
        Agent.objects.select_related("current", "current__base_model", "workspace")
        .filter(pk=agent_id, workspace_id=m.workspace_id)
        .first()
    )
    if agent is None:
        raise Http404("No such agent.")
    access = decide(m, agent)
    if not getattr(access, need):
        raise Http404("No such agent.")
    return agent, access
