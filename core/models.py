"""The email outbox: one row per email and recipient, rendered when it is enqueued, so a
row is all a worker needs to send it and all a person needs to read it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutboxEmail(models.Model):
    recipient = models.EmailField(max_length=254)
    # The template's name under templates/emails/, or allauth's template prefix.
    template = models.CharField(max_length=200)
    from_email = models.CharField(max_length=320)
    subject = models.CharField(max_length=998)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    # Ids and plain values of the rendering context, so staff can tell what an email was
    # about after its bodies are cleared.
    facts = models.JSONField(default=dict, blank=True)
    # The same enqueue run twice (a retried task) finds its rows instead of adding more.
    dedupe_key = models.CharField(max_length=512, null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A plain id, not a foreign key: core sits below every app that owns workspaces.
    workspace_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbox email"
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="outbox_email_dedupe_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values), name="outbox_email_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=OutboxStatus.SENT) | Q(sent_at__isnull=False),
                name="outbox_email_sent_has_sent_at",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="outbox_email_newest"),
            models.Index(fields=["status", "created_at"], name="outbox_email_status"),
            models.Index(fields=["workspace_id", "created_at"], name="outbox_email_workspace"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} to {self.recipient}"
