"""Every change of an agent (R-AGT-1 to R-AGT-7), as functions taking the actor first.

Who may do what is ``agents.access``: editing needs ``edit`` (creator, admins, Editors),
sharing, unsharing and deleting need ``manage``; staff disable and enable agents and
approve names, and never read or change instructions. Widening (sharing, the whole
workspace) needs the plan's agent sharing and the member's ``agent_sharing`` decision;
narrowing (unsharing, restricting, deleting) stays open to managers whatever the plan.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.actor import Actor, ActorKind, authorize, require_staff
from accounts.models import Group, Membership, MemberStatus, Workspace
from accounts.roles import Perm, Role
from billing.selectors import resolve_for_workspace
from catalogue.models import ModelRef
from compliance.selectors import is_media_customer
from core import registry
from core.audit import record
from core.errors import DomainError, NotAllowed
from core.parsing import is_storable_text, parse_id
from features.decisions import decide as decide_feature

from . import names, sources, tools
from .access import Access, decide
from .audit import Action
from .models import (
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_P,
    TEMPERATURE_MAX,
    TEMPERATURE_MIN,
    TOP_P_MAX,
    TOP_P_MIN,
    Agent,
    AgentGrant,
    AgentSettings,
    AgentVersion,
    BlockedTerm,
    GrantRole,
    Visibility,
    WorkspaceSharing,
)

DESCRIPTION_MAX = Agent._meta.get_field("description").max_length or 500
INSTRUCTIONS_MAX = 20_000
REASON_MAX = Agent._meta.get_field("disabled_reason").max_length or 500
SOURCES_MAX = 50

NEEDS_MEMBER = "Agents are created by members of the workspace."
FEATURE_OFF = "Agents are not available to you in this workspace: {reason}"
NO_SUCH_AGENT = "This agent does not exist any more."
NOT_AN_EDITOR = "Only the agent's creator, its editors and the workspace's admins may edit it."
NOT_A_MANAGER = (
    "Only the agent's creator, its editors and the workspace's admins may share or delete it."
)
DESCRIPTION_TOO_LONG = f"Use at most {DESCRIPTION_MAX} characters."
TEXT_INVISIBLE = "The text cannot contain NUL or control characters."
INSTRUCTIONS_TOO_LONG = f"Use at most {INSTRUCTIONS_MAX:,} characters."
UNKNOWN_TOOL = "Choose tools from the list."
TOOLS_UNSUPPORTED = "{model} does not support tools: choose another model or no tools."
MEDIA_NEWS = "This workspace is a Media Customer: its agents cannot carry the verified news tool."
SOURCES_NEED_SEARCH = "Turn on document search to use libraries and connections."
SEARCH_NEEDS_SOURCES = "Choose at least one library or connection for document search."
TOO_MANY_SOURCES = f"Choose at most {SOURCES_MAX} libraries and connections."
FOREIGN_LIBRARY = "Choose libraries of this workspace."
FOREIGN_CONNECTION = "Choose connections of this workspace."
TEMPERATURE_RANGE = f"Enter a temperature from {TEMPERATURE_MIN} to {TEMPERATURE_MAX}."
TOP_P_RANGE = f"Enter a top p from {TOP_P_MIN} to {TOP_P_MAX}."
MAX_TOKENS_RANGE = "Enter a number of tokens from 1 to {limit:,}, the model's context window."
NUMBER_INVALID = "Enter a number with at most two decimals."
SHARING_NOT_IN_PLAN = "The workspace's plan does not include agent sharing."
SHARING_OFF = "Agent sharing is not available to you: {reason}"
WORKSPACE_SHARING_ADMINS = "Only admins may share agents with the whole workspace here."
UNKNOWN_TARGET = "Choose a member or a group of this workspace."
UNKNOWN_ROLE = "Choose Viewer or Editor."
UNKNOWN_VISIBILITY = "Choose the whole workspace or chosen members and groups."
UNKNOWN_SHARING = "Choose every member or admins only."
NO_SUCH_GRANT = "The agent is not shared that way any more."
NO_SUCH_VERSION = "This version does not exist."
REASON_NEEDED = "Give the reason the workspace will see."
REASON_TOO_LONG = f"Use at most {REASON_MAX} characters."
ALREADY_DISABLED = "The agent is disabled already."
NOT_DISABLED = "The agent is not disabled."
TERM_EMPTY = "Enter a term."
TERM_TAKEN = "This term is blocked already."

_CONTROL = {"Cc", "Cf", "Co", "Cn", "Cs"}
_TWO_PLACES = Decimal("0.01")


# --- The configuration of a version ---------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """What one version holds: the model, instructions, tools and completion settings."""

    model: ModelRef
    instructions: str = ""
    tools: tuple[str, ...] = ()
    library_ids: tuple[int, ...] = ()
    connection_ids: tuple[int, ...] = ()
    temperature: Decimal = DEFAULT_TEMPERATURE
    max_tokens: int | None = None
    top_p: Decimal = DEFAULT_TOP_P

    @classmethod
    def of(cls, version: AgentVersion) -> Config:
        return cls(
            model=version.model_ref,
            instructions=version.instructions,
            tools=tuple(version.tools),
            library_ids=tuple(version.library_ids),
            connection_ids=tuple(version.connection_ids),
            temperature=version.temperature,
            max_tokens=version.max_tokens,
            top_p=version.top_p,
        )

    def fields(self) -> dict[str, Any]:
        return {
            "base_model": self.model.base,
            "fine_tuned_id": self.model.fine_tuned_id,
            "instructions": self.instructions,
            "tools": list(self.tools),
            "library_ids": list(self.library_ids),
            "connection_ids": list(self.connection_ids),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
        }


def _has_control(text: str, allowed: str) -> bool:
    return any(unicodedata.category(ch) in _CONTROL for ch in text if ch not in allowed)


def clean_text(raw: str, *, field: str, limit: int, too_long: str, allowed: str) -> str:
    if not isinstance(raw, str) or not is_storable_text(raw) or _has_control(raw, allowed):
        raise DomainError(TEXT_INVISIBLE, field=field)
    text = raw.replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise DomainError(too_long, field=field)
    return text


def _decimal(value: object, low: Decimal, high: Decimal, message: str, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(NUMBER_INVALID, field=field) from exc
    if not number.is_finite():
        raise DomainError(NUMBER_INVALID, field=field)
    if not low <= number <= high:
        raise DomainError(message, field=field)
    if number != number.quantize(_TWO_PLACES):
        raise DomainError(NUMBER_INVALID, field=field)
    return number.quantize(_TWO_PLACES)


def _ids(values: object, message: str, field: str) -> tuple[int, ...]:
    if not isinstance(values, (list, tuple, set, frozenset)):
        raise DomainError(message, field=field)
    out = set()
    for value in values:
        pk = parse_id(value)
        if pk is None:
            raise DomainError(message, field=field)
        out.add(pk)
    return tuple(sorted(out))


def clean_config(workspace: Workspace, config: Config) -> Config:
    """The configuration as stored, or the first problem with the field it is about."""
    resolved = resolve_for_workspace(config.model, workspace)
    if not resolved.usable:
        raise DomainError(resolved.reason, field="model")
    instructions = clean_text(
        config.instructions,
        field="instructions",
        limit=INSTRUCTIONS_MAX,
        too_long=INSTRUCTIONS_TOO_LONG,
        allowed="\t\n\r",
    )
    chosen = list(config.tools)
    if any(not isinstance(k, str) or k not in tools.BY_KEY for k in chosen):
        raise DomainError(UNKNOWN_TOOL, field="tools")
    keys = tuple(tools.ordered(chosen))
    base = config.model.base
    if keys and base is not None and not base.supports_tools:
        raise DomainError(TOOLS_UNSUPPORTED.format(model=base.name), field="tools")
    if tools.NEWS in keys and is_media_customer(workspace):
        raise DomainError(MEDIA_NEWS, field="tools")
    library_ids = _ids(config.library_ids, FOREIGN_LIBRARY, "library_ids")
    connection_ids = _ids(config.connection_ids, FOREIGN_CONNECTION, "connection_ids")
    if len(library_ids) + len(connection_ids) > SOURCES_MAX:
        raise DomainError(TOO_MANY_SOURCES, field="library_ids")
    searching = tools.DOCUMENT_SEARCH in keys
    if (library_ids or connection_ids) and not searching:
        raise DomainError(SOURCES_NEED_SEARCH, field="tools")
    if searching and not (library_ids or connection_ids):
        raise DomainError(SEARCH_NEEDS_SOURCES, field="library_ids")
    if library_ids and len(sources.libraries(workspace.pk, library_ids)) != len(library_ids):
        raise DomainError(FOREIGN_LIBRARY, field="library_ids")
    if connection_ids and len(sources.connections(workspace.pk, connection_ids)) != len(
        connection_ids
    ):
        raise DomainError(FOREIGN_CONNECTION, field="connection_ids")
    temperature = _decimal(
        config.temperature, TEMPERATURE_MIN, TEMPERATURE_MAX, TEMPERATURE_RANGE, "temperature"
    )
    top_p = _decimal(config.top_p, TOP_P_MIN, TOP_P_MAX, TOP_P_RANGE, "top_p")
    max_tokens = config.max_tokens
    if max_tokens is not None:
        limit = base.context_window if base is not None else 1
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
            raise DomainError(MAX_TOKENS_RANGE.format(limit=limit), field="max_tokens")
        if not 1 <= max_tokens <= limit:
            raise DomainError(MAX_TOKENS_RANGE.format(limit=limit), field="max_tokens")
    return Config(
        model=config.model,
        instructions=instructions,
        tools=keys,
        library_ids=library_ids,
        connection_ids=connection_ids,
        temperature=temperature,
        max_tokens=max_tokens,
        top_p=top_p,
    )


def clean_description(raw: str) -> str:
    return clean_text(
        raw,
        field="description",
        limit=DESCRIPTION_MAX,
        too_long=DESCRIPTION_TOO_LONG,
        allowed="",
    )


def blocked_terms() -> list[str]:
    """The terms staff block, one query."""
    return list(BlockedTerm.objects.values_list("term", flat=True))


def clean_name(raw: str, *, approved: bool = False) -> str:
    name = names.normalize(raw)
    names.check(name, blocked_terms(), approved=approved)
    return name


# --- Who acts ------------------------------------------------------------------------------


def _member(actor: Actor, workspace_id: int) -> Membership:
    authorize(actor, workspace_id, Perm.VIEW_WORKSPACE, staff=False)
    m = actor.membership
    if m is None:
        raise NotAllowed(NEEDS_MEMBER)
    return m


def _locked(agent_id: int) -> Agent:
    found = (
        Agent.objects.select_for_update(of=("self",))
        .select_related("workspace", "current", "current__base_model")
        .filter(pk=agent_id)
        .first()
    )
    if found is None:
        raise DomainError(NO_SUCH_AGENT)
    return found


def _access(actor: Actor, agent: Agent) -> tuple[Membership, Access]:
    m = _member(actor, agent.workspace_id)
    return m, decide(m, agent)


def settings_for(workspace: Workspace) -> AgentSettings:
    """The workspace's agent settings (the defaults when it has no row): one query."""
    found = AgentSettings.objects.filter(workspace=workspace).first()
    return found if found is not None else AgentSettings(workspace=workspace)


