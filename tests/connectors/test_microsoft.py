"""SharePoint and OneDrive through Microsoft Graph: the provider against the local
identity platform and Graph (``connectors.local.microsoft``), through the real sync
(``connectors.sync.run``) and the access decision (``connectors.access``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from django.core import mail

from accounts.actor import Actor
from accounts.models import Membership, Workspace
from accounts.roles import Role
from connectors import access, credentials, services, sync
from connectors.access import Code
from connectors.local.microsoft import (
    LocalMicrosoft,
    link_permission,
    settings_for,
    site_group_permission,
    user_permission,
)
from connectors.models import (
    Connection,
    ConnectionStatus,
    Document,
    LinkShares,
    RunKind,
    RunStatus,
)
from connectors.providers import microsoft
from connectors.providers.base import AuthRevoked, SourceError, SourceGrant
from tests.factories import MembershipFactory, PlanFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

DOMAIN = "contoso.test"
PEOPLE = ("alice", "bob", "carol", "dave", "erin")


@pytest.fixture
def ms(settings, waits: list[float]) -> Iterator[LocalMicrosoft]:
    """The local tenant, two items a page so that every listing takes several; the
    ``waits`` fixture records the client's waits instead of sleeping."""
    with LocalMicrosoft(domain=DOMAIN, page_size=2) as server:
        for key, value in settings_for(server.url).items():
            setattr(settings, key, value)
        yield server


@dataclass
class Tenant:
    """The source: a site library, two OneDrives, two nested Entra groups."""

    ms: LocalMicrosoft
    library: str
    specs: str
    spec: str
    budget: str
    handbook: str
    public: str
    people: str
    board: str
    notes: str
    users: dict[str, str]
    engineering: str
    platform: str


@pytest.fixture
def tenant(ms: LocalMicrosoft) -> Tenant:
    users = {
        "alice": ms.add_user(f"alice@{DOMAIN}"),
        "bob": ms.add_user(f"bob@{DOMAIN}"),
        "carol": ms.add_user(f"carol@{DOMAIN}", onedrive=False),
        "dave": ms.add_user(f"dave@{DOMAIN}", onedrive=False),
        "erin": ms.add_user(f"erin@{DOMAIN}", onedrive=False),
    }
    engineering = ms.add_group("Engineering", mail=f"eng@{DOMAIN}", members=[users["alice"]])
    platform = ms.add_group("Platform", members=[users["carol"]])
    ms.nest(engineering, platform)
    ms.nest(platform, engineering)  # a cycle, as Entra allows
    site = ms.add_site("Engineering")
    library = ms.add_library(site, "Documents")
    specs = ms.add_folder(library, "Specs", permissions=[ms.group_permission(engineering)])
    spec = ms.add_file(library, "spec.docx", specs, by=f"alice@{DOMAIN}")
    alice_drive = ms.users[users["alice"]].drive
    assert alice_drive is not None
    return Tenant(
        ms=ms,
        library=library,
        specs=specs,
        spec=spec,
        budget=ms.add_file(
            library, "budget.xlsx", permissions=[user_permission(f"Bob@{DOMAIN}", "write")]
        ),
        handbook=ms.add_file(
            library, "handbook.pdf", permissions=[link_permission("organization")]
        ),
        public=ms.add_file(library, "public.pdf", permissions=[link_permission("anonymous")]),
        people=ms.add_file(
            library, "people.docx", permissions=[link_permission("users", [f"carol@{DOMAIN}"])]
        ),
        board=ms.add_file(
            library,
            "board.pptx",
            permissions=[
                site_group_permission("Engineering Members"),
                user_permission(f"dave@{DOMAIN}"),
            ],
        ),
        notes=ms.add_file(alice_drive, "notes.txt", by=f"alice@{DOMAIN}"),
        users=users,
        engineering=engineering,
        platform=platform,
    )


