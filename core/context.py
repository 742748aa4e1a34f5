"""Request facts that services record in audit events (the client IP), carried in a
context variable that a middleware sets for each request."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)


def client_ip(request: HttpRequest) -> str | None:
    # allauth's reading honours ALLAUTH_TRUSTED_PROXY_COUNT, like its rate limits.
    from allauth.account.adapter import get_adapter  # noqa: PLC0415

    try:
        ip: str | None = get_adapter(request).get_client_ip(request)
        return ip
    except Exception:  # a malformed forwarded header must not break the page
        return request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)
