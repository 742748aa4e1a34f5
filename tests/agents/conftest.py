from __future__ import annotations

import pytest

from accounts.actor import Actor
from accounts.models import Membership, Workspace
from agents.services import Config
from billing.models import Plan
from catalogue.models import BaseModel, ModelRef
from tests.factories import BaseModelFactory, SubscriptionFactory


@pytest.fixture
def team(workspace: Workspace) -> Workspace:
    """The workspace on the Team plan: agents, sharing, libraries and connectors."""
    SubscriptionFactory(workspace=workspace, plan=Plan.objects.get(slug="team"))
    return workspace


@pytest.fixture
def model(db: None) -> BaseModel:
    return BaseModelFactory(plans=["team", "free"], context_window=32_000)


@pytest.fixture
def config(model: BaseModel) -> Config:
    return Config(model=ModelRef.of(model), instructions="Answer briefly.")


def actor(m: Membership) -> Actor:
    return Actor.member(m)