@pytest.fixture
def workspace_on_team() -> Workspace:
    """A workspace whose plan has connectors, and its owner."""
    owner = MembershipFactory(user=UserFactory(email=f"owner@{DOMAIN}"), role=Role.OWNER)
    SubscriptionFactory(workspace=owner.workspace, plan=PlanFactory(slug="team"))
    return owner.workspace


@pytest.fixture
def members(workspace_on_team: Workspace) -> dict[str, Membership]:
    return {
        name: MembershipFactory(
            workspace=workspace_on_team, user=UserFactory(email=f"{name}@{DOMAIN}")
        )
        for name in PEOPLE
    }


@pytest.fixture
def conn(tenant: Tenant, workspace_on_team: Workspace) -> Connection:
    data, account, name = microsoft.connect(tenant=tenant.ms.tenant_id)
    return Connection.objects.create(
        workspace=workspace_on_team,
        provider="microsoft",
        account=account,
        display_name=name,
        credentials=credentials.seal(data),
    )


def seen(membership: Membership) -> set[str]:
    viewer = access.load_viewer(membership)
    return set(access.visible_documents(viewer).values_list("title", flat=True))


def everyone_sees(members: dict[str, Membership]) -> dict[str, set[str]]:
    return {name: seen(m) for name, m in members.items()}


def doc(tenant: Tenant, item_id: str) -> Document:
    drive = tenant.ms.items[item_id].drive
    return Document.objects.get(source_id=f"{drive}:{item_id}")


def run_ok(conn: Connection, **kwargs: object) -> sync.Outcome:
    outcome = sync.run(conn.pk, **kwargs)  # type: ignore[arg-type]
    assert outcome.run is not None
    assert outcome.message == "Synced.", outcome.run.error_log
    assert outcome.run.status == RunStatus.SUCCEEDED
    return outcome


ONEDRIVE_ALICE = f"OneDrive of alice@{DOMAIN}"
ONEDRIVE_BOB = f"OneDrive of bob@{DOMAIN}"
FIRST_SYNC = {
    "alice": {"Specs", "spec.docx", ONEDRIVE_ALICE, "notes.txt"},
    "bob": {"budget.xlsx", ONEDRIVE_BOB},
    # Through Platform, nested in Engineering; and the people link.
    "carol": {"Specs", "spec.docx", "people.docx"},
    # The SharePoint group reaches nobody; the person named beside it does.
    "dave": {"board.pptx"},
    "erin": set(),
}


# Connecting -------------------------------------------------------------------------


def test_the_admin_consent_url_is_microsofts(ms: LocalMicrosoft) -> None:
    url = microsoft.admin_consent_url(state="st-1", redirect_uri="http://testserver/cb")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        f"{ms.url}/organizations/v2.0/adminconsent"
    )
    assert dict(parse_qsl(parts.query)) == {
        "client_id": ms.client_id,
        "scope": "https://graph.microsoft.com/.default",
        "redirect_uri": "http://testserver/cb",
        "state": "st-1",
    }


def consent_callback(ms: LocalMicrosoft) -> dict[str, str]:
    url = microsoft.admin_consent_url(state="st-1", redirect_uri="http://testserver/cb?x=1")
    answer = httpx.get(url)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert location.netloc == "testserver"
    return dict(parse_qsl(location.query))


def test_a_granted_consent_names_the_tenant(ms: LocalMicrosoft) -> None:
    params = consent_callback(ms)
    assert microsoft.consent_error(params) is None
    assert (params["tenant"], params["state"]) == (ms.tenant_id, "st-1")


