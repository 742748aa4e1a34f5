"""Statements compiled once (core.statements): the rows the ORM would answer, converted as it
converts them, from SQL built on the first call; parameters that a lookup would rewrite are
refused when the statement compiles, and values of the wrong type when it runs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Agent, AgentVersion
from core import statements
from tests.factories import AgentFactory, AgentVersionFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

COLUMNS = (
    "id",
    "name",
    "disabled_at",
    "current__tools",
    "current__temperature",
    "current__created_at",
    "current__base_model__model_id",
)


def _agents(workspace_id: Any, name: Any) -> Any:
    return (
        Agent.objects.filter(workspace_id=workspace_id, name=name)
        .order_by("id")
        .values_list(*COLUMNS)
    )


def test_the_rows_are_the_orms_converted_alike_on_every_call() -> None:
    built: list[dict[str, Any]] = []

    def build(**markers: Any) -> Any:
        built.append(markers)
        return _agents(markers["workspace_id"], markers["name"])

    statement = statements.Statement(build, workspace_id=int, name=str)
    ws = WorkspaceFactory()
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    a = AgentFactory(
        workspace=ws,
        name="Triage",
        disabled_at=when,
        disabled_reason="Impersonates the platform.",
        version__tools=["web_search", "code_interpreter"],
        version__temperature=Decimal("0.35"),
    )
    # A version without a base model: the join is an outer one, its columns None.
    b = AgentFactory(workspace=ws, name="Triage 2", version=False)
    b.current = AgentVersionFactory(agent=b, base_model=None, fine_tuned_id="ft:x", tools=[])
    b.save(update_fields=["current"])
    AgentFactory(name="Triage")  # another workspace's

    for agent in (a, b):
        rows = statement.rows(workspace_id=ws.pk, name=agent.name)
        assert rows == list(_agents(ws.pk, agent.name))
    row = statement.first(workspace_id=ws.pk, name="Triage")
    assert row is not None
    assert row[2] == when and row[2].tzinfo is not None
    assert row[3] == ["web_search", "code_interpreter"]
    assert row[4] == Decimal("0.35")
    assert statement.rows(workspace_id=ws.pk, name="Triage 2")[0][6] is None
    assert statement.first(workspace_id=ws.pk, name="Nobody") is None
    # The queryset was built once, for this database.
    assert len(built) == 1


def test_a_statement_is_a_query_as_any_other() -> None:
    statement = statements.Statement(_agents, workspace_id=int, name=str)
    ws = WorkspaceFactory()
    AgentFactory(workspace=ws, name="Triage")
    statement.rows(workspace_id=ws.pk, name="Triage")
    with CaptureQueriesContext(connection) as ctx:
        statement.rows(workspace_id=ws.pk, name="Triage")
    assert len(ctx.captured_queries) == 1


def test_hostile_text_is_a_value_never_sql() -> None:
    statement = statements.Statement(_agents, workspace_id=int, name=str)
    ws = WorkspaceFactory()
    hostile = "x' OR '1'='1'; DROP TABLE agents_agent; --"
    AgentFactory(workspace=ws, name="Triage")
    assert statement.rows(workspace_id=ws.pk, name=hostile) == []
    assert statement.rows(workspace_id=ws.pk, name="100% _off_") == []
    assert Agent.objects.filter(workspace=ws).count() == 1


def test_instances_are_made_of_a_rows_columns() -> None:
    agent_cols = statements.attnames(Agent, only=("id", "name", "current_id"))
    version_cols = statements.attnames(AgentVersion, only=("id", "number", "tools"))
    statement = statements.Statement(
        lambda agent_id: Agent.objects.filter(pk=agent_id).values_list(
            *agent_cols, *(f"current__{n}" for n in version_cols)
        ),
        agent_id=int,
    )
    a = AgentFactory(name="Triage", version__tools=["web_search"])
    row = statement.first(agent_id=a.pk)
    assert row is not None
    agent, at = statements.instance(Agent, agent_cols, row, 0)
    version, end = statements.instance(AgentVersion, version_cols, row, at)
    assert end == len(row)
    assert (agent.pk, agent.name, agent.current_id) == (a.pk, "Triage", a.current_id)
    assert (version.pk, version.tools) == (a.current_id, ["web_search"])
    # Columns not read are deferred, as they are for ``only``.
    assert "description" in agent.get_deferred_fields()
    assert agent._state.adding is False


@pytest.mark.parametrize(
    "build",
    [
        # contains and icontains wrap the value in wildcards.
        lambda name: Agent.objects.filter(name__contains=name).values_list("id"),
        lambda name: Agent.objects.filter(name__icontains=name).values_list("id"),
        # A parameter the query does not use.
        lambda name: Agent.objects.filter(name="Triage").values_list("id"),
    ],
)
def test_a_parameter_the_query_would_rewrite_is_refused_when_it_compiles(build: Any) -> None:
    statement = statements.Statement(build, name=str)
    with pytest.raises(ValueError, match="through unchanged"):
        statement.rows(name="Triage")


def test_values_of_the_wrong_type_or_missing_are_refused() -> None:
    statement = statements.Statement(_agents, workspace_id=int, name=str)
    with pytest.raises(TypeError, match="workspace_id must be int"):
        statement.rows(workspace_id="1", name="Triage")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="workspace_id must be int"):
        statement.rows(workspace_id=True, name="Triage")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Expected the values"):
        statement.rows(workspace_id=1)
