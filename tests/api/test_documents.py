"""The documents of the service API (R-CON-6): the retrieval filter
(POST .../members/<member>/documents/visible), a member's documents a page at a time
(GET .../members/<member>/documents) and one document's decision with its reason
(GET .../documents/<id>/access?member=). All three answer from connectors.access, so they
agree with each other and with the console's pages; the data comes through the real sync,
from a source given here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, MemberStatus, Workspace
from accounts.roles import Role
from api import errors, forms, pagination
from billing.models import Plan
from connectors import access
from connectors.models import Connection, ConnectionStatus, Document, Library
from connectors.providers.base import SourceDocument, SourceGroup
from core import parsing, registry
from features.models import Effect
from tests.api.conftest import (
    FakeSource,
    access_url,
    anyone,
    documents_url,
    domain,
    filter_ids,
    group,
    library_shared_with_everyone,
    resync,
    source_doc,
    synced_connection,
    user,
)
from tests.factories import (
    FeatureRuleFactory,
    MembershipFactory,
    SubscriptionFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def _groups() -> list[SourceGroup]:
    return [
        SourceGroup(
            "eng@acme.example",
            "eng@acme.example",
            member_emails=("alan@acme.example",),
            member_groups=("platform@acme.example",),
        ),
        SourceGroup(
            "platform@acme.example", "platform@acme.example", member_emails=("grace@acme.example",)
        ),
        SourceGroup(
            "sales@acme.example", "sales@acme.example", member_emails=("mary@acme.example",)
        ),
    ]


def _documents(extra: int = 0) -> list[SourceDocument]:
    docs = [
        source_doc("f-arch", "Architecture", NOW - timedelta(hours=1), [group("eng@acme.example")]),
        source_doc(
            "f-oncall", "On-call", NOW - timedelta(hours=2), [group("platform@acme.example")]
        ),
        source_doc(
            "f-pipeline", "Pipeline", NOW - timedelta(hours=3), [group("sales@acme.example")]
        ),
        source_doc(
            "f-memo", "Memo", NOW - timedelta(hours=4), [user("mary@acme.example", "owner")]
        ),
        source_doc("f-handbook", "Handbook", NOW - timedelta(hours=5), [domain("acme.example")]),
        source_doc("f-press", "Press kit", NOW - timedelta(hours=6), [anyone()]),
        # Its permissions could not be read: nobody sees it.
        source_doc("f-locked", "Locked", NOW - timedelta(hours=7), None),
    ]
    # More of the same shares, for the query counts and the pages.
    for i in range(extra):
        docs.append(
            source_doc(
                f"f-extra-{i}",
                f"Report {i:03}",
                NOW - timedelta(days=1, minutes=i // 3),  # three at a time share a time
                [domain("acme.example"), group(f"team-{i % 10}@acme.example")],
            )
        )
    return docs


def _source(extra: int = 0, extra_groups: int = 0) -> FakeSource:
    teams = [
        SourceGroup(f"team-{i}@acme.example", f"Team {i}", member_emails=("alan@acme.example",))
        for i in range(extra_groups)
    ]
    return FakeSource(_documents(extra), [*_groups(), *teams], page_size=20)


@dataclass
class Acme:
    workspace: Workspace
    alan: Membership
    grace: Membership
    mary: Membership
    guest: Membership
    drive: Connection
    library: Library
    foreign_id: int

    def doc(self, title: str) -> Document:
        return Document.objects.get(workspace=self.workspace, title=title)

    def ids(self, *titles: str) -> list[int]:
        return [self.doc(t).pk for t in titles]


@pytest.fixture
def acme(workspace: Workspace) -> Acme:
    """Acme on the Team plan (connectors and libraries), its Drive synced through the real
    sync, a library shared with the whole workspace, and Globex with a document shared with
    one of Acme's people."""
    SubscriptionFactory(workspace=workspace, plan=Plan.objects.get(slug="team"))

    def member(email: str) -> Membership:
        return MembershipFactory(
            workspace=workspace, role=Role.MEMBER, user=UserFactory(email=email)
        )

    alan = member("alan@acme.example")
    grace = member("grace@acme.example")
    mary = member("mary@acme.example")
    guest = member("guest@elsewhere.example")
    drive = synced_connection(workspace, _source())

    library = library_shared_with_everyone(
        workspace,
        title="Leave policy",
        mime_type="application/pdf",
        modified_at=NOW - timedelta(minutes=30),
    )

    globex = WorkspaceFactory(name="Globex", slug="globex")
    SubscriptionFactory(workspace=globex, plan=Plan.objects.get(slug="team"))
    MembershipFactory(workspace=globex, user=UserFactory(email="owner@globex.example"))
    secrets = source_doc("g-1", "Globex secrets", NOW, [user("alan@acme.example")])
    foreign = synced_connection(globex, FakeSource([secrets]), account="drive@globex.example")
    foreign_id = Document.objects.get(connection=foreign).pk
    return Acme(workspace, alan, grace, mary, guest, drive, library, foreign_id)


