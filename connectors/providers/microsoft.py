"""Microsoft SharePoint and OneDrive through Microsoft Graph."""

from __future__ import annotations

from ..models import Connection
from .base import Provider, SourceError


def client(connection: Connection) -> Provider:
    raise SourceError("SharePoint and OneDrive cannot sync on this console yet.")