def test_a_refused_consent_is_told_to_the_admin_without_trace_ids(ms: LocalMicrosoft) -> None:
    ms.refuse_consent()
    params = consent_callback(ms)
    message = microsoft.consent_error(params)
    assert params["error"] == "access_denied"
    assert message is not None
    assert message.startswith(microsoft.CONSENT_REFUSED)
    assert "AADSTS65004: User declined to consent to access the app." in message
    assert "Trace ID" not in message and "Correlation" not in message


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tenant": "x", "admin_consent": "False"}, microsoft.CONSENT_UNCONFIRMED),
        ({"tenant": "common", "admin_consent": "True"}, microsoft.INVALID_TENANT),
        ({"error": "access_denied"}, microsoft.CONSENT_REFUSED),
    ],
)
def test_a_callback_that_confirms_nothing_connects_nothing(
    params: dict[str, str], expected: str
) -> None:
    assert microsoft.consent_error(params) == expected


def test_connecting_gets_an_app_token_and_the_tenants_name(ms: LocalMicrosoft) -> None:
    data, account, name = microsoft.connect(tenant=ms.tenant_id.upper())
    assert (account, name) == (ms.tenant_id, "Contoso")
    assert data["tenant"] == ms.tenant_id
    assert data["access_token"] and data["expires_at"]
    # By one of its domains, the account is still the tenant id.
    assert microsoft.connect(tenant=DOMAIN)[1] == ms.tenant_id


@pytest.mark.parametrize(
    "tenant",
    [
        "",
        "common",
        "organizations",
        "contoso",
        "../common",
        "contoso.test/../common",
        "contoso .test",
        "a" * 250 + ".test",
        "8d3a1c2e-0000-4000-8000-00000000000",
    ],
)
def test_a_tenant_must_be_a_guid_or_a_domain(tenant: str) -> None:
    with pytest.raises(SourceError, match="not a Microsoft tenant"):
        microsoft.tenant_id(tenant)


def test_a_refused_app_connects_nothing(ms: LocalMicrosoft, settings) -> None:
    ms.refuse_tokens()
    with pytest.raises(AuthRevoked, match="grant consent again"):
        microsoft.connect(tenant=ms.tenant_id)
    ms.accept_tokens()
    settings.MICROSOFT_CLIENT_SECRET = "not-the-secret"  # answered 401
    with pytest.raises(AuthRevoked, match="grant consent again"):
        microsoft.connect(tenant=ms.tenant_id)


# Full sync --------------------------------------------------------------------------


def test_a_full_sync_maps_people_entra_groups_and_links(
    tenant: Tenant, conn: Connection, members: dict[str, Membership]
) -> None:
    outcome = run_ok(conn)
    assert outcome.run is not None and outcome.run.kind == RunKind.FULL
    assert everyone_sees(members) == FIRST_SYNC
    # Groups are expanded by Graph (transitiveMembers), cycle and all.
    assert outcome.run.groups_seen == 2
    carol = access.load_viewer(members["carol"])
    decision = access.decide_document(carol, doc(tenant, tenant.spec))
    assert decision.allowed and "Engineering" in decision.reason
    # One note for the SharePoint group, which nothing expands.
    assert any("Engineering Members" in e["message"] for e in outcome.run.error_log)
    # The cursor holds one delta link per drive: the library and two OneDrives.
    conn.refresh_from_db()
    assert set(json.loads(conn.cursor)) == {
        tenant.library,
        tenant.ms.users[tenant.users["alice"]].drive,
        tenant.ms.users[tenant.users["bob"]].drive,
    }
    spec = doc(tenant, tenant.spec)
    assert (spec.kind, spec.path, spec.owner_email) == ("file", "/Specs", f"alice@{DOMAIN}")
    assert spec.parent_source_id == f"{tenant.library}:{tenant.specs}"
    assert doc(tenant, tenant.specs).kind == "folder"
    assert doc(tenant, tenant.budget).path == "/"
    budget_acl = doc(tenant, tenant.budget).acl
    assert budget_acl is not None
    assert [(e["kind"], e["value"], e["role"]) for e in budget_acl] == [
        ("user", f"bob@{DOMAIN}", "writer")
    ]


