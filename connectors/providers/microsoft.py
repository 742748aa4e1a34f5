"""Microsoft SharePoint and OneDrive through Microsoft Graph, with Microsoft Entra groups.

Connect: the admin consent of a multi-tenant app, as Microsoft documents it for apps that
run without a signed-in user. An administrator of the tenant grants the app's application
permissions once, for the whole tenant (``admin_consent_url``); the console then asks for
app-only tokens by client credentials for that tenant (``connect``). There is no refresh
token: refreshing is asking for a new token. The app registration needs the application
permissions Sites.Read.All and Files.Read.All (sites, libraries, items),
Sites.FullControl.All (Microsoft's scanning guidance: without it delta leaves out
permission changes), User.Read.All (OneDrives), GroupMember.Read.All (groups) and
Organization.Read.All (the tenant's name).

Sync: every SharePoint site's document libraries (``sites/getAllSites``, then each
site's ``drives``) and every user's OneDrive, each read with ``driveItem: delta``: from
scratch for the full listing, from the drive's ``@odata.deltaLink`` afterwards. The cursor
is one JSON object of drive id to delta link; a checkpoint is a JSON object of the delta
links of the drives read so far, the drive being read and the next link within it.
Permissions come from each item's ``permissions`` list, which includes what it inherits.

Delta returns the items that changed and their parent folders, not the descendants of a
folder whose permissions changed, although what they inherit changed with it. So
``changes`` compares the permissions of each folder it reads with the last synced ones,
and reads again everything below a folder whose permissions differ (the library's root
folder included). Base URLs are the ``MICROSOFT_*`` settings.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, unquote, urlencode

from django.conf import settings
from django.utils import timezone

from .. import credentials
from ..models import Connection, Document
from .base import (
    AuthRevoked,
    Page,
    ResyncRequired,
    SourceDocument,
    SourceError,
    SourceGrant,
    SourceGroup,
)
from .http import Http, HttpStatusError

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# Microsoft's scanning guidance: without these, delta leaves out permission changes.
PREFER = "deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges"
ITEM_FIELDS = (
    "id,name,webUrl,size,lastModifiedDateTime,parentReference,createdBy,lastModifiedBy,"
    "file,folder,package,root,deleted"
)
# Graph's largest page of users, groups and members.
DIRECTORY_PAGE = 999
# Documents per page when reading again below a folder whose permissions changed.
WALK_PAGE = 200
# Folder paths remembered per drive, to give items a path (delta leaves it out).
FOLDER_PATHS_KEPT = 50_000
# Claims of SharePoint's built-in "everyone" principals, which no group listing expands.
EVERYONE_CLAIMS = ("c:0-.f|rolemanager|spo-grid-all-users", "c:0(.s|true")

TENANT_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TENANT_DOMAIN = re.compile(r"(?=.{4,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")

INVALID_TENANT = (
    "That is not a Microsoft tenant: give the tenant id (a GUID) or one of its domains."
)
CONSENT_REFUSED = (
    "Consent was not granted in Microsoft, so nothing was connected: an administrator of "
    "the tenant must accept the permissions the console asks for."
)
CONSENT_UNCONFIRMED = "Microsoft did not confirm the administrator's consent; try connecting again."
TOKEN_REFUSED = (
    "Microsoft refused the console's app for this tenant (its consent may have been "
    "withdrawn): an administrator of the tenant must grant consent again."
)
GRAPH_REFUSED = (
    "Microsoft Graph refused the console's app the permissions it needs: an administrator "
    "of the tenant must grant consent again."
)
NO_TENANT = "Microsoft Graph did not say which tenant granted access."
OTHER_TENANT = "Microsoft answered for another tenant than the one that granted consent."


def _login(path: str) -> str:
    return str(settings.MICROSOFT_LOGIN_URL).rstrip("/") + path


def _graph(path: str) -> str:
    return str(settings.MICROSOFT_GRAPH_URL).rstrip("/") + path


def _segment(value: str) -> str:
    """An id as one URL path segment (site ids hold commas, drive ids an exclamation mark)."""
    return quote(value, safe="!,")


# Connecting -------------------------------------------------------------------------


def tenant_id(value: Any) -> str:
    """A tenant id (a GUID) or one of the tenant's domains, lowercased; anything else,
    including Microsoft's "common" and "organizations" endpoints, is refused."""
    tenant = str(value or "").strip().lower()
    if TENANT_GUID.fullmatch(tenant) or TENANT_DOMAIN.fullmatch(tenant):
        return tenant
    raise SourceError(INVALID_TENANT)


