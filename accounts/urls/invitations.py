from __future__ import annotations

from django.urls import path

from accounts.views import invitations as views

urlpatterns = [
    path("invitations/", views.index, name="invitations"),
]
