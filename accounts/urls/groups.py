from __future__ import annotations

from django.urls import path

import core.converters  # noqa: F401  (registers <id:...>)
from accounts.views import groups as views

urlpatterns = [
    path("groups/", views.index, name="groups"),
    path("groups/new/", views.create, name="group_create"),
    path("groups/<id:group_id>/", views.detail, name="group_detail"),
    path("groups/<id:group_id>/rename/", views.rename, name="group_rename"),
    path("groups/<id:group_id>/delete/", views.delete, name="group_delete"),
    path("groups/<id:group_id>/members/add/", views.member_add, name="group_member_add"),
    path("groups/<id:group_id>/members/search/", views.member_search, name="group_member_search"),
    path(
        "groups/<id:group_id>/members/<id:member_id>/remove/",
        views.member_remove,
        name="group_member_remove",
    ),
]
