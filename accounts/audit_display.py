"""How people read the audit log (R-WS-8): one sentence per event and labels for the
values it changed. The audit page and the dashboard's recent activity both use this; the
CSV export keeps the raw codes, which is what scripts and auditors compare.

Events are append-only, so old and new shapes live side by side: a role may be stored as
its label ("Admin") or as its value (30), a status as its code ("deactivated"). Every
helper here accepts both, and an action this module does not know still reads as words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from core import registry

from .audit import Action
from .models import AuditEvent, InvitationStatus, JoinMode, JoinRequestStatus, MemberStatus
from .roles import Role

TEXT_LIMIT = 120

ACTION_LABELS: dict[str, str] = {
    Action.WORKSPACE_CREATED: "Workspace created",
    Action.WORKSPACE_UPDATED: "Workspace settings changed",
    Action.WORKSPACE_SUSPENDED: "Workspace suspended",
    Action.WORKSPACE_REACTIVATED: "Suspension lifted",
    Action.MEMBER_JOINED: "Member joined",
    Action.MEMBER_ROLE_CHANGED: "Role changed",
    Action.MEMBER_DEACTIVATED: "Member deactivated",
    Action.MEMBER_REACTIVATED: "Member reactivated",
    Action.MEMBER_REMOVED: "Member removed",
    Action.MEMBER_LEFT: "Member left",
    Action.INVITATION_SENT: "Invitation sent",
    Action.INVITATION_RESENT: "Invitation sent again",
    Action.INVITATION_REVOKED: "Invitation revoked",
    Action.INVITATION_ACCEPTED: "Invitation accepted",
    Action.INVITATION_EXPIRED: "Invitation expired",
    Action.GROUP_CREATED: "Group created",
    Action.GROUP_RENAMED: "Group renamed",
    Action.GROUP_DELETED: "Group deleted",
    Action.GROUP_MEMBER_ADDED: "Added to a group",
    Action.GROUP_MEMBER_REMOVED: "Removed from a group",
    Action.DOMAIN_CLAIMED: "Domain claimed",
    Action.DOMAIN_VERIFIED: "Domain verified",
    Action.DOMAIN_CHECK_FAILED: "Domain check failed",
    Action.DOMAIN_REMOVED: "Domain removed",
    Action.JOIN_REQUESTED: "Request to join",
    Action.JOIN_CLOSED: "Request to join closed",
    Action.JOIN_APPROVED: "Request to join approved",
    Action.JOIN_DECLINED: "Request to join declined",
    "subscription.started": "Subscription started",
    "subscription.plan_changed": "Plan changed",
    "feature.rule_changed": "Feature rule changed",
    "feature.switched": "Feature switched",
    "media_status.changed": "Media Customer status",
    "editorial_request.created": "Editorial use requested",
    "editorial_request.decided": "Editorial use decided",
    "news_violation.recorded": "Verified news used",
    "appeal.filed": "Appeal filed",
    "appeal.decided": "Appeal decided",
    "service_token.created": "Service token created",
    "service_token.revoked": "Service token revoked",
    "connection.created": "Service connected",
    "connection.reauthorized": "Service reconnected",
    "connection.settings_changed": "Connection settings changed",
    "connection.sync_requested": "Sync requested",
    "connection.paused": "Connection paused",
    "connection.resumed": "Connection resumed",
    "connection.disconnected": "Service disconnected",
    "library.created": "Library created",
    "library.updated": "Library changed",
    "library.deleted": "Library deleted",
    "library.shared": "Library shared",
    "library.unshared": "Library unshared",
    "library.document_added": "Document added to a library",
    "library.document_removed": "Document removed from a library",
    "agent.created": "Agent created",
    "agent.updated": "Agent edited",
    "agent.restored": "Agent version restored",
    "agent.shared": "Agent shared",
    "agent.unshared": "Agent unshared",
    "agent.visibility_changed": "Agent visibility changed",
    "agent.deleted": "Agent deleted",
    "agent.disabled": "Agent disabled by staff",
    "agent.enabled": "Agent enabled by staff",
    "agent.name_approved": "Agent name approved by staff",
    "agents.ended": "Agents ended",
    "agent_settings.changed": "Agent settings changed",
    "blocked_term.added": "Blocked agent name term added",
    "blocked_term.removed": "Blocked agent name term removed",
}

KEY_LABELS: dict[str, str] = {
    "name": "Name",
    "slug": "Address",
    "join_mode": "Joining by domain",
    "default_role": "Role of people who join by domain",
    "reason": "Reason",
    "role": "Role",
    "status": "Status",
    "via": "Joined through",
    "groups": "Groups",
    "email": "Email",
    "send_count": "Times sent",
    "members": "Members",
    "member": "Member",
    "verified": "Verified",
    "plan": "Plan",
    "feature": "Feature",
    "target": "Applies to",
    "effect": "Rule",
    "on": "On",
    "is_media_customer": "Media Customer",
    "source": "Source",
    "note": "Note",
    "requested_scope": "Scope asked for",
    "scope": "Scope",
    "ends_on": "Until",
    "event_id": "Event",
    "occurred_at": "Time",
    "suspension_reason": "Reason for the suspension",
    "statement": "Statement",
    "prefix": "Prefix",
    "error": "Error",
    "visibility": "Visibility",
    "default_visibility": "Visibility of new agents",
    "workspace_sharing": "Who may share with the whole workspace",
    "version": "Version",
    "term": "Term",
}

# Status codes of every app's requests and records, so the log reads the same whatever
# app wrote the event (accounts imports no app above it, so the labels are repeated here).
STATUS_LABELS: dict[str, str] = {
    **{value: str(label) for value, label in MemberStatus.choices},
    **{value: str(label) for value, label in InvitationStatus.choices},
    **{value: str(label) for value, label in JoinRequestStatus.choices},
    "granted": "Granted",
    "rejected": "Rejected",
}
JOIN_MODE_LABELS: dict[str, str] = {value: str(label) for value, label in JoinMode.choices}
EFFECT_LABELS = {"allow": "Allow", "deny": "Deny", "inherit": "Inherit"}
SOURCE_LABELS = {"self": "Self-declaration", "staff": "Staff"}
VISIBILITY_LABELS = {"workspace": "Whole workspace", "restricted": "Chosen members and groups"}
SHARING_LABELS = {"everyone": "Every member", "admins": "Admins only"}
ROLE_KEYS = frozenset({"role", "default_role"})
LOOKUPS: dict[str, Mapping[str, str]] = {
    "status": STATUS_LABELS,
    "join_mode": JOIN_MODE_LABELS,
    "effect": EFFECT_LABELS,
    "source": SOURCE_LABELS,
    "visibility": VISIBILITY_LABELS,
    "default_visibility": VISIBILITY_LABELS,
    "workspace_sharing": SHARING_LABELS,
}


def readable(code: str) -> str:
    """A code as words: "join_request.created" -> "Join request created"."""
    words = code.replace(".", " ").replace("_", " ").split()
    return " ".join(words).capitalize() if words else "Event"


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, readable(action))


def key_label(key: str) -> str:
    return KEY_LABELS.get(key, readable(key))


def role_label(value: Any) -> str:
    """A role stored as its value (30, "30") or as its label ("Admin")."""
    if isinstance(value, bool):
        return _text(value)
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            return str(Role(int(value)).label)
        except ValueError:
            return str(value)
    return _text(value)


def value_label(key: str, value: Any) -> str:
    """The value of ``key`` as a person reads it; "" for no value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(value_label(key, v) for v in value) or "None"
    if isinstance(value, Mapping):
        return "; ".join(f"{key_label(k)}: {value_label(k, v)}" for k, v in value.items())
    if key in ROLE_KEYS:
        return role_label(value)
    if isinstance(value, str):
        lookup = LOOKUPS.get(key)
        if lookup is not None:
            return str(lookup.get(value, value))
        if key == "feature":
            feature = registry.BY_KEY.get(value)
            return feature.label if feature else value
    return _text(value)


