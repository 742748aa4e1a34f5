"""One reauthentication mechanism for the console's sensitive changes (role changes,
domain claims and removals): allauth's public ``reauthentication_required``.

When the password (or second factor) was not confirmed in the last few minutes, allauth
suspends the POST in the session, sends the member to confirm, then replays the POST:
the change that asked for it completes, with its usual answer. An htmx request cannot
follow that redirect inside the page, so ``sensitive`` suspends it as a plain form post
(without its htmx headers, so the replay answers with a whole page) and
``HtmxReauthenticationMiddleware`` turns allauth's redirect into an ``HX-Redirect``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.decorators import reauthentication_required
from allauth.core.exceptions import ReauthenticationRequired
from django.http import HttpRequest, HttpResponse
from django_htmx.http import HttpResponseClientRedirect

_FROM_HTMX = "_reauthentication_from_htmx"

View = Callable[..., HttpResponse]


def sensitive(view: View) -> View:
    guarded = reauthentication_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response: HttpResponse = guarded(request, *args, **kwargs)
        except ReauthenticationRequired:
            if request.headers.get("HX-Request") == "true":
                for key in [k for k in request.META if k.startswith("HTTP_HX_")]:
                    del request.META[key]
                setattr(request, _FROM_HTMX, True)
            raise
        return response

    return wrapper


class HtmxReauthenticationMiddleware:
    """Placed before allauth's ``AccountMiddleware``, which answers the suspension."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, _FROM_HTMX, False) and response.status_code == 302:
            return HttpResponseClientRedirect(response["Location"])
        return response
