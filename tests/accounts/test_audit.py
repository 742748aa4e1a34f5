"""The audit log page and its export (R-WS-8, R-SEC-1, R-UI-1)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services
from accounts.actor import Actor
from accounts.audit import Action, Cursor, audit_changes
from accounts.audit_forms import ACTOR_INVALID, CURSOR_INVALID, DATE_ORDER, PAGE_SIZE
from accounts.models import AuditEvent, Membership, Workspace
from tests.conftest import HTMX

BASE = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def make_events(
    workspace: Workspace,
    n: int,
    *,
    action: str = Action.GROUP_CREATED,
    actor_email: str = "admin@acme.test",
    start: datetime = BASE,
    **extra: object,
) -> list[AuditEvent]:
    """n events one minute apart, the last one newest."""
    return AuditEvent.objects.bulk_create(
        AuditEvent(
            workspace=workspace,
            workspace_name=workspace.name,
            actor_email=actor_email,
            action=action,
            target_type="accounts.group",
            target_id=str(i),
            target_repr=f"Group {i}",
            after={"name": f"Group {i}"},
            created_at=start + timedelta(minutes=i),
            **extra,
        )
        for i in range(n)
    )


def url(ws: Workspace, name: str = "ws:audit") -> str:
    return reverse(name, args=[ws.slug])


def read_csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# --- Access (R-SEC-1) --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ws:audit", "ws:audit_export"])
def test_other_workspace_member_gets_404(client, workspace, owner, other_workspace_member, name):
    client.force_login(other_workspace_member.user)
    assert client.get(url(workspace, name)).status_code == 404


@pytest.mark.parametrize("name", ["ws:audit", "ws:audit_export"])
def test_signed_out_visitor_is_sent_to_sign_in(client, workspace, name):
    response = client.get(url(workspace, name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", ["ws:audit", "ws:audit_export"])
def test_member_role_sees_403_page(member_client, workspace, name):
    make_events(workspace, 3)
    response = member_client.get(url(workspace, name))
    assert response.status_code == 403
    assert b"Group 1" not in response.content


def test_admin_may_read_the_log(admin_client_ws, workspace):
    make_events(workspace, 2)
    assert admin_client_ws.get(url(workspace)).status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_no_method_writes_to_the_log(owner_client, workspace, method):
    make_events(workspace, 2)
    response = getattr(owner_client, method)(url(workspace))
    assert response.status_code == 405
    assert AuditEvent.objects.filter(workspace=workspace).count() == 2


# --- The page --------------------------------------------------------------------------


def test_page_lists_events_newest_first_with_changes(
    owner_client, workspace, owner, other_workspace_member
):
    make_events(workspace, 3)
    make_events(other_workspace_member.workspace, 1, actor_email="spy@globex.test")
    services.workspace_update_join_settings(
        actor=Actor.member(owner), workspace=workspace, join_mode="auto", default_role=20
    )
    response = owner_client.get(url(workspace))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'id="audit"' in html
    assert (
        html.index("changed the workspace settings")
        < html.index("Group 2")
        < html.index("Group 1")
        < html.index("Group 0")
    )
    assert "spy@globex.test" not in html
    # before -> after shown compactly, with labels
    assert "<del>Ask an admin to approve</del>" in html and "<ins>Join automatically</ins>" in html


def test_htmx_request_gets_the_partial(owner_client, workspace):
    make_events(workspace, 2)
    response = owner_client.get(url(workspace), {"action": Action.GROUP_CREATED}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="audit"')
    assert "Group 1" in html


def test_filter_by_action(owner_client, workspace):
    make_events(workspace, 2, action=Action.GROUP_CREATED)
    AuditEvent.objects.create(
        workspace=workspace, action=Action.DOMAIN_CLAIMED, target_repr="corp.test"
    )
    html = owner_client.get(url(workspace), {"action": Action.DOMAIN_CLAIMED}).content.decode()
    assert "corp.test" in html and "Group 0" not in html


def test_filter_by_actor_email_part(owner_client, workspace):
    make_events(workspace, 1, actor_email="alice@acme.test")
    AuditEvent.objects.create(
        workspace=workspace,
        action=Action.GROUP_CREATED,
        actor_email="bob@acme.test",
        target_repr="Bob's group",
    )
    html = owner_client.get(url(workspace), {"actor": "BOB@"}).content.decode()
    assert "Bob&#x27;s group" in html and "Group 0" not in html


def test_filter_by_date_range_is_inclusive_utc_days(owner_client, workspace):
    make_events(workspace, 1, start=datetime(2026, 3, 1, 0, 0, tzinfo=UTC))  # Group 0 on the 1st
    AuditEvent.objects.create(
        workspace=workspace,
        action="x.y",
        target_repr="On the 2nd late",
        created_at=datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC),
    )
    AuditEvent.objects.create(
        workspace=workspace,
        action="x.y",
        target_repr="On the 3rd",
        created_at=datetime(2026, 3, 3, 0, 0, tzinfo=UTC),
    )
    html = owner_client.get(
        url(workspace), {"date_from": "2026-03-02", "date_to": "2026-03-02"}
    ).content.decode()
    assert "On the 2nd late" in html
    assert "On the 3rd" not in html and "Group 0" not in html


def test_empty_state_when_nothing_matches(owner_client, workspace):
    make_events(workspace, 2)
    html = owner_client.get(url(workspace), {"actor": "nobody"}).content.decode()
    assert "No events match these filters" in html


def test_keyset_pagination_older_and_newer(owner_client, workspace):
    make_events(workspace, PAGE_SIZE * 2 + 7)
    first = owner_client.get(url(workspace))
    page = first.context["page"]
    assert len(page.events) == PAGE_SIZE and page.newer is None and page.older is not None
    assert page.events[0].target_repr == f"Group {PAGE_SIZE * 2 + 6}"

    second = owner_client.get(url(workspace), {"before": page.older.encode()}).context["page"]
    assert len(second.events) == PAGE_SIZE
    assert second.events[0].target_repr == f"Group {PAGE_SIZE + 6}"
    assert second.newer is not None and second.older is not None

    third = owner_client.get(url(workspace), {"before": second.older.encode()}).context["page"]
    assert [e.target_repr for e in third.events][-1] == "Group 0"
    assert len(third.events) == 7 and third.older is None

    back = owner_client.get(url(workspace), {"after": third.newer.encode()}).context["page"]
    assert [e.pk for e in back.events] == [e.pk for e in second.events]
    assert 'rel="next"' in first.content.decode()


def test_pagination_breaks_ties_on_the_same_instant(owner_client, workspace):
    same = datetime(2026, 1, 1, tzinfo=UTC)
    AuditEvent.objects.bulk_create(
        AuditEvent(workspace=workspace, action="x.y", target_repr=f"T{i}", created_at=same)
        for i in range(PAGE_SIZE + 3)
    )
    first = owner_client.get(url(workspace)).context["page"]
    second = owner_client.get(url(workspace), {"before": first.older.encode()}).context["page"]
    seen = [e.pk for e in first.events] + [e.pk for e in second.events]
    assert len(seen) == len(set(seen)) == PAGE_SIZE + 3


def test_cursor_round_trips_microseconds():
    when = datetime(2026, 5, 17, 8, 30, 1, 999_999, tzinfo=UTC)
    assert Cursor.decode(Cursor(when, 42).encode()) == Cursor(when, 42)


def test_suspended_workspace_still_shows_its_log(owner_client, workspace, owner):
    services.workspace_suspend(actor=Actor.system(), workspace=workspace, reason="Unpaid invoice")
    html = owner_client.get(url(workspace)).content.decode()
    assert "This workspace is suspended" in html and "workspace.suspended" in html


# --- Bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"date_from": "2026-13-45"}, "date_from", "Enter a valid date."),
        ({"date_to": "yesterday"}, "date_to", "Enter a valid date."),
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "date_to", DATE_ORDER),
        ({"action": "member.promoted_to_god"}, "action", "Select a valid choice."),
        ({"action": "<script>alert(1)</script>"}, "action", "Select a valid choice."),
        ({"actor": "x" * 255}, "actor", "Ensure this value has at most 254 characters"),
        ({"actor": "<script>alert(1)</script>"}, "actor", ACTOR_INVALID),
        ({"actor": "'; DROP TABLE accounts_auditevent;--"}, "actor", ACTOR_INVALID),
        ({"before": "not-a-cursor"}, "before", CURSOR_INVALID),
        ({"after": "999999999999999999.1"}, "after", CURSOR_INVALID),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_filters_answer_with_field_errors(
    owner_client, workspace, params, field, message, htmx
):
    make_events(workspace, 3)
    headers = HTMX if htmx else {}
    response = owner_client.get(url(workspace), params, **headers)
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in e for e in form.errors[field])
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "Fix the filters" in html
    assert AuditEvent.objects.filter(workspace=workspace).count() == 3


def test_bad_filters_on_export_show_the_page_with_errors(owner_client, workspace):
    response = owner_client.get(url(workspace, "ws:audit_export"), {"date_from": "31/02/2026"})
    assert response.status_code == 200
    assert not response.streaming
    assert "Enter a valid date." in response.content.decode()


@pytest.mark.parametrize("actor", ["", "   ", "аdmin@acme.test", "admin@acme.tеst"])
def test_empty_and_lookalike_actor_search_are_harmless(owner_client, workspace, actor):
    """Cyrillic lookalikes are a valid search that matches nobody: they never reach the
    ASCII address."""
    make_events(workspace, 2, actor_email="admin@acme.test")
    response = owner_client.get(url(workspace), {"actor": actor})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == (2 if not actor.strip() else 0)


# --- CSV export -------------------------------------------------------------------------


def test_export_streams_the_filtered_events(owner_client, workspace, other_workspace_member):
    make_events(workspace, 3, action=Action.GROUP_CREATED, ip_address="203.0.113.9")
    AuditEvent.objects.create(
        workspace=workspace, action=Action.DOMAIN_CLAIMED, target_repr="corp.test"
    )
    make_events(other_workspace_member.workspace, 2)
    response = owner_client.get(url(workspace, "ws:audit_export"), {"action": Action.GROUP_CREATED})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-acme-')
    rows = read_csv(response)
    assert rows[0][:3] == ["time_utc", "actor", "action"]
    assert [r[5] for r in rows[1:]] == ["Group 2", "Group 1", "Group 0"]
    assert rows[1][0] == "2026-03-10T12:02:00+00:00"
    assert rows[1][6:] == ["", '{"name": "Group 2"}', "203.0.113.9"]


@pytest.mark.parametrize(
    "payload", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"]
)
def test_export_neutralizes_formulas(owner_client, workspace, payload):
    AuditEvent.objects.create(
        workspace=workspace, action="group.created", actor_email=payload, target_repr=payload
    )
    rows = read_csv(owner_client.get(url(workspace, "ws:audit_export")))
    actor, target = rows[1][1], rows[1][5]
    assert actor == target == "'" + payload


def test_export_of_an_empty_log_has_the_header_only(owner_client, workspace):
    rows = read_csv(owner_client.get(url(workspace, "ws:audit_export")))
    assert len(rows) == 1


# --- Query counts stay flat -------------------------------------------------------------


def _count_queries(client, path: str, params: dict[str, str] | None = None) -> int:  # type: ignore[no-untyped-def]
    # The first request of a session records it (allauth's user sessions): warm up.
    client.get(path, params or {})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params or {})
        if response.streaming:
            b"".join(response.streaming_content)
        assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", ["ws:audit", "ws:audit_export"])
def test_query_count_does_not_grow_with_events(owner_client, workspace, owner: Membership, name):
    make_events(workspace, 5)
    small = _count_queries(owner_client, url(workspace, name))
    make_events(workspace, 25, start=BASE + timedelta(days=1), actor_email="other@acme.test")
    AuditEvent.objects.bulk_create(
        AuditEvent(
            workspace=workspace,
            action="member.role_changed",
            actor=owner.user,
            actor_email=owner.user.email,
            before={"role": "Member"},
            after={"role": "Admin"},
            created_at=BASE,
        )
        for _ in range(10)
    )
    large = _count_queries(owner_client, url(workspace, name))
    assert small == large


def test_filtered_page_query_count_is_flat(owner_client, workspace):
    params = {"action": Action.GROUP_CREATED, "actor": "admin", "date_from": "2026-01-01"}
    make_events(workspace, 5)
    small = _count_queries(owner_client, url(workspace), params)
    make_events(workspace, 30, start=BASE + timedelta(hours=2))
    assert _count_queries(owner_client, url(workspace), params) == small


# --- Append-only --------------------------------------------------------------------------


def test_events_cannot_be_updated_or_deleted_through_the_orm(workspace):
    event = make_events(workspace, 1)[0]
    event = AuditEvent.objects.get(pk=event.pk)
    event.action = "forged"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == Action.GROUP_CREATED


def test_audit_changes_lists_keys_of_both_sides():
    event = AuditEvent(
        before={"role": "Member", "gone": 1}, after={"role": "Admin", "groups": ["A", "B"]}
    )
    assert audit_changes(event) == [
        ("role", "Member", "Admin"),
        ("gone", "1", ""),
        ("groups", "", '["A", "B"]'),
    ]
