"""``make run``'s demo data: complete, made through the services, safe to load twice, and
followed by how to sign in, printed last at every run."""

from __future__ import annotations

import ast
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.audit import Action
from accounts.models import AuditEvent, Domain, Invitation, InvitationStatus, Membership, Workspace
from accounts.roles import Role
from api.audit import Action as ApiAction
from api.models import ServiceToken, hash_token
from billing.selectors import entitlements
from compliance.selectors import is_media_customer
from console import demo
from features.decisions import Code, decide

BASE_DIR = Path(settings.BASE_DIR)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def token_in(output: str) -> str:
    return next(w for w in output.split() if w.startswith("svc_"))


def counts() -> tuple[int, ...]:
    return (
        Workspace.objects.count(),
        Membership.objects.count(),
        Invitation.objects.count(),
        Domain.objects.count(),
        AuditEvent.objects.exclude(target_type="api.servicetoken").count(),
    )


def test_demo_data_loads_twice_with_a_media_customer_among_the_workspaces(db: None) -> None:
    first = seed()
    after_first = counts()
    second = seed()
    # The second run changed nothing but the service token.
    assert counts() == after_first

    acme, ledger = Workspace.objects.get(slug="acme"), Workspace.objects.get(slug="daily-ledger")
    assert entitlements(acme).plan.slug == "team" and entitlements(ledger).plan.slug == "team"
    assert not is_media_customer(acme) and is_media_customer(ledger)
    member = Membership.objects.filter(workspace=ledger).exclude(role=Role.OWNER).first()
    assert decide(member, "news").code == Code.MEDIA_CUSTOMER
    assert Membership.objects.filter(workspace=acme).count() == 1 + len(demo.MEMBERS)
    assert Membership.objects.filter(workspace=ledger).count() == 4
    assert Domain.objects.get(workspace=acme).is_verified
    assert Invitation.objects.get(email=demo.NEWCOMER).status == InvitationStatus.PENDING
    assert "Service API token" in first and "Service API token" in second


def test_each_run_prints_a_working_token_and_revokes_the_previous_one(db: None) -> None:
    first = token_in(seed())
    second = token_in(seed())
    assert first != second
    tokens = ServiceToken.objects.filter(name=demo.DEMO_TOKEN_NAME)
    live = tokens.get(revoked_at__isnull=True)
    assert live.token_hash == hash_token(second)
    assert tokens.get(revoked_at__isnull=False).token_hash == hash_token(first)
    assert AuditEvent.objects.filter(action=ApiAction.SERVICE_TOKEN_REVOKED).count() == 1


def test_how_to_sign_in_is_printed_last(db: None) -> None:
    lines = [line for line in seed().splitlines() if line.strip()]
    assert lines[0] == "Demo data ready."
    tail = lines[-5:]
    assert tail[0].startswith("Sign in at http://") and tail[0].endswith("/accounts/login/")
    assert f"{demo.OWNER_EMAIL} / {demo.PASSWORD}" in tail[1]
    assert f"{demo.STAFF_EMAIL} / {demo.PASSWORD}" in tail[2]
    assert "ada@acme.example" in tail[3] and "nellie@dailyledger.example" in tail[3]
    assert tail[4].split()[-1].startswith("svc_")
    # The two halves `make run` uses: the data first, the sign-in details on their own.
    out = StringIO()
    call_command("seed_demo", no_credentials=True, stdout=out)
    assert "svc_" not in out.getvalue() and "Demo data ready." in out.getvalue()
    out = StringIO()
    call_command("seed_demo", credentials_only=True, stdout=out)
    assert "Demo data ready." not in out.getvalue() and "svc_" in out.getvalue()


