"""Every allauth page in the console's look and under its Content-Security-Policy; the
legal pages that sign-up links to (R-ACC-6); every allauth email with a text and an
HTML part (R-UI-2)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import allauth
import pytest
from django.conf import settings
from django.template.loader import get_template, render_to_string
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ENTRANCE_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
    "/accounts/login/code/",
    "/accounts/confirm-email/",
]
MANAGE_PAGES = [
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/sessions/",
    "/accounts/logout/",
]
# Reached after reauthentication.
MFA_PAGES = [
    "/accounts/2fa/totp/activate/",
    "/accounts/2fa/webauthn/add/",
]


def assert_csp_clean(response) -> None:
    """No inline style or event handler; a script is a static file, a JSON data block
    (never executed) or carries the request's nonce."""
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "style-src 'self'" in policy and "unsafe-inline" not in policy
    html = response.content.decode()
    assert "<style" not in html
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    assert not re.search(r"\son[a-z]+\s*=\s*[\"']", html), "inline event handler"
    assert "javascript:" not in html
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)  # type: ignore[union-attr]
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert (
            'src="/static/' in tag or 'type="application/json"' in tag or f'nonce="{nonce}"' in tag
        ), f"inline script without the nonce: {tag}"


def assert_console_look(html: str) -> None:
    assert "css/console.css" in html
    assert 'class="brand"' in html


