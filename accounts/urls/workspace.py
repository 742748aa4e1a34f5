from __future__ import annotations

from django.urls import path

from accounts.views import workspace as views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("roles/", views.roles, name="roles"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/name/", views.settings_rename, name="settings_rename"),
    path("leave/", views.leave, name="leave"),
]
