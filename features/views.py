"""The feature pages (R-WS-6, R-FEAT-1, R-FEAT-2, R-MEDIA-2).

- "Features" (admins): a matrix of the features against the whole workspace, its groups
  and its members (searched and paged), each cell a select that allows, denies or
  inherits; member cells also show the decision, with a "why" popover of its chain,
  loaded when opened. The whole workspace's rules are a form per feature; the groups and
  the members are one form per table (see ``features.matrix``). A page of members is drawn
  a block of rows at a time: the first block at once, each further one as it scrolls
  into view (or, without JavaScript, through a link that draws that block instead).
- "My features" (every member): each feature's decision for oneself, and one's own switch
  where the admins leave the choice.

HTMX requests get the cell, row, block or section they act on back plus a toast; plain
form posts redirect back to the page, block and row they came from (post, redirect,
get)."""

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
from core.htmx import back_query, is_htmx, toast

from . import errors, matrix, selectors, services
from .decisions import (
    INHERIT,
    WorkspaceFacts,
    decide,
    decide_all,
    decide_many,
    load_workspace_facts,
)
from .forms import (
    GROUP,
    MEMBER,
    WORKSPACE,
    CellChange,
    MemberSearchForm,
    RuleForm,
    SwitchForm,
    cell_of,
    changed_cells,
)

MEMBER_PAGE_SIZE = 50
# Rows of members drawn per request: the first block comes with the page, the others as
# they scroll into view, so the page's weight and time do not grow with the page size.
MEMBER_BLOCK_SIZE = 10
BLOCK_TARGET = "members-block-"
GROUP_PAGE_SIZE = 25
INDEX = "features/index.html"
WHY = "features/why.html"
MINE = "features/mine.html"
BACK_KEYS = ("q", "page", "gpage", "block")
NOTHING_CHANGED = "No rule was changed."
# The event the matrix's members section listens to (hx-trigger in the template): a
# workspace or group rule changed decisions of members on the page.
CHANGED_EVENT = "features-changed"

EFFECT_WORDS = {"allow": "allowed", "deny": "denied", "inherit": "inherited from the level above"}


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
    return back_query(raw, BACK_KEYS)


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


def _block_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 10_000))
    except ValueError:
        return 1


def _member_rows(
    ws: Workspace,
    facts: WorkspaceFacts,
    cols: list[matrix.Column],
    members: list[Membership],
    bits: matrix.FormBits,
) -> list[matrix.MemberRow]:
    decisions = decide_many(ws, members, facts=facts)
    rules = selectors.member_rules(ws, [m.pk for m in members])
    return matrix.member_rows(cols, members, rules, decisions, bits)


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
    chunks = matrix.blocks(list(page.object_list), MEMBER_BLOCK_SIZE)
    # The block drawn with the page: the first, or the one a link without JavaScript (or
    # the way back after a plain post) names.
    drawn = min(_block_number(request.GET.get("block")), max(len(chunks), 1))
    # Each block's URL keeps the search and the pages shown, with the page actually drawn.
    keep: list[tuple[str, str]] = [
        (k, str(v))
        for k, v in QueryDict(_back_query(request.GET.urlencode())).items()
        if k not in ("page", "block")
    ]
    if page.number > 1:
        keep.append(("page", str(page.number)))
    base = reverse("ws:features", args=[ws.slug])
    member_blocks = [
        matrix.MemberBlock(n, chunk, f"{base}?{urlencode([*keep, ('block', n)])}", None, len(cols))
        for n, chunk in enumerate(chunks, 1)
    ]
    if member_blocks:
        block = member_blocks[drawn - 1]
        block.rows = _member_rows(ws, facts, cols, block.memberships, bits)
    return {
        "members_page": page,
        "member_blocks": member_blocks,
        "q": q,
        "refresh_url": request.get_full_path(),
    }


def _block_context(
    request: WorkspaceRequest,
    ws: Workspace,
    facts: WorkspaceFacts,
    cols: list[matrix.Column],
    q: str,
    bits: matrix.FormBits,
) -> dict[str, Any]:
    """One block of a page of members, as it scrolls into view. A block that no longer
    exists (members left meanwhile) comes back empty rather than as another block."""
    n = _block_number(request.GET.get("block"))
    page = Paginator(selectors.matrix_members(ws, q), MEMBER_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    chunks = matrix.blocks(list(page.object_list), MEMBER_BLOCK_SIZE)
    members = chunks[n - 1] if n <= len(chunks) else []
    block = matrix.MemberBlock(n, members, "", _member_rows(ws, facts, cols, members, bits))
    return {"block": block}


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
        "group_rows": matrix.group_rows(
            facts, cols, page.object_list, bits, reverse("ws:groups", args=[ws.slug])
        ),
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
        "bits": bits,
        **_links(ws),
    }
    target = request.htmx.target if is_htmx(request) else None
    if target and target.startswith(BLOCK_TARGET):
        context.update(_block_context(request, ws, facts, cols, q, bits))
        return TemplateResponse(request, f"{INDEX}#members-block", context)
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
    for field_errors in form.errors.values():
        return str(field_errors[0])
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


