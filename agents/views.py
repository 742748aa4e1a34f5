"""The agents' pages (R-AGT-1 to R-AGT-6), under /w/<slug>/agents/ (names "ws:agents",
"ws:agent", ...).

Every agent a URL names comes through ``agents.access.access_agent``: an agent the member
may not use answers 404, as a missing one or another workspace's does; editing needs
``edit`` and sharing, restoring and deleting need ``manage`` (404 too, so a URL never tells
which). The services check again. HTMX requests get the section they act on back plus a
toast; plain form posts redirect (post, redirect, get).
"""

from __future__ import annotations

import copy
import difflib
import unicodedata
from dataclasses import dataclass
from html import escape
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from accounts.access import WorkspaceRequest, workspace_view
from accounts.roles import Perm, Role
from accounts.views import confirm
from accounts.views import share as share_dialog
from accounts.views.share import SharePicker
from billing.selectors import models_for_workspace
from catalogue.selectors import model_options
from core import htmx, registry
from core.errors import DomainError
from core.parsing import parse_id
from features.decisions import Decision, decide_many, load_workspace_facts

from . import selectors, services, sources, tools
from .access import (
    Access,
    MemberFacts,
    access_agent,
    decide_for_agents,
    load_member_snapshot,
)
from .forms import (
    AgentForm,
    AgentSettingsForm,
    ListForm,
    SearchForm,
    ShareForm,
    VisibilityForm,
)
from .models import Agent, AgentVersion, GrantRole, Visibility

INDEX = "agents/agents.html"
BUILDER = "agents/builder.html"
DETAIL = "agents/agent.html"
NAV = "agents"
PAGE_SIZE = 25
WHO_PAGE_SIZE = 25
# How many versions the history shows, and how many matches the share dialog lists.
HISTORY_SHOWN = 20
PICKER_SIZE = 10

TABS = {"usable": "Usable by me", "mine": "Created by me", "all": "All"}


def _url(request: WorkspaceRequest, name: str, *args: object) -> str:
    return reverse(f"ws:{name}", args=[request.workspace.slug, *args])


def _admin(request: WorkspaceRequest) -> bool:
    return request.membership.role >= Role.ADMIN


# The services' field names where the builder's differ.
FORM_FIELDS = {"library_ids": "libraries", "connection_ids": "connections"}


def _form_error(form: Any, exc: DomainError) -> None:
    field = FORM_FIELDS.get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


# --- The list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotListed:
    """An agent of this workspace named exactly as searched that the list leaves out, and
    the access decision's reason."""

    name: str
    reason: str


def _not_listed(request: WorkspaceRequest, m: MemberFacts, q: str, shown: set[int]) -> Any:
    """Agents of the member's own workspace whose name is exactly ``q`` (case aside) that
    the "usable by me" list leaves out, with why: one query for the agents, one for their
    grants. Only this workspace is searched, and only an exact name, so nothing of another
    workspace and no list of names is revealed."""
    found = [a for a in selectors.named(request.workspace.pk, q, limit=5) if a.pk not in shown]
    decided = decide_for_agents(m, found)
    out = []
    for a in found:
        access = decided[a.pk]
        if access.use:
            # Usable yet filtered out (by model or tool), or without a version.
            reason = "It does not match the model or tool you filtered by."
        else:
            reason = access.reason
        out.append(NotListed(a.name, reason))
    return out


