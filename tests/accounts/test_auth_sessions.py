"""The list of the user's active sessions and "sign out other sessions" (R-ACC-4)."""

from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.conf import settings as django_settings
from django.test import Client

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/accounts/sessions/"


@pytest.fixture(
    autouse=True,
    params=["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"],
)
def engine(request: pytest.FixtureRequest, settings) -> str:  # type: ignore[no-untyped-def]
    """Each test with sessions in the database, and read from the cache as in production
    (a shared cache): a session ended must end in both."""
    settings.SESSION_ENGINE = request.param
    return str(request.param)


def browser(user: User, ip: str, agent: str) -> Client:
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_sessions_list_shows_each_browser_and_marks_this_one() -> None:
    user = UserFactory()
    laptop = browser(user, "203.0.113.10", "Laptop-Browser/1.0")
    browser(user, "198.51.100.20", "Phone-Browser/2.0")
    stranger = UserFactory()
    browser(stranger, "192.0.2.30", "Stranger-Browser/3.0")

    page = laptop.get(SESSIONS)
    assert page.status_code == 200
    html = page.content.decode()
    assert "203.0.113.10" in html and "Laptop-Browser/1.0" in html
    assert "198.51.100.20" in html and "Phone-Browser/2.0" in html
    # Nobody else's sessions.
    assert "192.0.2.30" not in html and "Stranger-Browser" not in html
    assert html.count("This browser") == 1
    assert "Sign out other sessions" in html
    assert page.context["session_count"] == 2


def test_sign_out_other_sessions_keeps_this_one() -> None:
    user = UserFactory()
    laptop = browser(user, "203.0.113.10", "Laptop-Browser/1.0")
    phone = browser(user, "198.51.100.20", "Phone-Browser/2.0")
    other_user = browser(UserFactory(), "192.0.2.30", "Other/1.0")

    response = laptop.post(SESSIONS)
    assert response.status_code == 302 and response["Location"] == SESSIONS

    # The phone is signed out; the laptop and the other user are not.
    assert phone.get("/")["Location"].startswith("/accounts/login/")
    assert laptop.get(SESSIONS).status_code == 200
    assert other_user.get(SESSIONS).status_code == 200
    assert UserSession.objects.filter(user=user).count() == 1
    page = laptop.get(SESSIONS).content.decode()
    assert "Phone-Browser" not in page
    assert "No other session is signed in." in page
    assert "Sign out other sessions" not in page


def test_sessions_page_needs_sign_in(client: Client) -> None:
    response = client.get(SESSIONS)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.post(SESSIONS).status_code == 302


def test_a_signed_out_session_is_ended_for_every_copy_of_its_cookie() -> None:
    user = UserFactory()
    laptop = browser(user, "203.0.113.10", "Laptop-Browser/1.0")
    copy = Client()
    # The same cookie, elsewhere (a copy of its value: the laptop's jar loses it at logout).
    name = django_settings.SESSION_COOKIE_NAME
    copy.cookies[name] = laptop.cookies[name].value
    assert copy.get(SESSIONS).status_code == 200
    assert laptop.post("/accounts/logout/").status_code == 302
    assert copy.get(SESSIONS)["Location"].startswith("/accounts/login/")
