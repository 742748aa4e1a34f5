"""Fixtures of the compliance tests: platform staff, a Media Customer workspace and a group."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from accounts.actor import Actor
from accounts.models import Group, Membership, User, Workspace
from compliance import services
from compliance.models import MediaSource
from tests.factories import GroupFactory

STAFF_PASSWORD = "pw-staff-long-enough-1"
USED_AT = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_superuser("staff@console.test", STAFF_PASSWORD)


@pytest.fixture
def staff_client(staff: User) -> Client:
    # Its own client, so a test can act as staff and as a workspace member side by side.
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def media(workspace: Workspace, owner: Membership) -> Workspace:
    """acme, declared a Media Customer by its owner."""
    services.media_status_set(
        actor=Actor.member(owner),
        workspace=workspace,
        is_media_customer=True,
        source=MediaSource.SELF,
        note="Declared at creation",
    )
    return workspace


@pytest.fixture
def desk(workspace: Workspace, member: Membership) -> Group:
    """A group of acme with ``member`` in it."""
    group = GroupFactory(workspace=workspace, name="Fact-checking desk")
    group.members.add(member)
    return group
