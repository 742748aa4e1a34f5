"""Demo data for `make run`: a workspace, its owner, members, a pending invitation, a
verified domain, a group and audit events. Running it again changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

import billing.demo
import compliance.demo
from accounts import services
from accounts.actor import Actor
from accounts.models import (
    Domain,
    Group,
    Invitation,
    InvitationStatus,
    JoinMode,
    Membership,
    User,
    Workspace,
)
from accounts.roles import Role
from api.models import ServiceToken
from api.services import service_token_create

OWNER_EMAIL = "owner@acme.example"
OWNER_PASSWORD = "demo-console-2026"  # noqa: S105  (demo data on a developer's machine)
STAFF_EMAIL = "staff@console.example"
DEMO_TOKEN_NAME = "Demo gateway"
MEMBERS = [
    ("Ada Lovelace", "ada@acme.example", Role.ADMIN),
    ("Grace Hopper", "grace@acme.example", Role.BILLING),
    ("Alan Turing", "alan@acme.example", Role.MEMBER),
    ("Katherine Johnson", "katherine@acme.example", Role.MEMBER),
    ("Edsger Dijkstra", "edsger@acme.example", Role.MEMBER),
]


def demo_user(email: str, name: str, *, staff: bool = False) -> User:
    user, created = User.objects.get_or_create(
        email=email, defaults={"name": name, "is_staff": staff, "is_superuser": staff}
    )
    if created:
        user.set_password(OWNER_PASSWORD)
        user.save()
        services.terms_accept(user=user, version=settings.TERMS_VERSION, ip=None)
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def demo_member(owner: Membership, group: Group, *, name: str, email: str, role: int) -> Membership:
    """A demo member of the owner's workspace with ``role``; plain members are put in ``group``."""
    user = demo_user(email, name)
    m = Membership.objects.filter(workspace=owner.workspace, user=user).first()
    if m is None:
        m = Membership.objects.create(workspace=owner.workspace, user=user, role=Role.MEMBER)
        if role != Role.MEMBER:
            services.member_role_change(actor=Actor.member(owner), membership=m, role=role)
    if role == Role.MEMBER:
        services.group_member_add(actor=Actor.member(owner), group=group, membership=m)
    return m


class Command(BaseCommand):
    help = "Load demo data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            owner = demo_user(OWNER_EMAIL, "Olivia Owner")
            demo_user(STAFF_EMAIL, "Sam Staff", staff=True)
            ws = Workspace.objects.filter(slug="acme").first()
            if ws is None:
                ws = services.workspace_create(
                    actor=Actor.for_user(owner), name="Acme Research", slug="acme"
                )
            owner_m = Membership.objects.select_related("user", "workspace").get(
                workspace=ws, user=owner
            )
            acting = Actor.member(owner_m)
            group = Group.objects.filter(workspace=ws, name="Research").first()
            if group is None:
                group = services.group_create(actor=acting, workspace=ws, name="Research")
            for name, email, role in MEMBERS:
                demo_member(owner_m, group, name=name, email=email, role=role)
            if not Invitation.objects.filter(workspace=ws, email="newcomer@acme.example").exists():
                services.invitation_create_many(
                    actor=acting,
                    workspace=ws,
                    emails=["newcomer@acme.example"],
                    role=Role.MEMBER,
                    groups=[group],
                )
            Invitation.objects.filter(workspace=ws, status=InvitationStatus.PENDING).update(
                expires_at=timezone.now() + timedelta(days=7)
            )
            domain = Domain.objects.filter(workspace=ws, name="acme.example").first()
            if domain is None:
                domain = services.domain_claim(actor=acting, workspace=ws, name="acme.example")
            if not domain.is_verified:
                from accounts.dns import StaticResolver  # noqa: PLC0415

                StaticResolver.records = {domain.name: [domain.txt_value]}
                previous = settings.DOMAIN_RESOLVER
                settings.DOMAIN_RESOLVER = "accounts.dns.StaticResolver"
                try:
                    services.domain_check(actor=acting, domain=domain)
                finally:
                    settings.DOMAIN_RESOLVER = previous
                    StaticResolver.records = {}
            if ws.join_mode != JoinMode.REQUEST:
                services.workspace_update_join_settings(
                    actor=acting, workspace=ws, join_mode=JoinMode.REQUEST, default_role=Role.MEMBER
                )
        billing.demo.seed()
        compliance.demo.seed()
        token = _demo_service_token()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Workspace owner: {OWNER_EMAIL} / {OWNER_PASSWORD}")
        self.stdout.write(f"  Staff (admin at /admin/): {STAFF_EMAIL} / {OWNER_PASSWORD}")
        if token:
            self.stdout.write(
                f"  Service API token (shown once; staff create others in the admin): {token}"
            )


def _demo_service_token() -> str:
    """A service token for trying the gateway's API on the demo: created on the first run
    only, since its secret is shown once and stored hashed."""
    if ServiceToken.objects.filter(name=DEMO_TOKEN_NAME).exists():
        return ""
    staff = User.objects.get(email=STAFF_EMAIL)
    return service_token_create(actor=Actor.staff(staff), name=DEMO_TOKEN_NAME).raw
