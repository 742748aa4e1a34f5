"""Groups of members (R-WS-7). Everyone in the workspace may look; only members with
Perm.MANAGE_GROUPS change them. HTMX requests get the section they act on back plus a
toast; plain form posts redirect (post, redirect, get)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from accounts import selectors, services
from accounts.access import WorkspaceRequest, access_group, access_member, workspace_view
from accounts.member_forms import NO_SUCH_MEMBER, GroupMemberAddForm, GroupNameForm
from accounts.models import Group, Membership
from accounts.roles import Perm, has_perm
from accounts.views import confirm
from core.errors import DomainError
from core.htmx import is_htmx, toast
from core.parsing import is_storable_text

PAGE_SIZE = 50
# How many members the delete confirmation names before "and N more".
DELETE_NAMES = 5
# How many matches the member picker lists.
PICKER_SIZE = 10
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


def _picker_query(request: WorkspaceRequest) -> str:
    data = request.POST if request.method == "POST" else request.GET
    q = data.get("q", "").strip()[: selectors.MEMBER_SEARCH_MAX]
    # Text the database cannot hold (a NUL) matches nobody, rather than reaching the query.
    return q if is_storable_text(q) else ""


def _picker_context(request: WorkspaceRequest, group: Group) -> dict[str, Any]:
    """The member picker: members of the workspace outside the group that match the
    search, at most PICKER_SIZE of them."""
    q = _picker_query(request)
    found = selectors.group_member_candidates(group, q, limit=PICKER_SIZE + 1) if q else []
    return {"q": q, "candidates": found[:PICKER_SIZE], "more_candidates": len(found) > PICKER_SIZE}


def _detail_context(
    request: WorkspaceRequest,
    group: Group,
    *,
    rename_form: GroupNameForm | None = None,
    add_form: GroupMemberAddForm | None = None,
) -> dict[str, Any]:
    page = Paginator(selectors.group_members(group), PAGE_SIZE).get_page(request.GET.get("page"))
    can_manage = _can_manage(request)
    return {
        "page_title": group.name,
        "nav": "groups",
        "group": group,
        "detail_url": reverse("ws:group_detail", args=[request.workspace.slug, group.pk]),
        "page": page,
        "rename_form": rename_form or GroupNameForm(initial={"name": group.name}),
        "add_form": add_form or GroupMemberAddForm(),
        "can_manage": can_manage,
        **(_picker_context(request, group) if can_manage else {}),
    }


# Pieces of the group's page that refresh themselves on the "group-changed" event, by the
# id htmx sends as the request's target.
REFRESHED_PARTS = {"group-title", "group-summary"}


def _changed(response: HttpResponse) -> HttpResponse:
    # After the swap settles, so that the pieces listening are the ones now in the page.
    trigger_client_event(response, "group-changed", {}, after="settle")
    return response


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_WORKSPACE)
def detail(request: WorkspaceRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    context = _detail_context(request, group)
    template = DETAIL
    if is_htmx(request):
        target = request.htmx.target
        part = target if target in REFRESHED_PARTS else "group-members"
        template = f"{DETAIL}#{part}"
        # Only the title's answer carries a <title>, which htmx puts on the tab.
        context["refresh_title"] = part == "group-title"
    response = TemplateResponse(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_GROUPS)
def member_search(request: WorkspaceRequest, group_id: int) -> HttpResponse:
    """The member picker's results for HTMX; without JavaScript, the picker's search form
    opens the group's page with the same results."""
    group = _group(request, group_id)
    if not is_htmx(request):
        url = reverse("ws:group_detail", args=[request.workspace.slug, group.pk])
        q = _picker_query(request)
        return redirect(f"{url}?{urlencode({'q': q})}#add-members" if q else url)
    context = {"group": group, "can_manage": True, **_picker_context(request, group)}
    return TemplateResponse(request, f"{DETAIL}#picker-results", context)


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
    return _changed(toast(response, f"Group renamed to {group.name}.")) if done else response


def _delete_confirmation(request: WorkspaceRequest, group: Group) -> confirm.Confirmation:
    slug = request.workspace.slug
    # Asked from the group's own page, the answer is the list of groups (a plain post);
    # asked from a row of the list, the row disappears in place.
    data = request.POST if request.method == "POST" else request.GET
    from_detail = data.get("from") == "detail"
    members = list(selectors.group_members(group)[: DELETE_NAMES + 1])
    count = group.members.count()
    names = ", ".join(m.user.name or m.user.email for m in members[:DELETE_NAMES])
    if count > DELETE_NAMES:
        names += f" and {count - DELETE_NAMES} more"
    losses = [
        f"Its {count} member{pluralize(count)} ({names}) lose what was shared with the group."
        if count
        else "The group has no members; nobody loses access.",
        "The feature rules set for the group, and its place in sharing rules.",
    ]
    return confirm.Confirmation(
        title=f"Delete the group {group.name}?",
        action_url=reverse("ws:group_delete", args=[slug, group.pk]),
        button=f"Delete {group.name}",
        cancel_url=(
            reverse("ws:group_detail", args=[slug, group.pk])
            if from_detail
            else reverse("ws:groups", args=[slug])
        ),
        losses=losses,
        kept=["The members themselves stay in the workspace, with their other groups."],
        hx_target="" if from_detail else f"#group-{group.pk}",
        hidden={"from": "detail"} if from_detail else {},
    )


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def delete(request: WorkspaceRequest, group_id: int) -> HttpResponse:
    """Asks first (a page, or a dialog for HTMX) naming the members who lose what was
    shared with the group; deletes only on a post that carries the confirmation."""
    group = _group(request, group_id)
    if not confirm.is_confirmed(request):
        return confirm.ask(
            request, _delete_confirmation(request, group), page_title="Delete group", nav="groups"
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
            url = reverse("ws:group_detail", args=[request.workspace.slug, group.pk])
            q = _picker_query(request)
            return redirect(f"{url}?{urlencode({'q': q})}#add-members" if q else url)
        return TemplateResponse(request, DETAIL, _detail_context(request, group, add_form=add_form))
    response = TemplateResponse(
        request, f"{DETAIL}#group-members", _detail_context(request, group, add_form=add_form)
    )
    return _changed(toast(response, ok)) if ok else response


def _membership_to_add(request: WorkspaceRequest, form: GroupMemberAddForm) -> Membership | None:
    """The member picked from the search (by id, scoped to the workspace), or the one
    whose address was typed."""
    member_id = request.POST.get("member", "")
    if member_id:
        if not member_id.isdigit():
            raise Http404
        return access_member(request.actor, int(member_id))
    if not form.is_valid():
        return None
    membership = selectors.member_by_email(request.workspace, form.cleaned_data["email"])
    if membership is None:
        form.add_error("email", NO_SUCH_MEMBER)
    return membership


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def member_add(request: WorkspaceRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    form = GroupMemberAddForm(request.POST)
    membership = _membership_to_add(request, form)
    if membership is None:
        return _members_answer(request, group, add_form=form)
    try:
        services.group_member_add(actor=request.actor, group=group, membership=membership)
    except DomainError as exc:
        form = GroupMemberAddForm({"email": membership.user.email})
        form.is_valid()
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
