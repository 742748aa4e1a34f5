"""A token revoked while many calls use it (PostgreSQL, threads): no call that starts after
the revocation has committed is answered from the token's snapshot of before."""

from __future__ import annotations

import threading
import time

import pytest
from django.test import Client
from django.utils import timezone

from accounts.actor import Actor
from api.models import ServiceToken, new_raw_token
from api.services import service_token_revoke
from tests.api.conftest import features_url
from tests.concurrency import needs_postgres, run_concurrently
from tests.factories import ServiceTokenFactory, UserFactory

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20
CALLS = 15


def test_no_call_after_a_revocation_is_let_through(member, settings) -> None:  # type: ignore[no-untyped-def]
    # Every refusal counts against the address: let them all be 401s, not 429s.
    settings.API_AUTH_FAILURE_LIMIT = THREADS * CALLS * 2
    raw = new_raw_token()
    token = ServiceTokenFactory(name="Gateway", raw=raw, last_used_at=timezone.now())
    staff = UserFactory(is_staff=True)
    url = features_url("acme", member.user_id)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(url).status_code == 200  # warm
    revoked_at: list[float] = []
    lock = threading.Lock()

    def work(i: int) -> list[tuple[float, int]]:
        if i == 0:
            time.sleep(0.05)
            service_token_revoke(
                actor=Actor.staff(staff), token=ServiceToken.objects.get(pk=token.pk)
            )
            with lock:
                revoked_at.append(time.monotonic())
            return []
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        calls = []
        for _ in range(CALLS):
            started = time.monotonic()
            calls.append((started, client.get(url).status_code))
        return calls

    out = run_concurrently(work, THREADS)
    assert out.errors == {}
    assert len(revoked_at) == 1
    calls = [c for result in out.results.values() for c in result]
    after = [status for started, status in calls if started > revoked_at[0]]
    before = [status for started, status in calls if started <= revoked_at[0]]
    assert after and set(after) == {401}, after
    # Those before were served (the snapshot or the database), or refused if the
    # revocation overlapped them; nothing else.
    assert set(before) <= {200, 401}
    assert 200 in before
