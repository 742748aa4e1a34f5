"""A real Celery worker process, not eager mode (which hides the asynchrony): the test
enqueues the invitation email through the broker, a worker started from the command line
picks it up, reads the invitation from the test database and writes the email to a folder.

The broker is TEST_CELERY_BROKER_URL when set (CI: Redis), otherwise an embedded broker
folder made for the test. The database is the test database itself: a file for SQLite
(see DATABASES["default"]["TEST"] in the settings), the test database's name for others.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import kombu.pools
import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from accounts import services
from accounts.tasks import send_invitation_email
from console.celery import app
from tests.factories import InvitationFactory, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
CELERY = Path(sys.executable).parent / "celery"
EMAIL_TIMEOUT = 60.0
STARTUP_MARKER = "ready."


@dataclass
class Broker:
    url: str
    transport_options: dict[str, Any]
    env: dict[str, str]


def _test_database_url() -> str:
    """The URL of the database this test runs on, for the worker's DATABASE_URL."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return "sqlite:///" + str(Path(db["NAME"]).resolve())
    source = os.environ.get("DATABASE_URL", "")
    if not source:
        pytest.fail("The worker test needs DATABASE_URL to reach a non-SQLite test database.")
    parts = urlsplit(source)
    return urlunsplit(parts._replace(path="/" + quote(db["NAME"])))


@pytest.fixture
def broker(tmp_path: Path) -> Broker:
    url = os.environ.get("TEST_CELERY_BROKER_URL", "")
    if url:
        return Broker(url=url, transport_options={}, env={"CELERY_BROKER_URL": url})
    # An embedded broker folder for this test alone. The worker derives its folders from
    # VAR_DIR in the settings; the test takes the same options with its own VAR_DIR.
    var_dir = tmp_path / "var"
    queue = var_dir / "celery-queue"
    (queue / "processed").mkdir(parents=True)
    configured = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None)
    if settings.CELERY_BROKER_URL.startswith("filesystem://") and configured:
        options = {
            key: value.replace(str(settings.VAR_DIR), str(var_dir))
            if isinstance(value, str)
            else value
            for key, value in configured.items()
        }
    else:
        options = {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "processed_folder": str(queue / "processed"),
            "store_processed": False,
        }
    assert options["data_folder_in"] == str(queue), options
    return Broker(
        url="filesystem://",
        transport_options=options,
        env={"CELERY_BROKER_URL": "filesystem://", "VAR_DIR": str(var_dir)},
    )


def _reset_connections() -> None:
    # The app keeps a connection pool built from the broker settings of its first use, in
    # kombu's process-wide registry: close and forget them all, so no later publish
    # reuses a closed pool or this test's broker.
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_sends_through(broker: Broker) -> Iterator[None]:
    """The test process publishes to the broker, eager mode off, then restores the app."""
    keys = ("broker_url", "broker_transport_options", "task_always_eager")
    saved = {k: app.conf[k] for k in keys}
    _reset_connections()
    app.conf.update(
        broker_url=broker.url,
        broker_transport_options=broker.transport_options,
        task_always_eager=False,
    )
    try:
        yield
    finally:
        _reset_connections()
        app.conf.update(saved)


@pytest.fixture
def worker(broker: Broker, tmp_path: Path) -> Iterator[Path]:
    """Start `celery worker` on the test database and broker; yield its email folder."""
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        **broker.env,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "DATABASE_URL": _test_database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_URL": f"file://{outbox}",
        "SITE_URL": settings.SITE_URL,
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(CELERY),
        "-A",
        "console",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        "celery",
        "--loglevel=INFO",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        # A unique node name: other workers (a developer's `make run`) may share the broker.
        "-n",
        f"test-{uuid.uuid4().hex[:8]}@%h",
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + EMAIL_TIMEOUT
        while STARTUP_MARKER not in log_path.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"The Celery worker did not start:\n{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.2)
        yield outbox
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        # Keep the worker's log in the test's report when something went wrong.
        sys.stderr.write(log_path.read_text(errors="replace")[-4000:])


def _read_messages(folder: Path) -> list[EmailMessage]:
    """Messages written by Django's file email backend: one file per connection, each
    message followed by a line of 79 dashes."""
    messages: list[EmailMessage] = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                messages.append(
                    email.message_from_bytes(chunk.strip(), policy=email.policy.default)
                )  # type: ignore[arg-type]
    return messages


def _wait_for_message(folder: Path, to: str, timeout: float = EMAIL_TIMEOUT) -> EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in _read_messages(folder):
            if to in str(message["To"]):
                return message
        time.sleep(0.25)
    pytest.fail(f"No email to {to} was written to {folder} within {timeout:.0f}s")


def test_worker_sends_the_invitation_email(celery_sends_through: None, worker: Path) -> None:
    """R-WS-3, R-UI-2: the invitation email is sent by the worker, through the broker,
    with the invitation's absolute link in its text and HTML parts."""
    ws = WorkspaceFactory(name="Acme", slug="acme")
    inviter = MembershipFactory(workspace=ws, user=UserFactory(email="owner@acme.test"))
    invitation = InvitationFactory(
        workspace=ws, email="newcomer@example.test", invited_by=inviter.user
    )
    result = send_invitation_email.apply_async(args=[invitation.pk])

    assert result.id  # published to the broker, not run here
    message = _wait_for_message(worker, "newcomer@example.test")
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    # The token is signed with a timestamp, so the worker's link is read, not recomputed.
    prefix = settings.SITE_URL + reverse("invitation_accept", args=["TOKEN"]).split("TOKEN")[0]
    links = re.findall(re.escape(prefix) + r"([^/\s\"'<>]+)/", text.get_content())
    assert links, f"No invitation link in the email's text:\n{text.get_content()}"
    assert services.invitation_from_token(links[0]).pk == invitation.pk
    assert prefix + links[0] + "/" in html.get_content()


def test_beat_schedule_names_registered_tasks() -> None:
    """Every periodic task in CELERY_BEAT_SCHEDULE exists, so beat never sends a name
    that no worker knows."""
    app.loader.import_default_modules()
    app.autodiscover_tasks(force=True)
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled, "The beat schedule is empty"
    unknown = sorted(name for name in scheduled if name not in app.tasks)
    assert not unknown, f"Beat schedules unknown tasks: {unknown}"
