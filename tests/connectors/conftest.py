from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from accounts.actor import Actor
from accounts.models import Membership, Workspace
from accounts.roles import Role
from billing.models import Plan
from connectors import services
from connectors.local.google import LocalGoogle, settings_for
from connectors.models import Connection
from connectors.providers import google_drive, http
from tests.factories import MembershipFactory, SubscriptionFactory, UserFactory, WorkspaceFactory

REDIRECT = "http://testserver/connectors/google/callback"


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff waits the clients asked for, instead of sleeping."""
    seen: list[float] = []
    monkeypatch.setattr(http, "sleep", seen.append)
    return seen


@pytest.fixture
def google(settings, waits) -> Iterator[LocalGoogle]:
    server = LocalGoogle().start()
    for key, value in settings_for(server.url).items():
        setattr(settings, key, value)
    settings.CONNECTORS_HTTP_RETRIES = 2
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Acme:
    workspace: Workspace
    admin: Membership
    alan: Membership
    grace: Membership
    mary: Membership
    guest: Membership


@pytest.fixture
def acme(db: None) -> Acme:
    ws = WorkspaceFactory(name="Acme", slug="acme")
    SubscriptionFactory(workspace=ws, plan=Plan.objects.get(slug="team"))

    def member(email: str, role: int = Role.MEMBER) -> Membership:
        return MembershipFactory(workspace=ws, role=role, user=UserFactory(email=email))

    return Acme(
        workspace=ws,
        admin=member("admin@acme.example", Role.ADMIN),
        alan=member("alan@acme.example"),
        grace=member("grace@acme.example"),
        mary=member("mary@acme.example"),
        guest=member("guest@elsewhere.example"),
    )


def connect_google(google: LocalGoogle, acme: Acme) -> Connection:
    """The real flow: authorize with PKCE, the consent's Allow, the code for tokens."""
    verifier, challenge = google_drive.pkce_pair()
    url = google_drive.authorize_url(state="s1", challenge=challenge, redirect_uri=REDIRECT)
    answer = httpx.get(google.approve_url(url), follow_redirects=False)
    assert answer.status_code == 302
    query = parse_qs(urlparse(answer.headers["Location"]).query)
    assert query["state"] == ["s1"]
    secrets, account = google_drive.exchange_code(
        code=query["code"][0], verifier=verifier, redirect_uri=REDIRECT
    )
    return services.connection_open(
        actor=Actor.member(acme.admin),
        workspace=acme.workspace,
        provider="google_drive",
        account=account,
        display_name="Acme Drive",
        secrets=secrets,
    )
