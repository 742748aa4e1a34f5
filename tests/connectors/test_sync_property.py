"""The sync against a model of the source (R-CON-2 to R-CON-4): random source states,
random sequences of changes between syncs, and a fault injected at a random request of
each run (the service answers 500 past every retry). After every run, completed or not,
no member sees a document that neither the last completed state nor the source grants;
after a completed run each member sees exactly what the model says."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from allauth.account.models import EmailAddress
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.models import Membership
from billing.models import Plan
from connectors import access, sync
from connectors.local.google import Domain, anyone, domain, group, user
from connectors.models import Connection, RunStatus
from tests.factories import MembershipFactory, SubscriptionFactory, UserFactory, WorkspaceFactory

from .conftest import Acme, connect_google

PEOPLE = ["ann@acme.example", "bob@acme.example", "cyd@acme.example", "out@other.example"]
# The members: three of the people, and one whose address the source never names.
MEMBERS = ["ann@acme.example", "bob@acme.example", "cyd@acme.example", "dee@acme.example"]
GROUPS = ["g0@acme.example", "g1@acme.example", "g2@acme.example"]
FILES = [f"f{i}" for i in range(6)]

grant = st.one_of(
    st.sampled_from(PEOPLE).map(lambda p: ("user", p)),
    st.sampled_from(GROUPS).map(lambda g: ("group", g)),
    st.booleans().map(lambda d: ("domain", d)),
    st.just(("anyone", False)),
)
grants = st.lists(grant, max_size=3, unique=True)
group_state = st.tuples(
    st.lists(st.sampled_from(PEOPLE), max_size=3, unique=True),
    st.lists(st.sampled_from(GROUPS), max_size=2, unique=True),
)


@dataclass
class Source:
    files: dict[str, list[tuple[str, object]]] = field(default_factory=dict)
    groups: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)

    def copy(self) -> Source:
        return Source(dict(self.files), dict(self.groups))


change = st.one_of(
    # A group's members change while a document is newly shared with it: the case where
    # the new grant and the old members together would reach someone neither state does.
    st.tuples(
        st.just("regroup_and_share"),
        st.sampled_from(GROUPS),
        st.tuples(st.sampled_from(FILES), group_state),
    ),
    st.tuples(st.just("share"), st.sampled_from(FILES), grants),
    st.tuples(st.just("remove"), st.sampled_from(FILES), st.just(None)),
    st.tuples(st.just("group"), st.sampled_from(GROUPS), group_state),
)


def reference(src: Source, email: str) -> set[str]:
    """What the terms ask: the source's grants, groups expanded transitively, discoverable
    domain shares to verified addresses on the domain, links to nobody (the default)."""

    def contains(g: str, seen: frozenset[str] = frozenset()) -> bool:
        if g in seen or g not in src.groups:
            return False
        people, subs = src.groups[g]
        return email in people or any(contains(s, seen | {g}) for s in subs)

    out = set()
    for fid, gs in src.files.items():
        for kind, value in gs:
            if (
                (kind == "user" and value == email)
                or (kind == "group" and contains(str(value)))
                or (kind == "domain" and value is True and email.endswith("@acme.example"))
            ):
                out.add(fid)
    return out


def apply(d: Domain, src: Source) -> None:
    """Make the local Google's domain what the model says (every change logged)."""
    for g, (people, subs) in src.groups.items():
        d.add_group(g, people=people, groups=subs)
    for g in list(d.groups):
        if g not in src.groups:
            del d.groups[g]
    for fid in list(d.files):
        if fid not in src.files:
            d.remove_file(fid)
    for fid, gs in src.files.items():
        perms = []
        for kind, value in gs:
            if kind == "user":
                perms.append(user(str(value)))
            elif kind == "group":
                perms.append(group(str(value)))
            elif kind == "domain":
                perms.append(domain("acme.example", discoverable=bool(value)))
            else:
                perms.append(anyone())
        if fid in d.files:
            if d.files[fid]["permissions"] != perms:
                d.set_permissions(fid, perms)
        else:
            d.add_file(fid, fid, permissions=perms)