def changes(event: AuditEvent) -> list[tuple[str, str, str, bool]]:
    """The event's before and after values as (label, before, after, same) rows, keys in
    the order they first appear. ``same`` marks context both sides share (the feature of a
    rule, say): shown once, as a plain value rather than a change."""
    keys = list(dict.fromkeys([*event.before, *event.after]))
    rows = []
    for k in keys:
        old, new = value_label(k, event.before.get(k)), value_label(k, event.after.get(k))
        rows.append((key_label(k), old, new, old == new))
    return rows


# --- One sentence per action ------------------------------------------------------------------


class _Event:
    """The pieces a sentence is made of, read once from the event."""

    def __init__(self, event: AuditEvent) -> None:
        self.event = event
        self.actor = event.actor_email or "The system"
        # A person, most often; sentences about a group or a domain say so when unnamed.
        self.target = event.target_repr or "someone"
        self.named = event.target_repr
        self.system = not event.actor_email

    def before(self, key: str) -> str:
        return value_label(key, self.event.before.get(key))

    def after(self, key: str) -> str:
        return value_label(key, self.event.after.get(key))

    def value(self, key: str) -> str:
        """The value after the change, or the one before it when the event has no after."""
        return self.after(key) or self.before(key)

    def change(self, key: str) -> str:
        """ "from X to Y", or "to Y" when the value before is unknown."""
        old, new = self.before(key), self.after(key)
        if old and old != new:
            return f"from {old} to {new or 'nothing'}"
        return f"to {new}" if new else ""


