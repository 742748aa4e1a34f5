from __future__ import annotations

from django.urls import path

from accounts.views import domains as views

urlpatterns = [
    path("domains/", views.index, name="domains"),
    path("domains/claim/", views.claim, name="domain_claim"),
    path("domains/<int:pk>/check/", views.check, name="domain_check"),
    path("domains/<int:pk>/remove/", views.remove, name="domain_remove"),
    path("domains/requests/<int:pk>/approve/", views.approve, name="join_request_approve"),
    path("domains/requests/<int:pk>/decline/", views.decline, name="join_request_decline"),
]
