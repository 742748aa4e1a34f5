"""Two members creating agents of one name at once: one wins, the other meets the same
error as the check before the write (PostgreSQL: the unique constraint in a savepoint)."""

from __future__ import annotations

import pytest

from accounts.models import Workspace
from agents import names, services
from agents.models import Agent
from billing.models import Plan
from catalogue.models import ModelRef
from core.errors import DomainError
from tests.agents.conftest import actor
from tests.concurrency import needs_postgres, run_concurrently
from tests.factories import BaseModelFactory, MembershipFactory, SubscriptionFactory

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_one_of_many_creating_the_same_name_wins(workspace: Workspace) -> None:
    SubscriptionFactory(workspace=workspace, plan=Plan.objects.get(slug="team"))
    model = BaseModelFactory(plans=["team"])
    members = [MembershipFactory(workspace=workspace) for _ in range(THREADS)]
    config = services.Config(model=ModelRef.of(model))

    def create(i: int) -> Agent:
        # Names that differ only by case collide as well.
        name = "Triage" if i % 2 else "TRIAGE"
        return services.agent_create(
            actor=actor(members[i]), workspace=workspace, name=name, config=config
        )

    out = run_concurrently(create, THREADS)
    assert out.unexpected(DomainError) == {}
    assert len(out.results) == 1
    assert {e.message for e in out.errors.values()} == {names.NAME_TAKEN}  # type: ignore[attr-defined]
    assert Agent.objects.filter(workspace=workspace).count() == 1
