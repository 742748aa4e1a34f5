"""Group expansion: transitive members with the shortest chain of nested groups, cycles
closed where they close, unknown groups contributing nobody."""

from __future__ import annotations

from connectors.providers.base import SourceGroup
from connectors.sync import expand


def test_nested_groups_expand_with_the_shortest_path_and_cycles_end():
    groups = {
        "all": SourceGroup("all", "all", ("boss@x",), ("eng", "ops")),
        "eng": SourceGroup("eng", "eng", ("alan@x",), ("platform", "all")),  # a cycle back
        "platform": SourceGroup("platform", "platform", ("grace@x",), ("eng", "ghost")),
        "ops": SourceGroup("ops", "ops", ("grace@x",), ()),
    }
    out = expand(groups)
    assert out["all"] == {
        "boss@x": [],
        "alan@x": ["eng"],
        # Through ops (one level) rather than eng > platform (two).
        "grace@x": ["ops"],
    }
    assert out["platform"] == {"grace@x": [], "alan@x": ["eng"], "boss@x": ["eng", "all"]}
    assert out["ops"] == {"grace@x": []}


def test_a_group_nobody_listed_reaches_nobody():
    groups = {"eng": SourceGroup("eng", "eng", (), ("ghost",))}
    assert expand(groups) == {"eng": {}}