def may_share_with_workspace(role: int, settings: AgentSettings) -> bool:
    return settings.workspace_sharing == WorkspaceSharing.EVERYONE or role >= Role.ADMIN


def _require_sharing(m: Membership) -> None:
    decision = decide_feature(m, registry.AGENT_SHARING)
    if not decision.allowed:
        if decision.code == "not_in_plan":
            raise DomainError(SHARING_NOT_IN_PLAN)
        raise NotAllowed(SHARING_OFF.format(reason=decision.reason))


def _save_agent_name(agent: Agent, fields: list[str]) -> None:
    """Writes the agent; a name another agent took in the meantime (the unique constraint,
    in a savepoint) answers the same error as the check before it."""
    try:
        with transaction.atomic():
            agent.save(update_fields=fields) if agent.pk else agent.save()
    except IntegrityError as exc:
        raise DomainError(names.NAME_TAKEN, field="name") from exc


def _name_taken(workspace_id: int, name: str, other_than: int | None = None) -> bool:
    qs = Agent.objects.filter(workspace_id=workspace_id, name__iexact=name)
    if other_than is not None:
        qs = qs.exclude(pk=other_than)
    return qs.exists()


def _new_version(agent: Agent, config: Config, author: Any, **extra: Any) -> AgentVersion:
    last = agent.versions.aggregate(n=Max("number"))["n"] or 0
    version = AgentVersion(agent=agent, number=last + 1, author=author, **config.fields(), **extra)
    version.full_clean(exclude=["agent", "author"])
    version.save()
    return version


