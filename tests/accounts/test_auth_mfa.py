"""Two-factor authentication (R-ACC-4): TOTP with recovery codes, encrypted at rest,
required again (reauthentication) for every change, and applied to the staff admin's
login, which goes through allauth (R-SEC-1)."""

from __future__ import annotations

import json
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core import mail
from django.test import Client

from accounts import crypto
from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
MFA_STAGE = "/accounts/2fa/authenticate/"
ACTIVATE = "/accounts/2fa/totp/activate/"
DEACTIVATE = "/accounts/2fa/totp/deactivate/"
REAUTH = "/accounts/reauthenticate/"


@pytest.fixture(autouse=True)
def _settings(settings) -> None:
    # One step of tolerance keeps the tests clear of a 30-second boundary; each code is
    # accepted once, so successive steps are used for successive sign-ins.
    settings.MFA_TOTP_TOLERANCE = 1


def totp_code(secret: str, step: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + step))


def html_part(message: mail.EmailMessage) -> str:
    return next(str(c) for c, mimetype in message.alternatives if mimetype == "text/html")  # type: ignore[attr-defined]


def with_totp(user: User) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def reauthenticate(client: Client, url: str) -> None:
    """allauth asks for the password again before any MFA change, even right after
    sign-in (MFA_REAUTHENTICATION_REQUIRED); the answer holds for five minutes."""
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(REAUTH)
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == url


