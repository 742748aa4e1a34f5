from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from accounts.roles import Perm
from console.access import workspace_view


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_WORKSPACE)
def index(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "shell.html", {"page_title": "domains".title(), "nav": "domains"})