def test_make_run_prints_how_to_sign_in_after_starting_the_worker_and_server() -> None:
    recipe = subprocess.run(
        ["make", "-n", "run", "PORT=8123"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seed_at = recipe.index("seed_demo --no-credentials")
    worker_at = recipe.index("celery -A console worker")
    server_at = recipe.index("manage.py runserver 0.0.0.0:8123")
    credentials_at = recipe.index("seed_demo --credentials-only --wait-for http://127.0.0.1:8123/")
    assert seed_at < worker_at < server_at < credentials_at
    # The demo's domain is verified by a resolver chosen for the seeding only, not by a
    # change of the settings at run time.
    assert "DOMAIN_RESOLVER=accounts.dns.StaticResolver" in recipe[:seed_at].splitlines()[-1]
    assert "DOMAIN_RESOLVER" not in recipe[seed_at:]


def test_demo_members_join_through_invitations(db: None) -> None:
    seed()
    acme = Workspace.objects.get(slug="acme")
    for _, email, role in demo.MEMBERS:
        m = Membership.objects.get(workspace=acme, user__email=email)
        assert m.role == role
        events = AuditEvent.objects.filter(workspace=acme, target_repr=email)
        assert set(events.values_list("action", flat=True)) >= {
            Action.INVITATION_SENT,
            Action.INVITATION_ACCEPTED,
            Action.MEMBER_JOINED,
        }
        joined = events.get(action=Action.MEMBER_JOINED)
        assert joined.after["via"] == "invitation" and joined.after["role"] == role
    research = [e for _, e, r in demo.MEMBERS if r == Role.MEMBER]
    assert sorted(
        Membership.objects.filter(workspace=acme, groups__name="Research").values_list(
            "user__email", flat=True
        )
    ) == sorted(research)
    ledger = Workspace.objects.get(slug="daily-ledger")
    assert AuditEvent.objects.filter(workspace=ledger, action=Action.MEMBER_JOINED).count() == 3
    assert AuditEvent.objects.filter(workspace=acme, action=Action.DOMAIN_VERIFIED).count() == 1


def test_demo_modules_never_reach_for_raw_memberships_or_the_command() -> None:
    for path in ("console/demo.py", "compliance/demo.py", "billing/demo.py"):
        tree = ast.parse((BASE_DIR / path).read_text())
        source = ast.unparse(tree)
        assert "Membership.objects.create" not in source, path
        assert "settings.DOMAIN_RESOLVER =" not in source, path
        if path != "console/demo.py":
            imported = {
                node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            } | {
                alias.name
                for node in ast.walk(tree)
                if isinstance(node, ast.Import)
                for alias in node.names
            }
            assert not any(name.startswith("console") for name in imported), path


# --- The sign-in page ------------------------------------------------------------------


def login_page(client: Client) -> str:
    return client.get(reverse("account_login")).content.decode()


@pytest.mark.parametrize("debug", [True, False])
def test_sign_in_page_shows_the_demo_accounts_only_with_demo_data_and_debug(
    db: None, settings, debug: bool
) -> None:
    settings.DEBUG = debug
    assert "Demo accounts" not in login_page(Client())
    seed()
    page = login_page(Client())
    if debug:
        assert "Demo accounts" in page and demo.PASSWORD in page
        for email in (demo.OWNER_EMAIL, demo.STAFF_EMAIL, "ada@acme.example"):
            assert f"<code>{email}</code>" in page
    else:
        assert "Demo accounts" not in page and demo.PASSWORD not in page


# --- Waiting for `make run`'s worker and server -----------------------------------------


def test_the_wait_needs_the_server_the_worker_and_an_empty_queue(
    settings, tmp_path, monkeypatch
) -> None:
    import socket  # noqa: PLC0415

    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    monkeypatch.setattr(demo.time, "sleep", lambda _s: None)
    answers = {"worker": False}
    monkeypatch.setattr(demo, "_worker_answers", lambda: answers["worker"])
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        url = f"http://127.0.0.1:{port}/"
        # Nothing listens yet, then no worker answers: both time out.
        assert not demo.wait_until_started(url, timeout=0.3)
        server.listen()
        assert not demo.wait_until_started(url, timeout=0.3)
        answers["worker"] = True
        # The worker has not taken the seeding's tasks yet.
        (tmp_path / "1_abc.celery.msg").write_text("{}")
        assert not demo.wait_until_started(url, timeout=0.3)
        (tmp_path / "1_abc.celery.msg").unlink()
        assert demo.wait_until_started(url, timeout=0.3)
