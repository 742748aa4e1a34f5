"""Demo data for `make run` (see ``console.demo``): loads it, then prints how to sign in.

`make run` loads the data with ``--no-credentials`` before it starts the worker and the
web server, then runs ``--credentials-only --wait-for URL``, so that the sign-in details
come last, after their start-up output, at every run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from console import demo


class Command(BaseCommand):
    help = "Load the demo data (safe to run again), then print how to sign in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-credentials", action="store_true", help="Load the data without printing them."
        )
        parser.add_argument(
            "--credentials-only", action="store_true", help="Print them without loading the data."
        )
        parser.add_argument(
            "--wait-for",
            metavar="URL",
            default="",
            help="First wait until the web server at URL and the Celery worker have started.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["credentials_only"]:
            demo.seed()
            self.stdout.write(self.style.SUCCESS("Demo data ready."))
        if options["no_credentials"]:
            return
        if options["wait_for"] and not demo.wait_until_started(options["wait_for"]):
            self.stderr.write("The web server or the worker is slow to start; the demo:")
        self.stdout.write("")
        for line in demo.credentials():
            self.stdout.write(self.style.SUCCESS(line) if not line.startswith(" ") else line)
