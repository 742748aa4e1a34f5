"""Opening workspaces raced from many threads at once on PostgreSQL: a slug is taken once,
and a workspace never ends with two subscriptions or two Media Customer answers."""

from __future__ import annotations

import pytest

from accounts.actor import Actor
from accounts.errors import SLUG_TAKEN
from accounts.models import AuditEvent, Membership, Workspace
from billing.models import Subscription
from compliance.models import MediaStatusChange
from console.services import workspace_open
from core.errors import DomainError
from tests.concurrency import needs_postgres, run_concurrently
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


def test_twenty_openings_of_one_slug_open_one_workspace() -> None:
    users = [UserFactory(email=f"founder{i}@initech.test") for i in range(20)]
    out = run_concurrently(
        lambda i: workspace_open(
            actor=Actor.for_user(users[i]), name="Initech", slug="initech", is_media_customer=False
        ),
        20,
    )
    assert out.unexpected(DomainError) == {}
    refusals = [e for e in out.errors.values() if isinstance(e, DomainError)]
    assert len(refusals) == 19 and {e.message for e in refusals} == {SLUG_TAKEN}
    ws = Workspace.objects.get(slug="initech")
    assert Membership.objects.filter(workspace=ws).count() == 1
    assert Subscription.objects.filter(workspace=ws).count() == 1
    assert MediaStatusChange.objects.filter(workspace=ws).count() == 1
    assert AuditEvent.objects.filter(action="workspace.created").count() == 1


def test_twenty_renames_at_once_leave_one_name_and_one_event_each_change() -> None:
    owner = UserFactory(email="ceo@initech.test")
    ws = workspace_open(
        actor=Actor.for_user(owner), name="Initech", slug="initech", is_media_customer=False
    )
    from accounts.services import workspace_rename  # noqa: PLC0415

    owner_m = Membership.objects.select_related("user", "workspace").get(workspace=ws)
    out = run_concurrently(
        lambda i: workspace_rename(actor=Actor.member(owner_m), workspace=ws, name="Initrode"), 20
    )
    assert out.unexpected() == {}
    ws.refresh_from_db()
    assert ws.name == "Initrode"
    # One change, however many asked for it at once.
    assert AuditEvent.objects.filter(action="workspace.updated", workspace=ws).count() == 1