def test_links_reach_the_workspace_only_when_the_connection_says_so(
    tenant: Tenant, conn: Connection, members: dict[str, Membership]
) -> None:
    run_ok(conn)
    handbook_acl = doc(tenant, tenant.handbook).acl
    assert handbook_acl is not None
    assert [(e["kind"], e["principal"]) for e in handbook_acl] == [("anyone", None)]
    assert seen(members["erin"]) == set()
    Connection.objects.filter(pk=conn.pk).update(link_shares=LinkShares.WORKSPACE)
    run_ok(conn, full=True)
    # Organization and anonymous links both; the people link still names only carol.
    assert seen(members["erin"]) == {"handbook.pdf", "public.pdf"}


# Incremental sync -------------------------------------------------------------------


def test_a_permission_removed_at_the_source_removes_access(
    tenant: Tenant, conn: Connection, members: dict[str, Membership]
) -> None:
    """R-CON-4, for an item's own permission and for a folder's, which delta reports
    without what inherits from it."""
    ms = tenant.ms
    run_ok(conn)
    ms.set_permissions(tenant.budget, [])
    ms.set_permissions(tenant.specs, [user_permission(f"erin@{DOMAIN}")])
    mark = len(ms.requests)
    outcome = run_ok(conn)
    assert outcome.run is not None and outcome.run.kind == RunKind.INCREMENTAL
    assert everyone_sees(members) == {
        "alice": {ONEDRIVE_ALICE, "notes.txt"},
        "bob": {ONEDRIVE_BOB},
        "carol": {"people.docx"},
        "dave": {"board.pptx"},
        "erin": {"Specs", "spec.docx"},
    }
    below = [urlsplit(p).path for _, p in ms.requests[mark:] if "/children" in p]
    assert below == [f"/v1.0/drives/{tenant.library}/items/{tenant.specs}/children"]


def test_the_librarys_own_permissions_reach_everything_that_inherits_them(
    tenant: Tenant, conn: Connection, members: dict[str, Membership]
) -> None:
    ms = tenant.ms
    run_ok(conn)
    ms.set_permissions(ms.root(tenant.library), [user_permission(f"erin@{DOMAIN}")])
    run_ok(conn)
    library = {"Engineering: Documents", "Specs", "spec.docx", "budget.xlsx", "handbook.pdf",
               "public.pdf", "people.docx", "board.pptx"}  # fmt: skip
    assert seen(members["erin"]) == library
    ms.set_permissions(ms.root(tenant.library), [])
    run_ok(conn)
    assert seen(members["erin"]) == set()


def test_a_run_stopped_while_reading_below_a_folder_reads_it_again(
    tenant: Tenant, conn: Connection, members: dict[str, Membership], settings
) -> None:
    ms = tenant.ms
    run_ok(conn)
    ms.set_permissions(tenant.specs, [user_permission(f"erin@{DOMAIN}")])
    settings.CONNECTORS_HTTP_RETRIES = 1
    ms.drop(times=2, path="/children")
    stopped = sync.run(conn.pk)
    assert stopped.run is not None and stopped.run.status == RunStatus.INTERRUPTED
    # Neither the folder nor what it holds changed: no wider than before, and the
    # difference is still there for the next run to find.
    assert seen(members["alice"]) == FIRST_SYNC["alice"]
    assert seen(members["erin"]) == set()
    run_ok(conn)
    assert seen(members["alice"]) == {ONEDRIVE_ALICE, "notes.txt"}
    assert seen(members["erin"]) == {"Specs", "spec.docx"}


def test_an_unchanged_folder_is_not_read_again_below(
    tenant: Tenant, conn: Connection, members: dict[str, Membership]
) -> None:
    run_ok(conn)
    tenant.ms.modify(tenant.spec, name="spec-v2.docx")
    mark = len(tenant.ms.requests)
    run_ok(conn)
    assert not [p for _, p in tenant.ms.requests[mark:] if "/children" in p]
    assert "spec-v2.docx" in seen(members["alice"])


