"""The audit actions of service tokens."""

from __future__ import annotations

from core.audit import Actions


class Action(Actions):
    SERVICE_TOKEN_CREATED = "service_token.created"
    SERVICE_TOKEN_REVOKED = "service_token.revoked"