# --- Creating and editing --------------------------------------------------------------------


@transaction.atomic
def agent_create(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    config: Config,
    description: str = "",
    visibility: str | None = None,
) -> Agent:
    m = _member(actor, workspace.pk)
    feature = decide_feature(m, registry.AGENTS)
    if not feature.allowed:
        raise NotAllowed(FEATURE_OFF.format(reason=feature.reason))
    name = clean_name(name)
    description = clean_description(description)
    config = clean_config(workspace, config)
    settings = settings_for(workspace)
    if visibility is None:
        visibility = settings.default_visibility
        if visibility == Visibility.WORKSPACE and not may_share_with_workspace(m.role, settings):
            visibility = Visibility.RESTRICTED
    elif visibility not in Visibility.values:
        raise DomainError(UNKNOWN_VISIBILITY, field="visibility")
    elif visibility == Visibility.WORKSPACE and not may_share_with_workspace(m.role, settings):
        raise NotAllowed(WORKSPACE_SHARING_ADMINS)
    if _name_taken(workspace.pk, name):
        raise DomainError(names.NAME_TAKEN, field="name")
    agent = Agent(
        workspace=workspace,
        created_by=m,
        name=name,
        description=description,
        visibility=visibility,
    )
    _save_agent_name(agent, [])
    version = _new_version(agent, config, m.user)
    agent.current = version
    agent.save(update_fields=["current"])
    record(
        actor=actor,
        workspace=workspace,
        action=Action.AGENT_CREATED,
        target=agent,
        after={"name": name, "version": 1, "visibility": visibility},
    )
    return agent


