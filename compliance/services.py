"""Every change of compliance state (R-MEDIA-1 to R-MEDIA-5): the Media Customer status,
editorial-use requests and their decisions, reported uses of verified news and appeals of
a suspension. Each service runs in one transaction, writes its audit event and sends its
emails on commit; errors a user can meet are ``DomainError`` with a message to show."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.actor import Actor, authorize
from accounts.actor import require_staff as _require_staff_actor
from accounts.models import Group, Membership, Workspace
from accounts.roles import Perm
from compliance.audit import Action
from core import snapshots
from core.audit import record
from core.errors import DomainError, NotAllowed
from core.requests import lock_pending, mark_decided, open_request
from core.transactions import on_commit_task

from .models import (
    Appeal,
    AppealStatus,
    EditorialAuthorization,
    MediaSource,
    MediaStatusChange,
    NewsViolation,
    RequestStatus,
)
from .selectors import media_state

# Messages a user can meet; tests reuse them.
STAFF_SET_CANNOT_CLEAR = (
    "Staff recorded this workspace as a Media Customer; only staff can change that. "
    "Contact support if you think it is wrong."
)
UNKNOWN_SOURCE = "Unknown source of the Media Customer status."
STAFF_NOTE_REQUIRED = "Give a note explaining the change."
NOT_MEDIA_CUSTOMER = "Only a Media Customer needs an editorial-use authorization for verified news."
EDITORIAL_PENDING = (
    "A request is already waiting for a decision: staff will answer it before you send another."
)
REASON_REQUIRED = "Say why the workspace needs verified news."
SCOPE_REQUIRED = "Say who would use verified news, and for what."
STAFF_ONLY = "Only the platform's staff can decide this."
ALREADY_DECIDED = "This has already been decided."
END_DATE_REQUIRED = "Give the last day of the authorization."
END_DATE_PAST = "The last day of the authorization must be after today."
GROUP_OF_OTHER_WORKSPACE = (
    "Choose a group of the requesting workspace, or none for the whole workspace."
)
MEMBER_OF_OTHER_WORKSPACE = "This member does not belong to the workspace."
NOT_SUSPENDED = "The workspace is not suspended: there is nothing to appeal."
OWNERS_ONLY = "Only an owner of the workspace can appeal its suspension."
APPEAL_PENDING = "An appeal is already waiting for a decision: staff will answer it first."
STATEMENT_REQUIRED = "Explain why the suspension should be lifted."
NOTE_REQUIRED_TO_REJECT = "Give the reason for keeping the suspension: the owners receive it."


def _lock_workspace(workspace_id: int) -> Workspace:
    """The workspace row, locked before the requests of the workspace (the order of
    ``docs/conventions.md``)."""
    return Workspace.objects.select_for_update().get(pk=workspace_id)


def _require_staff(actor: Actor) -> None:
    try:
        _require_staff_actor(actor)
    except NotAllowed:
        raise NotAllowed(STAFF_ONLY) from None


def _state(is_media_customer: bool, source: str = "") -> dict[str, object]:
    return {"is_media_customer": is_media_customer, "source": source}


# --- Media Customer status (R-MEDIA-1) --------------------------------------------------


@transaction.atomic
def media_status_set(
    *,
    actor: Actor,
    workspace: Workspace,
    is_media_customer: bool,
    source: str,
    note: str = "",
) -> MediaStatusChange | None:
    """Record the workspace's Media Customer status. The first answer is always recorded;
    after it, nothing happens when the status is unchanged, except that staff may record a
    note on the current status. A status that staff set
    cannot be cleared by the workspace's own declaration. Returns the new history row, or
    None when nothing was recorded. The workspace's admins declare it (``self``); only
    staff record it as ``staff``."""
    if source not in MediaSource.values:
        raise DomainError(UNKNOWN_SOURCE)
    if source == MediaSource.STAFF:
        _require_staff(actor)
    else:
        authorize(actor, workspace.pk, Perm.MANAGE_COMPLIANCE)
    note = note.strip()
    if source == MediaSource.STAFF and not note:
        raise DomainError(STAFF_NOTE_REQUIRED, field="note")
    ws = _lock_workspace(workspace.pk)
    latest = MediaStatusChange.objects.filter(workspace=ws).order_by("-created_at", "-id").first()
    current = bool(latest and latest.is_media_customer)
    # The first answer is recorded even when it is "no": the declaration itself is kept.
    if latest is not None and current == is_media_customer and source != MediaSource.STAFF:
        return None
    if (
        latest is not None
        and latest.is_media_customer
        and latest.source == MediaSource.STAFF
        and source == MediaSource.SELF
        and not is_media_customer
    ):
        raise DomainError(STAFF_SET_CANNOT_CLEAR, field="is_media_customer")
    change = MediaStatusChange.objects.create(
        workspace=ws,
        is_media_customer=is_media_customer,
        source=source,
        note=note,
        actor=actor.audit_user,
    )
    snapshots.moved(snapshots.decisions(ws.pk))
    record(
        actor=actor,
        workspace=ws,
        action=Action.MEDIA_STATUS_CHANGED,
        target=change,
        target_repr=ws.name,
        before=_state(current, latest.source) if latest else {},
        after={**_state(is_media_customer, source), **({"note": note} if note else {})},
    )
    return change


# --- Editorial-use authorizations (R-MEDIA-4) ---------------------------------------------


@transaction.atomic
def editorial_request_create(
    *, actor: Actor, workspace: Workspace, reason: str, requested_scope: str
) -> EditorialAuthorization:
    authorize(actor, workspace.pk, Perm.MANAGE_COMPLIANCE, staff=False)
    reason, requested_scope = reason.strip(), requested_scope.strip()
    if not reason:
        raise DomainError(REASON_REQUIRED, field="reason")
    if not requested_scope:
        raise DomainError(SCOPE_REQUIRED, field="requested_scope")
    ws = _lock_workspace(workspace.pk)
    if not media_state(ws).is_media_customer:
        raise DomainError(NOT_MEDIA_CUSTOMER)
    authorization = open_request(
        EditorialAuthorization,
        per={"workspace": ws},
        already_pending=EDITORIAL_PENDING,
        requested_by=actor.audit_user,
        reason=reason,
        requested_scope=requested_scope,
    )
    record(
        actor=actor,
        workspace=ws,
        action=Action.EDITORIAL_REQUESTED,
        target=authorization,
        target_repr=ws.name,
        after={"reason": reason, "requested_scope": requested_scope},
    )
    on_commit_task("compliance.tasks.send_editorial_request_to_staff", authorization.pk)
    return authorization


@transaction.atomic
def editorial_request_decide(
    *,
    actor: Actor,
    authorization: EditorialAuthorization,
    approve: bool,
    scope_group: Group | None = None,
    ends_on: date | None = None,
    scope_note: str = "",
    note: str = "",
) -> EditorialAuthorization:
    """Staff approve a request with its scope (a group of the workspace, or everyone) and
    its last day, or decline it. The workspace's owners and admins are emailed."""
    _require_staff(actor)
    _lock_workspace(authorization.workspace_id)
    auth = lock_pending(
        EditorialAuthorization.objects.select_related("workspace"),
        authorization.pk,
        already_decided=ALREADY_DECIDED,
    )
    if approve:
        if ends_on is None:
            raise DomainError(END_DATE_REQUIRED, field="ends_on")
        if ends_on <= timezone.now().date():
            raise DomainError(END_DATE_PAST, field="ends_on")
        if scope_group is not None and scope_group.workspace_id != auth.workspace_id:
            raise DomainError(GROUP_OF_OTHER_WORKSPACE, field="scope_group")
        status = RequestStatus.APPROVED
        scope = {"scope_group": scope_group, "ends_on": ends_on, "scope_note": scope_note.strip()}
    else:
        status = RequestStatus.DECLINED
        scope = {"scope_group": None, "ends_on": None, "scope_note": ""}
    mark_decided(auth, to_status=status, by_user=actor.audit_user, note=note.strip(), fields=scope)
    snapshots.moved(snapshots.decisions(auth.workspace_id))
    after: dict[str, object] = {"status": auth.status}
    if approve:
        after |= {
            "scope": scope_group.name if scope_group else "whole workspace",
            "ends_on": auth.ends_on.isoformat() if auth.ends_on else "",
        }
    if auth.decision_note:
        after["note"] = auth.decision_note
    record(
        actor=actor,
        workspace=auth.workspace,
        action=Action.EDITORIAL_DECIDED,
        target=auth,
        target_repr=auth.workspace.name,
        before={"status": RequestStatus.PENDING},
        after=after,
    )
    on_commit_task("compliance.tasks.send_editorial_decision", auth.pk)
    return auth