def test_a_member_removed_from_an_entra_group_loses_what_it_reaches(
    tenant: Tenant, conn: Connection, members: dict[str, Membership]
) -> None:
    run_ok(conn)
    tenant.ms.remove_members(tenant.platform, tenant.users["carol"])
    run_ok(conn)
    assert seen(members["carol"]) == {"people.docx"}
    assert seen(members["alice"]) == FIRST_SYNC["alice"]


def test_deleted_and_new_items_follow_the_source(
    tenant: Tenant, conn: Connection, members: dict[str, Membership]
) -> None:
    ms = tenant.ms
    run_ok(conn)
    ms.delete(tenant.specs)  # the folder and what it holds
    ms.add_file(tenant.library, "roadmap.md", permissions=[user_permission(f"alice@{DOMAIN}")])
    outcome = run_ok(conn)
    assert outcome.run is not None and outcome.run.kind == RunKind.INCREMENTAL
    assert outcome.run.removed == 2
    assert seen(members["alice"]) == {ONEDRIVE_ALICE, "notes.txt", "roadmap.md"}
    assert not Document.objects.filter(title__in=["Specs", "spec.docx"]).exists()


def test_a_410_enumerates_everything_again_and_drops_what_is_gone(
    tenant: Tenant, conn: Connection, members: dict[str, Membership]
) -> None:
    run_ok(conn)
    tenant.ms.resync_next_delta()
    tenant.ms.delete(tenant.handbook)
    tenant.ms.set_permissions(tenant.budget, [])
    outcome = run_ok(conn)
    assert outcome.run is not None and outcome.run.kind == RunKind.FULL
    assert any("no longer knew the cursor" in e["message"] for e in outcome.run.error_log)
    assert outcome.run.removed == 1
    assert not Document.objects.filter(title="handbook.pdf").exists()
    assert seen(members["bob"]) == {ONEDRIVE_BOB}
    assert run_ok(conn).run.kind == RunKind.INCREMENTAL  # type: ignore[union-attr]


def test_a_drive_that_disappears_is_dropped_by_a_full_listing(
    tenant: Tenant, conn: Connection, members: dict[str, Membership]
) -> None:
    run_ok(conn)
    tenant.ms.remove_onedrive(tenant.users["alice"])
    outcome = run_ok(conn)
    assert outcome.run is not None and outcome.run.kind == RunKind.FULL
    assert seen(members["alice"]) == {"Specs", "spec.docx"}


def test_a_cursor_pointing_outside_graph_is_not_followed(tenant: Tenant, conn: Connection) -> None:
    run_ok(conn)
    cursor = json.loads(Connection.objects.get(pk=conn.pk).cursor)
    cursor[tenant.library] = "https://attacker.test/v1.0/drives/x/root/delta?token=1"
    Connection.objects.filter(pk=conn.pk).update(cursor=json.dumps(cursor))
    outcome = run_ok(conn)
    assert outcome.run is not None and outcome.run.kind == RunKind.FULL


# Faults -----------------------------------------------------------------------------


def test_throttling_waits_as_long_as_graph_asks(
    tenant: Tenant, conn: Connection, members: dict[str, Membership], waits: list[float]
) -> None:
    tenant.ms.throttle(7, path="/root/delta")
    tenant.ms.throttle(3, status=503, path="/permissions")
    tenant.ms.fail(times=2, status=500, path="/transitiveMembers")
    run_ok(conn)
    assert 7.0 in waits and 3.0 in waits
    assert len(waits) == 4
    assert everyone_sees(members) == FIRST_SYNC


def test_a_stalled_answer_is_asked_again(
    tenant: Tenant, conn: Connection, members: dict[str, Membership], settings
) -> None:
    settings.CONNECTORS_HTTP_TIMEOUT = 1
    tenant.ms.stall(1.5, path="/v1.0/groups?")
    run_ok(conn)
    assert len([p for _, p in tenant.ms.requests if p.startswith("/v1.0/groups?")]) == 2
    assert everyone_sees(members) == FIRST_SYNC


