"""Sign-up, sign-in and the account emails through the Django client (R-ACC-1, R-ACC-2,
R-ACC-6, R-UI-2, R-SEC-1): what a person does in the browser, request by request."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from accounts.adapters import EMAIL_NOT_ASCII
from accounts.forms import MUST_AGREE, NAME_INVISIBLE, NAME_MARKUP, NEEDS_GUARDIAN, UNDER_13
from accounts.models import TermsAcceptance, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
NEW_PASSWORD = "another-long-passphrase-77"


def years_ago(years: int, *, plus_days: int = 0) -> date:
    today = timezone.now().date()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return day + timedelta(days=plus_days)


def signup_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Grace Hopper",
        "email": "grace@acme.test",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "birth_date": years_ago(30).isoformat(),
        "agree_terms": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def html_part(message: mail.EmailMessage) -> str:
    alternatives = [
        content for content, mimetype in message.alternatives if mimetype == "text/html"
    ]  # type: ignore[attr-defined]
    assert len(alternatives) == 1, "the email has no HTML part"
    return str(alternatives[0])


def link_in(text: str, path_prefix: str) -> str:
    found = re.findall(r"https?://[^\s\"<>]+", text)
    links = [u for u in found if path_prefix in u]
    assert links, f"no link to {path_prefix} in {text!r}"
    return links[0]


def assert_both_parts_link_to(message: mail.EmailMessage, path_prefix: str) -> str:
    """The text and the HTML part carry the same absolute link on SITE_URL (R-UI-2)."""
    text_link = link_in(message.body, path_prefix)
    html = html_part(message)
    assert text_link.startswith(settings.SITE_URL + "/")
    assert text_link in html
    assert "Console" in html and "<html" in html
    return text_link


def path_of(url: str) -> str:
    return url.removeprefix(settings.SITE_URL)


def login(client: Client, email: str, password: str = PASSWORD, **extra: str):
    return client.post(LOGIN, {"login": email, "password": password}, **extra)


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- Sign-up and verification (R-ACC-1) ------------------------------------------------


def test_signup_sends_verification_with_text_and_html_and_the_link_works_signed_out(
    client: Client,
) -> None:
    response = client.post(SIGNUP, signup_data())
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="grace@acme.test")
    assert user.name == "Grace Hopper"
    # Mandatory verification: not signed in, address not verified yet.
    assert not is_signed_in(client)
    assert not EmailAddress.objects.get(user=user).verified

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["grace@acme.test"]
    assert message.subject == "[Console] Confirm your email address"
    link = assert_both_parts_link_to(message, "/accounts/confirm-email/")

    # A different, signed-out browser opens the link and confirms.
    other = Client()
    page = other.get(path_of(link))
    assert page.status_code == 200
    assert b"grace@acme.test" in page.content
    confirmed = other.post(path_of(link))
    assert confirmed.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    # Then the person signs in and lands in the console.
    response = login(other, "grace@acme.test")
    assert response.status_code == 302 and response["Location"] == "/"
    assert is_signed_in(other)


def test_unverified_user_cannot_get_in(client: Client) -> None:
    user = UserFactory(verified=False)
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    response = login(client, user.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert not is_signed_in(client)
    # The verification email is sent again; the console stays closed.
    assert any(m.to == [user.email] for m in mail.outbox)
    assert client.get("/")["Location"].startswith(LOGIN)


# --- Age gate (R-ACC-2) and "I agree" (R-ACC-6) ---------------------------------------


def test_under_13_is_refused_with_the_message(client: Client) -> None:
    response = client.post(
        SIGNUP,
        signup_data(birth_date=years_ago(13, plus_days=1).isoformat(), guardian_consent="on"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["birth_date"] == [UNDER_13]
    assert UNDER_13 in response.content.decode()
    assert not User.objects.exists()
    assert not mail.outbox


def test_minor_without_guardian_consent_is_refused(client: Client) -> None:
    response = client.post(SIGNUP, signup_data(birth_date=years_ago(15).isoformat()))
    assert response.status_code == 200
    assert response.context["form"].errors["guardian_consent"] == [NEEDS_GUARDIAN]
    assert not User.objects.exists()


def test_minor_with_guardian_consent_is_accepted_and_recorded(client: Client) -> None:
    birth = years_ago(15)
    response = client.post(SIGNUP, signup_data(birth_date=birth.isoformat(), guardian_consent="on"))
    assert response.status_code == 302
    user = User.objects.get(email="grace@acme.test")
    assert user.birth_date == birth
    assert user.guardian_consent_at is not None
    assert abs(timezone.now() - user.guardian_consent_at) < timedelta(minutes=1)


def test_thirteen_today_is_accepted(client: Client) -> None:
    response = client.post(
        SIGNUP, signup_data(birth_date=years_ago(13).isoformat(), guardian_consent="on")
    )
    assert response.status_code == 302
    assert User.objects.get().age_on(timezone.now().date()) == 13


def test_adult_is_accepted_without_guardian(client: Client) -> None:
    birth = years_ago(18)
    response = client.post(SIGNUP, signup_data(birth_date=birth.isoformat()))
    assert response.status_code == 302
    user = User.objects.get()
    assert user.birth_date == birth
    assert user.guardian_consent_at is None


def test_terms_must_be_accepted(client: Client) -> None:
    response = client.post(SIGNUP, signup_data(agree_terms=None))
    assert response.context["form"].errors["agree_terms"] == [MUST_AGREE]
    assert not User.objects.exists()


def test_terms_acceptance_records_version_time_and_ip(client: Client) -> None:
    client.post(SIGNUP, signup_data(), REMOTE_ADDR="203.0.113.7")
    acceptance = TermsAcceptance.objects.get(user__email="grace@acme.test")
    assert acceptance.version == settings.TERMS_VERSION
    assert acceptance.ip_address == "203.0.113.7"
    assert abs(timezone.now() - acceptance.accepted_at) < timedelta(minutes=1)


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_terms_acceptance_behind_a_proxy_records_the_client_not_the_proxy(client: Client) -> None:
    # The client may send its own X-Forwarded-For; only the entry our proxy adds counts.
    client.post(
        SIGNUP,
        signup_data(),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.66, 198.51.100.23",
    )
    assert TermsAcceptance.objects.get().ip_address == "198.51.100.23"


def test_signup_page_shows_age_gate_and_terms_links(client: Client) -> None:
    page = client.get(SIGNUP).content.decode()
    for name in ("birth_date", "guardian_consent", "agree_terms"):
        assert f'name="{name}"' in page
    assert 'href="/legal/terms/"' in page and 'href="/legal/privacy/"' in page
    assert f"(version {settings.TERMS_VERSION})" in page


# --- Bad input on the sign-up form ----------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        pytest.param(
            {"email": "", "password1": "", "password2": "", "birth_date": "", "agree_terms": None},
            "email",
            None,
            id="empty",
        ),
        pytest.param({"email": "x" * 250 + "@acme.test"}, "email", None, id="email-too-long"),
        pytest.param({"name": "n" * 151}, "name", None, id="name-too-long"),
        pytest.param({"email": "grace.acme.test"}, "email", None, id="malformed-email"),
        pytest.param({"email": "grace@@acme.test"}, "email", None, id="malformed-email-2"),
        pytest.param({"name": '<script>alert("x")</script>'}, "name", NAME_MARKUP, id="html-name"),
        pytest.param({"email": "<b>grace</b>@acme.test"}, "email", None, id="html-email"),
        pytest.param(
            {"email": "grace@\u0430cme.test"}, "email", EMAIL_NOT_ASCII, id="lookalike-domain"
        ),
        pytest.param({"email": "gr\u0430ce@acme.test"}, "email", None, id="lookalike-local-part"),
        pytest.param({"name": "Grace\u202eetoH"}, "name", NAME_INVISIBLE, id="bidi-override-name"),
        pytest.param({"birth_date": "1890-01-01"}, "birth_date", None, id="implausible-birth"),
        pytest.param({"birth_date": "not-a-date"}, "birth_date", None, id="malformed-birth"),
        pytest.param(
            {"password2": "something-else-entirely"}, "password2", None, id="passwords-differ"
        ),
        pytest.param(
            {"password1": "short", "password2": "short"}, "password1", None, id="weak-password"
        ),
    ],
)
def test_bad_signup_input_gives_field_errors_and_no_user(
    client: Client, overrides: dict, field: str, message: str | None
) -> None:
    response = client.post(SIGNUP, signup_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    if message:
        assert errors[field] == [message]
    # The error stands beside its field, and nothing the user typed runs as markup.
    page = response.content.decode()
    assert 'class="error"' in page
    assert "<script>alert" not in page
    assert not User.objects.exists()
    assert not mail.outbox


def test_empty_signup_flags_every_required_field(client: Client) -> None:
    response = client.post(SIGNUP, {})
    errors = response.context["form"].errors
    assert {"email", "password1", "password2", "birth_date", "agree_terms"} <= set(errors)


def test_existing_address_creates_no_second_account(client: Client) -> None:
    UserFactory(email="grace@acme.test")
    client.post(SIGNUP, signup_data(email="GRACE@acme.test"))
    assert User.objects.filter(email__iexact="grace@acme.test").count() == 1
    # Enumeration is prevented: the owner of the address is told by email instead.
    message = mail.outbox[-1]
    assert message.to == ["grace@acme.test"]
    assert_both_parts_link_to(message, "/accounts/password/reset/")


# --- Sign in and out ------------------------------------------------------------------


def test_login_and_logout() -> None:
    user = UserFactory()
    client = Client()
    response = login(client, user.email)
    assert response.status_code == 302 and response["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == user.pk
    # Sign-out asks first on GET, and signs out on POST.
    assert client.get(LOGOUT).status_code == 200
    assert is_signed_in(client)
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert not is_signed_in(client)


def test_wrong_password_is_refused_with_a_message(client: Client) -> None:
    user = UserFactory()
    response = login(client, user.email, "not-the-password")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert not is_signed_in(client)


def test_login_keeps_the_next_target(client: Client) -> None:
    user = UserFactory()
    response = client.post(
        f"{LOGIN}?next=/workspaces/new/", {"login": user.email, "password": PASSWORD}
    )
    assert response["Location"] == "/workspaces/new/"


def test_login_by_code(client: Client) -> None:
    user = UserFactory()
    response = client.post("/accounts/login/code/", {"email": user.email})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/code/confirm/")
    message = mail.outbox[-1]
    assert message.subject == "[Console] Your sign-in code"
    code = re.search(r"^\s*([A-Z0-9]{3,}(?:-[A-Z0-9]{3,})*)\s*$", message.body, re.MULTILINE)
    assert code, message.body
    assert code.group(1) in html_part(message)
    response = client.post(response["Location"], {"code": code.group(1)})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_login_by_code_with_a_wrong_code_stays_out(client: Client) -> None:
    user = UserFactory()
    response = client.post("/accounts/login/code/", {"email": user.email})
    page = client.post(response["Location"], {"code": "WRONG1"})
    assert page.status_code == 200
    assert not is_signed_in(client)


# --- Rate limits (R-SEC-1) ------------------------------------------------------------


def test_repeated_wrong_passwords_lock_the_address() -> None:
    """login_failed is 5 per 5 minutes per address: the sixth try is refused even with the
    right password, with allauth's rate-limit message."""
    user = UserFactory()
    client = Client()
    for _ in range(5):
        page = login(client, user.email, "wrong-password")
        assert "not correct" in page.content.decode()
    page = login(client, user.email)
    assert page.status_code == 200
    assert "Too many failed login attempts" in page.content.decode()
    assert not is_signed_in(client)
    # Another address from elsewhere is not locked.
    other = UserFactory()
    assert login(Client(REMOTE_ADDR="192.0.2.10"), other.email).status_code == 302


