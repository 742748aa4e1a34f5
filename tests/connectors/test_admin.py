"""The staff view of connections: read-only, no credentials shown, actions through the
services (audited under the staff user)."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import AuditEvent
from connectors.credentials import seal
from connectors.models import Connection, ConnectionStatus


def test_staff_see_a_connection_without_its_credentials_and_act_through_services(
    staff_client, staff, workspace, django_capture_on_commit_callbacks
):
    conn = Connection.objects.create(
        workspace=workspace,
        provider="google_drive",
        account="drive@acme.test",
        display_name="Acme Drive",
        credentials=seal({"access_token": "ya29.secret-token", "refresh_token": "1//r"}),
        cursor="42",
    )
    page = staff_client.get(reverse("admin:connectors_connection_change", args=[conn.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme Drive" in html and "fernet:" not in html and "ya29" not in html
    listing = staff_client.get(reverse("admin:connectors_connection_changelist"))
    assert listing.status_code == 200 and "Acme Drive" in listing.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        staff_client.post(
            reverse("admin:connectors_connection_changelist"),
            {"action": "disconnect", "_selected_action": [conn.pk]},
        )
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.DISCONNECTING
    event = AuditEvent.objects.get(action="connection.disconnected")
    assert event.actor_email == staff.email
