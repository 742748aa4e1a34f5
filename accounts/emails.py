"""Emails with a text and an HTML part (R-UI-2), rendered from
``templates/emails/<name>.{subject.txt,txt,html}``, with absolute links from SITE_URL."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
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


# Long enough for every retry and redelivery of a task (minutes), short enough to expire.
SENT_MARK_TTL = 60 * 60 * 24
logger = logging.getLogger(__name__)


def send_templated_once(
    run_id: str | None, name: str, to: list[str], context: dict[str, Any]
) -> bool:
    """send_templated, unless this task run sent the email to these recipients already: a
    task that runs again (retried after a partial failure, or delivered again after its
    worker died) keeps its id and does not mail the same person twice. Without an id (a
    task called as a plain function) the email is sent.

    The marks live in the shared cache; when it is down the email is sent (at least once
    rather than never). A worker killed between sending and marking sends it again."""
    if not run_id:
        send_templated(name, to, context)
        return True
    mark = f"email-sent:{run_id}:{name}:{','.join(sorted(to))}"
    try:
        if cache.get(mark):
            return False
    except Exception:  # a cache outage must not stop the email
        logger.warning("The email-sent marks cannot be read; sending %s anyway", name)
    send_templated(name, to, context)
    try:
        cache.set(mark, 1, SENT_MARK_TTL)
    except Exception:  # likewise
        logger.warning("The email-sent mark of %s cannot be written", name)
    return True
