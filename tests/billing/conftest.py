"""Fixtures of the plan tests: the catalogue loaded by the migrations (free, api-payg, pro,
team, enterprise), a billing member and helpers to put a workspace on a plan."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.actor import Actor
from accounts.models import Membership, Workspace
from accounts.roles import Role
from billing import services
from billing.models import Plan, Subscription
from tests.conftest import login
from tests.factories import MembershipFactory, UserFactory


def plan(slug: str) -> Plan:
    return Plan.objects.get(slug=slug)


def subscribe(workspace: Workspace, slug: str) -> Subscription:
    """Put ``workspace`` on the plan ``slug`` from the start (no change recorded)."""
    return services.subscription_start(actor=Actor.system(), workspace=workspace, plan=plan(slug))


def add_members(workspace: Workspace, n: int) -> list[Membership]:
    return [MembershipFactory(workspace=workspace, role=Role.MEMBER) for _ in range(n)]


@pytest.fixture
def billing_member(workspace: Workspace) -> Membership:
    return MembershipFactory(
        workspace=workspace, role=Role.BILLING, user=UserFactory(email="billing@acme.test")
    )


@pytest.fixture
def billing_client(client: Client, billing_member: Membership, owner: Membership) -> Client:
    return login(client, billing_member.user)
