"""Groups of members (R-WS-7). Everyone in the workspace may look; only members with
Perm.MANAGE_GROUPS change them. HTMX requests get the section they act on back plus a
toast; plain form posts redirect (post, redirect, get)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from accounts import selectors, services
from accounts.errors import DomainError
from accounts.member_forms import NO_SUCH_MEMBER, GroupMemberAddForm, GroupNameForm
from accounts.models import Group, Membership
from accounts.roles import Perm, has_perm
from accounts.views import confirm
from console.access import scoped, workspace_view

PAGE_SIZE = 50
# How many members the delete confirmation names before "and N more".
DELETE_NAMES = 5
# How many matches the member picker lists.
PICKER_SIZE = 10
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
    page = Paginator(selectors.group_list(request.workspace), PAGE_SIZE).get_page(
        request.GET.get("page")
    )  # type: ignore[attr-defined]
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
                actor=request.user, workspace=ws, name=form.cleaned_data["name"]
            )  # type: ignore[arg-type]
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


def _picker_query(request: HttpRequest) -> str:
    data = request.POST if request.method == "POST" else request.GET
    return data.get("q", "").strip()[: selectors.MEMBER_SEARCH_MAX]


def _picker_context(request: HttpRequest, group: Group) -> dict[str, Any]:
    """The member picker: members of the workspace outside the group that match the
    search, at most PICKER_SIZE of them."""
    q = _picker_query(request)
    found = selectors.group_member_candidates(group, q, limit=PICKER_SIZE + 1) if q else []
    return {"q": q, "candidates": found[:PICKER_SIZE], "more_candidates": len(found) > PICKER_SIZE}


def _detail_context(
    request: HttpRequest,
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
        "detail_url": reverse("ws:group_detail", args=[request.workspace.slug, group.pk]),  # type: ignore[attr-defined]
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
def detail(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    context = _detail_context(request, group)
    template = DETAIL
    if _partial(request):
        target = request.htmx.target  # type: ignore[attr-defined]
        part = target if target in REFRESHED_PARTS else "group-members"
        template = f"{DETAIL}#{part}"
        # Only the title's answer carries a <title>, which htmx puts on the tab.
        context["refresh_title"] = part == "group-title"
    response = TemplateResponse(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_http_methods(["GET"])
@workspace_view(Perm.MANAGE_GROUPS)
def member_search(request: HttpRequest, group_id: int) -> HttpResponse:
    """The member picker's results for HTMX; without JavaScript, the picker's search form
    opens the group's page with the same results."""
    group = _group(request, group_id)
    if not _partial(request):
        url = reverse("ws:group_detail", args=[request.workspace.slug, group.pk])  # type: ignore[attr-defined]
        q = _picker_query(request)
        return redirect(f"{url}?{urlencode({'q': q})}#add-members" if q else url)
    context = {"group": group, "can_manage": True, **_picker_context(request, group)}
    return TemplateResponse(request, f"{DETAIL}#picker-results", context)


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def rename(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    form = GroupNameForm(request.POST)
    done = False
    if form.is_valid():
        try:
            group = services.group_rename(
                actor=request.user, group=group, name=form.cleaned_data["name"]
            )  # type: ignore[arg-type]
            done = True
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if done and not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, f"Group renamed to {group.name}.")
        return redirect("ws:group_detail", request.workspace.slug, group.pk)  # type: ignore[attr-defined]
    template = f"{DETAIL}#group-header" if request.htmx else DETAIL  # type: ignore[attr-defined]
    context = _detail_context(request, group, rename_form=None if done else form)
    response = TemplateResponse(request, template, context)
    return _changed(_toast(response, f"Group renamed to {group.name}.")) if done else response


def _delete_confirmation(request: HttpRequest, group: Group) -> confirm.Confirmation:
    slug = request.workspace.slug  # type: ignore[attr-defined]
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
def delete(request: HttpRequest, group_id: int) -> HttpResponse:
    """Asks first (a page, or a dialog for HTMX) naming the members who lose what was
    shared with the group; deletes only on a post that carries the confirmation."""
    group = _group(request, group_id)
    if not confirm.is_confirmed(request):
        return confirm.ask(
            request, _delete_confirmation(request, group), page_title="Delete group", nav="groups"
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
            url = reverse("ws:group_detail", args=[request.workspace.slug, group.pk])  # type: ignore[attr-defined]
            q = _picker_query(request)
            return redirect(f"{url}?{urlencode({'q': q})}#add-members" if q else url)
        return TemplateResponse(request, DETAIL, _detail_context(request, group, add_form=add_form))
    response = TemplateResponse(
        request, f"{DETAIL}#group-members", _detail_context(request, group, add_form=add_form)
    )
    return _changed(_toast(response, ok)) if ok else response


def _membership_to_add(request: HttpRequest, form: GroupMemberAddForm) -> Membership | None:
    """The member picked from the search (by id, scoped to the workspace), or the one
    whose address was typed."""
    member_id = request.POST.get("member", "")
    if member_id:
        if not member_id.isdigit():
            raise Http404
        found: Membership = scoped(
            Membership.objects.select_related("user"),  # type: ignore[arg-type]
            request,
            pk=int(member_id),
        )
        return found
    if not form.is_valid():
        return None
    membership = selectors.member_by_email(request.workspace, form.cleaned_data["email"])  # type: ignore[attr-defined]
    if membership is None:
        form.add_error("email", NO_SUCH_MEMBER)
    return membership


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def member_add(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    form = GroupMemberAddForm(request.POST)
    membership = _membership_to_add(request, form)
    if membership is None:
        return _members_answer(request, group, add_form=form)
    try:
        services.group_member_add(actor=request.user, group=group, membership=membership)  # type: ignore[arg-type]
    except DomainError as exc:
        form = GroupMemberAddForm({"email": membership.user.email})
        form.is_valid()
        form.add_error("email", exc.message)
        return _members_answer(request, group, add_form=form)
    return _members_answer(request, group, ok=f"{membership.user.email} added to {group.name}.")


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_GROUPS)
def member_remove(request: HttpRequest, group_id: int, member_id: int) -> HttpResponse:
    group = _group(request, group_id)
    membership: Membership = scoped(
        Membership.objects.select_related("user"), request, pk=member_id
    )  # type: ignore[arg-type]
    services.group_member_remove(actor=request.user, group=group, membership=membership)  # type: ignore[arg-type]
    return _members_answer(request, group, ok=f"{membership.user.email} removed from {group.name}.")
