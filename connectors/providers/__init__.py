"""The third-party services a workspace connects, behind one small interface
(``base.Provider``); one module each, so a new provider is one new module listed in
``PROVIDERS``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import Connection
    from .base import Provider


def for_connection(connection: Connection) -> Provider:
    """The provider client of a connection, on its stored credentials."""
    from . import google_drive, microsoft

    if connection.provider == "microsoft":
        return microsoft.client(connection)
    return google_drive.client(connection)
