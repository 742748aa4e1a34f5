"""Google Drive, shared drives included, with Google Workspace groups from the Admin SDK
Directory API.

Connect: OAuth 2.0 authorization code with offline access, ``state`` and PKCE (S256), as
Google documents it for web server applications. Sync: ``files.list`` with
``nextPageToken`` for the full listing, ``changes.getStartPageToken`` and ``changes.list``
afterwards; permissions come with each file, or from ``permissions.list`` where the
listing leaves them out (shared drives). Base URLs are the ``GOOGLE_*`` settings.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from .. import credentials
from ..models import Connection
from .base import AuthRevoked, Page, SourceDocument, SourceError, SourceGrant, SourceGroup
from .http import Http, HttpStatusError

SCOPES = (
    "openid email "
    "https://www.googleapis.com/auth/drive.metadata.readonly "
    "https://www.googleapis.com/auth/admin.directory.group.readonly"
)
FOLDER = "application/vnd.google-apps.folder"
PERMISSION_FIELDS = "permissions(id,type,emailAddress,domain,role,allowFileDiscovery,deleted)"
FILE_FIELDS = (
    "id,name,mimeType,webViewLink,size,modifiedTime,parents,owners(emailAddress),"
    f"driveId,trashed,{PERMISSION_FIELDS}"
)
PAGE_SIZE = 1000


def _api(path: str) -> str:
    return settings.GOOGLE_API_URL.rstrip("/") + path


# Connecting -------------------------------------------------------------------------


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def authorize_url(*, state: str, challenge: str, redirect_uri: str) -> str:
    params = {
        "client_id": settings.GOOGLE_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": SCOPES,
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{settings.GOOGLE_OAUTH_AUTH_URL}?{urlencode(params)}"


def _token_request(data: dict[str, str]) -> dict[str, Any]:
    http = Http()
    try:
        body = http.request(
            "POST",
            settings.GOOGLE_OAUTH_TOKEN_URL,
            data={
                "client_id": settings.GOOGLE_CLIENT_ID,
                "client_secret": settings.GOOGLE_CLIENT_SECRET,
                **data,
            },
            authorized=False,
        )
    except HttpStatusError as exc:
        # Google answers 400 invalid_grant for a revoked or expired refresh token.
        if exc.status in (400, 401, 403):
            raise AuthRevoked("Google refused the grant; an admin must reconnect.") from exc
        raise
    finally:
        http.close()
    if "access_token" not in body:
        raise AuthRevoked("Google gave no access token.")
    return body


def exchange_code(*, code: str, verifier: str, redirect_uri: str) -> tuple[dict[str, Any], str]:
    """Trade the authorization code for tokens; returns the credentials and the email of
    the Google account that granted them."""
    body = _token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
        }
    )
    data = {
        "access_token": body["access_token"],
        "refresh_token": body.get("refresh_token", ""),
        "expires_at": credentials.expiry(body.get("expires_in")),
        "scope": body.get("scope", ""),
    }
    if not data["refresh_token"]:
        raise AuthRevoked("Google gave no refresh token; try connecting again.")
    http = Http(lambda force: str(data["access_token"]))
    try:
        about = http.get(_api("/drive/v3/about"), fields="user(emailAddress,displayName)")
    finally:
        http.close()
    email = str((about.get("user") or {}).get("emailAddress") or "").strip().lower()
    if not email:
        raise SourceError("Google did not say which account granted access.")
    return data, email


def _refresh(data: dict[str, Any]) -> dict[str, Any]:
    if not data.get("refresh_token"):
        raise AuthRevoked("The connection has no refresh token; an admin must reconnect.")
    body = _token_request({"grant_type": "refresh_token", "refresh_token": data["refresh_token"]})
    return {
        **data,
        "access_token": body["access_token"],
        "expires_at": credentials.expiry(body.get("expires_in")),
        # Google may rotate the refresh token.
        "refresh_token": body.get("refresh_token") or data["refresh_token"],
    }


# Reading ----------------------------------------------------------------------------


def _time(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return timezone.now()
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _grant(p: Any) -> SourceGrant | None:
    """One Drive permission as a grant; None for one the sync must ignore. Raises
    ValueError for a malformed one (the file then has no grants)."""
    if not isinstance(p, dict):
        raise ValueError("permission is not an object")
    if p.get("deleted"):
        return None
    kind = p.get("type")
    role = str(p.get("role") or "reader")
    discoverable = p.get("allowFileDiscovery") is not False
    if kind == "user":
        email = str(p.get("emailAddress") or "").strip().lower()
        if "@" not in email:
            raise ValueError("user permission without an email")
        return SourceGrant("user", email, role)
    if kind == "group":
        email = str(p.get("emailAddress") or "").strip().lower()
        if "@" not in email:
            raise ValueError("group permission without an email")
        return SourceGrant("group", email, role, label=email)
    if kind == "domain":
        domain = str(p.get("domain") or "").strip().lower()
        if not domain:
            raise ValueError("domain permission without a domain")
        return SourceGrant("domain", domain, role, discoverable=discoverable)
    if kind == "anyone":
        return SourceGrant("anyone", "", role, discoverable=discoverable)
    raise ValueError(f"unknown permission type {kind!r}")


class GoogleDrive:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.http = Http(credentials.TokenSource(connection, _refresh))

    # The interface ----------------------------------------------------------------

    def start_cursor(self) -> str:
        body = self.http.get(_api("/drive/v3/changes/startPageToken"), supportsAllDrives="true")
        token = str(body.get("startPageToken") or "")
        if not token:
            raise SourceError("Drive gave no start page token.")
        return token

    def list_all(self, checkpoint: str) -> Iterator[Page]:
        token = checkpoint
        while True:
            params: dict[str, Any] = {
                "pageSize": PAGE_SIZE,
                "q": "trashed = false",
                "corpora": "allDrives",
                "includeItemsFromAllDrives": "true",
                "supportsAllDrives": "true",
                "fields": f"nextPageToken,files({FILE_FIELDS})",
            }
            if token:
                params["pageToken"] = token
            body = self.http.get(_api("/drive/v3/files"), **params)
            files = body.get("files")
            if not isinstance(files, list):
                raise SourceError("Drive's file list has no files.")
            token = str(body.get("nextPageToken") or "")
            page = Page(checkpoint=token)
            for f in files:
                self._add(page, f)
            yield page
            if not token:
                return

    def changes(self, cursor: str, checkpoint: str) -> Iterator[Page]:
        token = checkpoint or cursor
        while True:
            body = self.http.get(
                _api("/drive/v3/changes"),
                pageToken=token,
                pageSize=PAGE_SIZE,
                includeItemsFromAllDrives="true",
                supportsAllDrives="true",
                includeRemoved="true",
                fields=f"nextPageToken,newStartPageToken,changes(changeType,removed,fileId,file({FILE_FIELDS}))",
            )
            changes = body.get("changes")
            if not isinstance(changes, list):
                raise SourceError("Drive's change list has no changes.")
            token = str(body.get("nextPageToken") or "")
            page = Page(checkpoint=token, next_cursor=str(body.get("newStartPageToken") or ""))
            for change in changes:
                if not isinstance(change, dict) or change.get("changeType", "file") != "file":
                    continue
                file_id = str(change.get("fileId") or "")
                f = change.get("file")
                if change.get("removed") or not isinstance(f, dict) or f.get("trashed"):
                    if file_id:
                        page.removed.append(file_id)
                    continue
                self._add(page, f)
            yield page
            if not token:
                if not page.next_cursor:
                    raise SourceError("Drive's last change page has no new start token.")
                return

    def groups(self) -> Iterator[SourceGroup]:
        token = ""
        while True:
            params: dict[str, Any] = {"customer": "my_customer", "maxResults": 200}
            if token:
                params["pageToken"] = token
            body = self.http.get(_api("/admin/directory/v1/groups"), **params)
            for g in body.get("groups") or []:
                if not isinstance(g, dict) or not g.get("email"):
                    continue
                yield self._group(g)
            token = str(body.get("nextPageToken") or "")
            if not token:
                return

    def revoke(self) -> None:
        data = credentials.load(self.connection)
        token = data.get("refresh_token") or data.get("access_token")
        if token:
            try:
                self.http.request(
                    "POST",
                    settings.GOOGLE_OAUTH_REVOKE_URL,
                    data={"token": token},
                    authorized=False,
                )
            except SourceError:
                pass  # already revoked, or the service is away: the tokens are deleted anyway

    # Helpers ----------------------------------------------------------------------

    def _group(self, g: dict[str, Any]) -> SourceGroup:
        email = str(g["email"]).strip().lower()
        people: list[str] = []
        groups: list[str] = []
        token = ""
        while True:
            params: dict[str, Any] = {"maxResults": 200}
            if token:
                params["pageToken"] = token
            body = self.http.get(
                _api(f"/admin/directory/v1/groups/{g.get('id') or email}/members"), **params
            )
            for m in body.get("members") or []:
                if not isinstance(m, dict) or not m.get("email"):
                    continue
                address = str(m["email"]).strip().lower()
                if m.get("type") == "GROUP":
                    groups.append(address)
                elif m.get("type", "USER") == "USER" and m.get("status", "ACTIVE") == "ACTIVE":
                    people.append(address)
            token = str(body.get("nextPageToken") or "")
            if not token:
                break
        return SourceGroup(email, email, tuple(people), tuple(groups))

    def _permissions(self, file_id: str) -> list[Any]:
        out: list[Any] = []
        token = ""
        while True:
            params: dict[str, Any] = {
                "supportsAllDrives": "true",
                "fields": f"nextPageToken,{PERMISSION_FIELDS}",
            }
            if token:
                params["pageToken"] = token
            body = self.http.get(_api(f"/drive/v3/files/{file_id}/permissions"), **params)
            perms = body.get("permissions")
            if not isinstance(perms, list):
                raise ValueError("permission list missing")
            out.extend(perms)
            token = str(body.get("nextPageToken") or "")
            if not token:
                return out

    def _add(self, page: Page, f: Any) -> None:
        if not isinstance(f, dict) or not f.get("id"):
            page.errors.append("Drive listed a file without an id; it was skipped.")
            return
        file_id = str(f["id"])
        grants: list[SourceGrant] | None = []
        try:
            raw = f.get("permissions")
            if raw is None:
                raw = self._permissions(file_id)
            if not isinstance(raw, list):
                raise ValueError("permissions is not a list")
            for p in raw:
                g = _grant(p)
                if g is not None:
                    assert grants is not None
                    grants.append(g)
        except (ValueError, SourceError) as exc:
            grants = None
            page.errors.append(
                f"Permissions of {file_id} could not be read ({exc}); it has no grants."
            )
        owners = f.get("owners") or []
        owner = owners[0].get("emailAddress", "") if owners and isinstance(owners[0], dict) else ""
        parents = f.get("parents") or []
        try:
            size = int(f["size"]) if f.get("size") is not None else None
        except (TypeError, ValueError):
            size = None
        mime = str(f.get("mimeType") or "")
        page.documents.append(
            SourceDocument(
                source_id=file_id,
                title=str(f.get("name") or "Untitled")[:500],
                modified_at=_time(f.get("modifiedTime")),
                kind="folder" if mime == FOLDER else "file",
                mime_type=mime[:255],
                web_url=str(f.get("webViewLink") or "")[:2000],
                size=size,
                parent_source_id=str(parents[0]) if parents else "",
                owner_email=str(owner).lower()[:254],
                grants=grants,
            )
        )


def client(connection: Connection) -> GoogleDrive:
    return GoogleDrive(connection)
