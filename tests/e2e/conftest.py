"""End-to-end harness: Debian's Chromium driven by Playwright (sync API) against
pytest-django's live server.

- The browser is the system's Chromium (/usr/bin/chromium, or CHROMIUM_PATH), never a
  browser build downloaded by Playwright.
- Every page opened through the fixtures fails its test on a Content Security Policy
  violation or a JavaScript error: the console's pages must work under the strict CSP.
- The live server runs in a thread of the test process, so the locmem outbox sees the
  emails it sends, and Celery runs eagerly (tests' default), so a task's email is in the
  outbox when the request that enqueued it returns.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.core import mail
from django.core.mail import EmailMessage

# Playwright's sync API runs an event loop in this thread; Django would then refuse ORM
# calls from the test body, which are plain synchronous calls here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import (  # noqa: E402
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from accounts.models import Group, Membership, Workspace  # noqa: E402
from accounts.roles import Role  # noqa: E402
from billing.models import Plan  # noqa: E402
from tests.factories import (  # noqa: E402
    GroupFactory,
    MembershipFactory,
    SubscriptionFactory,
    UserFactory,
    WorkspaceFactory,
)

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Each step (an element, a navigation, an expectation) waits at most this long: generous,
# because a busy machine runs several test processes at once.
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)
CSP_MARKERS = ("Content Security Policy", "Refused to")
LINK = re.compile(r"https?://[^\s<>\"']+")


# --- The browser ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not os.access(CHROMIUM_PATH, os.X_OK):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM_PATH}: install Debian's package (`make browser`) "
            "or set CHROMIUM_PATH; the end-to-end tests never download a browser."
        )
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@dataclass
class BrowserProblems:
    """CSP violations and JavaScript errors seen by any page of the test."""

    items: list[str] = field(default_factory=list)

    def watch(self, page: Page, who: str) -> None:
        def on_console(msg: ConsoleMessage) -> None:
            text = msg.text
            if any(marker in text for marker in CSP_MARKERS):
                self.items.append(f"[{who}] CSP: {text} (at {page.url})")
            elif msg.type == "error" and not text.startswith("Failed to load resource"):
                # A failed resource is an HTTP status the test asserts on itself (an
                # expected 404 page, say); any other console error is a script's error.
                self.items.append(f"[{who}] console error: {text} (at {page.url})")

        page.on("console", on_console)
        page.on(
            "pageerror",
            lambda exc: self.items.append(f"[{who}] JavaScript error: {exc} (at {page.url})"),
        )


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
def e2e_settings(settings: object, live_server: object) -> object:
    """Links in emails point at the live server; tasks run eagerly into the outbox."""
    from console.celery import app  # noqa: PLC0415

    settings.SITE_URL = live_server.url  # type: ignore[attr-defined]
    settings.CSRF_TRUSTED_ORIGINS = [live_server.url]  # type: ignore[attr-defined]
    assert app.conf.task_always_eager, (
        "The end-to-end tests read emails from the outbox: Celery must run eagerly"
    )
    assert settings.MAILERS["default"]["BACKEND"].endswith("locmem.EmailBackend")  # type: ignore[attr-defined]
    return settings


NewPage = Callable[[str], Page]


@pytest.fixture
def new_page(
    browser: Browser, live_server: object, e2e_settings: object, browser_problems: BrowserProblems
) -> Iterator[NewPage]:
    """Open a page in a fresh browser context (its own cookies: another person)."""
    contexts: list[BrowserContext] = []

    def open_page(who: str) -> Page:
        context = browser.new_context(base_url=live_server.url)  # type: ignore[attr-defined]
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        browser_problems.watch(page, who)
        return page

    yield open_page
    for context in contexts:
        context.close()
    if browser_problems.items:
        pytest.fail("The browser reported problems:\n" + "\n".join(browser_problems.items))


@pytest.fixture
def page(new_page: NewPage) -> Page:
    """The first person's page; it fails the test on a CSP violation or a JS error."""
    return new_page("first person")


# --- Email helpers ----------------------------------------------------------------------


