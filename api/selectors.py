"""Reads of the service API: one member of a workspace, by user id or email."""

from __future__ import annotations

from accounts.models import Membership, Workspace

from .forms import MemberRef


def membership_by_ref(slug: str, ref: MemberRef) -> Membership | None:
    """The membership (active or deactivated) of the user named by ``ref`` in the workspace
    ``slug``, with its workspace and user, in one query."""
    members = Membership.objects.select_related("workspace", "user").filter(workspace__slug=slug)
    if ref.user_id is not None:
        return members.filter(user_id=ref.user_id).first()
    assert ref.email is not None
    # Addresses are stored lowercased: the exact match on the lowercased address uses the
    # unique index of users' emails, where a case-insensitive comparison reads every member
    # of the workspace. The comparison is kept for an address stored otherwise.
    return (
        members.filter(user__email=ref.email.lower()).first()
        or members.filter(user__email__iexact=ref.email).first()
    )


def workspace_exists(slug: str) -> bool:
    return Workspace.objects.filter(slug=slug).exists()
