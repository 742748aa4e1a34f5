"""Settings of ``make bench``: the console's own, with django-guardian installed as the
baseline of the connectors section (console.bench_connectors). Guardian is a dev
dependency that only the bench uses; the bench's ``migrate`` creates its tables in the
bench database. Nothing of the console reads these settings."""

from __future__ import annotations

from console.settings import *  # noqa: F403
from console.settings import INSTALLED_APPS, SILENCED_SYSTEM_CHECKS

INSTALLED_APPS = [*INSTALLED_APPS, "guardian"]
# The bench asks ObjectPermissionChecker and get_objects_for_user directly: no
# authentication backend of guardian's, no anonymous user row, nothing patched onto the
# console's User and Group models.
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "guardian.W001"]
ANONYMOUS_USER_NAME = None
# The bench is one process: the hot paths' snapshots (core.snapshots) are safe over the local
# memory cache, as they are over Redis (CACHE_URL) in production.
SNAPSHOTS = True
# As in production, where the cache is shared (console.settings): sessions read from it.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
GUARDIAN_MONKEY_PATCH_USER = False
GUARDIAN_MONKEY_PATCH_GROUP = False
