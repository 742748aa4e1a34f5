"""Libraries (R-CON-5): the services, who manages and who sees, access kept in the
documents, the pages with and without htmx, downloads through the document decision."""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services as accounts_services
from accounts.actor import Actor
from accounts.audit_display import describe
from accounts.models import AuditEvent, Group, Membership, MemberStatus
from accounts.roles import Role
from billing.models import Plan
from connectors import access, libraries
from connectors.audit import Action
from connectors.libraries import EVERYONE, ShareTarget, TargetKind
from connectors.models import Document, Library, LibraryGrant, LibraryRole, Principal
from connectors.models import PrincipalKind as K
from core.errors import DomainError, NotAllowed
from tests.concurrency import needs_postgres, run_concurrently
from tests.conftest import HTMX
from tests.connectors.conftest import Acme
from tests.factories import (
    FeatureRuleFactory,
    GroupFactory,
    MembershipFactory,
    SubscriptionFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

VIEWER, EDITOR = LibraryRole.VIEWER.value, LibraryRole.EDITOR.value


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def research(acme: Acme) -> Group:
    """A group of acme with grace in it."""
    group = GroupFactory(workspace=acme.workspace, name="Research")
    group.members.add(acme.grace)
    return group


@pytest.fixture
def lib(acme: Acme) -> Library:
    """A library alan created."""
    return libraries.library_create(
        actor=Actor.member(acme.alan), workspace=acme.workspace, name="Handbooks"
    )


def as_actor(m: Membership) -> Actor:
    return Actor.member(m)


def fresh(m: Membership) -> Membership:
    return Membership.objects.select_related("user", "workspace").get(pk=m.pk)


# --- Files ---------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_OOXML = "application/vnd.openxmlformats-officedocument"
OFFICE = {
    "docx": ("word/document.xml", f"{_OOXML}.wordprocessingml.document.main+xml"),
    "pptx": ("ppt/presentation.xml", f"{_OOXML}.presentationml.presentation.main+xml"),
    "xlsx": ("xl/workbook.xml", f"{_OOXML}.spreadsheetml.sheet.main+xml"),
}


def office(kind: str, *, content_type: str | None = None, main: str | None = None) -> bytes:
    part, ctype = OFFICE[kind]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0"?><Types><Override PartName="/{main or part}" '
            f'ContentType="{content_type or ctype}"/></Types>',
        )
        z.writestr(main or part, "<doc/>")
    return buf.getvalue()


GOOD_FILES: dict[str, bytes] = {
    "report.pdf": PDF,
    "notes.docx": office("docx"),
    "deck.pptx": office("pptx"),
    "sheet.xlsx": office("xlsx"),
    "readme.txt": "Plain text, accentuée.\n".encode(),
    "guide.md": b"# Guide\n\n- one\n",
    "table.csv": b"a,b\n1,2\n",
    "page.html": b"<!doctype html><script>alert(1)</script>",
    "data.json": b'{"a": [1, 2, {"b": null}]}',
}


def upload(name: str = "report.pdf", body: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="application/octet-stream")


def add(m: Membership, library: Library, name: str = "report.pdf", body: bytes = PDF) -> Document:
    return libraries.library_document_add(
        actor=as_actor(m), library_id=library.pk, uploaded_file=upload(name, body)
    )


def share(m: Membership, library: Library, target: ShareTarget, role: str = VIEWER) -> LibraryGrant:
    return libraries.library_share(
        actor=as_actor(m), library_id=library.pk, target=target, role=role
    )


def group_target(group: Group) -> ShareTarget:
    return ShareTarget(TargetKind.GROUP, group.pk)


def member_target(m: Membership) -> ShareTarget:
    return ShareTarget(TargetKind.MEMBER, m.pk)


def doc_now(doc: Document) -> Document:
    return Document.objects.get(pk=doc.pk)


def sees(m: Membership, doc: Document) -> bool:
    """Whether the decision and the list query both let ``m`` see ``doc``; they must agree."""
    viewer = access.load_viewer(fresh(m))
    doc = doc_now(doc)
    decided = access.decide_document(viewer, doc).allowed
    listed = access.visible_documents(viewer).filter(pk=doc.pk).exists()
    assert decided == listed, (m.user.email, decided, listed)
    return decided


# --- Creating and naming -------------------------------------------------------------------


def test_create_stores_the_library_with_its_creator_and_audits(acme: Acme) -> None:
    library = libraries.library_create(
        actor=as_actor(acme.alan),
        workspace=acme.workspace,
        name="  Team   handbooks ",
        description=" How we work ",
    )
    assert (library.name, library.description) == ("Team handbooks", "How we work")
    assert library.created_by == acme.alan.user
    assert Principal.objects.filter(
        workspace=acme.workspace, connection=None, kind=K.MEMBER, key=str(acme.alan.pk)
    ).exists()
    event = AuditEvent.objects.get(action=Action.LIBRARY_CREATED)
    assert event.actor == acme.alan.user
    assert event.after == {"name": "Team handbooks", "description": "How we work"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", libraries.NAME_EMPTY),
        ("   ", libraries.NAME_EMPTY),
        ("x" * 121, libraries.NAME_TOO_LONG),
        ("Hand\x00books", libraries.NAME_INVISIBLE),
        ("Hand\u202ebooks", libraries.NAME_INVISIBLE),  # right-to-left override
        ("Hand\u200bbooks", libraries.NAME_INVISIBLE),  # zero-width space
    ],
)
def test_bad_names_are_refused(acme: Acme, name: str, message: str) -> None:
    with pytest.raises(DomainError) as caught:
        libraries.library_create(actor=as_actor(acme.alan), workspace=acme.workspace, name=name)
    assert (caught.value.message, caught.value.field) == (message, "name")
    assert not Library.objects.exists()


def test_a_name_of_120_characters_is_taken(acme: Acme) -> None:
    name = "x" * 120
    library = libraries.library_create(
        actor=as_actor(acme.alan), workspace=acme.workspace, name=name
    )
    assert library.name == name


def test_names_are_unique_in_the_workspace_whatever_the_case(acme: Acme, lib: Library) -> None:
    with pytest.raises(DomainError) as caught:
        libraries.library_create(
            actor=as_actor(acme.grace), workspace=acme.workspace, name="HANDBOOKS"
        )
    assert caught.value.message == libraries.NAME_TAKEN
    # Another workspace may use the name.
    other = WorkspaceFactory(slug="globex")
    SubscriptionFactory(workspace=other, plan=Plan.objects.get(slug="team"))
    stranger = MembershipFactory(workspace=other)
    libraries.library_create(actor=as_actor(stranger), workspace=other, name="Handbooks")


