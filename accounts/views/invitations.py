from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from accounts.roles import Perm
from console.access import workspace_view


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_INVITATIONS)
def index(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "shell.html", {"page_title": "Invitations", "nav": "invitations"})


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, token: str) -> HttpResponse:
    return TemplateResponse(request, "shell.html", {"page_title": "Invitation"})
