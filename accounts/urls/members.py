from __future__ import annotations

from django.urls import path

from accounts.views import members as views

urlpatterns = [
    path("members/", views.index, name="members"),
    path("members/<int:member_id>/role/", views.change_role, name="member_role"),
    path("members/<int:member_id>/deactivate/", views.deactivate, name="member_deactivate"),
    path("members/<int:member_id>/reactivate/", views.reactivate, name="member_reactivate"),
    path("members/<int:member_id>/remove/", views.remove, name="member_remove"),
]
