from __future__ import annotations

from django.urls import path

from accounts.views import workspace as views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("roles/", views.roles, name="roles"),
    path("settings/", views.settings_page, name="settings"),
    path("leave/", views.leave, name="leave"),
]
