"""/healthz (liveness) and /readyz (readiness) for the load balancer and the orchestrator:
no sign-in, no redirect to HTTPS, no secret in the answer."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.db import OperationalError
from django.test import Client

from console import health
from console.celery import app as celery_app

ALL_OK = {"database": "ok", "cache": "ok", "broker": "ok"}
# An address nothing listens on, with a password that must not be shown.
DEAD_REDIS = "redis://:hunter2-secret@127.0.0.1:1/0"


def test_liveness_answers_without_the_database(client: Client) -> None:
    # No django_db mark: pytest-django refuses any database access in this test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readiness_checks_database_cache_and_broker(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": ALL_OK}


@pytest.mark.django_db
def test_readiness_fails_when_the_database_does_not_answer(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unreachable() -> None:
        raise OperationalError(
            'connection to server at "db.internal" failed: password "hunter2-secret" refused'
        )

    monkeypatch.setitem(health.CHECKS, "database", unreachable)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "fail", "checks": {**ALL_OK, "database": "fail"}}
    assert b"hunter2" not in response.content and b"db.internal" not in response.content
    assert "Readiness check database failed" in caplog.text


@pytest.fixture
def dead_broker() -> Iterator[None]:
    saved = celery_app.conf.broker_url, celery_app.conf.broker_transport_options
    celery_app.conf.update(broker_url=DEAD_REDIS, broker_transport_options={})
    try:
        yield
    finally:
        celery_app.conf.update(broker_url=saved[0], broker_transport_options=saved[1])


@pytest.mark.django_db
def test_readiness_fails_when_the_broker_does_not_answer(
    client: Client, dead_broker: None, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "broker": "fail"}
    assert b"hunter2" not in response.content
    assert "hunter2" not in caplog.text


@pytest.mark.django_db
def test_readiness_fails_when_the_cache_does_not_answer(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
        }
    }

    response = client.get("/readyz")

    assert response.status_code == 503
    assert json.loads(response.content)["checks"] == {**ALL_OK, "cache": "fail"}
    assert b"hunter2" not in response.content


@pytest.mark.django_db
def test_health_checks_are_not_redirected_to_https(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SECURE_SSL_REDIRECT = True
    client = Client()

    assert client.get("/accounts/login/").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_health_checks_answer_only_reads(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200