# --- Reported use of verified news (R-MEDIA-3) --------------------------------------------


def violation_reason(email: str, occurred_at: datetime) -> str:
    when = occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return f"Verified news used by a Media Customer (member {email}, {when} UTC)"


@transaction.atomic
def news_use_report(
    *, workspace: Workspace, membership: Membership, event_id: str, occurred_at: datetime
) -> NewsViolation | None:
    """A use of verified news reported by the gateway. For a Media Customer's member whom
    no editorial-use authorization in force covers, the use is recorded, the workspace is
    suspended at once, and its owners and the staff are emailed. The same event reported
    again does nothing. Returns the new violation, or None when there is none."""
    if membership.workspace_id != workspace.pk:
        raise DomainError(MEMBER_OF_OTHER_WORKSPACE)
    ws = _lock_workspace(workspace.pk)
    state = media_state(ws)
    if not state.is_media_customer:
        return None
    group_ids = frozenset(membership.groups.values_list("id", flat=True))
    if state.exception_for(group_ids) is not None:
        return None
    if NewsViolation.objects.filter(workspace=ws, event_id=event_id).exists():
        return None
    email = membership.user.email
    try:
        with transaction.atomic():
            violation = NewsViolation.objects.create(
                workspace=ws,
                membership=membership,
                user_email=email,
                event_id=event_id,
                occurred_at=occurred_at,
            )
    except IntegrityError:
        # The same event, reported at the same moment by another request.
        return None
    reason = violation_reason(email, occurred_at)
    account_services.workspace_suspend(actor=Actor.system(), workspace=ws, reason=reason)
    record(
        actor=None,
        workspace=ws,
        action=Action.NEWS_VIOLATION_RECORDED,
        target=violation,
        target_repr=email,
        after={
            "event_id": event_id,
            "member": email,
            "occurred_at": occurred_at.astimezone(UTC).isoformat(),
        },
    )
    on_commit_task("compliance.tasks.send_news_violation_emails", violation.pk)
    return violation