def test_renaming_checks_the_same_rules_and_audits_what_changed(acme: Acme, lib: Library) -> None:
    libraries.library_create(actor=as_actor(acme.alan), workspace=acme.workspace, name="Policies")
    with pytest.raises(DomainError) as caught:
        libraries.library_update(
            actor=as_actor(acme.alan), library_id=lib.pk, name="policies", description=""
        )
    assert caught.value.message == libraries.NAME_TAKEN
    # A change of case of its own name is no clash.
    libraries.library_update(
        actor=as_actor(acme.alan), library_id=lib.pk, name="HANDBOOKS", description="Read me"
    )
    event = AuditEvent.objects.get(action=Action.LIBRARY_UPDATED)
    assert event.before == {"name": "Handbooks", "description": ""}
    assert event.after == {"name": "HANDBOOKS", "description": "Read me"}
    # Nothing changes: nothing is written.
    libraries.library_update(
        actor=as_actor(acme.alan), library_id=lib.pk, name="HANDBOOKS", description="Read me"
    )
    assert AuditEvent.objects.filter(action=Action.LIBRARY_UPDATED).count() == 1


def test_creating_needs_the_libraries_feature(acme: Acme) -> None:
    FeatureRuleFactory(workspace=acme.workspace, membership=acme.alan, feature="libraries")
    with pytest.raises(NotAllowed) as caught:
        libraries.library_create(actor=as_actor(acme.alan), workspace=acme.workspace, name="X")
    assert caught.value.message == libraries.FEATURE_OFF
    # Nor on a plan without libraries (the free plan).
    ws = WorkspaceFactory(slug="free-ws")
    m = MembershipFactory(workspace=ws, role=Role.OWNER)
    with pytest.raises(NotAllowed):
        libraries.library_create(actor=as_actor(m), workspace=ws, name="X")
    assert not Library.objects.exists()


def test_staff_and_other_workspaces_cannot_create(acme: Acme) -> None:
    staff = UserFactory(is_staff=True)
    with pytest.raises(NotAllowed) as caught:
        libraries.library_create(actor=Actor.staff(staff), workspace=acme.workspace, name="X")
    assert caught.value.message == libraries.NEEDS_MEMBER
    stranger = MembershipFactory(workspace=WorkspaceFactory(slug="globex"))
    with pytest.raises(NotAllowed):
        libraries.library_create(actor=as_actor(stranger), workspace=acme.workspace, name="X")


# --- Who manages ---------------------------------------------------------------------------


def _reference(
    admin: bool, feature: bool, creator: bool, roles: frozenset[str]
) -> tuple[bool, bool]:
    """Written apart from the service: (sees, manages)."""
    member_manages = feature and (creator or EDITOR in roles)
    member_sees = member_manages or (feature and VIEWER in roles)
    return (admin or member_sees, admin or member_manages)


ROLE_SETS = [frozenset(s) for n in range(3) for s in itertools.combinations([VIEWER, EDITOR], n)]


@pytest.mark.parametrize(
    ("admin", "feature", "creator", "roles"),
    list(itertools.product([False, True], [False, True], [False, True], ROLE_SETS)),
)
def test_rights_agree_with_the_reference(
    admin: bool, feature: bool, creator: bool, roles: frozenset[str]
) -> None:
    got = libraries.decide_rights(admin=admin, feature=feature, creator=creator, roles=roles)
    assert (got.sees, got.manages) == _reference(admin, feature, creator, roles)
    assert bool(got.role) == got.sees


def test_admins_manage_every_library_without_a_grant(acme: Acme, lib: Library) -> None:
    doc = add(acme.admin, lib)
    share(acme.admin, lib, EVERYONE)
    libraries.library_unshare(
        actor=as_actor(acme.admin), library_id=lib.pk, grant_id=lib.grants.get().pk
    )
    libraries.library_document_remove(
        actor=as_actor(acme.admin), library_id=lib.pk, document_id=doc.pk
    )
    # An admin manages, but opening a document is the decision's: not shared with them.
    doc = add(acme.admin, lib)
    assert not sees(acme.admin, doc)
    assert libraries.library_delete(actor=as_actor(acme.admin), library_id=lib.pk) == 1


def test_a_viewer_cannot_upload_share_or_delete(acme: Acme, lib: Library) -> None:
    share(acme.alan, lib, member_target(acme.mary), VIEWER)
    mary = as_actor(acme.mary)
    calls: list[Callable[[], object]] = [
        lambda: add(acme.mary, lib),
        lambda: share(acme.mary, lib, EVERYONE, EDITOR),
        lambda: share(acme.mary, lib, member_target(acme.mary), EDITOR),
        lambda: libraries.library_unshare(
            actor=mary, library_id=lib.pk, grant_id=lib.grants.get().pk
        ),
        lambda: libraries.library_update(
            actor=mary, library_id=lib.pk, name="Mine", description=""
        ),
        lambda: libraries.library_delete(actor=mary, library_id=lib.pk),
    ]
    for call in calls:
        with pytest.raises(NotAllowed) as caught:
            call()
        assert caught.value.message == libraries.NOT_A_MANAGER
    assert lib.grants.get().role == VIEWER and not lib.documents.exists()
    # Someone outside every grant is refused the same way.
    with pytest.raises(NotAllowed):
        add(acme.grace, lib)


