"""Changes of state of the service API: staff issue and revoke service tokens (audited, with
no workspace), and the gateway's feature-use reports are recorded once per event id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.actor import Actor, require_staff
from accounts.models import Membership, Workspace
from api.audit import Action
from compliance.services import news_use_report
from core import registry
from core.audit import record
from features.decisions import decide

from .models import SHOWN_CHARS, FeatureUseEvent, ServiceToken, hash_token, new_raw_token

# --- Tokens ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ServiceToken
    # The only time the secret exists outside the gateway: show it once, store it nowhere.
    raw: str


@transaction.atomic
def service_token_create(*, actor: Actor, name: str) -> IssuedToken:
    user = require_staff(actor)
    raw = new_raw_token()
    token = ServiceToken.objects.create(
        name=name.strip(), prefix=raw[:SHOWN_CHARS], token_hash=hash_token(raw), created_by=user
    )
    record(
        actor=actor,
        workspace=None,
        action=Action.SERVICE_TOKEN_CREATED,
        target=token,
        after={"name": token.name, "prefix": token.prefix},
    )
    return IssuedToken(token, raw)


@transaction.atomic
def service_token_revoke(*, actor: Actor, token: ServiceToken) -> ServiceToken:
    require_staff(actor)
    locked = ServiceToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    record(
        actor=actor,
        workspace=None,
        action=Action.SERVICE_TOKEN_REVOKED,
        target=locked,
        after={"name": locked.name, "prefix": locked.prefix},
    )
    return locked


# --- Feature-use reports -----------------------------------------------------------------


class EventConflict(Exception):
    """The event id was already reported with other values; ``differences`` names them."""

    def __init__(self, event: FeatureUseEvent, differences: dict[str, str]) -> None:
        super().__init__(event.event_id)
        self.event = event
        self.differences = differences


@dataclass(frozen=True)
class FeatureUseResult:
    event: FeatureUseEvent
    duplicate: bool
    workspace_suspended: bool


def _replay(
    event: FeatureUseEvent,
    *,
    membership: Membership,
    feature: str,
    outcome: str,
    occurred_at: datetime,
) -> FeatureUseResult:
    """A repeated event id: the stored result when the report is the same, else a conflict."""
    differences: dict[str, str] = {}
    if event.membership_id != membership.pk:
        differences["member"] = f"Reported before for {event.user_email}."
    if event.feature != feature:
        differences["feature"] = f"Reported before as “{event.feature}”."
    if event.outcome != outcome:
        differences["outcome"] = f"Reported before as “{event.outcome}”."
    if event.occurred_at != occurred_at:
        differences["occurred_at"] = f"Reported before as {event.occurred_at.isoformat()}."
    if differences:
        raise EventConflict(event, differences)
    suspended = Workspace.objects.filter(pk=event.workspace_id, suspended_at__isnull=False).exists()
    return FeatureUseResult(event, duplicate=True, workspace_suspended=suspended)


def feature_use_record(
    *, membership: Membership, feature: str, outcome: str, event_id: str, occurred_at: datetime
) -> FeatureUseResult:
    """Record the gateway's report that ``membership`` used or tried ``feature``, with the
    decision at reception (R-FEAT-4). A report of verified news goes to compliance in the
    same transaction: for a Media Customer it suspends the workspace (R-MEDIA-3).

    The gateway, not a person, acts here, so there is no ``actor``; what compliance does
    about the report is audited there. Idempotent by (workspace, event id): a replay returns
    the stored result and changes nothing; a replay with other values raises EventConflict.
    """
    workspace = membership.workspace
    existing = FeatureUseEvent.objects.filter(workspace=workspace, event_id=event_id).first()
    if existing is not None:
        return _replay(
            existing,
            membership=membership,
            feature=feature,
            outcome=outcome,
            occurred_at=occurred_at,
        )
    try:
        with transaction.atomic():
            decision = decide(membership, feature)
            event = FeatureUseEvent.objects.create(
                workspace=workspace,
                membership=membership,
                user_email=membership.user.email,
                feature=feature,
                outcome=outcome,
                event_id=event_id,
                occurred_at=occurred_at,
                allowed=decision.allowed,
                code=str(decision.code),
                reason=decision.reason,
            )
            if feature == registry.NEWS:
                news_use_report(
                    workspace=workspace,
                    membership=membership,
                    event_id=event_id,
                    occurred_at=occurred_at,
                )
            suspended = Workspace.objects.filter(
                pk=workspace.pk, suspended_at__isnull=False
            ).exists()
    except IntegrityError:
        # Two identical reports at once: the other one committed first; answer as its replay.
        existing = FeatureUseEvent.objects.filter(workspace=workspace, event_id=event_id).first()
        if existing is None:
            raise
        return _replay(
            existing,
            membership=membership,
            feature=feature,
            outcome=outcome,
            occurred_at=occurred_at,
        )
    return FeatureUseResult(event, duplicate=False, workspace_suspended=suspended)
