"""R-SEC-1: sign-up does not tell which addresses have an account, neither by its answer
nor by its speed. Creating an account hashes the password (the slow part, on purpose);
an address that has one must take as long."""

from __future__ import annotations

import statistics
import time

import pytest
from django.conf import global_settings
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.accounts.test_auth import SIGNUP, signup_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROUNDS = 3
# The answer for a known address takes at least this share of the time for a new one.
MIN_RATIO = 0.6


@pytest.fixture
def production_hasher(settings) -> None:
    # The suite hashes with MD5 for speed; the timing only shows with the real hasher.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


def _signup(email: str) -> tuple[float, int, str]:
    """The processor time of one sign-up, its status and where it leads. Processor time,
    not wall-clock: the difference to find is the password hash, processor work, and a
    shared CI machine makes the wall-clock of a request swing by more than that."""
    client = Client()
    started = time.process_time()
    response = client.post(SIGNUP, signup_data(email=email))
    elapsed = time.process_time() - started
    return elapsed, response.status_code, response.get("Location", "")


def test_signup_takes_as_long_for_a_known_address_as_for_a_new_one(
    production_hasher: None,
) -> None:
    UserFactory(email="known@acme.test")
    known: list[float] = []
    new: list[float] = []
    answers: set[tuple[int, str]] = set()
    # Unmeasured: the first requests load templates and code that later ones reuse.
    _signup("known@acme.test")
    _signup("warm-up@acme.test")
    for i in range(ROUNDS):
        # Interleaved, so a slower moment of the machine weighs on both paths alike.
        elapsed, status, location = _signup("known@acme.test")
        known.append(elapsed)
        answers.add((status, location))
        elapsed, status, location = _signup(f"new{i}@acme.test")
        new.append(elapsed)
        answers.add((status, location))

    assert answers == {(302, "/accounts/confirm-email/")}
    fast, slow = statistics.median(known), statistics.median(new)
    assert fast >= MIN_RATIO * slow, (
        f"Sign-up answers a known address in {fast * 1000:.0f} ms of processor time and a "
        f"new one in {slow * 1000:.0f} ms"
    )
    assert User.objects.filter(email="known@acme.test").count() == 1
    assert User.objects.filter(email__startswith="new").count() == ROUNDS


def test_a_known_address_gets_the_same_page_and_an_email_instead_of_an_account() -> None:
    UserFactory(email="known@acme.test")
    client = Client()
    response = client.post(SIGNUP, signup_data(email="known@acme.test"), follow=True)
    other = Client().post(SIGNUP, signup_data(email="fresh@acme.test"), follow=True)

    assert response.status_code == other.status_code == 200
    assert response.redirect_chain == other.redirect_chain
    assert [m.to for m in mail.outbox] == [["known@acme.test"], ["fresh@acme.test"]]
    assert "already" in mail.outbox[0].body.lower()