def test_a_member_of_another_workspace_changes_nothing(acme: Acme, lib: Library) -> None:
    other = WorkspaceFactory(slug="globex")
    SubscriptionFactory(workspace=other, plan=Plan.objects.get(slug="team"))
    stranger = MembershipFactory(workspace=other, role=Role.OWNER)
    doc = add(acme.alan, lib)
    calls: list[Callable[[], object]] = [
        lambda: add(stranger, lib),
        lambda: share(stranger, lib, EVERYONE, EDITOR),
        lambda: libraries.library_document_remove(
            actor=as_actor(stranger), library_id=lib.pk, document_id=doc.pk
        ),
        lambda: libraries.library_delete(actor=as_actor(stranger), library_id=lib.pk),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
    assert Library.objects.filter(pk=lib.pk).exists() and lib.documents.count() == 1
    assert not lib.grants.exists()


def test_staff_manage_as_owners(acme: Acme, lib: Library) -> None:
    staff = Actor.staff(UserFactory(is_staff=True))
    libraries.library_share(actor=staff, library_id=lib.pk, target=EVERYONE, role=VIEWER)
    assert libraries.library_delete(actor=staff, library_id=lib.pk) == 0


@pytest.mark.parametrize("via", ["member", "group", "everyone"])
def test_an_editor_grant_manages_however_it_is_held(
    acme: Acme, lib: Library, research: Group, via: str
) -> None:
    target = {
        "member": member_target(acme.grace),
        "group": group_target(research),
        "everyone": EVERYONE,
    }[via]
    share(acme.alan, lib, target, EDITOR)
    doc = add(acme.grace, lib)
    share(acme.grace, lib, member_target(acme.mary))
    assert sees(acme.mary, doc)
    libraries.library_update(
        actor=as_actor(acme.grace), library_id=lib.pk, name="Renamed", description=""
    )


def test_an_editor_whose_feature_is_denied_manages_nothing(acme: Acme, lib: Library) -> None:
    share(acme.alan, lib, member_target(acme.grace), EDITOR)
    FeatureRuleFactory(workspace=acme.workspace, membership=acme.grace, feature="libraries")
    with pytest.raises(NotAllowed):
        add(fresh(acme.grace), lib)


def test_on_a_plan_without_libraries_admins_narrow_but_do_not_widen(
    acme: Acme, lib: Library
) -> None:
    doc = add(acme.alan, lib)
    grant = share(acme.alan, lib, EVERYONE)
    acme.workspace.subscriptions.all().delete()  # back on the free plan
    with pytest.raises(DomainError) as caught:
        add(acme.admin, lib)
    assert caught.value.message == libraries.NOT_IN_PLAN
    with pytest.raises(DomainError):
        share(acme.admin, lib, member_target(acme.mary))
    libraries.library_unshare(actor=as_actor(acme.admin), library_id=lib.pk, grant_id=grant.pk)
    libraries.library_document_remove(
        actor=as_actor(acme.admin), library_id=lib.pk, document_id=doc.pk
    )


# --- Sharing keeps access in the documents -------------------------------------------------


def test_documents_carry_the_grants_and_the_creator(acme: Acme, lib: Library, research) -> None:
    doc = add(acme.alan, lib)
    creator = Principal.objects.get(kind=K.MEMBER, key=str(acme.alan.pk))
    assert Document.objects.get(pk=doc.pk).principals == [creator.pk]
    share(acme.alan, lib, group_target(research))
    share(acme.alan, lib, EVERYONE, EDITOR)
    group_p = Principal.objects.get(kind=K.GROUP, key=str(research.pk), connection=None)
    everyone = Principal.objects.get(kind=K.EVERYONE, key="", connection=None)
    assert group_p.label == "Research" and group_p.workspace_id == acme.workspace.pk
    assert sorted(Document.objects.get(pk=doc.pk).principals) == sorted(
        [creator.pk, group_p.pk, everyone.pk]
    )
    # A document added later is shared the same way.
    later = add(acme.alan, lib, "later.txt", b"hello")
    assert sorted(later.principals) == sorted([creator.pk, group_p.pk, everyone.pk])


def test_sharing_with_a_group_as_viewer(acme: Acme, lib: Library, research: Group) -> None:
    doc = add(acme.alan, lib)
    assert sees(acme.alan, doc)
    assert not sees(acme.grace, doc)
    share(acme.alan, lib, group_target(research))
    assert sees(acme.grace, doc) and not sees(acme.mary, doc)
    decision = access.decide_document(access.load_viewer(acme.grace), doc_now(doc))
    assert (
        decision.reason
        == "Shared with the group Research in the library, of which grace@acme.example is a member."
    )
    event = AuditEvent.objects.get(action=Action.LIBRARY_SHARED)
    assert event.after == {
        "target": "the group Research",
        "principal": f"group:{research.pk}",
        "role": VIEWER,
        "documents": 1,
    }


def test_sharing_with_a_member_and_with_everyone(acme: Acme, lib: Library) -> None:
    doc = add(acme.alan, lib)
    share(acme.alan, lib, member_target(acme.mary), EDITOR)
    assert sees(acme.mary, doc) and not sees(acme.grace, doc)
    share(acme.alan, lib, EVERYONE)
    assert all(sees(m, doc) for m in (acme.admin, acme.grace, acme.mary, acme.guest))


def test_sharing_again_changes_the_role_and_twice_the_same_changes_nothing(
    acme: Acme, lib: Library
) -> None:
    first = share(acme.alan, lib, member_target(acme.mary))
    again = share(acme.alan, lib, member_target(acme.mary))
    assert again.pk == first.pk
    assert AuditEvent.objects.filter(action=Action.LIBRARY_SHARED).count() == 1
    changed = share(acme.alan, lib, member_target(acme.mary), EDITOR)
    assert changed.pk == first.pk and changed.role == EDITOR
    event = AuditEvent.objects.filter(action=Action.LIBRARY_SHARED).latest("pk")
    assert event.before == {
        "target": "mary@acme.example",
        "principal": f"member:{acme.mary.pk}",
        "role": VIEWER,
    }


def test_unsharing_narrows_at_once(acme: Acme, lib: Library, research: Group) -> None:
    doc = add(acme.alan, lib)
    grant = share(acme.alan, lib, group_target(research))
    assert sees(acme.grace, doc)
    libraries.library_unshare(actor=as_actor(acme.alan), library_id=lib.pk, grant_id=grant.pk)
    assert not sees(acme.grace, doc)
    assert sees(acme.alan, doc)
    event = AuditEvent.objects.get(action=Action.LIBRARY_UNSHARED)
    assert event.before == {
        "target": "the group Research",
        "principal": f"group:{research.pk}",
        "role": VIEWER,
    }
    assert describe(event) == (
        "alan@acme.example unshared the library Handbooks from the group Research as viewer."
    )
    with pytest.raises(DomainError) as caught:
        libraries.library_unshare(actor=as_actor(acme.alan), library_id=lib.pk, grant_id=grant.pk)
    assert caught.value.message == libraries.NO_SUCH_GRANT


def test_sharing_updates_every_document_in_one_query(acme: Acme, lib: Library) -> None:
    for i in range(6):
        add(acme.alan, lib, f"doc{i}.txt", b"x")
    with CaptureQueriesContext(connection) as ctx:
        share(acme.alan, lib, EVERYONE)
    updates = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("UPDATE") and "connectors_document" in q["sql"]
    ]
    assert len(updates) == 1
    assert all(sees(acme.mary, d) for d in lib.documents.all())


