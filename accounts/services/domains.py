"""Domains, their verification, joining by domain and the requests to join."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.audit import record
from core.errors import DomainError
from core.requests import decide, lock_pending, mark_decided

from .. import errors
from ..actor import Actor, authorize
from ..audit import Action
from ..dns import ResolverError, get_resolver
from ..freemail import is_free_mail
from ..models import (
    Domain,
    JoinMode,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    User,
    Workspace,
)
from ..roles import Perm
from .members import _close_members_join_requests, _join, _lock_workspace, _seat_left

# --- Domains ---------------------------------------------------------------------------

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?!-)([a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$")


def normalize_domain(raw: str) -> str:
    value = raw.strip().lower().rstrip(".")
    if value.startswith("@"):
        value = value[1:]
    try:
        ascii_value = value.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise DomainError("Enter a domain name such as example.org.", field="name") from exc
    if not DOMAIN_RE.match(ascii_value):
        raise DomainError("Enter a domain name such as example.org.", field="name")
    return ascii_value


@transaction.atomic
def domain_claim(*, actor: Actor, workspace: Workspace, name: str) -> Domain:
    authorize(actor, workspace.pk, Perm.MANAGE_DOMAINS)
    domain_name = normalize_domain(name)
    if is_free_mail(domain_name):
        raise DomainError(errors.FREE_MAIL_DOMAIN, field="name")
    if (
        Domain.objects.filter(name__iexact=domain_name, verified_at__isnull=False)
        .exclude(workspace=workspace)
        .exists()
    ):
        raise DomainError(errors.DOMAIN_TAKEN, field="name")
    if Domain.objects.filter(workspace=workspace, name__iexact=domain_name).exists():
        raise DomainError(errors.DOMAIN_ALREADY_CLAIMED, field="name")
    try:
        with transaction.atomic():
            domain = Domain.objects.create(
                workspace=workspace, name=domain_name, created_by=actor.audit_user
            )
    except IntegrityError as exc:
        # The same claim submitted twice at once: the second meets the constraint.
        raise DomainError(errors.DOMAIN_ALREADY_CLAIMED, field="name") from exc
    record(
        actor=actor,
        workspace=workspace,
        action=Action.DOMAIN_CLAIMED,
        target=domain,
        after={"name": domain_name},
    )
    return domain


def _lock_domain(domain: Domain) -> Domain:
    return (
        Domain.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=domain.pk)
    )


def domain_check(*, actor: Actor, domain: Domain) -> Domain:
    """Look for the TXT record and verify the domain if it is there. The DNS lookup runs
    outside the transaction; the verification itself is atomic."""
    authorize(actor, domain.workspace_id, Perm.MANAGE_DOMAINS, system=True)
    if domain.is_verified:
        return domain
    error = ""
    try:
        records = get_resolver().txt_records(domain.name)
        found = domain.txt_value in (r.strip() for r in records)
        if not found:
            error = f"No TXT record {domain.txt_value!r} found on {domain.name} yet."
    except ResolverError as exc:
        found, error = False, str(exc)
    with transaction.atomic():
        d = _lock_domain(domain)
        if d.is_verified:
            return d
        d.last_checked_at = timezone.now()
        if found:
            if (
                Domain.objects.filter(name__iexact=d.name, verified_at__isnull=False)
                .exclude(pk=d.pk)
                .exists()
            ):
                d.last_error = errors.DOMAIN_TAKEN
                d.save(update_fields=["last_checked_at", "last_error"])
                return d
            d.verified_at = d.last_checked_at
            d.last_error = ""
            try:
                with transaction.atomic():
                    d.save(update_fields=["verified_at", "last_checked_at", "last_error"])
            except IntegrityError:
                # Another workspace verified the same name at the same moment and won.
                d.verified_at = None
                d.last_error = errors.DOMAIN_TAKEN
                d.save(update_fields=["last_checked_at", "last_error"])
                return d
            record(
                actor=actor,
                workspace=d.workspace,
                action=Action.DOMAIN_VERIFIED,
                target=d,
                after={"name": d.name},
            )
        else:
            d.last_error = error[:300]
            d.save(update_fields=["last_checked_at", "last_error"])
        return d


@transaction.atomic
def domain_remove(*, actor: Actor, domain: Domain) -> None:
    authorize(actor, domain.workspace_id, Perm.MANAGE_DOMAINS)
    d = _lock_domain(domain)
    record(
        actor=actor,
        workspace=d.workspace,
        action=Action.DOMAIN_REMOVED,
        target=d,
        before={"name": d.name, "verified": d.is_verified},
    )
    d.delete()


def domain_autojoin(*, user: User) -> list[Membership | JoinRequest]:
    """Join (or ask to join) every workspace that verified the domain of one of the
    user's verified email addresses (R-WS-4). Safe to call again: nothing happens twice.
    The console acts here (on the user's confirmed address), so the actor is the system;
    a suspended workspace gains nobody.

    A workspace that joins automatically but has no seat left is not skipped silently:
    the user gets a pending join request instead, which its admins see and can approve
    once a seat is free (approving checks the seat again). Like any join request, a user
    once declined is not asked again. Signing in never fails because a workspace is full."""
    from allauth.account.models import EmailAddress  # noqa: PLC0415

    domains = {
        e.split("@", 1)[1].lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
        if "@" in e
    }
    if not domains:
        return []
    outcomes: list[Membership | JoinRequest] = []
    matches = Domain.objects.filter(name__in=domains, verified_at__isnull=False).order_by(
        "workspace_id"
    )
    for domain in matches:
        with transaction.atomic():
            ws = _lock_workspace(domain.workspace_id)
            if ws.is_suspended:
                continue
            if Membership.objects.filter(workspace=ws, user=user).exists():
                _close_members_join_requests(workspace=ws, user=user, via="member before")
                continue
            full = not _seat_left(ws)
            if ws.join_mode == JoinMode.AUTO and not full:
                outcomes.append(
                    _join(
                        actor=Actor.system(),
                        workspace=ws,
                        user=user,
                        role=ws.default_role,
                        via=f"domain {domain.name}",
                    )
                )
                continue
            if JoinRequest.objects.filter(workspace=ws, user=user).exists():
                # Pending, or already decided: a declined user is not asked again.
                continue
            jr = JoinRequest.objects.create(workspace=ws, user=user, domain=domain)
            record(
                actor=user,
                workspace=ws,
                action=Action.JOIN_REQUESTED,
                target=jr,
                target_repr=user.email,
                after={"reason": "no seat left"} if ws.join_mode == JoinMode.AUTO else {},
            )
            outcomes.append(jr)
    return outcomes


def _join_requests() -> QuerySet[JoinRequest]:
    return JoinRequest.objects.select_related("workspace", "user")


def join_request_approve(*, actor: Actor, join_request: JoinRequest) -> Membership:
    """Let the user in; refused when the workspace has no seat left (the request stays
    pending, to approve once a seat is free)."""
    authorize(actor, join_request.workspace_id, Perm.MANAGE_DOMAINS)
    with transaction.atomic():
        ws = _lock_workspace(join_request.workspace_id)
        jr = lock_pending(
            _join_requests(), join_request.pk, already_decided=errors.JOIN_REQUEST_DECIDED
        )
        already = Membership.objects.filter(workspace_id=ws.pk, user=jr.user).exists()
        if not already:
            return _join_request_grant(actor=actor, ws=ws, jr=jr)
        # Closed for good, and the admin told why: the user is in already.
        _close_members_join_requests(workspace=ws, user=jr.user, via="member before")
    raise DomainError(errors.JOIN_REQUEST_ALREADY_MEMBER.format(email=jr.user.email))


def _join_request_grant(*, actor: Actor, ws: Workspace, jr: JoinRequest) -> Membership:
    mark_decided(jr, to_status=JoinRequestStatus.APPROVED, by_user=actor.audit_user)
    record(
        actor=actor,
        workspace=jr.workspace,
        action=Action.JOIN_APPROVED,
        target=jr,
        target_repr=jr.user.email,
    )
    return _join(
        actor=actor,
        workspace=ws,
        user=jr.user,
        role=ws.default_role,
        via="join request",
    )


@transaction.atomic
def join_request_decline(*, actor: Actor, join_request: JoinRequest) -> JoinRequest:
    authorize(actor, join_request.workspace_id, Perm.MANAGE_DOMAINS)
    jr = decide(
        _join_requests(),
        join_request.pk,
        to_status=JoinRequestStatus.DECLINED,
        by_user=actor.audit_user,
        already_decided=errors.JOIN_REQUEST_DECIDED,
    )
    record(
        actor=actor,
        workspace=jr.workspace,
        action=Action.JOIN_DECLINED,
        target=jr,
        target_repr=jr.user.email,
    )
    return jr
