"""A connection's tokens, encrypted at rest with the console's field encryption, and
refreshed on expiry."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts import crypto

from .models import Connection


def load(connection: Connection) -> dict[str, Any]:
    if not connection.credentials:
        return {}
    data = json.loads(crypto.decrypt(connection.credentials))
    return data if isinstance(data, dict) else {}


def seal(data: dict[str, Any]) -> str:
    return crypto.encrypt(json.dumps(data, sort_keys=True))


def store(connection: Connection, data: dict[str, Any]) -> None:
    connection.credentials = seal(data)
    Connection.objects.filter(pk=connection.pk).update(credentials=connection.credentials)


def expiry(expires_in: Any) -> str:
    try:
        seconds = int(expires_in)
    except (TypeError, ValueError):
        seconds = 3600
    return (timezone.now() + timedelta(seconds=max(0, seconds - 60))).isoformat()


def expired(data: dict[str, Any]) -> bool:
    at = data.get("expires_at")
    if not at:
        return True
    from datetime import datetime

    try:
        return datetime.fromisoformat(at) <= timezone.now()
    except ValueError:
        return True


class TokenSource:
    """A bearer token for one connection; ``refresh(data) -> data`` asks the provider for
    a new one and the result is stored before it is used."""

    def __init__(
        self, connection: Connection, refresh: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> None:
        self.connection = connection
        self._refresh = refresh
        self._data = load(connection)

    def __call__(self, force: bool = False) -> str:
        if force or expired(self._data) or not self._data.get("access_token"):
            self._data = self._refresh(self._data)
            store(self.connection, self._data)
        return str(self._data["access_token"])
