"""Snapshots of what hot paths read, kept in the cache under version stamps: a hot path
reads a snapshot, rebuilt when a stamp it is made of moves; the database stays the truth
and answers when the cache is cold, down or refuses a write.

A stamp names a set of rows (``decisions(workspace_id)``: what the feature decisions of
that workspace's members read; ``PLANS``: the plans). A service that changes such rows
calls ``moved(stamp)`` in its transaction. A reader takes each stamp's current value
*before* it reads the database and keeps what it read under those values, so:

- a snapshot taken before a change is keyed by values the change retires, and is never
  served after it;
- the stamp moves at once and again after the commit: a reader between the two (which
  may have read the state before the commit, or, in the writer's own transaction, a state
  that is rolled back) keys its snapshot by a value the second move retires.

A reader inside a transaction of its own may see its own uncommitted writes, which a
rollback takes back and no move follows: it reads the database and keeps nothing. A stamp
that is evicted, or a cache emptied, only costs a rebuild: values are random and never
come back. Losing both moves of a change (the cache down for the writer, up for the
readers) would serve the old state until the snapshot expires (``TIMEOUT``); the failure
is logged.

Snapshots are off unless every process shares the cache (``SNAPSHOTS``, on with
``CACHE_URL``): a process's own memory would keep what another process changed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

logger = logging.getLogger(__name__)

# Bounds how long a snapshot outlives a change whose moves were both lost.
TIMEOUT = 300
# Part of every snapshot's key: a release that changes what a snapshot holds bumps it, so
# that no process unpickles another release's snapshot.
FORMAT = 1

PLANS = "plans"


def decisions(workspace_id: int) -> str:
    """The stamp of what the feature decisions of the workspace's members read: its plan,
    rules, groups and their members, switches, Media Customer state and exceptions."""
    return f"decisions:{workspace_id}"


def _stamp_key(stamp: str) -> str:
    return f"snapshot-stamp:{stamp}"


def _in_transaction() -> bool:
    """Inside an atomic block of the code's own. A test case's blocks (which Django marks)
    are not one: they hold the test's data, which nothing rolls back while it runs."""
    return any(not getattr(b, "_from_testcase", False) for b in connection.atomic_blocks)


def read[T](
    name: str,
    stamps: Sequence[str],
    load: Callable[[], T],
    *,
    keep: Callable[[T], bool] | None = None,
) -> T:
    """The snapshot ``name`` made of ``stamps``: from the cache while none of them has
    moved, else ``load()``, kept for the next reader (unless ``keep`` says no of it: a
    miss that anyone could ask for with made-up names is not worth a place). The snapshot
    holds the stamps' values it was taken under, so that the stamps and the snapshot are
    one read of the cache. Any trouble with the cache loads."""
    if not settings.SNAPSHOTS or _in_transaction():
        return load()
    keys = [_stamp_key(s) for s in stamps]
    key = f"snapshot:{FORMAT}:{name}"
    try:
        found = cache.get_many([*keys, key])
        missing = [k for k in keys if k not in found]
        if missing:
            # ``add`` writes only where no other reader has in the meantime.
            for k in missing:
                cache.add(k, secrets.token_hex(8), timeout=None)
            found.update(cache.get_many(missing))
            if any(k not in found for k in keys):
                return load()
        current = tuple(str(found[k]) for k in keys)
        kept = found.get(key)
    except Exception:
        logger.warning("Cache unavailable: snapshot %s read from the database", name, exc_info=True)
        return load()
    if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == current:
        return cast("T", kept[1])
    value = load()
    if keep is not None and not keep(value):
        return value
    try:
        cache.set(key, (current, value), timeout=TIMEOUT)
    except Exception:
        logger.warning("Cache unavailable: snapshot %s not kept", name, exc_info=True)
    return value


def _move(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception:
        logger.error("Cache unavailable: stamps %s not moved", keys, exc_info=True)


def moved(*stamps: str) -> None:
    """The rows that ``stamps`` name change in the current transaction: every snapshot made
    of them is retired, now and once the transaction commits."""
    keys = [_stamp_key(s) for s in stamps]
    _move(keys)
    transaction.on_commit(lambda: _move(keys), robust=True)
