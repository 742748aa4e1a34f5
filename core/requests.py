"""The pending → decided request mechanism, for requests that staff or a workspace's
admins decide once: join requests, editorial-use authorizations, appeals, and the
disputes, ZDR, privacy and deletion requests to come.

A concrete model subclasses ``DecidedRequest``, gives its own statuses (a ``TextChoices``
whose pending value is ``"pending"``) with ``status_field``, and says what "one pending at
a time" means for it with ``one_pending``. Its services open a request with
``open_request`` and decide it with ``decide``, or with ``lock_pending`` then
``mark_decided`` when the decision checks the locked row before it is written. The audit
event and the email stay with each service: each has its own action and template.

Everything here runs in the caller's transaction. A caller that also locks the workspace
row takes it first, as ``docs/conventions.md`` orders the locks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .errors import DomainError

if TYPE_CHECKING:
    # The stubs' name for the project's user model (AUTH_USER_MODEL), which core cannot
    # import; it exists only for the type checker.
    from django.contrib.auth.models import _User

PENDING = "pending"
ALREADY_DECIDED = "This has already been decided."


def status_field(statuses: type[models.TextChoices]) -> models.CharField[str, str]:
    """The ``status`` of a concrete request: its own choices, pending when created."""
    if PENDING not in statuses.values:
        raise ValueError(f"{statuses.__name__} needs a {PENDING!r} status.")
    return models.CharField(max_length=10, choices=statuses.choices, default=PENDING)


def one_pending(*fields: str, name: str) -> models.UniqueConstraint:
    """At most one pending request per value of ``fields`` (a workspace, a workspace and a
    user, ...); decided ones are kept as the record of their decision."""
    return models.UniqueConstraint(fields=fields, condition=models.Q(status=PENDING), name=name)


class DecidedRequest(models.Model):
    """A request that waits, pending, until someone decides it once. Subclasses override
    ``status`` with ``status_field`` and add ``one_pending`` to their constraints."""

    status = models.CharField(max_length=10, default=PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_pending(self) -> bool:
        return self.status == PENDING


def _queryset[R: DecidedRequest](requests: type[R] | models.QuerySet[R]) -> models.QuerySet[R]:
    if isinstance(requests, models.QuerySet):
        return requests
    return requests._default_manager.all()


def open_request[R: DecidedRequest](
    model: type[R], *, per: Mapping[str, Any], already_pending: str, **fields: Any
) -> R:
    """Create a pending request, refused with ``already_pending`` while one is pending
    ``per`` the same values (the fields of the model's ``one_pending`` constraint). Two
    requests opened at once meet the constraint: the loser's insert is undone in its
    savepoint and answers the same refusal."""
    pending = model._default_manager.filter(**per, status=PENDING)
    if pending.exists():
        raise DomainError(already_pending)
    try:
        with transaction.atomic():
            return model._default_manager.create(**per, **fields)
    except IntegrityError as exc:
        # Another request, committed meanwhile, holds the pending place; any other
        # integrity error is the caller's bug and goes up as it is.
        if pending.exists():
            raise DomainError(already_pending) from exc
        raise


def lock_pending[R: DecidedRequest](
    requests: type[R] | models.QuerySet[R],
    pk: Any,
    *,
    already_decided: str = ALREADY_DECIDED,
    allowed_from: Collection[str] = (PENDING,),
) -> R:
    """The request ``pk`` of ``requests`` (a model, or a queryset with its
    ``select_related``), locked, or ``DomainError(already_decided)`` when it has left
    ``allowed_from`` meanwhile. Only the request's own row is locked: the rows joined for
    reading stay free, and a caller that needs the workspace locked has locked it first."""
    row = _queryset(requests).select_for_update(of=("self",)).get(pk=pk)
    if row.status not in allowed_from:
        raise DomainError(already_decided)
    return row


def mark_decided(
    row: DecidedRequest,
    *,
    to_status: str,
    by_user: _User | None,
    note: str = "",
    fields: Mapping[str, Any] | None = None,
) -> None:
    """Write the decision on a request its caller has locked: the status, who decided
    (None for the system) and when, the note, and ``fields`` the decision sets with it
    (an authorization's scope and end date), in one UPDATE of those columns."""
    changed = dict(fields or {})
    for name, value in changed.items():
        setattr(row, name, value)
    row.status = to_status
    row.decided_by = by_user
    row.decided_at = timezone.now()
    row.decision_note = note
    row.save(update_fields=["status", "decided_by", "decided_at", "decision_note", *changed])


def decide[R: DecidedRequest](
    requests: type[R] | models.QuerySet[R],
    pk: Any,
    *,
    to_status: str,
    by_user: _User | None,
    note: str = "",
    fields: Mapping[str, Any] | None = None,
    already_decided: str = ALREADY_DECIDED,
    allowed_from: Collection[str] = (PENDING,),
) -> R:
    """Lock the request ``pk`` and decide it (``lock_pending``, then ``mark_decided``):
    deciding it a second time answers ``already_decided`` and writes nothing. Returns the
    locked, decided row, for the caller's audit event and email."""
    row = lock_pending(requests, pk, already_decided=already_decided, allowed_from=allowed_from)
    mark_decided(row, to_status=to_status, by_user=by_user, note=note, fields=fields)
    return row
