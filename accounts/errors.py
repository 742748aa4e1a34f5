"""Messages of the accounts services' errors (``core.errors.DomainError``), kept here so
tests reuse them."""

from __future__ import annotations

LAST_OWNER = "A workspace always keeps at least one owner: make someone else owner first."
ROLE_NOT_ALLOWED = "Your role does not allow giving this role."
CANNOT_CHANGE_SELF = "You cannot change your own role or status here."
ALREADY_MEMBER = "Already a member of this workspace."
JOIN_REQUEST_DECIDED = "This request has already been decided."
JOIN_REQUEST_ALREADY_MEMBER = (
    "{email} is already a member of this workspace; the request is closed."
)
ALREADY_INVITED = "Already invited: resend the pending invitation instead."
INVITATION_INVALID = "This invitation link is not valid. Check that you copied all of it."
INVITATION_EXPIRED = "This invitation has expired. Ask an admin of the workspace for a new one."
INVITATION_REVOKED = "This invitation was revoked by an admin of the workspace."
INVITATION_USED = "This invitation has already been used."
INVITATION_WRONG_USER = (
    "This invitation was sent to {email}. Sign in with that address to accept it."
)
INVITATION_NOT_PENDING = "Only a pending invitation can be resent or revoked."
GROUP_EXISTS = "A group with this name already exists."
FREE_MAIL_DOMAIN = "This is a public email provider's domain; claim your organization's own domain."
DOMAIN_TAKEN = "This domain is already verified by another workspace."
DOMAIN_ALREADY_CLAIMED = "This workspace has already claimed this domain."
WORKSPACE_SUSPENDED = "This workspace is suspended; changes are disabled."
SLUG_TAKEN = "This address is already taken; choose another."
NOT_A_MEMBER_OF_GROUP_WORKSPACE = "This member does not belong to the group's workspace."
OWNER_REQUIRED = "Choose the user who will own the new workspace."
JOIN_SUSPENDED = "This workspace is suspended: nobody can join it until the suspension is lifted."
WORKSPACE_RENAME_NOT_ALLOWED = "Only admins and owners of this workspace can rename it."
WORKSPACE_NAME_REQUIRED = "Enter a name."


def no_seat_left(limit: int) -> str:
    """The refusal of a join (or a reactivation) when every seat of the plan is taken."""
    return (
        f"This workspace has no seat left: its plan allows {limit} member"
        f"{'s' if limit != 1 else ''}. An owner or billing member can change the plan."
    )
