"""R-WS-8: the audit log is append-only in the database itself, not only in the ORM. On
PostgreSQL a trigger refuses every UPDATE and DELETE of an audit row, whichever way it
is sent; deleting the workspace or the user an event names leaves the event as it was."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse

from accounts.audit import Action, record
from accounts.models import AuditEvent, User, Workspace
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="The database trigger exists on PostgreSQL; SQLite has the ORM guard."
)
TABLE = AuditEvent._meta.db_table


def _event(workspace: Workspace, actor: User | None = None) -> AuditEvent:
    return record(
        actor=actor, workspace=workspace, action=Action.GROUP_CREATED, target_repr="Readers"
    )


def _base_manager_update(pk: int) -> None:
    AuditEvent._base_manager.filter(pk=pk).update(action="forged")


def _plain_queryset_delete(pk: int) -> None:
    QuerySet(AuditEvent).filter(pk=pk).delete()


def _raw_delete(pk: int) -> None:
    AuditEvent._base_manager.filter(pk=pk)._raw_delete(using="default")


def _sql_update(pk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET action = %s WHERE id = %s", ["forged", pk])  # noqa: S608


def _sql_delete(pk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [pk])  # noqa: S608


@postgres_only
@pytest.mark.parametrize(
    "tamper",
    [_base_manager_update, _plain_queryset_delete, _raw_delete, _sql_update, _sql_delete],
    ids=["base-manager-update", "queryset-delete", "raw-delete", "sql-update", "sql-delete"],
)
def test_the_database_refuses_to_change_an_audit_event(
    workspace: Workspace, tamper: Callable[[int], None]
) -> None:
    event = _event(workspace)
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        tamper(event.pk)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.target_repr) == (Action.GROUP_CREATED, "Readers")


@postgres_only
def test_truncate_still_empties_the_log(workspace: Workspace) -> None:
    """The test runner's flush (TRUNCATE) after a transactional test must still work."""
    _event(workspace)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")
    assert not AuditEvent.objects.exists()


def test_deleting_a_workspace_keeps_its_events(workspace: Workspace) -> None:
    event = _event(workspace)
    workspace_id = workspace.pk

    workspace.delete()

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.workspace_id == workspace_id
    assert stored.workspace_name == "Acme"
    assert not Workspace.objects.filter(pk=workspace_id).exists()


def test_deleting_a_user_keeps_the_events_they_made(workspace: Workspace) -> None:
    actor = MembershipFactory(workspace=workspace, user=UserFactory(email="gone@acme.test")).user
    event = _event(workspace, actor=actor)
    actor_id = actor.pk

    actor.delete()

    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.actor_email) == (actor_id, "gone@acme.test")
    assert stored.actor_label == "gone@acme.test"


def test_staff_still_read_the_events_of_a_deleted_workspace(db: None) -> None:
    ws = WorkspaceFactory(name="Initech", slug="initech")
    actor = MembershipFactory(workspace=ws, user=UserFactory(email="bill@initech.test")).user
    event = _event(ws, actor=actor)
    workspace_id = ws.pk
    ws.delete()
    actor.delete()
    staff = User.objects.create_superuser("staff@console.test", "pw-staff-long-enough-1")
    client = Client()
    client.force_login(staff)

    page = client.get(reverse("admin:accounts_auditevent_change", args=[event.pk]))
    listing = client.get(
        reverse("admin:accounts_auditevent_changelist"), {"workspace__id__exact": workspace_id}
    )

    assert page.status_code == 200
    assert "Initech" in page.content.decode() and "bill@initech.test" in page.content.decode()
    assert listing.status_code == 200
    assert "bill@initech.test" in listing.content.decode()