def test_a_malformed_permission_gives_the_item_no_grants(
    tenant: Tenant, conn: Connection, members: dict[str, Membership]
) -> None:
    tenant.ms.malform_permission(tenant.budget)
    outcome = run_ok(conn)
    budget = doc(tenant, tenant.budget)
    assert (budget.acl, budget.principals) == (None, [])
    assert seen(members["bob"]) == {ONEDRIVE_BOB}
    decision = access.decide_document(access.load_viewer(members["bob"]), budget)
    assert decision.code == Code.UNREADABLE
    assert outcome.run is not None
    assert any(
        "budget.xlsx could not be read (a person without an email)" in e["message"]
        for e in outcome.run.error_log
    )


def test_a_dropped_connection_narrows_only_and_the_next_run_resumes(
    tenant: Tenant,
    conn: Connection,
    members: dict[str, Membership],
    settings,
) -> None:
    ms = tenant.ms
    run_ok(conn)
    before = everyone_sees(members)
    # Changes that take two delta pages: the first narrows, the second widens.
    ms.set_permissions(tenant.budget, [])
    ms.set_permissions(tenant.handbook, [user_permission(f"erin@{DOMAIN}")])
    ms.set_permissions(tenant.public, [user_permission(f"erin@{DOMAIN}")])
    settings.CONNECTORS_HTTP_RETRIES = 1
    ms.drop(times=2, path="/root/delta?token=n.")

    stopped = sync.run(conn.pk)
    assert stopped.run is not None and stopped.run.status == RunStatus.INTERRUPTED
    assert "could not be reached" in stopped.message
    now = everyone_sees(members)
    assert all(now[name] <= before[name] for name in PEOPLE)
    assert now["bob"] == {ONEDRIVE_BOB}  # the first page applied: narrowing at once
    checkpoint = json.loads(stopped.run.checkpoint)
    assert checkpoint["drive"] == tenant.library and "token=n." in checkpoint["next"]

    mark = len(ms.requests)
    resumed = run_ok(conn)
    assert resumed.run is not None and resumed.run.pk == stopped.run.pk
    assert (resumed.run.kind, resumed.run.attempts) == (RunKind.INCREMENTAL, 2)
    deltas = [p for _, p in ms.requests[mark:] if "/root/delta" in p]
    assert deltas[0] == urlsplit(checkpoint["next"]).path + "?" + urlsplit(checkpoint["next"]).query
    assert seen(members["erin"]) == {"handbook.pdf", "public.pdf"}
    assert seen(members["bob"]) == {ONEDRIVE_BOB}


def test_an_expired_token_is_renewed_by_client_credentials(
    tenant: Tenant, conn: Connection
) -> None:
    run_ok(conn)
    old = credentials.load(Connection.objects.get(pk=conn.pk))["access_token"]
    tenant.ms.expire_tokens()
    run_ok(conn)
    new = credentials.load(Connection.objects.get(pk=conn.pk))
    assert new["access_token"] != old and new["tenant"] == tenant.ms.tenant_id


