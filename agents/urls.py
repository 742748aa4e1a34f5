"""The agents' pages of a workspace, under /w/<slug>/agents/ (names "ws:...")."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("agents/", views.index, name="agents"),
    path("agents/new/", views.new, name="agent_new"),
    path("agents/settings/", views.agent_settings, name="agent_settings"),
    path("agents/<id:agent_id>/", views.detail, name="agent"),
    path("agents/<id:agent_id>/edit/", views.edit, name="agent_edit"),
    path(
        "agents/<id:agent_id>/versions/<id:version>/restore/",
        views.restore,
        name="agent_restore",
    ),
    path("agents/<id:agent_id>/visibility/", views.visibility, name="agent_visibility"),
    path("agents/<id:agent_id>/share/", views.share, name="agent_share"),
    path(
        "agents/<id:agent_id>/grants/<id:grant_id>/remove/",
        views.unshare,
        name="agent_unshare",
    ),
    path("agents/<id:agent_id>/delete/", views.delete, name="agent_delete"),
]
