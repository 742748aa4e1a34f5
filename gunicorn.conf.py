"""gunicorn's settings for the console in production (`make serve`), read from the
environment. gunicorn reads this file from the working directory by default.

PORT (8000), HOST (0.0.0.0), WEB_CONCURRENCY (worker processes, 2), GUNICORN_THREADS (1),
GUNICORN_TIMEOUT (30 s), GUNICORN_MAX_REQUESTS (1000), LOG_FORMAT (json or text),
LOG_LEVEL (info), GUNICORN_CONTROL_SOCKET (a path to enable gunicornc; off by default).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# The logging configuration below names console.logging, imported by the master before
# it loads the application.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

wsgi_app = "console.wsgi:application"
chdir = str(ROOT)
bind = [f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"]  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = timeout
keepalive = 5
# A worker is replaced after this many requests (with jitter, not all at once), which
# bounds what a slow leak can grow to.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = max(max_requests // 10, 1) if max_requests else 0
# Load the application in the master: settings that refuse to start (no SECRET_KEY) stop
# gunicorn at once with their message, instead of workers failing to boot in a loop.
preload_app = True
# The heartbeat files of the workers on a memory file system, where there is one.
if Path("/dev/shm").is_dir():  # noqa: S108
    worker_tmp_dir = "/dev/shm"  # noqa: S108
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The access line: client, user, time, request line, status, size, referrer, user agent,
# duration in microseconds. The request line and the referrer can hold an invitation
# token or a reset key: the handlers redact them (console.logging.RedactSecrets).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'
_formatter = "json" if os.environ.get("LOG_FORMAT", "json") == "json" else "generic"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "console.logging.RedactSecrets"}},
    "formatters": {
        "json": {"()": "console.logging.JsonFormatter"},
        "generic": {
            "format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s",
            "datefmt": "[%Y-%m-%d %H:%M:%S %z]",
        },
    },
    "handlers": {
        "error_console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": _formatter,
            "filters": ["redact_secrets"],
        },
        "access_console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": _formatter,
            "filters": ["redact_secrets"],
        },
    },
    "root": {"level": "INFO", "handlers": ["error_console"]},
    "loggers": {
        "gunicorn.error": {
            "level": loglevel.upper(),
            "handlers": ["error_console"],
            "propagate": False,
        },
        "gunicorn.access": {
            "level": "INFO",
            "handlers": ["access_console"],
            "propagate": False,
        },
    },
}
