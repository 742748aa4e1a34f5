"""Fixtures of the service API's tests: a token and a client that sends it; a source that
the connectors' sync reads documents and groups from."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Workspace
from api.models import new_raw_token
from connectors import sync
from connectors.models import Connection, Document, Library, Principal, PrincipalKind, RunStatus
from connectors.providers.base import Page, SourceDocument, SourceGrant, SourceGroup
from tests.factories import ServiceTokenFactory


@pytest.fixture
def raw_token(db: None) -> str:
    raw = new_raw_token()
    # Used a moment ago: calls in the tests do not write last_used_at, so query counts hold.
    ServiceTokenFactory(name="Gateway", raw=raw, last_used_at=timezone.now())
    return raw


@pytest.fixture
def api(raw_token: str) -> Client:
    # CSRF checks on, as in production: the service API must not need a CSRF token.
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw_token}")


def features_url(slug: str, member: object) -> str:
    return f"/api/service/workspaces/{slug}/members/{member}/features"


def use_url(slug: str) -> str:
    return f"/api/service/workspaces/{slug}/feature-use"


def report(client: Client, slug: str, body: Any) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(use_url(slug), data=data, content_type="application/json")


def use_body(membership: Membership, /, **overrides: Any) -> dict[str, Any]:
    return {
        "event_id": "evt-1",
        "member": membership.user.email,
        "feature": "web_search",
        "occurred_at": "2026-11-25T09:30:00Z",
        "outcome": "used",
        **overrides,
    }


def documents_url(slug: str, member: object, **params: object) -> str:
    url = f"/api/service/workspaces/{slug}/members/{member}/documents"
    return f"{url}?{urlencode(params)}" if params else url


def visible_url(slug: str, member: object) -> str:
    return f"/api/service/workspaces/{slug}/members/{member}/documents/visible"


def access_url(slug: str, document_id: object, member: object | None = None) -> str:
    url = f"/api/service/workspaces/{slug}/documents/{document_id}/access"
    return f"{url}?{urlencode({'member': member})}" if member is not None else url


def filter_ids(client: Client, slug: str, member: object, body: Any) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(visible_url(slug, member), data=data, content_type="application/json")


# --- A source for connectors.sync ---------------------------------------------------------


@dataclass
class FakeSource:
    """A ``connectors.providers.base.Provider`` that lists the documents and groups it is
    given, ``page_size`` documents a page, and has no changes since any cursor."""

    documents: Sequence[SourceDocument]
    source_groups: Sequence[SourceGroup] = ()
    page_size: int = 50

    def start_cursor(self) -> str:
        return "cursor-1"

    def list_all(self, checkpoint: str) -> Iterator[Page]:
        start = int(checkpoint or 0)
        if start >= len(self.documents):
            yield Page()
            return
        for at in range(start, len(self.documents), self.page_size):
            end = at + self.page_size
            yield Page(
                documents=list(self.documents[at:end]),
                checkpoint=str(end) if end < len(self.documents) else "",
            )

    def changes(self, cursor: str, checkpoint: str) -> Iterator[Page]:
        return iter(())

    def groups(self) -> Iterator[SourceGroup]:
        return iter(self.source_groups)

    def revoke(self) -> None:
        pass


def user(email: str, role: str = "reader") -> SourceGrant:
    return SourceGrant(kind="user", value=email, role=role)


def group(source_id: str) -> SourceGrant:
    return SourceGrant(kind="group", value=source_id, label=source_id)


def domain(name: str) -> SourceGrant:
    return SourceGrant(kind="domain", value=name)


def anyone() -> SourceGrant:
    return SourceGrant(kind="anyone", discoverable=False)


def source_doc(
    source_id: str,
    title: str,
    modified_at: datetime,
    grants: Iterable[SourceGrant] | None,
    **fields: Any,
) -> SourceDocument:
    return SourceDocument(
        source_id=source_id,
        title=title,
        modified_at=modified_at,
        mime_type=fields.pop("mime_type", "application/vnd.google-apps.document"),
        web_url=fields.pop("web_url", f"https://docs.example/{source_id}"),
        grants=None if grants is None else list(grants),
        **fields,
    )


def synced_connection(
    workspace: Workspace,
    source: FakeSource,
    *,
    name: str = "Acme Drive",
    account: str = "drive@acme.example",
) -> Connection:
    """A connection of ``workspace``, fully synced from ``source`` by the real sync."""
    conn = Connection.objects.create(
        workspace=workspace, provider="google_drive", account=account, display_name=name
    )
    resync(conn, source)
    return conn


def resync(conn: Connection, source: FakeSource) -> None:
    outcome = sync.run(conn.pk, full=True, provider=source)
    assert outcome.run is not None, outcome.message
    outcome.run.refresh_from_db()
    assert outcome.run.status == RunStatus.SUCCEEDED, outcome.run.error_log
    conn.refresh_from_db()


def library_shared_with_everyone(
    workspace: Workspace, *, title: str, modified_at: datetime, mime_type: str = ""
) -> Library:
    """A library "Policies" of ``workspace``, shared with the whole workspace, holding one
    uploaded document."""
    library = Library.objects.create(workspace=workspace, name="Policies")
    everyone, _ = Principal.objects.get_or_create(
        workspace=workspace, connection=None, kind=PrincipalKind.EVERYONE, key=""
    )
    Document.objects.create(
        workspace=workspace,
        library=library,
        source_id=title.lower().replace(" ", "-"),
        title=title,
        mime_type=mime_type,
        modified_at=modified_at,
        principals=[everyone.pk],
    )
    return library
