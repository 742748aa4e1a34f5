"""The sources of a plan change's effects that apps above billing register: asked about the
change, their answers shown in the order they registered, None left out."""

from __future__ import annotations

import pytest

from billing import effects
from billing.effects import Change, Effect, Item
from billing.services import plan_change_preview
from tests.billing.conftest import plan, subscribe

pytestmark = pytest.mark.django_db


def test_the_preview_carries_what_the_sources_answer(monkeypatch, workspace, owner) -> None:
    subscribe(workspace, "team")
    asked: list[Change] = []

    def first(change: Change) -> Effect | None:
        asked.append(change)
        return Effect("2 things change", (Item("One", "/one/"),), more=1)

    monkeypatch.setattr(effects, "_sources", {})
    effects.register("first", first)
    effects.register("silent", lambda change: None)
    effects.register("last", lambda change: Effect("Another thing changes"))

    preview = plan_change_preview(workspace=workspace, plan=plan("pro"), viewer=owner)

    assert [e.summary for e in preview.effects] == ["2 things change", "Another thing changes"]
    assert preview.effects[0].items == (Item("One", "/one/"),) and preview.effects[0].more == 1
    (change,) = asked
    assert (change.workspace, change.current.slug, change.target.slug, change.viewer) == (
        workspace,
        "team",
        "pro",
        owner,
    )
    assert change.features_lost == {"connectors", "agent_sharing"}


def test_registering_a_key_again_replaces_its_source(monkeypatch, workspace) -> None:
    monkeypatch.setattr(effects, "_sources", {})
    effects.register("one", lambda change: Effect("old"))
    effects.register("one", lambda change: Effect("new"))
    subscribe(workspace, "team")
    preview = plan_change_preview(workspace=workspace, plan=plan("pro"))
    assert [e.summary for e in preview.effects] == ["new"]


def test_the_current_plan_asks_no_source(monkeypatch, workspace) -> None:
    monkeypatch.setattr(effects, "_sources", {})
    effects.register("loud", lambda change: Effect("changes"))
    subscribe(workspace, "team")
    assert plan_change_preview(workspace=workspace, plan=plan("team")).effects == ()