@transaction.atomic
def agent_update(
    *, actor: Actor, agent_id: int, name: str, description: str, config: Config
) -> Agent:
    """Saves the agent: a changed configuration is a new version; nothing changed, nothing
    written. A rename lifts the staff's approval of the old name."""
    agent = _locked(agent_id)
    _m, access = _access(actor, agent)
    if not access.edit:
        raise NotAllowed(NOT_AN_EDITOR)
    clean = names.normalize(name)
    renamed = clean != agent.name
    if renamed:
        clean = clean_name(clean)
    description = clean_description(description)
    config = clean_config(agent.workspace, config)
    current = Config.of(agent.current) if agent.current is not None else None
    if not renamed and description == agent.description and config == current:
        return agent
    before: dict[str, Any] = {"version": agent.current.number if agent.current else None}
    fields = ["updated_at"]
    if renamed:
        if _name_taken(agent.workspace_id, clean, other_than=agent.pk):
            raise DomainError(names.NAME_TAKEN, field="name")
        before["name"] = agent.name
        agent.name, agent.name_approved_by_staff = clean, False
        fields += ["name", "name_approved_by_staff"]
    if description != agent.description:
        agent.description = description
        fields.append("description")
    if config != current:
        agent.current = _new_version(agent, config, actor.audit_user)
        fields.append("current")
    agent.updated_at = timezone.now()
    _save_agent_name(agent, fields)
    after: dict[str, Any] = {"version": agent.current.number if agent.current else None}
    if renamed:
        after["name"] = clean
    record(
        actor=actor,
        workspace=agent.workspace,
        action=Action.AGENT_UPDATED,
        target=agent,
        before=before,
        after=after,
    )
    return agent


