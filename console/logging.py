"""Logging pieces shared by the console's processes (web, worker, gunicorn): a filter that
takes secrets out of log lines, and a JSON-lines formatter for production.

Only the standard library here: gunicorn's master loads this module through its
logging configuration before Django is set up."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

REDACTED = "[redacted]"

# A slash, also percent-encoded (a URL inside ?next=...).
_SLASH = r"(?:/|%2[Ff])"
# The end of a path segment: a slash, the query, the fragment, an encoded separator, or
# the end of the request line, header or message.
_SEGMENT_END = r"(?=/|%2[Ff]|%3[Ff]|%26|[?#&\s\"']|$)"
# Paths whose next segment is a secret: invitation links, allauth's email confirmation
# and password reset links. ("done" is the page after a reset, not a key.)
_SECRET_PATH = re.compile(
    rf"(?P<prefix>{_SLASH}(?:invitations|confirm-email|password{_SLASH}reset{_SLASH}key){_SLASH})"
    rf"(?!done{_SEGMENT_END})(?P<secret>[^/?#&\s\"']+?){_SEGMENT_END}",
    re.IGNORECASE,
)
# Query parameters that carry a secret: ?key=, ?token=, ?code= (sign-in codes), and the
# like, also inside an encoded URL (%3F, %26, %3D).
_SECRET_PARAM = re.compile(
    r"(?P<prefix>(?:^|[?&;]|%3[Ff]|%26)"
    r"[\w.\-\[\]]*?(?:key|token|code|secret|password|passwd|signature|sig|otp)[\w.\-\[\]]*"
    r"(?:=|%3[Dd]))"
    r"(?P<secret>(?:(?!%26)[^&;#\s\"'])+)",
    re.IGNORECASE,
)


# The password of a URL with credentials (a database or broker URL in an error).
_URL_PASSWORD = re.compile(
    r"(?P<prefix>\b[a-z][a-z0-9+.\-]*://[^/\s:@]*:)(?P<secret>[^@\s/]+)(?=@)", re.IGNORECASE
)


def redact(text: str) -> str:
    """The text with the secrets of URLs (tokens, keys, codes, passwords) replaced by
    REDACTED."""
    text = _SECRET_PATH.sub(lambda m: m["prefix"] + REDACTED, text)
    text = _SECRET_PARAM.sub(lambda m: m["prefix"] + REDACTED, text)
    return _URL_PASSWORD.sub(lambda m: m["prefix"] + REDACTED, text)


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactSecrets(logging.Filter):
    """Redacts the message and its arguments in place, keeping their shape: runserver's
    access lines (django.server) are a format with a tuple of arguments, gunicorn's
    (gunicorn.access) a format with a mapping of atoms (request line, path, query,
    referrer, headers), each of which can carry a link's secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        args = record.args
        if isinstance(args, dict):
            # gunicorn's atoms are a dict subclass that answers "-" for a missing key:
            # changed in place, it keeps that behaviour.
            for key, value in list(args.items()):
                if isinstance(value, str):
                    dict.__setitem__(args, key, redact(value))
        elif isinstance(args, Mapping):
            record.args = {key: _redact_value(value) for key, value in args.items()}
        elif isinstance(args, tuple):
            record.args = tuple(_redact_value(value) for value in args)
        return True


# gunicorn's access atoms worth a field of their own in a JSON line.
_ACCESS_FIELDS = {
    "h": "remote_addr",
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "f": "referer",
    "a": "user_agent",
}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, and the exception if
    any. No extra attribute is dumped wholesale: they can hold requests and secrets."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        status = getattr(record, "status_code", None)
        if status is not None:
            entry["status"] = status
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            for atom, field in _ACCESS_FIELDS.items():
                value = record.args.get(atom)
                if value not in (None, "", "-"):
                    entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)
