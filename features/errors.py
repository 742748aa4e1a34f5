"""Messages of the errors a user can meet on the feature pages (raised as
``core.errors.DomainError``), kept here so tests reuse them."""

from __future__ import annotations

UNKNOWN_FEATURE = "Choose a feature from the list."
UNKNOWN_EFFECT = "Choose allow, inherit or deny."
UNKNOWN_TARGET = "Choose the whole workspace, a group or a member."
TARGET_ID_MISSING = "Say which group or member the rule is for."
ONE_TARGET = "A rule is for the whole workspace, one group or one member, not several."
GROUP_NOT_IN_WORKSPACE = "This group does not belong to the workspace."
MEMBER_NOT_IN_WORKSPACE = "This member does not belong to the workspace."
NEWS_MEDIA_CUSTOMER = (
    "Media Customer: admins cannot switch verified news on for a workspace that disseminates "
    "information for editorial purposes. Request an editorial-use authorization on the "
    "compliance page instead."
)
NOT_SWITCHABLE = "{feature} cannot be switched on or off by users; an admin decides."
SWITCH_NOT_ALLOWED = "You cannot switch {feature} on or off: {reason}"