def test_too_many_login_posts_from_one_ip_get_429() -> None:
    """The login view allows 30 posts a minute per IP; the next gets HTTP 429 in the console's look."""
    client = Client(REMOTE_ADDR="198.51.100.99")
    for i in range(30):
        response = login(client, f"nobody{i}@acme.test", "wrong-password")
        assert response.status_code == 200
    response = login(client, "nobody@acme.test", "wrong-password")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert b"css/console.css" in response.content
    # Another IP is unaffected.
    user = UserFactory()
    assert login(Client(REMOTE_ADDR="198.51.100.100"), user.email).status_code == 302


# --- Password reset -------------------------------------------------------------------


def test_password_reset_flow_from_a_signed_out_browser(client: Client) -> None:
    user = UserFactory()
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    message = mail.outbox[-1]
    assert message.to == [user.email]
    assert message.subject == "[Console] Reset your password"
    link = assert_both_parts_link_to(message, "/accounts/password/reset/key/")

    browser = Client()
    response = browser.get(path_of(link))
    # allauth moves the key into the session and redirects to a key-less URL.
    if response.status_code == 302:
        response = browser.get(response["Location"])
    assert response.status_code == 200
    form_url = response.request["PATH_INFO"]
    response = browser.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # The change is notified by email, in both parts.
    notice = mail.outbox[-1]
    assert notice.subject == "[Console] Password Reset"
    assert "Your password was reset." in notice.body and "Your password was reset." in html_part(
        notice
    )
    assert login(Client(), user.email, NEW_PASSWORD).status_code == 302


