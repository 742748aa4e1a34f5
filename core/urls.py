from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.outbox, name="dev_outbox"),
    path("<int:pk>/", views.outbox_email, name="dev_outbox_email"),
]