# What each member may see, newest first.
EXPECTED = {
    "alan": ["Leave policy", "Architecture", "Handbook"],
    # Nested: platform is a member of eng.
    "grace": ["Leave policy", "Architecture", "On-call", "Handbook"],
    "mary": ["Leave policy", "Pipeline", "Memo", "Handbook"],
    # Another domain's member: only the library shared with the whole workspace.
    "guest": ["Leave policy"],
}
EVERY_TITLE = [
    "Leave policy",
    "Architecture",
    "On-call",
    "Pipeline",
    "Memo",
    "Handbook",
    "Press kit",
    "Locked",
]


def visible(api: Client, m: Membership, ids: list[int]) -> list[int]:
    response = filter_ids(api, "acme", m.user_id, {"document_ids": ids})
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()["visible"]


def listed(api: Client, m: Membership, **params: object) -> dict[str, Any]:
    response = api.get(documents_url("acme", m.user.email, **params))
    assert response.status_code == 200, response.content
    return response.json()


def decision(api: Client, doc_id: int, m: Membership) -> dict[str, Any]:
    response = api.get(access_url("acme", doc_id, m.user.email))
    assert response.status_code == 200, response.content
    return response.json()


def assert_error(response: Any, status: int, code: str, message: str | None = None) -> Any:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    if message is not None:
        assert error["message"] == message
    return error


# --- The retrieval filter -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_filter_answers_exactly_the_visible_subset(api, acme, name: str) -> None:
    m = getattr(acme, name)
    candidates = [*acme.ids(*EVERY_TITLE), acme.foreign_id, 987_654_321]
    assert sorted(visible(api, m, candidates)) == sorted(acme.ids(*EXPECTED[name]))


def test_a_foreign_workspaces_document_is_not_visible_even_to_whom_it_is_shared(api, acme) -> None:
    assert visible(api, acme.alan, [acme.foreign_id]) == []
    # ...while in its own workspace it is shared with him: the id was a real one.
    assert Document.objects.get(pk=acme.foreign_id).principals


def test_the_filter_keeps_the_order_given_each_id_once(api, acme) -> None:
    hb, arch, memo = acme.ids("Handbook", "Architecture", "Memo")
    answer = visible(api, acme.alan, [hb, memo, arch, hb, 987_654_321, arch])
    assert answer == [hb, arch]
    assert visible(api, acme.alan, []) == []


def test_a_thousand_ids_are_one_call(api, acme) -> None:
    hb = acme.doc("Handbook").pk
    ids = [hb, *range(10**12, 10**12 + forms.VISIBLE_IDS_MAX - 1)]
    assert visible(api, acme.alan, ids) == [hb]


