"""The audit actions of agents."""

from __future__ import annotations

from core.audit import Actions


class Action(Actions):
    AGENT_CREATED = "agent.created"
    AGENT_UPDATED = "agent.updated"
    AGENT_RESTORED = "agent.restored"
    AGENT_SHARED = "agent.shared"
    AGENT_UNSHARED = "agent.unshared"
    AGENT_VISIBILITY_CHANGED = "agent.visibility_changed"
    AGENT_DELETED = "agent.deleted"
    AGENT_DISABLED = "agent.disabled"
    AGENT_ENABLED = "agent.enabled"
    AGENT_NAME_APPROVED = "agent.name_approved"
    AGENTS_ENDED = "agents.ended"
    AGENT_SETTINGS_CHANGED = "agent_settings.changed"
    BLOCKED_TERM_ADDED = "blocked_term.added"
    BLOCKED_TERM_REMOVED = "blocked_term.removed"
