from __future__ import annotations

from django.urls import path

from accounts.views import groups as views

urlpatterns = [
    path("groups/", views.index, name="groups"),
    path("groups/new/", views.create, name="group_create"),
    path("groups/<int:group_id>/", views.detail, name="group_detail"),
    path("groups/<int:group_id>/rename/", views.rename, name="group_rename"),
    path("groups/<int:group_id>/delete/", views.delete, name="group_delete"),
    path("groups/<int:group_id>/members/add/", views.member_add, name="group_member_add"),
    path("groups/<int:group_id>/members/search/", views.member_search, name="group_member_search"),
    path(
        "groups/<int:group_id>/members/<int:member_id>/remove/",
        views.member_remove,
        name="group_member_remove",
    ),
]
