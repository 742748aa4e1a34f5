"""The libraries and connections of a workspace that an agent's document search may
name, through ``connectors``' public selectors (ids and names, scoped to the workspace)."""

from __future__ import annotations

from connectors.selectors import connection_names as connections
from connectors.selectors import library_names as libraries

__all__ = ["connections", "libraries"]
