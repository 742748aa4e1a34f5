"""The pending → decided request mechanism of ``core.requests``: the fields every request
has, a decision taken once (a second one answers "already decided" and writes nothing,
many at once on PostgreSQL decide once), and one pending request at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import errors as account_errors
from accounts import services as account_services
from accounts.actor import Actor
from accounts.audit import Action as AccountAction
from accounts.models import AuditEvent, JoinRequest, JoinRequestStatus, User, Workspace
from accounts.roles import Role
from compliance import services as compliance_services
from compliance.audit import Action as ComplianceAction
from compliance.models import Appeal, AppealStatus, EditorialAuthorization, RequestStatus
from core.errors import DomainError
from core.requests import (
    ALREADY_DECIDED,
    PENDING,
    DecidedRequest,
    decide,
    lock_pending,
    mark_decided,
    open_request,
    status_field,
)
from tests.concurrency import needs_postgres, run_concurrently
from tests.factories import (
    AppealFactory,
    EditorialAuthorizationFactory,
    JoinRequestFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)

REQUEST_MODELS: list[type[DecidedRequest]] = [JoinRequest, EditorialAuthorization, Appeal]


# --- The abstract model ------------------------------------------------------------------


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda m: m.__name__)
def test_every_request_has_the_fields_of_a_decided_request(model: type[DecidedRequest]) -> None:
    assert issubclass(model, DecidedRequest) and not model._meta.abstract
    meta = model._meta
    status = meta.get_field("status")
    assert isinstance(status, models.CharField)
    assert status.default == PENDING and PENDING in dict(status.choices or [])
    assert isinstance(meta.get_field("created_at"), models.DateTimeField)
    decided_at = meta.get_field("decided_at")
    assert isinstance(decided_at, models.DateTimeField) and decided_at.null
    decided_by = meta.get_field("decided_by")
    assert isinstance(decided_by, models.ForeignKey)
    assert decided_by.related_model is get_user_model() and decided_by.null
    assert decided_by.remote_field.on_delete is models.SET_NULL
    assert decided_by.remote_field.related_name == "+"
    assert decided_by.column == "decided_by_id"
    note = meta.get_field("decision_note")
    assert isinstance(note, models.TextField) and note.blank and not note.null
    # One pending request at a time, held by the database.
    [one_pending] = [
        c
        for c in meta.constraints
        if isinstance(c, models.UniqueConstraint) and c.condition == models.Q(status=PENDING)
    ]
    assert one_pending.name.endswith("_one_pending")


def test_a_status_needs_a_pending_value() -> None:
    class Open(models.TextChoices):
        OPEN = "open", "Open"

    with pytest.raises(ValueError, match="pending"):
        status_field(Open)


@pytest.mark.django_db
def test_is_pending_until_decided(workspace: Workspace, owner: Any) -> None:
    jr = JoinRequestFactory(workspace=workspace)
    assert jr.is_pending
    mark_decided(jr, to_status=JoinRequestStatus.DECLINED, by_user=owner.user)
    jr.refresh_from_db()
    assert not jr.is_pending and jr.decided_by == owner.user and jr.decided_at is not None


# --- Deciding ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deciding_twice_answers_already_decided_and_writes_nothing(staff: User) -> None:
    appeal = AppealFactory(workspace=WorkspaceFactory())
    with transaction.atomic():
        decided = decide(
            Appeal, appeal.pk, to_status=AppealStatus.REJECTED, by_user=staff, note="Kept."
        )
    assert decided.status == AppealStatus.REJECTED and decided.decided_by == staff
    first = Appeal.objects.values().get(pk=appeal.pk)
    assert first["decision_note"] == "Kept." and first["decided_at"] is not None

    other = UserFactory()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        with pytest.raises(DomainError, match=ALREADY_DECIDED):
            decide(Appeal, appeal.pk, to_status=AppealStatus.GRANTED, by_user=other)

    assert Appeal.objects.values().get(pk=appeal.pk) == first
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]
    assert writes == []


@pytest.mark.django_db
def test_each_model_keeps_its_own_already_decided_message(workspace: Workspace) -> None:
    jr = JoinRequestFactory(workspace=workspace, status=JoinRequestStatus.APPROVED)
    with transaction.atomic(), pytest.raises(DomainError) as refused:
        lock_pending(
            JoinRequest.objects.select_related("user"),
            jr.pk,
            already_decided=account_errors.JOIN_REQUEST_DECIDED,
        )
    assert refused.value.message == account_errors.JOIN_REQUEST_DECIDED


@pytest.mark.django_db
def test_allowed_from_lets_a_decision_be_taken_from_other_statuses(staff: User) -> None:
    auth = EditorialAuthorizationFactory(approved=True)
    with transaction.atomic():
        decide(
            EditorialAuthorization,
            auth.pk,
            to_status=RequestStatus.DECLINED,
            by_user=staff,
            fields={"ends_on": None, "scope_note": ""},
            allowed_from=(RequestStatus.APPROVED,),
        )
    auth.refresh_from_db()
    assert auth.status == RequestStatus.DECLINED and auth.ends_on is None


@pytest.mark.django_db
def test_a_decision_updates_only_its_own_columns(staff: User) -> None:
    auth = EditorialAuthorizationFactory()
    EditorialAuthorization.objects.filter(pk=auth.pk).update(reason="Changed meanwhile")
    ends_on = timezone.now().date()
    # ``auth`` is stale: saving it whole would write the old reason back.
    mark_decided(auth, to_status=RequestStatus.APPROVED, by_user=staff, fields={"ends_on": ends_on})
    auth.refresh_from_db()
    assert auth.reason == "Changed meanwhile"
    assert auth.status == RequestStatus.APPROVED and auth.ends_on == ends_on


# --- One pending at a time -----------------------------------------------------------------


@pytest.mark.django_db
def test_open_request_refuses_a_second_pending_one_and_allows_one_after_a_decision(
    staff: User,
) -> None:
    ws = WorkspaceFactory()
    first = open_request(Appeal, per={"workspace": ws}, already_pending="Wait.", statement="A")
    assert first.is_pending
    with pytest.raises(DomainError, match="Wait."):
        open_request(Appeal, per={"workspace": ws}, already_pending="Wait.", statement="B")
    with transaction.atomic():
        decide(Appeal, first.pk, to_status=AppealStatus.REJECTED, by_user=staff)
    second = open_request(Appeal, per={"workspace": ws}, already_pending="Wait.", statement="C")
    assert Appeal.objects.filter(workspace=ws).count() == 2 and second.is_pending


@pytest.mark.django_db
def test_open_request_lets_other_integrity_errors_through() -> None:
    ws = WorkspaceFactory()
    with pytest.raises(IntegrityError):
        open_request(JoinRequest, per={"workspace": ws}, already_pending="Wait.", user_id=None)
    # Undone in its savepoint: the transaction goes on.
    assert not JoinRequest.objects.filter(workspace=ws).exists()


# --- Races on PostgreSQL -------------------------------------------------------------------

THREADS = 20


def _race_join_request(staff: User) -> tuple[DecidedRequest, Callable[[], object], str, str]:
    ws = WorkspaceFactory()
    owner = MembershipFactory(workspace=ws, role=Role.OWNER)
    jr = JoinRequestFactory(workspace=ws)
    return (
        jr,
        lambda: account_services.join_request_decline(actor=Actor.member(owner), join_request=jr),
        account_errors.JOIN_REQUEST_DECIDED,
        AccountAction.JOIN_DECLINED,
    )


def _race_editorial(staff: User) -> tuple[DecidedRequest, Callable[[], object], str, str]:
    auth = EditorialAuthorizationFactory()
    return (
        auth,
        lambda: compliance_services.editorial_request_decide(
            actor=Actor.staff(staff), authorization=auth, approve=False, note="No."
        ),
        compliance_services.ALREADY_DECIDED,
        ComplianceAction.EDITORIAL_DECIDED,
    )


def _race_appeal(staff: User) -> tuple[DecidedRequest, Callable[[], object], str, str]:
    ws = WorkspaceFactory(suspended_at=timezone.now(), suspension_reason="News use")
    appeal = AppealFactory(workspace=ws)
    return (
        appeal,
        lambda: compliance_services.appeal_decide(
            actor=Actor.staff(staff), appeal=appeal, grant=True
        ),
        compliance_services.ALREADY_DECIDED,
        ComplianceAction.APPEAL_DECIDED,
    )


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "arrange", [_race_join_request, _race_editorial, _race_appeal], ids=lambda f: f.__name__
)
def test_many_decisions_at_once_decide_once(
    arrange: Callable[[User], tuple[DecidedRequest, Callable[[], object], str, str]],
    staff: User,
) -> None:
    row, decide_it, already_decided, action = arrange(staff)

    out = run_concurrently(lambda i: decide_it(), THREADS)

    assert out.unexpected(DomainError) == {}
    assert len(out.results) == 1
    assert {e.message for e in out.errors.values() if isinstance(e, DomainError)} == {
        already_decided
    }
    row.refresh_from_db()
    assert not row.is_pending and row.decided_at is not None
    assert AuditEvent.objects.filter(action=action, target_id=str(row.pk)).count() == 1
    if isinstance(row, Appeal):
        # The suspension is lifted once, by the one decision.
        events = AuditEvent.objects.filter(action=AccountAction.WORKSPACE_REACTIVATED)
        assert events.count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_many_requests_opened_at_once_open_one() -> None:
    """Without a workspace lock in front, the threads pass the check together and meet the
    constraint: each loser answers the same refusal as the check."""
    ws = WorkspaceFactory()
    user = UserFactory()

    def ask(i: int) -> JoinRequest:
        with transaction.atomic():
            return open_request(
                JoinRequest, per={"workspace": ws, "user": user}, already_pending="Wait."
            )

    out = run_concurrently(ask, THREADS)

    assert out.unexpected(DomainError) == {}
    assert len(out.results) == 1
    assert {e.message for e in out.errors.values() if isinstance(e, DomainError)} == {"Wait."}
    assert JoinRequest.objects.filter(workspace=ws, user=user).count() == 1