@transaction.atomic
def agent_restore_version(*, actor: Actor, agent_id: int, number: int) -> Agent:
    """Makes an older version current again, as a new version that copies it, checked
    against today's plan and rules as any save is."""
    agent = _locked(agent_id)
    _m, access = _access(actor, agent)
    if not access.edit:
        raise NotAllowed(NOT_AN_EDITOR)
    old = agent.versions.select_related("base_model").filter(number=number).first()
    if old is None:
        raise DomainError(NO_SUCH_VERSION)
    if agent.current is not None and agent.current.pk == old.pk:
        return agent
    config = clean_config(agent.workspace, Config.of(old))
    before = {"version": agent.current.number if agent.current else None}
    agent.current = _new_version(agent, config, actor.audit_user, restored_from=old.number)
    agent.updated_at = timezone.now()
    agent.save(update_fields=["current", "updated_at"])
    record(
        actor=actor,
        workspace=agent.workspace,
        action=Action.AGENT_RESTORED,
        target=agent,
        before=before,
        after={"version": agent.current.number, "restored_from": old.number},
    )
    return agent


# --- Sharing ---------------------------------------------------------------------------------


class TargetKind(StrEnum):
    MEMBER = "member"
    GROUP = "group"


@dataclass(frozen=True)
class ShareTarget:
    kind: TargetKind
    id: int

    @classmethod
    def member(cls, pk: int) -> ShareTarget:
        return cls(TargetKind.MEMBER, pk)

    @classmethod
    def group(cls, pk: int) -> ShareTarget:
        return cls(TargetKind.GROUP, pk)


def _grant_text(grant: AgentGrant) -> str:
    if grant.group is not None:
        return f"the group {grant.group.name}"
    return grant.membership.user.email if grant.membership is not None else "a member"


def _require_manager(actor: Actor, agent: Agent) -> Membership:
    m, access = _access(actor, agent)
    if not access.manage:
        raise NotAllowed(NOT_A_MANAGER)
    return m


@transaction.atomic
def agent_share_grant(*, actor: Actor, agent_id: int, target: ShareTarget, role: str) -> AgentGrant:
    agent = _locked(agent_id)
    m = _require_manager(actor, agent)
    if role not in GrantRole.values:
        raise DomainError(UNKNOWN_ROLE, field="role")
    _require_sharing(m)
    pk = parse_id(target.id)
    membership: Membership | None = None
    group: Group | None = None
    if pk is not None and target.kind == TargetKind.MEMBER:
        membership = (
            Membership.objects.select_related("user")
            .filter(pk=pk, workspace_id=agent.workspace_id, status=MemberStatus.ACTIVE)
            .first()
        )
    elif pk is not None and target.kind == TargetKind.GROUP:
        group = Group.objects.filter(pk=pk, workspace_id=agent.workspace_id).first()
    if membership is None and group is None:
        raise DomainError(UNKNOWN_TARGET, field="target")
    grant = AgentGrant.objects.filter(agent=agent, membership=membership, group=group).first()
    before: dict[str, Any] = {}
    if grant is not None:
        if grant.role == role:
            return grant
        before = {"role": grant.role}
        grant.role = role
        grant.save(update_fields=["role"])
    else:
        grant = AgentGrant.objects.create(
            agent=agent, membership=membership, group=group, role=role
        )
    record(
        actor=actor,
        workspace=agent.workspace,
        action=Action.AGENT_SHARED,
        target=agent,
        before=before,
        after={"target": _grant_text(grant), "role": role},
    )
    return grant


