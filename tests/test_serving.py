"""The console as production serves it (`make serve`): collectstatic, then gunicorn with
gunicorn.conf.py, DEBUG off, on the test database. Pages, hashed static files with a long
cache, the health endpoints, and access lines in JSON without the secrets of links."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tests.test_worker import _test_database_url

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 90.0
TOKEN = ".eJyrVspUslIyNDJX0lEqSs1Lzs9NBQ:1tXyZq:ServingTestInvitationToken"


@dataclass
class Server:
    url: str
    static_root: Path
    access_log: Path
    error_log: Path


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> Answer:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


def _production_env(tmp_path: Path, port: int) -> dict[str, str]:
    """What a production host sets (README, "Production"), pointed at the test database;
    nothing of the test run's own environment."""
    redis = os.environ.get("TEST_CELERY_BROKER_URL", "")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": _test_database_url(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "EMAIL_URL": "smtp://mailer:secret@127.0.0.1:2525",
        "STATIC_ROOT": str(tmp_path / "static"),
        "VAR_DIR": str(tmp_path / "var"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "PYTHONUNBUFFERED": "1",
    }
    if redis:
        env.update(CELERY_BROKER_URL=redis, CACHE_URL=redis)
    return env


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    env = _production_env(tmp_path, port)
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr

    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    with access_log.open("wb") as out, error_log.open("wb") as err:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn")], cwd=BASE_DIR, env=env, stdout=out, stderr=err
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{error_log.read_text(errors='replace')}")
            try:
                if _get(url + "/healthz").status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        yield Server(url, Path(env["STATIC_ROOT"]), access_log, error_log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        sys.stderr.write(error_log.read_text(errors="replace")[-4000:])


def test_gunicorn_serves_pages_static_files_and_health(server: Server) -> None:
    manifest = json.loads((server.static_root / "staticfiles.json").read_text())
    stylesheet = manifest["paths"]["css/console.css"]
    assert stylesheet != "css/console.css"  # a hashed name

    page = _get(server.url + "/accounts/login/")
    assert page.status == 200
    assert f"/static/{stylesheet}".encode() in page.body

    static = _get(server.url + f"/static/{stylesheet}")
    assert static.status == 200
    assert static.headers["Content-Type"].startswith("text/css")
    cache = static.headers["Cache-Control"]
    assert "immutable" in cache and "max-age=315360000" in cache, cache

    health = _get(server.url + "/healthz")
    assert (health.status, json.loads(health.body)) == (200, {"status": "ok"})

    ready = _get(server.url + "/readyz")
    assert ready.status == 200, ready.body
    assert json.loads(ready.body) == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


def test_gunicorn_access_log_is_json_without_the_secrets_of_links(server: Server) -> None:
    answer = _get(server.url + f"/invitations/{TOKEN}/")
    assert answer.status == 404

    deadline = time.monotonic() + 10
    while "/invitations/" not in server.access_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    logs = server.access_log.read_text() + server.error_log.read_text()
    assert TOKEN not in logs, logs
    lines = [json.loads(line) for line in server.access_log.read_text().splitlines()]
    invitation = [line for line in lines if "/invitations/" in line.get("path", "")]
    assert invitation, lines
    assert invitation[0]["path"] == "/invitations/[redacted]/"
    assert (invitation[0]["logger"], invitation[0]["status"]) == ("gunicorn.access", "404")
