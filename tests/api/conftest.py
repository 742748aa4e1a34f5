"""Fixtures of the service API's tests: a token and a client that sends it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Membership
from api.models import new_raw_token
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
