"""Resolving the workspace of a request, and the one door to each kind of workspace
object (R-SEC-1).

Every view under /w/<slug>/ goes through ``workspace_view``: a signed-out visitor is sent
to sign in, a user who is not an active member gets 404 (never 403, which would confirm
the workspace exists), and a member whose role lacks the permission gets 403 (they know
the workspace; the page says why). A suspended workspace's pages can be read, but changes
answer the suspension page.

Views then fetch the objects a URL names through the ``access_<thing>`` functions, which
scope to the actor's workspace and authorize in one call, and answer 404 whether the
object is missing, of another workspace, or out of the actor's reach. Views never call a
tenant model's manager themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase
from django.template.response import TemplateResponse
from django_htmx.middleware import HtmxDetails

from core import statements

from .actor import Actor, ActorKind
from .models import (
    Domain,
    Group,
    Invitation,
    JoinRequest,
    Membership,
    MemberStatus,
    User,
    Workspace,
)
from .roles import Perm, has_perm


class WorkspaceRequest(HttpRequest):
    """The request of a workspace page, as ``workspace_view`` leaves it."""

    user: User
    workspace: Workspace
    membership: Membership
    actor: Actor
    htmx: HtmxDetails


View = Callable[..., HttpResponseBase]


# Membership and workspace as one row (``membership_of_row``), for the hot reads of a
# member: every workspace page, every call of the service API.
MEMBERSHIP_COLUMNS = statements.attnames(Membership)
WORKSPACE_COLUMNS = statements.attnames(Workspace)
MEMBER_ROW = (*MEMBERSHIP_COLUMNS, *(f"workspace__{n}" for n in WORKSPACE_COLUMNS))


def membership_of_row(row: Sequence[Any]) -> tuple[Membership, int]:
    """The membership with its workspace made of a row of ``MEMBER_ROW`` (then anything),
    and where the rest of the row starts."""
    membership, at = statements.instance(Membership, MEMBERSHIP_COLUMNS, row, 0)
    workspace, at = statements.instance(Workspace, WORKSPACE_COLUMNS, row, at)
    Membership.workspace.field.set_cached_value(membership, workspace)
    return membership, at


_ACTIVE_MEMBER = statements.Statement(
    lambda slug, user_id: Membership.objects.filter(
        workspace__slug=slug, user_id=user_id, status=MemberStatus.ACTIVE
    ).values_list(*MEMBER_ROW)[:1],
    slug=str,
    user_id=int,
)


def get_membership(user: Any, slug: str) -> Membership:
    """The user's active membership of the workspace ``slug``, with the workspace, or 404:
    one query, compiled once (every workspace page asks it)."""
    if not user.is_authenticated:
        raise Http404
    row = _ACTIVE_MEMBER.first(slug=slug, user_id=user.pk)
    if row is None:
        raise Http404("No such workspace.")
    membership, _ = membership_of_row(row)
    # The signed-in user is the membership's: no second read of them.
    Membership.user.field.set_cached_value(membership, user)
    return membership


def workspace_view(
    perm: Perm = Perm.VIEW_WORKSPACE, *, allow_when_suspended: bool = False
) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            membership = get_membership(request.user, slug)
            wreq = cast(WorkspaceRequest, request)
            wreq.workspace = membership.workspace
            wreq.membership = membership
            wreq.actor = Actor.member(membership)
            if not has_perm(membership.role, perm):
                if request.method in ("GET", "HEAD"):
                    return TemplateResponse(
                        request,
                        "403.html",
                        {"message": "Your role does not give access to this page."},
                        status=403,
                    )
                raise PermissionDenied
            ws = membership.workspace
            if (
                ws.is_suspended
                and request.method not in ("GET", "HEAD")
                and not allow_when_suspended
            ):
                return TemplateResponse(request, "suspended.html", {"workspace": ws}, status=403)
            return view(wreq, *args, **kwargs)

        wrapper.workspace_perm = perm  # type: ignore[attr-defined]
        return wrapper

    return decorator


# --- One door per object kind ---------------------------------------------------------------


def _workspace_id(actor: Actor, perm: Perm) -> int:
    """The workspace the actor may reach objects of with ``perm``, or 404."""
    m = actor.membership
    if actor.kind is not ActorKind.MEMBER or m is None:
        raise Http404
    if m.status != MemberStatus.ACTIVE:
        raise Http404
    if not has_perm(m.role, perm):
        raise Http404
    return m.workspace_id


def _fetch[T: Model](actor: Actor, perm: Perm, qs: QuerySet[T], pk: int, what: str) -> T:
    """The row ``pk`` of ``qs`` in the actor's workspace, or 404 (missing, foreign or out of
    the role's reach alike)."""
    found = qs.filter(pk=pk, workspace_id=_workspace_id(actor, perm)).first()
    if found is None:
        raise Http404(f"No such {what}.")
    return found


def fetch_in_workspace[T: Model](
    actor: Actor, perm: Perm, qs: QuerySet[T], pk: int, what: str
) -> T:
    """The door other apps build their own ``access_<thing>`` on: the row ``pk`` of ``qs``
    in the actor's workspace, authorized for ``perm``, or 404."""
    return _fetch(actor, perm, qs, pk, what)


def access_member(actor: Actor, member_id: int) -> Membership:
    """A membership of the actor's workspace (active or not), with its user."""
    qs = Membership.objects.select_related("user", "workspace")
    return _fetch(actor, Perm.VIEW_MEMBERS, qs, member_id, "member")


def access_group(actor: Actor, group_id: int) -> Group:
    qs = Group.objects.select_related("workspace")
    return _fetch(actor, Perm.VIEW_WORKSPACE, qs, group_id, "group")


def access_invitation(actor: Actor, invitation_id: int) -> Invitation:
    qs = Invitation.objects.select_related("workspace")
    return _fetch(actor, Perm.MANAGE_INVITATIONS, qs, invitation_id, "invitation")


def access_domain(actor: Actor, domain_id: int) -> Domain:
    qs = Domain.objects.select_related("workspace")
    return _fetch(actor, Perm.MANAGE_DOMAINS, qs, domain_id, "domain")


def access_join_request(actor: Actor, request_id: int) -> JoinRequest:
    qs = JoinRequest.objects.select_related("workspace", "user")
    return _fetch(actor, Perm.MANAGE_DOMAINS, qs, request_id, "request")
