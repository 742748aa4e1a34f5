"""A task for the worker tests only. The test workers import this module with
``--include tests.worker_tasks``; nothing in the console imports it, so no production
worker knows the task."""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import shared_task

BLOCK_UNTIL_RELEASED = "tests.worker_tasks.block_until_released"
RELEASE_TIMEOUT = 120.0


@shared_task(name=BLOCK_UNTIL_RELEASED)
def block_until_released(folder: str) -> int:
    """Note each run (the id of the process running it) in ``folder/runs``, wait for
    ``folder/release``, then write ``folder/done``. Idempotent: running it again writes the
    same result. A message left by an earlier, aborted test run finds no folder and ends."""
    base = Path(folder)
    if not base.is_dir():
        return 0
    with (base / "runs").open("a") as runs:
        runs.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + RELEASE_TIMEOUT
    while not (base / "release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{base / 'release'} did not appear")
        time.sleep(0.1)
    (base / "done").write_text("done\n")
    return len((base / "runs").read_text().split())