def test_another_workspaces_group_or_member_is_refused(acme: Acme, lib: Library) -> None:
    other = WorkspaceFactory(slug="globex")
    their_group = GroupFactory(workspace=other)
    their_member = MembershipFactory(workspace=other)
    for target in (
        group_target(their_group),
        member_target(their_member),
        ShareTarget(TargetKind.GROUP, 2**62),
    ):
        with pytest.raises(DomainError) as caught:
            share(acme.alan, lib, target)
        assert (caught.value.message, caught.value.field) == (libraries.UNKNOWN_TARGET, "target")
    assert not LibraryGrant.objects.exists()
    assert not Principal.objects.filter(workspace=other).exists()


def test_an_unknown_role_is_refused(acme: Acme, lib: Library) -> None:
    with pytest.raises(DomainError) as caught:
        share(acme.alan, lib, EVERYONE, "owner")
    assert caught.value.message == libraries.UNKNOWN_ROLE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("everyone", EVERYONE),
        ("group:12", ShareTarget(TargetKind.GROUP, 12)),
        ("member:3", ShareTarget(TargetKind.MEMBER, 3)),
        ("group:", None),
        ("group:0", None),
        ("group:" + "9" * 30, None),
        ("member:-1", None),
        ("owner:1", None),
        ("everyone:1", None),
        ("", None),
    ],
)
def test_share_targets_parse(raw: str, expected: ShareTarget | None) -> None:
    assert ShareTarget.parse(raw) == expected
    if expected is not None:
        assert str(expected) == raw


def test_the_audit_log_tells_each_change(acme: Acme, research: Group) -> None:
    alan = as_actor(acme.alan)
    library = libraries.library_create(actor=alan, workspace=acme.workspace, name="Handbooks")
    libraries.library_update(actor=alan, library_id=library.pk, name="Guides", description="")
    grant = share(acme.alan, library, group_target(research))
    share(acme.alan, library, member_target(acme.mary), EDITOR)
    libraries.library_unshare(actor=alan, library_id=library.pk, grant_id=grant.pk)
    doc = add(acme.alan, library)
    libraries.library_document_remove(actor=alan, library_id=library.pk, document_id=doc.pk)
    libraries.library_delete(actor=alan, library_id=library.pk)
    events = AuditEvent.objects.filter(action__startswith="library.").order_by("pk")
    assert [describe(e) for e in events] == [
        "alan@acme.example created the library Handbooks.",
        "alan@acme.example changed the library Guides.",
        "alan@acme.example shared the library Guides with the group Research as viewer.",
        "alan@acme.example shared the library Guides with mary@acme.example as editor.",
        "alan@acme.example unshared the library Guides from the group Research as viewer.",
        "alan@acme.example added report.pdf to the library Guides.",
        "alan@acme.example removed report.pdf from the library Guides.",
        "alan@acme.example deleted the library Guides.",
    ]


# --- Groups deleted, members removed -------------------------------------------------------


def test_a_deleted_group_stops_matching_anyone(acme: Acme, lib: Library, research: Group) -> None:
    doc = add(acme.alan, lib)
    share(acme.alan, lib, group_target(research))
    assert sees(acme.grace, doc)
    accounts_services.group_delete(actor=as_actor(acme.admin), group=research)
    assert not sees(acme.grace, doc)
    # A new group (a new id, never the old one's) with grace in it reaches nothing either.
    again = GroupFactory(workspace=acme.workspace, name="Research")
    again.members.add(acme.grace)
    assert again.pk != research.pk
    assert not sees(acme.grace, doc)
    row = libraries.grant_rows(lib)[0]
    assert row.gone and row.detail == "deleted group"


def test_a_removed_member_sees_nothing_even_when_invited_back(acme: Acme, lib: Library) -> None:
    doc = add(acme.alan, lib)
    share(acme.alan, lib, member_target(acme.mary))
    accounts_services.member_remove(actor=as_actor(acme.admin), membership=acme.mary)
    back = MembershipFactory(workspace=acme.workspace, user=acme.mary.user)
    assert not sees(back, doc)
    assert libraries.grant_rows(lib)[0].gone


def test_a_deactivated_member_sees_nothing(acme: Acme, lib: Library) -> None:
    doc = add(acme.alan, lib)
    share(acme.alan, lib, EVERYONE)
    accounts_services.member_deactivate(actor=as_actor(acme.admin), membership=acme.mary)
    mary = fresh(acme.mary)
    assert mary.status == MemberStatus.DEACTIVATED
    assert not sees(mary, doc)
    assert (
        access.decide_document(access.load_viewer(mary), doc_now(doc)).code == access.Code.INACTIVE
    )


def test_a_removed_creator_loses_access_and_the_grants_stay(acme: Acme, lib: Library) -> None:
    doc = add(acme.alan, lib)
    share(acme.alan, lib, member_target(acme.mary))
    accounts_services.member_remove(actor=as_actor(acme.admin), membership=acme.alan)
    share(acme.admin, lib, member_target(acme.grace))
    assert sees(acme.mary, doc) and sees(acme.grace, doc)
    assert len(Document.objects.get(pk=doc.pk).principals) == 2


# --- The document decision and the list ----------------------------------------------------


def test_visible_documents_agrees_with_the_decision(acme: Acme, research: Group) -> None:
    """Across libraries shared in every way, and a rule denying libraries to one member."""
    alan, grace = as_actor(acme.alan), as_actor(acme.grace)
    ws = acme.workspace
    shared = {
        "private": [],
        "group": [group_target(research)],
        "mary": [member_target(acme.mary)],
        "all": [EVERYONE],
    }
    docs = []
    for name, targets in shared.items():
        library = libraries.library_create(actor=alan, workspace=ws, name=name)
        for t in targets:
            share(acme.alan, library, t)
        docs.append(add(acme.alan, library, f"{name}.txt", b"x"))
    other = libraries.library_create(actor=grace, workspace=ws, name="Grace's")
    docs.append(add(acme.grace, other, "g.txt", b"y"))
    FeatureRuleFactory(workspace=ws, membership=acme.guest, feature="libraries")
    expected = {
        acme.admin.pk: {"all.txt"},
        acme.alan.pk: {"private.txt", "group.txt", "mary.txt", "all.txt"},
        acme.grace.pk: {"group.txt", "all.txt", "g.txt"},
        acme.mary.pk: {"mary.txt", "all.txt"},
        acme.guest.pk: set(),  # denied by the admin's rule, although shared with everyone
    }
    for m in (acme.admin, acme.alan, acme.grace, acme.mary, acme.guest):
        viewer = access.load_viewer(fresh(m))
        listed = set(access.visible_documents(viewer).values_list("title", flat=True))
        decided = {d.title for d in docs if access.decide_document(viewer, d).allowed}
        assert listed == decided == expected[m.pk], m.user.email