def _text(value: Any, limit: int = TEXT_LIMIT) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clause(prefix: str, text: str) -> str:
    return f"{prefix}{text}" if text else ""


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _workspace_updated(e: _Event) -> str:
    keys = list(dict.fromkeys([*e.event.before, *e.event.after]))
    if keys == ["name"]:
        return f"{e.actor} renamed the workspace {e.change('name')}"
    parts = [f"{key_label(k).lower()} {e.change(k)}" for k in keys if e.change(k)]
    if not parts:
        return f"{e.actor} changed the workspace settings"
    return f"{e.actor} changed the workspace settings: " + "; ".join(parts)


def _suspended(e: _Event) -> str:
    reason = _clause(": ", e.value("reason"))
    if e.system:
        return f"The workspace was suspended{reason}"
    return f"{e.actor} suspended the workspace{reason}"


def _reactivated(e: _Event) -> str:
    if e.system:
        return "The suspension of the workspace was lifted"
    return f"{e.actor} lifted the suspension of the workspace"


def _joined(e: _Event) -> str:
    via = e.after("via")
    how = {
        "invitation": " by invitation",
        "join request": " after a request to join",
    }.get(via, f" through the {via}" if via.startswith("domain ") else _clause(" through ", via))
    groups = e.after("groups")
    in_groups = "" if groups in ("", "None") else f", in the groups {groups}"
    return f"{e.target} joined as {e.after('role') or 'a member'}{how}{in_groups}"


def _role_changed(e: _Event) -> str:
    return f"{e.actor} changed the role of {e.target} {e.change('role')}".rstrip()


def _removed(e: _Event) -> str:
    role = e.before("role")
    return f"{e.actor} removed {e.target}{f' ({role})' if role else ''} from the workspace"


def _invited(e: _Event) -> str:
    groups = e.after("groups")
    in_groups = "" if groups in ("", "None") else f", to join the groups {groups}"
    return f"{e.actor} invited {e.target}{_clause(' as ', e.after('role'))}{in_groups}"


def _resent(e: _Event) -> str:
    count = e.after("send_count")
    times = f" (sent {count} times in all)" if count else ""
    return f"{e.actor} sent the invitation to {e.target} again{times}"


def _accepted(e: _Event) -> str:
    if e.actor == e.target:
        return f"{e.target} accepted their invitation"
    return f"{e.actor} accepted the invitation sent to {e.target}"


def _group_deleted(e: _Event) -> str:
    count = e.before("members")
    members = f" ({count} member{'' if count == '1' else 's'})" if count else ""
    return f"{e.actor} deleted {_group(e, e.before('name'))}{members}"


def _group(e: _Event, name: str = "") -> str:
    name = name or e.named
    return f"the group {name}" if name else "a group"


def _domain(e: _Event) -> str:
    name = e.value("name") or e.named
    return f"the domain {name}" if name else "a domain"


def _token(e: _Event) -> str:
    name = e.value("name") or e.named
    return f"the service token {name}" if name else "a service token"


def _group_renamed(e: _Event) -> str:
    new = e.after("name")
    return f"{e.actor} renamed {_group(e, e.before('name'))}" + (f" to {new}" if new else "")


