"""Libraries (R-CON-5): workspace collections of uploaded documents, shared in the
workspace as Viewer or Editor. Every change of a library, and the reads its pages share.

Access is kept in the documents themselves: each document of a library carries the
principal ids of the library's grants and its creator's ``member`` principal, so the one
decision and the one list query of ``connectors.access`` serve libraries as they serve
synced documents. Sharing and unsharing rewrite that set on every document of the library
in one UPDATE, in the transaction of the change. Every change of a library first locks the
library's row, so an upload and an unshare cannot interleave and leave a document with the
older, wider set.

Who manages a library (edits it, adds and removes documents, shares it, deletes it): its
creator, the workspace's admins (``Perm.MANAGE_CONNECTORS``, which admins and owners hold)
and members with an Editor grant (directly, through a group they are in, or through
everyone). Viewers only see. Members other than admins must have the ``libraries`` feature
allowed for anything, and nobody adds documents or shares while the plan lacks libraries;
narrowing (unsharing, removing, deleting) stays open to managers whatever the plan says.

Deleting an accounts group or removing a member needs nothing here: a grant names a
principal whose key is the group's or membership's id, which the database never reuses, so
a deleted group's or member's grant simply matches nobody.
"""

from __future__ import annotations

import codecs
import json
import logging
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.actor import Actor, authorize
from accounts.models import Group, Membership, MemberStatus, Workspace
from accounts.roles import Perm, has_perm
from accounts.selectors import ShareCandidates
from billing.selectors import entitlements
from core import registry
from core.audit import record
from core.errors import DomainError, NotAllowed
from core.parsing import is_storable_text, parse_id
from features.decisions import WorkspaceFacts, decide

from .access import Viewer, load_viewer, visible_documents, who_can_see
from .audit import Action
from .models import Document, DocumentKind, Library, LibraryGrant, LibraryRole, Principal
from .models import PrincipalKind as K
from .sync import everyone_principal

log = logging.getLogger(__name__)

NAME_MAX = Library._meta.get_field("name").max_length or 120
DESCRIPTION_MAX = 2000
TITLE_MAX = 255
# How much of a file the checks read at once, and the most of an Office file's list of
# content types they read (it is a few kilobytes in real files).
CHUNK = 64 * 1024
CONTENT_TYPES_MAX = 1024 * 1024

NAME_EMPTY = "Enter a name."
NAME_TOO_LONG = f"Use at most {NAME_MAX} characters."
NAME_INVISIBLE = "A library name cannot contain invisible or control characters."
NAME_TAKEN = "The workspace already has a library of this name."
DESCRIPTION_TOO_LONG = f"Use at most {DESCRIPTION_MAX} characters."
DESCRIPTION_INVISIBLE = "The description cannot contain NUL or control characters."
NO_SUCH_LIBRARY = "This library does not exist any more."
NEEDS_MEMBER = "Libraries are created by members of the workspace."
FEATURE_OFF = "Libraries are not available to you in this workspace."
NOT_IN_PLAN = "The workspace's plan does not include libraries."
NOT_A_MANAGER = "Only the library's creator, its editors and the workspace's admins may change it."
UNKNOWN_TARGET = "Choose the whole workspace, or a group or a member of this workspace."
UNKNOWN_ROLE = "Choose Viewer or Editor."
NO_SUCH_GRANT = "The library is not shared that way any more."
NO_SUCH_DOCUMENT = "This document is not in the library any more."
FILE_NAME = "The file needs a name with an extension, such as report.pdf."
FILE_EMPTY = "The file is empty."
FILE_TOO_LARGE = "The file is larger than the limit of {limit}."
FILE_TYPE = (
    "Only PDF, Word (.docx), PowerPoint (.pptx), Excel (.xlsx), text (.txt), Markdown (.md), "
    "CSV, HTML and JSON files can be added."
)
FILE_CONTENT = (
    "The file's content is not {label}: it may be damaged, or another kind of file renamed."
)
FILE_NOT_TEXT = (
    "{label} files must be UTF-8 text without NUL characters; save it as UTF-8 and try again."
)


def size_limit() -> str:
    """The largest file a library takes, for people: "20.0 MB"."""
    return str(filesizeformat(settings.LIBRARY_MAX_FILE_BYTES))


def file_too_large() -> str:
    return FILE_TOO_LARGE.format(limit=size_limit())


# --- Who may do what -----------------------------------------------------------------