def admin_consent_url(*, state: str, redirect_uri: str) -> str:
    """Where an administrator grants the app's permissions for their tenant; Microsoft
    sends them back to ``redirect_uri`` with ``tenant``, ``admin_consent`` and ``state``,
    or with ``error`` and ``error_description``."""
    params = {
        "client_id": settings.MICROSOFT_CLIENT_ID,
        "scope": GRAPH_SCOPE,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return _login(f"/organizations/v2.0/adminconsent?{urlencode(params)}")


def _first_line(description: str) -> str:
    """Microsoft's error description without its trace and correlation ids."""
    line = re.split(r"[\r\n]|Trace ID:", description, maxsplit=1)[0]
    return " ".join(line.split())[:300]


def consent_error(params: Mapping[str, Any]) -> str | None:
    """What to tell the admin when the consent callback's parameters say that nothing was
    granted; None when they confirm a consent for a valid tenant. The view checks
    ``state`` itself."""
    error = str(params.get("error") or "")
    if error:
        detail = _first_line(str(params.get("error_description") or ""))
        return f"{CONSENT_REFUSED} Microsoft said: {detail}" if detail else CONSENT_REFUSED
    if str(params.get("admin_consent") or "").lower() != "true":
        return CONSENT_UNCONFIRMED
    try:
        tenant_id(params.get("tenant"))
    except SourceError:
        return INVALID_TENANT
    return None


def _token_request(tenant: str) -> dict[str, Any]:
    http = Http()
    try:
        body = http.request(
            "POST",
            _login(f"/{_segment(tenant)}/oauth2/v2.0/token"),
            data={
                "client_id": settings.MICROSOFT_CLIENT_ID,
                "client_secret": settings.MICROSOFT_CLIENT_SECRET,
                "grant_type": "client_credentials",
                "scope": GRAPH_SCOPE,
            },
            authorized=False,
        )
    except AuthRevoked as exc:
        raise AuthRevoked(TOKEN_REFUSED) from exc
    except HttpStatusError as exc:
        # The identity platform answers 400 or 401 with an AADSTS code when the app is
        # unknown in the tenant, its secret is wrong, or the consent was withdrawn.
        if exc.status in (400, 401):
            raise AuthRevoked(TOKEN_REFUSED) from exc
        raise
    finally:
        http.close()
    if not body.get("access_token"):
        raise AuthRevoked("Microsoft gave no access token.")
    return body


def _token_data(tenant: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "access_token": body["access_token"],
        "expires_at": credentials.expiry(body.get("expires_in")),
    }


def connect(*, tenant: str) -> tuple[dict[str, Any], str, str]:
    """After the admin consent: a first app-only token for ``tenant`` and the tenant's
    name. Returns the credentials, the account (the tenant id) and the display name."""
    tenant = tenant_id(tenant)
    data = _token_data(tenant, _token_request(tenant))
    http = Http(lambda force: str(data["access_token"]))
    try:
        body = http.get(_graph("/v1.0/organization"), **{"$select": "id,displayName"})
    except HttpStatusError as exc:
        if exc.status == 403:
            raise AuthRevoked(GRAPH_REFUSED) from exc
        raise
    finally:
        http.close()
    orgs = body.get("value")
    org = orgs[0] if isinstance(orgs, list) and orgs and isinstance(orgs[0], dict) else {}
    org_id = str(org.get("id") or "").strip().lower()
    if not TENANT_GUID.fullmatch(org_id):
        raise SourceError(NO_TENANT)
    if TENANT_GUID.fullmatch(tenant) and org_id != tenant:
        raise SourceError(OTHER_TENANT)
    data["tenant"] = org_id
    name = " ".join(str(org.get("displayName") or "").split()) or org_id
    return data, org_id, name[:120]


def _refresh(data: dict[str, Any]) -> dict[str, Any]:
    try:
        tenant = tenant_id(data.get("tenant"))
    except SourceError as exc:
        raise AuthRevoked("The connection names no tenant; an admin must reconnect.") from exc
    return {**data, **_token_data(tenant, _token_request(tenant))}


# Permissions ------------------------------------------------------------------------


def _email(value: Any) -> str:
    text = str(value or "").strip().lower()
    if "@" not in text or len(text) > 254 or any(c.isspace() for c in text):
        return ""
    return text


def _role(roles: Any) -> str:
    names = {str(r).lower() for r in roles} if isinstance(roles, list) else set()
    if names & {"owner", "sp.full control"}:
        return "owner"
    if "write" in names:
        return "writer"
    return "reader"


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not an object")
    return value


@dataclass
class _Grants:
    """The grants of one item, and the SharePoint groups it names (which nothing lists)."""

    grants: list[SourceGrant] = field(default_factory=list)
    site_groups: set[str] = field(default_factory=set)

    def identity(self, raw: Any, role: str) -> None:
        """One sharePointIdentitySet. Raises ValueError for one the console cannot read."""
        ident = _object(raw, "an identity")
        if ident.get("group") is not None:
            # A group grant also carries the group's siteUser: the group decides.
            group = _object(ident["group"], "a group")
            gid = str(group.get("id") or "").strip().lower()
            if not gid or len(gid) > 320:
                raise ValueError("a group without an id")
            label = str(group.get("displayName") or group.get("email") or gid)
            self.grants.append(SourceGrant("group", gid, role, label=label[:320]))
            return
        if ident.get("user") is not None or ident.get("siteUser") is not None:
            user = _object(ident.get("user") or {}, "a user")
            site_user = _object(ident.get("siteUser") or {}, "a site user")
            login = str(site_user.get("loginName") or "")
            if login.lower().startswith(EVERYONE_CLAIMS):
                label = str(site_user.get("displayName") or "Everyone")
                self.grants.append(SourceGrant("anyone", "", role, discoverable=False, label=label))
                return
            email = (
                _email(user.get("email"))
                or _email(site_user.get("email"))
                or _email(login.rsplit("|", 1)[-1])
            )
            if not email:
                raise ValueError("a person without an email")
            self.grants.append(SourceGrant("user", email, role))
            return
        if ident.get("siteGroup") is not None:
            group = _object(ident["siteGroup"], "a SharePoint group")
            name = group.get("displayName") or group.get("loginName") or group.get("id")
            self.site_groups.add(str(name or "unnamed")[:120])
            return
        if ident.get("application") is not None or ident.get("device") is not None:
            return  # an app or a device is nobody in the workspace
        raise ValueError("an identity of an unknown kind")

    def permission(self, raw: Any) -> None:
        p = _object(raw, "a permission")
        role = _role(p.get("roles"))
        identities = p.get("grantedToIdentitiesV2")
        if identities is not None and not isinstance(identities, list):
            raise ValueError("grantedToIdentitiesV2 is not a list")
        if p.get("link") is not None:
            scope = _object(p["link"], "a sharing link").get("scope")
            if scope == "existingAccess":
                return  # grants nothing beyond the access people already have
            if scope in ("anonymous", "organization"):
                # Who holds the link is unknown: the connection's setting decides.
                self.grants.append(
                    SourceGrant("anyone", "", role, discoverable=False, label=f"{scope} link")
                )
            elif scope != "users":
                raise ValueError(f"a sharing link of unknown scope {scope!r}")
            for ident in identities or []:
                self.identity(ident, role)
            return
        if p.get("grantedToV2") is not None:
            self.identity(p["grantedToV2"], role)
        elif identities:
            for ident in identities:
                self.identity(ident, role)
        elif isinstance(p.get("invitation"), dict) and _email(p["invitation"].get("email")):
            # An invitation not redeemed yet: the person it names may open the item.
            self.grants.append(SourceGrant("user", _email(p["invitation"]["email"]), role))
        else:
            raise ValueError("a permission that names nobody")


def grants_of(permissions: list[Any]) -> _Grants:
    """An item's permissions as grants. Raises ValueError when one cannot be read: the
    item then has no grants at all, never part of them."""
    out = _Grants()
    for p in permissions:
        out.permission(p)
    return out


def _fingerprint(grants: list[SourceGrant] | None) -> frozenset[tuple[Any, ...]] | None:
    if grants is None:
        return None
    return frozenset((g.kind, g.value, g.role, g.discoverable) for g in grants)


def _stored_fingerprint(acl: Any) -> frozenset[tuple[Any, ...]] | None:
    """The same, from the access list the sync stored (``Document.acl``)."""
    if not isinstance(acl, list):
        return None
    return frozenset(
        (e.get("kind"), e.get("value"), e.get("role"), e.get("discoverable", True))
        for e in acl
        if isinstance(e, dict)
    )


# Items ------------------------------------------------------------------------------


def _time(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return timezone.now()
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _owner(item: dict[str, Any]) -> str:
    for by in ("createdBy", "lastModifiedBy"):
        email = _email(_dict(_dict(item.get(by)).get("user")).get("email"))
        if email:
            return email
    return ""


def _parent_path(parent: dict[str, Any]) -> str:
    """``/drives/{id}/root:/A/B`` as ``/A/B``; empty when Graph leaves it out (delta does)."""
    raw = parent.get("path")
    if not isinstance(raw, str) or ":" not in raw:
        return ""
    return unquote(raw.split(":", 1)[1]) or "/"


@dataclass(frozen=True)
class _Drive:
    id: str
    title: str
    owner: str = ""


@dataclass
class _Position:
    """Where a listing or a change run stands: the delta links of the drives read to the
    end, the drive being read, and the next link within it (empty: its first page)."""

    done: dict[str, str] = field(default_factory=dict)
    drive: str = ""
    next: str = ""

    def dump(self) -> str:
        return json.dumps(
            {"done": self.done, "drive": self.drive, "next": self.next}, sort_keys=True
        )

    @classmethod
    def load(cls, text: str) -> _Position | None:
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        done = data.get("done")
        if not isinstance(done, dict) or not all(isinstance(v, str) for v in done.values()):
            return None
        return cls(
            {str(k): v for k, v in done.items()},
            str(data.get("drive") or ""),
            str(data.get("next") or ""),
        )


class Microsoft:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        # Graph's preferences on every request: report removals and permission changes.
        self.http = Http(credentials.TokenSource(connection, _refresh), headers={"Prefer": PREFER})
        # Notes of the drive listing, given with the next page.
        self._notes: list[str] = []
        # SharePoint groups named by the items of the page being read.
        self._site_groups: set[str] = set()
        self._site_group_items = 0

    # The interface ----------------------------------------------------------------

    def start_cursor(self) -> str:
        """Empty: Graph gives each drive's cursor (its delta link) at the end of the full
        listing of that drive, and ``list_all``'s last page carries them all."""
        return ""

    def list_all(self, checkpoint: str) -> Iterator[Page]:
        position = _Position.load(checkpoint) or _Position()
        drives = self._drives()
        if set(position.done) - {d.id for d in drives}:
            raise ResyncRequired("A drive read earlier in this listing is gone: listing again.")
        yield from self._read(drives, position, {}, recheck=False)

    def changes(self, cursor: str, checkpoint: str) -> Iterator[Page]:
        links = self._cursor(cursor)
        position = _Position.load(checkpoint)
        if position is None:
            raise ResyncRequired("The checkpoint of the last run could not be read.")
        drives = self._drives()
        if (set(links) | set(position.done)) - {d.id for d in drives}:
            # Its documents are not listed as removed anywhere: only a full listing
            # tells which are gone.
            raise ResyncRequired("A drive was removed at the source: listing again.")
        yield from self._read(drives, position, links, recheck=True)

    def groups(self) -> Iterator[SourceGroup]:
        """Every Entra group with its people. Graph expands nested groups itself
        (``transitiveMembers``), so no member groups are given."""
        params = {"$select": "id,displayName,mail", "$top": DIRECTORY_PAGE}
        for g in self._paged(_graph("/v1.0/groups"), params):
            if not isinstance(g, dict) or not g.get("id"):
                continue
            gid = str(g["id"]).strip().lower()
            people: set[str] = set()
            members = _graph(f"/v1.0/groups/{_segment(gid)}/transitiveMembers")
            member_params = {"$select": "id,mail,userPrincipalName", "$top": DIRECTORY_PAGE}
            for m in self._paged(members, member_params, not_found_ok=True):
                if not isinstance(m, dict) or m.get("@odata.type") != "#microsoft.graph.user":
                    continue
                email = _email(m.get("mail")) or _email(m.get("userPrincipalName"))
                if email:
                    people.add(email)
            label = str(g.get("displayName") or g.get("mail") or gid)[:320]
            yield SourceGroup(gid, label, tuple(sorted(people)))

    def revoke(self) -> None:
        """Nothing: an admin consent is withdrawn in the tenant (Enterprise applications),
        and Graph offers the app no way to give it back. The tokens are deleted anyway."""

    # Drives -----------------------------------------------------------------------

    def _cursor(self, cursor: str) -> dict[str, str]:
        try:
            links = json.loads(cursor)
        except ValueError:
            links = None
        if not isinstance(links, dict) or not all(
            isinstance(v, str) and self._inside(v) for v in links.values()
        ):
            raise ResyncRequired("The cursor of the last run could not be read.")
        return {str(k): v for k, v in links.items()}

    def _directory(self, url: str, params: dict[str, Any]) -> Iterator[Any]:
        """A listing the whole sync needs: refused, it needs the admin's consent again."""
        try:
            yield from self._paged(url, params)
        except HttpStatusError as exc:
            if exc.status == 403:
                raise AuthRevoked(GRAPH_REFUSED) from exc
            raise

    def _drives(self) -> list[_Drive]:
        """Every document library of every site, then every user's OneDrive, once each."""
        out: list[_Drive] = []
        seen: set[str] = set()

        def add(drive: Any, title: str, owner: str = "") -> None:
            # A user's OneDrive may be listed among the sites too.
            if drive.get("id") and str(drive["id"]) not in seen:
                seen.add(str(drive["id"]))
                out.append(_Drive(str(drive["id"]), title[:500], owner))

        sites = _graph("/v1.0/sites/getAllSites")
        for site in self._directory(sites, {"$select": "id,displayName,name"}):
            if not isinstance(site, dict) or not site.get("id"):
                continue
            name = str(site.get("displayName") or site.get("name") or site["id"])
            url = _graph(f"/v1.0/sites/{_segment(str(site['id']))}/drives")
            try:
                for drive in self._paged(url, {"$select": "id,name"}, not_found_ok=True):
                    if isinstance(drive, dict):
                        add(drive, f"{name}: {drive.get('name') or 'Documents'}")
            except HttpStatusError as exc:
                if exc.status not in (403, 423):
                    raise
                self._notes.append(
                    f"The libraries of the site {name} could not be read ({exc.status})."
                )
        users = _graph("/v1.0/users")
        params = {"$select": "id,mail,userPrincipalName", "$top": DIRECTORY_PAGE}
        for user in self._directory(users, params):
            if not isinstance(user, dict) or not user.get("id"):
                continue
            email = _email(user.get("mail")) or _email(user.get("userPrincipalName"))
            drive = self.http.request(
                "GET",
                _graph(f"/v1.0/users/{_segment(str(user['id']))}/drive"),
                params={"$select": "id,name"},
                not_found_ok=True,  # the user has no OneDrive
            )
            if drive:
                add(drive, f"OneDrive of {email or user['id']}", email)
        return out

    # Reading ----------------------------------------------------------------------

    def _inside(self, url: str) -> bool:
        base = _graph("")
        return url == base or url.startswith(base + "/")

    def _link(self, url: str) -> str:
        """A link Graph gave, followed only within Graph: the bearer token goes nowhere else."""
        if not self._inside(url):
            raise SourceError("Microsoft Graph gave a link outside Graph; it was not followed.")
        return url

    def _paged(
        self, url: str, params: dict[str, Any] | None = None, *, not_found_ok: bool = False
    ) -> Iterator[Any]:
        link, query = url, params
        while True:
            body = self.http.request(
                "GET", self._link(link), params=query, not_found_ok=not_found_ok
            )
            if not body:
                return
            value = body.get("value")
            if not isinstance(value, list):
                raise SourceError("Microsoft Graph answered a listing without a list.")
            yield from value
            nxt = body.get("@odata.nextLink")
            if not nxt:
                return
            link, query = str(nxt), None

    def _read(
        self, drives: list[_Drive], position: _Position, links: dict[str, str], *, recheck: bool
    ) -> Iterator[Page]:
        for drive in drives:
            if drive.id in position.done:
                continue
            if drive.id == position.drive and position.next:
                url = position.next
            else:
                fresh = f"/v1.0/drives/{_segment(drive.id)}/root/delta?"
                url = links.get(drive.id) or _graph(fresh + urlencode({"$select": ITEM_FIELDS}))
            position.drive, position.next = drive.id, ""
            # Folder id to path, for the items below (delta gives no paths); a drive's
            # delta lists parents before what they hold.
            folders: dict[str, str] = {}
            while True:
                # Where pages read below a changed folder resume: this same delta page.
                again = position.dump()
                body = self.http.get(self._link(url))
                value = body.get("value")
                if not isinstance(value, list):
                    raise SourceError("Microsoft Graph answered a delta page without items.")
                page = self._page()
                for item in value:
                    self._add(page, drive, item, folders)
                self._flush(page)
                if recheck:
                    yield from self._recheck(drive, page, folders, again)
                next_link = body.get("@odata.nextLink")
                if next_link:
                    url = position.next = str(next_link)
                elif body.get("@odata.deltaLink"):
                    position.done[drive.id] = str(body["@odata.deltaLink"])
                    position.drive = position.next = ""
                else:
                    raise SourceError(
                        "Microsoft Graph's delta page has neither a next nor a delta link."
                    )
                page.checkpoint = position.dump()
                yield page
                if not next_link:
                    break
        # The cursor of the next run, on a page of its own: a drive's last page cannot
        # know that no drive follows.
        last = self._page()
        last.next_cursor = json.dumps(position.done, sort_keys=True)
        yield last

    def _page(self, checkpoint: str = "") -> Page:
        page = Page(checkpoint=checkpoint, errors=self._notes)
        self._notes = []
        return page

    def _recheck(
        self, drive: _Drive, page: Page, folders: dict[str, str], again: str
    ) -> Iterator[Page]:
        """Read again everything below the folders of this page whose permissions differ
        from the synced ones. Those pages come before the folder's own and resume at this
        delta page: stopped half-way, the next run finds the same difference."""
        changed = {d.source_id: d for d in page.documents if d.kind == "folder"}
        if not changed:
            return
        stored = dict(
            Document.objects.filter(
                connection=self.connection, source_id__in=list(changed)
            ).values_list("source_id", "acl")
        )
        for sid, doc in changed.items():
            if sid not in stored:
                continue  # a new folder: what is below it is new too, and delta lists it
            fingerprint = _fingerprint(doc.grants)
            if fingerprint is not None and fingerprint == _stored_fingerprint(stored[sid]):
                continue
            item_id = sid[len(drive.id) + 1 :]
            yield from self._below(drive, item_id, folders.get(item_id, ""), again)

    def _below(self, drive: _Drive, item_id: str, path: str, again: str) -> Iterator[Page]:
        queue: deque[tuple[str, str]] = deque([(item_id, path)])
        page = self._page(again)
        while queue:
            parent_id, parent_path = queue.popleft()
            segments = f"{_segment(drive.id)}/items/{_segment(parent_id)}"
            url = _graph(f"/v1.0/drives/{segments}/children")
            folders = {parent_id: parent_path} if parent_path else {}
            for child in self._paged(url, {"$select": ITEM_FIELDS}, not_found_ok=True):
                doc = self._add(page, drive, child, folders)
                if doc is not None and doc.kind == "folder":
                    child_id = doc.source_id[len(drive.id) + 1 :]
                    queue.append((child_id, folders.get(child_id, "")))
                if len(page.documents) >= WALK_PAGE:
                    self._flush(page)
                    yield page
                    page = self._page(again)
        self._flush(page)
        if page.documents or page.errors:
            yield page

    def _flush(self, page: Page) -> None:
        """One note for the page's items shared with SharePoint groups, not one each."""
        n = self._site_group_items
        if n:
            names = ", ".join(sorted(self._site_groups)[:5])
            page.errors.append(
                f"{n} item{'s are' if n > 1 else ' is'} shared with SharePoint groups ({names}), "
                "which Graph does not expand: nobody gets access through them."
            )
        self._site_groups = set()
        self._site_group_items = 0

    def _permissions(self, drive_id: str, item_id: str) -> list[Any]:
        segments = f"{_segment(drive_id)}/items/{_segment(item_id)}"
        return list(self._paged(_graph(f"/v1.0/drives/{segments}/permissions")))

    def _add(
        self, page: Page, drive: _Drive, item: Any, folders: dict[str, str]
    ) -> SourceDocument | None:
        if not isinstance(item, dict) or not item.get("id"):
            page.errors.append("Microsoft Graph listed an item without an id; it was skipped.")
            return None
        item_id = str(item["id"])
        sid = f"{drive.id}:{item_id}"
        if item.get("deleted") is not None or item.get("@removed") is not None:
            page.removed.append(sid)
            return None
        root = item.get("root") is not None
        name = str(item.get("name") or "Untitled")
        kind: Literal["file", "folder"] = (
            "folder" if root or item.get("folder") is not None else "file"
        )
        if root:
            # The library itself: its permissions are what everything in it inherits.
            title, path, parent_sid = drive.title, "", ""
        else:
            parent = _dict(item.get("parentReference"))
            parent_id = str(parent.get("id") or "")
            title = name
            path = _parent_path(parent) or folders.get(parent_id, "")
            parent_sid = f"{drive.id}:{parent_id}" if parent_id else ""
        if kind == "folder" and (root or path) and len(folders) < FOLDER_PATHS_KEPT:
            folders[item_id] = "/" if root else path.rstrip("/") + "/" + name
        grants: list[SourceGrant] | None
        try:
            read = grants_of(self._permissions(drive.id, item_id))
        except (ValueError, HttpStatusError) as exc:
            grants = None
            page.errors.append(
                f"Permissions of {title} could not be read ({exc}); it has no grants."
            )
        else:
            grants = read.grants
            if read.site_groups:
                self._site_groups |= read.site_groups
                self._site_group_items += 1
        size = item.get("size")
        doc = SourceDocument(
            source_id=sid,
            title=title[:500],
            modified_at=_time(item.get("lastModifiedDateTime")),
            kind=kind,
            mime_type=str(_dict(item.get("file")).get("mimeType") or "")[:255],
            web_url=str(item.get("webUrl") or "")[:2000],
            size=size if isinstance(size, int) and size >= 0 else None,
            parent_source_id=parent_sid,
            path=path[:1000],
            owner_email=_owner(item) or (drive.owner if root else ""),
            grants=grants,
        )
        page.documents.append(doc)
        return doc


def client(connection: Connection) -> Microsoft:
    return Microsoft(connection)