def _domain_verified(e: _Event) -> str:
    if e.system:
        domain = _domain(e)
        return f"{domain[0].upper()}{domain[1:]} was verified"
    return f"{e.actor} verified {_domain(e)}"


def _domain_check_failed(e: _Event) -> str:
    return f"The check of {_domain(e)} failed" + _clause(": ", e.value("error"))


def _subscription_started(e: _Event) -> str:
    plan = e.after("plan")
    the_plan = f"the {plan} plan" if plan else "a plan"
    if e.system:
        return f"The workspace started on {the_plan}"
    return f"{e.actor} started {the_plan}"


def _rule_target(e: _Event) -> str:
    label = e.value("target") or e.target
    kind = e.event.target_type
    if kind.endswith(".workspace") or label == "workspace":
        return "everyone in the workspace"
    if kind.endswith(".group"):
        return f"the group {label}"
    return label


def _rule_changed(e: _Event) -> str:
    feature = e.value("feature") or "a feature"
    return (
        f"{e.actor} set the rule for {feature} for {_rule_target(e)} {e.change('effect')}".rstrip()
    )


def _switched(e: _Event) -> str:
    feature = e.value("feature") or "a feature"
    on = e.event.after.get("on")
    state = " on" if on is True else " off" if on is False else ""
    member = e.target.partition(" for ")[2] or e.target
    whom = "themselves" if member == e.actor else member
    return f"{e.actor} switched {feature}{state} for {whom}"


def _media_status(e: _Event) -> str:
    raw = e.event.after.get("is_media_customer")
    if raw is None:
        return f"{e.actor} changed the Media Customer status of the workspace"
    status = "a Media Customer" if raw else "not a Media Customer"
    verb = "declared" if e.event.after.get("source") == "self" else "marked"
    was = e.event.before.get("is_media_customer")
    previously = ""
    if was is not None and bool(was) != bool(raw):
        previously = " (it was one before)" if was else " (it was not one before)"
    note = _clause(". Note: ", e.after("note"))
    return f"{e.actor} {verb} the workspace {status}{previously}{note}"


def _editorial_requested(e: _Event) -> str:
    return f"{e.actor} asked for an editorial-use authorization" + _clause(": ", e.after("reason"))


def _editorial_decided(e: _Event) -> str:
    status = e.event.after.get("status")
    note = _clause(". Note: ", e.after("note"))
    if status == "approved":
        scope = e.after("scope") or "the whole workspace"
        until = _clause(" until ", e.after("ends_on"))
        return f"{e.actor} granted editorial use of verified news to {scope}{until}{note}"
    if status in ("declined", "rejected"):
        return f"{e.actor} declined the request for editorial use of verified news{note}"
    return (
        f"{e.actor} decided the request for editorial use of verified news: "
        f"{e.after('status') or 'no status'}{note}"
    )


def _news_violation(e: _Event) -> str:
    member = e.after("member") or e.target
    return (
        f"{member} used verified news while the workspace is a Media Customer; "
        "the workspace was suspended"
    )


def _appeal_decided(e: _Event) -> str:
    status = e.event.after.get("status")
    note = _clause(": ", e.after("note"))
    if status == "granted":
        return f"{e.actor} granted the appeal; the suspension is lifted{note}"
    if status == "rejected":
        return f"{e.actor} rejected the appeal; the suspension is kept{note}"
    return f"{e.actor} decided the appeal: {e.after('status') or 'no status'}{note}"


def _connection(e: _Event) -> str:
    return f"the connection {e.named}" if e.named else "a connection"


def _library(e: _Event) -> str:
    name = e.value("name") or e.named
    return f"the library {name}" if name else "a library"


def _connection_created(e: _Event) -> str:
    account = _clause(" as ", e.after("account"))
    return f"{e.actor} connected {_connection(e)}{account}"


def _sync_requested(e: _Event) -> str:
    kind = "a full sync" if e.event.after.get("full") else "a sync"
    return f"{e.actor} asked for {kind} of {_connection(e)}"


def _disconnected(e: _Event) -> str:
    n = e.event.after.get("documents")
    gone = f"; its {n} documents and their permissions are deleted" if n else ""
    return f"{e.actor} disconnected {_connection(e)}{gone}"