@dataclass(frozen=True)
class Rights:
    sees: bool
    manages: bool
    # What the member is to the library, for the pages: admin, creator, editor, viewer or "".
    role: str


def decide_rights(*, admin: bool, feature: bool, creator: bool, roles: Collection[str]) -> Rights:
    """Pure: a member's rights on a library from what they are to it. ``feature``: they are
    active and their ``libraries`` decision allows it; ``roles``: of the grants they hold."""
    if feature and creator:
        return Rights(True, True, "creator")
    if feature and LibraryRole.EDITOR in roles:
        return Rights(True, True, "editor")
    if admin:
        return Rights(True, True, "admin")
    if feature and LibraryRole.VIEWER in roles:
        return Rights(True, False, "viewer")
    return Rights(False, False, "")


def is_admin(role: int) -> bool:
    return has_perm(role, Perm.MANAGE_CONNECTORS)


def held_roles(viewer: Viewer, library_ids: Iterable[int]) -> dict[int, set[str]]:
    """The roles of the grants the member holds, by library: one query."""
    ids = list(library_ids)
    out: dict[int, set[str]] = {i: set() for i in ids}
    if not ids or not viewer.principal_ids:
        return out
    for library_id, role in LibraryGrant.objects.filter(
        library_id__in=ids, principal_id__in=viewer.principal_ids
    ).values_list("library_id", "role"):
        out[library_id].add(role)
    return out


def rights_for(viewer: Viewer, library: Library, *, admin: bool, user_id: int) -> Rights:
    return decide_rights(
        admin=admin,
        feature=viewer.sees_libraries(),
        creator=library.created_by_id == user_id,
        roles=held_roles(viewer, [library.pk])[library.pk],
    )


def _actor_rights(actor: Actor, library: Library) -> Rights:
    role = authorize(actor, library.workspace_id, Perm.VIEW_WORKSPACE)
    m = actor.membership
    if m is None:  # staff, who act as owners
        return decide_rights(admin=True, feature=False, creator=False, roles=())
    return rights_for(load_viewer(m), library, admin=is_admin(role), user_id=m.user_id)


def _require_manager(actor: Actor, library: Library, *, widens: bool) -> None:
    if not _actor_rights(actor, library).manages:
        raise NotAllowed(NOT_A_MANAGER)
    if widens and registry.LIBRARIES not in entitlements(library.workspace).features:
        raise DomainError(NOT_IN_PLAN)


def _locked(library_id: int) -> Library:
    found = (
        Library.objects.select_for_update(of=("self",))
        .select_related("workspace")
        .filter(pk=library_id)
        .first()
    )
    if found is None:
        raise DomainError(NO_SUCH_LIBRARY)
    return found


def _lock_workspace(workspace_id: int) -> None:
    """Creating and renaming hold the workspace's row, so two of them cannot both find a
    name free."""
    Workspace.objects.select_for_update(no_key=True).filter(pk=workspace_id).first()


# --- Names ---------------------------------------------------------------------------

# Control, format (zero-width, bidi overrides), private-use, unassigned, surrogates.
_INVISIBLE = {"Cc", "Cf", "Co", "Cn", "Cs"}


def _has_invisible(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(ch) in _INVISIBLE for ch in text if ch not in allowed)


def clean_name(raw: str) -> str:
    name = unicodedata.normalize("NFKC", raw)
    if _has_invisible(name, "\t\n\r"):
        raise DomainError(NAME_INVISIBLE, field="name")
    name = " ".join(name.split())
    if not name:
        raise DomainError(NAME_EMPTY, field="name")
    if len(name) > NAME_MAX:
        raise DomainError(NAME_TOO_LONG, field="name")
    return name


def clean_description(raw: str) -> str:
    text = raw.strip().replace("\r\n", "\n")
    if _has_invisible(text, "\t\n") or not is_storable_text(text):
        raise DomainError(DESCRIPTION_INVISIBLE, field="description")
    if len(text) > DESCRIPTION_MAX:
        raise DomainError(DESCRIPTION_TOO_LONG, field="description")
    return text


def _name_taken(workspace_id: int, name: str, *, other_than: int | None = None) -> bool:
    qs = Library.objects.filter(workspace_id=workspace_id, name__iexact=name)
    if other_than is not None:
        qs = qs.exclude(pk=other_than)
    return qs.exists()


