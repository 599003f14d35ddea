"""Dutch plurals in the response catalogue: `{n:# lid|# leden}`, verbs, and "niemand"."""

from __future__ import annotations

import pytest

from dialogues import ResponseCatalogue


def _catalogue(**texts: str) -> ResponseCatalogue:
    return ResponseCatalogue({k: (v,) for k, v in texts.items()})


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 leden doen mee"), (1, "1 lid doet mee"), (2, "2 leden doen mee")],
)
def test_two_forms_with_the_number_and_a_verb(count: int, expected: str) -> None:
    responses = _catalogue(t="{n:# lid|# leden} {n:doet|doen} mee")
    assert responses.render("t", {"n": count}) == expected


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "niemand"), (1, "1 cursus"), (5, "5 cursussen")]
)
def test_three_forms_start_with_none(count: int, expected: str) -> None:
    assert _catalogue(t="{n:niemand|# cursus|# cursussen}").render("t", {"n": count}) == expected


def test_a_plural_needs_a_whole_number() -> None:
    responses = _catalogue(t="{n:# lid|# leden}")
    with pytest.raises(ValueError, match="whole number"):
        responses.render("t", {"n": "3"})


def test_every_plural_in_the_catalogue_renders_one_and_many() -> None:
    responses = ResponseCatalogue.load()
    plural_keys = [k for k in responses.names() if any("|" in v for v in responses.variants(k))]
    assert len(plural_keys) >= 6
    for key in plural_keys:
        values = dict.fromkeys(responses.placeholders(key), 1)
        one = responses.render(key, values)
        many = responses.render(key, dict.fromkeys(values, 3))
        assert "1 leden" not in one and "1 cursussen" not in one, one
        assert one != many, key