def test_password_reset_of_an_unknown_address_reveals_nothing(client: Client) -> None:
    response = client.post("/accounts/password/reset/", {"email": "stranger@acme.test"})
    assert response.status_code == 302
    message = mail.outbox[-1]
    assert message.to == ["stranger@acme.test"]
    assert_both_parts_link_to(message, "/accounts/signup/")


def test_password_change_needs_the_old_password_and_notifies(client: Client) -> None:
    user = UserFactory()
    login(client, user.email)
    page = client.post(
        "/accounts/password/change/",
        {"oldpassword": "wrong", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert page.status_code == 200 and "oldpassword" in page.context["form"].errors
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    notice = mail.outbox[-1]
    assert notice.subject == "[Console] Password Changed"
    html_part(notice)


# --- Change of email ------------------------------------------------------------------


def test_change_of_email_is_verified_then_notified(client: Client) -> None:
    user = UserFactory(email="old@acme.test")
    login(client, user.email)
    response = client.post("/accounts/email/", {"action_add": "", "email": "new@acme.test"})
    assert response.status_code == 302
    # Until the new address is confirmed, the old one stays in use.
    user.refresh_from_db()
    assert user.email == "old@acme.test"
    message = mail.outbox[-1]
    assert message.to == ["new@acme.test"]
    link = assert_both_parts_link_to(message, "/accounts/confirm-email/")

    Client().post(path_of(link))
    user.refresh_from_db()
    assert user.email == "new@acme.test"
    assert set(EmailAddress.objects.filter(user=user).values_list("email", flat=True)) == {
        "new@acme.test"
    }
    notice = next(m for m in mail.outbox if m.subject == "[Console] Email Changed")
    assert notice.to == ["old@acme.test"]
    assert "old@acme.test to new@acme.test" in notice.body
    assert "old@acme.test to new@acme.test" in html_part(notice)
    assert login(Client(), "new@acme.test").status_code == 302


@pytest.mark.parametrize("email", ["not-an-email", "x@\u0430cme.test", "y" * 250 + "@acme.test"])
def test_change_of_email_refuses_bad_addresses(client: Client, email: str) -> None:
    user = UserFactory()
    login(client, user.email)
    page = client.post("/accounts/email/", {"action_add": "", "email": email})
    assert page.status_code == 200
    assert "email" in page.context["form"].errors
    assert EmailAddress.objects.filter(user=user).count() == 1


def test_change_to_an_address_of_another_account_does_not_take_it(client: Client) -> None:
    UserFactory(email="taken@acme.test")
    user = UserFactory()
    login(client, user.email)
    client.post("/accounts/email/", {"action_add": "", "email": "taken@acme.test"})
    assert not EmailAddress.objects.filter(
        user=user, email="taken@acme.test", verified=True
    ).exists()
    user.refresh_from_db()
    assert user.email != "taken@acme.test"
