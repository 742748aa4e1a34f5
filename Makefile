# Quick start: `make run` serves the console with demo data; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.12 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/console_bench

.PHONY: install run serve test lint bench browser migrate demo clean

$(BIN)/.installed: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	@touch $@

install: $(BIN)/.installed

# The local targets run with DEBUG on unless told otherwise: with DEBUG off the console
# refuses to start without its own SECRET_KEY and FIELD_ENCRYPTION_KEY.
LOCAL_ENV := DEBUG=$${DEBUG:-1}

migrate: install
	$(LOCAL_ENV) $(BIN)/python manage.py migrate --noinput

demo: migrate
	$(LOCAL_ENV) $(BIN)/python manage.py seed_demo

# The local demo Drive (connectors.local.google), which the demo workspace connects to. The
# GOOGLE_* settings point at it only where the environment has not set them, so the same
# `make run` can be pointed at another provider.
DEMO_DRIVE_PORT ?= 8765
DEMO_DRIVE := http://127.0.0.1:$(DEMO_DRIVE_PORT)
GOOGLE_ENV := GOOGLE_OAUTH_AUTH_URL=$${GOOGLE_OAUTH_AUTH_URL:-$(DEMO_DRIVE)/o/oauth2/v2/auth} \
  GOOGLE_OAUTH_TOKEN_URL=$${GOOGLE_OAUTH_TOKEN_URL:-$(DEMO_DRIVE)/token} \
  GOOGLE_OAUTH_REVOKE_URL=$${GOOGLE_OAUTH_REVOKE_URL:-$(DEMO_DRIVE)/revoke} \
  GOOGLE_API_URL=$${GOOGLE_API_URL:-$(DEMO_DRIVE)} \
  GOOGLE_CLIENT_ID=$${GOOGLE_CLIENT_ID:-local-client-id.apps.googleusercontent.com} \
  GOOGLE_CLIENT_SECRET=$${GOOGLE_CLIENT_SECRET:-local-client-secret}

# The demo Drive, the web server, a Celery worker and beat, on SQLite and an embedded broker
# folder. The demo data is loaded first, its domain verified against an in-memory DNS record
# (for that step only), and its workspace connected to the demo Drive (the first sync runs in
# the worker); how to sign in is printed last, once the worker and the server have started,
# so their start-up output does not bury it.
run: migrate
	@export $(GOOGLE_ENV) SITE_URL=$${SITE_URL:-http://localhost:$(PORT)}; trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/python -m connectors.local.google --port $(DEMO_DRIVE_PORT) & \
	  for i in $$(seq 50); do (echo > /dev/tcp/127.0.0.1/$(DEMO_DRIVE_PORT)) 2>/dev/null && break; sleep 0.1; done; \
	  $(LOCAL_ENV) DOMAIN_RESOLVER=accounts.dns.StaticResolver $(BIN)/python manage.py seed_demo --no-credentials; \
	  echo "Starting the console on http://localhost:$(PORT)/ (Ctrl-C stops everything)"; \
	  [ "$${DEBUG:-1}" = "0" ] || echo "Emails it sends: http://localhost:$(PORT)/dev/outbox/ (and on this terminal)"; \
	  DEBUG=$${DEBUG:-1} $(BIN)/celery -A console worker --beat --pool=solo --loglevel=INFO \
	    --schedule var/celerybeat-schedule & \
	  DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 0.0.0.0:$(PORT) & server=$$!; \
	  $(LOCAL_ENV) $(BIN)/python manage.py seed_demo --credentials-only --wait-for http://127.0.0.1:$(PORT)/; \
	  wait $$server

# Production: static files, migrations, then gunicorn (gunicorn.conf.py) on $(PORT). It
# needs the production environment (README, "Production"); the worker and beat run apart.
serve: install
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/python manage.py migrate --noinput
	PORT=$(PORT) $(BIN)/gunicorn

# Debian's Chromium for the end-to-end tests (never a downloaded browser build).
browser:
	@test -x $(CHROMIUM) || { command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); }
	@test -x $(CHROMIUM) || { echo "Chromium is missing at $(CHROMIUM)"; exit 1; }

test: install browser
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy

# The bench measures with DEBUG off, as in production, on throwaway keys of its own; static
# files are read from the source folders (it measures pages, and collects nothing). Its
# settings add django-guardian, the baseline of the connectors section (BENCH_ARGS=
# "--sections connectors"; "--sections pages,connectors" runs both).
KEYGEN := $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))'
bench: install
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} \
	  SECRET_KEY=$${SECRET_KEY:-$$($(KEYGEN))} FIELD_ENCRYPTION_KEY=$${FIELD_ENCRYPTION_KEY:-$$($(KEYGEN))} \
	  STATIC_MANIFEST=$${STATIC_MANIFEST:-0} DJANGO_SETTINGS_MODULE=console.bench_settings \
	  $(BIN)/python manage.py bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var staticfiles
