"""Health endpoints for the load balancer and the orchestrator, without authentication.

/healthz (liveness): the process answers; it touches no database, cache or broker, so a
database outage does not get every web process restarted.
/readyz (readiness): the database, the cache and the Celery broker answer; 503 when one
does not, so traffic goes elsewhere. The body names each check and its result, never a
host, a URL or an error message (they can carry credentials): those go to the log."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from console.celery import app as celery_app
from console.logging import redact

logger = logging.getLogger(__name__)

BROKER_TIMEOUT = 3.0


def check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    found = cache.get(key)
    cache.delete(key)
    if found != "1":
        raise RuntimeError("The cache did not return what was stored.")


def check_broker() -> None:
    with celery_app.connection_for_read() as connection:
        # One attempt: the probe asks again soon, and must answer before its own timeout.
        connection.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT)  # type: ignore[arg-type]


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # every failure means "not ready", whatever its kind
            logger.warning("Readiness check %s failed: %s", name, redact(repr(exc)))
            results[name] = "fail"
        else:
            results[name] = "ok"
    ready = all(result == "ok" for result in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "fail", "checks": results}, status=200 if ready else 503
    )
