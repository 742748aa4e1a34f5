"""Agent names (R-AGT-5): 1 to 64 characters after NFKC normalization, unique in the
workspace without regard to case, and refused when they contain a term staff block or
impersonate the platform or its products, unless staff approved that agent.

What counts as containing a term, after NFKC normalization and case folding:

- confusable folding: each character that Unicode's confusables data (the
  ``confusable-homoglyphs`` package, a copy of TR39's list) says looks like an ASCII letter
  or digit reads as that letter, so "Мistral" with a Cyrillic М, "Mіstral" with a Cyrillic
  і and "𝐌istral" are "mistral". The data also makes the digit 1 and the capital I look
  like l, and 0 like O; on top of it, i and l read as one letter and "rn" as "m", so
  "M1stral", "MIstral", "Mlstral" and "rnistral" all read as "mistral". Other digits for
  letters ("L3 Chat", "Mistr4l") are not lookalikes in that data and pass: staff block
  such spellings as terms when they meet them;
- separators: impersonation is read with spaces, punctuation and symbols removed, from
  the start of any word ("Le-Chat", "L e C h a t", "LeChat Pro", "MistralBot" name the
  platform; "Amistral" does not; "Le Château" does, and staff may approve it); a blocked
  term is read on word boundaries ("ass" blocks "Ass Bot", not "Classifier");
- mixed scripts need no rule of their own: a lookalike from another script folds to the
  Latin letter it imitates, and a name in one other script ("Ассистент") is a name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from confusable_homoglyphs.confusables import confusables_data

from core.errors import DomainError
from core.parsing import is_storable_text

from .models import NAME_MAX

# The platform and its products, as the terms name them.
IMPERSONATED: tuple[str, ...] = (
    "Mistral",
    "Mistral AI",
    "Le Chat",
    "La Plateforme",
    "Official support",
    "Mistral support",
    "Customer support team",
)

NAME_EMPTY = "Enter a name."
NAME_TOO_LONG = f"Use at most {NAME_MAX} characters."
NAME_INVISIBLE = "An agent name cannot contain invisible or control characters."
NAME_TAKEN = "The workspace already has an agent of this name (names ignore case)."
NAME_IMPERSONATES = (
    'The name reads as "{term}": agents may not present themselves as the platform or its '
    "products unless staff approve the name."
)
NAME_BLOCKED = 'The name contains the blocked term "{term}".'

# Control, format (zero-width, bidi overrides), private-use, unassigned, surrogates.
_INVISIBLE = {"Cc", "Cf", "Co", "Cn", "Cs"}
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize(raw: str) -> str:
    """The name as stored: NFKC, runs of white space as one space, trimmed. Refuses what a
    name cannot hold."""
    if not is_storable_text(raw):
        raise DomainError(NAME_INVISIBLE, field="name")
    name = unicodedata.normalize("NFKC", raw)
    if any(unicodedata.category(ch) in _INVISIBLE for ch in name if ch not in "\t\n\r"):
        raise DomainError(NAME_INVISIBLE, field="name")
    name = " ".join(name.split())
    if not name:
        raise DomainError(NAME_EMPTY, field="name")
    if len(name) > NAME_MAX:
        raise DomainError(NAME_TOO_LONG, field="name")
    return name


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch.isascii():
        entries = confusables_data.get(ch) if not ch.islower() else None
        # Only the ASCII characters the data maps to exactly one other ASCII character
        # (1 -> l, I -> l, 0 -> O); "l" itself lists every vertical stroke and stays.
        if entries and len(entries) == 1 and entries[0]["c"].isascii():
            return str(entries[0]["c"]).lower()
        return ch.lower()
    for entry in confusables_data.get(ch, ()):
        target = str(entry["c"]).replace("\u200e", "")
        if target and target.isascii() and target.isalnum():
            return target.lower()
    return ch


def skeleton(text: str) -> str:
    """``text`` as it looks: NFKC, each lookalike as the ASCII it imitates (folded before
    the case, since the data maps capitals: Cyrillic М to M), case-folded."""
    text = unicodedata.normalize("NFKC", text)
    # Marks on letters are kept by NFKC ("é"): the base letter is what the eye reads.
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    out = "".join(_fold_char(ch) for ch in text).casefold()
    return out.replace("rn", "m").replace("l", "i")


def _words(text: str) -> str:
    return " " + " ".join(w for w in _NON_WORD.split(skeleton(text)) if w) + " "


def _squashed(text: str) -> str:
    return _NON_WORD.sub("", skeleton(text))


@dataclass(frozen=True)
class NameProblem:
    rule: str  # "impersonation" or "blocked_term"
    term: str
    message: str


def _blocked(name: str, blocked_terms: Iterable[str]) -> NameProblem | None:
    words = _words(name)
    for term in blocked_terms:
        probe = _words(term)
        if probe.strip() and probe in words:
            return NameProblem("blocked_term", term, NAME_BLOCKED.format(term=term))
    return None


def _impersonated(name: str) -> NameProblem | None:
    # From the start of each word of the name, separators removed: "LeChat Pro", "L e C h a
    # t" and "MistralBot" name the platform; "Amistral" does not.
    words = [w for w in _NON_WORD.split(skeleton(name)) if w]
    tails = ["".join(words[i:]) for i in range(len(words))]
    for term in IMPERSONATED:
        probe = _squashed(term)
        if any(tail.startswith(probe) for tail in tails):
            return NameProblem("impersonation", term, NAME_IMPERSONATES.format(term=term))
    return None


def problem(
    name: str, blocked_terms: Iterable[str], *, approved: bool = False
) -> NameProblem | None:
    """The first rule the name breaks, or None. Pure: the blocked terms come loaded.
    ``approved``: staff approved this agent's name, which lifts the impersonation rule and
    not the blocked terms."""
    if not approved:
        found = _impersonated(name)
        if found is not None:
            return found
    return _blocked(name, blocked_terms)


def check(name: str, blocked_terms: Iterable[str], *, approved: bool = False) -> None:
    """Refuse a name that breaks a rule, with the message that names the rule."""
    found = problem(name, blocked_terms, approved=approved)
    if found is not None:
        raise DomainError(found.message, field="name")
