"""Connections to third-party services, their sync runs, the documents they replicate
(metadata only), the identities and groups their access lists name, and libraries.

Access is stored as a set of principal ids on each document (``principals``). A member's
principals are few (their verified email addresses, the source groups that contain them,
their email domains, the workspace itself, their own membership and console groups), so
"documents this member may see" is one indexed overlap query.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Workspace

from .fields import PrincipalSetField


class Provider(models.TextChoices):
    GOOGLE_DRIVE = "google_drive", "Google Drive"
    MICROSOFT = "microsoft", "SharePoint and OneDrive"


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    SYNCING = "syncing", "Syncing"
    NEEDS_REAUTH = "needs_reauth", "Needs reauthorization"
    PAUSED = "paused", "Paused"
    DISCONNECTING = "disconnecting", "Disconnecting"


class LinkShares(models.TextChoices):
    """Who a share "anyone with the link" (Drive ``anyone``, Graph ``anonymous`` and
    ``organization`` links) reaches in the workspace. The source does not say who holds
    the link, so the default reaches nobody beyond the document's explicit grants."""

    NOBODY = "nobody", "Nobody beyond explicit grants"
    WORKSPACE = "workspace", "Every member of the workspace"


class HiddenDomainShares(models.TextChoices):
    """Drive's domain share with ``allowFileDiscovery=false``: people of the domain who
    have the link may open it, but it is not listed for them."""

    NOBODY = "nobody", "Nobody beyond explicit grants"
    DOMAIN = "domain", "Members with a verified email on that domain"


class Connection(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="connections")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    # The Google account that granted access, or the Microsoft tenant id.
    account = models.CharField(max_length=254)
    display_name = models.CharField(max_length=120)
    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED
    )
    sync_interval = models.DurationField(default=timedelta(hours=1))
    staleness_limit = models.DurationField(default=timedelta(hours=24))
    link_shares = models.CharField(
        max_length=12, choices=LinkShares.choices, default=LinkShares.NOBODY
    )
    hidden_domain_shares = models.CharField(
        max_length=12, choices=HiddenDomainShares.choices, default=HiddenDomainShares.NOBODY
    )
    # Tokens, encrypted with accounts.crypto (JSON before encryption).
    credentials = models.TextField(blank=True)
    # Where the next incremental run starts (Drive's page token, Graph's delta links).
    cursor = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_success_at = models.DateTimeField(null=True, blank=True)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    # One run at a time: the run holding the lease, until when (renewed after each page).
    lease_run = models.BigIntegerField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Disconnecting: how many documents there were, and how many are deleted so far.
    purge_total = models.PositiveIntegerField(null=True, blank=True)
    purge_done = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "provider", "account"], name="connection_one_per_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()}: {self.display_name}"

    def is_fresh(self, now: Any = None) -> bool:
        """Documents are shown only while the last completed sync is recent enough."""
        if self.last_success_at is None or self.status == ConnectionStatus.DISCONNECTING:
            return False
        return self.last_success_at >= (now or timezone.now()) - self.staleness_limit


class RunKind(models.TextChoices):
    FULL = "full", "Full"
    INCREMENTAL = "incremental", "Incremental"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    # Stopped by an error or a lost worker; the next run resumes from its checkpoint.
    INTERRUPTED = "interrupted", "Interrupted, will resume"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RunPhase(models.TextChoices):
    GROUPS = "groups", "Reading groups"
    DOCUMENTS = "documents", "Reading documents"
    FINALIZING = "finalizing", "Applying"
    DONE = "done", "Done"


class SyncRun(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=12, choices=RunKind.choices)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING)
    phase = models.CharField(max_length=12, choices=RunPhase.choices, default=RunPhase.GROUPS)
    # Where the document phase resumes (a page token or a delta link), and the cursor the
    # next incremental run will start from once this one completes.
    checkpoint = models.TextField(blank=True)
    next_cursor = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    items_seen = models.PositiveIntegerField(default=0)
    estimated_total = models.PositiveIntegerField(null=True, blank=True)
    acl_entries_written = models.PositiveBigIntegerField(default=0)
    groups_seen = models.PositiveIntegerField(default=0)
    # Whether the run staged a new group expansion; a run that found the groups as they
    # were has nothing to make current at the end.
    groups_written = models.BooleanField(default=True)
    removed = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    # The last few errors, newest last: [{"at": ..., "message": ...}].
    error_log = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    # Source groups whose run expansion lost members against the current one (principal
    # ids): a document newly shared with one of them waits for the run to complete.
    changed_groups = models.JSONField(default=list, blank=True)
    triggered_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection"],
                condition=models.Q(status__in=["running", "interrupted"]),
                name="sync_run_one_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} sync of {self.connection_id} ({self.status})"

    @property
    def progress_percent(self) -> int | None:
        if self.phase == RunPhase.DONE:
            return 100
        if not self.estimated_total:
            return None
        return min(99, int(100 * self.items_seen / self.estimated_total))


