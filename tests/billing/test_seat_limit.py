"""The workspace's seat limit (``Workspace.seat_limit``, which every join path checks) is
the plan's: set when a subscription starts or the plan changes, filled for existing
workspaces by a data migration, and updated when staff edit the plan."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from accounts import errors as account_errors
from accounts import services as account_services
from accounts.actor import Actor
from accounts.models import Workspace
from billing import services
from billing.models import Plan
from core.errors import DomainError
from tests.billing.conftest import add_members, plan, subscribe
from tests.factories import InvitationFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

fill = importlib.import_module("billing.migrations.0004_workspace_seat_limit").fill


def _limit(ws: Workspace) -> int | None:
    return Workspace.objects.get(pk=ws.pk).seat_limit


def test_starting_and_changing_plan_keep_the_workspace_seat_limit(workspace, owner) -> None:
    subscribe(workspace, "free")
    assert _limit(workspace) == 5
    services.subscription_change_plan(
        actor=Actor.member(owner), workspace=workspace, plan=plan("team")
    )
    assert _limit(workspace) == 150
    services.subscription_change_plan(
        actor=Actor.member(owner), workspace=workspace, plan=plan("api-payg")
    )
    assert _limit(workspace) is None


def test_a_refused_plan_change_keeps_the_old_limit(workspace, owner) -> None:
    subscribe(workspace, "team")
    add_members(workspace, 2)
    with pytest.raises(DomainError):
        services.subscription_change_plan(
            actor=Actor.member(owner), workspace=workspace, plan=plan("pro")
        )
    assert _limit(workspace) == 150


def test_after_moving_to_a_smaller_plan_invitations_stop_at_its_limit(workspace, owner) -> None:
    subscribe(workspace, "team")
    add_members(workspace, 4)
    services.subscription_change_plan(
        actor=Actor.member(owner), workspace=workspace, plan=plan("free")
    )
    inv = InvitationFactory(workspace=workspace, email="sixth@acme.test")
    with pytest.raises(DomainError) as exc:
        account_services.invitation_accept(
            actor=Actor.for_user(UserFactory(email="sixth@acme.test")), invitation=inv
        )
    assert exc.value.message == account_errors.no_seat_left(5)


def test_the_data_migration_fills_each_limit_from_the_current_plan(workspace) -> None:
    team = WorkspaceFactory()
    subscribe(team, "team")
    subscribe(workspace, "pro")
    bare = WorkspaceFactory()
    Workspace.objects.update(seat_limit=None)

    fill(apps, None)
    fill(apps, None)

    assert (_limit(workspace), _limit(team), _limit(bare)) == (1, 150, None)


def test_editing_a_plan_limit_reaches_the_workspaces_on_it(workspace) -> None:
    subscribe(workspace, "team")
    other = WorkspaceFactory()
    subscribe(other, "free")
    team = plan("team")
    Plan.objects.filter(pk=team.pk).update(seat_limit=20)
    team.refresh_from_db()

    assert services.plan_seat_limit_apply(team) == 1

    assert (_limit(workspace), _limit(other)) == (20, 5)


def test_plan_page_says_how_many_seats_are_left(owner_client, workspace, owner) -> None:
    subscribe(workspace, "free")
    add_members(workspace, 2)
    html = owner_client.get(reverse("ws:plan", args=[workspace.slug])).content.decode()
    assert "3 of 5 seats used, 2 left." in html
