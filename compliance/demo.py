"""Demo data for compliance: a second workspace, "Daily Ledger", a newspaper that declared
itself a Media Customer, on the Team plan, with a pending editorial-use request. Its
owner is the demo owner of Acme, so one sign-in shows both. Running it again changes
nothing. Acme stays a workspace that is not a Media Customer."""

from __future__ import annotations

from django.db import transaction

from accounts import services as account_services
from accounts.actor import Actor
from accounts.models import Group, Membership, Workspace
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


@transaction.atomic
def seed() -> Workspace:
    from console.management.commands.seed_demo import OWNER_EMAIL, demo_member, demo_user  # noqa: PLC0415

    owner = demo_user(OWNER_EMAIL, "Olivia Owner")
    ws = Workspace.objects.filter(slug=SLUG).first()
    if ws is None:
        ws = account_services.workspace_create(
            actor=Actor.for_user(owner), name="Daily Ledger", slug=SLUG
        )
    owner_m = Membership.objects.select_related("user", "workspace").get(workspace=ws, user=owner)
    acting = Actor.member(owner_m)
    billing_services.subscription_start(
        actor=acting, workspace=ws, plan=Plan.objects.get(slug="team")
    )
    if not MediaStatusChange.objects.filter(workspace=ws).exists():
        services.media_status_set(
            actor=acting,
            workspace=ws,
            is_media_customer=True,
            source=MediaSource.SELF,
            note="Declared at creation",
        )
    desk = Group.objects.filter(workspace=ws, name="Fact-checking desk").first()
    if desk is None:
        desk = account_services.group_create(actor=acting, workspace=ws, name="Fact-checking desk")
    for name, email, role in MEMBERS:
        demo_member(owner_m, desk, name=name, email=email, role=role)
    if not EditorialAuthorization.objects.filter(workspace=ws).exists():
        services.editorial_request_create(
            actor=acting,
            workspace=ws,
            reason="Our fact-checking desk cross-checks wire stories against verified news before publication.",
            requested_scope="The Fact-checking desk group, for the next six months.",
        )
    return ws