def test_the_libraries_feature_denied_hides_library_documents(acme: Acme, lib: Library) -> None:
    doc = add(acme.alan, lib)
    share(acme.alan, lib, EVERYONE)
    assert sees(acme.mary, doc)
    FeatureRuleFactory(workspace=acme.workspace, feature="libraries", effect="deny")
    viewer = access.load_viewer(fresh(acme.mary))
    assert not access.visible_documents(viewer).exists()
    decision = access.decide_document(viewer, doc_now(doc))
    assert decision.code == access.Code.FEATURE and decision.reason.startswith("Libraries:")
    assert not libraries.library_list(viewer, admin=False, user_id=acme.mary.user_id).exists()


def test_who_can_see_the_library(acme: Acme, lib: Library, research: Group) -> None:
    share(acme.alan, lib, group_target(research))
    share(acme.alan, lib, member_target(acme.mary))
    who = {m.user.email: reason for m, reason in libraries.who_can_see_library(lib)}
    assert who == {
        "alan@acme.example": "shared with them directly",
        "grace@acme.example": "member of the workspace group Research",
        "mary@acme.example": "shared with them directly",
    }


# --- Files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(GOOD_FILES))
def test_every_allowed_type_is_stored(acme: Acme, lib: Library, name: str) -> None:
    doc = add(acme.alan, lib, name, GOOD_FILES[name])
    doc.refresh_from_db()
    assert doc.title == name and doc.size == len(GOOD_FILES[name])
    assert doc.connection_id is None and doc.library_id == lib.pk
    assert len(doc.source_id) == 32 and doc.modified_at is not None
    # Stored under a random name, never the uploaded one.
    assert doc.file.name.startswith("libraries/") and name not in doc.file.name
    with default_storage.open(doc.file.name, "rb") as f:
        assert f.read() == GOOD_FILES[name]
    event = AuditEvent.objects.get(action=Action.LIBRARY_DOCUMENT_ADDED)
    assert event.after["title"] == name and event.after["size"] == len(GOOD_FILES[name])


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("tool.exe", b"MZ\x90\x00", libraries.FILE_TYPE),
        ("macro.docm", office("docx"), libraries.FILE_TYPE),
        ("archive.zip", office("docx"), libraries.FILE_TYPE),
        ("image.svg", b"<svg/>", libraries.FILE_TYPE),
        ("README", b"hello", libraries.FILE_NAME),
        ("...", b"hello", libraries.FILE_NAME),
        (".txt", b"hello", libraries.FILE_NAME),
        ("empty.txt", b"", libraries.FILE_EMPTY),
        ("fake.pdf", b"<html>not a pdf</html>", libraries.FILE_CONTENT.format(label="a PDF")),
        (
            "fake.docx",
            b"PK\x03\x04 not really a zip",
            libraries.FILE_CONTENT.format(label="a Word document"),
        ),
        (
            "macro.docx",
            office("docx", content_type="application/vnd.ms-word.document.macroEnabled.main+xml"),
            libraries.FILE_CONTENT.format(label="a Word document"),
        ),
        (
            "sheet.docx",
            office("xlsx"),
            libraries.FILE_CONTENT.format(label="a Word document"),
        ),
        ("deck.pptx", PDF, libraries.FILE_CONTENT.format(label="a PowerPoint presentation")),
        ("binary.txt", b"\xff\xfe\x00h\x00i", libraries.FILE_NOT_TEXT.format(label="TXT")),
        ("nul.csv", b"a,b\n\x00,1\n", libraries.FILE_NOT_TEXT.format(label="CSV")),
        ("latin1.md", "café".encode("latin-1"), libraries.FILE_NOT_TEXT.format(label="MD")),
        ("pdf-as.html", PDF + b"\xe2\x28\xa1", libraries.FILE_NOT_TEXT.format(label="HTML")),
        ("broken.json", b'{"a": ', libraries.FILE_CONTENT.format(label="valid JSON")),
    ],
)
def test_files_of_other_types_or_content_are_refused(
    acme: Acme, lib: Library, _media: Path, name: str, body: bytes, message: str
) -> None:
    with pytest.raises(DomainError) as caught:
        add(acme.alan, lib, name, body)
    assert (caught.value.message, caught.value.field) == (message, "file")
    assert not Document.objects.exists()
    assert not any(p.is_file() for p in _media.rglob("*"))


def test_the_size_limit(acme: Acme, lib: Library, settings: Any) -> None:
    settings.LIBRARY_MAX_FILE_BYTES = 10
    with pytest.raises(DomainError) as caught:
        add(acme.alan, lib, "big.txt", b"x" * 11)
    assert caught.value.message == "The file is larger than the limit of 10\xa0bytes."
    assert caught.value.message == libraries.file_too_large()
    assert add(acme.alan, lib, "fits.txt", b"x" * 10).size == 10


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("re\x00port.txt", "report.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\ada\\notes.txt", "notes.txt"),
        ("  spaced    out .txt", "spaced out .txt"),
        ("<b onmouseover=alert(1)>x.txt", "<b onmouseover=alert(1)>x.txt"),
        ("<script>alert(1)</script>.txt", "script>.txt"),  # a slash ends a folder
        ("ｆｕｌｌ.txt", "full.txt"),  # fullwidth letters folded
        ("..hidden.txt", "hidden.txt"),
        ("bidi\u202etxt.md", "biditxt.md"),
        ("a" * 300 + ".txt", "a" * 251 + ".txt"),
    ],
)
def test_file_names_become_safe_titles(acme: Acme, lib: Library, name: str, title: str) -> None:
    doc = add(acme.alan, lib, name, b"text")
    assert doc.title == title and len(doc.title) <= libraries.TITLE_MAX
    assert doc.file.name.rsplit("/", 1)[-1] == f"{doc.source_id}.{title.rsplit('.', 1)[1]}"


def test_a_bidi_override_cannot_hide_an_extension(acme: Acme, lib: Library) -> None:
    # "evil\u202etxt.exe" shows as "evilexe.txt"; the real extension is .exe.
    with pytest.raises(DomainError) as caught:
        add(acme.alan, lib, "evil\u202etxt.exe", b"MZ")
    assert caught.value.message == libraries.FILE_TYPE


