"""POST /api/service/workspaces/<slug>/feature-use (R-FEAT-4, R-MEDIA-3, R-KEY-3): the
gateway's reports of feature use, recorded once per event id, and the Media Customer's
suspension when one of its members uses verified news."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import IntegrityError
from django.utils import timezone

from accounts.audit import Action as AccountAction
from accounts.models import AuditEvent, MemberStatus, Workspace
from api import errors, services
from api import forms as api_forms
from api.models import FeatureUseEvent
from compliance.models import EditorialAuthorization, MediaStatusChange, NewsViolation
from tests.api.conftest import report, use_body
from tests.factories import FeatureOptOutFactory, GroupFactory

pytestmark = pytest.mark.django_db


def test_new_event_is_recorded_with_the_decision(api, workspace, member, owner) -> None:
    response = report(api, "acme", use_body(member, occurred_at="2026-11-25T10:30:00+01:00"))

    assert response.status_code == 201
    assert response.json() == {
        "event_id": "evt-1",
        "recorded": True,
        "duplicate": False,
        "decision": {"allowed": True, "code": "allowed", "reason": "Included in the Free plan."},
        "workspace_suspended": False,
    }
    event = FeatureUseEvent.objects.get()
    assert (event.workspace, event.membership, event.user_email) == (
        workspace,
        member,
        "member@acme.test",
    )
    assert (event.feature, event.outcome, event.event_id) == ("web_search", "used", "evt-1")
    assert event.occurred_at == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert (event.allowed, event.code) == (True, "allowed")
    assert event.received_at <= timezone.now()


def test_member_by_id_as_number_or_digits(api, member, owner) -> None:
    assert (
        report(api, "acme", use_body(member, event_id="a", member=member.user_id)).status_code
        == 201
    )
    assert (
        report(api, "acme", use_body(member, event_id="b", member=str(member.user_id))).status_code
        == 201
    )
    assert (
        report(api, "acme", use_body(member, event_id="c", member="MEMBER@acme.test")).status_code
        == 201
    )
    assert set(FeatureUseEvent.objects.values_list("membership", flat=True)) == {member.pk}


def test_a_denied_feature_is_recorded_as_denied(api, member, owner) -> None:
    response = report(api, "acme", use_body(member, feature="fine_tuning", outcome="attempted"))
    assert response.status_code == 201
    assert response.json()["decision"] == {
        "allowed": False,
        "code": "not_in_plan",
        "reason": "Not included in the Free plan.",
    }
    assert FeatureUseEvent.objects.get().allowed is False


def test_replay_returns_the_stored_result_and_records_nothing_more(api, member, owner) -> None:
    first = report(api, "acme", use_body(member))
    # The member switches the feature off afterwards: the replay still answers what was decided.
    FeatureOptOutFactory(workspace=member.workspace, membership=member, feature="web_search")
    again = report(api, "acme", use_body(member, member=member.user_id))  # the same member, by id

    assert again.status_code == 200
    assert again.json() == {**first.json(), "duplicate": True}
    assert FeatureUseEvent.objects.count() == 1


def test_same_event_id_in_another_workspace_is_another_event(
    api, member, owner, other_workspace_member
) -> None:
    assert report(api, "acme", use_body(member)).status_code == 201
    assert report(api, "globex", use_body(other_workspace_member)).status_code == 201
    assert FeatureUseEvent.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"feature": "canvas"}, "feature"),
        ({"outcome": "attempted"}, "outcome"),
        ({"occurred_at": "2026-11-25T09:31:00Z"}, "occurred_at"),
        ({"member": "owner@acme.test"}, "member"),
    ],
)
def test_conflicting_replay_is_409(api, member, owner, change: dict[str, str], field: str) -> None:
    report(api, "acme", use_body(member))
    response = report(api, "acme", use_body(member, **change))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == errors.EVENT_CONFLICT
    assert error["message"] == errors.EVENT_CONFLICTS.format(event_id="evt-1")
    assert list(error["fields"]) == [field]
    assert FeatureUseEvent.objects.count() == 1


def test_same_instant_in_another_offset_is_the_same_event(api, member, owner) -> None:
    report(api, "acme", use_body(member, occurred_at="2026-11-25T09:30:00Z"))
    response = report(api, "acme", use_body(member, occurred_at="2026-11-25T10:30:00+01:00"))
    assert response.status_code == 200
    assert response.json()["duplicate"] is True


def test_race_of_two_identical_events_answers_as_a_duplicate(
    api, member, owner, monkeypatch
) -> None:
    """Both requests looked before either wrote: the second one's insert fails on the unique
    constraint, and it answers as a replay of the first instead of an error."""
    report(api, "acme", use_body(member))
    real_filter = FeatureUseEvent.objects.filter
    calls = {"n": 0}

    class Blind:
        def first(self) -> None:
            return None

    def filter_missing_the_first_lookup(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return Blind() if calls["n"] == 1 else real_filter(*args, **kwargs)

    monkeypatch.setattr(FeatureUseEvent.objects, "filter", filter_missing_the_first_lookup)
    response = report(api, "acme", use_body(member))

    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    monkeypatch.undo()
    assert FeatureUseEvent.objects.count() == 1


def test_an_integrity_error_that_is_not_a_replay_is_not_hidden(member, owner, monkeypatch) -> None:
    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise IntegrityError("something else")

    monkeypatch.setattr(FeatureUseEvent.objects, "create", broken)
    with pytest.raises(IntegrityError):
        services.feature_use_record(
            membership=member,
            feature="web_search",
            outcome="used",
            event_id="x",
            occurred_at=timezone.now(),
        )


# --- Bad requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["{", "", "not json", '{"event_id": "a",}', b"\xff\xfe\x00", "[" * 100_000]
)
def test_malformed_json_is_400(api, member, owner, body: str) -> None:
    response = report(api, "acme", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == errors.MALFORMED_JSON
    assert error["message"].startswith("The body is not valid JSON: ")
    assert not FeatureUseEvent.objects.exists()


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null"])
def test_body_that_is_not_an_object_is_400(api, member, owner, body: str) -> None:
    response = report(api, "acme", body)
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": errors.INVALID_REQUEST, "message": errors.BODY_NOT_OBJECT}
    }


def test_missing_fields_are_each_named(api, member, owner) -> None:
    response = report(api, "acme", {})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == errors.INVALID_REQUEST
    assert error["message"] == errors.FIELDS_INVALID
    assert error["fields"] == {
        name: api_forms.MISSING
        for name in ("event_id", "member", "feature", "occurred_at", "outcome")
    }


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"event_id": ""}, "event_id", api_forms.EVENT_ID_INVALID),
        ({"event_id": "   "}, "event_id", api_forms.EVENT_ID_INVALID),
        ({"event_id": "x" * 101}, "event_id", api_forms.EVENT_ID_INVALID),
        ({"event_id": 17}, "event_id", api_forms.EVENT_ID_INVALID),
        ({"member": True}, "member", api_forms.MEMBER_INVALID),
        ({"member": -3}, "member", api_forms.MEMBER_INVALID),
        ({"member": "nobody"}, "member", api_forms.MEMBER_INVALID),
        ({"member": None}, "member", api_forms.MEMBER_INVALID),
        ({"feature": 3}, "feature", api_forms.FEATURE_INVALID),
        ({"feature": "teleport"}, "feature", api_forms.unknown_feature_message("teleport")),
        ({"outcome": "maybe"}, "outcome", api_forms.OUTCOME_INVALID),
        ({"outcome": ["used"]}, "outcome", api_forms.OUTCOME_INVALID),
        ({"occurred_at": "yesterday"}, "occurred_at", api_forms.OCCURRED_AT_INVALID),
        ({"occurred_at": "2026-13-45T09:30:00Z"}, "occurred_at", api_forms.OCCURRED_AT_INVALID),
        ({"occurred_at": 1764063000}, "occurred_at", api_forms.OCCURRED_AT_INVALID),
        ({"occurred_at": "2026-11-25T09:30:00"}, "occurred_at", api_forms.OCCURRED_AT_NAIVE),
    ],
)
def test_bad_field_is_400_naming_it(api, member, owner, change, field: str, message: str) -> None:  # type: ignore[no-untyped-def]
    response = report(api, "acme", use_body(member, **change))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == errors.INVALID_REQUEST
    assert error["fields"] == {field: message}
    assert not FeatureUseEvent.objects.exists()


def test_unknown_feature_lists_the_known_ones(api, member, owner) -> None:
    response = report(api, "acme", use_body(member, feature="teleport"))
    message = response.json()["error"]["fields"]["feature"]
    assert message.startswith(
        "Unknown feature “teleport”. Known features: web_search, news, image_generation"
    )


def test_unknown_workspace_is_404(api, member) -> None:
    response = report(api, "initech", use_body(member))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == errors.WORKSPACE_NOT_FOUND
    assert not FeatureUseEvent.objects.exists()


def test_unknown_member_is_404(api, owner, other_workspace_member) -> None:
    for ref in ("ghost@acme.test", 987654, other_workspace_member.user.email):
        response = report(api, "acme", {**use_body(owner), "member": ref})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == errors.MEMBER_NOT_FOUND
    assert not FeatureUseEvent.objects.exists()


def test_deactivated_member_is_recorded_as_inactive(api, member, owner) -> None:
    member.status = MemberStatus.DEACTIVATED
    member.save(update_fields=["status"])
    response = report(api, "acme", use_body(member))
    assert response.status_code == 201
    assert response.json()["decision"]["code"] == "membership_inactive"


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_are_405_json(api, member, owner, method: str) -> None:
    response = getattr(api, method)("/api/service/workspaces/acme/feature-use")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"]["code"] == errors.METHOD_NOT_ALLOWED


# --- Verified news and Media Customers (R-MEDIA-3) ---------------------------------------


def media_customer(workspace: Workspace) -> None:
    MediaStatusChange.objects.create(workspace=workspace, is_media_customer=True, source="self")


@pytest.mark.parametrize("outcome", ["used", "attempted"])
def test_news_use_by_a_media_customer_suspends_the_workspace(
    api, workspace, member, owner, staff, django_capture_on_commit_callbacks, outcome: str
) -> None:
    media_customer(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        response = report(api, "acme", use_body(member, feature="news", outcome=outcome))

    assert response.status_code == 201
    body = response.json()
    assert body["workspace_suspended"] is True
    assert body["decision"]["allowed"] is False
    assert body["decision"]["code"] == "media_customer"
    workspace.refresh_from_db()
    assert workspace.is_suspended
    assert "Verified news used by a Media Customer" in workspace.suspension_reason
    violation = NewsViolation.objects.get()
    assert (violation.workspace, violation.membership, violation.event_id) == (
        workspace,
        member,
        "evt-1",
    )
    assert (
        AuditEvent.objects.filter(
            workspace=workspace, action=AccountAction.WORKSPACE_SUSPENDED
        ).count()
        == 1
    )
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert "owner@acme.test" in recipients
    assert "staff@console.test" in recipients
    assert "member@acme.test" not in recipients


def test_replayed_news_report_does_nothing_more(
    api, workspace, member, owner, staff, django_capture_on_commit_callbacks
) -> None:
    media_customer(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        first = report(api, "acme", use_body(member, feature="news"))
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        again = report(api, "acme", use_body(member, feature="news"))

    assert again.status_code == 200
    assert again.json() == {**first.json(), "duplicate": True}
    assert NewsViolation.objects.count() == 1
    assert FeatureUseEvent.objects.count() == 1
    assert AuditEvent.objects.filter(action=AccountAction.WORKSPACE_SUSPENDED).count() == 1
    assert len(mail.outbox) == sent


def test_news_use_in_a_workspace_that_is_no_media_customer_suspends_nothing(
    api, workspace, member, owner, staff, django_capture_on_commit_callbacks
) -> None:
    # Once declared, then withdrawn: the latest status counts.
    media_customer(workspace)
    MediaStatusChange.objects.create(workspace=workspace, is_media_customer=False, source="self")
    with django_capture_on_commit_callbacks(execute=True):
        response = report(api, "acme", use_body(member, feature="news"))

    assert response.status_code == 201
    assert response.json()["workspace_suspended"] is False
    assert response.json()["decision"]["allowed"] is True
    workspace.refresh_from_db()
    assert not workspace.is_suspended
    assert not NewsViolation.objects.exists()
    assert not mail.outbox


def test_other_features_of_a_media_customer_suspend_nothing(api, workspace, member, owner) -> None:
    media_customer(workspace)
    response = report(api, "acme", use_body(member, feature="web_search"))
    assert response.status_code == 201
    assert response.json()["workspace_suspended"] is False
    assert not NewsViolation.objects.exists()


def test_news_use_covered_by_an_editorial_authorization_suspends_nothing(
    api, workspace, member, owner
) -> None:
    media_customer(workspace)
    desk = GroupFactory(workspace=workspace, name="News desk")
    desk.members.add(member)
    EditorialAuthorization.objects.create(
        workspace=workspace,
        reason="Fact-checking",
        requested_scope="News desk",
        status="approved",
        scope_group=desk,
        ends_on=timezone.now().date(),
    )
    response = report(api, "acme", use_body(member, feature="news"))
    assert response.status_code == 201
    assert response.json()["decision"]["allowed"] is True
    assert response.json()["workspace_suspended"] is False
    assert not NewsViolation.objects.exists()


def test_reports_to_a_suspended_workspace_are_still_recorded(api, workspace, member, owner) -> None:
    Workspace.objects.filter(pk=workspace.pk).update(
        suspended_at=timezone.now(), suspension_reason="Unpaid"
    )
    response = report(api, "acme", use_body(member))
    assert response.status_code == 201
    assert response.json()["decision"]["code"] == "workspace_suspended"
    assert response.json()["workspace_suspended"] is True
