from __future__ import annotations

from django.urls import path

from accounts.views import members as views

urlpatterns = [
    path("members/", views.index, name="members"),
]