def test_deleting_a_library_deletes_its_documents_and_files_after_commit(
    acme: Acme, lib: Library, django_capture_on_commit_callbacks: Any
) -> None:
    docs = [add(acme.alan, lib, f"d{i}.txt", b"x") for i in range(3)]
    share(acme.alan, lib, EVERYONE)
    names = [d.file.name for d in docs]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        count = libraries.library_delete(actor=as_actor(acme.alan), library_id=lib.pk)
        assert all(default_storage.exists(n) for n in names)  # not before the commit
    assert count == 3 and len(callbacks) == 1
    assert not any(default_storage.exists(n) for n in names)
    assert not Library.objects.exists() and not Document.objects.exists()
    assert not LibraryGrant.objects.exists()
    event = AuditEvent.objects.get(action=Action.LIBRARY_DELETED)
    assert event.before == {"name": "Handbooks", "documents": 3, "grants": 1}


def test_removing_a_document_deletes_its_file_after_commit(
    acme: Acme, lib: Library, django_capture_on_commit_callbacks: Any
) -> None:
    keep, gone = add(acme.alan, lib, "keep.txt", b"k"), add(acme.alan, lib, "gone.txt", b"g")
    with django_capture_on_commit_callbacks(execute=True):
        libraries.library_document_remove(
            actor=as_actor(acme.alan), library_id=lib.pk, document_id=gone.pk
        )
    assert not default_storage.exists(gone.file.name)
    assert default_storage.exists(keep.file.name)
    assert list(lib.documents.values_list("title", flat=True)) == ["keep.txt"]
    event = AuditEvent.objects.get(action=Action.LIBRARY_DOCUMENT_REMOVED)
    assert event.before["title"] == "gone.txt"
    other = libraries.library_create(
        actor=as_actor(acme.alan), workspace=acme.workspace, name="Other"
    )
    with pytest.raises(DomainError):  # a document of another library
        libraries.library_document_remove(
            actor=as_actor(acme.alan), library_id=other.pk, document_id=keep.pk
        )


# --- Pages ---------------------------------------------------------------------------------


def url(name: str, *args: object, slug: str = "acme") -> str:
    return reverse(f"ws:{name}", args=[slug, *args])


def client_of(m: Membership) -> Client:
    c = Client()
    c.force_login(m.user)
    return c


def toast(response: Any) -> str:
    return json.loads(response["HX-Trigger"])["toast"]["message"]


