"""The console email backend of `make run`: emails readable on the terminal."""

from __future__ import annotations

import io

from django.core.mail import EmailMultiAlternatives

from console.env import email_mailers
from core.backends import ConsoleEmailBackend
from tests.core.conftest import NOTICE_URL


def test_console_url_uses_the_readable_backend() -> None:
    assert email_mailers("console://") == {
        "default": {"BACKEND": "core.backends.ConsoleEmailBackend"}
    }


def test_the_text_part_is_printed_decoded_with_its_long_link_whole() -> None:
    stream = io.StringIO()
    message = EmailMultiAlternatives(
        subject="[Console] Confirm your email",
        body=f"Hello Zoë,\n\nConfirm here:\n{NOTICE_URL}\n",
        from_email="Console <no-reply@console.test>",
        to=["new@example.test"],
    )
    message.attach_alternative(f'<p><a href="{NOTICE_URL}">Confirm</a></p>', "text/html")
    assert ConsoleEmailBackend(stream=stream).send_messages([message]) == 1
    out = stream.getvalue()
    assert "Subject: [Console] Confirm your email\n" in out
    assert "To: new@example.test\n" in out
    # One line, as written: no soft line breaks, no "=3D", no encoded accents.
    assert f"\n{NOTICE_URL}\n" in out and "Hello Zoë," in out
    assert "=3D" not in out and "=\n" not in out and "Content-Transfer-Encoding" not in out
    # The HTML part is mentioned, not dumped.
    assert "(an HTML part too)" in out and "<a href" not in out
    assert out.rstrip().endswith("-" * 79)


def test_an_html_only_email_prints_its_html() -> None:
    stream = io.StringIO()
    message = EmailMultiAlternatives(subject="Hi", body="<p>Only HTML</p>", to=["a@b.test"])
    message.content_subtype = "html"
    ConsoleEmailBackend(stream=stream).send_messages([message])
    assert "<p>Only HTML</p>" in stream.getvalue()
