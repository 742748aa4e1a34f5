"""The accounts services raced from many threads at once on PostgreSQL: seats, the order
of locks between joining paths, domain constraints, idempotent group changes and the last
owner. Each test states the invariant a user relies on."""

from __future__ import annotations

import pytest

from accounts import errors, services, tasks
from accounts.actor import Actor
from accounts.audit import Action
from accounts.dns import StaticResolver
from accounts.models import (
    AuditEvent,
    Domain,
    Invitation,
    InvitationStatus,
    JoinMode,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    MemberStatus,
    Workspace,
)
from accounts.roles import Role
from core.errors import DomainError
from tests.concurrency import needs_postgres, run_concurrently
from tests.factories import (
    DomainFactory,
    GroupFactory,
    InvitationFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


def _workspace(*, members: int, seat_limit: int | None) -> tuple[Workspace, Membership]:
    ws = WorkspaceFactory(seat_limit=seat_limit)
    owner = MembershipFactory(workspace=ws, role=Role.OWNER)
    for _ in range(members - 1):
        MembershipFactory(workspace=ws)
    return ws, owner


def _active(ws: Workspace) -> int:
    return Membership.objects.filter(workspace=ws, status=MemberStatus.ACTIVE).count()


def _messages(outcomes: object) -> set[str]:
    return {e.message for e in outcomes.errors.values() if isinstance(e, DomainError)}


# --- Seats -----------------------------------------------------------------------------------


def test_ten_invitations_accepted_at_once_fill_only_the_seats_left() -> None:
    ws, _ = _workspace(members=2, seat_limit=5)
    users = [UserFactory(email=f"racer{i}@acme.test") for i in range(10)]
    invs = [InvitationFactory(workspace=ws, email=u.email) for u in users]

    out = run_concurrently(
        lambda i: services.invitation_accept(actor=Actor.for_user(users[i]), invitation=invs[i]),
        10,
    )

    assert out.unexpected(DomainError) == {}
    assert len(out.results) == 3 and len(out.errors) == 7
    assert _messages(out) == {errors.no_seat_left(5)}
    assert _active(ws) == 5
    assert Invitation.objects.filter(status=InvitationStatus.ACCEPTED).count() == 3


def test_every_way_of_joining_races_for_the_same_seats() -> None:
    ws, owner = _workspace(members=2, seat_limit=4)
    invited = [UserFactory() for _ in range(3)]
    invs = [InvitationFactory(workspace=ws, email=u.email) for u in invited]
    requests = [JoinRequest.objects.create(workspace=ws, user=UserFactory()) for _ in range(3)]
    gone = [MembershipFactory(workspace=ws, status=MemberStatus.DEACTIVATED) for _ in range(3)]
    actor = Actor.member(owner)

    def join(i: int) -> object:
        kind, k = divmod(i, 3)
        if kind == 0:
            return services.invitation_accept(actor=Actor.for_user(invited[k]), invitation=invs[k])
        if kind == 1:
            return services.join_request_approve(actor=actor, join_request=requests[k])
        return services.member_reactivate(actor=actor, membership=gone[k])

    out = run_concurrently(join, 9)

    assert out.unexpected(DomainError) == {}
    assert len(out.results) == 2 and _messages(out) == {errors.no_seat_left(4)}
    assert _active(ws) == 4


def test_domain_autojoin_at_once_into_one_seat_joins_one_and_asks_for_the_rest() -> None:
    ws, _ = _workspace(members=2, seat_limit=3)
    Workspace.objects.filter(pk=ws.pk).update(join_mode=JoinMode.AUTO)
    DomainFactory(workspace=ws, name="acme.org", verified_at=ws.created_at)
    users = [UserFactory(email=f"u{i}@acme.org") for i in range(8)]

    out = run_concurrently(lambda i: services.domain_autojoin(user=users[i]), 8)

    assert out.errors == {}
    assert _active(ws) == 3
    assert JoinRequest.objects.filter(workspace=ws, status=JoinRequestStatus.PENDING).count() == 7


# --- One lock order between the joining paths -------------------------------------------


def test_invitation_accept_racing_domain_autojoin_neither_deadlocks_nor_leaves_records() -> None:
    ws, _ = _workspace(members=1, seat_limit=None)
    Workspace.objects.filter(pk=ws.pk).update(join_mode=JoinMode.AUTO)
    DomainFactory(workspace=ws, name="acme.org", verified_at=ws.created_at)
    for round_ in range(20):
        user = UserFactory(email=f"both{round_}@acme.org")
        inv = InvitationFactory(workspace=ws, email=user.email)

        def race(i: int, user=user, inv=inv) -> object:  # noqa: ANN001
            if i == 0:
                return services.invitation_accept(actor=Actor.for_user(user), invitation=inv)
            return services.domain_autojoin(user=user)

        out = run_concurrently(race, 2)

        assert out.errors == {}, f"round {round_}: {out.errors}"
        assert Membership.objects.filter(workspace=ws, user=user).count() == 1
        assert Invitation.objects.get(pk=inv.pk).status == InvitationStatus.ACCEPTED
        assert not JoinRequest.objects.filter(user=user, status=JoinRequestStatus.PENDING).exists()
        assert (
            AuditEvent.objects.filter(action=Action.MEMBER_JOINED, target_repr=user.email).count()
            == 1
        )


def test_invitation_accept_racing_request_mode_autojoin_leaves_no_pending_request() -> None:
    ws, _ = _workspace(members=1, seat_limit=None)
    DomainFactory(workspace=ws, name="acme.org", verified_at=ws.created_at)
    for round_ in range(10):
        user = UserFactory(email=f"asker{round_}@acme.org")
        inv = InvitationFactory(workspace=ws, email=user.email)

        def race(i: int, user=user, inv=inv) -> object:  # noqa: ANN001
            if i == 0:
                return services.invitation_accept(actor=Actor.for_user(user), invitation=inv)
            return services.domain_autojoin(user=user)

        out = run_concurrently(race, 2)

        assert out.errors == {}, f"round {round_}: {out.errors}"
        assert Membership.objects.filter(workspace=ws, user=user).count() == 1
        assert not JoinRequest.objects.filter(user=user, status=JoinRequestStatus.PENDING).exists()


def test_deactivating_and_reactivating_one_member_at_once_does_not_deadlock() -> None:
    ws, owner = _workspace(members=1, seat_limit=10)
    admin = MembershipFactory(workspace=ws, role=Role.ADMIN)
    targets = [MembershipFactory(workspace=ws) for _ in range(4)]
    for m in targets[::2]:
        Membership.objects.filter(pk=m.pk).update(status=MemberStatus.DEACTIVATED)

    def flip(i: int) -> object:
        m = targets[i % 4]
        actor = Actor.member(owner if i % 2 else admin)
        if i < 8:
            return services.member_reactivate(actor=actor, membership=m)
        return services.member_deactivate(actor=actor, membership=m)

    out = run_concurrently(flip, 16)

    assert out.unexpected(DomainError) == {}


# --- Domain constraints ------------------------------------------------------------------


def test_the_same_claim_submitted_at_once_is_one_claim() -> None:
    ws, owner = _workspace(members=1, seat_limit=None)

    out = run_concurrently(
        lambda i: services.domain_claim(actor=Actor.member(owner), workspace=ws, name="acme.org"),
        8,
    )

    assert out.unexpected(DomainError) == {}
    assert Domain.objects.filter(workspace=ws).count() == 1 and len(out.results) == 1
    assert _messages(out) == {errors.DOMAIN_ALREADY_CLAIMED}
    assert AuditEvent.objects.filter(action=Action.DOMAIN_CLAIMED).count() == 1


def test_two_workspaces_verifying_one_name_at_once_verify_one() -> None:
    for round_ in range(5):
        name = f"shared{round_}.org"
        claims = []
        for _ in range(2):
            ws, owner = _workspace(members=1, seat_limit=None)
            claims.append(
                (owner, services.domain_claim(actor=Actor.member(owner), workspace=ws, name=name))
            )
        StaticResolver.records = {name: [d.txt_value for _, d in claims]}

        out = run_concurrently(
            lambda i, claims=claims: services.domain_check(
                actor=Actor.member(claims[i][0]), domain=claims[i][1]
            ),
            2,
        )

        assert out.errors == {}
        domains = Domain.objects.filter(name=name)
        assert domains.filter(verified_at__isnull=False).count() == 1
        [loser] = domains.filter(verified_at__isnull=True)
        assert loser.last_error == errors.DOMAIN_TAKEN


def test_the_recheck_task_survives_competing_verifications() -> None:
    ready = []
    for i in range(4):
        ws, _ = _workspace(members=1, seat_limit=None)
        ready.append(DomainFactory(workspace=ws, name="contested.org" if i < 3 else "own.org"))
    StaticResolver.records = {
        "contested.org": [d.txt_value for d in ready[:3]],
        "own.org": [ready[3].txt_value],
    }

    out = run_concurrently(lambda i: tasks.recheck_pending_domains(), 3)

    assert out.errors == {}
    assert Domain.objects.filter(name="contested.org", verified_at__isnull=False).count() == 1
    assert Domain.objects.get(name="own.org").is_verified
    assert set(
        Domain.objects.filter(name="contested.org", verified_at__isnull=True).values_list(
            "last_error", flat=True
        )
    ) == {errors.DOMAIN_TAKEN}


# --- Services that change nothing write nothing -------------------------------------------


def test_adding_one_member_to_a_group_at_once_adds_and_audits_once() -> None:
    ws, owner = _workspace(members=1, seat_limit=None)
    for _ in range(3):
        group = GroupFactory(workspace=ws)
        member = MembershipFactory(workspace=ws)
        events = AuditEvent.objects.filter(target_id=str(group.pk))

        out = run_concurrently(
            lambda i, group=group, member=member: services.group_member_add(
                actor=Actor.member(owner), group=group, membership=member
            ),
            10,
        )

        assert out.errors == {}
        assert list(group.members.all()) == [member]
        assert events.filter(action=Action.GROUP_MEMBER_ADDED).count() == 1

        out = run_concurrently(
            lambda i, group=group, member=member: services.group_member_remove(
                actor=Actor.member(owner), group=group, membership=member
            ),
            10,
        )

        assert out.errors == {}
        assert not group.members.exists()
        assert events.filter(action=Action.GROUP_MEMBER_REMOVED).count() == 1


def test_renaming_two_groups_to_one_name_at_once_answers_the_clear_error() -> None:
    ws, owner = _workspace(members=1, seat_limit=None)
    groups = [GroupFactory(workspace=ws) for _ in range(6)]

    out = run_concurrently(
        lambda i: services.group_rename(actor=Actor.member(owner), group=groups[i], name="Team"),
        6,
    )

    assert out.unexpected(DomainError) == {}
    assert len(out.results) == 1 and _messages(out) == {errors.GROUP_EXISTS}


# --- The last owner ------------------------------------------------------------------------


def test_two_owners_demoting_each_other_at_once_leave_one_owner() -> None:
    for _ in range(5):
        ws, first = _workspace(members=1, seat_limit=None)
        second = MembershipFactory(workspace=ws, role=Role.OWNER)
        pairs = [(first, second), (second, first)]

        out = run_concurrently(
            lambda i, pairs=pairs: services.member_role_change(
                actor=Actor.member(pairs[i][0]), membership=pairs[i][1], role=Role.ADMIN
            ),
            2,
        )

        assert out.unexpected(DomainError) == {}
        assert Membership.objects.filter(workspace=ws, role=Role.OWNER).count() == 1
        assert len(out.results) == 1 and _messages(out) == {errors.LAST_OWNER}