def _library_shared(e: _Event, verb: str) -> str:
    who = e.value("target") or "someone"
    role = _clause(" as ", e.value("role"))
    return f"{e.actor} {verb} {_library(e)} {'with' if verb == 'shared' else 'from'} {who}{role}"


def _library_document(e: _Event, verb: str) -> str:
    title = e.value("title") or "a document"
    return f"{e.actor} {verb} {title} {'to' if verb == 'added' else 'from'} {_library(e)}"


def _agent(e: _Event) -> str:
    name = e.value("name") or e.named
    return f"the agent {name}" if name else "an agent"


def _version(raw: Any) -> str:
    return f"version {raw}" if isinstance(raw, int) and not isinstance(raw, bool) else ""


def _agent_updated(e: _Event, verb: str) -> str:
    old, new = _version(e.event.before.get("version")), _version(e.event.after.get("version"))
    restored = _version(e.event.after.get("restored_from"))
    what = f" ({restored} again)" if restored else ""
    moved = f" from {old} to {new}" if old and new else _clause(" to ", new)
    return f"{e.actor} {verb} {_agent(e)}{moved}{what}"


def _agent_shared(e: _Event, verb: str) -> str:
    who = e.value("target") or "someone"
    role = _clause(" as ", e.value("role"))
    return f"{e.actor} {verb} {_agent(e)} {'with' if verb == 'shared' else 'from'} {who}{role}"


def _agent_visibility(e: _Event) -> str:
    raw = e.event.after.get("visibility")
    whom = {"workspace": "the whole workspace", "restricted": "chosen members and groups only"}
    return f"{e.actor} made {_agent(e)} visible to {whom.get(str(raw), 'someone else')}"


def _agent_deleted(e: _Event) -> str:
    n = e.event.before.get("members")
    lost = f"; {n} members lost it" if isinstance(n, int) and n != 1 else ""
    lost = "; 1 member lost it" if n == 1 else lost
    return f"{e.actor} deleted {_agent(e)} and its instructions{lost}"


def _agents_ended(e: _Event) -> str:
    n = e.event.after.get("agents")
    count = f"{n} agents" if isinstance(n, int) and n != 1 else "1 agent" if n == 1 else "agents"
    return f"{e.actor} ended the workspace's {count} with the account"


def _agent_settings(e: _Event) -> str:
    parts = [
        f"{KEY_LABELS[k].lower()} {e.change(k)}"
        for k in ("default_visibility", "workspace_sharing")
        if e.change(k)
    ]
    return f"{e.actor} changed the agent settings" + _clause(": ", "; ".join(parts))