class PrincipalKind(models.TextChoices):
    EMAIL = "email", "Person"
    SOURCE_GROUP = "source_group", "Group"
    DOMAIN = "domain", "Domain"
    EVERYONE = "everyone", "Whole workspace"
    MEMBER = "member", "Member"
    GROUP = "group", "Workspace group"


class Principal(models.Model):
    """Someone a document can be shared with. Identities of a source (emails, its groups,
    its domains) belong to their connection and go with it; the workspace's own (everyone,
    a member, a group) serve libraries and the link-share mapping."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.CASCADE, related_name="principals"
    )
    kind = models.CharField(max_length=12, choices=PrincipalKind.choices)
    # A lowercased email, a group's source id, a lowercased domain, a membership or group id.
    key = models.CharField(max_length=320)
    # What the source calls it (a group's email and name).
    label = models.CharField(max_length=320, blank=True)

    class Meta:
        constraints = [
            # The workspace's own principals have no connection, and NULLs are distinct.
            models.UniqueConstraint(
                fields=["connection", "kind", "key"], name="principal_unique_in_connection"
            ),
            models.UniqueConstraint(
                fields=["workspace", "kind", "key"],
                condition=models.Q(connection__isnull=True),
                name="principal_unique_in_workspace",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "kind", "key"], name="principal_lookup")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.label or self.key}"


class GroupMember(models.Model):
    """A source group's transitive members, expanded at each sync. ``path`` names the
    nested groups through which the member belongs, outermost first (empty for a direct
    member). A run writes its expansion as staged rows and makes them current when it
    completes, in one transaction."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Principal, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Principal, on_delete=models.CASCADE, related_name="+")
    path = models.JSONField(default=list, blank=True)
    staged = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "member", "staged"], name="group_member_unique"
            ),
        ]
        indexes = [models.Index(fields=["member", "staged"], name="group_member_by_member")]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.group_id}"


class DocumentKind(models.TextChoices):
    FILE = "file", "File"
    FOLDER = "folder", "Folder"


class Library(models.Model):
    """R-CON-5: a workspace collection of uploaded documents, shared in the workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="libraries")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "libraries"
        constraints = [
            models.UniqueConstraint(
                "workspace", Lower("name"), name="library_name_unique_in_workspace"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LibraryRole(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"


class LibraryGrant(models.Model):
    """A library shared with the whole workspace, a group or a member (a workspace
    principal), as Viewer (sees its documents) or Editor (also adds and removes them)."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="grants")
    principal = models.ForeignKey(Principal, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=8, choices=LibraryRole.choices, default=LibraryRole.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["library", "principal"], name="library_grant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} of {self.library_id}"


class Document(models.Model):
    """A synced or uploaded document: metadata and who may see it, never its content."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    library = models.ForeignKey(
        Library, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    source_id = models.CharField(max_length=255)
    title = models.CharField(max_length=500)
    kind = models.CharField(max_length=8, choices=DocumentKind.choices, default=DocumentKind.FILE)
    mime_type = models.CharField(max_length=255, blank=True)
    web_url = models.URLField(max_length=2000, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    parent_source_id = models.CharField(max_length=255, blank=True)
    path = models.CharField(max_length=1000, blank=True)
    modified_at = models.DateTimeField()
    owner_email = models.CharField(max_length=254, blank=True)
    # Who may see it now, and the source groups it names that wait for the run's group
    # expansion to become current before they count (see connectors.sync).
    principals = PrincipalSetField()
    pending_principals = PrincipalSetField(null=True, default=None)
    # The access list as the source gave it, for the "why" pages: [{"kind", "value",
    # "role", "principal", "note"}]; None when the source's permissions could not be read
    # (the document then has no grants at all).
    acl = models.JSONField(null=True, blank=True)
    seen_run = models.BigIntegerField(null=True, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)
    # Uploaded documents (libraries) are stored through Django's storage.
    file = models.FileField(upload_to="libraries/%Y/%m/", blank=True)

    class Meta:
        ordering = ["-modified_at", "-id"]
        constraints = [
            # Library documents have no connection, and NULLs are distinct.
            models.UniqueConstraint(
                fields=["connection", "source_id"], name="document_unique_in_connection"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(connection__isnull=False, library__isnull=True)
                    | models.Q(connection__isnull=True, library__isnull=False)
                ),
                name="document_in_connection_or_library",
            ),
        ]
        # The GIN index on principals, the covering index on (workspace, modified_at, id)
        # and the trigram index on titles are PostgreSQL's, created in the migration.

    def __str__(self) -> str:
        return self.title
