"""The feature pages (R-WS-6, R-FEAT-1, R-FEAT-2, R-MEDIA-2).

- "Features" (admins): a matrix of the features against the whole workspace, its groups
  and its members (searched and paged), each cell a small form that allows, denies or
  inherits; member cells also show the decision, with a "why" popover of its chain.
- "My features" (every member): each feature's decision for oneself, and one's own switch
  where the admins leave the choice.

HTMX requests get the cell, row or section they act on back plus a toast; plain form
posts redirect back to the page they came from (post, redirect, get)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from accounts.access import WorkspaceRequest, access_group, access_member, workspace_view
from accounts.models import Group, Membership, Workspace
from accounts.roles import Perm
from core import registry
from core.errors import DomainError

from . import matrix, selectors, services
from .decisions import (
    INHERIT,
    WorkspaceFacts,
    decide,
    decide_all,
    decide_many,
    load_workspace_facts,
)
from .forms import GROUP, MEMBER, WORKSPACE, MemberSearchForm, RuleForm, SwitchForm

MEMBER_PAGE_SIZE = 50
GROUP_PAGE_SIZE = 25
INDEX = "features/index.html"
WHY = "features/why.html"
MINE = "features/mine.html"
BACK_KEYS = ("q", "page", "gpage")
# The event the matrix's members section listens to (hx-trigger in the template): a
# workspace or group rule changed decisions of members on the page.
CHANGED_EVENT = "features-changed"

EFFECT_WORDS = {"allow": "allowed", "deny": "denied", "inherit": "inherited from the level above"}


def _partial(request: WorkspaceRequest) -> bool:
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request


def _toast(response: HttpResponse, message: str, kind: str = "ok") -> HttpResponse:
    trigger_client_event(response, "toast", {"message": message, "kind": kind})
    return response


def _links(ws: Workspace) -> dict[str, str]:
    return {
        "features_url": reverse("ws:features", args=[ws.slug]),
        "groups_url": reverse("ws:groups", args=[ws.slug]),
        # Where a Media Customer asks for editorial use, and where plans are compared.
        "compliance_url": reverse("ws:compliance", args=[ws.slug]),
        "plans_url": reverse("ws:plans", args=[ws.slug]),
    }


def _back_query(raw: str) -> str:
    """The matrix's search and pages to return to, rebuilt from known keys only."""
    data = QueryDict(raw[:500])
    return urlencode([(k, v[:100]) for k in BACK_KEYS for v in data.getlist(k)[:1] if v])


def _bits(request: WorkspaceRequest, ws: Workspace, back: str) -> matrix.FormBits:
    """What every cell's form shares, built once per response."""
    hidden = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )
    if back:
        hidden += format_html('<input type="hidden" name="back" value="{}">', back)
    return matrix.FormBits(
        rule_url=reverse("ws:feature_rule", args=[ws.slug]),
        hidden=hidden,
        why_base=reverse("ws:features", args=[ws.slug]) + "why/",
    )


# --- The admins' matrix ----------------------------------------------------------------------


def _members_context(
    request: WorkspaceRequest,
    ws: Workspace,
    facts: WorkspaceFacts,
    cols: list[matrix.Column],
    q: str,
    bits: matrix.FormBits,
) -> dict[str, Any]:
    page = Paginator(selectors.matrix_members(ws, q), MEMBER_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    members = list(page.object_list)
    decisions = decide_many(ws, members, facts=facts)
    rules = selectors.member_rules(ws, [m.pk for m in members])
    return {
        "members_page": page,
        "member_rows": matrix.member_rows(cols, members, rules, decisions, bits),
        "q": q,
        "refresh_url": request.get_full_path(),
    }


def _groups_context(
    request: WorkspaceRequest,
    ws: Workspace,
    facts: WorkspaceFacts,
    cols: list[matrix.Column],
    bits: matrix.FormBits,
) -> dict[str, Any]:
    page = Paginator(selectors.matrix_groups(ws), GROUP_PAGE_SIZE).get_page(
        request.GET.get("gpage")
    )
    return {
        "groups_page": page,
        "group_rows": matrix.group_rows(facts, cols, page.object_list, bits),
    }


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_FEATURES)
def index(request: WorkspaceRequest) -> HttpResponse:
    ws: Workspace = request.workspace
    search = MemberSearchForm(request.GET)
    q = search.query()
    facts = load_workspace_facts(ws)
    cols = matrix.columns(facts)
    bits = _bits(request, ws, _back_query(request.GET.urlencode()))
    context: dict[str, Any] = {
        "page_title": "Features",
        "nav": "features",
        "columns": cols,
        "media_customer": facts.media.is_media_customer,
        "plan_name": facts.plan_name,
        "search": search,
        **_links(ws),
    }
    target = request.htmx.target if _partial(request) else None
    if target == "members-matrix":
        context.update(_members_context(request, ws, facts, cols, q, bits))
        return TemplateResponse(request, f"{INDEX}#members-matrix", context)
    if target == "groups-matrix":
        context.update(_groups_context(request, ws, facts, cols, bits))
        return TemplateResponse(request, f"{INDEX}#groups-matrix", context)
    context.update(_members_context(request, ws, facts, cols, q, bits))
    context.update(_groups_context(request, ws, facts, cols, bits))
    context["workspace_rows"] = matrix.workspace_rows(facts, bits)
    return TemplateResponse(request, INDEX, context)


def _first_error(form: RuleForm | SwitchForm) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return ""