def _set_rule(
    request: WorkspaceRequest,
    ws: Workspace,
    *,
    feature: str,
    effect: str,
    target: str,
    group: Group | None,
    membership: Membership | None,
) -> tuple[str, str]:
    """Set one rule: the error to show, or the message that says what changed."""
    try:
        services.feature_rule_set(
            actor=request.actor,
            workspace=ws,
            feature=feature,
            effect=effect,
            group=group,
            membership=membership,
        )
    except DomainError as exc:
        return exc.message, ""
    spec = registry.get(feature)
    who = "everyone" if target == WORKSPACE else services.target_label(group, membership)
    if target == GROUP:
        who = f"the group {who}"
    return "", f"{spec.label}: {EFFECT_WORDS[effect]} for {who}."


def _answer(
    request: WorkspaceRequest,
    ws: Workspace,
    *,
    feature: str | None,
    target: str | None,
    group: Group | None,
    membership: Membership | None,
    back: str,
    error: str,
    ok: str,
) -> HttpResponse:
    """What an HTMX post gets: the re-drawn cell or row, then a toast, and the event that
    refreshes the members when a rule above them changed."""
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
    return toast(response, ok)


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_FEATURES)
def rule(request: WorkspaceRequest) -> HttpResponse:
    """Set rules of the matrix. Two shapes of body:

    - one rule (the whole workspace's forms): ``feature``, ``effect`` (allow, deny,
      inherit), ``target`` (workspace, group, member) and ``target_id`` for a group or
      member;
    - a table's form (groups or members): selects named ``<g|m><id>:<feature>:<effect
      shown>`` whose value is the effect chosen. An htmx request sets the one cell whose
      select sent it (its name comes as ``HX-Trigger-Name``); a plain post sets every cell
      whose value differs from the effect it showed."""
    if "feature" in request.POST or "target" in request.POST:
        return _one_rule(request)
    return _table_rules(request)


def _one_rule(request: WorkspaceRequest) -> HttpResponse:
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
    error, ok = ("", "") if valid else (_first_error(form), "")
    if valid:
        error, ok = _set_rule(
            request,
            ws,
            feature=str(feature),
            effect=data["effect"],
            target=str(target),
            group=group,
            membership=membership,
        )
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

    return _answer(
        request,
        ws,
        feature=feature,
        target=target,
        group=group,
        membership=membership,
        back=back,
        error=error,
        ok=ok,
    )


def _cell_target(
    request: WorkspaceRequest, cell: CellChange
) -> tuple[Group | None, Membership | None]:
    """The cell's group or member, in this workspace only: another workspace's id is a 404."""
    if cell.target == GROUP:
        return access_group(request.actor, cell.target_id), None
    return None, access_member(request.actor, cell.target_id)


def _table_rules(request: WorkspaceRequest) -> HttpResponse:
    ws: Workspace = request.workspace
    back = _back_query(request.POST.get("back", ""))
    if request.htmx:
        cell = cell_of(request.POST, request.headers.get("HX-Trigger-Name", ""))
        if cell is None:
            return TemplateResponse(
                request, f"{INDEX}#error-cell", {"error": errors.UNKNOWN_TARGET, **_links(ws)}
            )
        group, membership = _cell_target(request, cell)
        error, ok = cell.error, ""
        if not error:
            error, ok = _set_rule(
                request,
                ws,
                feature=cell.feature,
                effect=cell.effect,
                target=cell.target,
                group=group,
                membership=membership,
            )
        known = cell.feature in registry.BY_KEY
        return _answer(
            request,
            ws,
            feature=cell.feature if known else None,
            target=cell.target,
            group=group,
            membership=membership,
            back=back,
            error=error,
            ok=ok,
        )

    # Without JavaScript: every changed cell of the table, each on its own, then back to
    # the same page and block, at the row of the first change.
    url = reverse("ws:features", args=[ws.slug]) + (f"?{back}" if back else "")
    changes = changed_cells(request.POST)
    if not changes:
        messages.info(request, NOTHING_CHANGED)
        section = "#group-rules" if request.POST.get("save") == "groups" else "#member-rules"
        return redirect(url + section)
    targets = [_cell_target(request, c) for c in changes]  # every 404 before any change
    for cell, (group, membership) in zip(changes, targets, strict=True):
        error, ok = cell.error, ""
        if not error:
            error, ok = _set_rule(
                request,
                ws,
                feature=cell.feature,
                effect=cell.effect,
                target=cell.target,
                group=group,
                membership=membership,
            )
        if error:
            spec = registry.BY_KEY.get(cell.feature)
            who = services.target_label(group, membership)
            if group is not None:
                who = f"the group {who}"
            messages.error(request, f"{spec.label if spec else cell.feature} for {who}: {error}")
        else:
            messages.success(request, ok)
    first = changes[0]
    return redirect(f"{url}#{'group' if first.target == GROUP else 'member'}-{first.target_id}")


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
    return TemplateResponse(request, f"{WHY}#why" if is_htmx(request) else WHY, context)


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
    return toast(response, ok) if ok else response
