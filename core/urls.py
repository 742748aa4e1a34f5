from __future__ import annotations

from django.urls import path

import core.converters  # noqa: F401  (registers <id:...>)

from . import views

urlpatterns = [
    path("", views.outbox, name="dev_outbox"),
    path("<id:pk>/", views.outbox_email, name="dev_outbox_email"),
]
