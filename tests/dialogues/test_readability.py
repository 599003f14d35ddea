"""Every text the bot says is easy Dutch: the Flesch–Douma score (bench/readability.py)."""

from __future__ import annotations

import statistics

import pytest

from bench.readability import all_scores, score, syllables


@pytest.mark.parametrize(
    ("word", "count"),
    [
        ("je", 1),
        ("leerbudget", 3),
        ("gezondheidszorg", 4),
        ("mijn", 1),
        ("geïnteresseerd", 5),
        ("cursussen", 3),
        ("uitgeven", 3),
    ],
)
def test_dutch_syllables(word: str, count: int) -> None:
    assert syllables(word) == count


def test_short_words_and_sentences_score_higher() -> None:
    easy = score("Ik leer. Jij werkt. Wij gaan.")
    hard = score(
        "Arbeidsmarktgerelateerde ontwikkelingsmogelijkheden vereisen interdisciplinaire "
        "competentieontwikkeling binnen organisatorische randvoorwaarden."
    )
    assert easy is not None and hard is not None
    assert easy.flesch_douma > 90 > 0 > hard.flesch_douma


def test_the_bot_speaks_easy_dutch() -> None:
    """Target from the coaching issue: mean Flesch–Douma of all responses ≥ 60."""
    scores = all_scores()
    assert len(scores) > 200
    assert statistics.fmean(scores.values()) >= 60
