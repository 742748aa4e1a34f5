"""Agents (R-AGT-1 to R-AGT-7): an agent of a workspace, its immutable versions, its
sharing grants, the workspace's agent settings and the names staff block.

An agent's configuration lives in its versions: every save writes a new ``AgentVersion``
and moves ``Agent.current`` to it, so what the platform serves is one immutable row and
an older one can be restored. The model is part of the version (not of the agent) so a
restore brings back the model its ``max_tokens`` was checked against.

Deleting an agent deletes the row, its versions (the instructions) and its grants; the
audit event keeps the fact (its id, name and how many members lost it), never the
instructions. Nothing else refers to an agent, so from that instant every lookup misses.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Group, Membership, Workspace
from catalogue.models import ModelReference, one_model

NAME_MAX = 64
TEMPERATURE_MIN, TEMPERATURE_MAX = Decimal("0"), Decimal("2")
TOP_P_MIN, TOP_P_MAX = Decimal("0"), Decimal("1")
DEFAULT_TEMPERATURE = Decimal("0.70")
DEFAULT_TOP_P = Decimal("1.00")


class Visibility(models.TextChoices):
    WORKSPACE = "workspace", "Whole workspace"
    RESTRICTED = "restricted", "Chosen members and groups"


class WorkspaceSharing(models.TextChoices):
    """Who may share an agent with the whole workspace."""

    EVERYONE = "everyone", "Every member"
    ADMINS = "admins", "Admins only"


class GrantRole(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"


class Agent(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="agents")
    # The creator; an agent outlives the removal of its creator's membership (admins keep
    # managing it).
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=NAME_MAX)
    description = models.CharField(max_length=500, blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.WORKSPACE
    )
    current = models.OneToOneField(
        "AgentVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Staff approved this agent's name although it names the platform (R-AGT-5); a rename
    # by the workspace lifts the approval.
    name_approved_by_staff = models.BooleanField(default=False)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "workspace", Lower("name"), name="agent_name_unique_in_workspace"
            ),
            models.CheckConstraint(
                condition=models.Q(visibility__in=Visibility.values), name="agent_visibility_known"
            ),
            models.CheckConstraint(
                condition=models.Q(disabled_at__isnull=True, disabled_reason="")
                | (models.Q(disabled_at__isnull=False) & ~models.Q(disabled_reason="")),
                name="agent_disabled_with_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "visibility"], name="agent_by_visibility"),
            # The lists' order: a page is a range of these indexes from its cursor on (the
            # workspace's agents, and a member's own). The workspace's also holds what the
            # rule of "usable by me" reads of an agent, so a page's ids are found in the
            # index alone, however many agents the member passes over (PostgreSQL; other
            # databases build it on its key alone).
            models.Index(
                fields=["workspace", "name", "id"],
                name="agent_by_name",
                include=["visibility", "created_by", "current", "disabled_at"],
            ),
            models.Index(fields=["created_by", "name", "id"], name="agent_by_creator_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None


class AgentVersion(ModelReference):
    """One saved configuration of an agent. Never updated: a save writes the next one."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    instructions = models.TextField(blank=True)
    # Tool keys of ``agents.tools.TOOLS``; the document-search sources by id.
    tools = models.JSONField(default=list, blank=True)
    library_ids = models.JSONField(default=list, blank=True)
    connection_ids = models.JSONField(default=list, blank=True)
    temperature = models.DecimalField(max_digits=3, decimal_places=2, default=DEFAULT_TEMPERATURE)
    # None: the model's own default. At most the model's context window (checked on save).
    max_tokens = models.PositiveIntegerField(null=True, blank=True)
    top_p = models.DecimalField(max_digits=3, decimal_places=2, default=DEFAULT_TOP_P)
    # Which version this one restored, if it is a restore.
    restored_from = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["agent", "-number"]
        constraints = [
            one_model(name="agent_version_one_model"),
            models.UniqueConstraint(fields=["agent", "number"], name="agent_version_number_once"),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="agent_version_number_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(temperature__gte=TEMPERATURE_MIN)
                & models.Q(temperature__lte=TEMPERATURE_MAX),
                name="agent_version_temperature_range",
            ),
            models.CheckConstraint(
                condition=models.Q(top_p__gte=TOP_P_MIN) & models.Q(top_p__lte=TOP_P_MAX),
                name="agent_version_top_p_range",
            ),
            models.CheckConstraint(
                condition=models.Q(max_tokens__isnull=True) | models.Q(max_tokens__gte=1),
                name="agent_version_max_tokens_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} v{self.number}"


class AgentGrant(models.Model):
    """An agent shared with a member or a group of its workspace, as Viewer (use) or
    Editor (use, edit, share, delete)."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="grants")
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.CASCADE, related_name="agent_grants"
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="agent_grants"
    )
    role = models.CharField(max_length=6, choices=GrantRole.choices, default=GrantRole.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(membership__isnull=False, group__isnull=True)
                | models.Q(membership__isnull=True, group__isnull=False),
                name="agent_grant_one_target",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=GrantRole.values), name="agent_grant_role_known"
            ),
            models.UniqueConstraint(
                fields=["agent", "membership"],
                condition=models.Q(membership__isnull=False),
                name="agent_grant_member_once",
            ),
            models.UniqueConstraint(
                fields=["agent", "group"],
                condition=models.Q(group__isnull=False),
                name="agent_grant_group_once",
            ),
        ]
        indexes = [
            models.Index(fields=["membership", "agent"], name="agent_grant_by_member"),
            models.Index(fields=["group", "agent"], name="agent_grant_by_group"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} of agent {self.agent_id}"


class AgentSettings(models.Model):
    """A workspace's agent settings, beyond the terms' default. A workspace without a row
    has the defaults (the terms name the whole workspace)."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="agent_settings"
    )
    default_visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.WORKSPACE
    )
    workspace_sharing = models.CharField(
        max_length=8, choices=WorkspaceSharing.choices, default=WorkspaceSharing.EVERYONE
    )

    class Meta:
        verbose_name_plural = "agent settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(default_visibility__in=Visibility.values),
                name="agent_settings_visibility_known",
            ),
            models.CheckConstraint(
                condition=models.Q(workspace_sharing__in=WorkspaceSharing.values),
                name="agent_settings_sharing_known",
            ),
        ]

    def __str__(self) -> str:
        return f"Agent settings of {self.workspace_id}"


class BlockedTerm(models.Model):
    """A word or phrase staff refuse in agent names (R-AGT-5), matched after Unicode
    normalization and confusable folding (``agents.names``)."""

    term = models.CharField(max_length=NAME_MAX)
    note = models.CharField(max_length=200, blank=True, help_text="Why it is blocked.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["term"]
        constraints = [models.UniqueConstraint(Lower("term"), name="blocked_term_unique")]

    def __str__(self) -> str:
        return self.term