def sign_in(client: Client, user: User, next_url: str = "") -> str:
    response = client.post(
        LOGIN + (f"?next={next_url}" if next_url else ""),
        {"login": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    return str(response["Location"])


# --- Activation, encryption at rest ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_activation_needs_reauthentication_then_stores_the_secret_encrypted(client: Client) -> None:
    # A real transaction: allauth sends the notice on commit, which in autocommit (as in
    # production) happens inside the request that it reads the client's IP from.
    user = UserFactory()
    client.force_login(user)  # a session without a recent password entry
    response = client.get(ACTIVATE)
    assert response.status_code == 302
    assert response["Location"].startswith(REAUTH)

    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == ACTIVATE

    page = client.get(ACTIVATE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html  # the QR code (img-src allows data:)
    secret = page.context["form"].secret
    assert secret in html  # shown once, for manual entry

    wrong = client.post(ACTIVATE, {"code": "000000" if totp_code(secret) != "000000" else "111111"})
    assert wrong.status_code == 200 and "code" in wrong.context["form"].errors
    response = client.post(ACTIVATE, {"code": totp_code(secret)})
    assert response.status_code == 302

    totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    raw = json.dumps(totp.data)
    assert secret not in raw
    assert totp.data["secret"].startswith(crypto.PREFIX)
    assert crypto.decrypt(totp.data["secret"]) == secret
    # Recovery codes come with it; their seed is encrypted too.
    codes = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    assert codes.data["seed"].startswith(crypto.PREFIX)
    # The owner is told by email, in both parts.
    notice = next(m for m in mail.outbox if m.subject == "[Console] Authenticator App Activated")
    assert notice.to == [user.email]
    assert "authenticator app was turned on" in html_part(notice)


def test_the_stored_secret_is_useless_without_the_key(settings) -> None:
    user = UserFactory()
    secret = with_totp(user)
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
    assert secret not in stored
    settings.FIELD_ENCRYPTION_KEY = "another-key"
    with pytest.raises(ValueError):
        crypto.decrypt(stored)


def test_a_secret_stored_in_clear_is_refused() -> None:
    with pytest.raises(ValueError):
        crypto.decrypt(generate_totp_secret())


# --- Sign-in with a second factor -----------------------------------------------------


def test_login_with_totp() -> None:
    user = UserFactory()
    secret = with_totp(user)
    client = Client()
    assert sign_in(client, user) == MFA_STAGE
    assert not is_signed_in(client)
    assert client.get("/")["Location"].startswith(LOGIN)

    page = client.post(
        MFA_STAGE, {"code": "12345" + ("0" if totp_code(secret).endswith("1") else "1")}
    )
    assert page.status_code == 200 and not is_signed_in(client)
    response = client.post(MFA_STAGE, {"code": totp_code(secret)})
    assert response.status_code == 302 and response["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == user.pk


def test_a_totp_code_works_once() -> None:
    user = UserFactory()
    secret = with_totp(user)
    code = totp_code(secret)
    first = Client()
    sign_in(first, user)
    assert first.post(MFA_STAGE, {"code": code}).status_code == 302
    second = Client()
    sign_in(second, user)
    assert second.post(MFA_STAGE, {"code": code}).status_code == 200
    assert not is_signed_in(second)


def test_login_with_a_recovery_code_once() -> None:
    user = UserFactory()
    with_totp(user)
    rc = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    code = RecoveryCodes(rc).get_unused_codes()[0]
    client = Client()
    sign_in(client, user)
    assert client.post(MFA_STAGE, {"code": code}).status_code == 302
    assert is_signed_in(client)
    again = Client()
    sign_in(again, user)
    assert again.post(MFA_STAGE, {"code": code}).status_code == 200
    assert not is_signed_in(again)


# --- Changes need a recent password (reauthentication) --------------------------------


@pytest.mark.parametrize(
    "url", [DEACTIVATE, "/accounts/2fa/recovery-codes/", "/accounts/2fa/recovery-codes/generate/"]
)
def test_mfa_changes_need_reauthentication_even_after_a_full_sign_in(
    client: Client, url: str
) -> None:
    user = UserFactory()
    secret = with_totp(user)
    sign_in(client, user)
    client.post(MFA_STAGE, {"code": totp_code(secret)})
    methods = [client.get] if url.endswith("recovery-codes/") else [client.get, client.post]
    for method in methods:
        response = method(url)
        assert response.status_code == 302
        assert response["Location"].startswith(REAUTH)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_deactivation_after_a_fresh_sign_in() -> None:
    user = UserFactory()
    secret = with_totp(user)
    client = Client()
    sign_in(client, user)
    client.post(MFA_STAGE, {"code": totp_code(secret)})
    reauthenticate(client, DEACTIVATE)
    page = client.get(DEACTIVATE)
    assert page.status_code == 200
    response = client.post(DEACTIVATE)
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert any(m.subject == "[Console] Authenticator App Deactivated" for m in mail.outbox)
    # The next sign-in asks for no code.
    assert sign_in(Client(), user) == "/"


@pytest.mark.django_db(transaction=True)  # the notice goes out on commit, as in production
def test_recovery_codes_page_lists_unused_codes_and_regenerates() -> None:
    user = UserFactory()
    secret = with_totp(user)
    client = Client()
    sign_in(client, user)
    client.post(MFA_STAGE, {"code": totp_code(secret)})
    reauthenticate(client, "/accounts/2fa/recovery-codes/")
    page = client.get("/accounts/2fa/recovery-codes/")
    assert page.status_code == 200
    rc = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    codes = RecoveryCodes(rc).get_unused_codes()
    assert all(code in page.content.decode() for code in codes)
    regenerated = client.post("/accounts/2fa/recovery-codes/generate/")
    assert regenerated.status_code == 302
    rc = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    assert set(RecoveryCodes(rc).get_unused_codes()).isdisjoint(codes)
    notice = next(m for m in mail.outbox if m.subject == "[Console] New Recovery Codes Generated")
    assert "recovery codes" in html_part(notice)


# --- The staff admin signs in through allauth ----------------------------------------


def test_admin_login_redirects_to_allauth(client: Client) -> None:
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN + "?next=")
    response = client.get("/admin/")
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302 and follow["Location"].startswith(LOGIN)


def test_staff_with_totp_must_pass_mfa_before_the_admin(client: Client) -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    secret = with_totp(staff)
    assert sign_in(client, staff, next_url="/admin/") == MFA_STAGE
    assert not is_signed_in(client)
    assert client.get("/admin/").status_code == 302
    response = client.post(MFA_STAGE, {"code": totp_code(secret)})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_admin_password_form_is_not_a_way_around_mfa(client: Client) -> None:
    staff = UserFactory(is_staff=True)
    with_totp(staff)
    response = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not is_signed_in(client)


def test_non_staff_cannot_enter_the_admin(client: Client) -> None:
    user = UserFactory()
    sign_in(client, user)
    assert client.get("/admin/login/").status_code == 403
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
