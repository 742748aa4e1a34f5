"""What a change of plan does to the data of the apps above billing (R-FEAT-3).

The plan-change preview names what a change takes away. Features, seats and limits are
billing's own; other losses are known only to apps that billing may not import (the
agents that stop being shared, for one). Such an app registers a source here when the apps
are ready (its ``AppConfig.ready``, as billing hands the catalogue its plans); the preview
asks every source and shows what they answer, in the order they were registered.

A source is a read in a fixed number of queries, whatever the amount of data, and answers
None when the change does not touch its data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from accounts.models import Membership, Workspace

from .models import Plan


@dataclass(frozen=True)
class Item:
    """One of the things a change touches, named, with the page that shows it."""

    label: str
    url: str = ""


@dataclass(frozen=True)
class Effect:
    """One consequence of a change: a sentence that says how many things it touches and
    what becomes of them, the first few of them, and how many more there are."""

    summary: str
    items: tuple[Item, ...] = ()
    more: int = 0


@dataclass(frozen=True)
class Change:
    """The change a source is asked about. ``viewer`` is the member who reads the preview
    (None outside a page): a source names only what that member may see."""

    workspace: Workspace
    current: Plan
    target: Plan
    viewer: Membership | None = None

    @property
    def features_lost(self) -> frozenset[str]:
        return self.current.feature_keys - self.target.feature_keys


Source = Callable[[Change], Effect | None]

_sources: dict[str, Source] = {}


def register(key: str, source: Source) -> None:
    """Add ``source`` under ``key``; registering a key again replaces its source."""
    _sources[key] = source


def effects_of(change: Change) -> tuple[Effect, ...]:
    """What every registered source answers about ``change``, None answers left out."""
    if change.current.pk == change.target.pk:
        return ()
    found = (source(change) for source in _sources.values())
    return tuple(effect for effect in found if effect is not None)
