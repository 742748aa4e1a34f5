"""The service API under /api/service/ (console/urls.py). Paths have no trailing slash, as
the OpenAPI document writes them."""

from __future__ import annotations

from django.urls import path

import core.converters  # noqa: F401  (registers <id:...>)

from . import views

urlpatterns = [
    path("openapi.json", views.openapi, name="api_openapi"),
    path(
        "workspaces/<str:slug>/members/<str:member>/features",
        views.member_features,
        name="api_member_features",
    ),
    path("workspaces/<str:slug>/feature-use", views.feature_use, name="api_feature_use"),
    path(
        "workspaces/<str:slug>/members/<str:member>/documents",
        views.member_documents,
        name="api_member_documents",
    ),
    path(
        "workspaces/<str:slug>/members/<str:member>/documents/visible",
        views.member_documents_visible,
        name="api_member_documents_visible",
    ),
    path(
        "workspaces/<str:slug>/members/<str:member>/agents",
        views.member_agents,
        name="api_member_agents",
    ),
    path(
        "workspaces/<str:slug>/agents/<id:agent_id>",
        views.agent_config,
        name="api_agent_config",
    ),
    path(
        "workspaces/<str:slug>/documents/<id:document_id>/access",
        views.document_access,
        name="api_document_access",
    ),
]
