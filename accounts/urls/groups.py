from __future__ import annotations

from django.urls import path

from accounts.views import groups as views

urlpatterns = [
    path("groups/", views.index, name="groups"),
]
