"""A local Microsoft identity platform and Microsoft Graph over an in-memory tenant, for
tests, the bench and the demo. It speaks the documented formats the SharePoint and
OneDrive provider reads (``connectors.providers.microsoft``):

- the identity platform: ``/organizations/v2.0/adminconsent`` (redirects back with
  ``tenant``, ``admin_consent`` and ``state``, or ``error`` and ``error_description``)
  and ``/{tenant}/oauth2/v2.0/token`` (client credentials; refusals carry AADSTS codes);
- Graph ``/v1.0``: ``organization``, ``sites/getAllSites``, ``sites/{id}/drives``,
  ``users``, ``users/{id}/drive``, ``drives/{id}/root/delta``, an item's ``children`` and
  ``permissions``, ``groups`` and ``groups/{id}/transitiveMembers``, each paged by
  ``@odata.nextLink``, behind bearer tokens (401 for an unknown or expired one).

Delta behaves as Microsoft documents it: without a token it enumerates the drive, parents
first, and ends with an ``@odata.deltaLink``; from a delta link it returns only the items
changed since (the latest state of each, deleted ones with the ``deleted`` facet) and
their parent folders. A change of a folder's permissions brings the folder, not what
inherits from it. An item's ``permissions`` are its own and those it inherits.

Tests change the tenant (``add_file``, ``set_permissions``, ``delete``, ``add_group``,
``nest``, ...) and inject faults (``fail``, ``throttle``, ``drop``, ``stall``,
``resync_next_delta``, ``malform_permission``, ``refuse_tokens``, ``refuse_consent``,
``expire_tokens``). ``requests`` records every request's method and path.

Run it with ``LocalMicrosoft().start()`` (or as a context manager); ``settings_for(url)``
gives the ``MICROSOFT_*`` settings that point the console at it.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
CLIENT_ID = "local-client-id"
CLIENT_SECRET = "local-client-secret"  # noqa: S105 - the local server's own, not a secret


def settings_for(url: str) -> dict[str, str]:
    return {
        "MICROSOFT_LOGIN_URL": url,
        "MICROSOFT_GRAPH_URL": url,
        "MICROSOFT_CLIENT_ID": CLIENT_ID,
        "MICROSOFT_CLIENT_SECRET": CLIENT_SECRET,
    }


def _guid(kind: str, key: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"local-microsoft:{kind}:{key}"))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Permissions as Graph gives them ------------------------------------------------------


def _person(email: str) -> dict[str, Any]:
    """A sharePointIdentitySet for one person, with the siteUser SharePoint adds."""
    name = email.split("@", 1)[0].title()
    return {
        "user": {"id": _guid("user", email.lower()), "displayName": name, "email": email},
        "siteUser": {
            "id": "7",
            "displayName": name,
            "email": email,
            "loginName": f"i:0#.f|membership|{email}",
        },
    }


def user_permission(email: str, role: str = "read") -> dict[str, Any]:
    return {"roles": [role], "grantedToV2": _person(email)}


def group_permission(group_id: str, name: str = "", role: str = "read") -> dict[str, Any]:
    return {
        "roles": [role],
        "grantedToV2": {
            "group": {"id": group_id, "displayName": name or group_id},
            "siteUser": {
                "id": "12",
                "displayName": name or group_id,
                "loginName": f"c:0o.c|federateddirectoryclaimprovider|{group_id}",
            },
        },
    }


def site_group_permission(name: str, role: str = "read") -> dict[str, Any]:
    return {
        "roles": [role],
        "grantedToV2": {"siteGroup": {"id": "3", "displayName": name, "loginName": name}},
    }


def link_permission(scope: str, emails: Iterable[str] = (), role: str = "read") -> dict[str, Any]:
    """A sharing link: ``anonymous``, ``organization``, ``users`` (the people named) or
    ``existingAccess``."""
    token = secrets.token_urlsafe(12)
    p: dict[str, Any] = {
        "roles": [role],
        "link": {
            "scope": scope,
            "type": "view" if role == "read" else "edit",
            "webUrl": f"https://contoso.sharepoint.test/:w:/s/{token}",
        },
        "shareId": token,
    }
    people = [_person(e) for e in emails]
    if people or scope == "users":
        p["grantedToIdentitiesV2"] = people
    return p


def everyone_permission(tenant_id: str) -> dict[str, Any]:
    """SharePoint's "Everyone except external users"."""
    return {
        "roles": ["read"],
        "grantedToV2": {
            "siteUser": {
                "id": "9",
                "displayName": "Everyone except external users",
                "loginName": f"c:0-.f|rolemanager|spo-grid-all-users/{tenant_id}",
            }
        },
    }


