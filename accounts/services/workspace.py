"""Workspaces and their settings: creation, join settings, name, suspension."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import record
from core.errors import DomainError, NotAllowed

from .. import errors
from ..actor import NOT_ALLOWED, Actor, authorize, require_person
from ..audit import Action
from ..models import (
    JoinMode,
    Membership,
    TermsAcceptance,
    User,
    Workspace,
)
from ..roles import Perm, Role

# --- Terms -----------------------------------------------------------------------------


def terms_accept(*, user: User, version: str, ip: str | None) -> TermsAcceptance:
    acceptance, _ = TermsAcceptance.objects.get_or_create(
        user=user, version=version, defaults={"ip_address": ip}
    )
    return acceptance


# --- Workspaces ------------------------------------------------------------------------


@transaction.atomic
def workspace_create(*, actor: Actor, name: str, slug: str, owner: User | None = None) -> Workspace:
    """A new workspace with its first owner: the user who creates it, or for staff the
    ``owner`` they name."""
    person = require_person(actor)
    if actor.is_staff:
        if owner is None:
            raise DomainError(errors.OWNER_REQUIRED, field="owner")
    elif owner is not None and owner.pk != person.pk:
        raise NotAllowed(NOT_ALLOWED)
    owner = owner or person
    if Workspace.objects.filter(slug=slug).exists():
        raise DomainError(errors.SLUG_TAKEN, field="slug")
    workspace = Workspace(name=name.strip(), slug=slug, created_by=person)
    workspace.full_clean()
    try:
        with transaction.atomic():
            workspace.save()
    except IntegrityError as exc:
        raise DomainError(errors.SLUG_TAKEN, field="slug") from exc
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    record(
        actor=actor,
        workspace=workspace,
        action=Action.WORKSPACE_CREATED,
        target=workspace,
        after={"name": workspace.name, "slug": workspace.slug},
    )
    return workspace


@transaction.atomic
def workspace_update_join_settings(
    *, actor: Actor, workspace: Workspace, join_mode: str, default_role: int
) -> Workspace:
    authorize(actor, workspace.pk, Perm.MANAGE_DOMAINS)
    ws = Workspace.objects.select_for_update().get(pk=workspace.pk)
    before = {"join_mode": ws.join_mode, "default_role": ws.default_role}
    if default_role == Role.OWNER:
        raise DomainError("New members cannot join as owners.", field="default_role")
    if ws.join_mode == join_mode and ws.default_role == default_role:
        return ws
    ws.join_mode = JoinMode(join_mode)
    ws.default_role = default_role
    ws.save(update_fields=["join_mode", "default_role"])
    record(
        actor=actor,
        workspace=ws,
        action=Action.WORKSPACE_UPDATED,
        target=ws,
        before=before,
        after={"join_mode": ws.join_mode, "default_role": ws.default_role},
    )
    return ws


@transaction.atomic
def workspace_rename(*, actor: Actor, workspace: Workspace, name: str) -> Workspace:
    """Rename the workspace; only its active admins and owners (and staff) may. Its
    address (slug) stays, so links and bookmarks keep working."""
    try:
        authorize(actor, workspace.pk, Perm.MANAGE_SETTINGS)
    except NotAllowed:
        raise NotAllowed(errors.WORKSPACE_RENAME_NOT_ALLOWED) from None
    ws = Workspace.objects.select_for_update().get(pk=workspace.pk)
    name = " ".join(name.split())
    if not name:
        raise DomainError(errors.WORKSPACE_NAME_REQUIRED, field="name")
    if name == ws.name:
        return ws
    before = {"name": ws.name}
    ws.name = name
    try:
        ws.full_clean()
    except ValidationError as exc:
        messages = exc.message_dict.get("name") or exc.messages
        raise DomainError(" ".join(messages), field="name") from exc
    ws.save(update_fields=["name"])
    record(
        actor=actor,
        workspace=ws,
        action=Action.WORKSPACE_UPDATED,
        target=ws,
        before=before,
        after={"name": ws.name},
    )
    return ws


@transaction.atomic
def workspace_suspend(*, actor: Actor, workspace: Workspace, reason: str) -> Workspace:
    """Staff suspend a workspace; the system does for a compliance violation."""
    authorize(actor, workspace.pk, Perm.SUSPEND_WORKSPACE, system=True)
    ws = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if ws.suspended_at is not None:
        return ws
    ws.suspended_at = timezone.now()
    ws.suspension_reason = reason
    ws.save(update_fields=["suspended_at", "suspension_reason"])
    record(
        actor=actor,
        workspace=ws,
        action=Action.WORKSPACE_SUSPENDED,
        target=ws,
        after={"reason": reason},
    )
    return ws


@transaction.atomic
def workspace_reactivate(*, actor: Actor, workspace: Workspace) -> Workspace:
    authorize(actor, workspace.pk, Perm.SUSPEND_WORKSPACE, system=True)
    ws = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if ws.suspended_at is None:
        return ws
    before = {"reason": ws.suspension_reason}
    ws.suspended_at = None
    ws.suspension_reason = ""
    ws.save(update_fields=["suspended_at", "suspension_reason"])
    record(actor=actor, workspace=ws, action=Action.WORKSPACE_REACTIVATED, target=ws, before=before)
    return ws
