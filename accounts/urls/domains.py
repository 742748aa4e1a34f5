from __future__ import annotations

from django.urls import path

import core.converters  # noqa: F401  (registers <id:...>)
from accounts.views import domains as views

urlpatterns = [
    path("domains/", views.index, name="domains"),
    path("domains/claim/", views.claim, name="domain_claim"),
    path("domains/<id:pk>/check/", views.check, name="domain_check"),
    path("domains/<id:pk>/remove/", views.remove, name="domain_remove"),
    path("domains/requests/<id:pk>/approve/", views.approve, name="join_request_approve"),
    path("domains/requests/<id:pk>/decline/", views.decline, name="join_request_decline"),
]
