"""Side effects that must follow a commit, never a rolled-back change."""

from __future__ import annotations

from django.db import transaction
from django.utils.module_loading import import_string


def on_commit_task(task_path: str, *args: object) -> None:
    """Enqueue a Celery task once the transaction commits (never for rolled-back work).
    The task is named by its dotted path so that the caller's app need not import it."""

    def send() -> None:
        import_string(task_path).delay(*args)

    transaction.on_commit(send)
