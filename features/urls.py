from __future__ import annotations

from django.urls import URLPattern, path

import core.converters  # noqa: F401  (registers <id:...>)

from . import views

urlpatterns: list[URLPattern] = [
    path("features/", views.index, name="features"),
    path("features/rule/", views.rule, name="feature_rule"),
    path("features/why/<id:member_id>/<str:feature>/", views.why, name="feature_why"),
    path("features/mine/", views.mine, name="my_features"),
    path("features/mine/switch/", views.switch, name="my_feature_switch"),
]
