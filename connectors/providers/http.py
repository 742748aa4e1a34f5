"""The one HTTP client of every provider: httpx against the documented REST APIs, with
the base URLs from settings, bearer tokens refreshed on expiry, and the sources'
throttling honoured (429 and 503 with ``Retry-After``, backoff on 5xx and dropped
connections)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from .base import AuthRevoked, ResyncRequired, SourceError

log = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})

# How a test or the bench waits; production sleeps.
sleep: Callable[[float], None] = time.sleep


def retry_after(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait before the next attempt: the source's ``Retry-After`` (seconds or
    an HTTP date) when it gives one, else exponential backoff; never past the cap."""
    cap = float(settings.CONNECTORS_MAX_BACKOFF)
    header = response.headers.get("Retry-After", "")
    if header:
        try:
            return min(cap, max(0.0, float(header)))
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
                return min(cap, max(0.0, (when - timezone.now()).total_seconds()))
            except (TypeError, ValueError):
                pass
    return float(min(cap, settings.CONNECTORS_BACKOFF_BASE * (2**attempt)))


class HttpStatusError(SourceError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Http:
    """Requests on behalf of one connection. ``token`` returns a bearer token, a fresh
    one when called with ``force=True`` (after a 401)."""

    def __init__(
        self, token: Callable[[bool], str] | None = None, *, headers: dict[str, str] | None = None
    ) -> None:
        self._token = token
        self._client = httpx.Client(
            timeout=httpx.Timeout(float(settings.CONNECTORS_HTTP_TIMEOUT)),
            headers={"Accept": "application/json", **(headers or {})},
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        authorized: bool = True,
        not_found_ok: bool = False,
    ) -> dict[str, Any]:
        refreshed = False
        attempts = int(settings.CONNECTORS_HTTP_RETRIES)
        for attempt in range(attempts + 1):
            headers = {}
            if authorized and self._token is not None:
                headers["Authorization"] = f"Bearer {self._token(False)}"
            try:
                response = self._client.request(
                    method, url, params=params, data=data, headers=headers
                )
            except httpx.TransportError as exc:
                if attempt == attempts:
                    raise SourceError(f"The service could not be reached: {exc}") from exc
                sleep(float(min(settings.CONNECTORS_MAX_BACKOFF, 2**attempt)))
                continue
            status = response.status_code
            if status == 401 and authorized and self._token is not None and not refreshed:
                refreshed = True
                self._token(True)
                continue
            if status == 401:
                raise AuthRevoked("The service refused the connection's credentials.")
            if status == 410:
                raise ResyncRequired("The service asks for a full resynchronization.")
            if status == 404 and not_found_ok:
                return {}
            if status in RETRIED_STATUSES and attempt < attempts:
                wait = retry_after(response, attempt)
                log.info("connector throttled", extra={"status": status, "wait": wait})
                sleep(wait)
                continue
            if status >= 400:
                raise HttpStatusError(
                    status, f"The service answered {status} for {httpx.URL(url).path}."
                )
            try:
                body = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise SourceError("The service answered with malformed JSON.") from exc
            if not isinstance(body, dict):
                raise SourceError("The service answered with an unexpected document.")
            return body
        raise SourceError("The service kept refusing; the run will resume later.")

    def get(self, url: str, **params: Any) -> dict[str, Any]:
        return self.request("GET", url, params=params or None)
