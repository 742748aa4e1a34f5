"""Settings of the console. Every value that differs between machines comes from the
environment; the defaults are safe for a developer's machine and nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from console.env import (
    LOCAL_SECRET_KEY,
    email_mailers,
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
)

# Lets the code write the stubs' generic classes (``admin.ModelAdmin[Plan]``) at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
# JSON lines in production (one object a line, for the log collector), plain text on a
# developer's machine: see LOGGING.
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
# The local default key is only good for a developer's machine (DEBUG=1, as `make run`
# sets); with DEBUG off the console refuses to start without its own key. The test run
# sets test keys (tests/envdefaults.py).
SECRET_KEY = env_secret("SECRET_KEY", local_default=LOCAL_SECRET_KEY, debug=DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_htmx",
    "pgtrigger",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "console",
    "core",
    "accounts",
    "catalogue",
    "billing",
    "compliance",
    "features",
    "connectors",
    "agents",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight after the HTTPS redirect and HSTS, before sessions and CSP.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.unstorable_path_not_found",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.htmx.HtmxPagesMiddleware",
    "accounts.reauth.HtmxReauthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "core.context.RequestContextMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.context_processors.shell",
            ],
        },
    },
]

# Widgets render through the project's templates (templates/django/forms/), which inline
# the options of selects and checkbox lists.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'console.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DB_PREPARED_STATEMENTS", True
):
    # Parameters bound by the server, so that psycopg prepares the statements a connection
    # runs again and again (after its threshold of runs): PostgreSQL parses and plans them
    # once per connection rather than on every request. Off behind a pooler in transaction
    # mode that does not keep prepared statements.
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": True,
        "prepare_threshold": env_int("DB_PREPARE_THRESHOLD", 5),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the Celery worker use the file at the same time.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # The test database is a file, not memory, so a real Celery worker process in the
    # worker tests can open it; one file per test process, so parallel runs do not clash.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# The model of the append-only audit log that ``core.audit.record`` writes.
AUDIT_EVENT_MODEL = "accounts.AuditEvent"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Production serves the files `collectstatic` gathered in STATIC_ROOT, under hashed names
# (cached for a year) and compressed, through WhiteNoise. Without collected files (a
# developer's machine with DEBUG, the tests) names stay plain and WhiteNoise reads the
# source folders.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = not STATIC_MANIFEST

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# Caches hold allauth's rate-limit counters; they must be shared by all web processes.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("CACHE_URL", ""),
        }
        if env_str("CACHE_URL", "")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Hot paths read snapshots of what they decide from in the cache (core.snapshots): only when
# the cache is shared, since a process's own memory would keep what another one changed. A
# single process (the tests, the bench) may turn them on over the local memory cache.
SNAPSHOTS = env_bool("SNAPSHOTS", bool(env_str("CACHE_URL", "")))
# Sessions are read from that shared cache, and written through to the database: only when it
# is shared, since a session ended in one process must end in all.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if env_str("CACHE_URL", "")
    else "django.contrib.sessions.backends.db"
)

# --- Email -----------------------------------------------------------------------------
MAILERS = email_mailers(env_str("EMAIL_URL", "console://"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Console <no-reply@console.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Sent emails carry live links (invitations, password resets): outside a developer's
# machine the outbox keeps who got what and when, and clears the bodies once sent.
OUTBOX_KEEP_SENT_BODIES = env_bool("OUTBOX_KEEP_SENT_BODIES", DEBUG)

# --- Security --------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and SITE_URL.startswith("https"))
# Health checks of the load balancer or orchestrator often come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = SITE_URL.startswith("https")
CSRF_COOKIE_SECURE = SITE_URL.startswith("https")
SECURE_HSTS_SECONDS = env_int(
    "SECURE_HSTS_SECONDS", 31536000 if SITE_URL.startswith("https") else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading is a per-deployment commitment (hard to undo), taken with SECURE_HSTS_PRELOAD=1;
# until a deployment takes it, `check --deploy` need not warn about it.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# An index's included columns (INCLUDE) are PostgreSQL's; SQLite builds such an index on
# its key alone, which answers the same queries.
SILENCED_SYSTEM_CHECKS += ["models.W040"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# --- allauth ---------------------------------------------------------------------------
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_UNIQUE_EMAIL = True
# Sign-up, sign-in by code and password reset answer a known address as an unknown one
# (an email tells the owner instead); sign-up also takes as long (accounts.forms).
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Console] "
# Security notices by email: password, email address and MFA changes (R-ACC-4).
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
ACCOUNT_RATE_LIMITS: dict[str, str] | bool = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "login_code": "20/m/ip,3/m/key",
}
if env_bool("DISABLE_RATE_LIMITS", False):
    ACCOUNT_RATE_LIMITS = False
# Number of reverse proxies in front of the console, so rate limits see the client's IP.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Failed service-token attempts allowed per client address and window (api.auth). Not
# switched off by DISABLE_RATE_LIMITS: it guards the tokens, whatever the pages do.
API_AUTH_FAILURE_LIMIT = env_int("API_AUTH_FAILURE_LIMIT", 20)
API_AUTH_FAILURE_WINDOW = env_int("API_AUTH_FAILURE_WINDOW", 60)
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_TOTP_ISSUER = "Console"
# Recording every request on the session row costs a write per page; sessions are still
# listed (recorded at sign-in) without it.
USERSESSIONS_TRACK_ACTIVITY = env_bool("USERSESSIONS_TRACK_ACTIVITY", False)
# Key for secrets stored encrypted (TOTP seeds). Production gives its own, so that
# rotating SECRET_KEY does not make the seeds unreadable; a deployment that ran without it
# keeps its seeds readable with FIELD_ENCRYPTION_KEY set to its current SECRET_KEY. On a
# developer's machine it is derived from SECRET_KEY when empty (accounts.crypto).
FIELD_ENCRYPTION_KEY = env_secret("FIELD_ENCRYPTION_KEY", local_default="", debug=DEBUG)

# --- Console ---------------------------------------------------------------------------
TERMS_VERSION = env_str("TERMS_VERSION", "2026-09-01")
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 7)
DOMAIN_RESOLVER = env_str("DOMAIN_RESOLVER", "accounts.dns.SystemResolver")
DOMAIN_TXT_PREFIX = "console-verification="

# --- Connected services (connectors) ----------------------------------------------------
# Base URLs default to the real services; tests and the local demo point them at local
# servers that speak the same documented formats.
GOOGLE_OAUTH_AUTH_URL = env_str(
    "GOOGLE_OAUTH_AUTH_URL", "https://accounts.google.com/o/oauth2/v2/auth"
)
GOOGLE_OAUTH_TOKEN_URL = env_str("GOOGLE_OAUTH_TOKEN_URL", "https://oauth2.googleapis.com/token")
GOOGLE_OAUTH_REVOKE_URL = env_str("GOOGLE_OAUTH_REVOKE_URL", "https://oauth2.googleapis.com/revoke")
GOOGLE_API_URL = env_str("GOOGLE_API_URL", "https://www.googleapis.com")
GOOGLE_CLIENT_ID = env_str("GOOGLE_CLIENT_ID", "")
GOOGLE_CLIENT_SECRET = env_str("GOOGLE_CLIENT_SECRET", "")
MICROSOFT_LOGIN_URL = env_str("MICROSOFT_LOGIN_URL", "https://login.microsoftonline.com")
MICROSOFT_GRAPH_URL = env_str("MICROSOFT_GRAPH_URL", "https://graph.microsoft.com")
MICROSOFT_CLIENT_ID = env_str("MICROSOFT_CLIENT_ID", "")
MICROSOFT_CLIENT_SECRET = env_str("MICROSOFT_CLIENT_SECRET", "")
CONNECTORS_HTTP_TIMEOUT = env_int("CONNECTORS_HTTP_TIMEOUT", 30)
CONNECTORS_HTTP_RETRIES = env_int("CONNECTORS_HTTP_RETRIES", 5)
# Seconds: the first backoff, and the most any wait (Retry-After included) may last.
CONNECTORS_BACKOFF_BASE = env_int("CONNECTORS_BACKOFF_BASE", 1)
CONNECTORS_MAX_BACKOFF = env_int("CONNECTORS_MAX_BACKOFF", 120)
# A run renews its lease after every page; a run whose worker died is resumed by the next
# one once the lease has run out.
CONNECTORS_LEASE_SECONDS = env_int("CONNECTORS_LEASE_SECONDS", 600)
# After this many attempts an interrupted run is abandoned and the next starts over.
CONNECTORS_MAX_ATTEMPTS = env_int("CONNECTORS_MAX_ATTEMPTS", 6)
LIBRARY_MAX_FILE_BYTES = env_int("LIBRARY_MAX_FILE_BYTES", 20 * 1024 * 1024)
MEDIA_ROOT = env_str("MEDIA_ROOT", str(VAR_DIR / "media"))

# --- Celery ----------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # An embedded broker in a folder: the web server, worker and beat share it
    # without a separate service.
    _queue_dir = VAR_DIR / "celery-queue"
    (_queue_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged when it ends, not when it starts, so a worker that dies midway
# (killed, out of memory, a lost machine) leaves it to another; every task is idempotent,
# safe to run twice. A pool process that dies midway puts its task back in the queue
# instead of acknowledging it as failed.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Tasks whose broker connection is lost are stopped: their message will be delivered again.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# One message reserved at a time: a worker that dies holds no others back.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 270)
if not CELERY_BROKER_URL.startswith("filesystem://"):
    # Redis delivers again a message that no worker acknowledged within this time (its
    # default is an hour). It must exceed the hard time limit, or a task still running
    # would be delivered to a second worker.
    CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 300)
    if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
        raise ImproperlyConfigured(
            f"CELERY_VISIBILITY_TIMEOUT ({CELERY_VISIBILITY_TIMEOUT} s) must be longer than "
            f"CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT} s)."
        )
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
# In production the worker logs as the web processes do (LOGGING: JSON lines, secrets
# redacted); on a developer's machine Celery keeps its own, more readable lines.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "expire-invitations": {
        "task": "accounts.tasks.expire_invitations",
        "schedule": crontab(minute="*/15"),
    },
    "recheck-domains": {
        "task": "accounts.tasks.recheck_pending_domains",
        "schedule": crontab(minute="*/10"),
    },
    "sync-due-connections": {
        "task": "connectors.tasks.sync_due_connections",
        "schedule": crontab(minute="*"),
    },
}

# Every handler redacts the secrets of links (invitation tokens,
# email confirmation and password reset keys, ?key=/?token=/?code= values): they would
# otherwise reach the access lines of runserver, and warnings such as "Not Found: ...".
_log_formatter = {"formatter": "json"} if LOG_FORMAT == "json" else {}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "console.logging.RedactSecrets"}},
    "formatters": {
        "json": {"()": "console.logging.JsonFormatter"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_secrets"],
            **_log_formatter,
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "filters": ["redact_secrets"],
            "formatter": "django.server",
            **_log_formatter,
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default handlers for "django" print without the filter: replaced by
        # the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # One line per request to a connected service is noise, and an OAuth callback's
        # address carries a code.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
