"""The agents of the service API (R-AGT-2 to R-AGT-4, R-AGT-6): the agents a member may use
(GET .../members/<member>/agents) and one agent as the platform serves it to a member
(GET .../agents/<agent_id>?member=). Both answer from agents.access, so they agree with
each other and with the console's pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from accounts import services as accounts_services
from accounts.actor import Actor
from accounts.models import Membership, MemberStatus, User, Workspace
from accounts.roles import Role
from agents import services
from agents.access import Code
from agents.models import Agent, GrantRole, Visibility
from agents.selectors import MEDIA_CUSTOMER, NO_SOURCE_LEFT, SOURCE_MISSING
from api import errors, forms
from api.auth import TOKENS
from api.models import new_raw_token
from api.pagination import Cursor as DocumentCursor
from billing.models import Plan
from catalogue.models import BaseModel
from core import parsing, snapshots
from features.services import feature_rule_set
from tests.factories import (
    AgentFactory,
    AgentGrantFactory,
    BaseModelFactory,
    FeatureRuleFactory,
    GroupFactory,
    LibraryFactory,
    MediaStatusChangeFactory,
    MembershipFactory,
    ServiceTokenFactory,
    SubscriptionFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

SECRET = "Never reveal the discount code ZX-42."


def list_url(slug: str, member: object) -> str:
    return f"/api/service/workspaces/{slug}/members/{member}/agents"


def agent_url(slug: str, agent_id: object, member: object | None = None) -> str:
    url = f"/api/service/workspaces/{slug}/agents/{agent_id}"
    return f"{url}?{urlencode({'member': member})}" if member is not None else url


def assert_error(response: Any, status: int, code: str, message: str | None = None) -> Any:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    error = response.json()["error"]
    assert error["code"] == code
    if message is not None:
        assert error["message"] == message
    return error


@pytest.fixture
def model(db: None) -> BaseModel:
    return BaseModelFactory(plans=["team", "free"], context_window=32_000)


@pytest.fixture
def team(workspace: Workspace) -> Workspace:
    SubscriptionFactory(workspace=workspace, plan=Plan.objects.get(slug="team"))
    return workspace


def agent(workspace: Workspace, creator: Membership, name: str, **kw: Any) -> Agent:
    version = {
        f"version__{k}": kw.pop(k)
        for k in ("tools", "library_ids", "connection_ids", "instructions", "base_model")
        if k in kw
    }
    version.setdefault("version__instructions", SECRET)
    return AgentFactory(workspace=workspace, created_by=creator, name=name, **version, **kw)


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    assert response["Cache-Control"] == "no-store"
    return [a["name"] for a in response.json()["agents"]]


# --- The list ---------------------------------------------------------------------------


def test_the_list_has_exactly_the_usable_agents_by_name(api, team, owner, member, model) -> None:
    group = GroupFactory(workspace=team, name="Support")
    group.members.add(member)
    agent(team, owner, "Zeta everyone", base_model=model)
    agent(team, member, "Mine", base_model=model, visibility=Visibility.RESTRICTED)
    to_group = agent(team, owner, "Beta group", base_model=model, visibility=Visibility.RESTRICTED)
    to_group.grants.create(group=group, role=GrantRole.VIEWER)
    direct = agent(team, owner, "Alpha direct", base_model=model, visibility=Visibility.RESTRICTED)
    AgentGrantFactory(agent=direct, membership=member)
    agent(team, owner, "Hidden", base_model=model, visibility=Visibility.RESTRICTED)
    agent(
        team, owner, "Disabled", base_model=model, disabled_at=timezone.now(), disabled_reason="x"
    )
    elsewhere = WorkspaceFactory(slug="globex")
    agent(elsewhere, MembershipFactory(workspace=elsewhere), "Foreign", base_model=model)

    listed = names(api.get(list_url("acme", member.user_id)))
    assert listed == ["Alpha direct", "Beta group", "Mine", "Zeta everyone"]
    # By email too, and an admin uses every agent that is not disabled.
    assert names(api.get(list_url("acme", member.user.email.upper()))) == listed
    assert names(api.get(list_url("acme", owner.user_id))) == [
        "Alpha direct",
        "Beta group",
        "Hidden",
        "Mine",
        "Zeta everyone",
    ]


def test_the_list_is_compact(api, team, owner, member, model) -> None:
    a = agent(team, owner, "Triage", base_model=model, tools=["web_search", "code_interpreter"])
    body = api.get(list_url("acme", member.user_id)).json()
    assert body == {
        "agents": [
            {
                "id": a.pk,
                "name": "Triage",
                "model": model.model_id,
                "tools": ["web_search", "code_interpreter"],
                "updated_at": a.updated_at.isoformat(timespec="milliseconds").replace(
                    "+00:00", "Z"
                ),
            }
        ],
        "next_cursor": None,
    }
    assert SECRET not in str(body)


def test_the_list_is_read_a_page_at_a_time(api, team, owner, member, model) -> None:
    for i in range(7):
        agent(team, owner, f"Agent {i}", base_model=model)
    # Names that sort together: the id breaks the tie, and a page may end between them.
    twins = [agent(team, owner, f"Twin{c}", base_model=model) for c in "ab"]
    every = names(api.get(list_url("acme", member.user_id)))
    assert len(every) == 9
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = api.get(list_url("acme", member.user_id), params).json()
        seen += [a["name"] for a in body["agents"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == every and pages == 5
    assert [t.name for t in twins] == every[-2:]
    # A page of the default size holds them all, and says there is no other.
    assert api.get(list_url("acme", member.user_id)).json()["next_cursor"] is None


def test_a_page_holds_50_agents_unless_asked_otherwise(api, team, owner, member, model):
    for i in range(forms.AGENT_LIMIT_DEFAULT + 1):
        agent(team, owner, f"Agent {i:03}", base_model=model)
    first = api.get(list_url("acme", member.user_id)).json()
    assert forms.AGENT_LIMIT_DEFAULT == 50 and len(first["agents"]) == 50
    rest = api.get(list_url("acme", member.user_id), {"cursor": first["next_cursor"]}).json()
    assert [a["name"] for a in rest["agents"]] == ["Agent 050"] and rest["next_cursor"] is None
    every = api.get(list_url("acme", member.user_id), {"limit": forms.AGENT_LIMIT_MAX}).json()
    assert len(every["agents"]) == 51 and every["next_cursor"] is None


def test_a_cursor_the_api_did_not_give_and_a_bad_limit_are_400s(
    api, team, owner, member, model
) -> None:
    for i in range(3):
        agent(team, owner, f"Agent {i}", base_model=model)
    cursor = api.get(list_url("acme", member.user_id), {"limit": 1}).json()["next_cursor"]
    changed = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for params, bad in (
        ({"cursor": changed}, {"cursor": forms.CURSOR_INVALID}),
        ({"cursor": "x" * 2000}, {"cursor": forms.CURSOR_INVALID}),
        ({"cursor": "a\x00b"}, {"cursor": forms.CURSOR_INVALID}),
        ({"limit": "0"}, {"limit": forms.AGENT_LIMIT_INVALID}),
        ({"limit": "201"}, {"limit": forms.AGENT_LIMIT_INVALID}),
        ({"limit": "1e2"}, {"limit": forms.AGENT_LIMIT_INVALID}),
        (
            {"limit": "-1", "cursor": "abc"},
            {"limit": forms.AGENT_LIMIT_INVALID, "cursor": forms.CURSOR_INVALID},
        ),
    ):
        error = assert_error(
            api.get(list_url("acme", member.user_id), params),
            400,
            errors.INVALID_REQUEST,
            errors.FIELDS_INVALID,
        )
        assert error["fields"] == bad, params
    # A cursor of the document list is not one of this list (it is signed for that one).
    documents = DocumentCursor(timezone.now(), 1).encode()
    error = assert_error(
        api.get(list_url("acme", member.user_id), {"cursor": documents}),
        400,
        errors.INVALID_REQUEST,
    )
    assert error["fields"] == {"cursor": forms.CURSOR_INVALID}
    assert api.get(list_url("acme", member.user_id), {"limit": "200"}).status_code == 200


def test_the_list_leaves_out_the_tools_the_member_may_not_use(api, team, owner, member, model):
    a = agent(team, owner, "Triage", base_model=model, tools=["web_search", "code_interpreter"])
    FeatureRuleFactory(membership=member, feature="web_search")
    [row] = api.get(list_url("acme", member.user_id)).json()["agents"]
    assert row["tools"] == ["code_interpreter"]
    # The owner keeps web search.
    [row] = api.get(list_url("acme", owner.user_id)).json()["agents"]
    assert row["tools"] == ["web_search", "code_interpreter"]
    # The fetch agrees, and says why.
    body = api.get(agent_url("acme", a.pk, member.user_id)).json()
    assert body["tools"] == ["code_interpreter"]
    assert body["dropped"] == [
        {"tool": "web_search", "code": "member_rule", "reason": body["dropped"][0]["reason"]}
    ]
    assert body["dropped"][0]["reason"].startswith("Web search: ")


def test_a_media_customers_agents_are_served_without_verified_news(
    api, team, owner, member, model
) -> None:
    a = agent(team, owner, "Desk", base_model=model, tools=["news", "web_search"])
    MediaStatusChangeFactory(workspace=team, is_media_customer=True)
    [row] = api.get(list_url("acme", member.user_id)).json()["agents"]
    assert row["tools"] == ["web_search"]
    body = api.get(agent_url("acme", a.pk, member.user_id)).json()
    assert body["tools"] == ["web_search"]
    assert [(d["tool"], d["code"]) for d in body["dropped"]] == [("news", MEDIA_CUSTOMER)]


def test_a_member_who_may_not_use_agents_lists_none(api, team, owner, member, model) -> None:
    agent(team, owner, "Triage", base_model=model)
    FeatureRuleFactory(membership=member, feature="agents")
    assert names(api.get(list_url("acme", member.user_id))) == []
    member.status = MemberStatus.DEACTIVATED
    member.save(update_fields=["status"])
    FeatureRuleFactory(membership=owner, feature="web_search")
    assert names(api.get(list_url("acme", member.user_id))) == []


def test_without_sharing_in_the_plan_only_the_creator_lists_it(
    api, workspace, owner, member, model
) -> None:
    SubscriptionFactory(workspace=workspace, plan=Plan.objects.get(slug="free"))
    agent(workspace, owner, "Owner's", base_model=model)
    agent(workspace, member, "Member's", base_model=model)
    assert names(api.get(list_url("acme", member.user_id))) == ["Member's"]
    assert names(api.get(list_url("acme", owner.user_id))) == ["Owner's"]


def test_the_list_and_the_fetch_agree_on_every_agent(api, team, owner, member, model) -> None:
    library = LibraryFactory(workspace=team)
    gone = LibraryFactory(workspace=team)
    agent(team, owner, "Plain", base_model=model)
    agent(
        team,
        owner,
        "Search",
        base_model=model,
        tools=["document_search", "web_search"],
        library_ids=[library.pk, gone.pk],
    )
    agent(
        team, owner, "Only gone", base_model=model, tools=["document_search"], library_ids=[gone.pk]
    )
    gone_id = gone.pk
    gone.delete()
    FeatureRuleFactory(membership=member, feature="web_search")
    for who in (member, owner):
        rows = api.get(list_url("acme", who.user_id)).json()["agents"]
        assert len(rows) == 3
        for row in rows:
            body = api.get(agent_url("acme", row["id"], who.user_id)).json()
            assert (body["tools"], body["model"], body["name"]) == (
                row["tools"],
                row["model"],
                row["name"],
            )
    body = api.get(agent_url("acme", Agent.objects.get(name="Search").pk, member.user_id)).json()
    assert body["document_search"] == {"library_ids": [library.pk], "connection_ids": []}
    codes = {d["tool"]: d["code"] for d in body["dropped"]}
    assert codes == {f"document_search:{gone_id}": SOURCE_MISSING, "web_search": "member_rule"}
    body = api.get(agent_url("acme", Agent.objects.get(name="Only gone").pk, owner.user_id)).json()
    assert body["tools"] == [] and body["document_search"]["library_ids"] == []
    assert {d["code"] for d in body["dropped"]} == {SOURCE_MISSING, NO_SOURCE_LEFT}


def _grow(workspace: Workspace, owner: Membership, member: Membership, n: int, tag: str) -> None:
    library = LibraryFactory(workspace=workspace)
    for i in range(n):
        group = GroupFactory(workspace=workspace, name=f"{tag} group {i}")
        # Through the service, as the console does: it retires the decision facts' snapshot.
        accounts_services.group_member_add(
            actor=Actor.member(owner), group=group, membership=member
        )
        kind = i % 4
        a = agent(
            workspace,
            owner,
            f"{tag} agent {i}",
            visibility=Visibility.WORKSPACE if kind in (0, 1) else Visibility.RESTRICTED,
            tools=["web_search", "document_search"] if kind == 1 else ["code_interpreter"],
            library_ids=[library.pk] if kind == 1 else [],
        )
        if kind == 2:
            a.grants.create(group=group, role=GrantRole.VIEWER)
        elif kind == 3:
            AgentGrantFactory(agent=a, membership=member, role=GrantRole.EDITOR)


# The member; a page of agents; their grants (with the groups' names); the libraries the
# agents name. The token and the member's decision facts come from their snapshots, and
# the feature decisions for the tools from those facts. By email, the member's lookup is
# the same one query.
LIST_QUERIES = 4
# The member; the agent; its grants to the member and their groups; the library it names.
FETCH_QUERIES = 4
# Once the snapshot of the decision facts is cold, as after any change of them: the
# workspace's plan, rules and Media Customer state, the member's groups, rules and switches.
FACTS_QUERIES = 6
# Once the tokens' snapshot is cold, as after a token is saved: the token.
TOKEN_QUERIES = 1


@pytest.mark.parametrize("by", ["id", "email"])
def test_the_list_and_the_fetch_take_a_fixed_number_of_queries(
    api, team, owner, member, django_assert_num_queries, by: str
) -> None:
    ref = member.user_id if by == "id" else member.user.email
    interns = GroupFactory(workspace=team, name="Interns")
    interns.members.add(member)
    FeatureRuleFactory(group=interns, feature="web_search")
    for n, tag in ((4, "a"), (40, "b")):
        _grow(team, owner, member, n, tag)
        snapshots.moved(TOKENS)
        with django_assert_num_queries(TOKEN_QUERIES + LIST_QUERIES + FACTS_QUERIES):
            cold = api.get(list_url("acme", ref))
        with django_assert_num_queries(LIST_QUERIES) as listed:
            response = api.get(list_url("acme", ref))
        rows = response.json()["agents"]
        assert rows == cold.json()["agents"]
        # The list shows no instructions, and reads none.
        assert not any('"instructions"' in q["sql"] for q in listed.captured_queries)
        assert len(rows) == (4 if n == 4 else 44)
        # A later page of a smaller size (holding an agent that searches a library) takes
        # the same queries.
        first = api.get(list_url("acme", ref), {"limit": 1}).json()
        with django_assert_num_queries(LIST_QUERIES):
            later = api.get(list_url("acme", ref), {"limit": 3, "cursor": first["next_cursor"]})
        assert [r["id"] for r in later.json()["agents"]] == [r["id"] for r in rows[1:4]]
        assert any("document_search" in r["tools"] for r in rows)
        assert not any("web_search" in r["tools"] for r in rows)
        searching = Agent.objects.filter(name=f"{tag} agent 1").get()
        with django_assert_num_queries(FETCH_QUERIES):
            assert api.get(agent_url("acme", searching.pk, ref)).status_code == 200


# --- One agent ----------------------------------------------------------------------------


def test_the_fetch_is_the_current_version_as_served(api, team, owner, member, model) -> None:
    library = LibraryFactory(workspace=team)
    created = services.agent_create(
        actor=Actor.member(owner),
        workspace=team,
        name="Triage",
        config=services.Config(
            model=_ref(model),
            instructions="Old instructions.",
            tools=("document_search",),
            library_ids=(library.pk,),
        ),
    )
    updated = services.agent_update(
        actor=Actor.member(owner),
        agent_id=created.pk,
        name="Triage",
        description="",
        config=services.Config(
            model=_ref(model),
            instructions=SECRET,
            tools=("document_search", "web_search"),
            library_ids=(library.pk,),
            max_tokens=1000,
        ),
    )
    response = api.get(agent_url("acme", created.pk, member.user.email))
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body == {
        "agent_id": created.pk,
        "name": "Triage",
        "version": 2,
        "model": model.model_id,
        "instructions": SECRET,
        "tools": ["web_search", "document_search"],
        "document_search": {"library_ids": [library.pk], "connection_ids": []},
        "completion": {"temperature": "0.70", "max_tokens": 1000, "top_p": "1.00"},
        "dropped": [],
        "updated_at": body["updated_at"],
        "access": {"code": "whole_workspace", "reason": "Shared with the whole workspace."},
    }
    assert body["updated_at"].startswith(updated.updated_at.date().isoformat())


def _ref(model: BaseModel) -> Any:
    from catalogue.models import ModelRef  # noqa: PLC0415

    return ModelRef.of(model)


def test_a_member_refused_gets_403_with_the_reason_code(api, team, owner, member, model) -> None:
    hidden = agent(team, owner, "Hidden", base_model=model, visibility=Visibility.RESTRICTED)
    error = assert_error(
        api.get(agent_url("acme", hidden.pk, member.user_id)), 403, errors.AGENT_NOT_USABLE
    )
    assert error["reason_code"] == Code.NOT_SHARED == "not_shared"
    assert SECRET not in str(error)

    shared = agent(team, owner, "Shared", base_model=model)
    services.agent_disable(
        actor=Actor.staff(UserFactory(is_staff=True)), agent_id=shared.pk, reason="Impersonation"
    )
    error = assert_error(
        api.get(agent_url("acme", shared.pk, member.user_id)), 403, errors.AGENT_NOT_USABLE
    )
    assert error["reason_code"] == "disabled_by_staff"
    assert "Impersonation" in error["message"]
    # The creator too.
    error = assert_error(
        api.get(agent_url("acme", shared.pk, owner.user_id)), 403, errors.AGENT_NOT_USABLE
    )
    assert error["reason_code"] == "disabled_by_staff"

    usable = agent(team, owner, "Usable", base_model=model)
    # An admin turns agents off for the member (the decision facts' snapshot moves with it).
    feature_rule_set(
        actor=Actor.member(owner),
        workspace=team,
        feature="agents",
        effect="deny",
        membership=member,
    )
    error = assert_error(
        api.get(agent_url("acme", usable.pk, member.user_id)), 403, errors.AGENT_NOT_USABLE
    )
    assert error["reason_code"] == "feature_denied"

    member.status = MemberStatus.DEACTIVATED
    member.save(update_fields=["status"])
    error = assert_error(
        api.get(agent_url("acme", usable.pk, member.user_id)), 403, errors.AGENT_NOT_USABLE
    )
    assert error["reason_code"] == "membership_inactive"


def test_without_sharing_in_the_plan_the_fetch_says_so(
    api, workspace, owner, admin_member, member, model
) -> None:
    SubscriptionFactory(workspace=workspace, plan=Plan.objects.get(slug="free"))
    mine = agent(workspace, member, "Mine", base_model=model)
    assert api.get(agent_url("acme", mine.pk, member.user_id)).json()["access"]["code"] == (
        "creator"
    )
    for who in (owner, admin_member):
        error = assert_error(
            api.get(agent_url("acme", mine.pk, who.user_id)), 403, errors.AGENT_NOT_USABLE
        )
        assert error["reason_code"] == "plan_forbids_sharing"
    other = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    error = assert_error(
        api.get(agent_url("acme", mine.pk, other.user_id)), 403, errors.AGENT_NOT_USABLE
    )
    assert error["reason_code"] == "plan_forbids_sharing"


def test_unknown_foreign_and_deleted_agents_are_404(api, team, owner, member, model) -> None:
    elsewhere = WorkspaceFactory(slug="globex")
    foreign = agent(elsewhere, MembershipFactory(workspace=elsewhere), "Foreign", base_model=model)
    mine = agent(team, owner, "Mine", base_model=model)
    assert api.get(agent_url("acme", mine.pk, member.user_id)).status_code == 200
    services.agent_delete(actor=Actor.member(owner), agent_id=mine.pk)
    for agent_id in (foreign.pk, mine.pk, 987_654_321, parsing.DB_ID_MAX):
        assert_error(
            api.get(agent_url("acme", agent_id, member.user_id)),
            404,
            errors.AGENT_NOT_FOUND,
            errors.AGENT_UNKNOWN.format(slug="acme", agent_id=agent_id),
        )
    assert names(api.get(list_url("acme", member.user_id))) == []


def test_an_agent_without_a_version_is_404(api, team, owner, member) -> None:
    bare = AgentFactory(workspace=team, created_by=owner, version=False)
    assert_error(api.get(agent_url("acme", bare.pk, member.user_id)), 404, errors.AGENT_NOT_FOUND)


# --- Bad input and tokens -----------------------------------------------------------------


def test_the_fetch_needs_a_member(api, team, owner, model) -> None:
    a = agent(team, owner, "Mine", base_model=model)
    for url in (agent_url("acme", a.pk), agent_url("acme", a.pk, "")):
        error = assert_error(api.get(url), 400, errors.INVALID_REQUEST, errors.FIELDS_INVALID)
        assert error["fields"] == {"member": forms.MISSING}


@pytest.mark.parametrize(
    "url",
    [
        agent_url("acme", "9" * 30, "member@acme.test"),
        agent_url("acme", 2**63, "member@acme.test"),
        agent_url("acme", "0x1", "member@acme.test"),
        agent_url("ac%00me", 1, "member@acme.test"),
        list_url("ac%00me", "member@acme.test"),
        list_url("acme", "a%00b"),
    ],
)
def test_values_no_row_can_hold_are_404s(api, team, owner, member, url: str) -> None:
    assert_error(api.get(url), 404, errors.NOT_FOUND)


def test_members_and_workspaces_that_do_not_exist_are_404s(api, team, owner, member, model):
    a = agent(team, owner, "Mine", base_model=model)
    for response, code in (
        (api.get(list_url("initech", member.user_id)), errors.WORKSPACE_NOT_FOUND),
        (api.get(agent_url("initech", a.pk, member.user_id)), errors.WORKSPACE_NOT_FOUND),
        (api.get(list_url("acme", "ghost@acme.test")), errors.MEMBER_NOT_FOUND),
        (api.get(agent_url("acme", a.pk, "ghost@acme.test")), errors.MEMBER_NOT_FOUND),
        (api.get(list_url("acme", 2**64)), errors.MEMBER_NOT_FOUND),
        (api.get(agent_url("acme", a.pk, "9" * 30)), errors.MEMBER_NOT_FOUND),
        (api.get(agent_url("acme", a.pk, "x\x00y")), errors.MEMBER_NOT_FOUND),
        (api.get(list_url("acme", "%ED%A0%80")), errors.MEMBER_NOT_FOUND),
    ):
        assert_error(response, 404, code)
    # A member of another workspace is no member of this one.
    other = MembershipFactory(workspace=WorkspaceFactory(slug="globex"))
    assert_error(api.get(agent_url("acme", a.pk, other.user_id)), 404, errors.MEMBER_NOT_FOUND)


def test_the_token_is_checked(team, owner, member, model) -> None:
    a = agent(team, owner, "Mine", base_model=model)
    revoked = new_raw_token()
    ServiceTokenFactory(name="Old", raw=revoked, revoked_at=timezone.now())
    for client, message in (
        (Client(), errors.TOKEN_MISSING),
        (Client(HTTP_AUTHORIZATION=f"Bearer {revoked}"), errors.TOKEN_REVOKED),
        (Client(HTTP_AUTHORIZATION="Bearer svc_guess"), errors.TOKEN_INVALID),
        (Client(HTTP_AUTHORIZATION="Basic abc"), errors.TOKEN_BAD_SCHEME),
    ):
        for url in (list_url("acme", member.user_id), agent_url("acme", a.pk, member.user_id)):
            error = assert_error(client.get(url), 401, errors.INVALID_TOKEN, message)
            assert SECRET not in str(error)


def test_only_get_is_allowed(api, team, owner, member, model) -> None:
    a = agent(team, owner, "Mine", base_model=model)
    for url in (list_url("acme", member.user_id), agent_url("acme", a.pk, member.user_id)):
        for method in ("post", "put", "delete", "patch"):
            response = getattr(api, method)(url)
            assert_error(response, 405, errors.METHOD_NOT_ALLOWED)
            assert response["Allow"] == "GET"


def test_users_outside_are_found_by_id_only_as_members(api, team, owner, model) -> None:
    outsider: User = UserFactory(email="outsider@acme.test")
    a = agent(team, owner, "Mine", base_model=model)
    assert_error(api.get(agent_url("acme", a.pk, outsider.pk)), 404, errors.MEMBER_NOT_FOUND)
