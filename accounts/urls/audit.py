from __future__ import annotations

from django.urls import path

from accounts.views import audit as views

urlpatterns = [
    path("audit/", views.index, name="audit"),
    path("audit/export.csv", views.export, name="audit_export"),
]
