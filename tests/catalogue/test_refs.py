"""``resolve``: whether a model reference is usable on a plan, and why, for each case;
checked against a reference written separately over random models; and its workspace
form in billing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from billing.selectors import models_for_workspace, resolve_for_workspace
from catalogue.models import BaseModel, Lifecycle, ModelRef
from catalogue.refs import (
    DEPRECATED,
    FINE_TUNED_UNAVAILABLE,
    NOT_IN_PLAN,
    OFFERED,
    RETIRED,
    Code,
    evaluate,
    resolve,
)
from catalogue.selectors import ref_for
from tests.billing.conftest import subscribe
from tests.factories import BaseModelFactory, WorkspaceFactory

TUNED = "ft:mistral-small-2503:acme:20261201:a1b2c3d4"


def _ref(**fields: object) -> ModelRef:
    return ModelRef.of(BaseModelFactory(name="Model X", **fields))


@pytest.mark.django_db
def test_an_available_model_offered_on_the_plan_is_usable() -> None:
    answer = resolve(_ref(plans=["team"]), "team", plan_name="Team")
    assert (answer.usable, answer.code) == (True, Code.AVAILABLE)
    assert answer.reason == OFFERED.format(model="Model X", plan="Team")
    assert (answer.warning, answer.retirement_date) == ("", None)


@pytest.mark.django_db
def test_a_deprecated_model_is_usable_with_a_warning_and_its_date() -> None:
    ref = _ref(plans=["team"], deprecated=True)
    answer = resolve(ref, "team", plan_name="Team")
    assert ref.base is not None and ref.base.retirement_date is not None
    assert (answer.usable, answer.code) == (True, Code.DEPRECATED)
    assert answer.retirement_date == ref.base.retirement_date
    assert answer.warning == DEPRECATED.format(
        model="Model X", date=ref.base.retirement_date.isoformat()
    )


@pytest.mark.django_db
def test_a_deprecated_model_whose_date_has_come_is_retired() -> None:
    ref = _ref(plans=["team"], deprecated=True)
    assert ref.base is not None and ref.base.retirement_date is not None
    answer = resolve(ref, "team", today=ref.base.retirement_date)
    assert (answer.usable, answer.code) == (False, Code.RETIRED)
    day_before = resolve(ref, "team", today=ref.base.retirement_date - timedelta(days=1))
    assert day_before.usable


@pytest.mark.django_db
def test_a_retired_model_is_refused_even_where_the_plan_offers_it() -> None:
    ref = _ref(plans=["team"], retired=True)
    assert ref.base is not None and ref.base.retirement_date is not None
    answer = resolve(ref, "team")
    assert (answer.usable, answer.code) == (False, Code.RETIRED)
    assert answer.reason == RETIRED.format(
        model="Model X", date=ref.base.retirement_date.isoformat()
    )


@pytest.mark.django_db
def test_a_model_the_plan_does_not_offer_is_refused_with_the_plan() -> None:
    ref = _ref(plans=["team", "enterprise"])
    answer = resolve(ref, "free", plan_name="Free")
    assert (answer.usable, answer.code) == (False, Code.NOT_IN_PLAN)
    assert answer.reason == NOT_IN_PLAN.format(model="Model X", plan="Free")
    # Without the plan's name, the slug words it.
    assert resolve(ref, "free").reason == NOT_IN_PLAN.format(model="Model X", plan="free")


def test_a_fine_tuned_model_is_not_served_yet() -> None:
    answer = resolve(ModelRef.fine_tuned(TUNED), "enterprise")
    assert (answer.usable, answer.code, answer.reason) == (
        False,
        Code.FINE_TUNED_UNAVAILABLE,
        FINE_TUNED_UNAVAILABLE,
    )


@pytest.mark.django_db
def test_resolve_reads_the_offers_once_or_not_at_all_when_prefetched(
    django_assert_num_queries,
) -> None:
    BaseModelFactory(model_id="counted", plans=["team", "pro"])
    fresh = BaseModel.objects.get(model_id="counted")
    with django_assert_num_queries(1):
        assert resolve(ModelRef.of(fresh), "team").usable
    prefetched = BaseModel.objects.prefetch_related("offers").get(model_id="counted")
    with django_assert_num_queries(0):
        assert resolve(ModelRef.of(prefetched), "pro").usable
        assert not resolve(ModelRef.of(prefetched), "free").usable


# --- Against a reference -----------------------------------------------------------------


def _reference(lifecycle: str, days_left: int | None, offered: bool) -> tuple[bool, Code]:
    """The rule in words: out of service (retired, or its date come) first, then the plan;
    a model still in service before its date is usable, deprecated or not."""
    out = lifecycle == "retired" or (days_left is not None and days_left <= 0)
    if out:
        return False, Code.RETIRED
    if not offered:
        return False, Code.NOT_IN_PLAN
    return True, Code.DEPRECATED if lifecycle == "deprecated" else Code.AVAILABLE


@given(
    lifecycle=st.sampled_from(Lifecycle.values),
    days_left=st.integers(min_value=-400, max_value=400),
    offered=st.booleans(),
)
def test_agrees_with_the_reference(lifecycle: str, days_left: int, offered: bool) -> None:
    today = date(2026, 12, 2)
    dated = lifecycle != Lifecycle.AVAILABLE
    model = BaseModel(
        model_id="m",
        name="M",
        lifecycle=lifecycle,
        retirement_date=today + timedelta(days=days_left) if dated else None,
    )
    answer = evaluate(ModelRef.of(model), model, offered=offered, plan_name="P", today=today)
    assert (answer.usable, answer.code) == _reference(
        lifecycle, days_left if dated else None, offered
    )
    assert bool(answer.warning) == (answer.code == Code.DEPRECATED)


# --- From an id, and for a workspace -------------------------------------------------------


@pytest.mark.django_db
def test_ref_for_reads_an_id_as_the_api_receives_it(django_assert_num_queries) -> None:
    with django_assert_num_queries(2):
        ref = ref_for("mistral-large-2411")
    assert ref is not None and ref.base is not None
    with django_assert_num_queries(0):
        assert resolve(ref, "team").usable
        assert ref_for(TUNED) == ModelRef.fine_tuned(TUNED)
        assert ref_for("ft:") is None
        assert ref_for("mistral\x00large") is None
        assert ref_for("") is None
    assert ref_for("mistral-huge-2999") is None


@pytest.mark.django_db
def test_a_workspace_resolves_on_its_current_plan(workspace) -> None:
    large = ModelRef.of(BaseModel.objects.get(model_id="mistral-large-2411"))
    # No subscription: the default plan, which does not offer Mistral Large.
    refused = resolve_for_workspace(large, workspace)
    assert (refused.code, refused.reason) == (
        Code.NOT_IN_PLAN,
        NOT_IN_PLAN.format(model="Mistral Large 24.11", plan="Free"),
    )
    subscribe(workspace, "team")
    assert resolve_for_workspace(large, workspace).usable


@pytest.mark.django_db
def test_models_for_a_workspace_follow_its_plan_in_fixed_queries(workspace) -> None:
    subscribe(workspace, "free")
    team_workspace = WorkspaceFactory()
    subscribe(team_workspace, "team")
    with CaptureQueriesContext(connection) as free_queries:
        free = [m.model_id for m in models_for_workspace(workspace)]
    assert "mistral-small-2503" in free and "mistral-large-2411" not in free
    for _ in range(10):
        BaseModelFactory(plans=["team"])
    with CaptureQueriesContext(connection) as team_queries:
        team = [m.model_id for m in models_for_workspace(team_workspace, kind="chat")]
    assert "mistral-large-2411" in team and "mistral-embed" not in team
    assert len(team) == len(set(team)) > 10
    assert len(free_queries) == len(team_queries) == 2
