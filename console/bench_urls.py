"""URLs for ``manage.py bench`` only (ROOT_URLCONF while it measures): the console's own, plus
bare Django views, the baselines: a fixed JSON body (the service API's decision call), and
the agents section's plain list page and JSON list and fetch of agents (console.bench_agents).
Never the project's ROOT_URLCONF."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.urls import include, path

import core.converters  # noqa: F401  (registers <id:...>)
from agents.models import Agent

# The service API's answer, parsed, set by the bench before it measures: the bare view answers
# a body of the same size, serialized the same way, and does nothing else.
BARE_PAYLOAD: dict[str, Any] = {}

# A plain Django list page: the rows, their model and sharing, in a table.
_AGENTS_PAGE = engines["django"].from_string(
    "<!doctype html><html><head><title>Agents</title></head><body><table>"
    "<thead><tr><th>Name</th><th>Model</th><th>Shared with</th></tr></thead><tbody>"
    "{% for a in agents %}<tr><td>{{ a.name }}<div>{{ a.description }}</div></td>"
    "<td>{{ a.current.base_model.model_id }}</td><td>{{ a.get_visibility_display }}</td></tr>"
    "{% endfor %}</tbody></table></body></html>"
)
BARE_PAGE = 25


def bare_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(BARE_PAYLOAD)


def bare_agents(request: HttpRequest, workspace_id: int) -> HttpResponse:
    """``Agent.objects.filter(workspace=...)[:25]`` rendered: no sign-in, no decision."""
    agents = (
        Agent.objects.filter(workspace_id=workspace_id)
        .select_related("current__base_model")
        .order_by("name", "id")[:BARE_PAGE]
    )
    return HttpResponse(_AGENTS_PAGE.render({"agents": agents}, request))


def bare_agent_list(request: HttpRequest, workspace_id: int, limit: int) -> JsonResponse:
    """As many agents of the workspace as the service API listed, by name, in one query."""
    rows = (
        Agent.objects.filter(workspace_id=workspace_id, disabled_at__isnull=True)
        .order_by("name", "id")
        .values("id", "name", "current__base_model__model_id", "current__tools", "updated_at")[
            :limit
        ]
    )
    return JsonResponse(
        {
            "agents": [
                {
                    "id": r["id"],
                    "name": r["name"],
                    "model": r["current__base_model__model_id"],
                    "tools": r["current__tools"],
                    "updated_at": r["updated_at"],
                }
                for r in rows
            ]
        }
    )


def bare_agent(request: HttpRequest, agent_id: int) -> JsonResponse:
    """One agent and its current version by id, in one query."""
    agent = Agent.objects.select_related("current__base_model").filter(pk=agent_id).first()
    if agent is None or agent.current is None:
        raise Http404
    v = agent.current
    return JsonResponse(
        {
            "agent_id": agent.pk,
            "name": agent.name,
            "version": v.number,
            "model": v.base_model.model_id if v.base_model else v.fine_tuned_id,
            "instructions": v.instructions,
            "tools": v.tools,
            "completion": {
                "temperature": str(v.temperature),
                "max_tokens": v.max_tokens,
                "top_p": str(v.top_p),
            },
            "updated_at": agent.updated_at,
        }
    )


urlpatterns = [
    path("bench/bare-json", bare_json, name="bench_bare_json"),
    path("bench/agents/<id:workspace_id>/", bare_agents, name="bench_bare_agents"),
    path(
        "bench/agents/<id:workspace_id>/list/<id:limit>.json",
        bare_agent_list,
        name="bench_bare_agent_list",
    ),
    path("bench/agent/<id:agent_id>.json", bare_agent, name="bench_bare_agent"),
    path("", include("console.urls")),
]
