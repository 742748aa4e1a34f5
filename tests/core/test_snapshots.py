"""Snapshots under version stamps (core.snapshots): read once until a stamp they are made of
moves; a reader between a change and its commit keeps nothing the commit does not retire;
inside a transaction, or with the cache in trouble, the database answers."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction

from core import snapshots

pytestmark = pytest.mark.django_db


class Loader:
    """Counts its loads and answers the value of the moment."""

    def __init__(self, value: Any = "v1") -> None:
        self.value = value
        self.loads = 0

    def __call__(self) -> Any:
        self.loads += 1
        return self.value


def test_a_snapshot_is_read_once_until_a_stamp_it_is_made_of_moves() -> None:
    load = Loader()
    stamps = [snapshots.decisions(1), snapshots.PLANS]
    assert snapshots.read("s", stamps, load) == "v1"
    assert snapshots.read("s", stamps, load) == "v1"
    assert load.loads == 1
    load.value = "v2"
    snapshots.moved(snapshots.PLANS)
    assert snapshots.read("s", stamps, load) == "v2"
    assert snapshots.read("s", stamps, load) == "v2"
    assert load.loads == 2
    # Another workspace's stamp retires nothing of this one.
    snapshots.moved(snapshots.decisions(2))
    assert snapshots.read("s", stamps, load) == "v2" and load.loads == 2
    snapshots.moved(snapshots.decisions(1))
    assert snapshots.read("s", stamps, load) == "v2" and load.loads == 3


def test_falsy_values_are_snapshots_too() -> None:
    load = Loader(None)
    assert snapshots.read("s", ["a"], load) is None
    assert snapshots.read("s", ["a"], load) is None
    assert load.loads == 1


def test_a_reader_between_the_change_and_its_commit_is_retired_by_the_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    load = Loader("before")
    stamps = [snapshots.decisions(1)]
    assert snapshots.read("s", stamps, load) == "before"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        snapshots.moved(*stamps)
        # Another process, before the writer commits: it still sees the state before, and
        # keeps it under the stamp's new value.
        assert snapshots.read("s", stamps, load) == "before"
        assert load.loads == 2
    load.value = "after"
    assert len(callbacks) == 1
    callbacks[0]()  # the commit
    assert snapshots.read("s", stamps, load) == "after"
    assert load.loads == 3


def test_inside_a_transaction_the_database_answers_and_nothing_is_kept() -> None:
    load = Loader()
    with transaction.atomic():
        assert snapshots.read("s", ["a"], load) == "v1"
        assert snapshots.read("s", ["a"], load) == "v1"
    assert load.loads == 2
    # Nothing was kept: the first read outside loads, the second is served.
    snapshots.read("s", ["a"], load)
    snapshots.read("s", ["a"], load)
    assert load.loads == 3


def test_off_the_database_answers(settings: Any) -> None:
    settings.SNAPSHOTS = False
    load = Loader()
    snapshots.read("s", ["a"], load)
    snapshots.read("s", ["a"], load)
    assert load.loads == 2


def test_a_cache_in_trouble_reads_the_database_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    load = Loader()

    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    with caplog.at_level(logging.WARNING, logger="core.snapshots"):
        assert snapshots.read("s", ["a"], load) == "v1"
        assert snapshots.read("s", ["a"], load) == "v1"
    assert load.loads == 2
    assert "read from the database" in caplog.text
    monkeypatch.undo()

    # A cache that keeps nothing: every read loads.
    monkeypatch.setattr(cache, "set", down)
    assert snapshots.read("s", ["a"], load) == "v1"
    assert snapshots.read("s", ["a"], load) == "v1"
    assert load.loads == 4
    monkeypatch.undo()

    # A move the cache refuses is an error in the log.
    monkeypatch.setattr(cache, "delete_many", down)
    with caplog.at_level(logging.ERROR, logger="core.snapshots"):
        snapshots.moved("a")
    assert "not moved" in caplog.text


def test_a_stamp_evicted_or_a_cache_emptied_only_costs_a_rebuild() -> None:
    load = Loader()
    snapshots.read("s", ["a", "b"], load)
    cache.delete("snapshot-stamp:b")
    assert snapshots.read("s", ["a", "b"], load) == "v1"
    assert load.loads == 2
    cache.clear()
    assert snapshots.read("s", ["a", "b"], load) == "v1"
    assert load.loads == 3