def test_the_member_is_named_by_user_id_or_email(api, acme) -> None:
    ids = acme.ids(*EVERY_TITLE)
    by_id = filter_ids(api, "acme", acme.grace.user_id, {"document_ids": ids}).json()
    by_email = filter_ids(api, "acme", "Grace@ACME.example", {"document_ids": ids}).json()
    assert by_id == by_email
    assert sorted(by_id["visible"]) == sorted(acme.ids(*EXPECTED["grace"]))


# --- What hides documents, on every endpoint ----------------------------------------------


def test_a_stale_connection_hides_its_documents(api, acme) -> None:
    Connection.objects.filter(pk=acme.drive.pk).update(
        last_success_at=timezone.now() - acme.drive.staleness_limit - timedelta(minutes=1)
    )
    ids = acme.ids(*EVERY_TITLE)
    assert visible(api, acme.grace, ids) == acme.ids("Leave policy")
    assert [d["title"] for d in listed(api, acme.grace)["documents"]] == ["Leave policy"]
    why = decision(api, acme.doc("Architecture").pk, acme.grace)
    assert why["allowed"] is False
    assert why["code"] == access.Code.STALE == "connection_stale"
    assert why["reason"].startswith("Acme Drive last synced ")
    assert why["reason"].endswith("its documents are hidden until it syncs again.")


def test_a_connection_being_disconnected_hides_its_documents(api, acme) -> None:
    Connection.objects.filter(pk=acme.drive.pk).update(status=ConnectionStatus.DISCONNECTING)
    assert visible(api, acme.grace, acme.ids(*EVERY_TITLE)) == acme.ids("Leave policy")
    why = decision(api, acme.doc("On-call").pk, acme.grace)
    assert (why["allowed"], why["code"]) == (False, "connection_disconnecting")
    assert why["reason"] == "Acme Drive is being disconnected: its documents are hidden."


def test_a_sync_brings_them_back(api, acme) -> None:
    Connection.objects.filter(pk=acme.drive.pk).update(
        last_success_at=timezone.now() - timedelta(days=2)
    )
    assert visible(api, acme.alan, acme.ids("Architecture")) == []
    resync(acme.drive, _source())
    assert visible(api, acme.alan, acme.ids("Architecture")) == acme.ids("Architecture")


def test_an_admin_rule_denying_connectors_hides_the_connections_documents(api, acme) -> None:
    FeatureRuleFactory(
        workspace=acme.workspace,
        membership=acme.grace,
        feature=registry.CONNECTORS,
        effect=Effect.DENY,
    )
    ids = acme.ids(*EVERY_TITLE)
    # Libraries are their own feature, still on: only the connection's documents go.
    assert visible(api, acme.grace, ids) == acme.ids("Leave policy")
    assert [d["title"] for d in listed(api, acme.grace)["documents"]] == ["Leave policy"]
    why = decision(api, acme.doc("On-call").pk, acme.grace)
    assert why == {
        "allowed": False,
        "code": "feature_denied",
        "reason": "Connectors: Turned off for this member by an admin.",
        "steps": [],
    }
    # Others keep theirs.
    assert visible(api, acme.alan, ids) == acme.ids(*EXPECTED["alan"])


def test_a_member_denied_connectors_and_libraries_sees_nothing(api, acme) -> None:
    for feature in (registry.CONNECTORS, registry.LIBRARIES):
        FeatureRuleFactory(
            workspace=acme.workspace, membership=acme.mary, feature=feature, effect=Effect.DENY
        )
    assert visible(api, acme.mary, acme.ids(*EVERY_TITLE)) == []
    assert listed(api, acme.mary) == {"documents": [], "next_cursor": None}
    why = decision(api, acme.doc("Leave policy").pk, acme.mary)
    assert (why["allowed"], why["code"]) == (False, "feature_denied")
    assert why["reason"].startswith("Libraries: ")


