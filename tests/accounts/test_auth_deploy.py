"""`manage.py check --deploy` with production values prints no warning (R-SEC-1): secure
cookies, HSTS, SSL redirect, a long random key, a real email backend. Run in a separate
process, as settings are read from the environment once."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(64),
    "SITE_URL": "https://console.example.com",
    "ALLOWED_HOSTS": "console.example.com",
    "DEBUG": "0",
    # Production sends email over SMTP; Django refuses development-only backends.
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.com:587?tls=1",
}


# Set by the test run itself (the end-to-end tests allow sync database calls in Playwright's
# event loop), or by a developer's shell: never in production.
NOT_PRODUCTION = {
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
}


def run_check(**env_overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_PRODUCTION}
    env.update(PRODUCTION)
    env.update(env_overrides)
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
