"""The isolation sweep (R-SEC-1): every URL under /w/<slug>/ is found by walking the URL
resolver, so a page added tomorrow is covered without anyone listing it here.

For each workspace URL, filled with the ids of real objects of the workspace "acme":
- a member of another workspace gets 404 for GET and POST, and changes nothing; the same
  user gets 404 too when they put acme's object ids under their own workspace's address;
- a signed-out visitor is sent to the sign-in page and changes nothing;
- a member of acme gets no 404 on GET, which proves the URL filled in is a real one.

Path parameters other than the slug are filled from ``KWARG_VALUES`` (by parameter name) or
``PATTERN_KWARG_VALUES`` (by pattern name and parameter, for generic names like ``pk``). A
parameter found in neither fails the sweep with the pattern's name: map it to an object of
the workspace, never skip it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import (
    AuditEvent,
    Domain,
    Group,
    Invitation,
    JoinRequest,
    Membership,
    TermsAcceptance,
    User,
    Workspace,
)
from accounts.roles import Role
from agents.models import Agent, AgentGrant, AgentVersion, GrantRole, Visibility
from billing.models import Plan, Subscription
from compliance.models import Appeal, EditorialAuthorization, MediaStatusChange, NewsViolation
from connectors.models import Connection, Document, Library, LibraryGrant, Principal, SyncRun
from features.models import FeatureOptOut, FeatureRule
from tests.factories import (
    AgentFactory,
    AgentVersionFactory,
    DomainFactory,
    GroupFactory,
    InvitationFactory,
    MembershipFactory,
    SubscriptionFactory,
    UserFactory,
    WorkspaceFactory,
)

WORKSPACE_PREFIX = "w/<slug:slug>/"

# The sweep must at least find these; if it finds fewer, it is testing nothing.
KNOWN_NAMES = {
    "ws:overview",
    "ws:members",
    "ws:invitations",
    "ws:groups",
    "ws:domains",
    "ws:audit",
    "ws:settings",
    "ws:roles",
    "ws:plan",
    "ws:plans",
    "ws:plan_change",
    "ws:compliance",
    "ws:editorial_request",
    "ws:appeal",
    "ws:features",
    "ws:feature_rule",
    "ws:feature_why",
    "ws:my_features",
    "ws:my_feature_switch",
    "ws:connectors",
    "ws:connector_google_connect",
    "ws:connector_microsoft_connect",
    "ws:connection",
    "ws:connection_sync",
    "ws:connection_pause",
    "ws:connection_settings",
    "ws:connection_disconnect",
    "ws:connector_documents",
    "ws:connector_document",
    "ws:connector_why",
    "ws:member_documents",
    "ws:my_documents",
    "ws:agents",
    "ws:agent_new",
    "ws:agent",
    "ws:agent_edit",
    "ws:agent_restore",
    "ws:agent_visibility",
    "ws:agent_share",
    "ws:agent_unshare",
    "ws:agent_delete",
}

# Fields a careless view could act on: a POST carries them all, so a view that forgets its
# scoping has something to change, and the "nothing changed" check has teeth.
HOSTILE_POST = {
    "email": "intruder@evil.test",
    "emails": "intruder@evil.test",
    "name": "Taken over",
    "role": str(Role.OWNER.value),
    "default_role": str(Role.ADMIN.value),
    "join_mode": "auto",
    "domain": "evil.test",
    "action": "approve",
    "confirm": "on",
    "is_media_customer": "yes",
    "reason": "Taken over",
    "requested_scope": "Everyone",
    "statement": "Lift it",
    "feature": "web_search",
    "effect": "deny",
    "target": "workspace",
    "on": "0",
    # Connections: settings that would widen access, a sync, a pause, a confirmed disconnect.
    "sync_interval": "15",
    "staleness_limit": "720",
    "link_shares": "workspace",
    "hidden_domain_shares": "domain",
    "full": "1",
    "paused": "1",
    "confirmed": "1",
}


# --- The world the URLs are filled from -----------------------------------------------------


@dataclass
class World:
    """One object of each kind in acme (the workspace under test) and a foreign owner."""

    workspace: Workspace
    owner: Membership
    member: Membership
    group: Group
    invitation: Invitation
    domain: Domain
    join_request: JoinRequest
    audit_event: AuditEvent
    outsider: Membership
    extras: dict[str, Any] = field(default_factory=dict)


Filler = Callable[[World], object]

# Parameter name -> the id (or value) of an object of acme. Names that always mean the same
# kind of object across the console belong here.
KWARG_VALUES: dict[str, Filler] = {
    "member_id": lambda w: w.member.pk,
    "membership_id": lambda w: w.member.pk,
    "group_id": lambda w: w.group.pk,
    "invitation_id": lambda w: w.invitation.pk,
    "domain_id": lambda w: w.domain.pk,
    "join_request_id": lambda w: w.join_request.pk,
    "request_id": lambda w: w.join_request.pk,
    "event_id": lambda w: w.audit_event.pk,
    "user_id": lambda w: w.member.user_id,
    "connection_id": lambda w: w.extras["connection"].pk,
    "document_id": lambda w: w.extras["document"].pk,
    "library_id": lambda w: w.extras["library"].pk,
    "grant_id": lambda w: w.extras["library_grant"].pk,
    "agent_id": lambda w: w.extras["agent"].pk,
}

# (pattern name, parameter name) -> value, for generic parameter names (pk, id) whose
# meaning depends on the page.
PATTERN_KWARG_VALUES: dict[tuple[str, str], Filler] = {
    ("ws:domain_check", "pk"): lambda w: w.domain.pk,
    ("ws:domain_remove", "pk"): lambda w: w.domain.pk,
    ("ws:invitation_resend", "pk"): lambda w: w.invitation.pk,
    ("ws:invitation_revoke", "pk"): lambda w: w.invitation.pk,
    ("ws:join_request_approve", "pk"): lambda w: w.join_request.pk,
    ("ws:join_request_decline", "pk"): lambda w: w.join_request.pk,
    # Plans are the platform's catalogue, shared by every workspace (loaded by migrations).
    ("ws:plan_change", "plan_slug"): lambda w: "team",
    # Features are the registry's keys, the same in every workspace.
    ("ws:feature_why", "feature"): lambda w: "web_search",
    # A library's pages name documents of that library.
    ("ws:library_document_download", "document_id"): lambda w: w.extras["library_document"].pk,
    ("ws:library_document_remove", "document_id"): lambda w: w.extras["library_document"].pk,
    # An agent's pages name its grants and its versions (by number, within the agent).
    ("ws:agent_unshare", "grant_id"): lambda w: w.extras["agent_grant"].pk,
    ("ws:agent_restore", "version"): lambda w: 1,
}

# (pattern name, parameter name) of parameters that name the platform's catalogue (plans),
# not an object of the workspace: every workspace may use the same value, so the "foreign
# object ids" test does not apply to them. Every other check of the sweep still does.
CATALOGUE_PARAMS: set[tuple[str, str]] = {("ws:plan_change", "plan_slug")}


# --- Discovery ----------------------------------------------------------------------------

CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class WorkspaceRoute:
    name: str  # namespaced, e.g. "ws:members"; "<unnamed route>" when the pattern has no name
    route: str  # the full route, e.g. "w/<slug:slug>/members/<int:member_id>/role/"

    @property
    def params(self) -> list[str]:
        return [m["name"] for m in CONVERTER.finditer(self.route) if m["name"] != "slug"]

    def unmapped(self) -> list[str]:
        return [
            p
            for p in self.params
            if (self.name, p) not in PATTERN_KWARG_VALUES and p not in KWARG_VALUES
        ]

    def url(self, slug: str, world: World) -> str:
        missing = self.unmapped()
        if missing:
            pytest.fail(
                f"Isolation sweep: pattern {self.name!r} ({self.route}) has path parameter(s) "
                f"{missing} with no mapping; add them to KWARG_VALUES or PATTERN_KWARG_VALUES in "
                f"tests/test_isolation.py so the sweep can fill them with an object of the workspace."
            )

        def fill(m: re.Match[str]) -> str:
            name = m["name"]
            if name == "slug":
                return slug
            filler = PATTERN_KWARG_VALUES.get((self.name, name)) or KWARG_VALUES[name]
            return str(filler(world))

        return "/" + CONVERTER.sub(fill, self.route)


def _walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, route, ns)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}{p.name}" if p.name else "<unnamed route>", route)


def discover_workspace_routes() -> list[WorkspaceRoute]:
    found = {
        WorkspaceRoute(name, route)
        for name, route in _walk(get_resolver().url_patterns, "", "")
        if route.startswith(WORKSPACE_PREFIX)
    }
    return sorted(found, key=lambda r: (r.name, r.route))


ROUTES = discover_workspace_routes()
ROUTE_PARAMS = [pytest.param(r, id=f"{r.name}[{r.route}]") for r in ROUTES]
ROUTES_WITH_IDS = [
    pytest.param(r, id=f"{r.name}[{r.route}]")
    for r in ROUTES
    if any((r.name, p) not in CATALOGUE_PARAMS for p in r.params)
]


# --- Fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # The sweep signs users in by session; hashing their passwords slowly buys nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db: None, settings: Any, tmp_path: Any) -> World:
    # Uploaded files (a library's document) are stored in a folder of the test's own.
    settings.MEDIA_ROOT = str(tmp_path)
    ws = WorkspaceFactory(name="Acme", slug="acme")
    # A plan with every workspace feature, so that pages gated by one (a library's
    # downloads) answer the workspace's owner.
    SubscriptionFactory(workspace=ws, plan=Plan.objects.get(slug="team"))
    owner = MembershipFactory(
        workspace=ws, role=Role.OWNER, user=UserFactory(email="owner@acme.test")
    )
    member = MembershipFactory(
        workspace=ws, role=Role.MEMBER, user=UserFactory(email="member@acme.test")
    )
    group = GroupFactory(workspace=ws, name="Research")
    group.members.add(member)
    invitation = InvitationFactory(workspace=ws, email="invitee@acme.test", invited_by=owner.user)
    domain = DomainFactory(workspace=ws, name="acme.test")
    join_request = JoinRequest.objects.create(
        workspace=ws, user=UserFactory(email="hopeful@acme.test"), domain=domain
    )
    audit_event = AuditEvent.objects.create(
        workspace=ws,
        workspace_name=ws.name,
        actor=owner.user,
        actor_email=owner.user.email,
        action="workspace.created",
    )
    other = WorkspaceFactory(name="Globex", slug="globex")
    outsider = MembershipFactory(
        workspace=other, role=Role.OWNER, user=UserFactory(email="owner@globex.test")
    )
    connection = Connection.objects.create(
        workspace=ws, provider="google_drive", account="drive@acme.test", display_name="Drive"
    )
    library = Library.objects.create(workspace=ws, name="Handbooks", created_by=owner.user)
    everyone = Principal.objects.create(workspace=ws, kind="everyone", key="")
    library_grant = LibraryGrant.objects.create(library=library, principal=everyone)
    library_document = Document(
        workspace=ws,
        library=library,
        source_id="u1",
        title="Handbook.txt",
        mime_type="text/plain",
        modified_at=timezone.now(),
        principals=[everyone.pk],
    )
    library_document.file.save("u1.txt", ContentFile(b"Welcome"), save=False)
    library_document.save()
    document = Document.objects.create(
        workspace=ws,
        connection=connection,
        source_id="f1",
        title="Plan",
        modified_at=timezone.now(),
    )
    # An agent restricted to the group, with a second version so that restoring the first
    # would change something.
    agent = AgentFactory(workspace=ws, created_by=owner, visibility=Visibility.RESTRICTED)
    second = AgentVersionFactory(agent=agent, number=2, base_model=agent.current.base_model)
    agent.current = second
    agent.save(update_fields=["current"])
    agent_grant = AgentGrant.objects.create(agent=agent, group=group, role=GrantRole.VIEWER)
    return World(
        ws,
        owner,
        member,
        group,
        invitation,
        domain,
        join_request,
        audit_event,
        outsider,
        extras={
            "connection": connection,
            "document": document,
            "library": library,
            "library_grant": library_grant,
            "library_document": library_document,
            "agent": agent,
            "agent_grant": agent_grant,
        },
    )


# Every model whose rows a workspace page could change; "nothing changed" compares them all.
SNAPSHOT_MODELS: list[type[models.Model]] = [
    User,
    Workspace,
    Membership,
    Group,
    Invitation,
    Domain,
    JoinRequest,
    AuditEvent,
    TermsAcceptance,
    Plan,
    Subscription,
    MediaStatusChange,
    EditorialAuthorization,
    NewsViolation,
    Appeal,
    FeatureRule,
    FeatureOptOut,
    Connection,
    Document,
    Library,
    LibraryGrant,
    Principal,
    SyncRun,
    Agent,
    AgentVersion,
    AgentGrant,
]


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for model in SNAPSHOT_MODELS:
        names = [f.attname for f in model._meta.concrete_fields if f.attname != "last_login"]
        rows[model._meta.label] = list(model.objects.order_by("pk").values_list(*names))
    rows["group_members"] = sorted(
        Group.members.through.objects.values_list("group_id", "membership_id")
    )
    return rows


def client_for(user: User | None) -> Client:
    client = Client(enforce_csrf_checks=False)
    if user is not None:
        client.force_login(user)
        # A password sign-in a moment ago, as allauth records it: pages behind
        # reauthentication must show their real answer, not the reauthentication prompt.
        session = client.session
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [
            {"method": "password", "at": time.time(), "email": user.email, "reauthenticated": True}
        ]
        session["account_authentication_methods_user"] = str(user.pk)
        session.save()
    return client


def request(client: Client, method: str, url: str) -> Any:
    if method == "GET":
        return client.get(url)
    return client.post(url, HOSTILE_POST)


def method_served(route_url: str, method: str, insider: Client) -> bool:
    """Whether the view serves the method at all (for the workspace's own owner)."""
    return request(insider, method, route_url).status_code != 405


# --- The sweep ----------------------------------------------------------------------------


def test_sweep_finds_the_known_pages() -> None:
    names = {r.name for r in ROUTES}
    missing = KNOWN_NAMES - names
    assert not missing, f"The isolation sweep did not find {sorted(missing)}; found {sorted(names)}"


def test_every_path_parameter_is_mapped() -> None:
    unmapped = {f"{r.name} ({r.route})": r.unmapped() for r in ROUTES if r.unmapped()}
    assert not unmapped, (
        "Workspace URL parameters without a mapping in tests/test_isolation.py "
        f"(KWARG_VALUES or PATTERN_KWARG_VALUES): {unmapped}"
    )


@pytest.mark.parametrize("route", ROUTE_PARAMS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_member_of_another_workspace_gets_404(
    world: World, route: WorkspaceRoute, method: str
) -> None:
    url = route.url("acme", world)
    outsider = client_for(world.outsider.user)
    before = snapshot()

    response = request(outsider, method, url)

    if response.status_code == 405:
        # require_http_methods answers before the workspace is resolved; that tells a
        # stranger nothing, as long as the workspace's own owner gets 405 as well.
        assert not method_served(url, method, client_for(world.owner.user)), (
            f"{route.name}: {method} {url} answered 405 to an outsider but is served to members"
        )
    else:
        assert response.status_code == 404, (
            f"{route.name}: {method} {url} -> {response.status_code}"
        )
    assert snapshot() == before, f"{route.name}: {method} {url} by an outsider changed data"


@pytest.mark.parametrize("route", ROUTES_WITH_IDS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_foreign_object_ids_under_own_workspace_get_404(
    world: World, route: WorkspaceRoute, method: str
) -> None:
    """An owner of globex puts acme's object ids under /w/globex/: the objects must not be
    found, because every lookup is scoped to the request's workspace."""
    url = route.url("globex", world)
    outsider = client_for(world.outsider.user)
    before = snapshot()

    response = request(outsider, method, url)

    if response.status_code == 405:
        assert not method_served(route.url("acme", world), method, client_for(world.owner.user)), (
            f"{route.name}: {method} {url} answered 405 but the method is served"
        )
    else:
        assert response.status_code == 404, (
            f"{route.name}: {method} {url} -> {response.status_code}"
        )
    assert snapshot() == before, f"{route.name}: {method} {url} with foreign ids changed data"


@pytest.mark.parametrize("route", ROUTE_PARAMS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_signed_out_visitor_is_sent_to_sign_in(
    world: World, route: WorkspaceRoute, method: str
) -> None:
    url = route.url("acme", world)
    before = snapshot()

    response = request(client_for(None), method, url)

    login_path = resolve_url(settings.LOGIN_URL)
    if response.status_code == 405:
        assert not method_served(url, method, client_for(world.owner.user)), (
            f"{route.name}: {method} {url} answered 405 to a visitor but is served to members"
        )
    else:
        assert response.status_code == 302, (
            f"{route.name}: {method} {url} -> {response.status_code}"
        )
        target = urlsplit(response["Location"])
        assert target.path == login_path, f"{route.name}: redirected to {response['Location']}"
        assert "next=" in target.query
    assert snapshot() == before, (
        f"{route.name}: {method} {url} by a signed-out visitor changed data"
    )


@pytest.mark.parametrize("route", ROUTE_PARAMS)
def test_member_of_the_workspace_reaches_the_url(world: World, route: WorkspaceRoute) -> None:
    """The URL the sweep built is real: the workspace's owner does not get 404 for it."""
    url = route.url("acme", world)

    response = client_for(world.owner.user).get(url)

    assert response.status_code != 404, f"{route.name}: GET {url} -> 404 for the workspace's owner"
    assert response.status_code < 500
