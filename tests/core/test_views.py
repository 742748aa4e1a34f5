"""The local outbox pages (DEBUG only) and the staff's read-only view in the admin."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core import email
from core.models import OutboxEmail, OutboxStatus
from tests.core.conftest import NOTICE, NOTICE_URL

pytestmark = pytest.mark.django_db


def same_link(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc, pa.path) == (pb.scheme, pb.netloc, pb.path) and parse_qsl(
        pa.query
    ) == parse_qsl(pb.query)


@pytest.fixture
def debug(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True


def row(recipient: str, subject: str, minutes_ago: int = 0, **fields: object) -> OutboxEmail:
    rendered = email.render("test_notice", NOTICE)
    defaults: dict[str, object] = {
        "template": "test_notice",
        "from_email": "Console <no-reply@console.test>",
        "body_text": rendered.text,
        "body_html": rendered.html,
        "status": OutboxStatus.QUEUED,
    }
    return OutboxEmail.objects.create(
        recipient=recipient,
        subject=subject,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **{**defaults, **fields},
    )


@pytest.mark.usefixtures("notice_template", "debug")
def test_the_outbox_lists_emails_newest_first(client: Client) -> None:
    row("old@acme.test", "The older one", minutes_ago=10)
    row("new@acme.test", "The newer one", status=OutboxStatus.SENT, sent_at=timezone.now())
    response = client.get(reverse("dev_outbox"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("The newer one") < page.index("The older one")
    assert "new@acme.test" in page and "old@acme.test" in page
    assert ">Sent<" in page and ">Queued<" in page


@pytest.mark.usefixtures("debug")
def test_an_empty_outbox_says_so(client: Client) -> None:
    assert "No email yet" in client.get(reverse("dev_outbox")).content.decode()


@pytest.mark.usefixtures("notice_template", "debug")
def test_an_email_shows_its_text_with_a_working_link_and_its_html_sandboxed(
    client: Client,
) -> None:
    shown = row("new@acme.test", "Notice for Acme")
    response = client.get(reverse("dev_outbox_email", args=[shown.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    # The long link of the text part is whole and clickable (its query re-quoted, which
    # the server reads the same).
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', page)
    [(href, text)] = [(html.unescape(h), html.unescape(t)) for h, t in links if "notices" in h]
    assert text == NOTICE_URL
    assert same_link(href, NOTICE_URL)
    # The HTML part in a sandboxed frame: no scripts, links open outside it.
    [frame] = re.findall(r"<iframe[^>]*>", page)
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in frame
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    assert '<head><base target="_blank">' in srcdoc and "<strong>Acme</strong>" in srcdoc
    assert "<script" not in srcdoc
    # The email's inline styles may apply; scripts still need the page's nonce.
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert re.fullmatch(r"'self' 'nonce-[^']+'", directives["script-src"])
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.usefixtures("notice_template", "debug")
def test_an_email_of_no_html_and_a_missing_email(client: Client) -> None:
    plain = row("new@acme.test", "Plain", body_html="")
    page = client.get(reverse("dev_outbox_email", args=[plain.pk])).content.decode()
    assert "No HTML part." in page and "<iframe" not in page
    assert client.get(reverse("dev_outbox_email", args=[plain.pk + 1000])).status_code == 404


@pytest.mark.usefixtures("notice_template")
def test_without_debug_the_outbox_does_not_exist(client: Client, settings) -> None:
    shown = row("new@acme.test", "Notice for Acme")
    staff = User.objects.create_superuser("staff@console.test", "pw-staff-long-enough-1")
    client.force_login(staff)
    settings.DEBUG = False
    assert client.get(reverse("dev_outbox")).status_code == 404
    assert client.get(reverse("dev_outbox_email", args=[shown.pk])).status_code == 404
    settings.DEBUG = True
    assert client.get(reverse("dev_outbox")).status_code == 200


# --- The staff admin --------------------------------------------------------------------


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("staff@console.test", "pw-staff-long-1"))
    return client


@pytest.mark.usefixtures("notice_template")
def test_staff_list_search_and_filter_the_outbox(staff_client: Client) -> None:
    row("alice@acme.test", "Welcome Alice", status=OutboxStatus.SENT, sent_at=timezone.now())
    row("bob@acme.test", "Welcome Bob", status=OutboxStatus.FAILED, last_error="OSError: down")
    url = reverse("admin:core_outboxemail_changelist")
    page = staff_client.get(url).content.decode()
    assert "Welcome Alice" in page and "Welcome Bob" in page
    page = staff_client.get(url, {"q": "alice@"}).content.decode()
    assert "Welcome Alice" in page and "Welcome Bob" not in page
    page = staff_client.get(url, {"status__exact": "failed"}).content.decode()
    assert "Welcome Bob" in page and "Welcome Alice" not in page


@pytest.mark.usefixtures("notice_template")
def test_staff_cannot_add_change_or_delete_outbox_emails(staff_client: Client) -> None:
    shown = row("alice@acme.test", "Welcome Alice")
    assert staff_client.get(reverse("admin:core_outboxemail_add")).status_code == 403
    change = reverse("admin:core_outboxemail_change", args=[shown.pk])
    page = staff_client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert staff_client.post(change, {"subject": "Changed"}).status_code == 403
    delete = reverse("admin:core_outboxemail_delete", args=[shown.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    shown.refresh_from_db()
    assert shown.subject == "Welcome Alice"


def test_members_who_are_not_staff_do_not_see_the_admin(client: Client) -> None:
    client.force_login(User.objects.create_user("member@acme.test", "pw-member-long-1"))
    response = client.get(reverse("admin:core_outboxemail_changelist"))
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