def test_a_deactivated_member_is_found_and_sees_nothing(api, acme) -> None:
    # As the feature decisions do: a deactivated member is found, and denied everything.
    acme.alan.status = MemberStatus.DEACTIVATED
    acme.alan.save(update_fields=["status"])
    assert visible(api, acme.alan, acme.ids(*EVERY_TITLE)) == []
    assert listed(api, acme.alan) == {"documents": [], "next_cursor": None}
    why = decision(api, acme.doc("Handbook").pk, acme.alan)
    assert why == {
        "allowed": False,
        "code": "membership_inactive",
        "reason": "alan@acme.example is not an active member.",
        "steps": [],
    }


# --- The access decision ------------------------------------------------------------------


def test_the_access_decision_says_why(api, acme) -> None:
    yes = decision(api, acme.doc("Architecture").pk, acme.grace)
    assert yes["allowed"] is True and yes["code"] == "allowed"
    assert "eng@acme.example" in yes["reason"] and "through platform@acme.example" in yes["reason"]
    assert yes["steps"][0].startswith("Source: Acme Drive (synced ")

    no = decision(api, acme.doc("Architecture").pk, acme.guest)
    assert (no["allowed"], no["code"]) == (False, "not_shared")
    assert no["reason"] == "Shared with 1 group; guest@elsewhere.example is in none."

    locked = decision(api, acme.doc("Locked").pk, acme.alan)
    assert (locked["allowed"], locked["code"]) == (False, "permissions_unreadable")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_three_endpoints_agree_with_the_one_decision(api, acme, name: str) -> None:
    m = getattr(acme, name)
    viewer = access.load_viewer(m)
    ids = acme.ids(*EVERY_TITLE)
    filtered = set(visible(api, m, ids))
    in_list = {d["id"] for d in listed(api, m, limit=100)["documents"]}
    for doc in Document.objects.filter(pk__in=ids):
        expected = access.decide_document(viewer, doc)
        answer = decision(api, doc.pk, m)
        assert answer == {
            "allowed": expected.allowed,
            "code": str(expected.code),
            "reason": expected.reason,
            "steps": list(expected.steps),
        }
        assert (doc.pk in filtered) is expected.allowed is (doc.pk in in_list), doc.title


def test_an_unknown_or_foreign_document_is_404(api, acme) -> None:
    for doc_id in (987_654_321, acme.foreign_id):
        response = api.get(access_url("acme", doc_id, acme.alan.user_id))
        assert_error(
            response,
            404,
            errors.DOCUMENT_NOT_FOUND,
            errors.DOCUMENT_UNKNOWN.format(slug="acme", document_id=doc_id),
        )
    # An id no row can have matches no route.
    response = api.get(access_url("acme", "9" * 30, acme.alan.user_id))
    assert_error(response, 404, errors.NOT_FOUND)


def test_the_access_decision_needs_a_member(api, acme) -> None:
    doc_id = acme.doc("Handbook").pk
    for url in (access_url("acme", doc_id), access_url("acme", doc_id, "")):
        error = assert_error(api.get(url), 400, errors.INVALID_REQUEST, errors.FIELDS_INVALID)
        assert error["fields"] == {"member": forms.MISSING}


# --- The list -----------------------------------------------------------------------------


