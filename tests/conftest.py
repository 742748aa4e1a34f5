from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.dns import StaticResolver
from accounts.models import Membership, User, Workspace
from accounts.roles import Role
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings) -> None:
    # Production hashing is deliberately slow; tests hash thousands of passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    # Rate-limit counters live in the cache; DNS records in the static resolver.
    cache.clear()
    StaticResolver.records = {}
    yield
    StaticResolver.records = {}


@pytest.fixture(autouse=True)
def _plan_catalogue(request: pytest.FixtureRequest) -> None:
    """The plans and the base models that data migrations load, for every test that uses
    the database. A transactional test (the browser and worker tests) empties the database
    when it ends, the catalogues with it, and under xdist a test of another file may run
    next."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        return
    from django.apps import apps  # noqa: PLC0415

    from billing.models import Plan  # noqa: PLC0415
    from catalogue.models import BaseModel  # noqa: PLC0415

    if not Plan.objects.exists():
        import_module("billing.migrations.0002_catalogue").load(apps, None)
    if not BaseModel.objects.exists():
        import_module("catalogue.migrations.0002_models").load(apps, None)


@pytest.fixture
def workspace(db: None) -> Workspace:
    return WorkspaceFactory(name="Acme", slug="acme")


@pytest.fixture
def owner(workspace: Workspace) -> Membership:
    return MembershipFactory(
        workspace=workspace, role=Role.OWNER, user=UserFactory(email="owner@acme.test")
    )


@pytest.fixture
def admin_member(workspace: Workspace) -> Membership:
    return MembershipFactory(
        workspace=workspace, role=Role.ADMIN, user=UserFactory(email="admin@acme.test")
    )


@pytest.fixture
def member(workspace: Workspace) -> Membership:
    return MembershipFactory(
        workspace=workspace, role=Role.MEMBER, user=UserFactory(email="member@acme.test")
    )


@pytest.fixture
def other_workspace_member(db: None) -> Membership:
    """An owner of another workspace: must see 404 everywhere in ``workspace``."""
    other = WorkspaceFactory(name="Globex", slug="globex")
    return MembershipFactory(
        workspace=other, role=Role.OWNER, user=UserFactory(email="owner@globex.test")
    )


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(client: Client, owner: Membership) -> Client:
    return login(client, owner.user)


@pytest.fixture
def admin_client_ws(client: Client, admin_member: Membership, owner: Membership) -> Client:
    return login(client, admin_member.user)


@pytest.fixture
def member_client(client: Client, member: Membership, owner: Membership) -> Client:
    return login(client, member.user)


HTMX = {"HTTP_HX_REQUEST": "true"}

STAFF_EMAIL = "staff@console.test"
STAFF_PASSWORD = "pw-staff-long-enough-1"


@pytest.fixture
def staff(db: None) -> User:
    """Platform staff, with every permission of the admin; also the recipient of the emails
    sent to staff."""
    return User.objects.create_superuser(STAFF_EMAIL, STAFF_PASSWORD)


@pytest.fixture
def staff_client(staff: User) -> Client:
    # Its own client, so a test can act as staff and as a workspace member side by side.
    client = Client()
    client.force_login(staff)
    return client
