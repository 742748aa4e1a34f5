"""The staff admin of agents (Plateforme terms 2): staff see what an agent is, never its
instructions; disabling asks for a reason and goes through the service, audited under the
staff user; blocked terms are added and removed through the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.actor import Actor
from accounts.models import AuditEvent, Membership, User, Workspace
from agents import names, services
from agents.access import Code, decide
from agents.audit import Action
from agents.models import Agent, BlockedTerm, GrantRole, Visibility
from core.errors import DomainError
from tests.agents.conftest import actor
from tests.factories import (
    AgentFactory,
    AgentGrantFactory,
    BlockedTermFactory,
    GroupFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

SECRET = "Quote the internal price list: GOLD-7731."


def changelist(model: str = "agent") -> str:
    return reverse(f"admin:agents_{model}_changelist")


def change(agent: Agent) -> str:
    return reverse("admin:agents_agent_change", args=[agent.pk])


def make(workspace: Workspace, name: str, **kw: Any) -> Agent:
    kw.setdefault("version__instructions", SECRET)
    return AgentFactory(workspace=workspace, name=name, **kw)


def act(client: Client, action: str, agents: list[Agent], **extra: str) -> Any:
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(a.pk) for a in agents], **extra}
    return client.post(changelist(), data)


# --- What staff see -----------------------------------------------------------------------


def test_the_changelist_shows_what_an_agent_is_and_never_its_instructions(
    staff_client, team
) -> None:
    a = make(team, "Triage", version__tools=["web_search", "code_interpreter"])
    AgentGrantFactory(agent=a)
    AgentGrantFactory(agent=a, role=GrantRole.EDITOR)
    a.visibility = Visibility.RESTRICTED
    a.save(update_fields=["visibility"])
    response = staff_client.get(changelist())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Triage" in html and "Acme" in html
    assert a.current is not None and a.current.base_model is not None
    assert a.current.base_model.model_id in html
    assert "Web search, Code interpreter" in html
    assert "Chosen members and groups · 2 grants" in html
    assert "In use" in html
    assert SECRET not in html


def test_the_change_page_is_read_only_and_never_shows_instructions(
    staff_client, team, model
) -> None:
    a = make(team, "Triage", version__base_model=model)
    services.agent_update(
        actor=actor(a.created_by),
        agent_id=a.pk,
        name="Triage",
        description="Sorts tickets",
        config=_config_with(a, "Second secret."),
    )
    response = staff_client.get(change(a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sorts tickets" in html and "Whole workspace · 0 grants" in html
    assert SECRET not in html and "Second secret." not in html
    assert "instructions" not in html.lower()
    assert 'name="_save"' not in html and 'name="name"' not in html
    # Nothing is saved from the page.
    assert staff_client.post(change(a), {"name": "Renamed"}).status_code == 403
    a.refresh_from_db()
    assert a.name == "Triage"


def _config_with(a: Agent, instructions: str) -> services.Config:
    from dataclasses import replace  # noqa: PLC0415

    assert a.current is not None
    return replace(services.Config.of(a.current), instructions=instructions)


def test_the_changelist_never_loads_instructions(staff_client, team) -> None:
    make(team, "Triage")
    staff_client.get(changelist())
    with CaptureQueriesContext(connection) as ctx:
        assert staff_client.get(changelist()).status_code == 200
    agent_queries = [q["sql"] for q in ctx.captured_queries if "agents_agentversion" in q["sql"]]
    assert agent_queries
    assert not any("instructions" in sql for sql in agent_queries)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "acme"}, {"Triage", "Helper", "Off"}),
        ({"q": "globex"}, {"Other"}),
        ({"q": "tri"}, {"Triage"}),
        ({"disabled": "yes"}, {"Off"}),
        ({"disabled": "no"}, {"Triage", "Helper", "Other"}),
        ({"visibility__exact": "restricted"}, {"Helper"}),
        ({"name_approved_by_staff__exact": "1"}, {"Other"}),
    ],
)
def test_search_and_filters(staff_client, team, params, expected) -> None:
    make(team, "Triage")
    make(team, "Helper", visibility=Visibility.RESTRICTED)
    make(team, "Off", disabled_at=timezone.now(), disabled_reason="Review")
    make(WorkspaceFactory(name="Globex", slug="globex"), "Other", name_approved_by_staff=True)
    response = staff_client.get(changelist(), params)
    assert response.status_code == 200
    shown = {a.name for a in response.context["cl"].result_list}
    assert shown == expected


def _queries(client: Client) -> int:
    client.get(changelist())
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(changelist()).status_code == 200
    return len(ctx.captured_queries)


def test_the_changelist_query_count_does_not_grow(staff_client, team) -> None:
    def grow(n: int, tag: str) -> None:
        for i in range(n):
            a = make(team, f"{tag} {i}", version__tools=["web_search"])
            AgentGrantFactory(agent=a)
            a.grants.create(group=GroupFactory(workspace=team), role=GrantRole.VIEWER)

    grow(3, "a")
    small = _queries(staff_client)
    grow(20, "b")
    assert _queries(staff_client) == small


def test_no_add_no_bulk_delete(staff_client, team) -> None:
    make(team, "Triage")
    assert staff_client.get(reverse("admin:agents_agent_add")).status_code == 403
    form = staff_client.get(changelist()).context["action_form"]
    choices = [value for value, _ in form.fields["action"].choices]
    assert "delete_selected" not in choices
    assert {"disable", "enable", "approve_name"} <= set(choices)


def test_members_cannot_open_it(owner_client) -> None:
    response = owner_client.get(changelist())
    assert response.status_code == 302 and "login" in response["Location"]


# --- Disabling and enabling ---------------------------------------------------------------


def test_disable_asks_for_a_reason_first(staff_client, team) -> None:
    a = make(team, "Triage")
    response = act(staff_client, "disable", [a])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Reason" in html and "Triage" in html and SECRET not in html
    a.refresh_from_db()
    assert not a.is_disabled


@pytest.mark.parametrize("reason", ["", "   "])
def test_disable_without_a_reason_changes_nothing(staff_client, team, reason) -> None:
    a = make(team, "Triage")
    response = act(staff_client, "disable", [a], apply="1", reason=reason)
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == [services.REASON_NEEDED]
    a.refresh_from_db()
    assert not a.is_disabled
    assert not AuditEvent.objects.filter(action=Action.AGENT_DISABLED).exists()


def test_a_reason_the_service_refuses_is_reported(staff_client, team) -> None:
    a = make(team, "Triage")
    response = act(staff_client, "disable", [a], apply="1", reason="bad\x07bell")
    assert response.status_code == 302
    a.refresh_from_db()
    assert not a.is_disabled
    shown = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
    assert f"Triage: {services.TEXT_INVISIBLE}" in shown


def test_disable_and_enable_are_audited_under_the_staff_user(
    staff_client, staff: User, team, member: Membership
) -> None:
    a = make(team, "Triage")
    other = make(team, "Helper")
    response = act(
        staff_client, "disable", [a, other], apply="1", reason="Impersonates a <b>bank</b>"
    )
    assert response.status_code == 302
    for agent in (a, other):
        agent.refresh_from_db()
        assert agent.is_disabled and agent.disabled_reason == "Impersonates a <b>bank</b>"
    event = AuditEvent.objects.get(action=Action.AGENT_DISABLED, target_id=str(a.pk))
    assert event.actor == staff and event.after == {"reason": "Impersonates a <b>bank</b>"}
    assert event.workspace_id == team.pk
    # The workspace's members may no longer use it, and are told why.
    access = decide(member, a)
    assert not access.use and access.code == Code.DISABLED
    assert "Impersonates a <b>bank</b>" in access.reason

    # Disabling again reports it, and changes nothing.
    response = act(staff_client, "disable", [a], apply="1", reason="Again")
    a.refresh_from_db()
    assert a.disabled_reason == "Impersonates a <b>bank</b>"
    assert AuditEvent.objects.filter(action=Action.AGENT_DISABLED).count() == 2

    assert act(staff_client, "enable", [a]).status_code == 302
    a.refresh_from_db()
    other.refresh_from_db()
    assert not a.is_disabled and other.is_disabled
    event = AuditEvent.objects.get(action=Action.AGENT_ENABLED)
    assert event.actor == staff and event.before == {"reason": "Impersonates a <b>bank</b>"}
    assert decide(member, a).use


def test_approving_a_name_lifts_the_impersonation_rule_for_that_agent(
    staff_client, staff, team
) -> None:
    a = make(team, "Mistral helper")
    assert act(staff_client, "approve_name", [a]).status_code == 302
    a.refresh_from_db()
    assert a.name_approved_by_staff
    event = AuditEvent.objects.get(action=Action.AGENT_NAME_APPROVED)
    assert event.actor == staff


# --- Blocked terms --------------------------------------------------------------------------


def test_staff_add_a_term_and_an_agent_name_containing_it_is_refused(
    staff_client, staff, team, member, config
) -> None:
    response = staff_client.post(
        reverse("admin:agents_blockedterm_add"), {"term": "  Crypto  Pump ", "note": "Scams"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    term = BlockedTerm.objects.get()
    assert (term.term, term.note) == ("Crypto Pump", "Scams")
    event = AuditEvent.objects.get(action=Action.BLOCKED_TERM_ADDED)
    assert event.actor == staff and event.after == {"term": "Crypto Pump"}

    for name in ("Crypto Pump Bot", "crypto-pump", "Сrypto Pump"):  # the last: a Cyrillic С
        with pytest.raises(DomainError) as exc:
            services.agent_create(actor=actor(member), workspace=team, name=name, config=config)
        assert exc.value.message == names.NAME_BLOCKED.format(term="Crypto Pump"), name
    assert not Agent.objects.exists()
    assert services.agent_create(
        actor=actor(member), workspace=team, name="Crypto news", config=config
    )


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ("", None),
        ("   ", None),
        ("bad\x00term", None),
        ("bad\u200bterm", names.NAME_INVISIBLE),
        ("x" * 65, None),
        ("SCAM", services.TERM_TAKEN),
    ],
)
def test_bad_terms_are_refused_beside_the_field(staff_client, term, message) -> None:
    BlockedTermFactory(term="scam")
    response = staff_client.post(reverse("admin:agents_blockedterm_add"), {"term": term})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["term"]
    assert errors
    if message is not None:
        assert errors == [message]
    assert BlockedTerm.objects.count() == 1
    assert not AuditEvent.objects.filter(action=Action.BLOCKED_TERM_ADDED).exists()


def test_a_term_is_viewed_not_edited_and_removed_through_the_service(
    staff_client, staff, team, member, config
) -> None:
    row = BlockedTermFactory(term="scam")
    page = staff_client.get(reverse("admin:agents_blockedterm_change", args=[row.pk]))
    assert page.status_code == 200 and 'name="term"' not in page.content.decode()
    response = staff_client.post(
        changelist("blockedterm"), {"action": "remove_terms", ACTION_CHECKBOX_NAME: [row.pk]}
    )
    assert response.status_code == 302
    assert not BlockedTerm.objects.exists()
    event = AuditEvent.objects.get(action=Action.BLOCKED_TERM_REMOVED)
    assert event.actor == staff and event.before == {"term": "scam"}
    assert services.agent_create(
        actor=actor(member), workspace=team, name="Scam finder", config=config
    )


def test_a_term_deleted_from_its_page_goes_through_the_service(staff_client, staff) -> None:
    row = BlockedTermFactory(term="scam")
    url = reverse("admin:agents_blockedterm_delete", args=[row.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 302
    assert not BlockedTerm.objects.exists()
    assert AuditEvent.objects.get(action=Action.BLOCKED_TERM_REMOVED).actor == staff


def test_staff_actor_is_required_by_the_services(member) -> None:
    from core.errors import NotAllowed  # noqa: PLC0415

    with pytest.raises(NotAllowed):
        services.blocked_term_add(actor=Actor.member(member), term="scam")
