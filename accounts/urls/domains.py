from __future__ import annotations

from django.urls import path

from accounts.views import domains as views

urlpatterns = [
    path("domains/", views.index, name="domains"),
]
