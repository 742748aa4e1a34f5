"""Reading settings from the environment, with safe local defaults."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

# Good for a developer's machine only: production refuses it (see env_secret).
LOCAL_SECRET_KEY = "local-only-insecure-key-change-me-" + "x" * 32


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, *, local_default: str, debug: bool) -> str:
    """A key that production must set itself. With DEBUG off, a missing, empty or local
    default value stops the process: a key from the repository signs nothing real."""
    value = os.environ.get(name, "")
    if value and value != local_default:
        return value
    if debug:
        return local_default
    raise ImproperlyConfigured(
        f"{name} is {'the local default' if value else 'not set'} and DEBUG is off. "
        f"Set {name} in the environment to a long random value of its own (python -c "
        "'import secrets; print(secrets.token_urlsafe(50))'), or DEBUG=1 on a developer's "
        "machine."
    )


def email_mailers(url: str) -> dict[str, dict[str, object]]:
    """Translate an EMAIL_URL into Django's MAILERS setting.

    console://            print messages on standard output, their text readable
    file:///path/to/dir   write each message to a file in that folder
    locmem://             keep messages in memory (tests)
    smtp://user:pass@host:587?tls=1   or smtps:// for implicit TLS
    """
    parsed = urlparse(url)
    scheme = parsed.scheme
    backends = "django.core.mail.backends."
    if scheme == "console":
        return {"default": {"BACKEND": "core.backends.ConsoleEmailBackend"}}
    if scheme == "locmem":
        return {"default": {"BACKEND": backends + "locmem.EmailBackend"}}
    if scheme == "file":
        return {
            "default": {
                "BACKEND": backends + "filebased.EmailBackend",
                "OPTIONS": {"file_path": unquote(parsed.path)},
            }
        }
    if scheme in {"smtp", "smtps"}:
        query = parse_qs(parsed.query)
        return {
            "default": {
                "BACKEND": backends + "smtp.EmailBackend",
                "OPTIONS": {
                    "host": parsed.hostname or "localhost",
                    "port": parsed.port or (465 if scheme == "smtps" else 25),
                    "username": unquote(parsed.username or ""),
                    "password": unquote(parsed.password or ""),
                    "use_ssl": scheme == "smtps",
                    "use_tls": query.get("tls", ["0"])[0] in {"1", "true"},
                    "timeout": 20,
                },
            }
        }
    raise ValueError(f"Unsupported EMAIL_URL scheme: {scheme!r}")
