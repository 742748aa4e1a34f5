"""Fixtures of the compliance tests: a Media Customer workspace and a group."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accounts.actor import Actor
from accounts.models import Group, Membership, Workspace
from compliance import services
from compliance.models import MediaSource
from tests.factories import GroupFactory

USED_AT = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


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
