"""Plans and subscriptions (R-FEAT-3, R-FEAT-4). Plans are data that staff edit in the
admin; each workspace has at most one current subscription (``ended_at`` empty)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from accounts.models import User, Workspace
from core import registry


class PlanKind(models.TextChoices):
    API_PAYG = "api_payg", "API, pay as you go"
    CHAT_INDIVIDUAL = "chat_individual", "Chat, individual"
    CHAT_TEAM = "chat_team", "Chat, team (per seat)"
    ENTERPRISE = "enterprise", "Enterprise"


class PriceBasis(models.TextChoices):
    FREE = "free", "Free"
    FLAT = "flat", "Per month"
    PER_SEAT = "per_seat", "Per seat per month"
    USAGE = "usage", "By usage"
    CUSTOM = "custom", "Custom contract"


class Plan(models.Model):
    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=20, choices=PlanKind.choices)
    description = models.TextField(blank=True)
    price_basis = models.CharField(
        max_length=10, choices=PriceBasis.choices, default=PriceBasis.FREE
    )
    # The monthly price of the basis (per workspace or per seat); empty for usage and custom.
    monthly_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    # Feature keys of ``core.registry`` the plan includes. Agent sharing follows
    # ``allows_agent_sharing`` below, not this list.
    features = models.JSONField(default=list, blank=True)
    seat_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty means no limit."
    )
    requests_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty means no limit."
    )
    tokens_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty means no limit."
    )
    monthly_token_cap = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Empty means no cap."
    )
    allows_agent_sharing = models.BooleanField(default=False)
    trains_on_data_by_default = models.BooleanField(
        default=False,
        help_text="Whether inputs may be used for training unless the workspace opts out.",
    )
    # Whether workspaces may choose the plan themselves (enterprise is arranged with sales).
    self_serve = models.BooleanField(default=True)
    # Only one plan is the default: new workspaces start on it.
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(
        default=True, help_text="Inactive plans are not offered to new choices."
    )
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="plan_one_default"
            ),
            models.CheckConstraint(
                condition=models.Q(monthly_price__isnull=True)
                | models.Q(monthly_price__gte=Decimal("0")),
                name="plan_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = [k for k in self.features or [] if k not in registry.BY_KEY]
        if not isinstance(self.features, list) or unknown:
            raise ValidationError(
                {"features": f"Unknown feature keys: {', '.join(map(str, unknown))}."}
            )
        if (
            self.price_basis in (PriceBasis.FLAT, PriceBasis.PER_SEAT)
            and self.monthly_price is None
        ):
            raise ValidationError(
                {"monthly_price": "A plan priced per month or per seat needs a monthly price."}
            )

    @property
    def feature_keys(self) -> frozenset[str]:
        """The features the plan includes, agent sharing included when the plan allows it."""
        keys = {k for k in self.features or [] if k in registry.BY_KEY} - {registry.AGENT_SHARING}
        if self.allows_agent_sharing:
            keys.add(registry.AGENT_SHARING)
        return frozenset(keys)


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Canceled"
    ENDED = "ended", "Ended"


class Subscription(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(
        max_length=12, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    started_at = models.DateTimeField(default=timezone.now)
    current_period_start = models.DateTimeField(default=timezone.now)
    current_period_end = models.DateTimeField()
    # Set when the subscription is replaced (plan change) or ends; the current one has none.
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(ended_at__isnull=True),
                name="subscription_one_current",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "-started_at"], name="subscription_ws_started")
        ]

    def __str__(self) -> str:
        return f"{self.workspace} on {self.plan}"

    @property
    def is_current(self) -> bool:
        return self.ended_at is None