# --- Appeals (R-MEDIA-5) ------------------------------------------------------------------


@transaction.atomic
def appeal_file(*, actor: Actor, workspace: Workspace, statement: str) -> Appeal:
    try:
        authorize(actor, workspace.pk, Perm.FILE_APPEAL, staff=False)
    except NotAllowed:
        raise NotAllowed(OWNERS_ONLY) from None
    statement = statement.strip()
    if not statement:
        raise DomainError(STATEMENT_REQUIRED, field="statement")
    ws = _lock_workspace(workspace.pk)
    if not ws.is_suspended:
        raise DomainError(NOT_SUSPENDED)
    appeal = open_request(
        Appeal,
        per={"workspace": ws},
        already_pending=APPEAL_PENDING,
        filed_by=actor.audit_user,
        suspension_reason=ws.suspension_reason,
        statement=statement,
    )
    record(
        actor=actor,
        workspace=ws,
        action=Action.APPEAL_FILED,
        target=appeal,
        target_repr=ws.name,
        after={"suspension_reason": ws.suspension_reason, "statement": statement},
    )
    on_commit_task("compliance.tasks.send_appeal_filed_to_staff", appeal.pk)
    return appeal


@transaction.atomic
def appeal_decide(*, actor: Actor, appeal: Appeal, grant: bool, note: str = "") -> Appeal:
    """Staff grant an appeal (the suspension is lifted) or reject it (the suspension is
    kept, and the note says why). The owners are emailed."""
    _require_staff(actor)
    note = note.strip()
    _lock_workspace(appeal.workspace_id)
    a = lock_pending(
        Appeal.objects.select_related("workspace"), appeal.pk, already_decided=ALREADY_DECIDED
    )
    if not grant and not note:
        raise DomainError(NOTE_REQUIRED_TO_REJECT, field="decision_note")
    status = AppealStatus.GRANTED if grant else AppealStatus.REJECTED
    mark_decided(a, to_status=status, by_user=actor.audit_user, note=note)
    if grant:
        account_services.workspace_reactivate(actor=actor, workspace=a.workspace)
    record(
        actor=actor,
        workspace=a.workspace,
        action=Action.APPEAL_DECIDED,
        target=a,
        target_repr=a.workspace.name,
        before={"status": AppealStatus.PENDING},
        after={"status": a.status, **({"note": note} if note else {})},
    )
    on_commit_task("compliance.tasks.send_appeal_decision", a.pk)
    return a
