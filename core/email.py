"""Emails of the console through one outbox (R-UI-2).

An email is rendered from ``templates/emails/<name>.{subject.txt,txt,html}`` when it is
enqueued, with absolute links from SITE_URL, and stored as one ``OutboxEmail`` row per
recipient; once the transaction commits, one Celery task per row sends it. A task that is
retried resends only its own row, never the recipients already served, and a row that is
sent is never sent again.

Public functions: ``render``, ``enqueue``, ``deliver``, ``record_failure``,
``send_recorded`` (emails that must go out at once, such as allauth's) and ``describe``.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import OutboxEmail, OutboxStatus

# Errors worth another try later: the mail server is down, slow or refuses for now.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OSError, smtplib.SMTPException)

ERROR_MAX_LENGTH = 1000
FACT_MAX_LENGTH = 200


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(template: str, context: Mapping[str, Any]) -> Rendered:
    ctx = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}.subject.txt", ctx).split())
    prefix = getattr(settings, "ACCOUNT_EMAIL_SUBJECT_PREFIX", "") or ""
    return Rendered(
        subject=prefix + subject,
        text=render_to_string(f"emails/{template}.txt", ctx),
        html=render_to_string(f"emails/{template}.html", ctx),
    )


def facts_of(context: Mapping[str, Any]) -> dict[str, Any]:
    """What the email was about, as ids and short plain values. Links are left out: they
    carry tokens."""
    facts: dict[str, Any] = {}
    for key, value in context.items():
        if isinstance(value, models.Model):
            facts[f"{key}_id"] = value.pk if isinstance(value.pk, int) else str(value.pk)
        elif key.endswith("url"):
            continue
        elif value is None or isinstance(value, bool | int):
            facts[key] = value
        elif isinstance(value, str):
            facts[key] = value[:FACT_MAX_LENGTH]
    return facts


def _workspace_id(context: Mapping[str, Any]) -> int | None:
    pk = getattr(context.get("workspace"), "pk", None)
    return pk if isinstance(pk, int) else None


def _dispatch(row_id: int) -> None:
    from .tasks import send_outbox_email  # noqa: PLC0415  (the task module imports this one)

    send_outbox_email.delay(row_id)


def enqueue(
    template: str,
    recipients: Iterable[str],
    context: Mapping[str, Any],
    *,
    dedupe_key: str | None = None,
    workspace_id: int | None = None,
) -> list[OutboxEmail]:
    """Render ``template`` once and queue one email per recipient; each is sent by its own
    task after the current transaction commits, so a rolled-back change sends nothing.

    With ``dedupe_key``, a second call finds the rows of the first (one key per
    recipient) instead of adding more; a row of theirs still queued is dispatched again,
    which is harmless since a row is sent at most once.
    """
    addresses = list(dict.fromkeys(r.strip() for r in recipients if r and r.strip()))
    if not addresses:
        return []
    rendered = render(template, context)
    fields = {
        "template": template,
        "from_email": settings.DEFAULT_FROM_EMAIL,
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "facts": facts_of(context),
        "workspace_id": workspace_id if workspace_id is not None else _workspace_id(context),
    }
    rows: list[OutboxEmail] = []
    with transaction.atomic():
        for address in addresses:
            if dedupe_key is None:
                row = OutboxEmail.objects.create(recipient=address, **fields)
            else:
                row, _ = OutboxEmail.objects.get_or_create(
                    dedupe_key=f"{dedupe_key}:{address.lower()}",
                    defaults={"recipient": address, **fields},
                )
            rows.append(row)
            if row.status == OutboxStatus.QUEUED:
                transaction.on_commit(partial(_dispatch, row.pk))
    return rows


def message_of(row: OutboxEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        from_email=row.from_email or None,
        to=[row.recipient],
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    return message


def _keep_bodies() -> bool:
    return bool(getattr(settings, "OUTBOX_KEEP_SENT_BODIES", False))


def deliver(row_id: int) -> bool:
    """Send one queued row; True when this call sent it.

    The row stays locked while it is sent, so two workers never send it both; a row that
    is missing, locked by another worker, sent or failed is left alone. A failed send
    counts the attempt and keeps the error on the row, then raises for the caller to
    retry.
    """
    error: Exception | None = None
    with transaction.atomic():
        row = (
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=row_id, status=OutboxStatus.QUEUED)
            .first()
        )
        if row is None:
            return False
        row.attempts += 1
        try:
            message_of(row).send()
        except Exception as exc:
            error = exc
            row.last_error = describe(exc)
            row.save(update_fields=["attempts", "last_error"])
        else:
            row.status = OutboxStatus.SENT
            row.sent_at = timezone.now()
            update = ["attempts", "status", "sent_at"]
            if not _keep_bodies():
                row.body_text = row.body_html = ""
                update += ["body_text", "body_html"]
            row.save(update_fields=update)
    if error is not None:
        raise error
    return True


def record_failure(row_id: int, exc: BaseException) -> None:
    """Mark a row failed for good, after its last try; a sent row stays sent."""
    OutboxEmail.objects.filter(pk=row_id, status=OutboxStatus.QUEUED).update(
        status=OutboxStatus.FAILED, last_error=describe(exc)
    )


def send_recorded(message: EmailMessage, *, template: str) -> list[OutboxEmail]:
    """Send ``message`` now and record it in the outbox, one row per recipient, sent or
    failed. For emails whose caller needs them gone when it returns (allauth's)."""
    text, html = bodies_of(message)
    rows = [
        OutboxEmail(
            recipient=address,
            template=template,
            from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
            subject=str(message.subject),
            body_text=text,
            body_html=html,
            attempts=1,
        )
        for address in message.recipients()
    ]
    try:
        message.send()
    except Exception as exc:
        for row in rows:
            row.status, row.last_error = OutboxStatus.FAILED, describe(exc)
        OutboxEmail.objects.bulk_create(rows)
        raise
    now = timezone.now()
    for row in rows:
        row.status, row.sent_at = OutboxStatus.SENT, now
        if not _keep_bodies():
            row.body_text = row.body_html = ""
    return OutboxEmail.objects.bulk_create(rows)


def bodies_of(message: EmailMessage) -> tuple[str, str]:
    """The plain text and HTML bodies of a message, as written (not transfer-encoded)."""
    text, html = "", ""
    if message.content_subtype == "html":
        html = str(message.body)
    else:
        text = str(message.body)
    for alternative in getattr(message, "alternatives", []):
        content, mimetype = alternative[0], alternative[1]
        if mimetype == "text/html" and not html:
            html = content.decode() if isinstance(content, bytes) else str(content)
    return text, html


def _mail_secrets() -> list[str]:
    secrets = [getattr(settings, "EMAIL_HOST_PASSWORD", "")]
    for config in getattr(settings, "MAILERS", {}).values():
        secrets.append(str(config.get("OPTIONS", {}).get("password", "")))
    return [s for s in secrets if s]


def describe(exc: BaseException) -> str:
    """The error as staff may read it: its type and message, without the mail server's
    password should a library put it there."""
    text = f"{type(exc).__name__}: {exc}"
    for secret in _mail_secrets():
        text = text.replace(secret, "***")
    return text[:ERROR_MAX_LENGTH]