SENTENCES: dict[str, Callable[[_Event], str]] = {
    Action.WORKSPACE_CREATED: lambda e: (
        f"{e.actor} created the workspace {e.after('name') or e.event.workspace_name}"
    ),
    Action.WORKSPACE_UPDATED: _workspace_updated,
    Action.WORKSPACE_SUSPENDED: _suspended,
    Action.WORKSPACE_REACTIVATED: _reactivated,
    Action.MEMBER_JOINED: _joined,
    Action.MEMBER_ROLE_CHANGED: _role_changed,
    Action.MEMBER_DEACTIVATED: lambda e: f"{e.actor} deactivated {e.target}",
    Action.MEMBER_REACTIVATED: lambda e: f"{e.actor} reactivated {e.target}",
    Action.MEMBER_REMOVED: _removed,
    Action.MEMBER_LEFT: lambda e: f"{e.target} left the workspace",
    Action.INVITATION_SENT: _invited,
    Action.INVITATION_RESENT: _resent,
    Action.INVITATION_REVOKED: lambda e: f"{e.actor} revoked the invitation to {e.target}",
    Action.INVITATION_ACCEPTED: _accepted,
    Action.INVITATION_EXPIRED: lambda e: f"The invitation to {e.target} expired",
    Action.GROUP_CREATED: lambda e: f"{e.actor} created {_group(e, e.after('name'))}",
    Action.GROUP_RENAMED: _group_renamed,
    Action.GROUP_DELETED: _group_deleted,
    Action.GROUP_MEMBER_ADDED: lambda e: (
        f"{e.actor} added {e.after('member') or 'a member'} to {_group(e)}"
    ),
    Action.GROUP_MEMBER_REMOVED: lambda e: (
        f"{e.actor} removed {e.before('member') or 'a member'} from {_group(e)}"
    ),
    Action.DOMAIN_CLAIMED: lambda e: f"{e.actor} claimed {_domain(e)}",
    Action.DOMAIN_VERIFIED: _domain_verified,
    Action.DOMAIN_CHECK_FAILED: _domain_check_failed,
    Action.DOMAIN_REMOVED: lambda e: f"{e.actor} removed {_domain(e)}",
    Action.JOIN_REQUESTED: lambda e: f"{e.target} asked to join the workspace",
    Action.JOIN_APPROVED: lambda e: f"{e.actor} approved the request of {e.target} to join",
    Action.JOIN_DECLINED: lambda e: f"{e.actor} declined the request of {e.target} to join",
    Action.JOIN_CLOSED: lambda e: f"The request of {e.target} to join was closed: already a member",
    "subscription.started": _subscription_started,
    "subscription.plan_changed": lambda e: (
        f"{e.actor} changed the plan {e.change('plan')}".rstrip()
    ),
    "feature.rule_changed": _rule_changed,
    "feature.switched": _switched,
    "media_status.changed": _media_status,
    "editorial_request.created": _editorial_requested,
    "editorial_request.decided": _editorial_decided,
    "news_violation.recorded": _news_violation,
    "appeal.filed": lambda e: f"{e.actor} appealed the suspension of the workspace",
    "appeal.decided": _appeal_decided,
    "service_token.created": lambda e: f"{e.actor} created {_token(e)}",
    "service_token.revoked": lambda e: f"{e.actor} revoked {_token(e)}",
    "connection.created": _connection_created,
    "connection.reauthorized": lambda e: f"{e.actor} reconnected {_connection(e)}",
    "connection.settings_changed": lambda e: f"{e.actor} changed the settings of {_connection(e)}",
    "connection.sync_requested": _sync_requested,
    "connection.paused": lambda e: f"{e.actor} paused the syncs of {_connection(e)}",
    "connection.resumed": lambda e: f"{e.actor} resumed the syncs of {_connection(e)}",
    "connection.disconnected": _disconnected,
    "library.created": lambda e: f"{e.actor} created {_library(e)}",
    "library.updated": lambda e: f"{e.actor} changed {_library(e)}",
    "library.deleted": lambda e: f"{e.actor} deleted {_library(e)}",
    "library.shared": lambda e: _library_shared(e, "shared"),
    "library.unshared": lambda e: _library_shared(e, "unshared"),
    "library.document_added": lambda e: _library_document(e, "added"),
    "library.document_removed": lambda e: _library_document(e, "removed"),
    "agent.created": lambda e: f"{e.actor} created {_agent(e)}",
    "agent.updated": lambda e: _agent_updated(e, "edited"),
    "agent.restored": lambda e: _agent_updated(e, "restored an earlier version of"),
    "agent.shared": lambda e: _agent_shared(e, "shared"),
    "agent.unshared": lambda e: _agent_shared(e, "unshared"),
    "agent.visibility_changed": _agent_visibility,
    "agent.deleted": _agent_deleted,
    "agent.disabled": lambda e: (
        f"{e.actor} disabled {_agent(e)}" + _clause(": ", e.after("reason"))
    ),
    "agent.enabled": lambda e: f"{e.actor} enabled {_agent(e)} again",
    "agent.name_approved": lambda e: f"{e.actor} approved the name of {_agent(e)}",
    "agents.ended": _agents_ended,
    "agent_settings.changed": _agent_settings,
    "blocked_term.added": lambda e: (
        f"{e.actor} blocked the term {e.value('term') or 'a term'} in agent names"
    ),
    "blocked_term.removed": lambda e: (
        f"{e.actor} unblocked the term {e.value('term') or 'a term'} in agent names"
    ),
}


def describe(event: AuditEvent) -> str:
    """What happened, as one sentence: "ada@acme.test changed the role of
    alan@acme.test from Member to Admin." An action without its own sentence reads as
    its code in words, with who did it and to what."""
    e = _Event(event)
    sentence = SENTENCES.get(event.action)
    if sentence is not None:
        return _sentence(sentence(e))
    target = _clause(": ", event.target_repr)
    return _sentence(f"{readable(event.action)} by {e.actor}{target}")
