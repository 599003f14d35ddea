"""The spaCy side of the pipeline: a blank Dutch tokenizer with the lookup lemmatizer.

A small component sets every token's NORM to its lemma folded to lower case without accents,
so matching and features ignore inflection ("cursussen" ~ "cursus") and accents ("één" ~ "een").
"""

from __future__ import annotations

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from nlu._normalise import fold

NORM_COMPONENT = "leerloop_norm"


@Language.component(NORM_COMPONENT)
def _norm(doc: Doc) -> Doc:
    for token in doc:
        token.norm_ = fold(token.lemma_ or token.text)
    return doc


def blank_dutch() -> Language:
    """A new pipeline: tokenizer, lookup lemmatizer (spacy-lookups-data), folded norms."""
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe(NORM_COMPONENT)
    nlp.initialize()
    return nlp


def norms(doc: Doc) -> list[str]:
    return [t.norm_ for t in doc if not t.is_punct and not t.is_space]
