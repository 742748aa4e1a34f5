"""Every saved or deleted row that the feature decisions read retires the snapshot of its
workspace's decision facts (``core.snapshots``), whoever writes it: the services do so
themselves, and these handlers cover the writes that go around them (the Django admin, a
shell, a data migration), so that no snapshot outlives a change it cannot see. Bulk
``update()`` and ``delete()`` of querysets send no signal: code that uses them on these
tables calls ``snapshots.moved`` itself."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from accounts.models import Group
from billing.models import Plan, Subscription
from compliance.models import EditorialAuthorization, MediaStatusChange
from core import snapshots

from .models import FeatureOptOut, FeatureRule

WORKSPACE_ROWS = (
    FeatureRule,
    FeatureOptOut,
    Group,
    Subscription,
    MediaStatusChange,
    EditorialAuthorization,
)


def _workspace_row(sender: type, instance: Any, **kwargs: Any) -> None:
    workspace_id = getattr(instance, "workspace_id", None)
    if workspace_id is not None:
        snapshots.moved(snapshots.decisions(workspace_id))


def _plan(sender: type, instance: Any, **kwargs: Any) -> None:
    snapshots.moved(snapshots.PLANS)


def _group_members(sender: type, instance: Any, action: str, **kwargs: Any) -> None:
    # The instance is the group, or the membership on the reverse side: both name their
    # workspace.
    if action in ("post_add", "post_remove", "post_clear"):
        _workspace_row(sender, instance)


def connect() -> None:
    for model in WORKSPACE_ROWS:
        uid = f"snapshot-retire-{model._meta.label_lower}"
        post_save.connect(_workspace_row, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_workspace_row, sender=model, dispatch_uid=f"{uid}-delete")
    post_save.connect(_plan, sender=Plan, dispatch_uid="snapshot-retire-plan-save")
    post_delete.connect(_plan, sender=Plan, dispatch_uid="snapshot-retire-plan-delete")
    m2m_changed.connect(
        _group_members, sender=Group.members.through, dispatch_uid="snapshot-retire-group-members"
    )
