"""What a change of plan does to the workspace's agents, for billing's plan-change preview
(``billing.effects``, registered by ``AgentsConfig.ready``): billing sits below agents and
cannot read them."""

from __future__ import annotations

from django.template.defaultfilters import pluralize
from django.urls import reverse

from accounts.roles import Role
from billing.effects import Change, Effect, Item
from core import registry

from .selectors import shared_beyond_creator

# How many of the agents the preview names; the others are counted.
SHOWN = 3


def sharing_lost(change: Change) -> Effect | None:
    """Where the change takes agent sharing away, the agents shared beyond their creator
    (with the whole workspace, a group or another member): from the change on, each is
    usable by its creator alone (``agents.access``). Their names only for a viewer who
    manages every agent, as admins do; the count for anybody. None when sharing stays,
    when no agent is shared, or when the plan drops agents altogether (then nobody uses
    them, which the lost features already say). One query."""
    if registry.AGENT_SHARING not in change.features_lost:
        return None
    if registry.AGENTS not in change.target.feature_keys:
        return None
    viewer = change.viewer
    names = viewer is not None and viewer.role >= Role.ADMIN
    shared = shared_beyond_creator(change.workspace.pk, first=SHOWN if names else 0)
    if not shared.count:
        return None
    n = shared.count
    whose = "their creator" if n != 1 else "its creator"
    slug = change.workspace.slug
    return Effect(
        summary=f"{n} agent{pluralize(n)} shared beyond {whose} become{pluralize(n, 's,')} "
        f"usable by {whose} alone",
        items=tuple(Item(a.name, reverse("ws:agent", args=[slug, a.pk])) for a in shared.first),
        more=n - len(shared.first) if shared.first else 0,
    )
