"""Service token authentication: ``Authorization: Bearer svc_...``. No session, no cookie."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone

from . import errors
from .errors import ApiError
from .models import TOKEN_PREFIX, ServiceToken, hash_token

# Recording each call would cost a write per call; once a minute tells staff enough.
LAST_USED_GRANULARITY = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 200

REALM = 'Bearer realm="service-api"'


def _unauthorized(message: str, *, with_error: bool = True) -> ApiError:
    # RFC 6750: a request without credentials gets the challenge alone, a bad token the error too.
    challenge = f'{REALM}, error="invalid_token"' if with_error else REALM
    return ApiError(401, errors.INVALID_TOKEN, message, headers={"WWW-Authenticate": challenge})


def authenticate(request: HttpRequest) -> ServiceToken:
    """The token of the request, or ApiError 401. One query, and one update a minute at most."""
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
    token = (
        ServiceToken.objects.filter(token_hash=digest)
        .only("id", "token_hash", "last_used_at", "revoked_at")
        .first()
    )
    # The lookup is by the hash of a 256-bit secret; comparing in constant time as well costs
    # nothing and keeps the check honest if the lookup ever changes.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise _unauthorized(errors.TOKEN_INVALID)
    if token.revoked_at is not None:
        raise _unauthorized(errors.TOKEN_REVOKED)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        ServiceToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
