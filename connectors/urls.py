"""The connected services' pages of a workspace, under /w/<slug>/connectors/ (names
"ws:...")."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("connectors/", views.index, name="connectors"),
    path("connectors/<id:connection_id>/", views.connection, name="connection"),
]