@transaction.atomic
def agent_share_revoke(*, actor: Actor, agent_id: int, grant_id: int) -> None:
    agent = _locked(agent_id)
    _require_manager(actor, agent)
    pk = parse_id(grant_id)
    grant = (
        AgentGrant.objects.select_related("group", "membership__user")
        .filter(pk=pk or 0, agent=agent)
        .first()
    )
    if grant is None:
        raise DomainError(NO_SUCH_GRANT)
    text, role = _grant_text(grant), grant.role
    grant.delete()
    record(
        actor=actor,
        workspace=agent.workspace,
        action=Action.AGENT_UNSHARED,
        target=agent,
        before={"target": text, "role": role},
    )


@transaction.atomic
def agent_visibility_set(*, actor: Actor, agent_id: int, visibility: str) -> Agent:
    agent = _locked(agent_id)
    m = _require_manager(actor, agent)
    if visibility not in Visibility.values:
        raise DomainError(UNKNOWN_VISIBILITY, field="visibility")
    if visibility == agent.visibility:
        return agent
    if visibility == Visibility.WORKSPACE:
        _require_sharing(m)
        if not may_share_with_workspace(m.role, settings_for(agent.workspace)):
            raise NotAllowed(WORKSPACE_SHARING_ADMINS)
    before = agent.visibility
    agent.visibility = visibility
    agent.updated_at = timezone.now()
    agent.save(update_fields=["visibility", "updated_at"])
    record(
        actor=actor,
        workspace=agent.workspace,
        action=Action.AGENT_VISIBILITY_CHANGED,
        target=agent,
        before={"visibility": before},
        after={"visibility": visibility},
    )
    return agent


# --- Deleting, disabling, ending ---------------------------------------------------------------


@transaction.atomic
def agent_delete(*, actor: Actor, agent_id: int) -> int:
    """Deletes the agent, its versions (the instructions) and its grants at once (R-AGT-6);
    answers how many members lost it. The audit event keeps the fact, not the content."""
    from .selectors import who_can_use  # noqa: PLC0415  (selectors read services' rules)

    agent = _locked(agent_id)
    _require_manager(actor, agent)
    lost = who_can_use(agent).count
    name, workspace, pk = agent.name, agent.workspace, agent.pk
    agent.delete()
    record(
        actor=actor,
        workspace=workspace,
        action=Action.AGENT_DELETED,
        target_repr=name,
        before={"name": name, "agent_id": pk, "members": lost},
    )
    return lost


@transaction.atomic
def agent_disable(*, actor: Actor, agent_id: int, reason: str) -> Agent:
    """Staff take an agent out of use (Plateforme terms 2); the workspace sees the reason."""
    require_staff(actor)
    reason = clean_text(
        reason, field="reason", limit=REASON_MAX, too_long=REASON_TOO_LONG, allowed=""
    )
    if not reason:
        raise DomainError(REASON_NEEDED, field="reason")
    agent = _locked(agent_id)
    if agent.is_disabled:
        raise DomainError(ALREADY_DISABLED)
    agent.disabled_at, agent.disabled_reason = timezone.now(), reason
    agent.save(update_fields=["disabled_at", "disabled_reason"])
    record(
        actor=actor,
        workspace=agent.workspace,
        action=Action.AGENT_DISABLED,
        target=agent,
        after={"reason": reason},
    )
    return agent


@transaction.atomic
def agent_enable(*, actor: Actor, agent_id: int) -> Agent:
    require_staff(actor)
    agent = _locked(agent_id)
    if not agent.is_disabled:
        raise DomainError(NOT_DISABLED)
    before = {"reason": agent.disabled_reason}
    agent.disabled_at, agent.disabled_reason = None, ""
    agent.save(update_fields=["disabled_at", "disabled_reason"])
    record(
        actor=actor,
        workspace=agent.workspace,
        action=Action.AGENT_ENABLED,
        target=agent,
        before=before,
    )
    return agent


@transaction.atomic
def agent_name_approve(*, actor: Actor, agent_id: int) -> Agent:
    """Staff approve an agent's name that names the platform (R-AGT-5); a rename lifts it."""
    require_staff(actor)
    agent = _locked(agent_id)
    if agent.name_approved_by_staff:
        return agent
    agent.name_approved_by_staff = True
    agent.save(update_fields=["name_approved_by_staff"])
    record(
        actor=actor,
        workspace=agent.workspace,
        action=Action.AGENT_NAME_APPROVED,
        target=agent,
        after={"name": agent.name},
    )
    return agent