# --- Principals ----------------------------------------------------------------------


def _workspace_principal(workspace_id: int, kind: str, key: str, label: str) -> int:
    p, created = Principal.objects.get_or_create(
        workspace_id=workspace_id, connection=None, kind=kind, key=key, defaults={"label": label}
    )
    if not created and label and p.label != label:
        # A renamed group: the "why" of a decision names it as it is now.
        Principal.objects.filter(pk=p.pk).update(label=label)
    return p.pk


def _creator_membership_id(library: Library) -> int | None:
    if library.created_by_id is None:
        return None
    return (
        Membership.objects.filter(workspace_id=library.workspace_id, user_id=library.created_by_id)
        .values_list("pk", flat=True)
        .first()
    )


def principal_ids(library: Library, *, create: bool = False) -> list[int]:
    """Who the library's documents are shared with: its grants' principals and its
    creator's (while the creator is a member). ``create`` makes the creator's principal
    when it is missing (services do; pages only read)."""
    ids = set(LibraryGrant.objects.filter(library=library).values_list("principal_id", flat=True))
    mid = _creator_membership_id(library)
    if mid is not None:
        if create:
            ids.add(_workspace_principal(library.workspace_id, K.MEMBER, str(mid), ""))
        else:
            ids.update(
                Principal.objects.filter(
                    workspace_id=library.workspace_id,
                    connection__isnull=True,
                    kind=K.MEMBER,
                    key=str(mid),
                ).values_list("pk", flat=True)
            )
    return sorted(ids)


def _apply(library: Library) -> int:
    """Every document of the library gets the library's principals: one UPDATE."""
    return Document.objects.filter(library=library).update(
        principals=principal_ids(library, create=True)
    )


class TargetKind(StrEnum):
    EVERYONE = "everyone"
    GROUP = "group"
    MEMBER = "member"


