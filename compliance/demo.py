"""Demo data for compliance: a second workspace, "Daily Ledger", a newspaper that declared
itself a Media Customer, on the Team plan, with a pending editorial-use request. Its
owner is the demo owner of Acme, so one sign-in shows both. Running it again changes
nothing. Acme stays a workspace that is not a Media Customer.

The console's demo (``console.demo``) opens the workspace on its plan, calls ``seed`` with
the owner acting in it, then has the people of ``MEMBERS`` join; this module knows nothing
of the console or of billing."""

from __future__ import annotations

from django.db import transaction

from accounts import services as account_services
from accounts.actor import Actor
from accounts.models import Group
from accounts.roles import Role

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
def seed(owner: Actor) -> Group:
    """The Media Customer declaration, the fact-checking desk group and the pending
    editorial-use request of the workspace that ``owner`` (its owner) acts in; the
    console's demo opens the workspace and its plan first."""
    assert owner.membership is not None
    ws = owner.membership.workspace
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
    return desk
