"""A local Google: the OAuth 2.0 endpoints (authorize with a consent page, token with
PKCE and refresh, revoke), Drive v3 (``about``, ``files.list`` with ``nextPageToken``,
``permissions.list``, ``changes.getStartPageToken``, ``changes.list``) and the Admin SDK
Directory (``groups.list``, ``members.list``), from an in-memory domain that tests and
the demo change. It can be told to fail: answer 500, throttle with ``Retry-After``, drop
the connection mid-answer, return a malformed permission, stall, revoke the grant.

Run it with ``LocalGoogle().start()``; ``settings_for(url)`` gives the ``GOOGLE_*``
settings that point the console at it. ``python -m connectors.local.google`` serves the
demo domain on a fixed port.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

CLIENT_ID = "local-client-id.apps.googleusercontent.com"
CLIENT_SECRET = "local-client-secret"  # noqa: S105 - the local server's own, not a secret
FOLDER = "application/vnd.google-apps.folder"


def settings_for(url: str) -> dict[str, str]:
    return {
        "GOOGLE_OAUTH_AUTH_URL": f"{url}/o/oauth2/v2/auth",
        "GOOGLE_OAUTH_TOKEN_URL": f"{url}/token",
        "GOOGLE_OAUTH_REVOKE_URL": f"{url}/revoke",
        "GOOGLE_API_URL": url,
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
    }


@dataclass
class Fault:
    """What the server does instead of answering, for ``times`` matching requests."""

    kind: str  # "500", "503", "429", "drop", "stall", "malformed_permission", "401"
    path: str = ""  # the request path it applies to ("" = any, "/x/" = below /x/)
    times: int = 1
    retry_after: str = "0"
    stall_seconds: float = 0.0
    after: int = 0  # let this many matching requests through first


@dataclass
class Domain:
    """The Google side's state. Every change appends to the change log that
    ``changes.list`` reads."""

    account: str = "admin@acme.example"
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    # group email -> {"id", "email", "name", "members": [{"email", "type"}]}
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: list[tuple[int, str]] = field(default_factory=list)  # (sequence, file id)
    sequence: int = 1
    page_size: int = 100
    directory_forbidden: bool = False
    # Files whose permissions the listing leaves out (shared drives).
    shared_drive_files: set[str] = field(default_factory=set)

    def _touch(self, file_id: str) -> None:
        self.sequence += 1
        self.changes.append((self.sequence, file_id))

    def add_file(
        self,
        file_id: str,
        name: str,
        *,
        permissions: list[dict[str, Any]] | None = None,
        mime_type: str = "application/vnd.google-apps.document",
        parent: str = "",
        owner: str = "",
        modified: datetime | None = None,
        size: int | None = None,
        shared_drive: bool = False,
    ) -> None:
        self.files[file_id] = {
            "id": file_id,
            "name": name,
            "mimeType": mime_type,
            "webViewLink": f"https://docs.google.com/document/d/{file_id}/edit",
            "modifiedTime": (modified or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "parents": [parent] if parent else [],
            "owners": [{"emailAddress": owner or self.account}],
            "trashed": False,
            "permissions": [
                dict(p, id=p.get("id") or secrets.token_hex(4)) for p in permissions or []
            ],
            **({"size": str(size)} if size is not None else {}),
            **({"driveId": "shared-drive-1"} if shared_drive else {}),
        }
        if shared_drive:
            self.shared_drive_files.add(file_id)
        self._touch(file_id)

    def set_permissions(self, file_id: str, permissions: list[dict[str, Any]]) -> None:
        self.files[file_id]["permissions"] = [
            dict(p, id=p.get("id") or secrets.token_hex(4)) for p in permissions
        ]
        self.files[file_id]["modifiedTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self._touch(file_id)

    def rename(self, file_id: str, name: str) -> None:
        self.files[file_id]["name"] = name
        self._touch(file_id)

    def move(self, file_id: str, parent: str) -> None:
        self.files[file_id]["parents"] = [parent] if parent else []
        self._touch(file_id)

    def remove_file(self, file_id: str) -> None:
        self.files.pop(file_id, None)
        self.shared_drive_files.discard(file_id)
        self._touch(file_id)

    def trash(self, file_id: str) -> None:
        self.files[file_id]["trashed"] = True
        self._touch(file_id)

    def add_group(
        self,
        email: str,
        *,
        people: tuple[str, ...] | list[str] = (),
        groups: tuple[str, ...] | list[str] = (),
        name: str = "",
    ) -> None:
        self.groups[email] = {
            "id": "g-" + hashlib.sha256(email.encode()).hexdigest()[:10],
            "email": email,
            "name": name or email.split("@")[0].title(),
            "members": [{"email": p, "type": "USER", "status": "ACTIVE"} for p in people]
            + [{"email": g, "type": "GROUP"} for g in groups],
        }

    def add_member(self, group: str, email: str, *, kind: str = "USER") -> None:
        self.groups[group]["members"].append({"email": email, "type": kind, "status": "ACTIVE"})

    def remove_member(self, group: str, email: str) -> None:
        self.groups[group]["members"] = [
            m for m in self.groups[group]["members"] if m["email"] != email
        ]


def user(email: str, role: str = "reader") -> dict[str, Any]:
    return {"type": "user", "emailAddress": email, "role": role}


def group(email: str, role: str = "reader") -> dict[str, Any]:
    return {"type": "group", "emailAddress": email, "role": role}


def domain(name: str, *, discoverable: bool = True, role: str = "reader") -> dict[str, Any]:
    return {"type": "domain", "domain": name, "role": role, "allowFileDiscovery": discoverable}


def anyone(*, discoverable: bool = False, role: str = "reader") -> dict[str, Any]:
    return {"type": "anyone", "role": role, "allowFileDiscovery": discoverable}


class LocalGoogle:
    def __init__(
        self, domain: Domain | None = None, *, port: int = 0, host: str = "127.0.0.1"
    ) -> None:
        self.domain = domain or Domain()
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self.codes: dict[str, dict[str, str]] = {}
        self.access_tokens: dict[str, datetime] = {}
        self.refresh_tokens: set[str] = set()
        self.requests: list[str] = []
        self.token_lifetime = 3600
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                server._handle(self, "POST")

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # Running ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalGoogle:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LocalGoogle:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Control ------------------------------------------------------------------------

    def fail(self, kind: str, *, path: str = "", times: int = 1, **kw: Any) -> None:
        with self.lock:
            self.faults.append(Fault(kind, path, times, **kw))

    def revoke_grant(self) -> None:
        """The user removed the app's access: tokens stop working, refresh fails."""
        with self.lock:
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    def expire_tokens(self) -> None:
        with self.lock:
            for t in self.access_tokens:
                self.access_tokens[t] = datetime.now(UTC) - timedelta(seconds=1)

    def approve_url(self, authorize_url: str) -> str:
        """Where the consent page's "Allow" button leads, for tests without a browser."""
        query = urlparse(authorize_url).query
        return f"{self.url}/o/oauth2/v2/auth/approve?{query}"

    @contextmanager
    def changing(self) -> Iterator[Domain]:
        with self.lock:
            yield self.domain

    # Serving ------------------------------------------------------------------------

    def _fault_for(self, path: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                # "" matches any path, "/x/" any path below it, else the exact path.
                matches = (
                    not f.path
                    or path == f.path
                    or (f.path.endswith("/") and path.startswith(f.path))
                )
                if f.times > 0 and matches:
                    if f.after > 0:
                        f.after -= 1
                        return None
                    f.times -= 1
                    return f
        return None

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urlparse(h.path)
        path = parsed.path
        params = {k: v[-1] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
        if method == "POST":
            length = int(h.headers.get("Content-Length") or 0)
            body = h.rfile.read(length).decode() if length else ""
            params.update({k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()})
        with self.lock:
            self.requests.append(f"{method} {path}")
        fault = self._fault_for(path)
        if fault is not None:
            if fault.kind == "drop":
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", "1000")
                h.end_headers()
                h.wfile.write(b'{"files": [')
                h.wfile.flush()
                h.close_connection = True
                try:
                    h.connection.shutdown(2)
                except OSError:
                    pass
                return
            if fault.kind == "stall":
                time.sleep(fault.stall_seconds)
            elif fault.kind in ("500", "503", "429", "401", "403"):
                headers = {"Retry-After": fault.retry_after} if fault.kind in ("429", "503") else {}
                self._json(
                    h,
                    {"error": {"code": int(fault.kind), "message": "fault"}},
                    int(fault.kind),
                    headers,
                )
                return
        try:
            status, payload, headers = self._route(method, path, params, h, fault)
        except KeyError:
            status, payload, headers = 404, {"error": {"code": 404, "message": "Not found"}}, {}
        if status in (301, 302, 303):
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.end_headers()
            return
        if isinstance(payload, str):
            data = payload.encode()
            h.send_response(status)
            h.send_header("Content-Type", "text/html; charset=utf-8")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            return
        self._json(h, payload, status, headers)

    @staticmethod
    def _json(
        h: BaseHTTPRequestHandler, payload: Any, status: int, headers: dict[str, str]
    ) -> None:
        data = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _authorized(self, h: BaseHTTPRequestHandler) -> bool:
        auth = h.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        with self.lock:
            until = self.access_tokens.get(token)
        return until is not None and until > datetime.now(UTC)

    def _route(
        self,
        method: str,
        path: str,
        p: dict[str, str],
        h: BaseHTTPRequestHandler,
        fault: Fault | None,
    ) -> tuple[int, Any, dict[str, str]]:
        if path == "/o/oauth2/v2/auth":
            return 200, self._consent_page(p), {}
        if path == "/o/oauth2/v2/auth/approve":
            return self._approve(p)
        if path == "/token" and method == "POST":
            return self._token(p)
        if path == "/revoke" and method == "POST":
            with self.lock:
                self.refresh_tokens.discard(p.get("token", ""))
                self.access_tokens.pop(p.get("token", ""), None)
            return 200, {}, {}
        if not self._authorized(h):
            return 401, {"error": {"code": 401, "message": "Invalid Credentials"}}, {}
        with self.lock:
            return self._api(path, p, fault)

    # OAuth --------------------------------------------------------------------------

    def _consent_page(self, p: dict[str, str]) -> str:
        if p.get("client_id") != CLIENT_ID:
            return "<h1>Error 401: invalid_client</h1>"
        approve = f"/o/oauth2/v2/auth/approve?{urlencode(p)}"
        deny = (
            p.get("redirect_uri", "")
            + "?"
            + urlencode({"error": "access_denied", "state": p.get("state", "")})
        )
        account = html.escape(self.domain.account)
        return (
            "<!doctype html><html lang='en'><head><title>Local Google: sign in</title></head>"
            "<body><main><h1>Local Google Drive (demo)</h1>"
            f"<p>The console asks to read your Drive's file list and permissions, and your "
            f"domain's groups, as <strong>{account}</strong>.</p>"
            f"<p><a role='button' href='{html.escape(approve)}'>Allow</a> "
            f"<a role='button' href='{html.escape(deny)}'>Cancel</a></p></main></body></html>"
        )

    def _approve(self, p: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if p.get("client_id") != CLIENT_ID or not p.get("redirect_uri"):
            return 400, {"error": "invalid_request"}, {}
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = {
                "challenge": p.get("code_challenge", ""),
                "method": p.get("code_challenge_method", ""),
                "redirect_uri": p["redirect_uri"],
            }
        target = p["redirect_uri"] + "?" + urlencode({"code": code, "state": p.get("state", "")})
        return 302, None, {"Location": target}

    def _issue(self) -> dict[str, Any]:
        access = "ya29." + secrets.token_urlsafe(24)
        with self.lock:
            self.access_tokens[access] = datetime.now(UTC) + timedelta(seconds=self.token_lifetime)
        return {"access_token": access, "expires_in": self.token_lifetime, "token_type": "Bearer"}

    def _token(self, p: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if p.get("client_id") != CLIENT_ID or p.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}, {}
        grant = p.get("grant_type")
        if grant == "authorization_code":
            with self.lock:
                issued = self.codes.pop(p.get("code", ""), None)
            if issued is None or issued["redirect_uri"] != p.get("redirect_uri"):
                return 400, {"error": "invalid_grant"}, {}
            verifier = p.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if issued["method"] != "S256" or digest.decode().rstrip("=") != issued["challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "PKCE"}, {}
            refresh = "1//" + secrets.token_urlsafe(24)
            with self.lock:
                self.refresh_tokens.add(refresh)
            return 200, {**self._issue(), "refresh_token": refresh, "scope": "drive"}, {}
        if grant == "refresh_token":
            with self.lock:
                known = p.get("refresh_token") in self.refresh_tokens
            if not known:
                return (
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                    {},
                )
            return 200, self._issue(), {}
        return 400, {"error": "unsupported_grant_type"}, {}

    # Drive and Directory ------------------------------------------------------------

    def _file(self, f: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        out = dict(f)
        if f["id"] in self.domain.shared_drive_files:
            out.pop("permissions", None)
        elif fault is not None and fault.kind == "malformed_permission":
            out["permissions"] = [{"type": "user"}]  # no email: malformed
        return out

    def _api(
        self, path: str, p: dict[str, str], fault: Fault | None
    ) -> tuple[int, Any, dict[str, str]]:
        d = self.domain
        size = min(int(p.get("pageSize") or d.page_size), d.page_size)
        if path == "/drive/v3/about":
            return 200, {"user": {"emailAddress": d.account, "displayName": "Admin"}}, {}
        if path == "/drive/v3/files":
            ids: list[str] = sorted(i for i, f in d.files.items() if not f["trashed"])
            start = int(p.get("pageToken") or 0)
            chunk = ids[start : start + size]
            body: dict[str, Any] = {"files": [self._file(d.files[i], fault) for i in chunk]}
            if start + size < len(ids):
                body["nextPageToken"] = str(start + size)
            return 200, body, {}
        if path.startswith("/drive/v3/files/") and path.endswith("/permissions"):
            file_id = path.split("/")[4]
            perms = d.files[file_id]["permissions"]
            if fault is not None and fault.kind == "malformed_permission":
                perms = [{"type": "group"}]
            return 200, {"permissions": perms}, {}
        if path == "/drive/v3/changes/startPageToken":
            return 200, {"startPageToken": str(d.sequence)}, {}
        if path == "/drive/v3/changes":
            after = int(p["pageToken"])
            latest: dict[str, int] = {}
            for seq, file_id in d.changes:
                if seq > after:
                    latest[file_id] = seq
            ordered = sorted(latest.items(), key=lambda kv: kv[1])
            changed = ordered[:size]
            changes = []
            for file_id, _seq in changed:
                f = d.files.get(file_id)
                if f is None:
                    changes.append({"changeType": "file", "fileId": file_id, "removed": True})
                else:
                    changes.append(
                        {
                            "changeType": "file",
                            "fileId": file_id,
                            "removed": False,
                            "file": self._file(f, fault),
                        }
                    )
            body = {"changes": changes}
            if len(ordered) > size:
                body["nextPageToken"] = str(changed[-1][1])
            else:
                body["newStartPageToken"] = str(d.sequence)
            return 200, body, {}
        if path == "/admin/directory/v1/groups":
            if d.directory_forbidden:
                return (
                    403,
                    {
                        "error": {
                            "code": 403,
                            "message": "Not Authorized to access this resource/api",
                        }
                    },
                    {},
                )
            emails = sorted(d.groups)
            start = int(p.get("pageToken") or 0)
            step = min(int(p.get("maxResults") or 200), 200)
            chunk = emails[start : start + step]
            body = {"groups": [{k: d.groups[e][k] for k in ("id", "email", "name")} for e in chunk]}
            if start + step < len(emails):
                body["nextPageToken"] = str(start + step)
            return 200, body, {}
        if path.startswith("/admin/directory/v1/groups/") and path.endswith("/members"):
            key = path.split("/")[5]
            g = next((g for g in d.groups.values() if key in (g["id"], g["email"])), None)
            if g is None:
                raise KeyError(key)
            return 200, {"members": g["members"]}, {}
        raise KeyError(path)


def demo_domain() -> Domain:
    """The labelled demo Drive of ``make run``, for the demo workspace Acme Research
    (acme.example): a few dozen files, nested groups, a domain share, a hidden domain
    share and a link share."""
    d = Domain(account="owner@acme.example", page_size=10)
    d.add_group("all@acme.example", groups=["eng@acme.example", "ops@acme.example"])
    d.add_group("eng@acme.example", people=["alan@acme.example"], groups=["platform@acme.example"])
    d.add_group("platform@acme.example", people=["edsger@acme.example"])
    d.add_group("ops@acme.example", people=["katherine@acme.example", "grace@acme.example"])
    now = datetime.now(UTC)
    d.add_file(
        "fld-eng",
        "Engineering",
        mime_type=FOLDER,
        permissions=[group("eng@acme.example")],
        modified=now - timedelta(days=40),
    )
    d.add_file(
        "fld-ops",
        "Operations",
        mime_type=FOLDER,
        permissions=[group("ops@acme.example")],
        modified=now - timedelta(days=40),
    )
    topics = [
        ("Architecture overview", "fld-eng", [group("eng@acme.example", "writer")]),
        ("On-call handbook", "fld-eng", [group("platform@acme.example")]),
        ("Incident review", "fld-eng", [group("platform@acme.example"), user("alan@acme.example")]),
        ("Budget forecast", "fld-ops", [group("ops@acme.example")]),
        ("Vendor contracts", "fld-ops", [user("grace@acme.example", "writer")]),
        ("Company handbook", "", [domain("acme.example")]),
        ("Holiday calendar", "", [domain("acme.example", discoverable=False)]),
        ("Press kit", "", [anyone()]),
        ("All-hands slides", "", [group("all@acme.example")]),
        ("Board memo", "", []),
    ]
    for i in range(36):
        title, parent, perms = topics[i % len(topics)]
        suffix = f" ({i // len(topics) + 1})" if i >= len(topics) else ""
        d.add_file(
            f"doc-{i:03d}",
            title + suffix,
            parent=parent,
            permissions=[user("owner@acme.example", "owner"), *perms],
            modified=now - timedelta(hours=i * 7),
            size=1000 + i * 137,
        )
    return d


def main() -> None:  # pragma: no cover - the demo's entry point
    import argparse

    parser = argparse.ArgumentParser(description="Serve the local demo Google Drive.")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = LocalGoogle(demo_domain(), port=args.port)
    print(f"Local demo Google Drive on {server.url}", flush=True)
    server._httpd.serve_forever()


if __name__ == "__main__":  # pragma: no cover
    main()
