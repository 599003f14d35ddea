from __future__ import annotations


def test_compact_lemma_table_answers_as_the_full_table() -> None:
    from pathlib import Path

    import spacy_lookups_data
    import srsly

    from knowledge.text import fold, lemma

    path = Path(spacy_lookups_data.__file__).parent / "data" / "nl_lemma_lookup.json.gz"
    table = {fold(k): fold(v) for k, v in srsly.read_gzip_json(path).items()}
    assert len(table) > 200_000
    assert [w for w, lem in table.items() if lemma(w) != lem] == []
    for word in ("xyzzy", "zorgcursus", "", "cursus"):
        assert lemma(word) == table.get(word, word)
