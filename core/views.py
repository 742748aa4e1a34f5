"""The local outbox (DEBUG only): every email the console queued or sent, readable in the
browser with working links, so signing up or inviting someone works on a developer's
machine without a mail server. Off DEBUG these pages do not exist."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_http_methods

from .models import OutboxEmail

LIST_LIMIT = 200
HEAD_TAG = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)
# Links of the framed email open in a tab of their own: the console's pages refuse to be
# framed.
LINKS_IN_NEW_TAB = '<base target="_blank">'


def debug_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.DEBUG:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


@require_http_methods(["GET", "HEAD"])
@debug_only
def outbox(request: HttpRequest) -> HttpResponse:
    emails = OutboxEmail.objects.only(
        "recipient", "subject", "status", "created_at", "sent_at", "template"
    ).order_by("-created_at", "-id")[:LIST_LIMIT]
    return TemplateResponse(
        request,
        "core/outbox.html",
        {"page_title": "Outbox", "emails": emails, "limit": LIST_LIMIT},
    )


def framed(html: str) -> str:
    match = HEAD_TAG.search(html)
    if match is None:
        return LINKS_IN_NEW_TAB + html
    return html[: match.end()] + LINKS_IN_NEW_TAB + html[match.end() :]


# The email's HTML is shown in a sandboxed frame (no scripts, no forms, no access to this
# page); a srcdoc frame keeps this page's policy, and emails style with inline attributes.
@require_http_methods(["GET", "HEAD"])
@csp_override({**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]})  # type: ignore[dict-item]
@debug_only
def outbox_email(request: HttpRequest, pk: int) -> HttpResponse:
    email = get_object_or_404(OutboxEmail, pk=pk)
    return TemplateResponse(
        request,
        "core/outbox_email.html",
        {
            "page_title": email.subject or "(no subject)",
            "email": email,
            "srcdoc": framed(email.body_html) if email.body_html else "",
        },
    )
