"""May this member use this feature, and why (R-FEAT-1, R-FEAT-2, R-MEDIA-2).

The one decision of the console: pages, the service API and every other app ask here.
The levels are read in this order, and the first that denies ends the walk:

1. compliance: a deactivated membership, a suspended workspace, the Media Customer block
   on verified news (lifted by an editorial-use authorization in force for the member);
2. the plan of the workspace's subscription;
3. the workspace's rule, then the rules of the member's groups (among several groups a
   deny wins), then the member's own rule: each allows, denies or inherits (no rule).
   A deny at one level cannot be undone below it; an allow leaves the levels below free to
   deny. With no allow anywhere, the feature's default applies (most are on);
4. the user's own switch, for features users may turn off for themselves.

``evaluate`` is the pure rule over preloaded facts; the loaders read those facts in a fixed
number of queries, whether for one member or a whole workspace.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from django.utils import timezone

from accounts.models import Group, Membership, MemberStatus, Workspace
from billing.selectors import Entitlements, entitlements
from compliance.selectors import MediaState, media_state
from core import registry, snapshots
from core.registry import Feature

from .models import Effect, FeatureOptOut, FeatureRule


class Code(StrEnum):
    """Why a decision came out as it did; stable values for the service API."""

    ALLOWED = "allowed"
    MEMBERSHIP_INACTIVE = "membership_inactive"
    WORKSPACE_SUSPENDED = "workspace_suspended"
    MEDIA_CUSTOMER = "media_customer"
    NOT_IN_PLAN = "not_in_plan"
    WORKSPACE_RULE = "workspace_rule"
    GROUP_RULE = "group_rule"
    MEMBER_RULE = "member_rule"
    OFF_BY_DEFAULT = "off_by_default"
    USER_SWITCH = "user_switch"


class Level(StrEnum):
    COMPLIANCE = "compliance"
    PLAN = "plan"
    WORKSPACE = "workspace"
    GROUP = "group"
    MEMBER = "member"
    USER = "user"


INHERIT = "inherit"


@dataclass(frozen=True)
class Step:
    """One line of the decision chain, as the "why" popover shows it."""

    level: Level
    label: str
    outcome: str  # "allow", "deny", "inherit", "pass", "block", "on", "off"
    detail: str


@dataclass(frozen=True)
class Decision:
    feature: Feature
    allowed: bool
    code: Code
    reason: str
    level: Level
    steps: tuple[Step, ...]
    # Whether the user may turn the feature on or off for themselves right now: the feature
    # is switchable and everything above the user's switch allows it.
    user_may_switch: bool = False

    @property
    def key(self) -> str:
        return self.feature.key


@dataclass(frozen=True)
class WorkspaceFacts:
    """What the decision reads about a workspace, loaded once for any number of members."""

    plan_name: str
    plan_features: frozenset[str]
    suspended: bool
    suspension_reason: str
    media: MediaState
    workspace_rules: Mapping[str, str]  # feature -> effect
    group_rules: Mapping[tuple[int, str], str]  # (group id, feature) -> effect
    group_names: Mapping[int, str]
    # What the plan gives, for callers that show limits beside the decisions.
    entitlements: Entitlements | None = None


@dataclass(frozen=True)
class MemberFacts:
    membership_id: int
    active: bool
    group_ids: frozenset[int] = frozenset()
    rules: Mapping[str, str] = field(default_factory=dict)  # feature -> effect
    opt_outs: frozenset[str] = frozenset()


def _deny(feature: Feature, code: Code, level: Level, reason: str, steps: list[Step]) -> Decision:
    return Decision(feature, False, code, reason, level, tuple(steps))


def evaluate(feature: Feature, ws: WorkspaceFacts, m: MemberFacts) -> Decision:
    steps: list[Step] = []
    key = feature.key

    # 1. Compliance.
    if not m.active:
        reason = "This membership is deactivated."
        steps.append(Step(Level.COMPLIANCE, "Membership", "block", reason))
        return _deny(feature, Code.MEMBERSHIP_INACTIVE, Level.COMPLIANCE, reason, steps)
    if ws.suspended:
        reason = "The workspace is suspended" + (
            f": {ws.suspension_reason}" if ws.suspension_reason else "."
        )
        steps.append(Step(Level.COMPLIANCE, "Suspension", "block", reason))
        return _deny(feature, Code.WORKSPACE_SUSPENDED, Level.COMPLIANCE, reason, steps)
    if key == registry.NEWS and ws.media.is_media_customer:
        exception = ws.media.exception_for(m.group_ids)
        if exception is None:
            reason = (
                "Media Customer: a workspace that disseminates information for editorial purposes "
                "may not use verified news without an editorial-use authorization."
            )
            steps.append(Step(Level.COMPLIANCE, "Media Customer", "block", reason))
            return _deny(feature, Code.MEDIA_CUSTOMER, Level.COMPLIANCE, reason, steps)
        steps.append(
            Step(
                Level.COMPLIANCE,
                "Media Customer",
                "pass",
                f"Editorial-use authorization in force until {exception.ends_on.isoformat()}.",
            )
        )
    else:
        steps.append(Step(Level.COMPLIANCE, "Compliance", "pass", "No compliance block."))

    # 2. The plan.
    if key not in ws.plan_features:
        reason = f"Not included in the {ws.plan_name} plan."
        steps.append(Step(Level.PLAN, f"Plan: {ws.plan_name}", "block", reason))
        return _deny(feature, Code.NOT_IN_PLAN, Level.PLAN, reason, steps)
    steps.append(
        Step(Level.PLAN, f"Plan: {ws.plan_name}", "pass", f"Included in the {ws.plan_name} plan.")
    )

    # 3. Admins' rules, from the broadest to the most specific.
    allowed_by = ""
    effect = ws.workspace_rules.get(key, INHERIT)
    if effect == Effect.DENY:
        reason = "Turned off for the whole workspace by an admin."
        steps.append(Step(Level.WORKSPACE, "Workspace rule", "deny", reason))
        return _deny(feature, Code.WORKSPACE_RULE, Level.WORKSPACE, reason, steps)
    if effect == Effect.ALLOW:
        allowed_by = "Turned on for the whole workspace by an admin."
        steps.append(Step(Level.WORKSPACE, "Workspace rule", "allow", allowed_by))
    else:
        steps.append(
            Step(Level.WORKSPACE, "Workspace rule", INHERIT, "No rule for the whole workspace.")
        )

    group_effects = sorted(
        (ws.group_names.get(gid, f"#{gid}"), ws.group_rules[(gid, key)])
        for gid in m.group_ids
        if (gid, key) in ws.group_rules
    )
    for name, group_effect in group_effects:
        steps.append(
            Step(
                Level.GROUP,
                f"Group: {name}",
                group_effect,
                f"{'Turned off' if group_effect == Effect.DENY else 'Turned on'} for the group {name}.",
            )
        )
    denying = [name for name, e in group_effects if e == Effect.DENY]
    if denying:
        reason = f"Turned off for the group {denying[0]} by an admin."
        return _deny(feature, Code.GROUP_RULE, Level.GROUP, reason, steps)
    if group_effects:
        allowed_by = f"Turned on for the group {group_effects[0][0]} by an admin."
    else:
        steps.append(Step(Level.GROUP, "Group rules", INHERIT, "No rule for the member's groups."))

    effect = m.rules.get(key, INHERIT)
    if effect == Effect.DENY:
        reason = "Turned off for this member by an admin."
        steps.append(Step(Level.MEMBER, "Member rule", "deny", reason))
        return _deny(feature, Code.MEMBER_RULE, Level.MEMBER, reason, steps)
    if effect == Effect.ALLOW:
        allowed_by = "Turned on for this member by an admin."
        steps.append(Step(Level.MEMBER, "Member rule", "allow", allowed_by))
    else:
        steps.append(Step(Level.MEMBER, "Member rule", INHERIT, "No rule for this member."))

    if not allowed_by and not feature.default_on:
        reason = "Off unless an admin turns it on."
        return _deny(feature, Code.OFF_BY_DEFAULT, Level.WORKSPACE, reason, steps)

    # 4. The user's own switch.
    if feature.user_switchable:
        if key in m.opt_outs:
            reason = "Switched off by the user."
            steps.append(Step(Level.USER, "Own switch", "off", reason))
            return replace(
                _deny(feature, Code.USER_SWITCH, Level.USER, reason, steps), user_may_switch=True
            )
        steps.append(Step(Level.USER, "Own switch", "on", "Not switched off by the user."))
    reason = allowed_by or f"Included in the {ws.plan_name} plan."
    return Decision(
        feature,
        True,
        Code.ALLOWED,
        reason,
        steps[-1].level,
        tuple(steps),
        user_may_switch=feature.user_switchable,
    )


# --- Loading the facts --------------------------------------------------------------------

# Above this many members, rows are read for the whole workspace instead of an id list.
_ID_LIST_LIMIT = 500


def load_workspace_facts(
    workspace: Workspace, rules: Iterable[FeatureRule] | None = None
) -> WorkspaceFacts:
    """Three to five queries: plan, Media Customer state, the workspace's and groups' rules.
    The rules are read as values, not model instances: a workspace may hold a rule for each
    of hundreds of groups, and every decision reads them."""
    ent = entitlements(workspace)
    rows: Iterable[tuple[str, str, int | None, str | None]]
    if rules is None:
        found = FeatureRule.objects.filter(workspace=workspace, membership__isnull=True)
        rows = found.values_list("feature", "effect", "group_id", "group__name")
    else:
        rows = (
            (r.feature, r.effect, r.group_id, r.group.name if r.group is not None else None)
            for r in rules
            if r.membership_id is None
        )
    workspace_rules: dict[str, str] = {}
    group_rules: dict[tuple[int, str], str] = {}
    group_names: dict[int, str] = {}
    for feature, effect, group_id, group_name in rows:
        if group_id is None:
            workspace_rules[feature] = effect
        else:
            group_rules[(group_id, feature)] = effect
            group_names[group_id] = group_name or ""
    return WorkspaceFacts(
        plan_name=ent.plan.name,
        plan_features=ent.features,
        suspended=workspace.is_suspended,
        suspension_reason=workspace.suspension_reason,
        media=media_state(workspace),
        workspace_rules=workspace_rules,
        group_rules=group_rules,
        group_names=group_names,
        entitlements=ent,
    )


def load_member_facts(
    workspace: Workspace, memberships: list[Membership]
) -> dict[int, MemberFacts]:
    """Three queries for any number of members of one workspace: groups, rules, switches."""
    if not memberships:
        return {}
    ids = [m.pk for m in memberships]
    by_list = len(ids) <= _ID_LIST_LIMIT
    through = Group.members.through
    links = through.objects.filter(group__workspace=workspace)
    rules = FeatureRule.objects.filter(workspace=workspace, membership__isnull=False)
    opt_outs = FeatureOptOut.objects.filter(workspace=workspace)
    if by_list:
        links, rules, opt_outs = (
            links.filter(membership_id__in=ids),
            rules.filter(membership_id__in=ids),
            opt_outs.filter(membership_id__in=ids),
        )
    groups: dict[int, set[int]] = defaultdict(set)
    for membership_id, group_id in links.values_list("membership_id", "group_id"):
        groups[membership_id].add(group_id)
    member_rules: dict[int, dict[str, str]] = defaultdict(dict)
    for membership_id, feature, effect in rules.values_list("membership_id", "feature", "effect"):
        member_rules[membership_id][feature] = effect
    switched_off: dict[int, set[str]] = defaultdict(set)
    for membership_id, feature in opt_outs.values_list("membership_id", "feature"):
        switched_off[membership_id].add(feature)
    return {
        m.pk: MemberFacts(
            membership_id=m.pk,
            active=m.status == MemberStatus.ACTIVE,
            group_ids=frozenset(groups.get(m.pk, ())),
            rules=member_rules.get(m.pk, {}),
            opt_outs=frozenset(switched_off.get(m.pk, ())),
        )
        for m in memberships
    }


def snapshot_stamps(workspace_id: int) -> list[str]:
    """What one member's decision facts are made of (``core.snapshots``): the workspace's
    plan, rules, groups, switches and Media Customer state, and the plans."""
    return [snapshots.decisions(workspace_id), snapshots.PLANS]


def load_facts_snapshot(membership: Membership) -> tuple[WorkspaceFacts, MemberFacts]:
    """The workspace's facts and the member's, from their snapshot while nothing they are
    made of has changed (every service that changes them moves the workspace's stamp),
    else read (six queries) and kept. What the membership's and the workspace's own rows
    say (deactivated, suspended) is taken from the rows given, never from the snapshot;
    editorial-use exceptions end with a day, which is part of the snapshot's name."""
    ws = membership.workspace
    today = timezone.now().date()

    def load() -> tuple[WorkspaceFacts, MemberFacts]:
        return load_workspace_facts(ws), load_member_facts(ws, [membership])[membership.pk]

    name = f"decisions:{ws.pk}:{membership.pk}:{today.isoformat()}"
    ws_facts, m_facts = snapshots.read(name, snapshot_stamps(ws.pk), load)
    ws_facts = replace(ws_facts, suspended=ws.is_suspended, suspension_reason=ws.suspension_reason)
    m_facts = replace(m_facts, active=membership.status == MemberStatus.ACTIVE)
    return ws_facts, m_facts


# --- The public functions -----------------------------------------------------------------


def decide_many(
    workspace: Workspace,
    memberships: list[Membership],
    features: Iterable[str] = registry.KEYS,
    *,
    facts: WorkspaceFacts | None = None,
) -> dict[int, dict[str, Decision]]:
    """Decisions for many members of one workspace, by membership id then feature key, in a
    fixed number of queries whatever the number of members, groups and rules. A caller that
    has loaded the workspace's facts for this request passes them as ``facts``."""
    chosen = [registry.get(k) for k in features]
    ws_facts = facts if facts is not None else load_workspace_facts(workspace)
    member_facts = load_member_facts(workspace, memberships)
    return {
        m.pk: {f.key: evaluate(f, ws_facts, member_facts[m.pk]) for f in chosen}
        for m in memberships
    }


def decide_all(
    membership: Membership, *, facts: WorkspaceFacts | None = None
) -> dict[str, Decision]:
    """Every feature's decision for one member, in the registry's order."""
    return decide_many(membership.workspace, [membership], facts=facts)[membership.pk]


def decide(membership: Membership, feature: str) -> Decision:
    """May this member use this feature, and why. KeyError for an unknown feature key."""
    return decide_many(membership.workspace, [membership], [feature])[membership.pk][feature]