def _index_context(request: WorkspaceRequest) -> dict[str, Any]:
    form = ListForm(request.GET)
    admin = _admin(request)
    tab = form.value("tab")
    if tab not in TABS or (tab == "all" and not admin):
        tab = "usable"
    q, model, tool = form.value("q"), form.value("model"), form.value("tool")
    # The list is the agents' busiest page: the decision facts come from their snapshot.
    facts, m = load_member_snapshot(request.membership)
    after = selectors.Cursor.parse(request.GET.get("after"))
    before = selectors.Cursor.parse(request.GET.get("before")) if after is None else None
    if tab == "mine":
        kind: selectors.ListKind | None = selectors.ListKind.CREATED_BY
    elif tab == "all":
        kind = selectors.ListKind.WORKSPACE
    else:
        kind = selectors.usable_list(m)
    if kind is None:
        page = selectors.AgentPage([], None, None)
    elif q or model or tool:
        qs = selectors.list_queryset(kind, request.membership)
        filtered = selectors.search(qs, q, model=model, tool=tool)
        page = selectors.agent_page(filtered, size=PAGE_SIZE, after=after, before=before)
    else:
        page = selectors.list_page(
            kind, request.membership, size=PAGE_SIZE, after=after, before=before
        )
    shown = page.agents
    decided = decide_for_agents(m, shown)
    rows = _list_rows(request.workspace.slug, shown, decided)
    not_listed = []
    if q and tab == "usable" and not any(a.name.casefold() == q.casefold() for a in shown):
        not_listed = _not_listed(request, m, q, {a.pk for a in shown})
    plan = facts.entitlements.plan.slug if facts.entitlements is not None else None
    return {
        "page_title": "Agents",
        "nav": NAV,
        "form": form,
        "tab": tab,
        "tabs": [(k, v) for k, v in TABS.items() if k != "all" or admin],
        "q": q,
        "model": model,
        "tool": tool,
        "models": list(
            model_options(plan)
            if plan is not None
            else models_for_workspace(request.workspace).only("model_id", "name")
        ),
        "tool_choices": tools.CHOICES,
        "page": page,
        "rows": rows,
        "rows_html": rows_html(rows),
        "filtering": bool(q or model or tool),
        "not_listed": not_listed,
        "feature": m.feature,
    }


def _tools_of(agent: Agent) -> list[str]:
    return tools.ordered(agent.current.tools) if agent.current is not None else []


@dataclass(slots=True)
class ListRow:
    """What the list shows of an agent, made here rather than in the template: the list is
    the agents' busiest page, and a template's tags and includes cost many times the
    same work in Python."""

    pk: int
    name: str
    # None where the member may neither use nor manage it (the name is not a link).
    url: str | None
    description: str
    disabled: bool
    model: str
    tools: str
    shared: str
    # "manage", "use", or "" with the reason in ``reason``.
    access: str
    reason: str


# What the list shows of a description: its first characters.
DESCRIPTION_SHOWN = 120
SHARED_LABELS = dict(Visibility.choices)


def _shown_description(text: str) -> str:
    # Truncator counts what a reader sees (combining marks aside) in the NFC form: a text
    # no longer than the limit in code points is never cut, and needs no count.
    if len(text) > DESCRIPTION_SHOWN:
        return Truncator(text).chars(DESCRIPTION_SHOWN)
    return unicodedata.normalize("NFC", text)


def _list_rows(slug: str, agents: list[Agent], decided: dict[int, Access]) -> list[ListRow]:
    # An agent's page is under the list's URL (agents/urls.py): one reverse for the page.
    base = reverse("ws:agents", args=[slug])
    rows = []
    for a in agents:
        access = decided[a.pk]
        labels = [tools.BY_KEY[k].label for k in _tools_of(a)]
        rows.append(
            ListRow(
                pk=a.pk,
                name=a.name,
                url=f"{base}{a.pk}/" if access.use or access.manage else None,
                description=_shown_description(a.description),
                disabled=a.is_disabled,
                model=a.current.model_ref.public_id if a.current is not None else "",
                tools=", ".join(labels) or "none",
                shared=SHARED_LABELS.get(a.visibility, a.visibility),
                access="manage" if access.manage else "use" if access.use else "",
                reason=access.reason,
            )
        )
    return rows


# The table's rows as HTML, written here rather than by a loop of the template: on the
# busiest page the template's tags cost, row by row, more than the page's queries. Every
# value goes through ``html.escape``, which is what Django's ``escape`` does (ampersands,
# quotes and angle brackets), without its wrapping of each value for lazy strings.
DISABLED_BADGE = ' <span class="badge badge-danger">Disabled</span>'
ACCESS_BADGES = {
    "manage": '<span class="badge badge-primary">Manage</span>',
    "use": '<span class="badge badge-neutral">Use</span>',
}


def _row_html(r: ListRow) -> str:
    name = f'<a href="{escape(r.url)}">{escape(r.name)}</a>' if r.url else escape(r.name)
    if r.description:
        name += f'<div class="help">{escape(r.description)}</div>'
    if r.disabled:
        name += DISABLED_BADGE
    access = ACCESS_BADGES.get(r.access) or f'<span class="muted">{escape(r.reason)}</span>'
    return (
        f'<tr id="agent-{r.pk}"><td>{name}</td><td>{escape(r.model)}</td>'
        f"<td>{escape(r.tools)}</td><td>{escape(r.shared)}</td><td>{access}</td></tr>\n"
    )


