"""A paper's key terms, for "more like this".

Whoosh's own more-like-this re-analyses stored text, which would load Kiwi
for every ``similar``; the stored term offsets already hold each section's
terms, so key terms are ranked here by field-weighted tf·idf instead.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from .ranking import field_items, field_terms
from .schema import FIELD_WEIGHTS

KEY_TERMS = 15
TOP_SCAN, TOP_SHOWN = 40, 8
"""`stats` lists a field's first `TOP_SHOWN` telling terms among its `TOP_SCAN` most frequent."""


def telling(term: str) -> bool:
    """A term worth weighing or showing as what a text is about: not a
    single syllable or letter, not a number (3, 2.5)."""
    return len(term) > 1 and not term.replace(".", "").isdigit()


def top_terms(most_frequent: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """A field's top terms for `stats`, from its terms most frequent first."""
    return [(term, n) for term, n in most_frequent if telling(term)][:TOP_SHOWN]


def key_terms(
    copies: Sequence[Mapping[str, Sequence[Sequence]]],
    doc_frequency: Callable[[str], int],
    doc_count: int,
    k: int = KEY_TERMS,
) -> list[tuple[str, float]]:
    """The ``k`` terms that best characterise a paper, with weights; terms
    no other paper has (its own name) cannot make anything similar.

    :param copies: the stored spans (section → ``(term, pos, start, end)``)
        of every copy of the paper.
    """
    weighted: Counter[str] = Counter()
    for spans in copies:
        for field in spans:
            boost = FIELD_WEIGHTS.get(field, 1.0)
            for term, count in Counter(field_terms(spans, field)).items():  # terms only: no offsets unpacked
                if telling(term):
                    weighted[term] += boost * count
    scored = []
    for term, tf in weighted.items():
        df = doc_frequency(term)
        if df > len(copies):
            scored.append((term, (1 + math.log(tf)) * math.log(1 + doc_count / df)))
    return sorted(scored, key=lambda item: -item[1])[:k]


def surface_forms(
    copies: Iterable[Mapping[str, Sequence[Sequence]]], texts: Iterable[Mapping[str, str]], wanted: set[str]
) -> dict:
    """Each wanted term → how it is first written in the paper (학습 for
    학습하는); a term never found stands for itself."""
    forms: dict[str, str] = {}
    for spans, text in zip(copies, texts):
        for field in spans:
            for term, _pos, start, end in field_items(spans, field, wanted - forms.keys()):
                forms.setdefault(term, text.get(field, "")[start:end] or term)
    return {term: forms.get(term, term) for term in wanted}
