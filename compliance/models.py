"""Media Customer status and its consequences (R-MEDIA-1 to R-MEDIA-5): the history of the
status, editorial-use authorizations, news-use violations and appeals. The suspension
itself is the workspace's (``accounts.Workspace.suspended_at``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import Group, Membership, User, Workspace
from core.requests import DecidedRequest, one_pending, status_field

# The definition from the terms of service ("Media Customers"), shown wherever the question is asked.
MEDIA_CUSTOMER_DEFINITION = (
    "A Media Customer is any entity that disseminates information for editorial purposes on a "
    "regular basis and in a professional capacity, whether to the general public or to "
    "professionals, even if such activity is conducted by a specific department within the "
    "entity and constitutes only a part of its overall business activities."
)


class MediaSource(models.TextChoices):
    SELF = "self", "Self-declaration"
    STAFF = "staff", "Staff"


class MediaStatusChange(models.Model):
    """One row per change of a workspace's Media Customer status; the latest row is the
    current status, and a workspace without rows is not a Media Customer."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="media_status_changes"
    )
    is_media_customer = models.BooleanField()
    source = models.CharField(max_length=10, choices=MediaSource.choices)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="media_status_latest")
        ]

    def __str__(self) -> str:
        state = "Media Customer" if self.is_media_customer else "not a Media Customer"
        return f"{self.workspace}: {state} ({self.get_source_display()})"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"


class EditorialAuthorization(DecidedRequest):
    """A workspace's request for editorial use of verified news (R-MEDIA-4) and, once staff
    approve it, the exception: it lifts the Media Customer block for its scope (the whole
    workspace, or one group) until its end date, inclusive."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="editorial_authorizations"
    )
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    requested_scope = models.TextField(
        help_text="Who would use verified news, and for what, in the workspace's words."
    )
    status = status_field(RequestStatus)
    # The granted scope: a group of the workspace, or everyone when empty.
    scope_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scope_note = models.TextField(blank=True)
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="approved") | models.Q(ends_on__isnull=False),
                name="editorial_approved_has_end",
            ),
            # One request waiting for staff at a time per workspace.
            one_pending("workspace", name="editorial_one_pending"),
        ]
        indexes = [models.Index(fields=["workspace", "status", "ends_on"], name="editorial_active")]

    def __str__(self) -> str:
        return f"Editorial use for {self.workspace} ({self.get_status_display()})"


class NewsViolation(models.Model):
    """A reported use of verified news by a Media Customer's member (R-MEDIA-3). The
    gateway's event id makes a repeated report a no-op."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="news_violations"
    )
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_email = models.EmailField()
    event_id = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "event_id"], name="news_violation_once"),
        ]

    def __str__(self) -> str:
        return f"News use by {self.user_email} in {self.workspace}"


class AppealStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    GRANTED = "granted", "Granted: suspension lifted"
    REJECTED = "rejected", "Rejected: suspension kept"


class Appeal(DecidedRequest):
    """A suspended workspace's appeal (R-MEDIA-5), decided by staff."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="appeals")
    filed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The suspension appealed, as it read when the appeal was filed.
    suspension_reason = models.TextField(blank=True)
    statement = models.TextField()
    status = status_field(AppealStatus)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open appeal at a time per workspace.
            one_pending("workspace", name="appeal_one_pending"),
        ]

    def __str__(self) -> str:
        return f"Appeal of {self.workspace} ({self.get_status_display()})"