_slugs = itertools.count()


def visible(members: dict[str, Membership]) -> dict[str, set[str]]:
    out = {}
    for email, m in members.items():
        viewer = access.load_viewer(m)
        out[email] = set(access.visible_documents(viewer).values_list("source_id", flat=True))
    return out


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    initial_files=st.dictionaries(st.sampled_from(FILES), grants, max_size=6),
    initial_groups=st.dictionaries(st.sampled_from(GROUPS), group_state, max_size=3),
    steps=st.lists(
        st.tuples(
            st.lists(change, max_size=4),
            # Any request, or a page of the listing or of the changes.
            st.sampled_from(["", "/drive/v3/files", "/drive/v3/changes"]),
            st.integers(min_value=0, max_value=4),
        ),
        min_size=1,
        max_size=4,
    ),
)
@example(
    # Ann leaves g0 while f0 is newly shared with g0, and the run stops after f0's page.
    initial_files={"f0": [("user", "bob@acme.example")], "f1": []},
    initial_groups={"g0@acme.example": (["ann@acme.example"], [])},
    steps=[
        (
            [
                ("group", "g0@acme.example", ([], [])),
                ("share", "f0", [("group", "g0@acme.example")]),
                ("share", "f1", [("user", "cyd@acme.example")]),
            ],
            "/drive/v3/changes",
            1,
        )
    ],
)
def test_access_follows_the_source_and_a_fault_never_widens_it(
    google, initial_files, initial_groups, steps
):
    google.domain = Domain(page_size=1)
    google.faults.clear()
    n = next(_slugs)
    # Verified addresses are unique: the previous example's members let theirs go.
    EmailAddress.objects.filter(email__in=MEMBERS).delete()
    ws = WorkspaceFactory(slug=f"prop-{n}")
    SubscriptionFactory(workspace=ws, plan=Plan.objects.get(slug="team"))
    members = {
        email: MembershipFactory(workspace=ws, user=UserFactory(email=f"{n}-{email}"))
        for email in MEMBERS
    }
    # The members' verified addresses are the source's (the factory's own is unrelated).
    for email, m in members.items():
        m.user.emailaddress_set.update(email=email)
    admin = MembershipFactory(workspace=ws, role=30, user=UserFactory(email=f"admin{n}@x.test"))
    conn = connect_google(google, Acme(ws, admin, admin, admin, admin, admin))
    src = Source(dict(initial_files), dict(initial_groups))
    apply(google.domain, src)
    first = sync.run(conn.pk).run
    assert first is not None
    first.refresh_from_db()
    assert first.status == RunStatus.SUCCEEDED
    last_completed = src.copy()
    for changes, fault_path, fault_at in steps:
        for kind, target, value in changes:
            if kind == "share":
                src.files[target] = list(value)
            elif kind == "remove":
                src.files.pop(target, None)
            elif kind == "regroup_and_share":
                fid, (people, subs) = value
                src.groups[target] = (list(people), list(subs))
                src.files[fid] = [*src.files.get(fid, [])[:1], ("group", target)]
            else:
                src.groups[target] = (list(value[0]), list(value[1]))
        apply(google.domain, src)
        # A fault at a random request of this run, past every retry.
        google.fail("500", path=fault_path, times=3, after=fault_at)
        for _attempt in range(3):
            Connection.objects.filter(pk=conn.pk).update(next_sync_at=None)
            outcome = sync.run(conn.pk)
            assert outcome.run is not None
            outcome.run.refresh_from_db()
            seen = visible(members)
            for email in MEMBERS:
                allowed = reference(last_completed, email) | reference(src, email)
                assert seen[email] <= allowed, (email, seen[email], allowed)
            if outcome.run.status == RunStatus.SUCCEEDED:
                break
        google.faults.clear()
        assert outcome.run.status == RunStatus.SUCCEEDED, outcome.run.error_log
        # A completed run read every change made before it started: exactly the model.
        for email in MEMBERS:
            assert seen[email] == reference(src, email), email
        last_completed = src.copy()
