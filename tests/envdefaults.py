"""Test-run defaults, set before Django reads its settings. A variable already in the
environment wins (CI sets DATABASE_URL to PostgreSQL)."""

from __future__ import annotations

import os
import secrets

os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("EMAIL_URL", "locmem://")
os.environ.setdefault("DOMAIN_RESOLVER", "accounts.dns.StaticResolver")
os.environ.setdefault("SITE_URL", "http://testserver")
os.environ.setdefault(
    "VAR_DIR",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "var", "test"),
)
# The console refuses to start with DEBUG off and no keys of its own: the test run makes
# fresh ones, which the worker processes of the worker tests inherit.
os.environ.setdefault("SECRET_KEY", "test-" + secrets.token_urlsafe(50))
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "test-" + secrets.token_urlsafe(32))
# No collectstatic in the test run: plain static names, read from the source folders.
os.environ.setdefault("STATIC_MANIFEST", "0")
# One process, its local memory cache emptied before each test: the hot paths' snapshots
# (core.snapshots) are read and retired as in production.
os.environ.setdefault("SNAPSHOTS", "1")
