"""``available_models``: the models a plan offers and the platform serves today, in the
catalogue's order, in one query at any size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalogue.models import BaseModel, Kind, Lifecycle
from catalogue.selectors import available_models
from tests.factories import BaseModelFactory

pytestmark = pytest.mark.django_db


def _ids(plan: str, kind: str | None = None) -> list[str]:
    return [m.model_id for m in available_models(plan, kind)]


def test_a_plan_lists_what_it_offers_in_service_in_the_catalogue_order() -> None:
    BaseModelFactory(model_id="second", name="B", sort_order=2, plans=["pro"])
    BaseModelFactory(model_id="first", name="Z", sort_order=1, plans=["pro"])
    BaseModelFactory(model_id="same-order-a", name="A", sort_order=2, plans=["pro"])
    BaseModelFactory(model_id="leaving", sort_order=3, deprecated=True, plans=["pro"])
    BaseModelFactory(model_id="gone", sort_order=4, retired=True, plans=["pro"])
    BaseModelFactory(model_id="elsewhere", sort_order=5, plans=["team"])
    listed = [m for m in _ids("pro") if m in {"second", "first", "same-order-a", "leaving"}]
    assert listed == ["first", "same-order-a", "second", "leaving"]
    assert "gone" not in _ids("pro") and "elsewhere" not in _ids("pro")
    assert "elsewhere" in _ids("team")


def test_a_deprecated_model_leaves_the_list_on_its_retirement_date() -> None:
    model = BaseModelFactory(model_id="leaving", deprecated=True, plans=["pro"])
    assert model.retirement_date is not None
    day = model.retirement_date
    assert "leaving" in [m.model_id for m in available_models("pro", today=day - timedelta(days=1))]
    assert "leaving" not in [m.model_id for m in available_models("pro", today=day)]


def test_the_starting_catalogue_by_plan_and_kind() -> None:
    assert _ids("free", Kind.EMBEDDING) == ["mistral-embed"]
    assert _ids("team", Kind.EMBEDDING) == ["mistral-embed", "codestral-embed"]
    chat = _ids("api-payg", Kind.CHAT)
    assert chat[0] == "mistral-large-2411" and "open-mixtral-8x22b" not in chat
    retired = BaseModel.objects.get(lifecycle=Lifecycle.RETIRED)
    assert retired.model_id not in _ids("enterprise")
    assert set(_ids("pro")) < set(_ids("enterprise"))


def _populate(n: int) -> None:
    for i in range(n):
        kind = Kind.CHAT if i % 2 else Kind.CODE
        BaseModelFactory(kind=kind, plans=["team", "enterprise"], deprecated=i % 3 == 0)


@pytest.mark.parametrize("kind", [None, Kind.CHAT])
def test_one_query_at_two_sizes(django_assert_num_queries, kind: Kind | None) -> None:
    _populate(3)
    with django_assert_num_queries(1):
        small = list(available_models("team", kind))
    _populate(30)
    with django_assert_num_queries(1):
        large = list(available_models("team", kind))
    assert len(large) > len(small) > 0
    assert not any(m.is_retired_on(timezone.localdate()) for m in large)
