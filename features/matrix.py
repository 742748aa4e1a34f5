"""What the admins' feature matrix draws (R-WS-6): one cell per feature and target, with
the rule set there and, for members, the decision. Pure Python over facts already loaded,
so a page of the matrix costs no query per cell; every decision shown comes from
``features.decisions``.

The whole workspace's rules are a small form per feature. The groups and the members are
one form per table: each cell is a select named by its target, feature and the effect it
shows (``m12:canvas:inherit``), so a post says which cells changed without a form, a
CSRF field or hidden inputs per cell. A page of the matrix still holds hundreds of cells;
their markup is written here, with the values escaped, rather than by the template
engine, whose per-node cost at that count was several times everything else on the page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString

from accounts.models import Group, Membership, MemberStatus
from core import registry
from core.registry import Feature

from .decisions import INHERIT, Decision, MemberFacts, WorkspaceFacts, evaluate
from .forms import GROUP, MEMBER, WORKSPACE


@dataclass(frozen=True)
class Column:
    feature: Feature
    in_plan: bool
    # Verified news in a Media Customer workspace: admins cannot allow it (R-MEDIA-2).
    media_locked: bool


@dataclass(frozen=True)
class FormBits:
    """What the cells share in one response: where they post, the hidden fields of a form
    (the CSRF token, and the search and pages to come back to without JavaScript), and
    the base of the "why" URLs. Built with ``format_html``: already escaped."""

    rule_url: str
    hidden: SafeString
    why_base: str = ""


@dataclass
class Cell:
    feature: Feature
    target: str  # "workspace", "group" or "member"
    target_id: int | None
    effect: str  # "allow", "deny" or "inherit"
    dom_id: str
    label: str  # the accessible name of the cell's control
    no_allow: bool = False  # the "Allow" choice is refused here
    locked: bool = False  # the whole control is disabled
    error: str = ""
    decision: Decision | None = None
    why_url: str = ""
    # The whole workspace's cell is a form of its own (``form``); a group's or a member's
    # is a <td> with its select (and for a member the decision mark) in its table's form.
    form: SafeString = SafeString("")
    html: SafeString = SafeString("")

    @property
    def name(self) -> str:
        """The select's name in the table's form: target, feature and the effect shown."""
        return cell_name(self.target, self.target_id or 0, self.feature.key, self.effect)


def cell_name(target: str, target_id: int, feature: str, effect: str) -> str:
    return f"{TARGET_PREFIX[target]}{int(target_id)}:{feature}:{effect}"


TARGET_PREFIX = {GROUP: "g", MEMBER: "m"}


@dataclass
class WorkspaceRow:
    column: Column
    cell: Cell
    # What a member with no group rule and no rule of their own gets.
    baseline: Decision

    @property
    def feature(self) -> Feature:
        return self.column.feature


@dataclass
class GroupRow:
    group: Group
    cells: list[Cell]
    groups_url: str = ""  # the Groups page, where the row's header links to the group

    @property
    def cells_html(self) -> SafeString:
        return _join(self.cells)

    @property
    def html(self) -> SafeString:
        g = self.group
        return SafeString(
            f'<tr id="group-{int(g.pk)}"><th scope="row"><a href="{escape(self.groups_url)}'
            f'{int(g.pk)}/">{escape(g.name)}</a></th>{self.cells_html}</tr>'
        )


@dataclass
class MemberRow:
    membership: Membership
    cells: list[Cell]

    @property
    def cells_html(self) -> SafeString:
        return _join(self.cells)

    @property
    def html(self) -> SafeString:
        m = self.membership
        return SafeString(f'<tr id="member-{int(m.pk)}">{member_header(m)}{self.cells_html}</tr>')


@dataclass
class MemberBlock:
    """A run of rows of the members' table, drawn at once (``rows``) or, when ``rows`` is
    None, named only and loaded as it scrolls into view (or, without JavaScript, through
    the link to ``url``, which draws it instead)."""

    number: int
    memberships: list[Membership]
    url: str
    rows: list[MemberRow] | None = None
    columns: int = 0

    @property
    def html(self) -> SafeString:
        n = int(self.number)
        if self.rows is not None:
            rows = "".join(f"{r.html}\n" for r in self.rows)
            return SafeString(f'<tbody id="members-block-{n}">\n{rows}</tbody>')
        url = escape(self.url)
        count = len(self.memberships)
        lines = []
        for i, m in enumerate(self.memberships):
            cells = (
                _LAZY_CELLS.format(
                    columns=int(self.columns),
                    count=count,
                    url=url,
                    n=n,
                    plural="" if count == 1 else "s",
                )
                if i == 0
                else ""
            )
            lines.append(f'<tr id="member-{int(m.pk)}">{member_header(m)}{cells}</tr>\n')
        return SafeString(_LAZY_BLOCK.format(n=n, url=url, rows="".join(lines)))


def blocks(memberships: list[Membership], size: int) -> list[list[Membership]]:
    return [memberships[i : i + size] for i in range(0, len(memberships), size)]


def member_header(m: Membership) -> str:
    user = m.user
    badge = _DEACTIVATED if m.status != MemberStatus.ACTIVE else ""
    return _MEMBER_HEADER.format(
        name=escape(user.display_name), email=escape(user.email), badge=badge
    )


def _join(cells: list[Cell]) -> SafeString:
    return SafeString("".join(c.html for c in cells))  # each cell's markup is escaped


# --- Markup ------------------------------------------------------------------------------

_EFFECTS = (("inherit", "Inherit"), ("allow", "Allow"), ("deny", "Deny"))
_EFFECT_VALUES = frozenset(e for e, _ in _EFFECTS)
_FORM = (
    '<form class="rule-form" method="post" action="{url}" hx-post="{url}" hx-trigger="change, submit">{hidden}'
    '<input type="hidden" name="feature" value="{feature}"><input type="hidden" name="target" value="{target}">'
    '<label class="visually-hidden" for="{id}">{label}</label>'
    '<select id="{id}" name="effect" class="rule rule-{effect}"{disabled}{invalid}>{options}</select>'
    "{button}{error}</form>"
)
_SET_BUTTON = '<noscript><button type="submit" class="btn btn-sm">Set</button></noscript>'
# A cell of the groups' or members' table. With JavaScript, a select posts itself alone
# when it changes (console.js, to the form's action); without, the table's one button posts
# the form. No attribute is repeated per cell that the form already holds. A group's
# select has a <label> (hidden by the stylesheet, as every label in a cell is); a
# member's, the same name as an attribute, which weighs less.
_GROUP_CELL = (
    '<td class="fcell"><label for="{id}">{label}</label>'
    '<select id="{id}" name="{name}" class="rule rule-{effect}"{invalid}>{options}</select>'
    "{error}</td>"
)
_MEMBER_CELL = (
    '<td class="fcell"><select id="{id}" name="{name}" class="rule rule-{effect}" aria-label="{label}"{invalid}>'
    "{options}</select>{error}{why}</td>"
)
# A member's decision: a link to the chain's own page, which console.js turns into a button
# that opens the chain in a popover, loaded on first use. The reason is its tooltip.
_WHY = '<a class="why-mark dec-{css}" href="{url}" title="{reason}" aria-label="{word}: why?">{mark}</a>'


_MEMBER_HEADER = (
    '<th scope="row"><span class="member-name">{name}</span>'
    '<span class="mono muted member-email">{email}</span>{badge}</th>'
)
_DEACTIVATED = ' <span class="badge badge-danger">Deactivated</span>'
# A block not drawn yet: its members named, its cells one link (followed without
# JavaScript) until htmx loads the block as it scrolls into view.
_LAZY_BLOCK = (
    '<tbody id="members-block-{n}" class="lazy-block" hx-get="{url}" hx-trigger="intersect once"'
    ' hx-target="this" hx-swap="outerHTML">\n{rows}</tbody>'
)
_LAZY_CELLS = (
    '<td class="lazy-cells" colspan="{columns}" rowspan="{count}">'
    '<a href="{url}#members-block-{n}">Show the rules of these {count} member{plural}</a></td>'
)


def _options(effect: str, no_allow: bool) -> str:
    return "".join(
        f'<option value="{value}"{" selected" if value == effect else ""}'
        f"{' disabled' if no_allow and value == 'allow' else ''}>{label}</option>"
        for value, label in _EFFECTS
    )


# Three effects, with or without "Allow" refused: six variants, built once.
_OPTIONS = {(e, no_allow): _options(e, no_allow) for e, _ in _EFFECTS for no_allow in (False, True)}


def _draw(cell: Cell, bits: FormBits) -> Cell:
    """Write the cell's markup from its fields. Keys, ids and URLs are the console's own
    (registry keys, primary keys, reversed URLs); names, emails and messages are escaped."""
    error_id = f"{cell.dom_id}-error"
    effect = cell.effect if cell.effect in _EFFECT_VALUES else INHERIT
    options = _OPTIONS[(effect, cell.no_allow)]
    invalid = f' aria-invalid="true" aria-describedby="{error_id}"' if cell.error else ""
    error = (
        f'<p class="error" id="{error_id}" role="alert">{escape(cell.error)}</p>'
        if cell.error
        else ""
    )
    if cell.target == WORKSPACE:
        form = _FORM.format(
            url=bits.rule_url,
            hidden=bits.hidden,
            feature=cell.feature.key,
            target=cell.target,
            id=cell.dom_id,
            label=escape(cell.label),
            effect=effect,
            disabled=" disabled" if cell.locked else "",
            invalid=invalid,
            options=options,
            button="" if cell.locked else _SET_BUTTON,
            error=error,
        )
        # SafeString rather than mark_safe: the same, without a lazy-object check per call,
        # which showed at a thousand cells.
        cell.form = SafeString(form)
        return cell
    why = ""
    if cell.decision is not None:
        allowed = cell.decision.allowed
        why = _WHY.format(
            url=cell.why_url,
            css="yes" if allowed else "no",
            mark="✓" if allowed else "✕",
            word="Allowed" if allowed else "Denied",
            reason=escape(cell.decision.reason),
        )
    cell.html = SafeString(
        (_MEMBER_CELL if cell.target == MEMBER else _GROUP_CELL).format(
            id=cell.dom_id,
            label=escape(cell.label),
            name=cell_name(cell.target, cell.target_id or 0, cell.feature.key, effect),
            effect=effect,
            invalid=invalid,
            options=options,
            error=error,
            why=why,
        )
    )
    return cell


# --- Building the rows -------------------------------------------------------------------


def columns(facts: WorkspaceFacts) -> list[Column]:
    media = facts.media.is_media_customer
    return [
        Column(f, f.key in facts.plan_features, media and f.key == registry.NEWS)
        for f in registry.FEATURES
    ]


def column(facts: WorkspaceFacts, key: str) -> Column:
    return next(c for c in columns(facts) if c.feature.key == key)


def baseline(feature: Feature, facts: WorkspaceFacts) -> Decision:
    """The decision for an active member without groups or rules of their own: the
    workspace-wide outcome, computed by the one decision function."""
    return evaluate(feature, facts, MemberFacts(membership_id=0, active=True))


def workspace_cell(
    col: Column, effect: str, bits: FormBits, *, exceptions: bool = False, error: str = ""
) -> Cell:
    return _draw(
        Cell(
            feature=col.feature,
            target=WORKSPACE,
            target_id=None,
            effect=effect,
            dom_id=f"rule-w-{col.feature.key}",
            label=f"{col.feature.label} for everyone",
            no_allow=col.media_locked,
            # Verified news of a Media Customer is blocked above any admin's rule: the control
            # is off, unless an editorial-use authorization is in force (admins may then still
            # deny it) or an allow set before the status needs taking back.
            locked=col.media_locked and not exceptions and effect != "allow",
            error=error,
        ),
        bits,
    )


def workspace_row(
    col: Column, facts: WorkspaceFacts, bits: FormBits, *, error: str = ""
) -> WorkspaceRow:
    effect = facts.workspace_rules.get(col.feature.key, INHERIT)
    cell = workspace_cell(col, effect, bits, exceptions=bool(facts.media.exceptions), error=error)
    return WorkspaceRow(col, cell, baseline(col.feature, facts))


def workspace_rows(facts: WorkspaceFacts, bits: FormBits) -> list[WorkspaceRow]:
    return [workspace_row(col, facts, bits) for col in columns(facts)]


def group_cell(col: Column, group: Group, effect: str, bits: FormBits, *, error: str = "") -> Cell:
    return _draw(
        Cell(
            feature=col.feature,
            target=GROUP,
            target_id=group.pk,
            effect=effect,
            dom_id=f"rule-g{group.pk}-{col.feature.key}",
            label=f"{col.feature.label} for the group {group.name}",
            no_allow=col.media_locked,
            error=error,
        ),
        bits,
    )


def group_rows(
    facts: WorkspaceFacts,
    cols: list[Column],
    groups: Iterable[Group],
    bits: FormBits,
    groups_url: str = "",
) -> list[GroupRow]:
    rules = facts.group_rules
    return [
        GroupRow(
            g,
            [group_cell(col, g, rules.get((g.pk, col.feature.key), INHERIT), bits) for col in cols],
            groups_url,
        )
        for g in groups
    ]


def member_cell(
    col: Column,
    membership: Membership,
    effect: str,
    decision: Decision,
    bits: FormBits,
    *,
    error: str = "",
    email: str = "",
) -> Cell:
    key = col.feature.key
    return _draw(
        Cell(
            feature=col.feature,
            target=MEMBER,
            target_id=membership.pk,
            effect=effect,
            dom_id=f"rule-m{membership.pk}-{key}",
            label=f"{col.feature.label} for {email or membership.user.email}",
            no_allow=col.media_locked,
            error=error,
            decision=decision,
            why_url=f"{bits.why_base}{membership.pk}/{key}/",
        ),
        bits,
    )


def member_rows(
    cols: list[Column],
    memberships: Iterable[Membership],
    rules: Mapping[tuple[int, str], str],
    decisions: Mapping[int, Mapping[str, Decision]],
    bits: FormBits,
) -> list[MemberRow]:
    rows = []
    for m in memberships:
        email, mine = m.user.email, decisions[m.pk]
        rows.append(
            MemberRow(
                m,
                [
                    member_cell(
                        col,
                        m,
                        rules.get((m.pk, col.feature.key), INHERIT),
                        mine[col.feature.key],
                        bits,
                        email=email,
                    )
                    for col in cols
                ],
            )
        )
    return rows
