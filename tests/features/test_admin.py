"""The staff's view of feature rules and switches (R-UI-3, R-WS-6): read-only lists with
filters by feature, effect and level, search by workspace, and no query per row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Workspace
from features.models import FeatureOptOut, FeatureRule
from tests.factories import (
    FeatureOptOutFactory,
    FeatureRuleFactory,
    GroupFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

RULES = reverse("admin:features_featurerule_changelist")
OPT_OUTS = reverse("admin:features_featureoptout_changelist")


def fill(ws: Workspace, n: int, tag: str) -> None:
    group = GroupFactory(workspace=ws, name=f"{tag} team")
    FeatureRule.objects.get_or_create(
        workspace=ws, feature="canvas", group=None, membership=None, defaults={"effect": "deny"}
    )
    FeatureRuleFactory(workspace=ws, group=group, feature="web_search", effect="allow")
    for i in range(n):
        m = MembershipFactory(workspace=ws, user=UserFactory(email=f"{tag}{i}@acme.test"))
        FeatureRuleFactory(workspace=ws, membership=m, feature="memory", effect="allow")
        FeatureOptOutFactory(workspace=ws, membership=m, feature="canvas")


def body(client: Client, path: str, query: str = "") -> str:
    r = client.get(f"{path}?{query}" if query else path)
    assert r.status_code == 200
    return r.content.decode()


def test_rules_list_shows_level_and_target(staff_client) -> None:
    fill(WorkspaceFactory(name="Acme", slug="acme"), 1, "acme")
    page = body(staff_client, RULES)
    assert "Whole workspace" in page and "acme team" in page and "acme0@acme.test" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("level=workspace", 1),
        ("level=group", 1),
        ("level=member", 2),
        ("effect__exact=allow", 3),
        ("feature__exact=canvas", 1),
        ("", 4),
    ],
)
def test_rules_filters(staff_client, query, expected) -> None:
    fill(WorkspaceFactory(name="Acme", slug="acme"), 2, "acme")
    assert f"{expected} feature rule" in body(staff_client, RULES, query)


def test_rules_search_by_workspace(staff_client) -> None:
    fill(WorkspaceFactory(name="Acme", slug="acme"), 1, "acme")
    fill(WorkspaceFactory(name="Globex", slug="globex"), 1, "globex")
    page = body(staff_client, RULES, "q=globex")
    assert "globex0@acme.test" in page and "acme0@acme.test" not in page


def test_opt_outs_list_filter_and_search(staff_client) -> None:
    fill(WorkspaceFactory(name="Acme", slug="acme"), 2, "acme")
    fill(WorkspaceFactory(name="Globex", slug="globex"), 1, "globex")
    page = body(staff_client, OPT_OUTS, "q=globex")
    assert "globex0@acme.test" in page and "acme0@acme.test" not in page
    assert "3 feature opt outs" in body(staff_client, OPT_OUTS, "feature__exact=canvas")


def test_records_are_read_only(staff_client) -> None:
    fill(WorkspaceFactory(name="Acme", slug="acme"), 1, "acme")
    rule = FeatureRule.objects.filter(membership__isnull=False).get()
    assert staff_client.get(reverse("admin:features_featurerule_add")).status_code == 403
    page = body(staff_client, reverse("admin:features_featurerule_change", args=[rule.pk]))
    assert 'name="effect"' not in page and "acme0@acme.test" in page
    r = staff_client.post(
        reverse("admin:features_featurerule_delete", args=[rule.pk]), {"post": "yes"}
    )
    assert r.status_code == 403 and FeatureRule.objects.filter(pk=rule.pk).exists()
    opt_out = FeatureOptOut.objects.get()
    assert (
        staff_client.get(
            reverse("admin:features_featureoptout_change", args=[opt_out.pk])
        ).status_code
        == 200
    )
    assert staff_client.get(reverse("admin:features_featureoptout_add")).status_code == 403


def _queries(client: Client, path: str) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("path", [RULES, OPT_OUTS])
def test_lists_cost_the_same_at_two_sizes(staff_client, path) -> None:
    ws = WorkspaceFactory(name="Acme", slug="acme")
    fill(ws, 3, "a")
    small = _queries(staff_client, path)
    fill(ws, 30, "b")
    assert _queries(staff_client, path) == small