def _rule_answer(
    request: WorkspaceRequest,
    ws: Workspace,
    *,
    feature: str | None,
    target: str | None,
    group: Group | None,
    membership: Membership | None,
    back: str,
    error: str,
) -> HttpResponse:
    """The re-drawn cell (or, for the whole workspace, row) the form came from, with the
    error beside the control when there is one."""
    context: dict[str, Any] = {"error": error, **_links(ws)}
    bits = _bits(request, ws, back)
    known_target = target == WORKSPACE or group is not None or membership is not None
    if feature is None or not known_target:
        # Nothing to draw the cell from (a forged form): say what is wrong where it was.
        template = "error-row" if target == WORKSPACE else "error-cell"
        return TemplateResponse(request, f"{INDEX}#{template}", context)
    facts = load_workspace_facts(ws)
    col = matrix.column(facts, feature)
    context["columns"] = [col]
    if target == WORKSPACE:
        context["row"] = matrix.workspace_row(col, facts, bits, error=error)
        return TemplateResponse(request, f"{INDEX}#workspace-row", context)
    if group is not None:
        effect = facts.group_rules.get((group.pk, feature), INHERIT)
        context["c"] = matrix.group_cell(col, group, effect, bits, error=error)
        return TemplateResponse(request, f"{INDEX}#cell", context)
    assert membership is not None
    effect = selectors.rule_effect(ws, feature, membership=membership)
    context["c"] = matrix.member_cell(
        col, membership, effect, decide(membership, feature), bits, error=error
    )
    return TemplateResponse(request, f"{INDEX}#cell", context)


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_FEATURES)
def rule(request: WorkspaceRequest) -> HttpResponse:
    """Set one cell of the matrix: body ``feature``, ``effect`` (allow, deny, inherit),
    ``target`` (workspace, group, member) and ``target_id`` for a group or member."""
    ws: Workspace = request.workspace
    form = RuleForm(request.POST)
    valid = form.is_valid()
    data = form.cleaned_data
    feature, target, target_id = data.get("feature"), data.get("target"), data.get("target_id")
    group: Group | None = None
    membership: Membership | None = None
    # The target is looked up in this workspace only: another workspace's id is a 404.
    if target == GROUP and target_id:
        group = access_group(request.actor, target_id)
    elif target == MEMBER and target_id:
        membership = access_member(request.actor, target_id)
    error = "" if valid else _first_error(form)
    if valid:
        try:
            services.feature_rule_set(
                actor=request.actor,
                workspace=ws,
                feature=data["feature"],
                effect=data["effect"],
                group=group,
                membership=membership,
            )
        except DomainError as exc:
            error = exc.message
    ok = ""
    if not error:
        spec = registry.get(str(feature))
        who = "everyone" if target == WORKSPACE else services.target_label(group, membership)
        if target == GROUP:
            who = f"the group {who}"
        ok = f"{spec.label}: {EFFECT_WORDS[data['effect']]} for {who}."
    back = _back_query(data.get("back") or "")

    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, ok)
        url = reverse("ws:features", args=[ws.slug]) + (f"?{back}" if back else "")
        anchor = {
            WORKSPACE: "#workspace-rules",
            GROUP: "#group-rules",
            MEMBER: "#member-rules",
        }.get(str(target), "")
        return redirect(url + anchor)

    response = _rule_answer(
        request,
        ws,
        feature=feature,
        target=target,
        group=group,
        membership=membership,
        back=back,
        error=error,
    )
    if error:
        return response
    if target in (WORKSPACE, GROUP):
        trigger_client_event(response, CHANGED_EVENT, {})
    return _toast(response, ok)


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_FEATURES)
def why(request: WorkspaceRequest, member_id: int, feature: str) -> HttpResponse:
    """The decision chain of one member and feature: the popover's content, or a page of
    its own without JavaScript."""
    if feature not in registry.BY_KEY:
        raise Http404("No such feature.")
    membership = access_member(request.actor, member_id)
    context = {
        "page_title": "Why this decision",
        "nav": "features",
        "m": membership,
        "decision": decide(membership, feature),
        "features_url": reverse("ws:features", args=[membership.workspace.slug]),
    }
    return TemplateResponse(request, f"{WHY}#why" if _partial(request) else WHY, context)


# --- My features -----------------------------------------------------------------------------


def _mine_url(ws: Workspace) -> dict[str, str]:
    return {"switch_url": reverse("ws:my_feature_switch", args=[ws.slug])}


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_WORKSPACE)
def mine(request: WorkspaceRequest) -> HttpResponse:
    membership: Membership = request.membership
    context = {
        "page_title": "My features",
        "nav": "my_features",
        "decisions": list(decide_all(membership).values()),
        **_mine_url(membership.workspace),
    }
    return TemplateResponse(request, MINE, context)


@require_http_methods(["POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def switch(request: WorkspaceRequest) -> HttpResponse:
    """Turn a feature on or off for oneself: body ``feature`` and ``on`` ("1" or "0")."""
    membership: Membership = request.membership
    ws = membership.workspace
    form = SwitchForm(request.POST)
    error = ""
    ok = ""
    if form.is_valid():
        feature, on = form.cleaned_data["feature"], form.cleaned_data["on"]
        try:
            services.feature_switch_set(
                actor=request.actor, membership=membership, feature=feature, on=on
            )
            ok = f"{registry.get(feature).label} switched {'on' if on else 'off'}."
        except DomainError as exc:
            error = exc.message
    else:
        error = _first_error(form)

    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, ok)
        return redirect("ws:my_features", ws.slug)

    feature = form.cleaned_data.get("feature")
    context: dict[str, Any] = {"error": error, **_mine_url(ws)}
    if feature is None:
        return TemplateResponse(request, f"{MINE}#error-row", context)
    context["d"] = decide(membership, feature)
    response = TemplateResponse(request, f"{MINE}#my-feature", context)
    return _toast(response, ok) if ok else response