def rows_html(rows: list[ListRow]) -> SafeString:
    """The ``<tr>`` of each row, in order, every value escaped."""
    return mark_safe("".join(map(_row_html, rows)))  # noqa: S308


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_WORKSPACE)
def index(request: WorkspaceRequest) -> HttpResponse:
    template = htmx.template_for(request, INDEX, "agents-list")
    return TemplateResponse(request, template, _index_context(request))


# --- The builder ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolRow:
    key: str
    label: str
    usable: bool
    reason: str


def _tool_rows(decisions: dict[str, Decision], media: bool) -> list[ToolRow]:
    """Each tool with whether the editing member may use it, and why not."""
    rows = []
    for tool in tools.TOOLS:
        if tool.key == tools.NEWS and media:
            rows.append(ToolRow(tool.key, tool.label, False, services.MEDIA_NEWS))
            continue
        if tool.feature is not None:
            d = decisions[tool.feature]
            rows.append(ToolRow(tool.key, tool.label, d.allowed, "" if d.allowed else d.reason))
            continue
        # Document search: through libraries or connections, each a feature of its own.
        libs, conns = decisions[registry.LIBRARIES], decisions[registry.CONNECTORS]
        usable = libs.allowed or conns.allowed
        reason = "" if usable else f"Libraries: {libs.reason} Connections: {conns.reason}"
        rows.append(ToolRow(tool.key, tool.label, usable, reason))
    return rows


def _draft(request: WorkspaceRequest, agent: Agent | None, config: services.Config) -> Agent:
    """The agent as it would be after saving ``config``, unsaved, so that the preview is
    what ``served_config`` will answer the editor once it is saved."""
    draft = copy.copy(agent) if agent is not None else None
    if draft is None:
        draft = Agent(
            workspace=request.workspace, created_by=request.membership, name="", visibility=""
        )
    number = agent.current.number + 1 if agent is not None and agent.current is not None else 1
    draft.current = AgentVersion(agent=draft, number=number, **config.fields())
    return draft


def _builder_context(
    request: WorkspaceRequest,
    form: AgentForm,
    agent: Agent | None,
    draft: services.Config | None = None,
) -> dict[str, Any]:
    facts = load_workspace_facts(request.workspace)
    decisions = decide_many(request.workspace, [request.membership], tools.FEATURES, facts=facts)[
        request.membership.pk
    ]
    shown = _draft(request, agent, draft) if draft is not None else agent
    served = selectors.served_config(request.membership, shown).config if shown else None
    return {
        "page_title": f"Edit {agent.name}" if agent is not None else "New agent",
        "nav": NAV,
        "form": form,
        "agent": agent,
        "tool_rows": _tool_rows(decisions, facts.media.is_media_customer),
        "agents_feature": decisions[registry.AGENTS],
        "served": served,
        "previewing": draft is not None,
        "action_url": _url(request, "agent_edit", agent.pk)
        if agent is not None
        else _url(request, "agent_new"),
    }


def _agent_form(request: WorkspaceRequest, *args: Any, **kwargs: Any) -> AgentForm:
    ws = request.workspace
    return AgentForm(
        *args,
        models=list(models_for_workspace(ws)),
        libraries=sources.libraries(ws.pk),
        connections=sources.connections(ws.pk),
        **kwargs,
    )


def _initial(agent: Agent) -> dict[str, Any]:
    v = agent.current
    if v is None:
        return {"name": agent.name, "description": agent.description}
    return {
        "name": agent.name,
        "description": agent.description,
        "model": v.model_ref.public_id,
        "instructions": v.instructions,
        "tools": list(v.tools),
        "libraries": list(v.library_ids),
        "connections": list(v.connection_ids),
        "temperature": v.temperature,
        "top_p": v.top_p,
        "max_tokens": v.max_tokens,
    }


def _builder_answer(
    request: WorkspaceRequest,
    form: AgentForm,
    agent: Agent | None,
    draft: services.Config | None = None,
) -> HttpResponse:
    template = htmx.template_for(request, BUILDER, "agent-form")
    return TemplateResponse(request, template, _builder_context(request, form, agent, draft))


