"""Re-ranking of the top candidates, from stored term positions.

The backend ranks with BM25F; these factors then reorder its top
candidates by what BM25 cannot see: how many of the query's words a paper
covers, and whether neighbouring query words stand together in it. They
read the ``(term, pos, start, end)`` offsets stored at index time, so they
are backend-neutral and cost nothing but the candidates' stored fields,
where phrase matchers over every posting cost the backend more than the
whole rest of a search.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Container, Mapping, Sequence, Set

from .query import ParsedQuery, Part

COORD_POWER = 1.0
"""Score × (covered query words / all query words) ** COORD_POWER."""
SIGNIFICANCE_POWER = 1.0
"""Words count toward coverage by significance ** SIGNIFICANCE_POWER (see
`understand`): covering the rare word that carries the query (가속) counts
more than covering LLM, which nearly every paper holds. 0 counts words."""
PROXIMITY_BONUS, PROXIMITY_SLOP = 0.5, 3
"""Score × (1 + PROXIMITY_BONUS × share of neighbouring query-word pairs
that stand within PROXIMITY_SLOP words of each other in one section)."""
PROXIMITY_MIN_SIGNIFICANCE = 0.0
"""Only pairs of words at least this significant count for proximity
(a hard cut; tuned to 0, see `PROXIMITY_POWER` for the soft one)."""
PROXIMITY_POWER = 0.0
"""Pairs count for proximity by their less significant word's
significance ** PROXIMITY_POWER (0: every pair alike)."""

Spans = Mapping[str, Sequence[Sequence]]


def neighbour_pairs(parsed: ParsedQuery, least: float = 0.0) -> list[tuple[str, str]]:
    """Consecutive typed words, by their last/first terms: 시각 토큰 압축 →
    (시각, 토큰), (토큰, 압축); with ``least``, only pairs of words at
    least that significant."""
    words = [p for p in parsed.typed if not p.required]
    return list(dict.fromkeys(
        (a.alternatives[-1][-1], b.alternatives[-1][0]) for a, b in zip(words, words[1:])
        if a.alternatives[-1][-1] != b.alternatives[-1][0] and min(a.significance, b.significance) >= least
    ))


def coverage(spans: Spans, fields: Sequence[str], parsed: ParsedQuery) -> float:
    """Papers matching more of the query's words come first, while every
    word stays optional."""
    typed = parsed.typed
    if len(typed) <= 1:
        return 1.0
    present = set().union(*(field_vocabulary(spans, name) for name in fields))

    def found(part: Part) -> bool:
        return any(all(t in present for t in alt) for alt in part.alternatives)

    # an expansion found covers the words it stands for (양자화 covers 경량화)
    through = {label for part in parsed.parts if part.covers and found(part) for label in part.covers}
    weights = [part.significance ** SIGNIFICANCE_POWER for part in typed]
    covered = sum(w for part, w in zip(typed, weights) if part.label in through or found(part))
    # never below one word's share, as when words counted alike: a paper found
    # by its arXiv id may hold only the commonest word
    return max(covered / sum(weights), 1 / len(typed)) ** COORD_POWER


def proximity(spans: Spans, fields: Sequence[str], parsed: ParsedQuery) -> float:
    """Papers where the query's words stand together ("시각 토큰") beat
    papers that mention them apart. Each neighbouring pair counts by its
    less significant word (``PROXIMITY_POWER``), so a common word beside a
    passing one (문제 풀이 in 수학 문제 풀이) lifts a paper less than the
    words that carry the query."""
    pairs = neighbour_pairs(parsed, PROXIMITY_MIN_SIGNIFICANCE)
    if not pairs:
        return 1.0
    weights = _pair_weights(parsed, pairs)
    near = 0.0
    for (a, b), weight in zip(pairs, weights):
        # offsets are unpacked only for fields holding both words
        candidates = [name for name in fields if {a, b} <= field_vocabulary(spans, name)]
        if any(_near(field_positions(spans, name, a), field_positions(spans, name, b)) for name in candidates):
            near += weight
    return 1.0 + PROXIMITY_BONUS * near / sum(weights)


def _pair_weights(parsed: ParsedQuery, pairs: list[tuple[str, str]]) -> list[float]:
    """Each pair's weight: its less significant word's significance ** PROXIMITY_POWER."""
    significance: dict[str, float] = {}
    for part in parsed.typed:
        for alt in part.alternatives:
            for term in (alt[0], alt[-1]):
                significance[term] = max(significance.get(term, 0.0), part.significance)
    return [min(significance.get(a, 1.0), significance.get(b, 1.0)) ** PROXIMITY_POWER for a, b in pairs]


def field_terms(spans: Spans, name: str) -> Sequence[str]:
    """A field's terms; stores that can list them without offsets (see
    `schema.Spans`) save unpacking the rest."""
    if hasattr(spans, "terms"):
        return spans.terms(name)
    return [item[0] for item in spans.get(name, ())]


def field_vocabulary(spans: Spans, name: str) -> Set[str]:
    """A field's distinct terms (see `schema.Spans.vocabulary`)."""
    if hasattr(spans, "vocabulary"):
        return spans.vocabulary(name)
    return set(field_terms(spans, name))


def field_items(
    spans: Spans, name: str, wanted: Container[str], limit: int | None = None, since: int = 0
) -> list[Sequence]:
    """A field's ``(term, pos, start, end)`` tuples for the ``wanted``
    terms only, in order, from position ``since`` on, at most ``limit``: a
    huge section is never unpacked whole for a few query terms (see
    `schema.Spans.where`)."""
    if hasattr(spans, "where"):
        return spans.where(name, wanted, limit, since)
    return [item for item in spans.get(name, ()) if item[0] in wanted and item[1] >= since][:limit]


def field_starts(spans: Spans, name: str) -> Sequence[int]:
    """Where each of a field's terms starts, in characters."""
    if hasattr(spans, "starts"):
        return spans.starts(name)
    return [item[2] for item in spans.get(name, ())]


def field_positions(spans: Spans, name: str, term: str) -> list[int]:
    """The term's positions in a field, ascending (see `schema.Spans.positions`)."""
    if hasattr(spans, "positions"):
        return spans.positions(name, term)
    return sorted(pos for t, pos, *_ in spans.get(name, ()) if t == term)


def phrase_starts(spans: Spans, name: str, phrase: Sequence[str]) -> list[int]:
    """Positions where the phrase begins in consecutive positions of one
    field, ascending: only its words' positions are read (linear in the
    section, however often the words repeat)."""
    starts = field_positions(spans, name, phrase[0])
    for offset, word in enumerate(phrase[1:], 1):
        later = set(field_positions(spans, name, word))
        starts = [pos for pos in starts if pos + offset in later]
    return starts


def _near(firsts: list[int], seconds: list[int]) -> bool:
    """Some second word follows a first one within PROXIMITY_SLOP
    positions: each second's nearest first before it is found by bisection
    (a section repeating both words 300,000 times compared every pair)."""
    for b in seconds:
        i = bisect_left(firsts, b)  # firsts[i - 1] < b
        if i and b - firsts[i - 1] <= PROXIMITY_SLOP + 1:
            return True
    return False
