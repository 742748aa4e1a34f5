"""The terms and privacy pages that sign-up links to (R-ACC-6): public, rendered from
templates, naming the terms version that sign-up records."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

# What the pages say of a promise the console does not keep yet (self-deletion, the
# scheduled purges, privacy requests, the notice of new terms): plainly, beside it.
NOT_AVAILABLE = "Not available yet"


def _render(request: HttpRequest, template: str, title: str) -> HttpResponse:
    return TemplateResponse(
        request,
        template,
        {
            "page_title": title,
            "terms_version": settings.TERMS_VERSION,
            "not_available": NOT_AVAILABLE,
        },
    )


@require_http_methods(["GET", "HEAD"])
def terms(request: HttpRequest) -> HttpResponse:
    return _render(request, "legal/terms.html", "Terms of Service")


@require_http_methods(["GET", "HEAD"])
def privacy(request: HttpRequest) -> HttpResponse:
    return _render(request, "legal/privacy.html", "Privacy Policy")
