"""The connected services' pages."""

from __future__ import annotations

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from accounts.access import WorkspaceRequest, workspace_view
from accounts.roles import Perm

from .access import access_connection
from .models import Connection


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def index(request: WorkspaceRequest) -> HttpResponse:
    connections = Connection.objects.filter(workspace=request.workspace)
    return TemplateResponse(
        request, "connectors/index.html", {"connections": connections, "nav": "connectors"}
    )


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_CONNECTORS)
def connection(request: WorkspaceRequest, connection_id: int) -> HttpResponse:
    conn = access_connection(request.actor, connection_id)
    return TemplateResponse(
        request, "connectors/connection.html", {"connection": conn, "nav": "connectors"}
    )