def test_the_list_shows_what_the_member_sees(acme: Acme, lib: Library, research) -> None:
    shared = libraries.library_create(
        actor=as_actor(acme.admin), workspace=acme.workspace, name="Shared with research"
    )
    share(acme.admin, shared, group_target(research), EDITOR)
    add(acme.admin, shared)
    body = client_of(acme.grace).get(url("libraries")).content.decode()
    assert "Shared with research" in body and "Handbooks" not in body
    row = body.split(f'<tr id="library-{shared.pk}">', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">1</td>' in row and "Editor" in row
    # Admins see every library.
    body = client_of(acme.admin).get(url("libraries")).content.decode()
    assert "Shared with research" in body and "Handbooks" in body


def test_the_list_answers_htmx_with_its_section(acme: Acme, lib: Library) -> None:
    r = client_of(acme.alan).get(url("libraries"), **HTMX)
    body = r.content.decode()
    assert body.lstrip().startswith('<div id="libraries-section">') and "<html" not in body
    assert "HX-Request" in r["Vary"]


def test_the_list_says_why_libraries_are_off(acme: Acme, lib: Library) -> None:
    FeatureRuleFactory(workspace=acme.workspace, membership=acme.alan, feature="libraries")
    body = client_of(acme.alan).get(url("libraries")).content.decode()
    assert "Libraries are off for you" in body and "Handbooks" not in body
    assert "Create library" not in body


def test_create_through_the_page(acme: Acme) -> None:
    c = client_of(acme.alan)
    r = c.post(url("library_create"), {"name": "Specs", "description": ""}, **HTMX)
    library = Library.objects.get()
    assert r.status_code == 200 and r["HX-Redirect"] == url("library", library.pk)
    r = c.post(url("library_create"), {"name": "Plans", "description": ""})
    assert r.status_code == 302 and r["Location"] == url(
        "library", Library.objects.get(name="Plans").pk
    )
    assert "Library Plans created." in c.get(r["Location"]).content.decode()


@pytest.mark.parametrize(
    ("name", "message"),
    [("specs", libraries.NAME_TAKEN), ("", libraries.NAME_EMPTY), ("a\x00b", "Null characters")],
)
def test_create_errors_stay_beside_the_field(acme: Acme, name: str, message: str) -> None:
    libraries.library_create(actor=as_actor(acme.alan), workspace=acme.workspace, name="Specs")
    r = client_of(acme.alan).post(url("library_create"), {"name": name}, **HTMX)
    body = r.content.decode()
    assert r.status_code == 200 and "HX-Trigger" not in r and "HX-Redirect" not in r
    assert 'class="field has-error"' in body and message.replace("'", "&#x27;") in body
    assert Library.objects.count() == 1


def test_the_library_page_for_a_manager_and_for_a_viewer(acme: Acme, lib: Library) -> None:
    add(acme.alan, lib)
    share(acme.alan, lib, member_target(acme.mary))
    body = client_of(acme.alan).get(url("library", lib.pk)).content.decode()
    assert "Upload" in body and "Share…" in body and "Delete library…" in body
    assert "report.pdf" in body and "Who can see its documents" in body
    body = client_of(acme.mary).get(url("library", lib.pk)).content.decode()
    assert (
        "report.pdf" in body
        and url("library_document_download", lib.pk, lib.documents.get().pk) in body
    )
    assert "Upload" not in body and "Share…" not in body and "Delete library" not in body
    assert "Stop sharing" not in body and "Remove…" not in body


def test_titles_are_shown_as_text(acme: Acme, lib: Library) -> None:
    add(acme.alan, lib, "<b onmouseover=alert(1)>x.txt", b"x")
    body = client_of(acme.alan).get(url("library", lib.pk)).content.decode()
    assert "<b onmouseover" not in body and "&lt;b onmouseover=alert(1)&gt;x.txt" in body


def test_a_library_out_of_reach_is_a_404(acme: Acme, lib: Library) -> None:
    assert client_of(acme.grace).get(url("library", lib.pk)).status_code == 404
    stranger = MembershipFactory(workspace=WorkspaceFactory(slug="globex"), role=Role.OWNER)
    assert client_of(stranger).get(url("library", lib.pk, slug="globex")).status_code == 404


def test_a_viewer_posting_a_change_is_refused(acme: Acme, lib: Library) -> None:
    share(acme.alan, lib, member_target(acme.mary))
    c = client_of(acme.mary)
    assert (
        c.post(url("library_share", lib.pk), {"target": "everyone", "role": EDITOR}).status_code
        == 403
    )
    assert c.post(url("library_document_add", lib.pk), {"file": upload()}).status_code == 403
    assert c.get(url("library_delete", lib.pk)).status_code == 403
    assert LibraryGrant.objects.count() == 1 and not Document.objects.exists()


def test_upload_through_the_page(acme: Acme, lib: Library) -> None:
    c = client_of(acme.alan)
    r = c.post(url("library_document_add", lib.pk), {"file": upload("a.pdf")}, **HTMX)
    assert r.status_code == 200 and toast(r) == "a.pdf added to Handbooks."
    body = r.content.decode()
    assert body.lstrip().startswith('<section id="library-documents"') and "a.pdf" in body
    r = c.post(url("library_document_add", lib.pk), {"file": upload("b.pdf")})
    assert r.status_code == 302 and r["Location"] == url("library", lib.pk)
    r = c.post(url("library_document_add", lib.pk), {"file": upload("c.exe", b"MZ")}, **HTMX)
    assert r.status_code == 200 and "HX-Trigger" not in r
    assert libraries.FILE_TYPE in r.content.decode()
    assert sorted(lib.documents.values_list("title", flat=True)) == ["a.pdf", "b.pdf"]


def test_the_share_dialog_searches_groups_and_members(acme: Acme, lib: Library, research) -> None:
    c = client_of(acme.alan)
    r = c.get(url("library_share", lib.pk), **HTMX)
    body = r.content.decode()
    assert body.lstrip().startswith("<dialog open") and "Everyone in the workspace" in body
    r = c.get(url("library_share", lib.pk), {"q": "res"}, HTTP_HX_TARGET="share-results", **HTMX)
    body = r.content.decode()
    assert body.lstrip().startswith('<div id="share-results"') and "Research" in body
    assert f'value="group:{research.pk}"' in body
    # The results, rendered alone, post to the share URL, not to the page they are shown in.
    share_url = url("library_share", lib.pk)
    assert f'hx-post="{share_url}"' in body and 'hx-post=""' not in body
    assert 'hx-target="#library-sharing"' in body and "library-shared from:body" in body
    r = c.get(url("library_share", lib.pk), {"q": "grace@"}, HTTP_HX_TARGET="share-results", **HTMX)
    assert f'value="member:{acme.grace.pk}"' in r.content.decode()
    # Without JavaScript, a page of its own.
    r = c.get(url("library_share", lib.pk), {"q": "mary"})
    assert "<html" in r.content.decode() and f'value="member:{acme.mary.pk}"' in r.content.decode()


def test_a_search_the_database_cannot_hold_finds_nobody(acme: Acme, lib: Library) -> None:
    c = client_of(acme.alan)
    for q in ("%00", "a%00b", "x" * 500):
        r = c.get(url("library_share", lib.pk) + f"?q={q}", HTTP_HX_TARGET="share-results", **HTMX)
        assert r.status_code == 200 and "Everyone in the workspace" in r.content.decode()


def test_share_and_unshare_through_the_page(acme: Acme, lib: Library, research) -> None:
    c = client_of(acme.alan)
    r = c.post(
        url("library_share", lib.pk), {"target": f"group:{research.pk}", "role": EDITOR}, **HTMX
    )
    assert r.status_code == 200 and toast(r) == "Handbooks shared as editor."
    assert "library-shared" in json.loads(r["HX-Trigger-After-Settle"])
    body = r.content.decode()
    assert body.lstrip().startswith('<div id="library-sharing">') and "Research" in body
    assert "grace@acme.example" in body  # who can see it
    grant = lib.grants.get()
    assert grant.role == EDITOR
    r = c.post(url("library_unshare", lib.pk, grant.pk), **HTMX)
    assert r.status_code == 200 and not lib.grants.exists()
    r = c.post(url("library_share", lib.pk), {"target": "everyone", "role": VIEWER})
    assert r.status_code == 302 and r["Location"].startswith(url("library", lib.pk))
    r = c.post(url("library_unshare", lib.pk, lib.grants.get().pk))
    assert r.status_code == 302
    assert c.post(url("library_unshare", lib.pk, grant.pk)).status_code == 404


def test_sharing_with_a_foreign_target_answers_an_error(acme: Acme, lib: Library) -> None:
    foreign = GroupFactory(workspace=WorkspaceFactory(slug="globex"))
    c = client_of(acme.alan)
    for target in (f"group:{foreign.pk}", "group:" + "9" * 30, "nobody", ""):
        r = c.post(url("library_share", lib.pk), {"target": target, "role": VIEWER}, **HTMX)
        assert r.status_code == 204
        assert json.loads(r["HX-Trigger"])["toast"]["kind"] == "error"
        r = c.post(url("library_share", lib.pk), {"target": target, "role": VIEWER})
        assert r.status_code == 200 and libraries.UNKNOWN_TARGET in r.content.decode()
    assert not LibraryGrant.objects.exists()


def test_delete_asks_naming_the_documents_then_deletes(acme: Acme, lib: Library) -> None:
    add(acme.alan, lib, "one.txt", b"1")
    add(acme.alan, lib, "two.txt", b"2")
    c = client_of(acme.alan)
    r = c.get(url("library_delete", lib.pk), **HTMX)
    body = r.content.decode()
    assert r.status_code == 200 and '<dialog class="confirm-dialog' in body
    assert "Its 2 documents and their stored files." in body
    assert c.post(url("library_delete", lib.pk)).status_code == 200  # unconfirmed: asks again
    assert Library.objects.exists()
    r = c.post(url("library_delete", lib.pk), {"confirmed": "1"}, **HTMX)
    assert r["HX-Redirect"] == url("libraries")
    assert not Library.objects.exists() and not Document.objects.exists()


def test_removing_a_document_through_the_page(acme: Acme, lib: Library) -> None:
    doc = add(acme.alan, lib)
    c = client_of(acme.alan)
    r = c.get(url("library_document_remove", lib.pk, doc.pk), **HTMX)
    assert f'hx-target="#doc-{doc.pk}"' in r.content.decode()
    r = c.post(url("library_document_remove", lib.pk, doc.pk), {"confirmed": "1"}, **HTMX)
    assert (
        r.status_code == 200
        and r.content == b""
        and toast(r) == "report.pdf removed from Handbooks."
    )
    assert not Document.objects.exists()


def test_edit_through_the_page(acme: Acme, lib: Library) -> None:
    c = client_of(acme.alan)
    r = c.post(url("library_update", lib.pk), {"name": "Guides", "description": "All"}, **HTMX)
    assert r.status_code == 200 and toast(r) == "Library Guides saved."
    assert r.content.decode().lstrip().startswith('<div id="library-header"')
    lib.refresh_from_db()
    assert (lib.name, lib.description) == ("Guides", "All")
    r = c.post(url("library_update", lib.pk), {"name": ""}, **HTMX)
    assert r.status_code == 200 and libraries.NAME_EMPTY in r.content.decode()


# --- Downloads -----------------------------------------------------------------------------


def test_a_download_is_an_attachment_of_a_safe_type(acme: Acme, lib: Library) -> None:
    body = GOOD_FILES["page.html"]
    doc = add(acme.alan, lib, "page.html", body)
    share(acme.alan, lib, member_target(acme.mary))
    r = client_of(acme.mary).get(url("library_document_download", lib.pk, doc.pk))
    assert r.status_code == 200 and b"".join(r.streaming_content) == body
    assert r["Content-Disposition"] == 'attachment; filename="page.html"'
    assert r["Content-Type"] == "text/plain; charset=utf-8"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in r["Content-Security-Policy"]
    assert "no-store" in r["Cache-Control"]


def test_a_download_keeps_a_title_beyond_ascii(acme: Acme, lib: Library) -> None:
    doc = add(acme.alan, lib, 'Résumé "final".txt', b"x")
    r = client_of(acme.alan).get(url("library_document_download", lib.pk, doc.pk))
    assert r["Content-Disposition"] == (
        "attachment; filename*=utf-8''R%C3%A9sum%C3%A9%20%22final%22.txt"
    )


def test_a_download_follows_the_decision(acme: Acme, lib: Library) -> None:
    doc = add(acme.alan, lib)
    path = url("library_document_download", lib.pk, doc.pk)
    assert client_of(acme.alan).get(path).status_code == 200
    # Outside every grant; an admin, who manages but is not shared with.
    assert client_of(acme.mary).get(path).status_code == 404
    assert client_of(acme.admin).get(path).status_code == 404
    share(acme.alan, lib, EVERYONE)
    assert client_of(acme.mary).get(path).status_code == 200
    # The feature denied by an admin's rule.
    FeatureRuleFactory(workspace=acme.workspace, membership=acme.mary, feature="libraries")
    assert client_of(acme.mary).get(path).status_code == 404
    # Under another library's id.
    other = libraries.library_create(
        actor=as_actor(acme.alan), workspace=acme.workspace, name="Other"
    )
    assert (
        client_of(acme.alan).get(url("library_document_download", other.pk, doc.pk)).status_code
        == 404
    )


def test_a_download_whose_file_is_gone_is_a_404(acme: Acme, lib: Library) -> None:
    doc = add(acme.alan, lib)
    default_storage.delete(doc.file.name)
    r = client_of(acme.alan).get(url("library_document_download", lib.pk, doc.pk))
    assert r.status_code == 404


# --- Query counts --------------------------------------------------------------------------


def _count_queries(client: Client, path: str) -> int:
    client.get(path)  # session bookkeeping happens once, on the first request
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def _fill_libraries(acme: Acme, research: Group, n: int) -> None:
    for _ in range(n):
        library = Library.objects.create(
            workspace=acme.workspace,
            name=f"Lib {Library.objects.count()}",
            created_by=acme.admin.user,
        )
        share(acme.admin, library, group_target(research))
        add(acme.admin, library, "x.txt", b"x")


@pytest.mark.parametrize("who", ["admin", "grace"])
def test_the_list_query_count_does_not_grow(acme: Acme, research: Group, who: str) -> None:
    c = client_of(getattr(acme, who))
    _fill_libraries(acme, research, 3)
    small = _count_queries(c, url("libraries"))
    _fill_libraries(acme, research, 12)
    assert _count_queries(c, url("libraries")) == small


def test_the_library_page_query_count_does_not_grow(acme: Acme, lib: Library, research) -> None:
    share(acme.alan, lib, group_target(research))
    share(acme.alan, lib, member_target(acme.mary))
    c = client_of(acme.alan)
    for i in range(3):
        add(acme.alan, lib, f"{i}.txt", b"x")
    small = _count_queries(c, url("library", lib.pk))
    for i in range(12):
        add(acme.alan, lib, f"more{i}.txt", b"x")
        research.members.add(MembershipFactory(workspace=acme.workspace))
        share(acme.alan, lib, member_target(MembershipFactory(workspace=acme.workspace)))
    assert _count_queries(c, url("library", lib.pk)) == small


# --- Races (PostgreSQL) --------------------------------------------------------------------


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_libraries_created_at_once_with_one_name_make_one(acme: Acme) -> None:
    people = [acme.admin, acme.alan, acme.grace, acme.mary, acme.guest]
    out = run_concurrently(
        lambda i: libraries.library_create(
            actor=as_actor(people[i % len(people)]),
            workspace=acme.workspace,
            name=["Specs", "SPECS"][i % 2],
        ),
        20,
    )
    assert out.unexpected(DomainError) == {}
    assert len(out.results) == 1
    assert {e.message for e in out.errors.values() if isinstance(e, DomainError)} == {
        libraries.NAME_TAKEN
    }
    assert Library.objects.count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_an_upload_racing_an_unshare_never_keeps_the_wider_set(acme: Acme) -> None:
    library = libraries.library_create(
        actor=as_actor(acme.alan), workspace=acme.workspace, name="Race"
    )
    grant = share(acme.alan, library, EVERYONE)

    def act(i: int) -> object:
        if i == 0:
            return libraries.library_unshare(
                actor=as_actor(acme.alan), library_id=library.pk, grant_id=grant.pk
            )
        return add(acme.alan, library, f"d{i}.txt", b"x")

    out = run_concurrently(act, 5)
    assert out.errors == {}
    expected = libraries.principal_ids(library)
    assert len(expected) == 1  # the creator alone
    assert {tuple(d.principals) for d in library.documents.all()} == {tuple(expected)}
    assert not any(sees(acme.mary, d) for d in library.documents.all())
