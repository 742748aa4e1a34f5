"""Groups of members and their membership. Feature rules and agents are granted to groups,
so a change of a group's name or members retires the snapshots of the workspace's decision
facts (``core.snapshots``)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from core import snapshots
from core.audit import record
from core.errors import DomainError

from .. import errors
from ..actor import Actor, authorize
from ..audit import Action
from ..models import (
    Group,
    Membership,
    Workspace,
)
from ..roles import Perm

# --- Groups ----------------------------------------------------------------------------


@transaction.atomic
def group_create(*, actor: Actor, workspace: Workspace, name: str) -> Group:
    authorize(actor, workspace.pk, Perm.MANAGE_GROUPS)
    name = name.strip()
    if Group.objects.filter(workspace=workspace, name__iexact=name).exists():
        raise DomainError(errors.GROUP_EXISTS, field="name")
    group = Group(workspace=workspace, name=name)
    group.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError as exc:
        raise DomainError(errors.GROUP_EXISTS, field="name") from exc
    record(
        actor=actor,
        workspace=workspace,
        action=Action.GROUP_CREATED,
        target=group,
        after={"name": name},
    )
    return group


def _lock_group(group: Group) -> Group:
    return (
        Group.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=group.pk)
    )


@transaction.atomic
def group_rename(*, actor: Actor, group: Group, name: str) -> Group:
    authorize(actor, group.workspace_id, Perm.MANAGE_GROUPS)
    g = _lock_group(group)
    name = name.strip()
    if g.name == name:
        return g
    if (
        Group.objects.filter(workspace_id=g.workspace_id, name__iexact=name)
        .exclude(pk=g.pk)
        .exists()
    ):
        raise DomainError(errors.GROUP_EXISTS, field="name")
    before = {"name": g.name}
    g.name = name
    g.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            g.save(update_fields=["name"])
    except IntegrityError as exc:
        # Another group took the name since the check.
        raise DomainError(errors.GROUP_EXISTS, field="name") from exc
    snapshots.moved(snapshots.decisions(g.workspace_id))
    record(
        actor=actor,
        workspace=g.workspace,
        action=Action.GROUP_RENAMED,
        target=g,
        before=before,
        after={"name": name},
    )
    return g


@transaction.atomic
def group_delete(*, actor: Actor, group: Group) -> None:
    authorize(actor, group.workspace_id, Perm.MANAGE_GROUPS)
    g = _lock_group(group)
    record(
        actor=actor,
        workspace=g.workspace,
        action=Action.GROUP_DELETED,
        target=g,
        before={"name": g.name, "members": g.members.count()},
    )
    g.delete()
    snapshots.moved(snapshots.decisions(g.workspace_id))


@transaction.atomic
def group_member_add(*, actor: Actor, group: Group, membership: Membership) -> None:
    """Add ``membership`` to ``group``; adding a member already in it changes nothing and
    writes nothing. The group's row lock makes the check and the write one step, so two
    requests at once add (and audit) once."""
    authorize(actor, group.workspace_id, Perm.MANAGE_GROUPS)
    if membership.workspace_id != group.workspace_id:
        raise DomainError(errors.NOT_A_MEMBER_OF_GROUP_WORKSPACE)
    g = _lock_group(group)
    if g.members.filter(pk=membership.pk).exists():
        return
    g.members.add(membership)
    snapshots.moved(snapshots.decisions(g.workspace_id))
    record(
        actor=actor,
        workspace=g.workspace,
        action=Action.GROUP_MEMBER_ADDED,
        target=group,
        after={"member": membership.user.email},
    )


@transaction.atomic
def group_member_remove(*, actor: Actor, group: Group, membership: Membership) -> None:
    """Take ``membership`` out of ``group``, once: under the group's row lock, like adding."""
    authorize(actor, group.workspace_id, Perm.MANAGE_GROUPS)
    g = _lock_group(group)
    if not g.members.filter(pk=membership.pk).exists():
        return
    g.members.remove(membership)
    snapshots.moved(snapshots.decisions(g.workspace_id))
    record(
        actor=actor,
        workspace=g.workspace,
        action=Action.GROUP_MEMBER_REMOVED,
        target=group,
        before={"member": membership.user.email},
    )
