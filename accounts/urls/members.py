from __future__ import annotations

from django.urls import path

import core.converters  # noqa: F401  (registers <id:...>)
from accounts.views import members as views

urlpatterns = [
    path("members/", views.index, name="members"),
    path("members/<id:member_id>/role/", views.change_role, name="member_role"),
    path("members/<id:member_id>/deactivate/", views.deactivate, name="member_deactivate"),
    path("members/<id:member_id>/reactivate/", views.reactivate, name="member_reactivate"),
    path("members/<id:member_id>/remove/", views.remove, name="member_remove"),
]
