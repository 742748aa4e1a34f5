"""The outbox's one task: send one row. A retry resends only that row, and a row already
sent is left alone, so a task that runs twice sends once."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from . import email


class OutboxTask(Task):  # type: ignore[type-arg]
    """Records on the row that its last try failed."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        row_id = args[0] if args else kwargs.get("row_id")
        if row_id is not None:
            email.record_failure(int(row_id), exc)


@shared_task(
    bind=True,
    base=OutboxTask,
    autoretry_for=email.TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def send_outbox_email(self: Task, row_id: int) -> bool:  # type: ignore[type-arg]
    return email.deliver(row_id)