# The tenant -------------------------------------------------------------------------


@dataclass
class Item:
    id: str
    drive: str
    name: str
    parent: str | None
    folder: bool
    size: int = 0
    mime: str = "application/octet-stream"
    by: str = ""
    modified: str = field(default_factory=_now)
    permissions: list[dict[str, Any]] = field(default_factory=list)
    inherits: bool = True
    deleted: bool = False
    seq: int = 0
    shared_changed: bool = False
    malformed: list[Any] = field(default_factory=list)


@dataclass
class Drive:
    id: str
    name: str
    kind: str
    root: str
    web_url: str
    owner: str = ""


@dataclass
class Site:
    id: str
    name: str
    web_url: str
    drives: list[str] = field(default_factory=list)


@dataclass
class User:
    id: str
    mail: str
    drive: str | None = None


@dataclass
class Group:
    id: str
    name: str
    mail: str
    # User ids and group ids.
    members: list[str] = field(default_factory=list)


@dataclass
class Fault:
    kind: str  # "status", "drop", "stall", "resync"
    path: str
    times: int
    status: int = 500
    retry_after: str = ""
    seconds: float = 0.0


@dataclass
class _Delta:
    drive: str
    ids: list[str]
    end: int


class _Answer(Exception):
    def __init__(
        self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _graph_error(status: int, code: str, message: str) -> _Answer:
    return _Answer(
        status,
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {"date": _now(), "request-id": str(uuid.uuid4())},
            }
        },
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LocalMicrosoft

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (after a stall or a drop) is expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm and delayed ACKs each
    # answer on a kept-alive connection would wait some 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        cast(_Server, self.server).owner.handle(self, "GET")

    def do_POST(self) -> None:
        cast(_Server, self.server).owner.handle(self, "POST")


