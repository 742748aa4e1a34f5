"""Changes that span the apps, composed here at the top of the dependency graph."""

from __future__ import annotations

from django.db import transaction

from accounts import services as account_services
from accounts.actor import Actor
from accounts.models import Membership, User, Workspace
from accounts.roles import Role
from billing import services as billing_services
from compliance import services as compliance_services
from compliance.models import MediaSource


@transaction.atomic
def workspace_open(
    *,
    actor: Actor,
    name: str,
    slug: str,
    is_media_customer: bool,
    owner: User | None = None,
) -> Workspace:
    """A new workspace, its subscription on the default plan and its Media Customer
    declaration (R-MEDIA-1), together or not at all. The page (a user for themselves) and
    the staff admin (for the ``owner`` they name) both open workspaces through here."""
    ws = account_services.workspace_create(actor=actor, name=name, slug=slug, owner=owner)
    owner_membership = Membership.objects.select_related("user", "workspace").get(
        workspace=ws, role=Role.OWNER
    )
    # The new owner declares; staff opening a workspace declare on the owner's behalf.
    declarer = actor if actor.is_staff else Actor.member(owner_membership)
    billing_services.subscription_start(actor=declarer, workspace=ws)
    compliance_services.media_status_set(
        actor=declarer,
        workspace=ws,
        is_media_customer=is_media_customer,
        source=MediaSource.SELF,
        note="Declared at creation",
    )
    return ws