@pytest.mark.parametrize("url", ENTRANCE_PAGES)
def test_entrance_pages_are_a_centered_card(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert_console_look(html)
    assert "auth-body" in html and "narrow auth-card" in html
    assert 'href="/legal/terms/"' in html and 'href="/legal/privacy/"' in html
    assert html.count("<h1") == 1
    assert_csp_clean(response)


@pytest.mark.parametrize("url", MANAGE_PAGES)
def test_account_pages_sit_in_the_shell(client: Client, url: str) -> None:
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert_console_look(html)
    assert 'class="topbar"' in html and "account-tabs" in html
    if url != "/accounts/logout/":
        assert 'aria-current="page"' in html
    assert_csp_clean(response)


def test_mfa_pages_after_reauthentication(client: Client) -> None:
    user = UserFactory()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    for url in MFA_PAGES:
        response = client.get(url)
        if response.status_code == 302:
            client.post(response["Location"], {"password": PASSWORD})
            response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "account-tabs" in html
        assert_csp_clean(response)
    # The WebAuthn page needs allauth's scripts: they come as static files.
    html = client.get("/accounts/2fa/webauthn/add/").content.decode()
    assert 'src="/static/mfa/js/webauthn.js"' in html


def test_reauthentication_and_mfa_stage_are_entrance_cards(client: Client) -> None:
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = UserFactory()
    client.force_login(user)
    response = client.get("/accounts/reauthenticate/")
    assert response.status_code == 200 and "auth-card" in response.content.decode()
    assert_csp_clean(response)

    TOTP.activate(user, generate_totp_secret())
    RecoveryCodes.activate(user)
    other = Client()
    other.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    response = other.get("/accounts/2fa/authenticate/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "auth-card" in html and 'name="code"' in html
    assert_csp_clean(response)


def test_field_errors_stand_beside_their_fields(client: Client) -> None:
    response = client.post("/accounts/login/", {"login": "not-an-email", "password": ""})
    html = response.content.decode()
    assert 'class="field has-error"' in html
    assert 'class="error"' in html


def test_rate_limit_page_is_in_the_console_look(rf: RequestFactory) -> None:
    request = rf.get("/accounts/login/")
    request.user = UserFactory.build()
    html = render_to_string("429.html", request=request)
    assert "Too many attempts" in html and "auth-card" in html


# --- Legal pages ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "title"), [("/legal/terms/", "Terms of Service"), ("/legal/privacy/", "Privacy Policy")]
)
def test_legal_pages_are_public_and_name_the_version(client: Client, url: str, title: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{title}</h1>" in html
    assert f"Version {settings.TERMS_VERSION}" in html
    assert_csp_clean(response)
    assert client.post(url).status_code == 405


@override_settings(TERMS_VERSION="2027-03-01")
def test_legal_pages_follow_the_current_terms_version(client: Client) -> None:
    assert "Version 2027-03-01" in client.get("/legal/terms/").content.decode()
    assert "(version 2027-03-01)" in client.get("/accounts/signup/").content.decode()


def test_terms_state_the_age_rules(client: Client) -> None:
    html = client.get("/legal/terms/").content.decode()
    assert "at least 13 years old" in html
    assert "parent or legal guardian" in html


# --- Emails ---------------------------------------------------------------------------


def allauth_email_prefixes() -> list[str]:
    """Every email allauth can send for the apps the console uses."""
    root = Path(allauth.__file__).parent / "templates"
    prefixes = []
    for app in ("account", "mfa"):
        for path in sorted((root / app / "email").glob("*_message.txt")):
            name = path.name.removesuffix("_message.txt")
            if name != "base":  # the frame the others extend
                prefixes.append(f"{app}/email/{name}")
    return prefixes


EMAIL_CONTEXT = {
    "site_url": "http://testserver",
    "email": "ada@acme.test",
    "activate_url": "http://testserver/accounts/confirm-email/KEY/",
    "password_reset_url": "http://testserver/accounts/password/reset/key/KEY/",
    "signup_url": "http://testserver/accounts/signup/",
    "code": "ABCD-EFGH",
    "from_email": "old@acme.test",
    "to_email": "new@acme.test",
    "deleted_email": "gone@acme.test",
    "ip": "203.0.113.7",
    "user_agent": "Test-Browser/1.0",
    "timestamp": timezone.now() - timedelta(minutes=1),
}


@pytest.mark.parametrize("prefix", allauth_email_prefixes())
def test_every_allauth_email_has_text_and_html_in_the_console_look(prefix: str) -> None:
    context = {**EMAIL_CONTEXT, "user": UserFactory.build(email="ada@acme.test")}
    text = render_to_string(f"{prefix}_message.txt", context)
    html = render_to_string(f"{prefix}_message.html", context)
    subject = render_to_string(f"{prefix}_subject.txt", context).strip()
    assert subject and "\n" not in subject
    # The console's frame: the HTML part builds on templates/emails/base.html.
    assert get_template(f"{prefix}_message.html")
    assert "<html" in html and "Console" in html and "http://testserver" in html
    assert "Hello" in text and "http://testserver" in text
    # Links are absolute and the same in both parts.
    for url in re.findall(r"https?://[^\s\"<>]+", text):
        assert url in html, (prefix, url)
    # Values are escaped in HTML.
    assert "<script" not in html


def test_notification_emails_say_where_the_change_came_from() -> None:
    context = {**EMAIL_CONTEXT, "user": UserFactory.build()}
    html = render_to_string("account/email/password_changed_message.html", context)
    text = render_to_string("account/email/password_changed_message.txt", context)
    for part in (html, text):
        assert "203.0.113.7" in part and "Test-Browser/1.0" in part
        assert "http://testserver/accounts/password/reset/" in part


def test_email_values_are_escaped_in_html() -> None:
    context = {**EMAIL_CONTEXT, "user": UserFactory.build(), "email": "<b>x</b>@acme.test"}
    html = render_to_string("account/email/email_confirmation_message.html", context)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


# Promises of the legal pages that the console does not keep yet, each said plainly.
NOT_YET = [
    ("/legal/terms/", "deleting your account yourself"),
    ("/legal/terms/", "automatic deletion of account data"),
    ("/legal/terms/", "the notice of new terms"),
    ("/legal/privacy/", "the scheduled deletion that applies these periods"),
    ("/legal/privacy/", "making these requests from the console"),
    ("/legal/privacy/", "downloading a copy of your data"),
]


@pytest.mark.parametrize(("url", "promise"), NOT_YET)
def test_legal_pages_say_what_is_not_available_yet(client: Client, url: str, promise: str) -> None:
    import re  # noqa: PLC0415

    from console.legal import NOT_AVAILABLE  # noqa: PLC0415

    html = client.get(url).content.decode()
    notes = re.findall(
        rf'<p class="notice notice-warn" role="note"[^>]*><strong>{NOT_AVAILABLE}:</strong>([^<]*)</p>',
        html,
    )
    assert any(promise in note for note in notes), notes


def test_legal_pages_no_longer_promise_what_is_not_built(client: Client) -> None:
    terms = client.get("/legal/terms/").content.decode()
    privacy = client.get("/legal/privacy/").content.decode()
    assert "You may delete your account at any time" not in terms
    assert "Account data is kept one year after termination, then deleted" not in terms
    assert "we tell you by email and in the console" not in terms
    assert "You may ask for access to your data" not in privacy
    assert "Account data is kept while your account exists" not in privacy