def test_the_list_is_newest_first_and_compact(api, acme) -> None:
    body = listed(api, acme.grace)
    assert [d["title"] for d in body["documents"]] == EXPECTED["grace"]
    assert body["next_cursor"] is None
    library_doc, arch = body["documents"][0], body["documents"][1]
    assert library_doc == {
        "id": acme.doc("Leave policy").pk,
        "title": "Leave policy",
        "kind": "file",
        "mime_type": "application/pdf",
        "web_url": "",
        "modified_at": (NOW - timedelta(minutes=30)).isoformat().replace("+00:00", "Z"),
        "source": {"type": "library", "id": acme.library.pk, "name": "Policies"},
    }
    assert arch == {
        "id": acme.doc("Architecture").pk,
        "title": "Architecture",
        "kind": "file",
        "mime_type": "application/vnd.google-apps.document",
        "web_url": "https://docs.example/f-arch",
        "modified_at": (NOW - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
        "source": {"type": "connection", "id": acme.drive.pk, "name": "Acme Drive"},
    }


@pytest.mark.parametrize("limit", [1, 4, 7, 100])
def test_the_pages_walk_every_document_exactly_once(api, acme, limit: int) -> None:
    # 40 more, three at a time sharing a modification time: the id breaks the ties.
    resync(acme.drive, _source(extra=40))
    expected = list(
        access.visible_documents(access.load_viewer(acme.alan)).values_list("pk", flat=True)
    )
    assert len(expected) == 43

    seen: list[int] = []
    cursor = ""
    pages = 0
    while True:
        body = listed(api, acme.alan, limit=limit, cursor=cursor)
        assert len(body["documents"]) <= limit
        seen += [d["id"] for d in body["documents"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
        assert pages < 100
    assert seen == expected
    assert pages == -(-len(expected) // limit)


def test_the_default_page_is_25(api, acme) -> None:
    resync(acme.drive, _source(extra=40))
    first = listed(api, acme.alan)
    assert len(first["documents"]) == forms.LIMIT_DEFAULT
    second = listed(api, acme.alan, cursor=first["next_cursor"])
    assert len(second["documents"]) == 43 - forms.LIMIT_DEFAULT
    assert second["next_cursor"] is None


def test_the_title_search(api, acme) -> None:
    resync(acme.drive, _source(extra=12))

    def titles(**params: object) -> list[str]:
        return [d["title"] for d in listed(api, acme.alan, **params)["documents"]]

    assert titles(q="ARCH") == ["Architecture"]
    assert titles(q="  handbook ") == ["Handbook"]
    # Only what the member may see: Memo is Mary's.
    assert titles(q="memo") == []
    # LIKE's wildcards are literal characters.
    assert titles(q="%") == [] and titles(q="_") == []
    # The search pages like the list.
    found: list[str] = []
    cursor = ""
    while True:
        body = listed(api, acme.alan, q="report 00", limit=4, cursor=cursor)
        found += [d["title"] for d in body["documents"]]
        if not (cursor := body["next_cursor"]):
            break
    assert sorted(found) == [f"Report {i:03}" for i in range(10)]


# --- Bad input: the JSON envelope, never a 500 --------------------------------------------

ID_ITEM = forms.DOCUMENT_ID_INVALID


@pytest.mark.parametrize(
    ("body", "code", "message", "field"),
    [
        ("", errors.MALFORMED_JSON, None, None),
        ("{", errors.MALFORMED_JSON, None, None),
        ("\x00", errors.MALFORMED_JSON, None, None),
        (b"\x00\x00", errors.MALFORMED_JSON, None, None),
        ('{"document_ids": [1, NaN]}', errors.MALFORMED_JSON, None, None),
        ("[]", errors.INVALID_REQUEST, errors.BODY_NOT_OBJECT, None),
        ("[1, 2]", errors.INVALID_REQUEST, errors.BODY_NOT_OBJECT, None),
        ('"1"', errors.INVALID_REQUEST, errors.BODY_NOT_OBJECT, None),
        ({}, errors.INVALID_REQUEST, errors.FIELDS_INVALID, forms.MISSING),
        ({"ids": [1]}, errors.INVALID_REQUEST, errors.FIELDS_INVALID, forms.MISSING),
        ({"document_ids": "1,2"}, errors.INVALID_REQUEST, None, forms.DOCUMENT_IDS_NOT_A_LIST),
        ({"document_ids": 1}, errors.INVALID_REQUEST, None, forms.DOCUMENT_IDS_NOT_A_LIST),
        ({"document_ids": None}, errors.INVALID_REQUEST, None, forms.DOCUMENT_IDS_NOT_A_LIST),
        ({"document_ids": {"1": 1}}, errors.INVALID_REQUEST, None, forms.DOCUMENT_IDS_NOT_A_LIST),
        ({"document_ids": [1, "2"]}, errors.INVALID_REQUEST, None, ID_ITEM.format(index=1)),
        ({"document_ids": [1.0]}, errors.INVALID_REQUEST, None, ID_ITEM.format(index=0)),
        ({"document_ids": [True]}, errors.INVALID_REQUEST, None, ID_ITEM.format(index=0)),
        ({"document_ids": [None]}, errors.INVALID_REQUEST, None, ID_ITEM.format(index=0)),
        ({"document_ids": [[1]]}, errors.INVALID_REQUEST, None, ID_ITEM.format(index=0)),
        ({"document_ids": [3, 0]}, errors.INVALID_REQUEST, None, ID_ITEM.format(index=1)),
        ({"document_ids": [-7]}, errors.INVALID_REQUEST, None, ID_ITEM.format(index=0)),
        (
            {"document_ids": list(range(1, forms.VISIBLE_IDS_MAX + 2))},
            errors.INVALID_REQUEST,
            None,
            forms.DOCUMENT_IDS_TOO_MANY.format(count=forms.VISIBLE_IDS_MAX + 1),
        ),
        (
            '{"document_ids": [9223372036854775808]}',
            errors.INVALID_REQUEST,
            parsing.JSON_NUMBER_OUT_OF_RANGE,
            None,
        ),
        (
            '{"document_ids": [-9223372036854775809]}',
            errors.INVALID_REQUEST,
            parsing.JSON_NUMBER_OUT_OF_RANGE,
            None,
        ),
        (
            '{"document_ids": [' + "9" * 5000 + "]}",
            errors.INVALID_REQUEST,
            parsing.JSON_NUMBER_OUT_OF_RANGE,
            None,
        ),
        (
            '{"document_ids": [1], "note": "a\\u0000b"}',
            errors.INVALID_REQUEST,
            parsing.JSON_TEXT_NOT_STORABLE,
            None,
        ),
        (
            '{"document_ids": ["\\u0000"]}',
            errors.INVALID_REQUEST,
            parsing.JSON_TEXT_NOT_STORABLE,
            None,
        ),
    ],
)
def test_a_bad_filter_body_is_a_400(
    api, acme, body: Any, code: str, message: str | None, field: str | None
) -> None:
    response = filter_ids(api, "acme", acme.alan.user_id, body)
    error = assert_error(response, 400, code, message)
    if field is not None:
        assert error["message"] == errors.FIELDS_INVALID
        assert error["fields"] == {"document_ids": field}
    if code == errors.MALFORMED_JSON:
        assert error["message"].startswith(("The body is not valid JSON", "NaN is not"))


def test_the_largest_id_a_row_can_have_is_accepted(api, acme) -> None:
    assert visible(api, acme.alan, [parsing.DB_ID_MAX]) == []


def _tampered_cursors(good: str) -> dict[str, str]:
    payload, signature = good.rsplit(":", 1)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    other_salt = signing.Signer(salt="another.use").sign_object([0, 1])
    # A well-formed position, signed without the API's salt.
    unsalted = signing.Signer().sign_object([0, 1])
    forged = signing.Signer(salt="x").sign_object(["a", "b"]).split(":")[0] + ":" + signature
    return {
        "flipped_signature": f"{payload}:{flipped}",
        "payload_only": payload,
        "other_payload": forged,
        "truncated": good[:-3],
        "other_salt": other_salt,
        "unsalted": unsalted,
        "garbage": "not-a-cursor",
        "colon": ":",
        "too_long": good + "A" * pagination.MAX_LENGTH,
        "nul": good + "\x00",
        "unicode": good + "é",
        "old_style": "1732530000000000.42",
    }


def test_a_tampered_cursor_is_a_400(api, acme) -> None:
    resync(acme.drive, _source(extra=6))
    good = listed(api, acme.alan, limit=2)["next_cursor"]
    assert good and listed(api, acme.alan, limit=2, cursor=good)["documents"]
    for name, cursor in _tampered_cursors(good).items():
        response = api.get(documents_url("acme", acme.alan.user_id, cursor=cursor))
        error = assert_error(response, 400, errors.INVALID_REQUEST, errors.FIELDS_INVALID)
        assert error["fields"] == {"cursor": forms.CURSOR_INVALID}, name


def test_a_cursor_signed_right_but_holding_nonsense_is_refused() -> None:
    signer = signing.Signer(salt=pagination.SALT)
    for value in ([1], [1, 2, 3], ["1", 2], [1, 0], [1, 2**63], [True, 1], [10**20, 1], {"a": 1}):
        with pytest.raises(pagination.CursorInvalid):
            pagination.Cursor.decode(signer.sign_object(value))
    assert pagination.Cursor.decode(signer.sign_object([0, 5])).id == 5


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": "0"}, "limit", forms.LIMIT_INVALID),
        ({"limit": "101"}, "limit", forms.LIMIT_INVALID),
        ({"limit": "-1"}, "limit", forms.LIMIT_INVALID),
        ({"limit": "1.5"}, "limit", forms.LIMIT_INVALID),
        ({"limit": "ten"}, "limit", forms.LIMIT_INVALID),
        ({"limit": "9" * 5000}, "limit", forms.LIMIT_INVALID),
        ({"limit": "١٢"}, "limit", forms.LIMIT_INVALID),
        ({"q": "x" * (forms.TITLE_QUERY_MAX + 1)}, "q", forms.TITLE_QUERY_TOO_LONG),
        ({"q": "arch\x00"}, "q", forms.TITLE_QUERY_NOT_STORABLE),
    ],
)
def test_bad_list_parameters_are_a_400(api, acme, params: dict[str, str], field, message) -> None:
    response = api.get(documents_url("acme", acme.alan.user_id, **params))
    error = assert_error(response, 400, errors.INVALID_REQUEST, errors.FIELDS_INVALID)
    assert error["fields"] == {field: message}


def test_every_bad_list_parameter_is_named_at_once(api, acme) -> None:
    response = api.get(documents_url("acme", acme.alan.user_id, q="\x00", cursor="x", limit="0"))
    error = assert_error(response, 400, errors.INVALID_REQUEST)
    assert set(error["fields"]) == {"q", "cursor", "limit"}


def test_the_bounds_of_the_list_parameters_are_accepted(api, acme) -> None:
    for params in ({"limit": "1"}, {"limit": "100"}, {"q": "x" * forms.TITLE_QUERY_MAX}):
        assert api.get(documents_url("acme", acme.alan.user_id, **params)).status_code == 200
    # Empty parameters are absent ones.
    assert listed(api, acme.alan, q="", cursor="", limit="") == listed(api, acme.alan)


# --- Who asks, and about whom -------------------------------------------------------------


def _three_calls(client: Client, slug: str, member: object, doc_id: int) -> list[Any]:
    return [
        filter_ids(client, slug, member, {"document_ids": [doc_id]}),
        client.get(documents_url(slug, member)),
        client.get(access_url(slug, doc_id, member)),
    ]


def test_a_missing_or_wrong_token_is_401(acme) -> None:
    doc_id = acme.doc("Handbook").pk
    for response in _three_calls(Client(), "acme", acme.alan.user_id, doc_id):
        assert_error(response, 401, errors.INVALID_TOKEN, errors.TOKEN_MISSING)
        assert response["WWW-Authenticate"] == 'Bearer realm="service-api"'
    wrong = Client(HTTP_AUTHORIZATION="Bearer svc_not-a-real-token")
    for response in _three_calls(wrong, "acme", acme.alan.user_id, doc_id):
        assert_error(response, 401, errors.INVALID_TOKEN, errors.TOKEN_INVALID)


def test_an_unknown_workspace_is_404(api, acme) -> None:
    for response in _three_calls(api, "initech", acme.alan.user_id, acme.doc("Handbook").pk):
        assert_error(
            response,
            404,
            errors.WORKSPACE_NOT_FOUND,
            errors.WORKSPACE_UNKNOWN.format(slug="initech"),
        )


@pytest.mark.parametrize("ref", ["stranger@acme.example", "987654321", "0", "not-an-email"])
def test_an_unknown_member_is_404(api, acme, ref: str) -> None:
    UserFactory(email="stranger@acme.example")  # a user, but no member of acme
    for response in _three_calls(api, "acme", ref, acme.doc("Handbook").pk):
        assert_error(
            response,
            404,
            errors.MEMBER_NOT_FOUND,
            errors.MEMBER_UNKNOWN.format(member=ref, slug="acme"),
        )


def test_a_member_of_another_workspace_is_not_found_here(api, acme) -> None:
    globex_owner = Membership.objects.get(workspace__slug="globex")
    for response in _three_calls(api, "acme", globex_owner.user_id, acme.doc("Handbook").pk):
        assert_error(response, 404, errors.MEMBER_NOT_FOUND)


def test_the_body_is_read_before_the_member_is_looked_up(api, acme) -> None:
    response = filter_ids(api, "acme", "ghost@acme.example", "{")
    assert_error(response, 400, errors.MALFORMED_JSON)


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_the_filter_is_post_only(api, acme, method: str) -> None:
    response = getattr(api, method)(
        f"/api/service/workspaces/acme/members/{acme.alan.user_id}/documents/visible"
    )
    assert_error(response, 405, errors.METHOD_NOT_ALLOWED)
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_list_and_the_decision_are_get_only(api, acme, method: str) -> None:
    doc_id = acme.doc("Handbook").pk
    for url in (documents_url("acme", acme.alan.user_id), access_url("acme", doc_id, "x@y.z")):
        response = getattr(api, method)(url)
        assert_error(response, 405, errors.METHOD_NOT_ALLOWED)
        assert response["Allow"] == "GET"


# --- Queries: the same number for a few documents and groups as for many ------------------

# The membership (1; the token comes from its snapshot), the member's principals and gates as
# connectors.access.load_viewer reads them (verified emails, console groups, principals,
# source groups, connections: 5; the feature decisions: 6), and the answer's one read.
QUERIES = 13


def _grow(acme: Acme, extra: int, groups: int) -> None:
    """More documents shared with Alan's domain and groups, more groups he is in, and more
    members of the workspace."""
    resync(acme.drive, _source(extra=extra, extra_groups=groups))
    for i in range(groups):
        MembershipFactory(
            workspace=acme.workspace, user=UserFactory(email=f"m{extra}-{i}@acme.example")
        )


@pytest.mark.parametrize("by", ["id", "email"])
def test_the_query_counts_do_not_grow_with_the_data(
    api, acme, django_assert_num_queries, by: str
) -> None:
    ref = acme.alan.user_id if by == "id" else acme.alan.user.email
    assert api.get(documents_url("acme", ref)).status_code == 200  # the token's snapshot
    for extra, groups in ((3, 1), (60, 10)):
        _grow(acme, extra, groups)
        ids = list(Document.objects.filter(workspace=acme.workspace).values_list("pk", flat=True))
        doc_id = acme.doc("Handbook").pk
        with django_assert_num_queries(QUERIES):
            response = filter_ids(api, "acme", ref, {"document_ids": ids})
        assert len(response.json()["visible"]) == 3 + extra
        with django_assert_num_queries(QUERIES):
            body = api.get(documents_url("acme", ref)).json()
        assert len(body["documents"]) == min(25, 3 + extra)
        with django_assert_num_queries(QUERIES):
            assert (
                api.get(
                    documents_url("acme", ref, q="report", cursor=body["next_cursor"] or "")
                ).status_code
                == 200
            )
        with django_assert_num_queries(QUERIES):
            assert api.get(access_url("acme", doc_id, ref)).json()["allowed"] is True
