"""Staff's view of the service API (R-UI-3, R-KEY-3): tokens issued in the admin, shown once
and stored hashed, revoked by an action; feature-use events read-only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, User
from api.audit import Action
from api.models import FeatureUseEvent, ServiceToken, hash_token, new_raw_token
from tests.api.conftest import features_url
from tests.factories import MembershipFactory, ServiceTokenFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKENS = reverse("admin:api_servicetoken_changelist")
ADD = reverse("admin:api_servicetoken_add")
EVENTS = reverse("admin:api_featureuseevent_changelist")
RAW_RE = re.compile(r"svc_[A-Za-z0-9_-]{43}")


def test_add_form_asks_only_the_name(staff_client) -> None:
    html = staff_client.get(ADD).content.decode()
    assert 'name="name"' in html
    for hidden in ("token_hash", "prefix", "revoked_at", "last_used_at"):
        assert f'name="{hidden}"' not in html


def test_new_token_is_shown_once_and_stored_hashed(staff_client, staff, member, owner) -> None:
    response = staff_client.post(ADD, {"name": "Gateway, production"}, follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    shown = RAW_RE.findall(html)
    assert len(set(shown)) == 1
    raw = shown[0]
    assert "Copy it now; it will not be shown again." in html

    token = ServiceToken.objects.get()
    assert token.name == "Gateway, production"
    assert token.token_hash == hash_token(raw)
    assert token.prefix == raw[:12]
    assert token.created_by == staff
    # The secret itself is nowhere in the database.
    for row in ServiceToken.objects.values():
        assert raw not in str(row)
    assert not AuditEvent.objects.filter(after__icontains=raw).exists()
    assert (
        AuditEvent.objects.filter(
            action=Action.SERVICE_TOKEN_CREATED, workspace=None, actor=staff
        ).count()
        == 1
    )

    # Never again: not on the list, not on the token's page.
    for url in (TOKENS, reverse("admin:api_servicetoken_change", args=[token.pk])):
        page = staff_client.get(url).content.decode()
        assert raw not in page
        assert f"{token.prefix}…" in page

    # And it works.
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(features_url("acme", member.user_id)).status_code == 200


def test_renaming_keeps_the_secret(staff_client) -> None:
    raw = new_raw_token()
    token = ServiceTokenFactory(name="Old", raw=raw)
    response = staff_client.post(
        reverse("admin:api_servicetoken_change", args=[token.pk]), {"name": "New"}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert (token.name, token.token_hash) == ("New", hash_token(raw))


def test_revoke_action(staff_client, staff, member, owner) -> None:
    raw = new_raw_token()
    token = ServiceTokenFactory(name="Gateway", raw=raw)
    earlier = timezone.now() - timedelta(days=1)
    already = ServiceTokenFactory(name="Old", revoked_at=earlier)

    response = staff_client.post(
        TOKENS, {"action": "revoke", ACTION_CHECKBOX_NAME: [token.pk, already.pk]}, follow=True
    )

    assert "Revoked 1 service token(s)." in response.content.decode()
    token.refresh_from_db()
    already.refresh_from_db()
    assert token.revoked_at is not None
    assert already.revoked_at == earlier
    assert (
        AuditEvent.objects.filter(action=Action.SERVICE_TOKEN_REVOKED, workspace=None).count() == 1
    )
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        .get(features_url("acme", member.user_id))
        .status_code
        == 401
    )


def test_tokens_are_not_deleted_and_there_is_no_bulk_delete(staff_client) -> None:
    token = ServiceTokenFactory(name="Gateway")
    assert (
        staff_client.get(reverse("admin:api_servicetoken_delete", args=[token.pk])).status_code
        == 403
    )
    assert "delete_selected" not in staff_client.get(TOKENS).content.decode()


def test_non_staff_cannot_reach_the_token_admin(client, owner) -> None:
    client.force_login(owner.user)
    response = client.get(ADD)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _tokens(n: int, creator: User) -> None:
    for i in range(n):
        ServiceTokenFactory(name=f"T{n}-{i}", created_by=creator)


def test_token_list_query_count_is_constant(staff_client, staff) -> None:
    _tokens(2, UserFactory(email="a@console.test", is_staff=True))
    small = _queries(staff_client, TOKENS)
    _tokens(40, UserFactory(email="b@console.test", is_staff=True))
    assert _queries(staff_client, TOKENS) == small


def _events(workspace, n: int) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    for i in range(n):
        m = MembershipFactory(workspace=workspace, user=UserFactory(email=f"e{n}-{i}@acme.test"))
        FeatureUseEvent.objects.create(
            workspace=workspace,
            membership=m,
            user_email=m.user.email,
            feature="news",
            outcome="used",
            event_id=f"evt-{n}-{i}",
            occurred_at=now,
            allowed=i % 2 == 0,
            code="allowed",
            reason="",
        )


def test_feature_use_events_are_read_only_filtered_and_searched(staff_client, workspace) -> None:
    _events(workspace, 3)
    event = FeatureUseEvent.objects.get(event_id="evt-3-1")

    assert staff_client.get(reverse("admin:api_featureuseevent_add")).status_code == 403
    assert (
        staff_client.post(
            reverse("admin:api_featureuseevent_change", args=[event.pk]), {"event_id": "changed"}
        ).status_code
        == 403
    )
    assert (
        staff_client.get(reverse("admin:api_featureuseevent_change", args=[event.pk])).status_code
        == 200
    )
    assert "evt-3-1" in staff_client.get(f"{EVENTS}?q=evt-3-1").content.decode()
    assert "evt-3-2" not in staff_client.get(f"{EVENTS}?q=evt-3-1").content.decode()
    assert "evt-3-1" in staff_client.get(f"{EVENTS}?q=acme").content.decode()
    filtered = staff_client.get(
        f"{EVENTS}?allowed__exact=0&feature__exact=news&outcome__exact=used"
    ).content.decode()
    assert "evt-3-1" in filtered
    assert "evt-3-0" not in filtered


def test_feature_use_event_list_query_count_is_constant(staff_client, workspace) -> None:
    _events(workspace, 2)
    small = _queries(staff_client, EVENTS)
    _events(workspace, 40)
    assert _queries(staff_client, EVENTS) == small
