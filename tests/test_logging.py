"""No secret of a link reaches the logs (R-SEC-1): invitation tokens, email confirmation
and password reset keys, sign-in codes and ?token=-like values are redacted from the
access lines of runserver (django.server) and gunicorn (gunicorn.access), and from the
console's other log lines ("Not Found: /invitations/<token>/")."""

from __future__ import annotations

import io
import json
import logging
import runpy
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from gunicorn.config import Config
from gunicorn.glogging import Logger as GunicornLogger

from console.logging import REDACTED, JsonFormatter, RedactSecrets, redact

TOKEN = ".eJyrVspUslIyNDJX0lEqSs1Lzs9NBQ:1tXyZq:Kp3sEcReT-InViTe_tOkEn"
RESET = "3-ck6tgq-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
CONFIRM = "MjA:1tXyZq:ConfirmKeyConfirmKey"
CODE = "X7Q2LM"
GUNICORN_CONF = Path(settings.BASE_DIR) / "gunicorn.conf.py"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET /invitations/{TOKEN}/ HTTP/1.1", f"GET /invitations/{REDACTED}/ HTTP/1.1"),
        (f"/invitations/{TOKEN}", f"/invitations/{REDACTED}"),
        (f"/accounts/password/reset/key/{RESET}/", f"/accounts/password/reset/key/{REDACTED}/"),
        ("/accounts/password/reset/key/done/", "/accounts/password/reset/key/done/"),
        (f"/accounts/confirm-email/{CONFIRM}/", f"/accounts/confirm-email/{REDACTED}/"),
        ("/accounts/confirm-email/", "/accounts/confirm-email/"),
        (
            f"/accounts/login/code/confirm/?code={CODE}",
            f"/accounts/login/code/confirm/?code={REDACTED}",
        ),
        (f"/x/?page=2&token={TOKEN}#top", f"/x/?page=2&token={REDACTED}#top"),
        (f"/x/?key={TOKEN}&page=2", f"/x/?key={REDACTED}&page=2"),
        (f"key={TOKEN}&page=2", f"key={REDACTED}&page=2"),  # gunicorn's query atom
        (
            f"/accounts/login/?next=%2Finvitations%2F{TOKEN}%2F",
            f"/accounts/login/?next=%2Finvitations%2F{REDACTED}%2F",
        ),
        (
            f"/accounts/login/?next=%2Fx%2F%3Fpage%3D1%26token%3D{CODE}%26a%3D1",
            f"/accounts/login/?next=%2Fx%2F%3Fpage%3D1%26token%3D{REDACTED}%26a%3D1",
        ),
        ("redis://:s3cret-pass@cache:6379/0", f"redis://:{REDACTED}@cache:6379/0"),
        ("GET /w/acme/members/?page=2 HTTP/1.1", "GET /w/acme/members/?page=2 HTTP/1.1"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


# --- runserver: a real request through Django's development server ----------------------


@pytest.fixture
def captured_handlers() -> Iterator[io.StringIO]:
    """The output of the configured handlers of django.server and of the root logger."""
    stream = io.StringIO()
    handlers = [
        handler
        for logger in (logging.getLogger("django.server"), logging.getLogger())
        for handler in logger.handlers
        # The console's handlers (settings.LOGGING), not those pytest adds to the root.
        if isinstance(handler, logging.StreamHandler)
        and any(isinstance(f, RedactSecrets) for f in handler.filters)
    ]
    assert len(handlers) == 2, handlers
    saved = [handler.setStream(stream) for handler in handlers]
    try:
        yield stream
    finally:
        for handler, old in zip(handlers, saved, strict=True):
            handler.setStream(old)


@pytest.fixture
def runserver() -> Iterator[str]:
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.mark.django_db(transaction=True)
def test_runserver_access_lines_carry_no_secret(
    runserver: str, captured_handlers: io.StringIO
) -> None:
    paths = [
        f"/invitations/{TOKEN}/",
        f"/accounts/password/reset/key/{RESET}/",
        f"/accounts/confirm-email/{CONFIRM}/",
        f"/accounts/login/code/confirm/?code={CODE}",
    ]
    statuses = [_get(runserver + path) for path in paths]

    output = captured_handlers.getvalue()
    assert all(status < 500 for status in statuses), (statuses, output)
    for secret in (TOKEN, RESET, CONFIRM, CODE):
        assert secret not in output, output
    assert f"/invitations/{REDACTED}/" in output, output
    assert f"/accounts/password/reset/key/{REDACTED}/" in output, output
    assert f"/accounts/confirm-email/{REDACTED}/" in output, output
    assert f"?code={REDACTED}" in output, output


def test_the_filter_on_a_record_as_django_server_makes_it() -> None:
    """django.server logs a format and the request line as an argument (see
    WSGIRequestHandler.log_message), with the status code as an extra attribute."""
    record = logging.LogRecord(
        "django.server",
        logging.WARNING,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET /invitations/{TOKEN}/ HTTP/1.1", "404", "1234"),
        None,
    )
    record.status_code = 404

    assert RedactSecrets().filter(record)
    assert record.getMessage() == f'"GET /invitations/{REDACTED}/ HTTP/1.1" 404 1234'
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == record.getMessage()
    assert (line["logger"], line["level"], line["status"]) == ("django.server", "WARNING", 404)


# --- gunicorn: its access log, in the console's format ----------------------------------


@pytest.fixture
def gunicorn_conf() -> dict[str, object]:
    return runpy.run_path(str(GUNICORN_CONF))


def _access_line(access_format: str, formatter: logging.Formatter, **environ: str) -> str:
    """One access line as gunicorn's Logger.access makes it, through the console's
    filter and the given formatter."""
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", access_format)
    log = GunicornLogger(cfg)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    handler.setFormatter(formatter)
    access = logging.getLogger("gunicorn.access")
    saved = access.handlers[:]
    access.handlers = [handler]
    try:
        path, _, query = environ["RAW_URI"].partition("?")
        log.access(
            SimpleNamespace(status="200 OK", sent=512, headers=[]),
            SimpleNamespace(headers=[("REFERER", environ.get("HTTP_REFERER", ""))]),
            {
                "REQUEST_METHOD": "GET",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REMOTE_ADDR": "203.0.113.9",
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "HTTP_USER_AGENT": "probe/1.0",
                **environ,
            },
            timedelta(milliseconds=12),
        )
    finally:
        access.handlers = saved
        for extra in log.access_log.handlers[:]:
            if getattr(extra, "_gunicorn", False):
                log.access_log.removeHandler(extra)
    return stream.getvalue()


def test_gunicorn_access_lines_carry_no_secret(gunicorn_conf: dict[str, object]) -> None:
    access_format = str(gunicorn_conf["access_log_format"])
    line = _access_line(
        access_format,
        logging.Formatter(),
        RAW_URI=f"/invitations/{TOKEN}/?token={CODE}",
        HTTP_REFERER=f"https://console.example.com/accounts/confirm-email/{CONFIRM}/",
    )

    for secret in (TOKEN, CODE, CONFIRM):
        assert secret not in line, line
    assert f'"GET /invitations/{REDACTED}/?token={REDACTED} HTTP/1.1" 200 512' in line, line
    assert f"/accounts/confirm-email/{REDACTED}/" in line, line


def test_gunicorn_json_access_line_has_fields_and_no_secret(
    gunicorn_conf: dict[str, object],
) -> None:
    line = _access_line(
        str(gunicorn_conf["access_log_format"]),
        JsonFormatter(),
        RAW_URI=f"/accounts/password/reset/key/{RESET}/",
    )

    entry = json.loads(line)
    assert RESET not in line
    assert entry["logger"] == "gunicorn.access"
    assert entry["path"] == f"/accounts/password/reset/key/{REDACTED}/"
    assert (entry["method"], entry["status"], entry["remote_addr"]) == ("GET", "200", "203.0.113.9")


def test_gunicorn_conf_logs_through_the_filter(gunicorn_conf: dict[str, object]) -> None:
    config = gunicorn_conf["logconfig_dict"]
    assert isinstance(config, dict)
    for name in ("gunicorn.access", "gunicorn.error"):
        for handler in config["loggers"][name]["handlers"]:
            assert "redact_secrets" in config["handlers"][handler]["filters"], (name, handler)
    assert config["filters"]["redact_secrets"]["()"] == "console.logging.RedactSecrets"
