"""The demo's connection (``make run``): the demo workspace connects the local demo Drive
(``python -m connectors.local.google``) through the same consent flow an admin follows,
and its first sync runs in the worker, so a newcomer sees it progress."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlparse

import httpx
from django.conf import settings

from accounts.actor import Actor
from accounts.models import Membership

from . import services
from .local import google as local_google
from .models import Connection
from .providers import google_drive
from .providers.base import SourceError

log = logging.getLogger(__name__)

REDIRECT = "http://localhost/connectors/google/callback/"


def connect_local_drive(admin: Membership) -> Connection | None:
    """Connect the workspace to the local demo Drive, once; None when the console is not
    pointed at it or it does not answer."""
    if settings.GOOGLE_CLIENT_ID != local_google.CLIENT_ID:
        return None
    existing = Connection.objects.filter(workspace_id=admin.workspace_id).first()
    if existing is not None:
        return existing
    verifier, challenge = google_drive.pkce_pair()
    url = google_drive.authorize_url(state="demo", challenge=challenge, redirect_uri=REDIRECT)
    approve = url.replace("/o/oauth2/v2/auth?", "/o/oauth2/v2/auth/approve?", 1)
    try:
        answer = httpx.get(approve, follow_redirects=False, timeout=5)
        code = parse_qs(urlparse(answer.headers.get("Location", "")).query)["code"][0]
        secrets, account = google_drive.exchange_code(
            code=code, verifier=verifier, redirect_uri=REDIRECT
        )
    except (httpx.HTTPError, KeyError, IndexError, SourceError) as exc:
        log.warning("The local demo Drive did not answer (%s); the demo has no connection.", exc)
        return None
    return services.connection_open(
        actor=Actor.member(admin),
        workspace=admin.workspace,
        provider="google_drive",
        account=account,
        display_name="Acme Drive (demo)",
        secrets=secrets,
    )