@transaction.atomic
def end_for_workspace(workspace: Workspace, *, actor: Actor | None = None) -> int:
    """Ends every agent of the workspace with its account (R-AGT-7): agents, versions,
    grants and settings deleted, one audit event. The termination flow of billing calls
    it (as the system); answers how many agents ended."""
    actor = actor or Actor.system()
    if actor.kind is ActorKind.SYSTEM:
        authorize(actor, workspace.pk, Perm.DELETE_WORKSPACE, system=True)
    else:
        require_staff(actor)
    agents = Agent.objects.filter(workspace=workspace)
    count = agents.count()
    # The versions first, so no agent's ``current`` points at a row being deleted.
    Agent.objects.filter(workspace=workspace).update(current=None)
    AgentVersion.objects.filter(agent__workspace=workspace).delete()
    agents.delete()
    AgentSettings.objects.filter(workspace=workspace).delete()
    record(
        actor=actor,
        workspace=workspace,
        action=Action.AGENTS_ENDED,
        after={"agents": count},
    )
    return count


# --- Settings and blocked terms ----------------------------------------------------------------


@transaction.atomic
def agent_settings_update(
    *, actor: Actor, workspace: Workspace, default_visibility: str, workspace_sharing: str
) -> AgentSettings:
    authorize(actor, workspace.pk, Perm.MANAGE_SETTINGS)
    if default_visibility not in Visibility.values:
        raise DomainError(UNKNOWN_VISIBILITY, field="default_visibility")
    if workspace_sharing not in WorkspaceSharing.values:
        raise DomainError(UNKNOWN_SHARING, field="workspace_sharing")
    Workspace.objects.select_for_update(no_key=True).filter(pk=workspace.pk).first()
    current = AgentSettings.objects.filter(workspace=workspace).first()
    row = current or AgentSettings(workspace=workspace)
    before = {
        "default_visibility": row.default_visibility,
        "workspace_sharing": row.workspace_sharing,
    }
    after = {"default_visibility": default_visibility, "workspace_sharing": workspace_sharing}
    if before == after:
        return row
    row = _set_fields(row, after)
    record(
        actor=actor,
        workspace=workspace,
        action=Action.AGENT_SETTINGS_CHANGED,
        before=before,
        after=after,
    )
    return row


def _set_fields(row: AgentSettings, values: dict[str, str]) -> AgentSettings:
    for key, value in values.items():
        setattr(row, key, value)
    if row.pk is None:
        row.save()
    else:
        row.save(update_fields=list(values))
    return row


@transaction.atomic
def blocked_term_add(*, actor: Actor, term: str, note: str = "") -> BlockedTerm:
    require_staff(actor)
    clean = names.normalize(term) if term.strip() else ""
    if not clean:
        raise DomainError(TERM_EMPTY, field="term")
    if BlockedTerm.objects.filter(term__iexact=clean).exists():
        raise DomainError(TERM_TAKEN, field="term")
    note = clean_text(note, field="note", limit=200, too_long=REASON_TOO_LONG, allowed="")
    try:
        with transaction.atomic():
            row = BlockedTerm.objects.create(term=clean, note=note)
    except IntegrityError as exc:
        raise DomainError(TERM_TAKEN, field="term") from exc
    record(actor=actor, workspace=None, action=Action.BLOCKED_TERM_ADDED, after={"term": clean})
    return row


@transaction.atomic
def blocked_term_remove(*, actor: Actor, term_id: int) -> None:
    require_staff(actor)
    row = BlockedTerm.objects.filter(pk=parse_id(term_id) or 0).first()
    if row is None:
        return
    row.delete()
    record(
        actor=actor, workspace=None, action=Action.BLOCKED_TERM_REMOVED, before={"term": row.term}
    )
