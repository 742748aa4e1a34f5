"""The libraries' pages of a workspace, under /w/<slug>/libraries/ (names "ws:...")."""

from __future__ import annotations

from django.urls import path

from . import library_views as views

urlpatterns = [
    path("libraries/", views.index, name="libraries"),
    path("libraries/create/", views.create, name="library_create"),
    path("libraries/<id:library_id>/", views.detail, name="library"),
    path("libraries/<id:library_id>/edit/", views.update, name="library_update"),
    path("libraries/<id:library_id>/delete/", views.delete, name="library_delete"),
    path("libraries/<id:library_id>/share/", views.share, name="library_share"),
    path(
        "libraries/<id:library_id>/grants/<id:grant_id>/remove/",
        views.unshare,
        name="library_unshare",
    ),
    path("libraries/<id:library_id>/documents/", views.document_add, name="library_document_add"),
    path(
        "libraries/<id:library_id>/documents/<id:document_id>/download/",
        views.document_download,
        name="library_document_download",
    ),
    path(
        "libraries/<id:library_id>/documents/<id:document_id>/remove/",
        views.document_remove,
        name="library_document_remove",
    ),
]
