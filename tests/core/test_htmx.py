"""One module for the answers of htmx pages (``core.htmx``): a history-restore request
gets the whole page, every answer varies by ``HX-Request``, and the helpers answer htmx
and plain requests each their own way."""

from __future__ import annotations

import json
import re

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django_htmx.middleware import HtmxMiddleware

from accounts.models import Membership
from core import htmx

HX = {"HTTP_HX_REQUEST": "true"}
RESTORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}

PAGES = ["ws:members", "ws:invitations", "ws:domains", "ws:groups", "ws:audit"]


@pytest.mark.parametrize("name", PAGES)
def test_a_history_restore_gets_the_whole_page(
    name: str, owner_client: Client, owner: Membership
) -> None:
    url = reverse(name, args=[owner.workspace.slug])
    fragment = owner_client.get(url, **HX)
    restored = owner_client.get(url, **RESTORE)
    assert fragment.status_code == restored.status_code == 200
    assert b"<html" not in fragment.content
    assert b"<html" in restored.content


@pytest.mark.parametrize("name", PAGES)
def test_pages_vary_by_hx_request(name: str, owner_client: Client, owner: Membership) -> None:
    url = reverse(name, args=[owner.workspace.slug])
    for headers in ({}, HX):
        response = owner_client.get(url, **headers)
        assert "HX-Request" in response.get("Vary", "")


def test_redirect_and_template_for_follow_the_request() -> None:
    rf = RequestFactory()
    plain, hx = rf.post("/"), rf.post("/", **HX)
    for request in (plain, hx):
        HtmxMiddleware(htmx.HtmxPagesMiddleware(lambda r: HttpResponse()))(request)
    assert htmx.redirect(plain, "/next/").status_code == 302
    assert htmx.redirect(hx, "/next/")["HX-Redirect"] == "/next/"
    assert htmx.template_for(plain, "p.html", "part") == "p.html"
    assert htmx.template_for(hx, "p.html", "part") == "p.html#part"


def test_toast_sends_the_event() -> None:
    response = htmx.toast(HttpResponse(), "Saved.", "warn")
    assert '"toast"' in response["HX-Trigger"] and "Saved." in response["HX-Trigger"]


def test_back_query_keeps_known_keys_only() -> None:
    raw = "q=ada&page=2&next=https://evil.example/&role=" + "x" * 300
    assert htmx.back_query(raw, ("q", "page", "role")) == "q=ada&page=2&role=" + "x" * 100


def test_htmx_is_configured_within_the_content_security_policy(client: Client) -> None:
    """No eval, no inline scripts, no injected indicator styles, and no style attribute
    settled by a swap: the CSP refuses inline styles, and a settled one is an error in the
    browser's console."""
    body = client.get(reverse("account_login")).content.decode()
    found = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", body)
    assert found is not None
    config = json.loads(found.group(1))
    assert config["allowEval"] is False and config["allowScriptTags"] is False
    assert config["includeIndicatorStyles"] is False
    assert "style" not in config["attributesToSettle"] and "class" in config["attributesToSettle"]
    assert "'unsafe-inline'" not in client.get(reverse("account_login"))["Content-Security-Policy"]