def test_a_withdrawn_consent_asks_an_admin_to_reconnect(
    tenant: Tenant, conn: Connection, django_capture_on_commit_callbacks
) -> None:
    run_ok(conn)
    tenant.ms.refuse_tokens()  # AADSTS7000229: the app is gone from the tenant
    tenant.ms.expire_tokens()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = sync.run(conn.pk)
    conn.refresh_from_db()
    assert (conn.status, conn.last_error) == (
        ConnectionStatus.NEEDS_REAUTH,
        microsoft.TOKEN_REFUSED,
    )
    assert outcome.run is not None and outcome.run.status == RunStatus.INTERRUPTED
    sent = [m for m in mail.outbox if "Contoso" in m.subject or "Contoso" in m.body]
    assert sent and {f"owner@{DOMAIN}"} <= {a for m in sent for a in m.to}
    # Nothing syncs until an admin reconnects; consenting again brings it back.
    assert sync.run(conn.pk).run is None
    tenant.ms.accept_tokens()
    secrets, account, name = microsoft.connect(tenant=tenant.ms.tenant_id)
    owner = Membership.objects.get(workspace=conn.workspace, role=Role.OWNER)
    again = services.connection_open(
        actor=Actor.member(owner),
        workspace=conn.workspace,
        provider="microsoft",
        account=account,
        display_name=name,
        secrets=secrets,
    )
    assert (again.pk, again.status) == (conn.pk, ConnectionStatus.CONNECTED)
    run_ok(conn)


def test_graph_refusing_the_apps_permissions_asks_an_admin_to_reconnect(
    tenant: Tenant, conn: Connection
) -> None:
    tenant.ms.fail(times=1, status=403, path="/sites/getAllSites")
    sync.run(conn.pk)
    conn.refresh_from_db()
    assert (conn.status, conn.last_error) == (
        ConnectionStatus.NEEDS_REAUTH,
        microsoft.GRAPH_REFUSED,
    )


# Reading permissions ----------------------------------------------------------------


def person(**ident: object) -> dict[str, object]:
    return {"roles": ["read"], "grantedToV2": ident}


@pytest.mark.parametrize(
    ("permission", "grant"),
    [
        (person(siteUser={"loginName": "i:0#.f|membership|Ann@Contoso.test"}),
         SourceGrant("user", "ann@contoso.test")),
        (person(group={"id": "ABC-1", "displayName": "Eng"}, siteUser={"loginName": "c:0o.c|x"}),
         SourceGrant("group", "abc-1", label="Eng")),
        (person(siteUser={"displayName": "Everyone except external users",
                          "loginName": "c:0-.f|rolemanager|spo-grid-all-users/t"}),
         SourceGrant("anyone", discoverable=False, label="Everyone except external users")),
        ({"roles": ["write"], "invitation": {"email": "guest@example.test"}},
         SourceGrant("user", "guest@example.test", "writer")),
        ({"roles": ["owner"], "link": {"scope": "users"},
          "grantedToIdentitiesV2": [{"user": {"email": "a@contoso.test"}}]},
         SourceGrant("user", "a@contoso.test", "owner")),
    ],
)  # fmt: skip
def test_permissions_read_as_grants(permission: dict[str, object], grant: SourceGrant) -> None:
    assert microsoft.grants_of([permission]).grants == [grant]


def test_links_that_grant_nothing_more_and_apps_are_nobody() -> None:
    read = microsoft.grants_of(
        [
            {"roles": ["read"], "link": {"scope": "existingAccess"}},
            person(application={"id": "app", "displayName": "Backup"}),
            person(siteGroup={"displayName": "Owners"}),
        ]
    )
    assert (read.grants, read.site_groups) == ([], {"Owners"})


@pytest.mark.parametrize(
    "permission",
    [
        "read",
        None,
        person(user={"id": "1", "displayName": "No Email"}),
        person(group={"displayName": "No id"}),
        person(somethingElse={"id": "1"}),
        person(user="alice@contoso.test"),
        {"roles": ["read"]},
        {"roles": ["read"], "link": {"scope": "tenantAndPartners"}},
        {"roles": ["read"], "link": "anonymous"},
        {"roles": ["read"], "link": {"scope": "users"}, "grantedToIdentitiesV2": {"user": {}}},
    ],
)
def test_a_permission_the_console_cannot_read_fails_the_whole_item(permission: object) -> None:
    good = user_permission(f"bob@{DOMAIN}")
    with pytest.raises(ValueError):
        microsoft.grants_of([good, permission])
