"""Demo data for the quick start (`make run`): two workspaces, their people, a pending
invitation, a verified domain, a group, plans and a Media Customer, all made through the
apps' services as a person would make them, so their audit events exist too. Running it
again changes nothing but the demo's service token (see ``credentials``).

The console sits above every app: this module calls the apps' demo modules
(``billing.demo``, ``compliance.demo``), which never call back into it, and the
``seed_demo`` command calls this module."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.urls import reverse

import agents.demo
import billing.demo
import compliance.demo
import connectors.demo
from accounts import services
from accounts.actor import Actor
from accounts.dns import StaticResolver, get_resolver
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
from api.services import service_token_create, service_token_revoke
from billing import services as billing_services
from billing.models import Plan

OWNER_EMAIL = "owner@acme.example"
OWNER_NAME = "Olivia Owner"
PASSWORD = "demo-console-2026"  # noqa: S105  (demo data on a developer's machine)
STAFF_EMAIL = "staff@console.example"
DEMO_TOKEN_NAME = "Demo gateway"
SLUG = "acme"
DOMAIN = "acme.example"
NEWCOMER = "newcomer@acme.example"
MEMBERS = [
    ("Ada Lovelace", "ada@acme.example", Role.ADMIN),
    ("Grace Hopper", "grace@acme.example", Role.BILLING),
    ("Alan Turing", "alan@acme.example", Role.MEMBER),
    ("Katherine Johnson", "katherine@acme.example", Role.MEMBER),
    ("Edsger Dijkstra", "edsger@acme.example", Role.MEMBER),
]


# --- People ------------------------------------------------------------------------------


def demo_user(email: str, name: str, *, staff: bool = False) -> User:
    """A demo user with the demo password, the current terms accepted and a verified email
    address, as if they had signed up and confirmed it."""
    user, created = User.objects.get_or_create(
        email=email, defaults={"name": name, "is_staff": staff, "is_superuser": staff}
    )
    if created:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        services.terms_accept(user=user, version=settings.TERMS_VERSION, ip=None)
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def demo_join(
    owner: Membership, user: User, *, role: int, groups: Sequence[Group] = ()
) -> Membership:
    """``user`` joins the owner's workspace the way people do: the owner invites them with
    ``role`` and ``groups``, and they accept. A member already is left as they are.

    The invitation's email is enqueued like any other; it finds the invitation accepted
    when it runs and sends nothing."""
    ws = owner.workspace
    membership = Membership.objects.filter(workspace=ws, user=user).first()
    if membership is not None:
        return membership
    invitation = Invitation.objects.filter(
        workspace=ws, email=user.email, status=InvitationStatus.PENDING
    ).first()
    if invitation is None:
        [result] = services.invitation_create_many(
            actor=Actor.member(owner),
            workspace=ws,
            emails=[user.email],
            role=role,
            groups=groups,
        )
        if result.invitation is None:
            raise RuntimeError(f"The demo could not invite {user.email}: {result.message}")
        invitation = result.invitation
    elif invitation.is_expired:
        invitation = services.invitation_resend(actor=Actor.member(owner), invitation=invitation)
    return services.invitation_accept(actor=Actor.for_user(user), invitation=invitation)


def _owner_membership(ws: Workspace, owner: User) -> Membership:
    return Membership.objects.select_related("user", "workspace").get(workspace=ws, user=owner)


# --- Acme ----------------------------------------------------------------------------------


def _invite_newcomer(owner: Membership, group: Group) -> None:
    """A pending invitation to look at, still valid on a later run."""
    pending = Invitation.objects.filter(
        workspace=owner.workspace, email=NEWCOMER, status=InvitationStatus.PENDING
    ).first()
    if pending is None:
        if Invitation.objects.filter(workspace=owner.workspace, email=NEWCOMER).exists():
            return  # accepted or revoked by whoever tried the demo: theirs to keep
        services.invitation_create_many(
            actor=Actor.member(owner),
            workspace=owner.workspace,
            emails=[NEWCOMER],
            role=Role.MEMBER,
            groups=[group],
        )
    elif pending.is_expired:
        services.invitation_resend(actor=Actor.member(owner), invitation=pending)


def _verify_domain(owner: Membership, domain: Domain) -> Domain:
    """Verify the demo's domain against a TXT record held by the in-memory resolver. That
    resolver answers only where it is the configured one (DOMAIN_RESOLVER, which `make run`
    sets for this step): with the system's resolver the domain stays claimed, as a real
    one would until its record exists, and no DNS lookup slows the seeding down."""
    if domain.is_verified or not isinstance(get_resolver(), StaticResolver):
        return domain
    previous = StaticResolver.records
    StaticResolver.records = {**previous, domain.name: [domain.txt_value]}
    try:
        return services.domain_check(actor=Actor.member(owner), domain=domain)
    finally:
        StaticResolver.records = previous


def _seed_acme(owner: User) -> Workspace:
    ws = Workspace.objects.filter(slug=SLUG).first()
    if ws is None:
        ws = services.workspace_create(actor=Actor.for_user(owner), name="Acme Research", slug=SLUG)
    owner_m = _owner_membership(ws, owner)
    acting = Actor.member(owner_m)
    group = Group.objects.filter(workspace=ws, name="Research").first()
    if group is None:
        group = services.group_create(actor=acting, workspace=ws, name="Research")
    for name, email, role in MEMBERS:
        # Plain members work in the Research group; the admin and billing people do not.
        groups = [group] if role == Role.MEMBER else []
        demo_join(owner_m, demo_user(email, name), role=role, groups=groups)
    _invite_newcomer(owner_m, group)
    domain = Domain.objects.filter(workspace=ws, name=DOMAIN).first()
    if domain is None:
        domain = services.domain_claim(actor=acting, workspace=ws, name=DOMAIN)
    _verify_domain(owner_m, domain)
    if ws.join_mode != JoinMode.REQUEST:
        services.workspace_update_join_settings(
            actor=acting, workspace=ws, join_mode=JoinMode.REQUEST, default_role=Role.MEMBER
        )
    return ws


def _seed_ledger(owner: User) -> Workspace:
    ws = Workspace.objects.filter(slug=compliance.demo.SLUG).first()
    if ws is None:
        ws = services.workspace_create(
            actor=Actor.for_user(owner), name="Daily Ledger", slug=compliance.demo.SLUG
        )
    owner_m = _owner_membership(ws, owner)
    billing_services.subscription_start(
        actor=Actor.member(owner_m), workspace=ws, plan=Plan.objects.get(slug="team")
    )
    desk = compliance.demo.seed(Actor.member(owner_m))
    for name, email, role in compliance.demo.MEMBERS:
        groups = [desk] if role == Role.MEMBER else []
        demo_join(owner_m, demo_user(email, name), role=role, groups=groups)
    return ws


@transaction.atomic
def seed() -> None:
    """Load the demo data; safe to run again. Emails it enqueues go out once it commits."""
    owner = demo_user(OWNER_EMAIL, OWNER_NAME)
    demo_user(STAFF_EMAIL, "Sam Staff", staff=True)
    acme = _seed_acme(owner)
    billing.demo.seed()
    ledger = _seed_ledger(owner)
    connectors.demo.connect_local_drive(_owner_membership(acme, owner))
    agents.demo.seed_acme(_owner_membership(acme, owner))
    agents.demo.seed_ledger(_owner_membership(ledger, owner))


# --- What to sign in with ------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    email: str
    what: str


def accounts() -> list[DemoAccount]:
    """The demo's people, for the sign-in page and the terminal."""
    roles = {Role.ADMIN: "admin", Role.BILLING: "billing", Role.MEMBER: "member"}
    return [
        DemoAccount(OWNER_EMAIL, "owner of Acme Research and Daily Ledger"),
        *(DemoAccount(email, f"{roles[role]} of Acme Research") for _, email, role in MEMBERS),
        *(
            DemoAccount(email, f"{roles[role]} of Daily Ledger")
            for _, email, role in compliance.demo.MEMBERS
        ),
        DemoAccount(STAFF_EMAIL, "staff: the admin at /admin/"),
    ]