class LocalMicrosoft:
    """One tenant, its identity platform and its Graph, on ``url`` (port 0: any free one)."""

    def __init__(
        self,
        *,
        domain: str = "contoso.test",
        name: str = "Contoso",
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        page_size: int = 100,
        token_lifetime: int = 3600,
    ) -> None:
        self.tenant_id = str(uuid.uuid4())
        self.domain = domain
        self.name = name
        self.client_id = client_id
        self.client_secret = client_secret
        self.page_size = page_size
        self.token_lifetime = token_lifetime
        self.url = ""
        self.requests: list[tuple[str, str]] = []
        self.sites: dict[str, Site] = {}
        self.drives: dict[str, Drive] = {}
        self.items: dict[str, Item] = {}
        self.users: dict[str, User] = {}
        self.groups: dict[str, Group] = {}
        self._lock = threading.RLock()
        self._seq = 0
        self._ids = 0
        self._tokens: dict[str, float] = {}
        self._deltas: dict[str, _Delta] = {}
        self._faults: list[Fault] = []
        self._token_refusal: tuple[int, str, int, str] | None = None
        self._consent_refused = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # Running ----------------------------------------------------------------------

    def start(self) -> LocalMicrosoft:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LocalMicrosoft:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Changing the tenant ----------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:06X}"

    def _touch(self, item: Item, *, shared: bool = False) -> None:
        self._seq += 1
        item.seq = self._seq
        item.shared_changed = shared
        if not shared:
            item.modified = _now()

    def _drive(self, name: str, kind: str, owner: str = "") -> Drive:
        drive_id = "b!" + self._next_id("drv")
        root = Item(self._next_id("01ROOT"), drive_id, "root", None, folder=True, inherits=False)
        self.items[root.id] = root
        self._touch(root)
        web_url = f"https://contoso.sharepoint.test/{quote(name)}-{drive_id[-4:]}"
        drive = Drive(drive_id, name, kind, root.id, web_url, owner)
        self.drives[drive_id] = drive
        return drive

    def add_site(self, name: str) -> str:
        with self._lock:
            n = len(self.sites) + 1
            site_id = f"contoso.sharepoint.test,{_guid('site', n)},{_guid('web', n)}"
            self.sites[site_id] = Site(site_id, name, f"https://contoso.sharepoint.test/sites/{n}")
            return site_id

    def add_library(
        self, site_id: str, name: str = "Documents", permissions: Iterable[dict[str, Any]] = ()
    ) -> str:
        """A document library; ``permissions`` are its own, which its items inherit."""
        with self._lock:
            drive = self._drive(name, "documentLibrary")
            self.sites[site_id].drives.append(drive.id)
            self.items[drive.root].permissions = self._with_ids(permissions)
            return drive.id

    def add_user(self, email: str, *, onedrive: bool = True) -> str:
        """A user, with a OneDrive of which they are the owner unless ``onedrive=False``."""
        with self._lock:
            user = User(_guid("user", email.lower()), email)
            if onedrive:
                drive = self._drive("OneDrive", "business", email)
                self.items[drive.root].permissions = self._with_ids(
                    [user_permission(email, "owner")]
                )
                user.drive = drive.id
            self.users[user.id] = user
            return user.id

    def remove_onedrive(self, user_id: str) -> None:
        with self._lock:
            drive = self.users[user_id].drive
            self.users[user_id].drive = None
            if drive is not None:
                del self.drives[drive]

    def root(self, drive_id: str) -> str:
        return self.drives[drive_id].root

    def add_item(
        self,
        drive_id: str,
        name: str,
        parent: str | None = None,
        *,
        folder: bool = False,
        permissions: Iterable[dict[str, Any]] = (),
        inherits: bool = True,
        size: int = 1024,
        mime: str = "application/octet-stream",
        by: str = "",
    ) -> str:
        """A file or folder in ``parent`` (the drive's root when None), with its own
        ``permissions``, inheriting its parent's unless ``inherits=False``; ``by`` is the
        email of who created it."""
        with self._lock:
            item = Item(
                self._next_id("01ITEM"),
                drive_id,
                name,
                parent or self.drives[drive_id].root,
                folder=folder,
                size=0 if folder else size,
                mime="" if folder else mime,
                by=by,
                permissions=self._with_ids(permissions),
                inherits=inherits,
            )
            self.items[item.id] = item
            self._touch(item)
            return item.id

    def add_file(self, drive_id: str, name: str, parent: str | None = None, **kw: Any) -> str:
        return self.add_item(drive_id, name, parent, **kw)

    def add_folder(self, drive_id: str, name: str, parent: str | None = None, **kw: Any) -> str:
        return self.add_item(drive_id, name, parent, folder=True, **kw)

    def modify(self, item_id: str, *, name: str | None = None, size: int | None = None) -> None:
        with self._lock:
            item = self.items[item_id]
            item.name = name if name is not None else item.name
            item.size = size if size is not None else item.size
            self._touch(item)

    def move(self, item_id: str, parent_id: str) -> None:
        with self._lock:
            item = self.items[item_id]
            item.parent = parent_id
            self._touch(item)

    def delete(self, item_id: str) -> None:
        """Delete an item and everything below it; delta reports each as deleted."""
        with self._lock:
            for item in [self.items[item_id], *self._descendants(item_id)]:
                item.deleted = True
                self._touch(item)

    def set_permissions(
        self,
        item_id: str,
        permissions: Iterable[dict[str, Any]],
        *,
        inherits: bool | None = None,
    ) -> None:
        """Replace an item's own permissions (and whether it inherits its parent's)."""
        with self._lock:
            item = self.items[item_id]
            item.permissions = self._with_ids(permissions)
            if inherits is not None:
                item.inherits = inherits
            self._touch(item, shared=True)

    def add_group(self, name: str, *, mail: str = "", members: Iterable[str] = ()) -> str:
        with self._lock:
            gid = _guid("group", f"{name}:{len(self.groups)}")
            self.groups[gid] = Group(gid, name, mail, list(members))
            return gid

    def add_members(self, group_id: str, *member_ids: str) -> None:
        """Users or groups (by id) join a group."""
        with self._lock:
            members = self.groups[group_id].members
            members.extend(m for m in member_ids if m not in members)

    def remove_members(self, group_id: str, *member_ids: str) -> None:
        with self._lock:
            group = self.groups[group_id]
            group.members = [m for m in group.members if m not in member_ids]

    def nest(self, outer: str, inner: str) -> None:
        """``inner`` becomes a member of ``outer`` (cycles are allowed, as in Entra)."""
        self.add_members(outer, inner)

    def group_permission(self, group_id: str, role: str = "read") -> dict[str, Any]:
        return group_permission(group_id, self.groups[group_id].name, role)

    def everyone_permission(self) -> dict[str, Any]:
        return everyone_permission(self.tenant_id)

    def _with_ids(self, permissions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for p in permissions:
            out.append({"id": self._next_id("perm"), **json.loads(json.dumps(p))})
        return out

    # Faults -----------------------------------------------------------------------

    def fail(self, times: int = 1, *, status: int = 500, path: str = "") -> None:
        """Answer ``status`` to the next ``times`` requests whose path and query hold
        ``path``."""
        with self._lock:
            self._faults.append(Fault("status", path, times, status=status))

    def throttle(
        self, retry_after: float | str, *, times: int = 1, status: int = 429, path: str = ""
    ) -> None:
        """Answer 429 (or 503) with ``Retry-After`` (seconds or an HTTP date)."""
        with self._lock:
            self._faults.append(
                Fault("status", path, times, status=status, retry_after=str(retry_after))
            )

    def drop(self, times: int = 1, *, path: str = "") -> None:
        """Start answering, then close the connection half-way through the body."""
        with self._lock:
            self._faults.append(Fault("drop", path, times))

    def stall(self, seconds: float, *, times: int = 1, path: str = "") -> None:
        """Wait ``seconds`` before answering."""
        with self._lock:
            self._faults.append(Fault("stall", path, times, seconds=seconds))

    def resync_next_delta(self, times: int = 1) -> None:
        """Answer the next delta requests 410 ``resyncRequired``, as Graph does for a token
        it no longer knows."""
        with self._lock:
            self._faults.append(Fault("resync", "/root/delta", times))

    def malform_permission(self, item_id: str, value: Any = None) -> None:
        """Add a permission the provider cannot read to what an item's list answers (by
        default a person without any email)."""
        with self._lock:
            bad = (
                value
                if value is not None
                else {
                    "id": "malformed",
                    "roles": ["read"],
                    "grantedToV2": {"user": {"id": _guid("user", "x"), "displayName": "No Email"}},
                }
            )
            self.items[item_id].malformed.append(bad)
            self._touch(self.items[item_id], shared=True)

    def refuse_tokens(
        self, code: int = 7000229, error: str = "invalid_client", status: int = 400
    ) -> None:
        """The token endpoint refuses the app, by default as it does once the admin
        consent is withdrawn (the app has no service principal in the tenant)."""
        messages = {
            7000229: f"The client application {self.client_id} is missing service principal "
            f"in the tenant {self.tenant_id}.",
            7000215: "Invalid client secret provided. Ensure the secret being sent in the "
            "request is the client secret value, not the client secret ID.",
            700016: f"Application with identifier '{self.client_id}' was not found in the "
            f"directory '{self.tenant_id}'.",
        }
        with self._lock:
            self._token_refusal = (status, error, code, messages.get(code, "Refused."))

    def accept_tokens(self) -> None:
        with self._lock:
            self._token_refusal = None

    def refuse_consent(self, refused: bool = True) -> None:
        """The administrator declines the consent prompt."""
        self._consent_refused = refused

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # Serving ----------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append((method, handler.path))
            fault = self._take_fault(handler.path)
        try:
            if fault is not None and fault.kind == "drop":
                self._drop(handler)
                return
            if fault is not None and fault.kind == "stall":
                time.sleep(fault.seconds)
            try:
                if fault is not None and fault.kind == "resync":
                    raise _graph_error(410, "resyncRequired", "Resync required.")
                if fault is not None:
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    code = "TooManyRequests" if fault.status == 429 else "serviceNotAvailable"
                    answer = _graph_error(fault.status, code, "Please retry later.")
                    answer.headers = headers
                    raise answer
                with self._lock:
                    status, body, headers = self._route(method, handler, parts.path, query, raw)
            except _Answer as answer:
                status, body, headers = answer.status, answer.body, answer.headers
            self._send(handler, status, body, headers)
        except OSError:
            handler.close_connection = True  # the client went away

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.times > 0 and fault.path in path:
                fault.times -= 1
                return fault
        return None

    def _drop(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "4096")
        handler.end_headers()
        handler.wfile.write(b'{"value": [{"id": "')
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        if body is not None:
            handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(
        self,
        method: str,
        handler: BaseHTTPRequestHandler,
        path: str,
        query: dict[str, str],
        raw: bytes,
    ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        segs = [unquote(s) for s in path.strip("/").split("/")]
        if method == "POST" and len(segs) == 4 and segs[1:] == ["oauth2", "v2.0", "token"]:
            form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
            return 200, self._token(segs[0], form), {}
        if method == "GET" and len(segs) == 3 and segs[1:] == ["v2.0", "adminconsent"]:
            return 302, None, {"Location": self._consent(query)}
        if method != "GET" or not segs or segs[0] != "v1.0":
            raise _graph_error(400, "BadRequest", f"Resource not found for the segment {path}.")
        self._check_bearer(handler.headers.get("Authorization", ""))
        return 200, self._graph(path, segs[1:], query), {}

    # The identity platform --------------------------------------------------------

    def _aad_error(self, status: int, error: str, code: int, message: str) -> _Answer:
        trace, correlation = uuid.uuid4(), uuid.uuid4()
        return _Answer(
            status,
            {
                "error": error,
                "error_description": f"AADSTS{code}: {message} Trace ID: {trace} "
                f"Correlation ID: {correlation} Timestamp: {_now()}",
                "error_codes": [code],
                "timestamp": _now(),
                "trace_id": str(trace),
                "correlation_id": str(correlation),
                "error_uri": f"https://login.microsoftonline.com/error?code={code}",
            },
        )

    def _token(self, tenant: str, form: dict[str, str]) -> dict[str, Any]:
        if tenant.lower() not in (self.tenant_id, self.domain):
            raise self._aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            raise self._aad_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        if form.get("client_id") != self.client_id:
            raise self._aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id')}' was not found in the "
                f"directory '{tenant}'.",
            )
        if form.get("client_secret") != self.client_secret:
            raise self._aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
        if form.get("scope") != GRAPH_SCOPE:
            raise self._aad_error(
                400, "invalid_scope", 1002012, "The provided value for scope is not valid."
            )
        if self._token_refusal is not None:
            raise self._aad_error(*self._token_refusal)
        token = secrets.token_urlsafe(32)
        self._tokens[token] = time.monotonic() + self.token_lifetime
        return {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": token,
        }

    def _consent(self, query: dict[str, str]) -> str:
        redirect = query.get("redirect_uri", "")
        back: dict[str, str] = {"state": query.get("state", "")}
        if query.get("client_id") != self.client_id:
            back["error"] = "unauthorized_client"
            back["error_description"] = (
                f"AADSTS700016: Application with identifier '{query.get('client_id')}' was not "
                "found in the directory."
            )
        elif self._consent_refused:
            back["error"] = "access_denied"
            back["error_description"] = (
                "AADSTS65004: User declined to consent to access the app.\r\n"
                f"Trace ID: {uuid.uuid4()}\r\nCorrelation ID: {uuid.uuid4()}\r\n"
                f"Timestamp: {_now()}"
            )
        else:
            back.update(tenant=self.tenant_id, admin_consent="True", scope=GRAPH_SCOPE)
        return f"{redirect}{'&' if '?' in redirect else '?'}{urlencode(back)}"

    def _check_bearer(self, header: str) -> None:
        token = header[7:] if header.startswith("Bearer ") else ""
        expires = self._tokens.get(token)
        if expires is None or expires <= time.monotonic():
            answer = _graph_error(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
            answer.headers = {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'}
            raise answer

    # Graph ------------------------------------------------------------------------

    def _graph(self, path: str, segs: list[str], query: dict[str, str]) -> dict[str, Any]:
        match segs:
            case ["organization"]:
                org = {
                    "id": self.tenant_id,
                    "displayName": self.name,
                    "verifiedDomains": [{"name": self.domain, "isDefault": True}],
                }
                return self._listing(path, query, [org])
            case ["sites", "getAllSites"]:
                rows = [
                    {"id": s.id, "displayName": s.name, "name": s.name, "webUrl": s.web_url}
                    for s in self.sites.values()
                ]
                return self._listing(path, query, rows)
            case ["sites", site_id, "drives"]:
                site = self.sites.get(site_id)
                if site is None:
                    raise _graph_error(404, "itemNotFound", "The site was not found.")
                drives = [self.drives[d] for d in site.drives if d in self.drives]
                return self._listing(path, query, [self._drive_json(d) for d in drives])
            case ["users"]:
                rows = [
                    {
                        "id": u.id,
                        "mail": u.mail,
                        "userPrincipalName": u.mail,
                        "displayName": u.mail.split("@", 1)[0].title(),
                    }
                    for u in self.users.values()
                ]
                return self._listing(path, query, rows)
            case ["users", user_id, "drive"]:
                user = self.users.get(user_id)
                if user is None or user.drive is None or user.drive not in self.drives:
                    raise _graph_error(404, "itemNotFound", "The user's OneDrive was not found.")
                return self._drive_json(self.drives[user.drive])
            case ["drives", drive_id, "root", "delta"]:
                return self._delta(self._drive_of(drive_id), query)
            case ["drives", drive_id, "items", item_id, "children"]:
                item = self._item_of(drive_id, item_id)
                children = [i for i in self.items.values() if i.parent == item.id and not i.deleted]
                return self._listing(
                    path, query, [self._item_json(c, delta=False) for c in children]
                )
            case ["drives", drive_id, "items", item_id, "permissions"]:
                item = self._item_of(drive_id, item_id)
                return self._listing(path, query, [*self._effective(item), *item.malformed])
            case ["groups"]:
                groups: list[dict[str, Any]] = [
                    {"id": g.id, "displayName": g.name, "mail": g.mail or None}
                    for g in self.groups.values()
                ]
                return self._listing(path, query, groups)
            case ["groups", group_id, "transitiveMembers"]:
                if group_id not in self.groups:
                    raise _graph_error(404, "Request_ResourceNotFound", "The group was not found.")
                return self._listing(path, query, self._transitive(group_id))
        raise _graph_error(400, "BadRequest", f"Resource not found for the segment {path}.")

    def _listing(self, path: str, query: dict[str, str], rows: list[Any]) -> dict[str, Any]:
        try:
            top = min(int(query.get("$top") or self.page_size), self.page_size)
            skip = int(query.get("$skiptoken") or 0)
        except ValueError:
            raise _graph_error(400, "BadRequest", "Invalid paging.") from None
        body: dict[str, Any] = {"value": rows[skip : skip + top]}
        if skip + top < len(rows):
            nxt = urlencode({**query, "$skiptoken": str(skip + top)})
            body["@odata.nextLink"] = f"{self.url}{path}?{nxt}"
        return body

    def _drive_of(self, drive_id: str) -> Drive:
        drive = self.drives.get(drive_id)
        if drive is None:
            raise _graph_error(404, "itemNotFound", "The drive was not found.")
        return drive

    def _item_of(self, drive_id: str, item_id: str) -> Item:
        item = self.items.get(item_id)
        if item is None or item.deleted or item.drive != self._drive_of(drive_id).id:
            raise _graph_error(404, "itemNotFound", "The resource could not be found.")
        return item

    def _drive_json(self, drive: Drive) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": drive.id,
            "name": drive.name,
            "driveType": drive.kind,
            "webUrl": drive.web_url,
        }
        if drive.owner:
            body["owner"] = {"user": {"email": drive.owner, "displayName": drive.owner}}
        return body

    def _ancestors(self, item: Item) -> list[Item]:
        out = []
        parent = item.parent
        while parent is not None:
            up = self.items[parent]
            out.append(up)
            parent = up.parent
        return out

    def _descendants(self, item_id: str) -> list[Item]:
        out: list[Item] = []
        queue = [item_id]
        while queue:
            current = queue.pop()
            for i in self.items.values():
                if i.parent == current and not i.deleted:
                    out.append(i)
                    queue.append(i.id)
        return out

    def _path(self, item: Item) -> str:
        """Graph's parentReference.path of an item (delta leaves it out)."""
        names = [a.name for a in reversed(self._ancestors(item)) if a.parent is not None]
        drive = self.drives[item.drive]
        return f"/drives/{drive.id}/root:" + "".join("/" + quote(n) for n in names)

    def _effective(self, item: Item) -> list[dict[str, Any]]:
        own = [dict(p) for p in item.permissions]
        if item.inherits and item.parent is not None:
            return [*self._effective(self.items[item.parent]), *own]
        return own

    def _item_json(self, item: Item, *, delta: bool) -> dict[str, Any]:
        drive = self.drives[item.drive]
        parent: dict[str, Any] = {"driveId": drive.id, "driveType": drive.kind}
        if item.deleted:
            return {"id": item.id, "deleted": {"state": "deleted"}, "parentReference": parent}
        if item.parent is not None:
            parent["id"] = item.parent
            if not delta:
                parent["path"] = self._path(item)
        by = {"user": {"email": item.by, "displayName": item.by}} if item.by else {}
        body: dict[str, Any] = {
            "id": item.id,
            "name": item.name,
            "webUrl": f"{drive.web_url}/{quote(item.name)}",
            "size": item.size,
            "createdDateTime": item.modified,
            "lastModifiedDateTime": item.modified,
            "parentReference": parent,
            "createdBy": by,
            "lastModifiedBy": by,
        }
        if item.parent is None:
            body["root"] = {}
        if item.folder:
            body["folder"] = {
                "childCount": sum(
                    1 for i in self.items.values() if i.parent == item.id and not i.deleted
                )
            }
        else:
            body["file"] = {"mimeType": item.mime}
        if delta and item.shared_changed:
            body["@microsoft.graph.sharedChanged"] = "True"
        return body

    def _delta(self, drive: Drive, query: dict[str, str]) -> dict[str, Any]:
        token = query.get("token", "")
        offset = 0
        if token.startswith("n."):
            _, key, at = (token.split(".") + ["", ""])[:3]
            delta = self._deltas.get(key)
            if delta is None or delta.drive != drive.id or not at.isdigit():
                raise _graph_error(410, "resyncRequired", "The delta token is no longer valid.")
            offset = int(at)
        else:
            if token == "latest":
                ids: list[str] = []
            elif token.startswith("d.") and token[2:].isdigit():
                ids = self._changed(drive, int(token[2:]))
            elif not token:
                ids = self._ordered(
                    [i for i in self.items.values() if i.drive == drive.id and not i.deleted]
                )
            else:
                raise _graph_error(410, "resyncRequired", "The delta token is no longer valid.")
            key = secrets.token_hex(6)
            delta = _Delta(drive.id, ids, self._seq)
            self._deltas[key] = delta
        chunk = delta.ids[offset : offset + self.page_size]
        base = f"{self.url}/v1.0/drives/{quote(drive.id, safe='!,')}/root/delta"
        body: dict[str, Any] = {
            "@odata.context": f"{self.url}/v1.0/$metadata#Collection(driveItem)",
            "value": [self._item_json(self.items[i], delta=True) for i in chunk],
        }
        if offset + self.page_size < len(delta.ids):
            body["@odata.nextLink"] = f"{base}?token=n.{key}.{offset + self.page_size}"
        else:
            body["@odata.deltaLink"] = f"{base}?token=d.{delta.end}"
        return body

    def _ordered(self, items: list[Item]) -> list[str]:
        """Parents before what they hold, as delta lists them."""
        return [i.id for i in sorted(items, key=lambda i: (len(self._ancestors(i)), i.seq))]

    def _changed(self, drive: Drive, since: int) -> list[str]:
        """Items changed since ``since`` and their parent folders."""
        changed = {i.id: i for i in self.items.values() if i.drive == drive.id and i.seq > since}
        for item in list(changed.values()):
            for up in self._ancestors(item):
                changed.setdefault(up.id, up)
        return self._ordered(list(changed.values()))

    def _transitive(self, group_id: str) -> list[dict[str, Any]]:
        """Every user and group below a group, once each, whatever the cycles."""
        seen = {group_id}
        queue = [group_id]
        out: list[dict[str, Any]] = []
        while queue:
            for member in self.groups[queue.pop(0)].members:
                if member in seen:
                    continue
                seen.add(member)
                if member in self.groups:
                    queue.append(member)
                    kind, mail = "group", self.groups[member].mail or None
                elif member in self.users:
                    kind, mail = "user", self.users[member].mail
                else:
                    continue
                row = {"@odata.type": f"#microsoft.graph.{kind}", "id": member, "mail": mail}
                if kind == "user":
                    row["userPrincipalName"] = mail
                out.append(row)
        return out
