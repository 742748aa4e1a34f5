"""``manage.py connector_sync <workspace-slug> [--connection ID] [--full]``: run one sync
of a workspace's connections in the foreground, printing its progress."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Workspace
from connectors import sync
from connectors.models import Connection, ConnectionStatus, SyncRun


class Command(BaseCommand):
    help = "Synchronize a workspace's connected services now, in the foreground."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workspace", help="The workspace's slug.")
        parser.add_argument("--connection", type=int, help="Only this connection (its id).")
        parser.add_argument(
            "--full", action="store_true", help="Enumerate everything again, not only changes."
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        workspace = Workspace.objects.filter(slug=opts["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace {opts['workspace']!r}.")
        connections = Connection.objects.filter(workspace=workspace).exclude(
            status=ConnectionStatus.DISCONNECTING
        )
        if opts["connection"] is not None:
            connections = connections.filter(pk=opts["connection"])
            if not connections.exists():
                raise CommandError(f"No connection {opts['connection']} in {workspace.slug}.")
        if not connections.exists():
            raise CommandError(f"{workspace.slug} has no connected service.")
        failed = False
        for conn in connections:
            self.stdout.write(f"{conn} ({conn.get_status_display()})")
            outcome = sync.run(
                conn.pk, full=opts["full"], triggered_by="connector_sync", progress=self._progress
            )
            run = outcome.run
            if run is None:
                self.stdout.write(self.style.WARNING(f"  {outcome.message}"))
                failed = True
                continue
            run.refresh_from_db()
            line = (
                f"  {run.get_kind_display()} sync {run.get_status_display().lower()}: "
                f"{run.items_seen} items, {run.acl_entries_written} permissions, "
                f"{run.removed} removed, {run.errors} errors"
            )
            ok = run.status == "succeeded"
            self.stdout.write(self.style.SUCCESS(line) if ok else self.style.ERROR(line))
            for entry in run.error_log[-5:]:
                self.stdout.write(f"    {entry['message']}")
            failed = failed or not ok
        if failed:
            raise CommandError("Some syncs did not complete; they resume at their next run.")

    def _progress(self, run: SyncRun) -> None:
        total = f"/{run.estimated_total}" if run.estimated_total else ""
        self.stdout.write(
            f"  {run.get_phase_display()}: {run.items_seen}{total} items, "
            f"{run.acl_entries_written} permissions"
        )
