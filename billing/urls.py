from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("plan/", views.plan, name="plan"),
    path("plans/", views.plans, name="plans"),
    path("plans/<slug:plan_slug>/change/", views.change, name="plan_change"),
]
