"""`manage.py check --deploy` with production values prints no warning (R-SEC-1): secure
cookies, HSTS, SSL redirect, a long random key, a real email backend. Run in a separate
process, as settings are read from the environment once."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from console.env import LOCAL_SECRET_KEY, env_secret

ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = Path(settings.VAR_DIR)

PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(64),
    "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(32),
    "SITE_URL": "https://console.example.com",
    "ALLOWED_HOSTS": "console.example.com",
    # Production sends email over SMTP; Django refuses development-only backends.
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.com:587?tls=1",
}


def run_check(
    *, without: tuple[str, ...] = (), **env_overrides: str
) -> subprocess.CompletedProcess[str]:
    """`check --deploy` in a clean environment: nothing of the test run (its keys, DEBUG
    from a developer's shell) leaks in, only PRODUCTION and the overrides."""
    env = {"PATH": os.environ.get("PATH", ""), "VAR_DIR": str(VAR_DIR), **PRODUCTION}
    env.update(env_overrides)
    for name in without:
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_with_production_values_prints_no_warning() -> None:
    result = run_check()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output and "ERROR" not in output


def test_check_deploy_catches_a_weak_key() -> None:
    """The test above proves something: the same check fails on a bad value."""
    result = run_check(SECRET_KEY="short")
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def _refused(result: subprocess.CompletedProcess[str], name: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "ImproperlyConfigured" in output, output
    assert f"{name} is" in output and "DEBUG is off" in output, output


def test_production_refuses_to_start_without_a_secret_key() -> None:
    _refused(run_check(without=("SECRET_KEY",)), "SECRET_KEY")


def test_production_refuses_the_local_default_key() -> None:
    _refused(run_check(SECRET_KEY=LOCAL_SECRET_KEY), "SECRET_KEY")


def test_production_needs_its_own_field_encryption_key() -> None:
    """TOTP seeds are not encrypted with a key derived from SECRET_KEY in production."""
    _refused(run_check(without=("FIELD_ENCRYPTION_KEY",)), "FIELD_ENCRYPTION_KEY")


def test_an_empty_key_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "")
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        env_secret("SECRET_KEY", local_default=LOCAL_SECRET_KEY, debug=False)


def test_a_developer_machine_keeps_the_local_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """DEBUG=1 (as `make run` sets) keeps the local defaults: the quick start needs no key."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FIELD_ENCRYPTION_KEY", raising=False)
    assert env_secret("SECRET_KEY", local_default=LOCAL_SECRET_KEY, debug=True) == (
        LOCAL_SECRET_KEY
    )
    assert env_secret("FIELD_ENCRYPTION_KEY", local_default="", debug=True) == ""
    monkeypatch.setenv("SECRET_KEY", "a-key-of-its-own")
    assert env_secret("SECRET_KEY", local_default=LOCAL_SECRET_KEY, debug=False) == (
        "a-key-of-its-own"
    )


def test_a_visibility_timeout_shorter_than_the_time_limit_is_refused() -> None:
    """Redis would deliver a task still running to a second worker."""
    result = run_check(
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        CELERY_VISIBILITY_TIMEOUT="60",
        CELERY_TASK_TIME_LIMIT="120",
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "CELERY_VISIBILITY_TIMEOUT (60 s) must be longer than" in output, output


def test_the_local_make_targets_run_with_debug_on() -> None:
    """`make run` loads the demo data on a fresh machine, without production keys."""
    dry_run = subprocess.run(
        ["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    commands = [line for line in dry_run.stdout.splitlines() if "manage.py" in line]
    assert [c.split("manage.py ")[1].split()[0] for c in commands] == ["migrate", "seed_demo"]
    assert all(c.startswith("DEBUG=${DEBUG:-1} ") for c in commands), commands