@dataclass(frozen=True)
class ShareTarget:
    """Whom a library is shared with: the whole workspace, a group or a member (by id).
    As text (a form's value): ``everyone``, ``group:12``, ``member:34``."""

    kind: TargetKind
    id: int | None = None

    @classmethod
    def parse(cls, raw: str) -> ShareTarget | None:
        if raw == TargetKind.EVERYONE:
            return cls(TargetKind.EVERYONE)
        kind, _, rest = raw.partition(":")
        number = parse_id(rest)
        if kind not in (TargetKind.GROUP, TargetKind.MEMBER) or number is None:
            return None
        return cls(TargetKind(kind), number)

    def __str__(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"


EVERYONE = ShareTarget(TargetKind.EVERYONE)


def _principal_text(kind: str, label: str) -> str:
    """Whom a principal names, as the audit log's sentences read it."""
    if kind == K.EVERYONE:
        return "everyone in the workspace"
    if kind == K.GROUP:
        return f"the group {label}" if label else "a group"
    return label or "a member"


def _target_principal(workspace_id: int, target: ShareTarget) -> tuple[int, str]:
    """The principal of a target of this workspace and whom it names, or a field error."""
    if target.kind is TargetKind.EVERYONE:
        return everyone_principal(workspace_id), _principal_text(K.EVERYONE, "")
    if target.id is None:
        raise DomainError(UNKNOWN_TARGET, field="target")
    if target.kind is TargetKind.GROUP:
        group = Group.objects.filter(pk=target.id, workspace_id=workspace_id).first()
        if group is None:
            raise DomainError(UNKNOWN_TARGET, field="target")
        principal = _workspace_principal(workspace_id, K.GROUP, str(group.pk), group.name)
        return principal, _principal_text(K.GROUP, group.name)
    member = (
        Membership.objects.filter(pk=target.id, workspace_id=workspace_id)
        .select_related("user")
        .first()
    )
    if member is None:
        raise DomainError(UNKNOWN_TARGET, field="target")
    email = member.user.email
    return _workspace_principal(workspace_id, K.MEMBER, str(member.pk), email), email


# --- Libraries -----------------------------------------------------------------------


@transaction.atomic
def library_create(
    *, actor: Actor, workspace: Workspace, name: str, description: str = ""
) -> Library:
    authorize(actor, workspace.pk, Perm.VIEW_WORKSPACE)
    m = actor.membership
    if m is None:
        raise NotAllowed(NEEDS_MEMBER)
    if not decide(m, registry.LIBRARIES).allowed:
        raise NotAllowed(FEATURE_OFF)
    name = clean_name(name)
    description = clean_description(description)
    _lock_workspace(workspace.pk)
    if _name_taken(workspace.pk, name):
        raise DomainError(NAME_TAKEN, field="name")
    try:
        # The check above holds under the workspace lock; the constraint backs it (and
        # folds case as the database does).
        with transaction.atomic():
            library = Library.objects.create(
                workspace=workspace, name=name, description=description, created_by=m.user
            )
    except IntegrityError as exc:
        raise DomainError(NAME_TAKEN, field="name") from exc
    _workspace_principal(workspace.pk, K.MEMBER, str(m.pk), m.user.email)
    record(
        actor=actor,
        workspace=workspace,
        action=Action.LIBRARY_CREATED,
        target=library,
        after={"name": name, "description": description},
    )
    return library


@transaction.atomic
def library_update(*, actor: Actor, library_id: int, name: str, description: str) -> Library:
    # The workspace first, then the library: the order every lock of the console takes.
    workspace_id = (
        Library.objects.filter(pk=library_id).values_list("workspace_id", flat=True).first()
    )
    if workspace_id is None:
        raise DomainError(NO_SUCH_LIBRARY)
    _lock_workspace(workspace_id)
    library = _locked(library_id)
    _require_manager(actor, library, widens=False)
    after = {"name": clean_name(name), "description": clean_description(description)}
    before = {"name": library.name, "description": library.description}
    if after == before:
        return library
    if after["name"].lower() != library.name.lower() and _name_taken(
        library.workspace_id, after["name"], other_than=library.pk
    ):
        raise DomainError(NAME_TAKEN, field="name")
    library.name, library.description = after["name"], after["description"]
    try:
        with transaction.atomic():
            library.save(update_fields=["name", "description"])
    except IntegrityError as exc:
        raise DomainError(NAME_TAKEN, field="name") from exc
    record(
        actor=actor,
        workspace=library.workspace,
        action=Action.LIBRARY_UPDATED,
        target=library,
        before={k: v for k, v in before.items() if v != after[k]},
        after={k: v for k, v in after.items() if v != before[k]},
    )
    return library


def _storage_delete_later(names: list[str]) -> None:
    """Stored files go once the rows are gone for good: after the commit."""
    if not names:
        return

    def delete() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:
                log.warning("library file not deleted", extra={"file": name})

    transaction.on_commit(delete)


@transaction.atomic
def library_delete(*, actor: Actor, library_id: int) -> int:
    """Delete the library, its documents and grants; its stored files after the commit.
    Answers how many documents went."""
    library = _locked(library_id)
    _require_manager(actor, library, widens=False)
    docs = Document.objects.filter(library=library)
    files = [name for name in docs.values_list("file", flat=True) if name]
    count = docs.count()
    record(
        actor=actor,
        workspace=library.workspace,
        action=Action.LIBRARY_DELETED,
        target=library,
        before={"name": library.name, "documents": count, "grants": library.grants.count()},
    )
    docs.delete()
    library.delete()
    _storage_delete_later(files)
    return count


# --- Sharing -------------------------------------------------------------------------


@transaction.atomic
def library_share(*, actor: Actor, library_id: int, target: ShareTarget, role: str) -> LibraryGrant:
    """Share with the whole workspace, a group or a member as Viewer or Editor; sharing
    again with another role changes the role. The documents follow at once."""
    library = _locked(library_id)
    _require_manager(actor, library, widens=True)
    if role not in LibraryRole.values:
        raise DomainError(UNKNOWN_ROLE, field="role")
    principal_id, label = _target_principal(library.workspace_id, target)
    grant = LibraryGrant.objects.filter(library=library, principal_id=principal_id).first()
    if grant is not None and grant.role == role:
        return grant
    # "target" reads as the sentence of the audit log says it; "principal" is the raw code.
    who = {"target": label, "principal": str(target)}
    before: dict[str, str] = {}
    if grant is not None:
        before = {**who, "role": grant.role}
        grant.role = role
        grant.save(update_fields=["role"])
        documents = 0  # the same people see it; only what they may do changes
    else:
        grant = LibraryGrant.objects.create(library=library, principal_id=principal_id, role=role)
        documents = _apply(library)
    record(
        actor=actor,
        workspace=library.workspace,
        action=Action.LIBRARY_SHARED,
        target=library,
        before=before,
        after={**who, "role": role, "documents": documents},
    )
    return grant


@transaction.atomic
def library_unshare(*, actor: Actor, library_id: int, grant_id: int) -> None:
    """Take a grant away; the documents stop reaching its principal in this transaction."""
    library = _locked(library_id)
    _require_manager(actor, library, widens=False)
    grant = (
        LibraryGrant.objects.filter(pk=grant_id, library=library)
        .select_related("principal")
        .first()
    )
    if grant is None:
        raise DomainError(NO_SUCH_GRANT)
    p = grant.principal
    code = str(EVERYONE) if p.kind == K.EVERYONE else f"{p.kind}:{p.key}"
    grant.delete()
    documents = _apply(library)
    record(
        actor=actor,
        workspace=library.workspace,
        action=Action.LIBRARY_UNSHARED,
        target=library,
        before={"target": _principal_text(p.kind, p.label), "principal": code, "role": grant.role},
        after={"documents": documents},
    )


# --- Documents -----------------------------------------------------------------------


@dataclass(frozen=True)
class FileType:
    ext: str
    label: str
    # Stored on the document, and the Content-Type of its download. A download is never
    # rendered by the browser: it is an attachment, and HTML goes out as plain text.
    mime: str
    served: str
    # What the content must be, beyond UTF-8 text for the text kinds.
    check: Callable[[UploadedFile[bytes]], bool]
    text: bool = False


def _head(f: UploadedFile[bytes], size: int) -> bytes:
    f.seek(0)
    head = bytes(f.read(size))
    f.seek(0)
    return head


def _is_pdf(f: UploadedFile[bytes]) -> bool:
    # Readers accept the header anywhere in the first kilobyte.
    return b"%PDF-" in _head(f, 1024)


def _ooxml(main_part: str, content_type: str) -> Callable[[UploadedFile[bytes]], bool]:
    """An Office Open XML file: a zip whose list of content types declares the main part
    of the kind (which a macro-enabled .docm, .pptm or .xlsm does not)."""

    def check(f: UploadedFile[bytes]) -> bool:
        if _head(f, 4) != b"PK\x03\x04":
            return False
        try:
            with zipfile.ZipFile(f) as z:
                info = z.getinfo("[Content_Types].xml")
                z.getinfo(main_part)
                if info.file_size > CONTENT_TYPES_MAX:
                    return False
                types = z.read(info)
        except (KeyError, zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
            return False
        except (NotImplementedError, RuntimeError, EOFError):  # odd compression, encryption
            return False
        finally:
            f.seek(0)
        return content_type.encode() in types

    return check


def _is_utf8(f: UploadedFile[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in f.chunks(CHUNK):
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        f.seek(0)
    return True


def _is_json(f: UploadedFile[bytes]) -> bool:
    # Checked as UTF-8 text first, so decoding cannot fail here.
    try:
        json.loads(b"".join(f.chunks(CHUNK)).decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return False
    finally:
        f.seek(0)
    return True


def _any_text(f: UploadedFile[bytes]) -> bool:
    return True


_OOXML = "application/vnd.openxmlformats-officedocument"
_TEXT = "text/plain; charset=utf-8"
_TYPES = [
    FileType("pdf", "a PDF", "application/pdf", "application/pdf", _is_pdf),
    FileType(
        "docx",
        "a Word document",
        f"{_OOXML}.wordprocessingml.document",
        f"{_OOXML}.wordprocessingml.document",
        _ooxml("word/document.xml", f"{_OOXML}.wordprocessingml.document.main+xml"),
    ),
    FileType(
        "pptx",
        "a PowerPoint presentation",
        f"{_OOXML}.presentationml.presentation",
        f"{_OOXML}.presentationml.presentation",
        _ooxml("ppt/presentation.xml", f"{_OOXML}.presentationml.presentation.main+xml"),
    ),
    FileType(
        "xlsx",
        "an Excel workbook",
        f"{_OOXML}.spreadsheetml.sheet",
        f"{_OOXML}.spreadsheetml.sheet",
        _ooxml("xl/workbook.xml", f"{_OOXML}.spreadsheetml.sheet.main+xml"),
    ),
    FileType("txt", "Text", "text/plain", _TEXT, _any_text, text=True),
    FileType("md", "Markdown", "text/markdown", "text/markdown; charset=utf-8", _any_text, True),
    FileType("csv", "CSV", "text/csv", "text/csv; charset=utf-8", _any_text, text=True),
    FileType("html", "HTML", "text/html", _TEXT, _any_text, text=True),
    FileType("htm", "HTML", "text/html", _TEXT, _any_text, text=True),
    FileType("json", "valid JSON", "application/json", "application/json", _is_json, text=True),
]
FILE_TYPES: dict[str, FileType] = {t.ext: t for t in _TYPES}
ACCEPT = ",".join(f".{t.ext}" for t in _TYPES)
BY_MIME: dict[str, FileType] = {t.mime: t for t in reversed(_TYPES)}


def served_type(doc: Document) -> str:
    """The Content-Type of a document's download: never one a browser renders as a page."""
    known = BY_MIME.get(doc.mime_type)
    return known.served if known is not None else "application/octet-stream"


def clean_title(raw: str) -> str:
    """A document's title from an uploaded file's name: no folders, no invisible or control
    characters (NUL, bidi overrides), no leading or trailing dots, spaces folded, at most
    TITLE_MAX characters with the extension kept. Empty when nothing is left."""
    name = unicodedata.normalize("NFKC", raw)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _INVISIBLE)
    name = " ".join(name.split()).strip(". ")
    if len(name) > TITLE_MAX:
        stem, dot, ext = name.rpartition(".")
        if dot and len(ext) < 10:
            name = stem[: TITLE_MAX - len(ext) - 1].rstrip(". ") + "." + ext
        else:
            name = name[:TITLE_MAX]
    return name


def file_type(title: str) -> FileType | None:
    stem, dot, ext = title.rpartition(".")
    if not dot or not stem:
        return None
    return FILE_TYPES.get(ext.lower())


def check_file(uploaded: UploadedFile[bytes]) -> tuple[str, FileType]:
    """The title and type of an upload, or the DomainError that says what is wrong."""
    title = clean_title(uploaded.name or "")
    stem, dot, _ = title.rpartition(".")
    if not (dot and stem):
        raise DomainError(FILE_NAME, field="file")
    kind = file_type(title)
    if kind is None:
        raise DomainError(FILE_TYPE, field="file")
    size = uploaded.size or 0
    if size == 0:
        raise DomainError(FILE_EMPTY, field="file")
    if size > settings.LIBRARY_MAX_FILE_BYTES:
        raise DomainError(file_too_large(), field="file")
    if kind.text and not _is_utf8(uploaded):
        raise DomainError(FILE_NOT_TEXT.format(label=kind.ext.upper()), field="file")
    if not kind.check(uploaded):
        raise DomainError(FILE_CONTENT.format(label=kind.label), field="file")
    return title, kind


@transaction.atomic
def library_document_add(
    *, actor: Actor, library_id: int, uploaded_file: UploadedFile[bytes]
) -> Document:
    """Store an uploaded file in the library, shared as the library is. The file is
    stored under a random name (never the uploaded one) before the row is written, and
    deleted again when writing the row fails."""
    library = _locked(library_id)
    _require_manager(actor, library, widens=True)
    title, kind = check_file(uploaded_file)
    source_id = uuid.uuid4().hex
    now = timezone.now()
    doc = Document(
        workspace_id=library.workspace_id,
        library=library,
        source_id=source_id,
        title=title,
        kind=DocumentKind.FILE,
        mime_type=kind.mime,
        size=uploaded_file.size,
        modified_at=now,
        synced_at=now,
        owner_email=actor.audit_user.email if actor.audit_user is not None else "",
        principals=principal_ids(library, create=True),
        acl=[],
    )
    doc.file.save(f"{source_id}.{kind.ext}", uploaded_file, save=False)
    try:
        doc.save()
        record(
            actor=actor,
            workspace=library.workspace,
            action=Action.LIBRARY_DOCUMENT_ADDED,
            target=library,
            after={"document": doc.pk, "title": title, "size": doc.size, "type": kind.mime},
        )
    except Exception:
        default_storage.delete(doc.file.name or "")
        raise
    return doc


@transaction.atomic
def library_document_remove(*, actor: Actor, library_id: int, document_id: int) -> None:
    library = _locked(library_id)
    _require_manager(actor, library, widens=False)
    doc = Document.objects.filter(pk=document_id, library=library).first()
    if doc is None:
        raise DomainError(NO_SUCH_DOCUMENT)
    name = doc.file.name
    record(
        actor=actor,
        workspace=library.workspace,
        action=Action.LIBRARY_DOCUMENT_REMOVED,
        target=library,
        before={"document": doc.pk, "title": doc.title, "size": doc.size},
    )
    doc.delete()
    _storage_delete_later([name] if name else [])


# --- Reads for the pages -------------------------------------------------------------


def library_list(viewer: Viewer, *, admin: bool, user_id: int) -> QuerySet[Library]:
    """The libraries a member sees (an admin: all of the workspace's), with their
    document counts, by name. One query."""
    qs = Library.objects.filter(workspace_id=viewer.workspace_id)
    if not admin:
        if not viewer.sees_libraries():
            return qs.none()
        held = LibraryGrant.objects.filter(
            library=OuterRef("pk"), principal_id__in=viewer.principal_ids
        )
        qs = qs.filter(Q(created_by_id=user_id) | Exists(held))
    return (
        qs.select_related("created_by")
        .annotate(document_count=Count("documents"))
        .order_by(Lower("name"), "id")
    )


def library_documents(library: Library, viewer: Viewer | None = None) -> QuerySet[Document]:
    """The library's documents, newest first: every one (the managers' and admins' count,
    the admins' list), or with ``viewer`` those the document decision lets them see."""
    qs = visible_documents(viewer) if viewer is not None else Document.objects.all()
    return qs.filter(workspace_id=library.workspace_id, library=library).order_by(
        "-modified_at", "-id"
    )


def library_document(library: Library, document_id: int) -> Document | None:
    return library_documents(library).filter(pk=document_id).first()


@dataclass(frozen=True)
class GrantRow:
    grant: LibraryGrant
    label: str
    detail: str
    gone: bool  # the group was deleted or the member removed: the grant reaches nobody


def grant_rows(library: Library) -> list[GrantRow]:
    """The library's grants with the names of whom they reach now: three queries."""
    grants = list(
        LibraryGrant.objects.filter(library=library)
        .select_related("principal")
        .order_by("principal__kind", "id")
    )
    keys: dict[str, list[int]] = {K.MEMBER: [], K.GROUP: []}
    for g in grants:
        number = parse_id(g.principal.key)
        if g.principal.kind in keys and number is not None:
            keys[g.principal.kind].append(number)
    ws = library.workspace_id
    members = {
        str(m.pk): m
        for m in Membership.objects.filter(pk__in=keys[K.MEMBER], workspace_id=ws).select_related(
            "user"
        )
    }
    groups = {
        str(g.pk): g.name
        for g in Group.objects.filter(pk__in=keys[K.GROUP], workspace_id=ws).only("id", "name")
    }
    rows = []
    for g in grants:
        p = g.principal
        if p.kind == K.EVERYONE:
            rows.append(GrantRow(g, "Everyone in the workspace", "every member", False))
        elif p.kind == K.GROUP:
            name = groups.get(p.key)
            if name is None:
                rows.append(GrantRow(g, p.label or "A group", "deleted group", True))
            else:
                rows.append(GrantRow(g, name, "group", False))
        else:
            m = members.get(p.key)
            if m is None:
                rows.append(GrantRow(g, p.label or "A member", "removed member", True))
            else:
                inactive = m.status != MemberStatus.ACTIVE
                rows.append(
                    GrantRow(g, m.user.email, "deactivated" if inactive else "member", False)
                )
    return rows


def who_can_see_library(
    library: Library, *, facts: WorkspaceFacts | None = None
) -> list[tuple[Membership, str]]:
    """The active members who may see the library's documents, with the reason: the
    decision's own ``who_can_see`` for a document shared as the library's are."""
    probe = Document(
        workspace_id=library.workspace_id,
        library_id=library.pk,
        principals=principal_ids(library),
    )
    return who_can_see(probe, facts=facts)


def share_candidates(library: Library, q: str, *, limit: int) -> ShareCandidates:
    """Whom the share dialog offers: the whole workspace, then the groups and the active
    members whose name (or email) contains ``q``, each with the role they hold now. Three
    queries."""

    def held() -> dict[str, str]:
        return {
            (kind if kind == K.EVERYONE else f"{kind}:{key}"): role
            for kind, key, role in LibraryGrant.objects.filter(library=library).values_list(
                "principal__kind", "principal__key", "role"
            )
        }

    return account_selectors.share_candidates(
        library.workspace_id, q, limit=limit, held=held, everyone=True
    )
