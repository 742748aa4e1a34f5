"""Run one function from many threads at once, to race services against each other on a
real database. Each thread has its own database connection (Django's are per thread) and
closes it when done; the tests using this are transactional, since a thread cannot see
the rows of a test's open transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="races need row locks and concurrent transactions: run on PostgreSQL",
)


@dataclass
class Outcomes:
    """What each thread answered: ``results[i]`` or ``errors[i]`` for thread ``i``."""

    results: dict[int, Any] = field(default_factory=dict)
    errors: dict[int, BaseException] = field(default_factory=dict)

    def unexpected(self, *allowed: type[BaseException]) -> dict[int, BaseException]:
        """The errors that are not of an ``allowed`` type."""
        return {i: e for i, e in self.errors.items() if not isinstance(e, allowed)}


def run_concurrently(fn: Callable[[int], Any], n: int, *, timeout: float = 60) -> Outcomes:
    """Call ``fn(i)`` for i in 0..n-1, each in its own thread, all released at once by a
    barrier so that they really overlap."""
    barrier = threading.Barrier(n)
    out = Outcomes()
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            # Connect before the barrier: opening a connection takes longer than most
            # services, and would spread the threads out again.
            connection.ensure_connection()
            barrier.wait(timeout=timeout)
            result = fn(i)
        except BaseException as exc:  # noqa: BLE001  (reported to the test, which decides)
            with lock:
                out.errors[i] = exc
        else:
            with lock:
                out.results[i] = result
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    alive = [t.name for t in threads if t.is_alive()]
    assert not alive, f"threads still running after {timeout}s: {alive}"
    return out
