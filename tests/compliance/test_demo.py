"""The compliance demo data: a Media Customer workspace beside acme, made once."""

from __future__ import annotations

import pytest

from accounts.models import Group, Membership
from accounts.roles import Role
from billing.selectors import current_subscription
from compliance import demo
from compliance.models import EditorialAuthorization, MediaStatusChange, RequestStatus
from compliance.selectors import is_media_customer
from tests.factories import UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_seed_makes_daily_ledger_once(django_capture_on_commit_callbacks) -> None:
    acme = WorkspaceFactory(name="Acme Research", slug="acme")
    owner = UserFactory(email="owner@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        ws, desk = demo.seed(owner)
    assert (ws.name, ws.slug) == ("Daily Ledger", "daily-ledger")
    assert is_media_customer(ws) and not is_media_customer(acme)
    assert current_subscription(ws).plan.slug == "team"  # type: ignore[union-attr]
    assert Membership.objects.get(workspace=ws, role=Role.OWNER).user == owner
    assert (desk.workspace, desk.name) == (ws, demo.DESK)
    assert EditorialAuthorization.objects.get(workspace=ws).status == RequestStatus.PENDING

    counts = (
        Membership.objects.count(),
        Group.objects.count(),
        MediaStatusChange.objects.count(),
        EditorialAuthorization.objects.count(),
    )
    assert demo.seed(owner) == (ws, desk)
    assert counts == (
        Membership.objects.count(),
        Group.objects.count(),
        MediaStatusChange.objects.count(),
        EditorialAuthorization.objects.count(),
    )
