"""Pseudo-relevance feedback: the top papers' own words as extra query words.

A query names its topic in a few words; the papers that answer it name
it in more (환각 완화 papers also say 사실성, 근거, 검증). RM3 assumes the
first few hits are relevant and adds the terms that mark them out: each
term's weight is its share of each top paper's text, weighted by that
paper's score and by the term's rarity, summed over the papers. The best
`TERMS` join the query as untyped parts weighing at most `WEIGHT` of a
typed word, and the query runs again.

It is off unless asked for (``feedback=True``, ``--feedback``): on the
tuning half it raised some kinds and lowered others (see the README).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from .hits import Expansion
from .query import ParsedQuery, Part, is_hangul
from .ranking import field_terms
from .similar import telling

DOCS = 5
"""Top papers read for feedback."""
TERMS = 8
"""Terms added to the query."""
WEIGHT = 0.3
"""The best feedback term's weight; the others weigh in proportion."""
MIN_DF, MAX_DF_SHARE = 2, 0.2
"""A feedback term must occur in at least two papers (one paper's names
say nothing of the topic) and in at most a fifth of them (common words
say nothing at all)."""
LABEL = "(feedback)"


def expand(
    parsed: ParsedQuery, top: Sequence[tuple[Mapping[str, Sequence], float]], df: Callable[[str], int], count: int,
) -> ParsedQuery:
    """The query with the feedback terms of ``top`` ((spans, score) of the
    first hits, best first) added."""
    if not top or count < 1:
        return parsed
    asked = {t for part in parsed.parts for alt in part.alternatives for t in alt}
    best = max(score for _, score in top) or 1.0
    weights: Counter = Counter()
    for spans, score in top[:DOCS]:
        terms = Counter(t for name in spans for t in field_terms(spans, name))
        length = sum(terms.values()) or 1
        for term, tf in terms.items():
            if term in asked or not _addable(term):
                continue
            found = df(term)
            if found < MIN_DF or found > MAX_DF_SHARE * count:
                continue
            weights[term] += (score / best) * (tf / length) * math.log(count / found)
    chosen = weights.most_common(TERMS)
    if not chosen:
        return parsed
    top_weight = chosen[0][1]
    parts = tuple(Part(((t,),), weight=WEIGHT * w / top_weight, label=LABEL, typed=False) for t, w in chosen)
    expansions = parsed.expansions + tuple(Expansion(LABEL, t) for t, _ in chosen)
    return ParsedQuery(parsed.text, parsed.parts + parts, parsed.arxiv_ids, expansions)


def _addable(term: str) -> bool:
    """Words worth adding: telling ones, Korean or letters only."""
    return telling(term) and (is_hangul(term) or term.isalpha())
