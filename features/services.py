"""Changes of feature rules and of users' own switches (R-WS-6, R-FEAT-1, R-FEAT-2,
R-MEDIA-2). Each service takes the acting user (``actor``), runs in one transaction, locks
what it changes, does nothing when nothing changes, writes its audit event and retires the
snapshots of the workspace's decision facts (``core.snapshots``)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from accounts.actor import Actor, authorize, require_self
from accounts.models import Group, Membership, Workspace
from accounts.roles import Perm
from compliance.selectors import is_media_customer
from core import registry, snapshots
from core.audit import record
from core.errors import DomainError
from features.audit import Action

from . import errors
from .decisions import INHERIT, decide
from .models import Effect, FeatureOptOut, FeatureRule

EFFECTS = (Effect.ALLOW.value, INHERIT, Effect.DENY.value)


def _feature(key: str) -> registry.Feature:
    try:
        return registry.get(key)
    except KeyError:
        raise DomainError(errors.UNKNOWN_FEATURE, field="feature") from None


def target_label(group: Group | None = None, membership: Membership | None = None) -> str:
    """How the audit log and the messages name a rule's target."""
    if group is not None:
        return group.name
    if membership is not None:
        return membership.user.email
    return "workspace"


def _lock_target(workspace: Workspace, group: Group | None, membership: Membership | None) -> Model:
    """Lock the rule's target row: changes of one target's rules run one after the other, so
    two admins setting the same cell cannot both insert a rule."""
    if group is not None:
        return Group.objects.select_for_update().get(pk=group.pk)
    if membership is not None:
        return (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=membership.pk)
        )
    return Workspace.objects.select_for_update().get(pk=workspace.pk)


@transaction.atomic
def feature_rule_set(
    *,
    actor: Actor,
    workspace: Workspace,
    feature: str,
    effect: str,
    group: Group | None = None,
    membership: Membership | None = None,
) -> FeatureRule | None:
    """Allow or deny ``feature`` for the whole workspace, one group or one member, or
    ("inherit") remove the rule so the level above decides. Returns the rule, or None once
    it is inherited."""
    authorize(actor, workspace.pk, Perm.MANAGE_FEATURES)
    spec = _feature(feature)
    if effect not in EFFECTS:
        raise DomainError(errors.UNKNOWN_EFFECT, field="effect")
    if group is not None and membership is not None:
        raise DomainError(errors.ONE_TARGET)
    if group is not None and group.workspace_id != workspace.pk:
        raise DomainError(errors.GROUP_NOT_IN_WORKSPACE, field="target_id")
    if membership is not None and membership.workspace_id != workspace.pk:
        raise DomainError(errors.MEMBER_NOT_IN_WORKSPACE, field="target_id")
    # An admin never switches verified news on for a Media Customer, whatever the target
    # (R-MEDIA-2): the way in is an editorial-use authorization that staff grant.
    if spec.key == registry.NEWS and effect == Effect.ALLOW and is_media_customer(workspace):
        raise DomainError(errors.NEWS_MEDIA_CUSTOMER, field="effect")

    target = _lock_target(workspace, group, membership)
    rule = (
        FeatureRule.objects.select_for_update()
        .filter(workspace=workspace, feature=spec.key, group=group, membership=membership)
        .first()
    )
    before = rule.effect if rule is not None else INHERIT
    if before == effect:
        return rule

    if effect == INHERIT:
        assert rule is not None
        rule.delete()
        rule = None
    elif rule is None:
        rule = FeatureRule.objects.create(
            workspace=workspace,
            feature=spec.key,
            group=group,
            membership=membership,
            effect=effect,
            updated_by=actor.audit_user,
        )
    else:
        rule.effect = effect
        rule.updated_at = timezone.now()
        rule.updated_by = actor.audit_user
        rule.save(update_fields=["effect", "updated_at", "updated_by"])

    snapshots.moved(snapshots.decisions(workspace.pk))
    label = target_label(group, membership)
    context = {"feature": spec.key, "target": label}
    record(
        actor=actor,
        workspace=workspace,
        action=Action.FEATURE_RULE_CHANGED,
        target=target,
        target_repr=f"{spec.label} for {label}",
        before={**context, "effect": before},
        after={**context, "effect": effect},
    )
    return rule


@transaction.atomic
def feature_switch_set(*, actor: Actor, membership: Membership, feature: str, on: bool) -> bool:
    """The user's own switch (R-FEAT-2): ``on=False`` turns ``feature`` off for them in
    this workspace, ``on=True`` turns it back on. Refused for features users cannot switch,
    and while anything above the user's switch (compliance, plan, admins) keeps the feature
    from them. Returns whether anything changed. Only the member themselves switches."""
    require_self(actor, membership.user)
    spec = _feature(feature)
    if not spec.user_switchable:
        raise DomainError(errors.NOT_SWITCHABLE.format(feature=spec.label), field="feature")
    m = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "workspace")
        .get(pk=membership.pk)
    )
    decision = decide(m, spec.key)
    if not decision.user_may_switch:
        raise DomainError(
            errors.SWITCH_NOT_ALLOWED.format(feature=spec.label, reason=decision.reason)
        )

    opt_out = FeatureOptOut.objects.filter(membership=m, feature=spec.key).first()
    was_on = opt_out is None
    if was_on == on:
        return False
    if on:
        assert opt_out is not None
        opt_out.delete()
    else:
        FeatureOptOut.objects.create(workspace_id=m.workspace_id, membership=m, feature=spec.key)
    snapshots.moved(snapshots.decisions(m.workspace_id))
    record(
        actor=actor,
        workspace=m.workspace,
        action=Action.FEATURE_SWITCHED,
        target=m,
        target_repr=f"{spec.label} for {m.user.email}",
        before={"feature": spec.key, "on": was_on},
        after={"feature": spec.key, "on": on},
    )
    return True
