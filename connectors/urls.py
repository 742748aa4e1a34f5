"""The connected services' pages of a workspace, under /w/<slug>/connectors/ (names
"ws:..."), and the providers' callbacks, which live outside any workspace
(``callback_urlpatterns``, mounted by ``console.urls``): a provider only returns to
redirect URIs registered with it, so there is one fixed callback per provider and the
workspace comes from the session entry saved with the flow's state."""

from __future__ import annotations

from django.urls import URLPattern, path

import core.converters  # noqa: F401  (registers <id:...>)

from . import views

urlpatterns: list[URLPattern] = [
    path("connectors/", views.index, name="connectors"),
    path("connectors/google/connect/", views.google_connect, name="connector_google_connect"),
    path(
        "connectors/microsoft/connect/",
        views.microsoft_connect,
        name="connector_microsoft_connect",
    ),
    path("connectors/<id:connection_id>/", views.connection, name="connection"),
    path("connectors/<id:connection_id>/sync/", views.connection_sync, name="connection_sync"),
    path("connectors/<id:connection_id>/pause/", views.connection_pause, name="connection_pause"),
    path(
        "connectors/<id:connection_id>/settings/",
        views.connection_settings,
        name="connection_settings",
    ),
    path(
        "connectors/<id:connection_id>/disconnect/",
        views.connection_disconnect,
        name="connection_disconnect",
    ),
    path("connectors/documents/", views.documents, name="connector_documents"),
    path("connectors/documents/<id:document_id>/", views.document, name="connector_document"),
    path("connectors/why/", views.why, name="connector_why"),
    path(
        "connectors/members/<id:member_id>/documents/",
        views.member_documents,
        name="member_documents",
    ),
    path("connectors/mine/", views.my_documents, name="my_documents"),
]

callback_urlpatterns: list[URLPattern] = [
    path("connectors/google/callback/", views.google_callback, name="connector_google_callback"),
    path(
        "connectors/microsoft/callback/",
        views.microsoft_callback,
        name="connector_microsoft_callback",
    ),
]
