"""Service token authentication: ``Authorization: Bearer svc_...``. No session, no cookie.

Failed attempts are counted per client address (behind ``TRUSTED_PROXY_COUNT`` proxies, the
address they forwarded) in the cache, in fixed windows of ``API_AUTH_FAILURE_WINDOW`` seconds:
past ``API_AUTH_FAILURE_LIMIT`` failures, every request from that address answers 429 until
the window ends, with a valid token too, so guessing tokens costs a window per few guesses.
"""

from __future__ import annotations

import hmac
import logging
import math
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.utils import timezone

from core import snapshots, statements
from core.context import client_ip, current_ip

from . import errors
from .errors import ApiError
from .models import TOKEN_PREFIX, ServiceToken, hash_token

# Recording each call would cost a write per call; once a minute tells staff enough.
LAST_USED_GRANULARITY = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 200

REALM = 'Bearer realm="service-api"'

# The stamp of the service tokens' snapshots (core.snapshots).
TOKENS = "service-tokens"
_TOKEN_COLUMNS = statements.attnames(
    ServiceToken, only=("id", "token_hash", "last_used_at", "revoked_at")
)
# Every call of the API asks it: its SQL is compiled once.
_TOKEN_BY_HASH = statements.Statement(
    lambda token_hash: ServiceToken.objects.filter(token_hash=token_hash).values_list(
        *_TOKEN_COLUMNS
    )[:1],
    token_hash=str,
)

logger = logging.getLogger(__name__)
_FAILURES_KEY = "api:auth-failures:{ip}:{window}"


def _clock() -> float:
    return time.time()


def _window(now: float) -> tuple[int, int]:
    """The current window's number and the seconds until it ends (at least 1)."""
    length = max(1, int(settings.API_AUTH_FAILURE_WINDOW))
    number = int(now // length)
    return number, max(1, math.ceil((number + 1) * length - now))


def _failures_key(request: HttpRequest, window: int) -> str:
    # The middleware of core.context has read the address once for the request already.
    ip = current_ip.get() or client_ip(request) or "unknown"
    return _FAILURES_KEY.format(ip=ip, window=window)


def refuse_if_rate_limited(request: HttpRequest) -> None:
    """ApiError 429 while the client's failures in this window exceed the limit. A cache
    that is down limits nothing: the API keeps answering, as the token check does not need it."""
    window, remaining = _window(_clock())
    try:
        failures = cache.get(_failures_key(request, window), 0)
    except Exception:
        logger.warning("Cache unavailable: service API failures are not limited", exc_info=True)
        return
    if failures >= settings.API_AUTH_FAILURE_LIMIT:
        raise ApiError(
            429,
            errors.RATE_LIMITED,
            errors.AUTH_RATE_LIMITED.format(seconds=remaining),
            headers={"Retry-After": str(remaining)},
        )


def count_failure(request: HttpRequest) -> None:
    """One more failed authentication for the client, in the current window."""
    window, remaining = _window(_clock())
    key = _failures_key(request, window)
    try:
        # add() starts the count (it expires with the window) and is a no-op once started.
        cache.add(key, 0, timeout=remaining + 1)
        cache.incr(key)
    except ValueError:  # expired between the two calls: this failure starts a new count
        cache.set(key, 1, timeout=remaining + 1)
    except Exception:
        logger.warning("Cache unavailable: service API failures are not limited", exc_info=True)


def _retire_tokens(sender: type, **kwargs: object) -> None:
    snapshots.moved(TOKENS)


def connect_signals() -> None:
    """Any saved or deleted token (a revocation, from the services, the admin or a shell)
    retires the tokens' snapshots."""
    post_save.connect(_retire_tokens, sender=ServiceToken, dispatch_uid="snapshot-retire-tokens")
    post_delete.connect(
        _retire_tokens, sender=ServiceToken, dispatch_uid="snapshot-retire-tokens-delete"
    )


def _unauthorized(message: str, *, with_error: bool = True) -> ApiError:
    # RFC 6750: a request without credentials gets the challenge alone, a bad token the error too.
    challenge = f'{REALM}, error="invalid_token"' if with_error else REALM
    return ApiError(401, errors.INVALID_TOKEN, message, headers={"WWW-Authenticate": challenge})


def authenticate(request: HttpRequest) -> ServiceToken:
    """The token of the request, or ApiError 401: from its snapshot, or one query, and one
    update a minute at most. Saving or deleting a token (a revocation) retires every
    token's snapshot (``TOKENS``), so a revoked token is refused from the next call."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise _unauthorized(errors.TOKEN_MISSING, with_error=False)
    scheme, _, raw = header.partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw:
        raise _unauthorized(errors.TOKEN_BAD_SCHEME)
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > _MAX_TOKEN_LENGTH:
        raise _unauthorized(errors.TOKEN_INVALID)
    digest = hash_token(raw)
    row = snapshots.read(
        f"service-token:{digest}",
        [TOKENS],
        lambda: _TOKEN_BY_HASH.first(token_hash=digest),
        keep=lambda found: found is not None,
    )
    token = statements.instance(ServiceToken, _TOKEN_COLUMNS, row, 0)[0] if row else None
    # The lookup is by the hash of a 256-bit secret; comparing in constant time as well costs
    # nothing and keeps the check honest if the lookup ever changes.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise _unauthorized(errors.TOKEN_INVALID)
    if token.revoked_at is not None:
        raise _unauthorized(errors.TOKEN_REVOKED)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        ServiceToken.objects.filter(pk=token.pk).update(last_used_at=now)
        # The next call reads the new time, rather than writing it again.
        snapshots.moved(TOKENS)
        token.last_used_at = now
    return token
