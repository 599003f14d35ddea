"""Readability of everything the bot says: the Flesch–Douma score (the Dutch Flesch formula).

Run: .venv/bin/python -m bench.readability [--worst 10]

FD = 206.835 - 0.93 * (words per sentence) - 77 * (syllables per word). Higher is easier;
60-70 is "easy" (B1 level), above 70 very easy. Placeholders ({title}) count as one short word;
texts of fewer than three words (button labels like "Klaar", lone placeholders) are skipped.
Syllables are groups of vowels (aa, ie, eeuw, ij ... count once; a vowel with a diaeresis, as in
"geïnteresseerd", starts a new one).
"""

from __future__ import annotations

import argparse
import re
import statistics
import unicodedata
from dataclasses import dataclass

from dialogues import ResponseCatalogue

_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_SENTENCE_END = re.compile(r"[.!?:]+(?:\s|$)|\n+")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_VOWELS = set("aeiouy")
MIN_WORDS = 3


def syllables(word: str) -> int:
    count = 0
    previous_vowel = False
    for char in unicodedata.normalize("NFD", word.lower()):
        if unicodedata.combining(char):
            if char == "\u0308":  # diaeresis: the vowel it sits on starts a new syllable
                count += 1
                previous_vowel = True
            continue
        is_vowel = char in _VOWELS
        if is_vowel and not previous_vowel:
            count += 1
        previous_vowel = is_vowel
    return max(count, 1)


@dataclass(frozen=True)
class Score:
    words: int
    sentences: int
    syllables: int

    @property
    def flesch_douma(self) -> float:
        return 206.835 - 0.93 * (self.words / self.sentences) - 77 * (self.syllables / self.words)


def score(text: str) -> Score | None:
    plain = _PLACEHOLDER.sub("dit", text)
    sentences = [s for s in _SENTENCE_END.split(plain) if _WORD.search(s)]
    words = _WORD.findall(plain)
    if len(words) < MIN_WORDS:
        return None
    return Score(len(words), len(sentences), sum(syllables(w) for w in words))


def all_scores(catalogue: ResponseCatalogue | None = None) -> dict[str, float]:
    """Flesch–Douma per response text (variants averaged), for every scorable text."""
    catalogue = catalogue or ResponseCatalogue.load()
    found: dict[str, float] = {}
    for key in sorted(catalogue.names()):
        scores = [s.flesch_douma for v in catalogue.variants(key) if (s := score(v))]
        if scores:
            found[key] = statistics.fmean(scores)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worst", type=int, default=10)
    args = parser.parse_args()
    scores = all_scores()
    print(f"texts scored: {len(scores)}")
    print(f"mean Flesch-Douma: {statistics.fmean(scores.values()):.1f}")
    print(f"median: {statistics.median(scores.values()):.1f}")
    print(f"below 60: {sum(1 for v in scores.values() if v < 60)}")
    print("hardest:")
    for key, value in sorted(scores.items(), key=lambda kv: kv[1])[: args.worst]:
        print(f"  {value:6.1f}  {key}")


if __name__ == "__main__":
    main()
