"""Agent names (R-AGT-5): normalization, lookalikes, blocked terms, staff approval."""

from __future__ import annotations

import pytest

from agents import names
from core.errors import DomainError


@pytest.mark.parametrize(
    "name",
    [
        "Mistral",
        "mistral helper",
        "Мistral",  # Cyrillic capital em
        "Mіstral",  # Cyrillic small i
        "ΜISTRAL",  # Greek capital mu
        "𝐌istral",  # mathematical bold
        "Ｍｉｓｔｒａｌ",  # fullwidth, folded by NFKC
        "M1stral",
        "MIstral",
        "rnistral",
        "Mistrál",
        "MistralBot",
        "Le Chat",
        "Le-Chat helper",
        "L e C h a t",
        "LeChat Pro",
        "Official support",
        "OFFICIAL  SUPPORT desk",
        "La Plateforme",
    ],
)
def test_impersonating_names_are_refused_with_the_rule(name: str) -> None:
    found = names.problem(names.normalize(name), [])
    assert found is not None and found.rule == "impersonation"
    assert "platform" in found.message


@pytest.mark.parametrize(
    "name", ["Research bot", "Amistral", "Milestone tracker", "Ассистент", "Sales assistant"]
)
def test_ordinary_names_pass(name: str) -> None:
    assert names.problem(names.normalize(name), ["ass"]) is None


def test_blocked_terms_match_whole_words_after_folding() -> None:
    assert names.problem("Ass bot", ["ass"]).rule == "blocked_term"  # type: ignore[union-attr]
    assert names.problem("Аss bot", ["ass"]) is not None  # Cyrillic A
    assert names.problem("Classifier", ["ass"]) is None
    assert names.problem("Quick scam finder", ["scam"]).message == names.NAME_BLOCKED.format(  # type: ignore[union-attr]
        term="scam"
    )


def test_staff_approval_lifts_impersonation_but_not_blocked_terms() -> None:
    assert names.problem("Mistral helper", [], approved=True) is None
    found = names.problem("Mistral scam", ["scam"], approved=True)
    assert found is not None and found.rule == "blocked_term"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", names.NAME_EMPTY),
        ("   ", names.NAME_EMPTY),
        ("x" * 65, names.NAME_TOO_LONG),
        ("bad\x00name", names.NAME_INVISIBLE),
        ("zero\u200bwidth", names.NAME_INVISIBLE),
        ("bidi\u202eeman", names.NAME_INVISIBLE),
        ("\ud800", names.NAME_INVISIBLE),
    ],
)
def test_bad_names_are_refused(raw: str, message: str) -> None:
    with pytest.raises(DomainError) as exc:
        names.normalize(raw)
    assert exc.value.message == message and exc.value.field == "name"


def test_names_are_nfkc_normalized_and_spaces_collapsed() -> None:
    assert names.normalize("  Ｔｒｉａｇｅ   bot ") == "Triage bot"
    assert len(names.normalize("é" * 64)) == 64
