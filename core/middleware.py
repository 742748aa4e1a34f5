"""Middleware shared by every app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse

from .parsing import is_storable_text

PATH_NOT_STORABLE = "No page has this address."


def unstorable_path_not_found(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """404 for a path with a NUL character (``%00``) or an unpaired surrogate: no page has
    such an address, and a view that looked one up would make PostgreSQL refuse the query.
    The 404 handler answers it (the service API's JSON under /api/)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if not is_storable_text(request.path_info):
            raise Http404(PATH_NOT_STORABLE)
        return get_response(request)

    return middleware
