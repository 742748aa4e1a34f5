"""Groups of members (R-WS-7). Everyone in the workspace may look; only members with
Perm.MANAGE_GROUPS change them. HTMX requests get the section they act on back plus a
toast; plain form posts redirect (post, redirect, get)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from accounts import selectors, services
from accounts.errors import DomainError
from accounts.member_forms import NO_SUCH_MEMBER, GroupMemberAddForm, GroupNameForm
from accounts.models import Group, Membership
from accounts.roles import Perm, has_perm
from console.access import scoped, workspace_view

PAGE_SIZE = 50
INDEX = "accounts/groups/index.html"
DETAIL = "accounts/groups/detail.html"


def _can_manage(request: HttpRequest) -> bool:
    return has_perm(request.membership.role, Perm.MANAGE_GROUPS)  # type: ignore[attr-defined]


def _toast(response: HttpResponse, message: str) -> HttpResponse:
    trigger_client_event(response, "toast", {"message": message, "kind": "ok"})
    return response


def _partial(request: HttpRequest) -> bool:
    htmx = request.htmx  # type: ignore[attr-defined]
    return bool(htmx) and not htmx.history_restore_request


# --- List ------------------------------------------------------------------------------


def _index_context(request: HttpRequest, form: GroupNameForm | None = None) -> dict[str, Any]:
    page = Paginator(selectors.group_list(request.workspace), PAGE_SIZE).get_page(  # type: ignore[attr-defined]
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
def index(request: HttpRequest) -> HttpResponse:
    template = f"{INDEX}#groups-section" if _partial(request) else INDEX
    return TemplateResponse(request, template, _index_context(request))


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def create(request: HttpRequest) -> HttpResponse:
    ws = request.workspace  # type: ignore[attr-defined]
    form = GroupNameForm(request.POST)
    group: Group | None = None
    if form.is_valid():
        try:
            group = services.group_create(
                actor=request.user,  # type: ignore[arg-type]
                workspace=ws,
                name=form.cleaned_data["name"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if group is not None and not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, f"Group {group.name} created.")
        return redirect("ws:groups", ws.slug)
    template = f"{INDEX}#groups-section" if request.htmx else INDEX  # type: ignore[attr-defined]
    response = TemplateResponse(request, template, _index_context(request, None if group else form))
    return _toast(response, f"Group {group.name} created.") if group else response


# --- Detail ----------------------------------------------------------------------------


def _group(request: HttpRequest, group_id: int) -> Group:
    group: Group = scoped(Group, request, pk=group_id)
    return group


def _detail_context(
    request: HttpRequest,
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
def detail(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    template = f"{DETAIL}#group-members" if _partial(request) else DETAIL
    return TemplateResponse(request, template, _detail_context(request, group))


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def rename(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    form = GroupNameForm(request.POST)
    done = False
    if form.is_valid():
        try:
            group = services.group_rename(
                actor=request.user,  # type: ignore[arg-type]
                group=group,
                name=form.cleaned_data["name"],
            )
            done = True
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if done and not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, f"Group renamed to {group.name}.")
        return redirect("ws:group_detail", request.workspace.slug, group.pk)  # type: ignore[attr-defined]
    template = f"{DETAIL}#group-header" if request.htmx else DETAIL  # type: ignore[attr-defined]
    context = _detail_context(request, group, rename_form=None if done else form)
    response = TemplateResponse(request, template, context)
    return _toast(response, f"Group renamed to {group.name}.") if done else response


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def delete(request: HttpRequest, group_id: int) -> HttpResponse:
    """HTMX asked with hx-confirm already; a plain post or a GET shows a page naming what
    will be lost, whose form posts again with ``confirmed``."""
    group = _group(request, group_id)
    confirmed = request.method == "POST" and (request.htmx or request.POST.get("confirmed") == "1")  # type: ignore[attr-defined]
    if not confirmed:
        count = group.members.count()
        return TemplateResponse(
            request,
            "accounts/groups/confirm_delete.html",
            {"page_title": "Delete group", "nav": "groups", "group": group, "member_count": count},
        )
    name = group.name
    services.group_delete(actor=request.user, group=group)  # type: ignore[arg-type]
    message = f"Group {name} deleted."
    if request.htmx:  # type: ignore[attr-defined]
        # The list row asked: it disappears.
        return _toast(HttpResponse(""), message)
    messages.success(request, message)
    return redirect("ws:groups", request.workspace.slug)  # type: ignore[attr-defined]


# --- Members of a group ----------------------------------------------------------------


def _members_answer(
    request: HttpRequest, group: Group, *, ok: str = "", add_form: GroupMemberAddForm | None = None
) -> HttpResponse:
    if not request.htmx:  # type: ignore[attr-defined]
        if ok:
            messages.success(request, ok)
            return redirect("ws:group_detail", request.workspace.slug, group.pk)  # type: ignore[attr-defined]
        return TemplateResponse(request, DETAIL, _detail_context(request, group, add_form=add_form))
    response = TemplateResponse(
        request, f"{DETAIL}#group-members", _detail_context(request, group, add_form=add_form)
    )
    return _toast(response, ok) if ok else response


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def member_add(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    form = GroupMemberAddForm(request.POST)
    if not form.is_valid():
        return _members_answer(request, group, add_form=form)
    membership = selectors.member_by_email(request.workspace, form.cleaned_data["email"])  # type: ignore[attr-defined]
    if membership is None:
        form.add_error("email", NO_SUCH_MEMBER)
        return _members_answer(request, group, add_form=form)
    try:
        services.group_member_add(actor=request.user, group=group, membership=membership)  # type: ignore[arg-type]
    except DomainError as exc:
        form.add_error("email", exc.message)
        return _members_answer(request, group, add_form=form)
    return _members_answer(request, group, ok=f"{membership.user.email} added to {group.name}.")


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def member_remove(request: HttpRequest, group_id: int, member_id: int) -> HttpResponse:
    group = _group(request, group_id)
    membership: Membership = scoped(
        Membership.objects.select_related("user"), request, pk=member_id
    )
    services.group_member_remove(actor=request.user, group=group, membership=membership)  # type: ignore[arg-type]
    return _members_answer(request, group, ok=f"{membership.user.email} removed from {group.name}.")
