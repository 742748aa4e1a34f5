"""What a provider gives the sync: documents with their access lists as the source states
them, pages with a checkpoint to resume from, changes since a cursor, and groups.

A provider never decides who in the workspace sees what: it reports the source's grants
(a user by email, a group by its source id, a domain, anyone with the link) and the sync
maps them (``connectors.sync``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

GrantKind = Literal["user", "group", "domain", "anyone"]


class SourceError(Exception):
    """The source could not be read; the run stops and keeps its checkpoint."""


class AuthRevoked(SourceError):
    """The grant was revoked or expired beyond refresh: the connection needs an admin to
    reauthorize it."""


class ResyncRequired(SourceError):
    """The source no longer knows the cursor (Graph's 410): enumerate everything again."""


@dataclass(frozen=True)
class SourceGrant:
    kind: GrantKind
    # A user's email, a group's source id, a domain; empty for "anyone".
    value: str = ""
    role: str = "reader"
    # Drive's allowFileDiscovery for domain and anyone shares; a link (Graph's sharing
    # links, Drive's "anyone with the link") is not a listing for the people it names.
    discoverable: bool = True
    label: str = ""


@dataclass
class SourceDocument:
    source_id: str
    title: str
    modified_at: datetime
    kind: Literal["file", "folder"] = "file"
    mime_type: str = ""
    web_url: str = ""
    size: int | None = None
    parent_source_id: str = ""
    path: str = ""
    owner_email: str = ""
    # None when the permissions could not be read: the document then has no grants.
    grants: list[SourceGrant] | None = field(default_factory=list)


@dataclass
class Page:
    """One page of a listing or of changes. ``checkpoint`` resumes after this page; a
    last page has none and may carry the cursor of the next incremental run."""

    documents: list[SourceDocument] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    checkpoint: str = ""
    next_cursor: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SourceGroup:
    source_id: str
    label: str
    member_emails: tuple[str, ...] = ()
    member_groups: tuple[str, ...] = ()


class Provider(Protocol):
    def start_cursor(self) -> str:
        """The cursor of "now", read before a full listing, so that changes made while it
        runs are read by the next incremental run."""
        ...

    def list_all(self, checkpoint: str) -> Iterator[Page]:
        """Every document, page by page, from ``checkpoint`` (empty: the beginning)."""
        ...

    def changes(self, cursor: str, checkpoint: str) -> Iterator[Page]:
        """What changed since ``cursor``, from ``checkpoint`` within it. Raises
        ``ResyncRequired`` when the source no longer knows the cursor."""
        ...

    def groups(self) -> Iterator[SourceGroup]:
        """Every group of the source with its direct members (people by email, groups by
        source id); the sync expands them transitively."""
        ...

    def revoke(self) -> None:
        """Give the grant back to the source, where its API allows."""
        ...