def _preview(request: WorkspaceRequest, form: AgentForm, agent: Agent | None) -> HttpResponse:
    """The builder again, unsaved, with the configuration the platform would receive; or
    the first problem beside its field."""
    try:
        draft = services.clean_config(request.workspace, form.config())
    except DomainError as exc:
        _form_error(form, exc)
        return _builder_answer(request, form, agent)
    return _builder_answer(request, form, agent, draft)


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def new(request: WorkspaceRequest) -> HttpResponse:
    if request.method == "GET":
        return _builder_answer(request, _agent_form(request), None)
    form = _agent_form(request, request.POST)
    if form.is_valid() and request.POST.get("preview"):
        return _preview(request, form, None)
    if form.is_valid():
        try:
            agent = services.agent_create(
                actor=request.actor,
                workspace=request.workspace,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                config=form.config(),
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Agent {agent.name} created (version 1).")
            return htmx.redirect(request, _url(request, "agent", agent.pk))
    return _builder_answer(request, form, None)


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def edit(request: WorkspaceRequest, agent_id: int) -> HttpResponse:
    agent, _access = access_agent(request.actor, agent_id, need="edit")
    if request.method == "GET":
        return _builder_answer(request, _agent_form(request, initial=_initial(agent)), agent)
    form = _agent_form(request, request.POST)
    if form.is_valid() and request.POST.get("preview"):
        return _preview(request, form, agent)
    if form.is_valid():
        before = agent.current.number if agent.current is not None else 0
        try:
            agent = services.agent_update(
                actor=request.actor,
                agent_id=agent.pk,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                config=form.config(),
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            after = agent.current.number if agent.current is not None else 0
            text = f"version {after}" if after != before else "nothing changed"
            messages.success(request, f"Agent {agent.name} saved: {text}.")
            return htmx.redirect(request, _url(request, "agent", agent.pk))
    return _builder_answer(request, form, agent)


# --- One agent -----------------------------------------------------------------------------

SETTINGS = (("temperature", "Temperature"), ("max_tokens", "Max tokens"), ("top_p", "Top p"))


@dataclass(frozen=True)
class VersionRow:
    version: AgentVersion
    current: bool
    # Against the version before it: the unified diff of the instructions, and the
    # settings that changed as (label, before, after).
    diff: list[str]
    changes: list[tuple[str, str, str]]


def _settings_of(v: AgentVersion) -> dict[str, str]:
    out = {label: str(getattr(v, key)) for key, label in SETTINGS}
    out["Max tokens"] = str(v.max_tokens) if v.max_tokens is not None else "model default"
    out["Model"] = v.model_ref.public_id
    out["Tools"] = ", ".join(tools.BY_KEY[k].label for k in tools.ordered(v.tools)) or "none"
    out["Libraries"] = ", ".join(map(str, v.library_ids)) or "none"
    out["Connections"] = ", ".join(map(str, v.connection_ids)) or "none"
    return out


def _history(agent: Agent) -> list[VersionRow]:
    found = list(selectors.versions(agent)[: HISTORY_SHOWN + 1])
    rows = []
    for i, v in enumerate(found[:HISTORY_SHOWN]):
        older = found[i + 1] if i + 1 < len(found) else None
        diff: list[str] = []
        changes: list[tuple[str, str, str]] = []
        if older is not None:
            diff = list(
                difflib.unified_diff(
                    older.instructions.splitlines(),
                    v.instructions.splitlines(),
                    f"version {older.number}",
                    f"version {v.number}",
                    lineterm="",
                )
            )
            a, b = _settings_of(older), _settings_of(v)
            changes = [(k, a[k], b[k]) for k in b if a[k] != b[k]]
        rows.append(VersionRow(v, agent.current_id == v.pk, diff, changes))
    return rows


def _sharing_context(request: WorkspaceRequest, agent: Agent, access: Access) -> dict[str, Any]:
    facts = load_workspace_facts(request.workspace)
    sharing = decide_many(
        request.workspace, [request.membership], [registry.AGENT_SHARING], facts=facts
    )[request.membership.pk][registry.AGENT_SHARING]
    settings = services.settings_for(request.workspace)
    return {
        "agent": agent,
        "access": access,
        "grants": selectors.grants(agent),
        "sharing": sharing,
        "may_widen": sharing.allowed
        and services.may_share_with_workspace(request.membership.role, settings),
        "visibility_choices": Visibility.choices,
    }


def _who_context(request: WorkspaceRequest, agent: Agent) -> dict[str, Any]:
    search = SearchForm(request.GET)
    q = search.query()
    page = parse_id(request.GET.get("page", "1")) or 1
    who = selectors.who_can_use(agent, q, page=min(page, 10**6), size=WHO_PAGE_SIZE)
    return {"agent": agent, "who": who, "who_q": q}


def _detail_context(request: WorkspaceRequest, agent: Agent, access: Access) -> dict[str, Any]:
    served = selectors.served_config(request.membership, agent)
    return {
        "page_title": agent.name,
        "nav": NAV,
        "agent": agent,
        "access": access,
        "served": served.config,
        "history": _history(agent),
        **_sharing_context(request, agent, access),
        **_who_context(request, agent),
    }


def _reach(request: WorkspaceRequest, agent_id: int) -> tuple[Agent, Access]:
    """The agent for its page: who may use it, or manage it (an admin of a workspace
    whose plan has no sharing, the managers of an agent staff disabled, who may still
    delete it); 404 for anybody else."""
    try:
        return access_agent(request.actor, agent_id)
    except Http404:
        return access_agent(request.actor, agent_id, need="manage")


# Pieces of the agent's page that htmx asks for by their id.
PARTS = {"agent-sharing", "agent-who", "agent-history"}


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_WORKSPACE)
def detail(request: WorkspaceRequest, agent_id: int) -> HttpResponse:
    agent, access = _reach(request, agent_id)
    if htmx.is_htmx(request) and request.htmx.target == "agent-who":
        return TemplateResponse(request, f"{DETAIL}#agent-who", _who_context(request, agent))
    if htmx.is_htmx(request) and request.htmx.target == "agent-sharing":
        context = _sharing_context(request, agent, access)
        return TemplateResponse(request, f"{DETAIL}#agent-sharing", context)
    template = htmx.template_for(request, DETAIL, "agent-main")
    return TemplateResponse(request, template, _detail_context(request, agent, access))


def _changed(response: HttpResponse) -> HttpResponse:
    trigger_client_event(response, "agent-changed", {}, after="settle")
    return response


def _act_answer(
    request: WorkspaceRequest, agent_id: int, ok: str = "", error: str = ""
) -> HttpResponse:
    """After a change on the agent's page: the page again (htmx), or a redirect to it."""
    if not request.htmx:
        if ok:
            messages.success(request, ok)
        if error:
            messages.error(request, error)
        return redirect(_url(request, "agent", agent_id))
    agent, access = _reach(request, agent_id)
    context = _detail_context(request, agent, access)
    response = TemplateResponse(request, f"{DETAIL}#agent-main", context)
    if error:
        return htmx.toast(response, error, "error")
    return _changed(htmx.toast(response, ok))


@require_http_methods(["POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def restore(request: WorkspaceRequest, agent_id: int, version: int) -> HttpResponse:
    agent, _access = access_agent(request.actor, agent_id, need="edit")
    try:
        agent = services.agent_restore_version(
            actor=request.actor, agent_id=agent.pk, number=version
        )
    except DomainError as exc:
        return _act_answer(request, agent.pk, error=exc.message)
    number = agent.current.number if agent.current is not None else version
    return _act_answer(request, agent.pk, ok=f"Version {version} restored as version {number}.")


@require_http_methods(["POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def visibility(request: WorkspaceRequest, agent_id: int) -> HttpResponse:
    agent, _access = access_agent(request.actor, agent_id, need="manage")
    form = VisibilityForm(request.POST)
    if not form.is_valid():
        return _act_answer(request, agent.pk, error=services.UNKNOWN_VISIBILITY)
    try:
        agent = services.agent_visibility_set(
            actor=request.actor, agent_id=agent.pk, visibility=form.cleaned_data["visibility"]
        )
    except DomainError as exc:
        return _act_answer(request, agent.pk, error=exc.message)
    label = agent.get_visibility_display().lower()
    return _act_answer(request, agent.pk, ok=f"{agent.name} is now shared with: {label}.")


# --- Sharing -------------------------------------------------------------------------------


def _share_page(request: WorkspaceRequest, agent: Agent, error: str = "") -> HttpResponse:
    q = SearchForm(request.GET).query()
    picker = SharePicker(
        subject=agent.name,
        help="Viewers use the agent; editors also edit, share and delete it.",
        back_url=_url(request, "agent", agent.pk),
        share_url=_url(request, "agent_share", agent.pk),
        sharing_id="agent-sharing",
        shared_event="agent-shared",
        q=q,
        candidates=selectors.share_candidates(agent, q, limit=PICKER_SIZE),
        roles=GrantRole.choices,
        error=error,
    )
    return share_dialog.show(request, picker, page_title=f"Share {agent.name}", nav=NAV)


def _sharing_answer(request: WorkspaceRequest, agent_id: int, ok: str) -> HttpResponse:
    if not request.htmx:
        messages.success(request, ok)
        return redirect(_url(request, "agent", agent_id) + "#agent-sharing")
    agent, access = _reach(request, agent_id)
    context = {**_sharing_context(request, agent, access), "oob_who": True}
    context.update(_who_context(request, agent))
    response = TemplateResponse(request, f"{DETAIL}#agent-sharing", context)
    trigger_client_event(response, "agent-shared", {}, after="settle")
    return htmx.toast(response, ok)


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def share(request: WorkspaceRequest, agent_id: int) -> HttpResponse:
    """GET: the share dialog (a page without JavaScript) searching groups and members, or
    its list of matches alone for the dialog's search. POST: share with the chosen one."""
    agent, _access = access_agent(request.actor, agent_id, need="manage")
    if request.method == "GET":
        return _share_page(request, agent)
    form = ShareForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            grant = services.agent_share_grant(
                actor=request.actor,
                agent_id=agent.pk,
                target=form.cleaned_data["target"],
                role=form.cleaned_data["role"],
            )
        except DomainError as exc:
            error = exc.message
        else:
            role = grant.get_role_display().lower()
            return _sharing_answer(request, agent.pk, f"{agent.name} shared as {role}.")
    else:
        error = str(next(iter(form.errors.values()))[0])
    if request.htmx:
        return htmx.toast(HttpResponse(status=204), error, "error")
    return _share_page(request, agent, error)


@require_http_methods(["POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def unshare(request: WorkspaceRequest, agent_id: int, grant_id: int) -> HttpResponse:
    agent, _access = access_agent(request.actor, agent_id, need="manage")
    try:
        services.agent_share_revoke(actor=request.actor, agent_id=agent.pk, grant_id=grant_id)
    except DomainError as exc:
        return _act_answer(request, agent.pk, error=exc.message)
    return _sharing_answer(request, agent.pk, f"Sharing of {agent.name} narrowed.")


# --- Deleting ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def delete(request: WorkspaceRequest, agent_id: int) -> HttpResponse:
    """Asks first, naming how many members lose the agent; deletes on the confirmed post."""
    agent, _access = access_agent(request.actor, agent_id, need="manage")
    if not confirm.is_confirmed(request):
        count = selectors.who_can_use(agent).count
        c = confirm.Confirmation(
            title=f"Delete the agent {agent.name}?",
            action_url=_url(request, "agent_delete", agent.pk),
            button=f"Delete {agent.name}",
            cancel_url=_url(request, "agent", agent.pk),
            losses=[
                f"{count} member{pluralize(count)} lose{'' if count != 1 else 's'} the agent "
                "at once; the platform stops serving it.",
                "Its instructions and every version of its configuration.",
            ],
            kept=["The audit log keeps the fact of the agent and its deletion."],
        )
        return confirm.ask(request, c, page_title="Delete agent", nav=NAV)
    name = agent.name
    lost = services.agent_delete(actor=request.actor, agent_id=agent.pk)
    messages.success(request, f"Agent {name} deleted; {lost} member{pluralize(lost)} lost it.")
    return htmx.redirect(request, _url(request, "agents"))


# --- The workspace's agent settings ----------------------------------------------------------

SETTINGS_PAGE = "agents/settings.html"


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_SETTINGS)
def agent_settings(request: WorkspaceRequest) -> HttpResponse:
    """Beyond the terms' default: whom new agents are visible to, and who may share one
    with the whole workspace."""
    current = services.settings_for(request.workspace)
    initial = {
        "default_visibility": current.default_visibility,
        "workspace_sharing": current.workspace_sharing,
    }
    form = AgentSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.agent_settings_update(
                actor=request.actor,
                workspace=request.workspace,
                default_visibility=form.cleaned_data["default_visibility"],
                workspace_sharing=form.cleaned_data["workspace_sharing"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            if not request.htmx:
                messages.success(request, "Agent settings saved.")
                return redirect(_url(request, "agent_settings"))
            form = AgentSettingsForm(initial=form.cleaned_data)
            response = TemplateResponse(
                request, f"{SETTINGS_PAGE}#agent-settings", {"form": form, "nav": NAV}
            )
            return htmx.toast(response, "Agent settings saved.")
    template = htmx.template_for(request, SETTINGS_PAGE, "agent-settings")
    context = {"form": form, "nav": NAV, "page_title": "Agent settings"}
    return TemplateResponse(request, template, context)
