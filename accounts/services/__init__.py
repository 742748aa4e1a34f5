"""Every change of state of accounts and workspaces, one module per area as the views are
(``workspace``, ``members``, ``invitations``, ``groups``, ``domains``). Each service takes
the acting party first (``actor``, an ``accounts.actor.Actor``) and checks its right to
act itself, runs in one transaction, writes its audit event and enqueues its emails on
commit. Errors a user can meet are ``DomainError`` with a message to show.

Callers use ``accounts.services.<name>``; the names are gathered here."""

from __future__ import annotations

from .domains import (
    DOMAIN_RE,
    domain_autojoin,
    domain_check,
    domain_claim,
    domain_remove,
    join_request_approve,
    join_request_decline,
    normalize_domain,
)
from .groups import (
    group_create,
    group_delete,
    group_member_add,
    group_member_remove,
    group_rename,
)
from .invitations import (
    EMAIL_SPLIT,
    INVITATION_SALT,
    MAX_INVITES_AT_ONCE,
    InviteResult,
    invitation_accept,
    invitation_create_many,
    invitation_from_token,
    invitation_resend,
    invitation_revoke,
    invitation_token,
    invitation_url,
    invitations_expire,
    parse_email_list,
    user_has_verified_email,
)
from .members import (
    member_deactivate,
    member_leave,
    member_reactivate,
    member_remove,
    member_role_change,
)
from .workspace import (
    terms_accept,
    workspace_create,
    workspace_reactivate,
    workspace_rename,
    workspace_suspend,
    workspace_update_join_settings,
)

__all__ = [
    "DOMAIN_RE",
    "EMAIL_SPLIT",
    "INVITATION_SALT",
    "InviteResult",
    "MAX_INVITES_AT_ONCE",
    "domain_autojoin",
    "domain_check",
    "domain_claim",
    "domain_remove",
    "group_create",
    "group_delete",
    "group_member_add",
    "group_member_remove",
    "group_rename",
    "invitation_accept",
    "invitation_create_many",
    "invitation_from_token",
    "invitation_resend",
    "invitation_revoke",
    "invitation_token",
    "invitation_url",
    "invitations_expire",
    "join_request_approve",
    "join_request_decline",
    "member_deactivate",
    "member_leave",
    "member_reactivate",
    "member_remove",
    "member_role_change",
    "normalize_domain",
    "parse_email_list",
    "terms_accept",
    "user_has_verified_email",
    "workspace_create",
    "workspace_reactivate",
    "workspace_rename",
    "workspace_suspend",
    "workspace_update_join_settings",
]
