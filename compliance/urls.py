"""The compliance pages of a workspace, under /w/<slug>/compliance/ (names "ws:...")."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("compliance/", views.index, name="compliance"),
    path("compliance/editorial-request/", views.editorial_request, name="editorial_request"),
    path("compliance/appeal/", views.appeal, name="appeal"),
]
