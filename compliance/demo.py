"""Demo data for compliance: a second workspace, "Daily Ledger", a newspaper that declared
itself a Media Customer, on the Team plan, with a pending editorial-use request. Its
owner is the demo owner of Acme, so one sign-in shows both. Running it again changes
nothing. Acme stays a workspace that is not a Media Customer.

The console's demo (``console.demo``) calls ``seed`` with the owner, then has the people of
``MEMBERS`` join the workspace; this module knows nothing of the console."""

from __future__ import annotations

from django.db import transaction

from accounts import services as account_services
from accounts.models import Group, User, Workspace
from accounts.roles import Role
from billing import services as billing_services
from billing.models import Plan

from . import services
from .models import EditorialAuthorization, MediaSource, MediaStatusChange

SLUG = "daily-ledger"
MEMBERS = [
    ("Nellie Bly", "nellie@dailyledger.example", Role.ADMIN),
    ("Ida Tarbell", "ida@dailyledger.example", Role.MEMBER),
    ("Lincoln Steffens", "lincoln@dailyledger.example", Role.MEMBER),
]
DESK = "Fact-checking desk"


@transaction.atomic
def seed(owner: User) -> tuple[Workspace, Group]:
    """The workspace, owned by ``owner``, and its fact-checking desk group."""
    ws = Workspace.objects.filter(slug=SLUG).first()
    if ws is None:
        ws = account_services.workspace_create(actor=owner, name="Daily Ledger", slug=SLUG)
    billing_services.subscription_start(
        actor=None, workspace=ws, plan=Plan.objects.get(slug="team")
    )
    if not MediaStatusChange.objects.filter(workspace=ws).exists():
        services.media_status_set(
            actor=owner,
            workspace=ws,
            is_media_customer=True,
            source=MediaSource.SELF,
            note="Declared at creation",
        )
    desk = Group.objects.filter(workspace=ws, name=DESK).first()
    if desk is None:
        desk = account_services.group_create(actor=owner, workspace=ws, name=DESK)
    if not EditorialAuthorization.objects.filter(workspace=ws).exists():
        services.editorial_request_create(
            actor=owner,
            workspace=ws,
            reason="Our fact-checking desk cross-checks wire stories against verified news before publication.",
            requested_scope="The Fact-checking desk group, for the next six months.",
        )
    return ws, desk
