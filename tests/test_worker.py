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
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from tests.worker_tasks import BLOCK_UNTIL_RELEASED

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


def _worker_env(broker: Broker, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **broker.env,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "DATABASE_URL": _test_database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SITE_URL": settings.SITE_URL,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@contextmanager
def _running_worker(
    env: dict[str, str], log_path: Path, *options: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A `celery worker` process, started and ready; stopped (or killed) at the end."""
    command = [
        str(CELERY),
        "-A",
        "console",
        "worker",
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
        *(options or ("--pool=solo",)),
    ]
    with log_path.open("ab") as log:
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
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        # Keep the worker's log in the test's report when something went wrong.
        sys.stderr.write(log_path.read_text(errors="replace")[-4000:])


@pytest.fixture
def worker(broker: Broker, tmp_path: Path) -> Iterator[Path]:
    """Start `celery worker` on the test database and broker; yield its email folder."""
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    env = _worker_env(broker, EMAIL_URL=f"file://{outbox}")
    with _running_worker(env, tmp_path / "worker.log"):
        yield outbox


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


def test_worker_sends_the_invitation_email(
    celery_sends_through: None, worker: Path, tmp_path: Path
) -> None:
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
    # With DEBUG off the worker logs JSON lines through the console's LOGGING, like the
    # web processes, and its token stays out of them.
    log = (tmp_path / "worker.log").read_text()
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(e["logger"].startswith("celery") and "ready." in e["message"] for e in entries)
    assert links[0] not in log


def test_beat_schedule_names_registered_tasks() -> None:
    """Every periodic task in CELERY_BEAT_SCHEDULE exists, so beat never sends a name
    that no worker knows."""
    app.loader.import_default_modules()
    app.autodiscover_tasks(force=True)
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled, "The beat schedule is empty"
    unknown = sorted(name for name in scheduled if name not in app.tasks)
    assert not unknown, f"Beat schedules unknown tasks: {unknown}"


# --- A worker that dies midway (acks late, visibility timeout, lost pool process) ---------

needs_redis = pytest.mark.skipif(
    not os.environ.get("TEST_CELERY_BROKER_URL"),
    reason="Redelivery after a visibility timeout needs Redis (TEST_CELERY_BROKER_URL); "
    "the embedded folder broker has none.",
)
TEST_TASKS = ("--include", "tests.worker_tasks")
REDELIVERY_TIMEOUT = 90.0


def _runs(folder: Path) -> list[str]:
    path = folder / "runs"
    return path.read_text().split() if path.exists() else []


def _wait_until(condition: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Not within {timeout:.0f}s: {what}")
        time.sleep(0.1)


@needs_redis
def test_the_task_of_a_killed_worker_runs_on_another_after_the_visibility_timeout(
    celery_sends_through: None, broker: Broker, tmp_path: Path
) -> None:
    """A worker killed with SIGKILL midway never acknowledges its task (acks late): Redis
    delivers it again once CELERY_VISIBILITY_TIMEOUT has passed (an hour by default), and
    a second worker runs it to the end."""
    folder = tmp_path / "task"
    folder.mkdir()
    visibility = 5
    # The hard time limit must stay below the visibility timeout (the settings refuse
    # otherwise); the solo pool of these workers does not apply time limits.
    env = _worker_env(
        broker,
        CELERY_VISIBILITY_TIMEOUT=str(visibility),
        CELERY_TASK_TIME_LIMIT=str(visibility - 1),
        CELERY_TASK_SOFT_TIME_LIMIT=str(visibility - 2),
    )
    app.send_task(BLOCK_UNTIL_RELEASED, args=[str(folder)])

    with _running_worker(env, tmp_path / "first.log", "--pool=solo", *TEST_TASKS) as first:
        _wait_until(lambda: len(_runs(folder)) == 1, "the first worker starts the task", 60)
        delivered = time.monotonic()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert not (folder / "done").exists()

    (folder / "release").touch()
    # A worker looks for abandoned messages when it starts, then every few minutes: the
    # second starts once the message has been unacknowledged for longer than the timeout.
    time.sleep(max(0.0, delivered + visibility + 1 - time.monotonic()))
    with _running_worker(env, tmp_path / "second.log", "--pool=solo", *TEST_TASKS):
        _wait_until(lambda: (folder / "done").exists(), "the second worker ends the task", 60)

    assert len(_runs(folder)) == 2


@needs_redis
def test_a_task_whose_pool_process_dies_goes_back_to_the_queue(
    celery_sends_through: None, broker: Broker, tmp_path: Path
) -> None:
    """The pool process running a task is killed (out of memory, say): the task is not
    acknowledged as failed but put back in the queue (task_reject_on_worker_lost), and the
    worker's next pool process runs it to the end."""
    folder = tmp_path / "task"
    folder.mkdir()
    env = _worker_env(broker)
    app.send_task(BLOCK_UNTIL_RELEASED, args=[str(folder)])

    with _running_worker(env, tmp_path / "worker.log", "--pool=prefork", *TEST_TASKS):
        _wait_until(lambda: len(_runs(folder)) == 1, "a pool process starts the task", 60)
        os.kill(int(_runs(folder)[0]), signal.SIGKILL)
        _wait_until(lambda: len(_runs(folder)) == 2, "another pool process starts it again", 60)
        (folder / "release").touch()
        _wait_until(lambda: (folder / "done").exists(), "the task ends", 60)

    first, second = _runs(folder)
    assert first != second
