"""The service API's records (R-FEAT-4, R-KEY-3, R-MEDIA-3): the tokens the platform's gateway
authenticates with, and the feature-use events it reports."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone

from accounts.models import Membership, User, Workspace
from core import registry

TOKEN_PREFIX = "svc_"
# How much of a token is kept in clear to tell tokens apart: "svc_" and 8 random characters.
SHOWN_CHARS = 12


def new_raw_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(raw: str) -> str:
    # A plain sha256 is enough: the token is 256 random bits, not a password to stretch.
    return hashlib.sha256(raw.encode()).hexdigest()


class ServiceToken(models.Model):
    """A secret the gateway sends as ``Authorization: Bearer svc_...``. Only its hash is
    stored; staff see it once, when it is created in the admin."""

    name = models.CharField(
        max_length=100, help_text="What uses the token, e.g. “Gateway, production”."
    )
    prefix = models.CharField(max_length=SHOWN_CHARS, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Written at most once a minute, so calls do not each cost a write.
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Outcome(models.TextChoices):
    USED = "used", "Used"
    ATTEMPTED = "attempted", "Attempted"


class FeatureUseEvent(models.Model):
    """The gateway's report that a member used or tried a feature, with the console's decision
    at the time it was received. The gateway's event id makes a replay a no-op."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    # Kept when the member is later removed: the email below still says who it was.
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_email = models.EmailField(max_length=254)
    feature = models.CharField(max_length=40, choices=registry.CHOICES)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    event_id = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    # The decision when the event was received (features.decisions), as the response gave it.
    allowed = models.BooleanField()
    code = models.CharField(max_length=40)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "event_id"], name="feature_use_event_once"
            ),
        ]
        indexes = [models.Index(fields=["-received_at", "-id"], name="feature_use_received")]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.feature} by {self.user_email} ({self.event_id})"
