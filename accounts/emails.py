"""Emails with a text and an HTML part (R-UI-2), rendered from
``templates/emails/<name>.{subject.txt,txt,html}``, with absolute links from SITE_URL."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def send_templated(name: str, to: list[str], context: dict[str, Any]) -> None:
    ctx = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}.subject.txt", ctx).split())
    text = render_to_string(f"emails/{name}.txt", ctx)
    html = render_to_string(f"emails/{name}.html", ctx)
    message = EmailMultiAlternatives(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, body=text, to=to
    )
    message.attach_alternative(html, "text/html")
    message.send()
