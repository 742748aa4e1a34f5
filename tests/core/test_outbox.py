"""The email outbox: one row and one task per email and recipient, sent once."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from accounts import services as account_services
from accounts.actor import Actor
from accounts.models import User
from accounts.roles import Role
from accounts.tasks import send_invitation_email
from compliance.tasks import send_appeal_filed_to_staff
from core import email
from core.models import OutboxEmail, OutboxStatus
from core.tasks import send_outbox_email
from tests.core.conftest import NOTICE, NOTICE_URL
from tests.factories import InvitationFactory, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notice_template")]

TWO = ["first@acme.test", "second@acme.test"]


def sent_to(address: str) -> int:
    return sum(1 for m in mail.outbox if address in m.to)


def test_enqueue_renders_one_row_per_recipient_and_sends_each_alone(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        rows = email.enqueue("test_notice", TWO, NOTICE, workspace_id=7)
        # Rendered when queued, sent only after the commit.
        assert [r.status for r in rows] == [OutboxStatus.QUEUED] * 2 and not mail.outbox
    assert sorted(tuple(m.to) for m in mail.outbox) == [("first@acme.test",), ("second@acme.test",)]
    message = mail.outbox[0]
    assert message.subject == "[Console] Notice for Acme"
    assert NOTICE_URL in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and "<strong>Acme</strong>" in html
    row = OutboxEmail.objects.get(recipient="first@acme.test")
    assert (row.status, row.attempts, row.workspace_id) == (OutboxStatus.SENT, 1, 7)
    assert row.sent_at is not None and row.subject == message.subject
    # The context's plain facts, never its links (they carry tokens).
    assert row.facts == {"workspace_name": "Acme"}


def test_a_rolled_back_transaction_queues_and_sends_nothing(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            email.enqueue("test_notice", TWO, NOTICE)
            raise RuntimeError("the change failed")
    assert callbacks == [] and not mail.outbox
    assert not OutboxEmail.objects.exists()


def test_enqueue_twice_with_a_dedupe_key_sends_once(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = email.enqueue("test_notice", TWO, NOTICE, dedupe_key="notice:1")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = email.enqueue("test_notice", TWO, NOTICE, dedupe_key="notice:1")
    assert [r.pk for r in again] == [r.pk for r in first]
    assert callbacks == []  # both rows are sent: nothing to dispatch
    assert OutboxEmail.objects.count() == 2 and len(mail.outbox) == 2
    assert set(OutboxEmail.objects.values_list("dedupe_key", flat=True)) == {
        "notice:1:first@acme.test",
        "notice:1:second@acme.test",
    }
    # Another key is another email.
    with django_capture_on_commit_callbacks(execute=True):
        email.enqueue("test_notice", TWO[:1], NOTICE, dedupe_key="notice:2")
    assert sent_to("first@acme.test") == 2


def test_a_retry_after_a_transient_failure_sends_each_recipient_once(
    flaky_mail, eager_retries, django_capture_on_commit_callbacks
) -> None:
    """A task sending to several recipients used to start again from the first one on
    every retry; one task per row retries only the row that failed."""
    flaky_mail.fail_once = {"second@acme.test"}
    with django_capture_on_commit_callbacks(execute=True):
        email.enqueue("test_notice", TWO, NOTICE, dedupe_key="notice:1")
    assert sent_to("first@acme.test") == 1
    assert sent_to("second@acme.test") == 1
    first, second = (OutboxEmail.objects.get(recipient=a) for a in TWO)
    assert (first.status, first.attempts, first.last_error) == (OutboxStatus.SENT, 1, "")
    assert (second.status, second.attempts) == (OutboxStatus.SENT, 2)
    assert second.last_error.startswith("SMTPServerDisconnected: Connection unexpectedly closed")


def test_a_sent_row_is_not_sent_again(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        [row] = email.enqueue("test_notice", TWO[:1], NOTICE)
    assert send_outbox_email.delay(row.pk).get() is False
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.attempts == 1


def test_the_last_failure_is_recorded_without_the_mail_password(
    flaky_mail, eager_retries, django_capture_on_commit_callbacks
) -> None:
    flaky_mail.fail_always = {"second@acme.test"}
    with django_capture_on_commit_callbacks(execute=True):
        [first] = email.enqueue("test_notice", TWO[:1], NOTICE)
    with django_capture_on_commit_callbacks(execute=False):
        [second] = email.enqueue("test_notice", TWO[1:], NOTICE)
    # Eager retries come at once, without the backoff.
    assert send_outbox_email.delay(second.pk).failed()
    second.refresh_from_db()
    assert second.status == OutboxStatus.FAILED and second.sent_at is None
    assert second.attempts == send_outbox_email.max_retries + 1
    assert "SMTPServerDisconnected" in second.last_error
    assert "hunter2-mail-secret" not in second.last_error and "***" in second.last_error
    # The other recipient's email is untouched.
    first.refresh_from_db()
    assert first.status == OutboxStatus.SENT and sent_to("first@acme.test") == 1


def test_an_error_that_is_not_transient_fails_at_once(
    flaky_mail, eager_retries, django_capture_on_commit_callbacks
) -> None:
    flaky_mail.fail_always, flaky_mail.error = {"first@acme.test"}, ValueError
    with django_capture_on_commit_callbacks(execute=False):
        [row] = email.enqueue("test_notice", TWO[:1], NOTICE)
    assert send_outbox_email.delay(row.pk).failed()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
    assert row.last_error.startswith("ValueError: ")


def test_sent_bodies_are_cleared_unless_kept(settings, django_capture_on_commit_callbacks) -> None:
    settings.OUTBOX_KEEP_SENT_BODIES = False
    with django_capture_on_commit_callbacks(execute=True):
        [row] = email.enqueue("test_notice", TWO[:1], NOTICE)
    row.refresh_from_db()
    # The email went out whole; the row keeps who got what, not the live link.
    assert NOTICE_URL in mail.outbox[0].body
    assert row.status == OutboxStatus.SENT and row.subject == "[Console] Notice for Acme"
    assert row.body_text == row.body_html == ""
    settings.OUTBOX_KEEP_SENT_BODIES = True
    with django_capture_on_commit_callbacks(execute=True):
        [kept] = email.enqueue("test_notice", TWO[1:], NOTICE)
    kept.refresh_from_db()
    assert NOTICE_URL in kept.body_text and "Read it" in kept.body_html


# --- The emails of the apps go through it ------------------------------------------------


def test_a_retried_invitation_task_sends_once_and_a_resend_sends_again(
    django_capture_on_commit_callbacks,
) -> None:
    ws = WorkspaceFactory(name="Acme", slug="acme")
    owner_m = MembershipFactory(
        workspace=ws, role=Role.OWNER, user=UserFactory(email="owner@acme.test")
    )
    owner = owner_m.user
    invitation = InvitationFactory(workspace=ws, email="new@example.test", invited_by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        send_invitation_email.delay(invitation.pk)
        send_invitation_email.delay(invitation.pk)
    assert sent_to("new@example.test") == 1
    row = OutboxEmail.objects.get()
    assert (row.template, row.workspace_id) == ("invitation", ws.pk)
    assert row.facts["invitation_id"] == invitation.pk
    with django_capture_on_commit_callbacks(execute=True):
        account_services.invitation_resend(actor=Actor.member(owner_m), invitation=invitation)
    assert sent_to("new@example.test") == 2
    # The second email carries the new link; the first one's no longer works.
    invitation.refresh_from_db()
    assert account_services.invitation_url(invitation).split("/invitations/")[0] in (
        mail.outbox[-1].body
    )


def test_a_retried_compliance_task_emails_nobody_twice(
    django_capture_on_commit_callbacks,
) -> None:
    from compliance.models import Appeal  # noqa: PLC0415

    ws = WorkspaceFactory(name="Acme", slug="acme")
    owner = MembershipFactory(workspace=ws, user=UserFactory(email="owner@acme.test")).user
    for address in ("staff1@console.test", "staff2@console.test"):
        User.objects.create_user(address, "pw-long-enough-1", is_staff=True)
    appeal = Appeal.objects.create(workspace=ws, filed_by=owner, statement="A test prompt.")
    with django_capture_on_commit_callbacks(execute=True):
        assert send_appeal_filed_to_staff.delay(appeal.pk).get() == 2
        assert send_appeal_filed_to_staff.delay(appeal.pk).get() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["staff1@console.test", "staff2@console.test"]


def test_allauth_emails_are_sent_at_once_and_recorded(client, settings) -> None:
    settings.OUTBOX_KEEP_SENT_BODIES = True
    UserFactory(email="alice@acme.test")
    response = client.post(reverse("account_reset_password"), {"email": "alice@acme.test"})
    assert response.status_code == 302
    [message] = mail.outbox
    row = OutboxEmail.objects.get()
    assert (row.recipient, row.status, row.attempts) == ("alice@acme.test", OutboxStatus.SENT, 1)
    assert row.template == "account/email/password_reset_key"
    assert row.subject == message.subject and row.body_text == message.body
    assert row.sent_at is not None and "http://testserver/accounts/password/reset/key/" in (
        row.body_text
    )
