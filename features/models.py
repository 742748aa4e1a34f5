"""Admins' feature rules and users' own switches (R-WS-6, R-FEAT-1, R-FEAT-2).

A rule applies to the whole workspace, to one group or to one member, and says allow or
deny; no row means inherit. A user's switch is a row saying they turned a feature off."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import Group, Membership, User, Workspace
from core import registry


class Effect(models.TextChoices):
    ALLOW = "allow", "Allow"
    DENY = "deny", "Deny"


class FeatureRule(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="feature_rules")
    feature = models.CharField(max_length=40, choices=registry.CHOICES)
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="feature_rules"
    )
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.CASCADE, related_name="feature_rules"
    )
    effect = models.CharField(max_length=5, choices=Effect.choices)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(group__isnull=True) | models.Q(membership__isnull=True),
                name="feature_rule_one_target",
            ),
            models.UniqueConstraint(
                fields=["workspace", "feature"],
                condition=models.Q(group__isnull=True, membership__isnull=True),
                name="feature_rule_one_per_workspace",
            ),
            models.UniqueConstraint(
                fields=["group", "feature"],
                condition=models.Q(group__isnull=False),
                name="feature_rule_one_per_group",
            ),
            models.UniqueConstraint(
                fields=["membership", "feature"],
                condition=models.Q(membership__isnull=False),
                name="feature_rule_one_per_member",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "feature"], name="feature_rule_ws")]

    def __str__(self) -> str:
        target = self.group or self.membership or "workspace"
        return f"{self.get_effect_display()} {self.feature} for {target}"

    @property
    def level(self) -> str:
        if self.membership_id:
            return "member"
        if self.group_id:
            return "group"
        return "workspace"


class FeatureOptOut(models.Model):
    """A user switched a feature off for themselves in one workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="feature_opt_outs"
    )
    feature = models.CharField(max_length=40, choices=registry.CHOICES)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "feature"], name="feature_opt_out_once"),
        ]

    def __str__(self) -> str:
        return f"{self.membership} switched off {self.feature}"
