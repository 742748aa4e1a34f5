"""The answers of pages that htmx drives, in one place.

- A page answers an htmx request with a named partial and a plain request with the whole
  page (``template_for``), so every page works without JavaScript.
- A history-restore request (``HX-History-Restore-Request``, sent when the browser's
  history cache misses) wants the whole page: ``HtmxPagesMiddleware`` makes it look like
  a plain request, so no view can answer it with a bare fragment.
- Every answer varies by ``HX-Request`` (the middleware adds the header), so a cache
  never serves a fragment for a page or a page for a fragment.
- Results of an htmx action are shown by a ``toast`` event; redirects after a post go
  through ``HX-Redirect`` for htmx (``redirect``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event
from django_htmx.middleware import HtmxDetails


class _WholePageDetails(HtmxDetails):
    """The htmx details of a history-restore request: false, like a plain request's."""

    def __bool__(self) -> bool:
        return False


class HtmxPagesMiddleware:
    """Placed after django-htmx's ``HtmxMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        htmx = getattr(request, "htmx", None)
        if htmx is not None and htmx.history_restore_request:
            request.htmx = _WholePageDetails(request)  # type: ignore[attr-defined]
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def template_for(request: HttpRequest, template: str, partial: str) -> str:
    """``template#partial`` for an htmx request, the whole ``template`` otherwise."""
    return f"{template}#{partial}" if is_htmx(request) else template


def toast(response: HttpResponse, message: str, kind: str = "ok") -> HttpResponse:
    trigger_client_event(response, "toast", {"message": message, "kind": kind})
    return response


def redirect(request: HttpRequest, url: str) -> HttpResponse:
    """After a post: ``HX-Redirect`` for htmx (which would swap a 302's page into the
    target), a plain redirect otherwise."""
    if is_htmx(request):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def back_query(raw: str, keys: Iterable[str]) -> str:
    """A list's filters to return to, rebuilt from ``keys`` only (never a URL, so a
    crafted ``back`` value cannot redirect elsewhere), each value cut short."""
    data = QueryDict(raw[:500])
    return urlencode([(k, v[:100]) for k in keys for v in data.getlist(k)[:1] if v])
