from __future__ import annotations

import copy
import smtplib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.core.mail.backends.locmem import EmailBackend

TEMPLATES_DIR = Path(__file__).parent / "templates"
# Long, with "=" and "&": the kind of link that quoted-printable cuts and garbles.
NOTICE_URL = (
    "http://testserver/w/acme/notices/"
    + "n" * 60
    + "/?token=MQ:1tX9aB:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4==&next=/w/acme/compliance/appeal/"
)
NOTICE = {"workspace_name": "Acme", "notice_url": NOTICE_URL}


@pytest.fixture
def notice_template(settings) -> None:  # type: ignore[no-untyped-def]
    """A template of the tests' own under templates/emails/, so these tests do not
    depend on the console's wording."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [TEMPLATES_DIR, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates


class FlakyBackend(EmailBackend):
    """The locmem backend, failing as a mail server does: each address in ``fail_once``
    is refused once, each in ``fail_always`` every time."""

    fail_once: ClassVar[set[str]] = set()
    fail_always: ClassVar[set[str]] = set()
    error: ClassVar[type[Exception]] = smtplib.SMTPServerDisconnected
    message: ClassVar[str] = "Connection unexpectedly closed"

    def __init__(self, *args: Any, password: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.password = password

    def send_messages(self, messages: Any) -> int:
        for message in messages:
            for address in message.to:
                if address in self.fail_always or address in self.fail_once:
                    self.fail_once.discard(address)
                    # Some libraries put the credentials in their errors.
                    raise self.error(f"{self.message} (login {self.password})")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings) -> type[FlakyBackend]:  # type: ignore[no-untyped-def]
    settings.MAILERS = {
        "default": {
            "BACKEND": "tests.core.conftest.FlakyBackend",
            "OPTIONS": {"password": "hunter2-mail-secret"},
        }
    }
    FlakyBackend.fail_once, FlakyBackend.fail_always = set(), set()
    FlakyBackend.error = smtplib.SMTPServerDisconnected
    yield FlakyBackend
    FlakyBackend.fail_once, FlakyBackend.fail_always = set(), set()
    FlakyBackend.error = smtplib.SMTPServerDisconnected


@pytest.fixture
def eager_retries() -> Iterator[None]:
    """Eager tasks that retry and fail as they do on a worker. The suite lets a task's
    first error escape it (CELERY_TASK_EAGER_PROPAGATES), before Celery could retry it or
    call its on_failure."""
    from console.celery import app  # noqa: PLC0415

    saved = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = saved
