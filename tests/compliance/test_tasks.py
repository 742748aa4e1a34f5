"""The email tasks are safe to run twice (tasks acknowledge late: a task whose worker died
is delivered again; a task that met a passing error is retried): nobody gets the same
email twice from one task run."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from accounts import emails
from accounts.models import Membership, User, Workspace
from accounts.tasks import send_invitation_email
from compliance.models import EditorialAuthorization
from compliance.tasks import send_editorial_request_to_staff
from tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_to_staff(workspace: Workspace, owner: Membership) -> EditorialAuthorization:
    for name in ("ann", "bob", "cy"):
        User.objects.create_user(f"{name}@console.test", "pw-staff-long-enough-1", is_staff=True)
    return EditorialAuthorization.objects.create(
        workspace=workspace,
        requested_by=owner.user,
        reason="Fact-checking",
        requested_scope="The desk",
    )


def _recipients() -> list[str]:
    return [address for message in mail.outbox for address in message.to]


def test_a_task_delivered_twice_mails_each_recipient_once(
    request_to_staff: EditorialAuthorization,
) -> None:
    for _ in range(2):
        send_editorial_request_to_staff.apply(args=[request_to_staff.pk], task_id="run-1")

    assert sorted(_recipients()) == ["ann@console.test", "bob@console.test", "cy@console.test"]


def test_a_retry_after_a_failure_midway_does_not_mail_the_first_recipients_again(
    request_to_staff: EditorialAuthorization, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_send = emails.send_templated
    calls: list[list[str]] = []

    def flaky_send(name: str, to: list[str], context: dict[str, Any]) -> None:
        calls.append(to)
        if len(calls) == 2:
            raise OSError("The mail server hung up")
        real_send(name, to, context)

    monkeypatch.setattr(emails, "send_templated", flaky_send)

    # As a worker runs it: the retry follows (here at once), with the same task id.
    result = send_editorial_request_to_staff.apply(args=[request_to_staff.pk], throw=False)

    assert result.successful()
    assert len(calls) == 4  # ann, bob (fails), then the retry: bob, cy
    assert sorted(_recipients()) == ["ann@console.test", "bob@console.test", "cy@console.test"]


def test_another_run_of_the_task_mails_again(request_to_staff: EditorialAuthorization) -> None:
    """The marks are per run: a new request to staff (a new task) is mailed."""
    send_editorial_request_to_staff.apply(args=[request_to_staff.pk], task_id="run-1")
    send_editorial_request_to_staff.apply(args=[request_to_staff.pk], task_id="run-2")

    assert len(_recipients()) == 6


def test_the_invitation_email_is_sent_once_per_run(workspace: Workspace) -> None:
    invitation = InvitationFactory(workspace=workspace, email="newcomer@example.test")
    for _ in range(2):
        send_invitation_email.apply(args=[invitation.pk], task_id="invite-1")

    assert _recipients() == ["newcomer@example.test"]


def test_the_email_is_sent_when_the_cache_is_down(
    request_to_staff: EditorialAuthorization, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(emails.cache, "get", down)
    monkeypatch.setattr(emails.cache, "set", down)

    send_editorial_request_to_staff.apply(args=[request_to_staff.pk], task_id="run-1")

    assert len(_recipients()) == 3