def sign_in_accounts() -> list[DemoAccount]:
    """The demo accounts to show on the sign-in page: only on a developer's machine
    (DEBUG) and while the demo data is loaded; nothing otherwise."""
    if not settings.DEBUG or not User.objects.filter(email=OWNER_EMAIL).exists():
        return []
    return accounts()


@transaction.atomic
def fresh_service_token() -> str:
    """A new demo service token, the previous ones revoked.

    Its secret exists only when it is created (tokens are stored hashed), and the quick
    start promises a working token on screen at every run: so each run makes one and
    revokes the one before, which leaves a single live demo token rather than one more
    per run, and a token copied from an old terminal stops working instead of lingering."""
    staff = User.objects.get(email=STAFF_EMAIL)
    for old in ServiceToken.objects.filter(name=DEMO_TOKEN_NAME, revoked_at__isnull=True):
        service_token_revoke(actor=Actor.staff(staff), token=old)
    return service_token_create(actor=Actor.staff(staff), name=DEMO_TOKEN_NAME).raw


def credentials() -> list[str]:
    """The lines that tell how to sign in to the demo and call its service API."""
    token = fresh_service_token()
    login = settings.SITE_URL + reverse("account_login")
    people = ", ".join(a.email for a in accounts()[1:-1])
    return [
        f"Sign in at {login}",
        f"  Workspace owner:  {OWNER_EMAIL} / {PASSWORD}",
        f"  Staff (/admin/):  {STAFF_EMAIL} / {PASSWORD}",
        f"  Other members, same password: {people}",
        f"  Service API token (new at each run; the previous one is revoked): {token}",
    ]


# --- Waiting for `make run` ------------------------------------------------------------------


def wait_until_started(url: str, *, timeout: float = 60.0) -> bool:
    """Wait until the web server at ``url`` accepts connections, a Celery worker answers,
    and the tasks waiting in the embedded broker's folder have been taken, so that what is
    printed next comes after their start-up output. The server is probed with a bare TCP
    connection, not a request: it logs every request, and that line could come after ours.
    False on timeout."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    deadline = time.monotonic() + timeout
    queue = _queue_folder()
    checks: tuple[Callable[[], bool], ...] = (
        lambda: _accepts(host, port),
        _worker_answers,
        lambda: queue is None or not any(queue.glob("*.msg")),
    )
    for check in checks:
        while not check():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.25)
    # The worker prints a task's output (an email, say) just after taking it.
    time.sleep(1.0)
    return True


def _worker_answers() -> bool:
    from console.celery import app  # noqa: PLC0415

    # Each ping connects anew, and kombu warns each time that the embedded broker's URL
    # names no host: noise among the lines this wait exists to keep in order.
    kombu_log = logging.getLogger("kombu.connection")
    level = kombu_log.level
    kombu_log.setLevel(logging.ERROR)
    try:
        return bool(app.control.ping(timeout=1.0))
    except OSError:
        return False
    finally:
        kombu_log.setLevel(level)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _queue_folder() -> Path | None:
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return None
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    folder = options.get("data_folder_in")
    return Path(folder) if folder else None
