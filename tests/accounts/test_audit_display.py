"""The audit log as people read it (R-WS-8): a sentence per event and labels for values,
on the audit page and the dashboard; the raw codes stay in the CSV export only."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse

from accounts import services
from accounts.actor import Actor
from accounts.audit import Action
from accounts.audit_display import (
    SENTENCES,
    action_label,
    changes,
    describe,
    role_label,
    value_label,
)
from accounts.models import AuditEvent, Workspace
from core.audit import all_actions
from tests.conftest import HTMX

# One event of each action, in the shapes the services write (old label-style values and
# new raw ones both occur in a log that is never rewritten).
SAMPLES: dict[str, dict[str, Any]] = {
    Action.WORKSPACE_CREATED: {"after": {"name": "Acme", "slug": "acme"}},
    Action.WORKSPACE_UPDATED: {
        "before": {"join_mode": "request", "default_role": "Member"},
        "after": {"join_mode": "auto", "default_role": 20},
    },
    Action.WORKSPACE_SUSPENDED: {"after": {"reason": "Unpaid invoices"}, "actor_email": ""},
    Action.WORKSPACE_REACTIVATED: {"before": {"reason": "Unpaid invoices"}},
    Action.MEMBER_JOINED: {
        "target_repr": "alan@acme.test",
        "after": {"role": 10, "via": "invitation", "groups": ["Research", "Design"]},
    },
    Action.MEMBER_ROLE_CHANGED: {
        "target_repr": "alan@acme.test",
        "before": {"role": 10},
        "after": {"role": 30},
    },
    Action.MEMBER_DEACTIVATED: {
        "target_repr": "alan@acme.test",
        "before": {"status": "active"},
        "after": {"status": "deactivated"},
    },
    Action.MEMBER_REACTIVATED: {
        "target_repr": "alan@acme.test",
        "before": {"status": "deactivated"},
        "after": {"status": "active"},
    },
    Action.MEMBER_REMOVED: {
        "target_repr": "alan@acme.test",
        "before": {"role": "Admin", "status": "active"},
    },
    Action.MEMBER_LEFT: {"target_repr": "alan@acme.test", "before": {"role": 10}},
    Action.INVITATION_SENT: {
        "target_repr": "grace@acme.test",
        "after": {"email": "grace@acme.test", "role": 20, "groups": []},
    },
    Action.INVITATION_RESENT: {"target_repr": "grace@acme.test", "after": {"send_count": 3}},
    Action.INVITATION_REVOKED: {
        "target_repr": "grace@acme.test",
        "before": {"status": "pending"},
        "after": {"status": "revoked"},
    },
    Action.INVITATION_ACCEPTED: {
        "target_repr": "grace@acme.test",
        "actor_email": "grace@acme.test",
    },
    Action.INVITATION_EXPIRED: {"target_repr": "grace@acme.test", "actor_email": ""},
    Action.GROUP_CREATED: {"target_repr": "Research", "after": {"name": "Research"}},
    Action.GROUP_RENAMED: {"before": {"name": "Research"}, "after": {"name": "R&D"}},
    Action.GROUP_DELETED: {"before": {"name": "Research", "members": 3}},
    Action.GROUP_MEMBER_ADDED: {"target_repr": "Research", "after": {"member": "alan@acme.test"}},
    Action.GROUP_MEMBER_REMOVED: {
        "target_repr": "Research",
        "before": {"member": "alan@acme.test"},
    },
    Action.DOMAIN_CLAIMED: {"after": {"name": "acme.org"}},
    Action.DOMAIN_VERIFIED: {"after": {"name": "acme.org"}, "actor_email": ""},
    Action.DOMAIN_CHECK_FAILED: {"after": {"name": "acme.org", "error": "No TXT record"}},
    Action.DOMAIN_REMOVED: {"before": {"name": "acme.org", "verified": True}},
    Action.JOIN_REQUESTED: {"target_repr": "hopeful@acme.org"},
    Action.JOIN_APPROVED: {"target_repr": "hopeful@acme.org"},
    Action.JOIN_DECLINED: {"target_repr": "hopeful@acme.org"},
    Action.JOIN_CLOSED: {"target_repr": "hopeful@acme.org", "actor_email": ""},
    "subscription.started": {"after": {"plan": "Team"}},
    "subscription.plan_changed": {"before": {"plan": "Free"}, "after": {"plan": "Team"}},
    "feature.rule_changed": {
        "target_type": "accounts.group",
        "target_repr": "Web search for Contractors",
        "before": {"feature": "web_search", "target": "Contractors", "effect": "inherit"},
        "after": {"feature": "web_search", "target": "Contractors", "effect": "deny"},
    },
    "feature.switched": {
        "target_repr": "Canvas for ada@acme.test",
        "before": {"feature": "canvas", "on": True},
        "after": {"feature": "canvas", "on": False},
    },
    "media_status.changed": {
        "before": {"is_media_customer": False, "source": "self"},
        "after": {"is_media_customer": True, "source": "staff", "note": "Press agency"},
    },
    "editorial_request.created": {
        "after": {"reason": "Our newsroom", "requested_scope": "Newsroom group"}
    },
    "editorial_request.decided": {
        "before": {"status": "pending"},
        "after": {"status": "approved", "scope": "Newsroom", "ends_on": "2027-01-31"},
    },
    "news_violation.recorded": {
        "actor_email": "",
        "target_repr": "alan@acme.test",
        "after": {"event_id": "e-1", "member": "alan@acme.test", "occurred_at": "2026-01-01"},
    },
    "appeal.filed": {"after": {"suspension_reason": "News used", "statement": "Sorry"}},
    "appeal.decided": {
        "before": {"status": "pending"},
        "after": {"status": "rejected", "note": "Repeated"},
    },
    "service_token.created": {"after": {"name": "Gateway", "prefix": "st_12ab"}},
    "service_token.revoked": {"after": {"name": "Gateway", "prefix": "st_12ab"}},
    "connection.created": {
        "target_repr": "Google Drive: Acme Drive",
        "after": {"provider": "google_drive", "account": "drive@acme.test"},
    },
    "connection.reauthorized": {
        "target_repr": "Google Drive: Acme Drive",
        "before": {"status": "needs_reauth"},
        "after": {"status": "connected"},
    },
    "connection.settings_changed": {
        "target_repr": "Google Drive: Acme Drive",
        "before": {"link_shares": "nobody"},
        "after": {"link_shares": "workspace"},
    },
    "connection.sync_requested": {
        "target_repr": "Google Drive: Acme Drive",
        "after": {"full": True},
    },
    "connection.paused": {"target_repr": "Google Drive: Acme Drive"},
    "connection.resumed": {"target_repr": "Google Drive: Acme Drive"},
    "connection.disconnected": {
        "target_repr": "Google Drive: Acme Drive",
        "after": {"documents": 120},
    },
    "library.created": {"target_repr": "Handbooks", "after": {"name": "Handbooks"}},
    "library.updated": {"target_repr": "Handbooks", "after": {"name": "Handbooks"}},
    "library.deleted": {"target_repr": "Handbooks", "before": {"name": "Handbooks"}},
    "library.shared": {
        "target_repr": "Handbooks",
        "after": {"target": "the group Research", "role": "viewer"},
    },
    "library.unshared": {
        "target_repr": "Handbooks",
        "before": {"target": "the group Research", "role": "viewer"},
    },
    "library.document_added": {"target_repr": "Handbooks", "after": {"title": "Onboarding.pdf"}},
    "library.document_removed": {
        "target_repr": "Handbooks",
        "before": {"title": "Onboarding.pdf"},
    },
    "agent.created": {"target_repr": "Triage", "after": {"name": "Triage", "version": 1}},
    "agent.updated": {"target_repr": "Triage", "before": {"version": 1}, "after": {"version": 2}},
    "agent.restored": {
        "target_repr": "Triage",
        "before": {"version": 3},
        "after": {"version": 4, "restored_from": 1},
    },
    "agent.shared": {
        "target_repr": "Triage",
        "after": {"target": "the group Research", "role": "editor"},
    },
    "agent.unshared": {
        "target_repr": "Triage",
        "before": {"target": "alan@acme.test", "role": "viewer"},
    },
    "agent.visibility_changed": {
        "target_repr": "Triage",
        "before": {"visibility": "workspace"},
        "after": {"visibility": "restricted"},
    },
    "agent.deleted": {"target_repr": "Triage", "before": {"name": "Triage", "members": 12}},
    "agent.disabled": {"target_repr": "Triage", "after": {"reason": "Impersonates a bank"}},
    "agent.enabled": {"target_repr": "Triage", "before": {"reason": "Impersonates a bank"}},
    "agent.name_approved": {"target_repr": "Mistral helper", "after": {"name": "Mistral helper"}},
    "agents.ended": {"after": {"agents": 7}, "actor_email": ""},
    "agent_settings.changed": {
        "before": {"default_visibility": "workspace", "workspace_sharing": "everyone"},
        "after": {"default_visibility": "restricted", "workspace_sharing": "admins"},
    },
    "blocked_term.added": {"after": {"term": "scam"}},
    "blocked_term.removed": {"before": {"term": "scam"}},
}


def event(action: str, **fields: Any) -> AuditEvent:
    fields.setdefault("actor_email", "ada@acme.test")
    return AuditEvent(workspace_name="Acme", action=action, **fields)


def test_every_action_has_a_sample_and_a_sentence() -> None:
    assert set(SAMPLES) == set(all_actions())
    assert set(SENTENCES) == set(all_actions())


@pytest.mark.parametrize("action", all_actions())
def test_every_action_reads_as_a_sentence_without_codes(action: str) -> None:
    for fields in (SAMPLES[action], {}):
        text = describe(event(action, **fields))
        assert len(text) > 10 and text.endswith(".")
        assert action not in text
        for code in ("_", "{", "[", "None", "True", "False"):
            assert code not in text.replace("st_12ab", ""), (action, text)
    assert action_label(action) != action and "." not in action_label(action)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"role": "Member"}, {"role": "Admin"}),
        ({"role": 10}, {"role": 30}),
        ({"role": "10"}, {"role": "30"}),
    ],
    ids=["labels", "values", "values-as-text"],
)
def test_roles_read_the_same_stored_as_labels_or_values(before, after) -> None:
    e = event(Action.MEMBER_ROLE_CHANGED, target_repr="alan@acme.test", before=before, after=after)
    assert describe(e) == "ada@acme.test changed the role of alan@acme.test from Member to Admin."
    assert changes(e) == [("Role", "Member", "Admin", False)]


def test_value_labels() -> None:
    assert (
        role_label(40) == "Owner" and role_label("Billing") == "Billing" and role_label(99) == "99"
    )
    assert value_label("status", "deactivated") == "Deactivated"
    assert value_label("status", "revoked") == "Revoked"
    assert value_label("status", "granted") == "Granted"
    assert value_label("join_mode", "auto") == "Join automatically"
    assert value_label("is_media_customer", True) == "Yes"
    assert value_label("verified", False) == "No"
    assert value_label("groups", ["Research", "Design"]) == "Research, Design"
    assert value_label("groups", []) == "None"
    assert value_label("feature", "web_search") == "Web search"
    assert value_label("effect", "deny") == "Deny"
    assert value_label("default_role", 20) == "Billing"
    assert value_label("note", None) == ""


def test_changes_label_keys_and_keep_shared_context_plain() -> None:
    rows = changes(event("feature.rule_changed", **SAMPLES["feature.rule_changed"]))
    assert rows == [
        ("Feature", "Web search", "Web search", True),
        ("Applies to", "Contractors", "Contractors", True),
        ("Rule", "Inherit", "Deny", False),
    ]
    rows = changes(event("media_status.changed", **SAMPLES["media_status.changed"]))
    assert ("Media Customer", "No", "Yes", False) in rows


def test_sentences_of_a_few_actions() -> None:
    def say(action: str) -> str:
        return describe(event(action, **SAMPLES[action]))

    assert say(Action.MEMBER_JOINED) == (
        "alan@acme.test joined as Member by invitation, in the groups Research, Design."
    )
    assert say(Action.WORKSPACE_UPDATED) == (
        "ada@acme.test changed the workspace settings: joining by domain from Ask an admin "
        "to approve to Join automatically; role of people who join by domain from Member "
        "to Billing."
    )
    assert say("feature.rule_changed") == (
        "ada@acme.test set the rule for Web search for the group Contractors from Inherit to Deny."
    )
    assert say("feature.switched") == "ada@acme.test switched Canvas off for themselves."
    assert say(Action.WORKSPACE_SUSPENDED) == "The workspace was suspended: Unpaid invoices."
    assert say(Action.GROUP_DELETED) == "ada@acme.test deleted the group Research (3 members)."
    renamed = event(Action.WORKSPACE_UPDATED, before={"name": "Acme"}, after={"name": "Acme Labs"})
    assert describe(renamed) == "ada@acme.test renamed the workspace from Acme to Acme Labs."


def test_unknown_action_reads_as_words() -> None:
    e = event("widget.exploded_twice", target_repr="Big widget")
    assert describe(e) == "Widget exploded twice by ada@acme.test: Big widget."
    assert action_label("widget.exploded_twice") == "Widget exploded twice"


# --- The pages -------------------------------------------------------------------------------


@pytest.fixture
def logged(workspace: Workspace, owner) -> list[AuditEvent]:
    return AuditEvent.objects.bulk_create(
        AuditEvent(
            workspace=workspace,
            workspace_name=workspace.name,
            actor_email=owner.user.email,
            action=action,
            **{k: v for k, v in SAMPLES[action].items() if k != "actor_email"},
        )
        for action in (
            Action.MEMBER_ROLE_CHANGED,
            "media_status.changed",
            Action.MEMBER_JOINED,
        )
    )


def _without_filter_options(html: str) -> str:
    # The action filter's <option value="..."> carry the codes the query needs.
    return html.split("</select>", 1)[1] if "</select>" in html else html


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_audit_page_shows_sentences_and_labels_not_codes(
    owner_client, workspace, logged, headers
) -> None:
    html = owner_client.get(reverse("ws:audit", args=["acme"]), **headers).content.decode()
    assert "owner@acme.test changed the role of alan@acme.test from Member to Admin." in html
    assert "owner@acme.test marked the workspace a Media Customer" in html
    assert "<dt>Media Customer</dt>" in html and "<ins>Yes</ins>" in html
    assert "<ins>Research, Design</ins>" in html
    body = _without_filter_options(html)
    for code in ("member.role_changed", "is_media_customer", '["Research"', "accounts.", "true"):
        assert code not in body, code


def test_audit_filter_lists_actions_by_label(owner_client, workspace, logged) -> None:
    html = owner_client.get(reverse("ws:audit", args=["acme"])).content.decode()
    assert '<option value="member.role_changed">Role changed</option>' in html


def test_dashboard_activity_shows_sentences(owner_client, workspace, owner) -> None:
    services.group_create(actor=Actor.member(owner), workspace=workspace, name="Research")
    AuditEvent.objects.create(
        workspace=workspace,
        actor_email="owner@acme.test",
        action=Action.MEMBER_ROLE_CHANGED,
        target_repr="alan@acme.test",
        before={"role": 10},
        after={"role": 30},
    )
    html = owner_client.get(reverse("ws:overview", args=["acme"])).content.decode()
    activity = html.split("Recent activity", 1)[1].split("</ul>", 1)[0]
    assert "owner@acme.test changed the role of alan@acme.test from Member to Admin." in activity
    assert "owner@acme.test created the group Research." in activity
    assert "member.role_changed" not in activity and "<code>" not in activity


def test_csv_export_keeps_the_codes(owner_client, workspace, logged) -> None:
    response = owner_client.get(reverse("ws:audit_export", args=["acme"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    actions = [row[2] for row in rows[1:]]
    assert Action.MEMBER_ROLE_CHANGED in actions
    assert any('"is_media_customer": true' in row[7] for row in rows[1:])
