"""The audit actions of connected services and libraries."""

from __future__ import annotations

from core.audit import Actions


class Action(Actions):
    CONNECTION_CREATED = "connection.created"
    CONNECTION_REAUTHORIZED = "connection.reauthorized"
    CONNECTION_SETTINGS_CHANGED = "connection.settings_changed"
    CONNECTION_SYNC_REQUESTED = "connection.sync_requested"
    CONNECTION_PAUSED = "connection.paused"
    CONNECTION_RESUMED = "connection.resumed"
    CONNECTION_DISCONNECTED = "connection.disconnected"
    LIBRARY_CREATED = "library.created"
    LIBRARY_UPDATED = "library.updated"
    LIBRARY_DELETED = "library.deleted"
    LIBRARY_SHARED = "library.shared"
    LIBRARY_UNSHARED = "library.unshared"
    LIBRARY_DOCUMENT_ADDED = "library.document_added"
    LIBRARY_DOCUMENT_REMOVED = "library.document_removed"
