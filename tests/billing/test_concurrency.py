"""Plan changes raced against joins and against each other on PostgreSQL: the seat limit
holds whichever commits first, and a workspace keeps exactly one current subscription."""

from __future__ import annotations

import pytest

from accounts import services as account_services
from accounts.actor import Actor
from accounts.models import Membership, MemberStatus, Workspace
from accounts.roles import Role
from billing import services
from billing.models import Subscription
from core.errors import DomainError
from tests.billing.conftest import add_members, plan, subscribe
from tests.concurrency import needs_postgres, run_concurrently
from tests.factories import InvitationFactory, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


def test_a_plan_change_to_a_smaller_plan_racing_joins_never_ends_over_the_limit() -> None:
    for round_ in range(4):
        ws = WorkspaceFactory()
        owner = MembershipFactory(workspace=ws, role=Role.OWNER)
        add_members(ws, 2)
        subscribe(ws, "team")
        users = [UserFactory(email=f"r{round_}-{i}@acme.test") for i in range(6)]
        invs = [InvitationFactory(workspace=ws, email=u.email) for u in users]
        free = plan("free")

        def race(i: int, users=users, invs=invs, ws=ws, owner=owner, free=free) -> object:  # noqa: ANN001
            if i == 3:
                return services.subscription_change_plan(
                    actor=Actor.member(owner), workspace=ws, plan=free
                )
            k = i if i < 3 else i - 1
            return account_services.invitation_accept(
                actor=Actor.for_user(users[k]), invitation=invs[k]
            )

        out = run_concurrently(race, 7)

        assert out.unexpected(DomainError) == {}
        current = Subscription.objects.select_related("plan").get(workspace=ws, ended_at=None)
        active = Membership.objects.filter(workspace=ws, status=MemberStatus.ACTIVE).count()
        limit = current.plan.seat_limit
        assert limit is None or active <= limit, (round_, current.plan.slug, active)
        assert Workspace.objects.get(pk=ws.pk).seat_limit == limit
        if current.plan.slug == "free":
            assert active == 5
        else:
            assert active == 9


def test_plan_changes_at_once_leave_exactly_one_current_subscription() -> None:
    ws = WorkspaceFactory()
    owner = MembershipFactory(workspace=ws, role=Role.OWNER)
    billing = MembershipFactory(workspace=ws, role=Role.BILLING)
    subscribe(ws, "free")
    targets = [plan("team"), plan("api-payg")]

    out = run_concurrently(
        lambda i: services.subscription_change_plan(
            actor=Actor.member(owner if i % 2 else billing), workspace=ws, plan=targets[i % 2]
        ),
        10,
    )

    assert out.unexpected(DomainError) == {}
    assert out.results, out.errors
    current = Subscription.objects.filter(workspace=ws, ended_at__isnull=True)
    assert current.count() == 1
    # Each accepted change ended the one before it: the history is one chain.
    assert Subscription.objects.filter(workspace=ws).count() == 1 + len(out.results)
    assert Workspace.objects.get(pk=ws.pk).seat_limit == current.get().plan.seat_limit


def test_starting_a_subscription_at_once_starts_one() -> None:
    ws = WorkspaceFactory()

    out = run_concurrently(
        lambda i: services.subscription_start(actor=Actor.system(), workspace=ws), 6
    )

    assert out.errors == {}
    assert Subscription.objects.filter(workspace=ws).count() == 1
    assert len({s.pk for s in out.results.values()}) == 1
