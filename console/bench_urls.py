"""URLs for ``manage.py bench`` only (ROOT_URLCONF while it measures): the console's own, plus
a bare Django view answering a fixed JSON body, the baseline of the service API's decision
call. Never the project's ROOT_URLCONF."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

# The service API's answer, parsed, set by the bench before it measures: the bare view answers
# a body of the same size, serialized the same way, and does nothing else.
BARE_PAYLOAD: dict[str, Any] = {}


def bare_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(BARE_PAYLOAD)


urlpatterns = [
    path("bench/bare-json", bare_json, name="bench_bare_json"),
    path("", include("console.urls")),
]
