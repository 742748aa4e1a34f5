"""The compliance demo data: Daily Ledger declared a Media Customer, with its desk group and
a pending editorial-use request, made once."""

from __future__ import annotations

import pytest

from accounts.actor import Actor
from accounts.models import Group, Membership
from accounts.roles import Role
from compliance import demo
from compliance.models import EditorialAuthorization, MediaStatusChange, RequestStatus
from compliance.selectors import is_media_customer
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_seed_makes_daily_ledgers_compliance_state_once(django_capture_on_commit_callbacks) -> None:
    acme = WorkspaceFactory(name="Acme Research", slug="acme")
    ws = WorkspaceFactory(name="Daily Ledger", slug=demo.SLUG)
    owner = MembershipFactory(
        workspace=ws, role=Role.OWNER, user=UserFactory(email="owner@acme.example")
    )
    with django_capture_on_commit_callbacks(execute=True):
        desk = demo.seed(Actor.member(owner))
    assert is_media_customer(ws) and not is_media_customer(acme)
    assert (desk.workspace, desk.name) == (ws, demo.DESK)
    assert EditorialAuthorization.objects.get(workspace=ws).status == RequestStatus.PENDING

    counts = (
        Membership.objects.count(),
        Group.objects.count(),
        MediaStatusChange.objects.count(),
        EditorialAuthorization.objects.count(),
    )
    assert demo.seed(Actor.member(owner)) == desk
    assert counts == (
        Membership.objects.count(),
        Group.objects.count(),
        MediaStatusChange.objects.count(),
        EditorialAuthorization.objects.count(),
    )
