"""The one error type a user can meet, shared by every app's services."""

from __future__ import annotations


class DomainError(Exception):
    """An error a user can meet; its message is fit to show next to the field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    """The acting party may not make this change. Views that resolved the role already
    rarely meet it; callers without a view in front (tasks, the staff admin, the service
    API) rely on it."""