def last_email(to: str | None = None, timeout: float = 10.0) -> EmailMessage:
    """The last email in the outbox (to ``to`` if given), waiting a little for it."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in mail.outbox if to is None or to in m.to]
        if found:
            return found[-1]
        if time.monotonic() > deadline:
            sent = [(m.to, m.subject) for m in mail.outbox]
            pytest.fail(f"No email to {to or 'anyone'} within {timeout:.0f}s; outbox: {sent}")
        time.sleep(0.1)


def first_link(message: EmailMessage) -> str:
    """The first absolute link of the email's text part."""
    match = LINK.search(message.body)
    assert match, f"No link in the email {message.subject!r}:\n{message.body}"
    return match.group(0)


def email_count(to: str) -> int:
    return sum(1 for m in mail.outbox if to in m.to)


# --- Steps shared by journeys -------------------------------------------------------------


def field_label(text: str) -> re.Pattern[str]:
    """A field's label, with or without the required-field mark after it."""
    return re.compile(rf"^\s*{re.escape(text)}(\s*\*)?\s*$")


def sign_in(page: Page, email: str, password: str, next_path: str = "") -> None:
    """Sign in through the real sign-in page."""
    page.goto("/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label(field_label("Email")).fill(email)
    page.get_by_label(field_label("Password")).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()


def sign_up(page: Page, *, password: str, birth_date: str = "1990-04-01", name: str = "") -> None:
    """Fill the sign-up form that is open (email prefilled or filled by the caller)."""
    if name:
        page.get_by_label(field_label("Full name")).fill(name)
    page.get_by_label(field_label("Password")).fill(password)
    page.get_by_label(field_label("Password (again)")).fill(password)
    page.get_by_label(field_label("Date of birth")).fill(birth_date)
    page.get_by_role("checkbox", name=re.compile("I agree")).check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()


def confirm_email_from_link(page: Page, link: str) -> None:
    """Open the verification link and confirm (confirmation is a POST, never on GET)."""
    page.goto(link)
    page.get_by_role("button", name=re.compile(r"^Confirm", re.I)).click()
    page.wait_for_load_state()


def submit_sensitive(
    page: Page, submit: Callable[[], None], url_part: str, password: str, *, reauth: bool
) -> None:
    """Submit the form of a sensitive change, which allauth's reauthentication guards.

    With ``reauth``, the answer must send the user to confirm their password; once it is
    confirmed, the change that asked completes by itself (allauth replays it), so nothing
    is submitted again. Without it (the password was confirmed a few minutes ago), the
    answer must be the change itself, with no confirmation asked."""
    with page.expect_response(lambda r: url_part in r.url and r.request.method == "POST") as answer:
        submit()
    redirect = answer.value.headers.get("hx-redirect") or ""
    location = answer.value.headers.get("location") or ""
    asked = "/reauthenticate/" in redirect + location or "/reauthenticate/" in page.url
    if not reauth:
        assert not asked, f"The change asked to confirm the password (answer to {url_part})"
        return
    assert asked, f"The change did not ask to confirm the password (answer to {url_part})"
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    page.get_by_label(field_label("Password")).fill(password)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    assert "/reauthenticate/" not in page.url, "The password confirmation was refused"


# --- Data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    """Acme on the Team plan: its owner Ada, Grace in the Research group, Alan outside it."""

    workspace: Workspace
    owner: Membership
    grace: Membership
    alan: Membership
    research: Group


def team_with_a_group() -> Team:
    ws = WorkspaceFactory(name="Acme", slug="acme")
    SubscriptionFactory(workspace=ws, plan=Plan.objects.get(slug="team"))
    owner = MembershipFactory(
        workspace=ws, role=Role.OWNER, user=UserFactory(email="ada@acme.test")
    )
    grace = MembershipFactory(workspace=ws, user=UserFactory(email="grace@acme.test"))
    alan = MembershipFactory(workspace=ws, user=UserFactory(email="alan@acme.test"))
    research = GroupFactory(workspace=ws, name="Research")
    research.members.add(grace)
    return Team(ws, owner, grace, alan, research)
