from __future__ import annotations

import secrets
from datetime import date
from typing import Any, ClassVar

import pgtrigger
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core.requests import DecidedRequest, one_pending, status_field

from .roles import Role

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1 to 50 lowercase letters, digits and hyphens, not starting or ending with a hyphen.",
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Accounts are individual (Terms 1): one person, one account."""

    email = models.EmailField("email address", max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Platform staff: may use the admin.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # R-ACC-2: the age gate's answers are kept on the user.
    birth_date = models.DateField(null=True, blank=True)
    guardian_consent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a minor confirmed a parent's or guardian's permission.",
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@", 1)[0]

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.display_name

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


class TermsAcceptance(models.Model):
    """R-ACC-6: who accepted which terms version, when and from where."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="terms_acceptances")
    version = models.CharField(max_length=32)
    accepted_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "version"], name="terms_acceptance_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} accepted {self.version}"


class JoinMode(models.TextChoices):
    AUTO = "auto", "Join automatically"
    REQUEST = "request", "Ask an admin to approve"


class Workspace(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True, validators=[SLUG_VALIDATOR])
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Domain auto-join (R-WS-4): what happens to a verified user of a verified domain.
    join_mode = models.CharField(max_length=10, choices=JoinMode.choices, default=JoinMode.REQUEST)
    default_role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.MEMBER)
    # A suspended workspace's members see a notice and cannot act.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.TextField(blank=True)
    # The active members the current plan allows (empty: no limit). Billing keeps it in the
    # transaction that changes the plan, so that every way of joining checks the seat
    # under the workspace's row lock without reading the plans.
    seat_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Active members the plan allows; empty means no limit."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(default_role=Role.OWNER),
                name="workspace_default_role_not_owner",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class MemberStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DEACTIVATED = "deactivated", "Deactivated"


class Membership(models.Model):
    """A user's place in a workspace: an authorized user (Terms 1)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(
        max_length=12, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["workspace", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user"),
        ]
        indexes = [
            models.Index(fields=["workspace", "role"], name="membership_ws_role"),
            models.Index(fields=["workspace", "status"], name="membership_ws_status"),
            models.Index(fields=["workspace", "joined_at"], name="membership_ws_joined"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.get_role_display()})"

    @property
    def is_active(self) -> bool:
        return self.status == MemberStatus.ACTIVE


class Group(models.Model):
    """R-WS-7: members grouped for sharing and feature rules."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)
    members = models.ManyToManyField(Membership, related_name="groups", blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("workspace", Lower("name"), name="group_unique_name_ci"),
        ]

    def __str__(self) -> str:
        return self.name


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


def _new_token() -> str:
    return secrets.token_urlsafe(24)


class Invitation(models.Model):
    """R-WS-3. The link carries a signed value of the invitation's id and its nonce; the
    nonce changes on every resend, so an older link stops working."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.MEMBER)
    groups = models.ManyToManyField(Group, related_name="invitations", blank=True)
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    nonce = models.CharField(max_length=64, default=_new_token)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    send_count = models.PositiveIntegerField(default=1)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "workspace",
                Lower("email"),
                condition=models.Q(status="pending"),
                name="invitation_one_pending_per_email",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "created_at"], name="invitation_ws_status")
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.workspace}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class Domain(models.Model):
    """R-WS-4: a domain claimed by a workspace, proven by a DNS TXT record. A verified
    domain belongs to one workspace at most."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="domains")
    name = models.CharField(max_length=253)
    token = models.CharField(max_length=64, default=_new_token)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                condition=models.Q(verified_at__isnull=False),
                name="domain_verified_once",
            ),
            models.UniqueConstraint("workspace", Lower("name"), name="domain_unique_per_workspace"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def txt_value(self) -> str:
        return f"{settings.DOMAIN_TXT_PREFIX}{self.token}"


class JoinRequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"


class JoinRequest(DecidedRequest):
    """A user's request to join a workspace by its domain, decided by the workspace's
    admins (or closed when the user joins another way)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="join_requests")
    domain = models.ForeignKey(Domain, null=True, on_delete=models.SET_NULL, related_name="+")
    status = status_field(JoinRequestStatus)

    class Meta:
        ordering = ["-created_at"]
        constraints = [one_pending("workspace", "user", name="join_request_one_pending")]

    def __str__(self) -> str:
        return f"{self.user} asks to join {self.workspace}"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Audit events are append-only.")


class AuditEvent(models.Model):
    """R-WS-8: one line of the append-only audit log. Nothing updates or deletes it: the
    ORM refuses, and on PostgreSQL the database refuses too (the trigger below).

    The workspace and the actor are kept by id without a database constraint, plus a text
    copy: deleting a workspace or a user leaves its events as they were, with the old id
    (SET_NULL would be an UPDATE of the log, which the trigger refuses)."""

    workspace = models.ForeignKey(
        Workspace,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="audit_events",
    )
    workspace_name = models.CharField(max_length=100, blank=True)
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254, blank=True, help_text="Empty for the system.")
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="audit_ws_time"),
            models.Index(fields=["workspace", "action", "-created_at"], name="audit_ws_action"),
            models.Index(fields=["workspace", "actor", "-created_at"], name="audit_ws_actor"),
        ]
        # A row-level trigger: TRUNCATE (the test runner's flush) does not fire it.
        triggers = [
            pgtrigger.Protect(
                name="audit_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_email or 'system'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("Audit events are append-only.")

    @property
    def actor_label(self) -> str:
        return self.actor_email or "System"
