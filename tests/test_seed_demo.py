"""``make run``'s demo data: complete, and safe to load twice."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from accounts.models import Membership, Workspace
from accounts.roles import Role
from api.models import ServiceToken
from billing.selectors import entitlements
from compliance.selectors import is_media_customer
from features.decisions import Code, decide


def test_demo_data_loads_twice_with_a_media_customer_among_the_workspaces(db: None) -> None:
    first, second = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)

    acme, ledger = Workspace.objects.get(slug="acme"), Workspace.objects.get(slug="daily-ledger")
    assert entitlements(acme).plan.slug == "team" and entitlements(ledger).plan.slug == "team"
    assert not is_media_customer(acme) and is_media_customer(ledger)
    member = Membership.objects.filter(workspace=ledger).exclude(role=Role.OWNER).first()
    assert decide(member, "news").code == Code.MEDIA_CUSTOMER
    # The gateway's demo token is shown on the first run only, and stored once.
    assert "Service API token" in first.getvalue() and "svc_" in first.getvalue()
    assert "Service API token" not in second.getvalue()
    assert ServiceToken.objects.count() == 1
