"""Groups of members (R-WS-7). Everyone in the workspace may look; only members with
Perm.MANAGE_GROUPS change them. HTMX requests get the section they act on back plus a
toast; plain form posts redirect (post, redirect, get)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from accounts import selectors, services
from accounts.access import WorkspaceRequest, access_group, access_member, workspace_view
from accounts.member_forms import NO_SUCH_MEMBER, GroupMemberAddForm, GroupNameForm
from accounts.models import Group
from accounts.roles import Perm, has_perm
from core.errors import DomainError
from core.htmx import is_htmx, toast

PAGE_SIZE = 50
INDEX = "accounts/groups/index.html"
DETAIL = "accounts/groups/detail.html"


def _can_manage(request: WorkspaceRequest) -> bool:
    return has_perm(request.membership.role, Perm.MANAGE_GROUPS)


# --- List ------------------------------------------------------------------------------


def _index_context(request: WorkspaceRequest, form: GroupNameForm | None = None) -> dict[str, Any]:
    page = Paginator(selectors.group_list(request.workspace), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return {
        "page_title": "Groups",
        "nav": "groups",
        "page": page,
        "form": form or GroupNameForm(),
        "can_manage": _can_manage(request),
    }


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_WORKSPACE)
def index(request: WorkspaceRequest) -> HttpResponse:
    template = f"{INDEX}#groups-section" if is_htmx(request) else INDEX
    return TemplateResponse(request, template, _index_context(request))


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def create(request: WorkspaceRequest) -> HttpResponse:
    ws = request.workspace
    form = GroupNameForm(request.POST)
    group: Group | None = None
    if form.is_valid():
        try:
            group = services.group_create(
                actor=request.actor, workspace=ws, name=form.cleaned_data["name"]
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if group is not None and not request.htmx:
        messages.success(request, f"Group {group.name} created.")
        return redirect("ws:groups", ws.slug)
    template = f"{INDEX}#groups-section" if request.htmx else INDEX
    response = TemplateResponse(request, template, _index_context(request, None if group else form))
    return toast(response, f"Group {group.name} created.") if group else response


# --- Detail ----------------------------------------------------------------------------


def _group(request: WorkspaceRequest, group_id: int) -> Group:
    return access_group(request.actor, group_id)


def _detail_context(
    request: WorkspaceRequest,
    group: Group,
    *,
    rename_form: GroupNameForm | None = None,
    add_form: GroupMemberAddForm | None = None,
) -> dict[str, Any]:
    page = Paginator(selectors.group_members(group), PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page_title": "Group",
        "nav": "groups",
        "group": group,
        "page": page,
        "rename_form": rename_form or GroupNameForm(initial={"name": group.name}),
        "add_form": add_form or GroupMemberAddForm(),
        "can_manage": _can_manage(request),
    }


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_WORKSPACE)
def detail(request: WorkspaceRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    template = f"{DETAIL}#group-members" if is_htmx(request) else DETAIL
    return TemplateResponse(request, template, _detail_context(request, group))


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def rename(request: WorkspaceRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    form = GroupNameForm(request.POST)
    done = False
    if form.is_valid():
        try:
            group = services.group_rename(
                actor=request.actor, group=group, name=form.cleaned_data["name"]
            )
            done = True
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if done and not request.htmx:
        messages.success(request, f"Group renamed to {group.name}.")
        return redirect("ws:group_detail", request.workspace.slug, group.pk)
    template = f"{DETAIL}#group-header" if request.htmx else DETAIL
    context = _detail_context(request, group, rename_form=None if done else form)
    response = TemplateResponse(request, template, context)
    return toast(response, f"Group renamed to {group.name}.") if done else response


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def delete(request: WorkspaceRequest, group_id: int) -> HttpResponse:
    """HTMX asked with hx-confirm already; a plain post or a GET shows a page naming what
    will be lost, whose form posts again with ``confirmed``."""
    group = _group(request, group_id)
    confirmed = request.method == "POST" and (request.htmx or request.POST.get("confirmed") == "1")
    if not confirmed:
        count = group.members.count()
        return TemplateResponse(
            request,
            "accounts/groups/confirm_delete.html",
            {"page_title": "Delete group", "nav": "groups", "group": group, "member_count": count},
        )
    name = group.name
    services.group_delete(actor=request.actor, group=group)
    message = f"Group {name} deleted."
    if request.htmx:
        # The list row asked: it disappears.
        return toast(HttpResponse(""), message)
    messages.success(request, message)
    return redirect("ws:groups", request.workspace.slug)


# --- Members of a group ----------------------------------------------------------------


def _members_answer(
    request: WorkspaceRequest,
    group: Group,
    *,
    ok: str = "",
    add_form: GroupMemberAddForm | None = None,
) -> HttpResponse:
    if not request.htmx:
        if ok:
            messages.success(request, ok)
            return redirect("ws:group_detail", request.workspace.slug, group.pk)
        return TemplateResponse(request, DETAIL, _detail_context(request, group, add_form=add_form))
    response = TemplateResponse(
        request, f"{DETAIL}#group-members", _detail_context(request, group, add_form=add_form)
    )
    return toast(response, ok) if ok else response


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def member_add(request: WorkspaceRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    form = GroupMemberAddForm(request.POST)
    if not form.is_valid():
        return _members_answer(request, group, add_form=form)
    membership = selectors.member_by_email(request.workspace, form.cleaned_data["email"])
    if membership is None:
        form.add_error("email", NO_SUCH_MEMBER)
        return _members_answer(request, group, add_form=form)
    try:
        services.group_member_add(actor=request.actor, group=group, membership=membership)
    except DomainError as exc:
        form.add_error("email", exc.message)
        return _members_answer(request, group, add_form=form)
    return _members_answer(request, group, ok=f"{membership.user.email} added to {group.name}.")


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def member_remove(request: WorkspaceRequest, group_id: int, member_id: int) -> HttpResponse:
    group = _group(request, group_id)
    membership = access_member(request.actor, member_id)
    services.group_member_remove(actor=request.actor, group=group, membership=membership)
    return _members_answer(request, group, ok=f"{membership.user.email} removed from {group.name}.")
