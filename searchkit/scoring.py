"""Parsed query → BM25F scores over a backend's postings, a term at a time.

Whoosh scores one document at a time in Python: every posting of every
query term passes through a tree of matcher objects, which at 10,000
papers cost 60–400 ms a query. This module reads each query term's posting
blocks whole into numpy arrays and computes exactly what Whoosh would (its
idf, its byte-quantised field lengths, its boosts; sums for Or and And,
maxima for DisjunctionMax) as vector arithmetic. Phrases are checked
against stored offsets: for the top, only in documents whose best
possible score could still reach it; for every match (totals, date
order), only in documents that match through a phrase alone. On a section
field a phrase scores as Whoosh's Phrase does; on the combined field,
which keeps no positions, it scores its terms' combined BM25F wherever
it stands in some section (as Whoosh's Phrase on a positional combined
field did).

It reads Whoosh 2.7.5's posting blocks (`W3LeafMatcher`) directly; any
other matcher is read posting by posting. `tests/test_scoring.py` checks
every score against Whoosh's own.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .hits import TermScore
from .query import Part
from .ranking import field_positions, field_vocabulary, phrase_starts
from .schema import ALL

CHUNK = 64
"""Documents verified per step while walking the upper bounds."""

Stored = Callable[[int], Mapping[str, Any]]
"""docnum → stored fields, with ``spans`` (see `schema.Spans`)."""


@dataclass
class Scored:
    """Dense scores of one alternative: 0 where it does not match. For a
    phrase, ``score`` and ``match`` are upper bounds (its terms co-occur)
    and ``per_field`` keeps each field's share for the exact check."""

    score: np.ndarray
    match: np.ndarray
    phrase: tuple[str, ...] = ()
    per_field: tuple[tuple[str, np.ndarray], ...] = ()


class Postings(Protocol):
    """What scoring reads from a backend: Whoosh's posting blocks
    (`backends.whoosh.postings`) or a cluster's fetched candidates
    (`backends.sphinx.reader.CandidatePostings`). Documents are numbered
    0..size-1; statistics (N, df, average lengths) are global."""

    size: int
    """Documents numbered, live or not (the length of every dense array)."""
    count: int
    """Live documents: N in the idf."""

    def live(self) -> np.ndarray: ...

    def dense(self, field: str, term: str, boost: float = 1.0) -> Scored: ...

    def components(self, field: str, term: str, doc: int) -> tuple[float, float, float, float, float]: ...


class DensePostings:
    """`Postings.dense` from a backend's ``term`` (docnums, scores) and
    ``size``: the one dense form both backends give."""

    size: int

    def term(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def dense(self, field: str, term: str, boost: float = 1.0) -> Scored:
        docs, scores = self.term(field, term)
        score, match = np.zeros(self.size), np.zeros(self.size, dtype=bool)
        score[docs] = scores * boost
        match[docs] = True
        return Scored(score, match)


@dataclass
class Plan:
    """A query as scored parts: each part's alternatives and whether it is
    required (compounds and arXiv ids come separately, as one-term
    optional clauses from `Postings.dense`)."""

    parts: list[tuple[list[Scored], bool]]


def plan(postings: Postings, parts: Sequence[Part], fields: Sequence[str], weights: Mapping[str, float]) -> Plan:
    """Score every alternative of every part; phrases get their upper bound
    (the sum of their terms' scores where all terms co-occur). A term that
    several alternatives share (언어 in 언어 and in 대형 언어 모델) is read once."""
    seen: dict[tuple[str, str], Scored] = {}

    def dense(field: str, term: str) -> Scored:
        if (field, term) not in seen:
            seen[field, term] = postings.dense(field, term)
        return seen[field, term]

    planned = []
    for part in parts:
        planned.append(([_alternative(dense, postings.size, alt, fields, weights, part.weight)
                         for alt in part.alternatives], part.required))
    return Plan(planned)


def _alternative(
    dense: Callable[[str, str], Scored], size: int, terms: tuple[str, ...], fields: Sequence[str],
    weights: Mapping[str, float], weight: float,
) -> Scored:
    score, match = np.zeros(size), np.zeros(size, dtype=bool)
    per_field = []
    for field in fields:
        boost = weights.get(field, 1.0) * weight
        per_term = [dense(field, t) for t in terms]
        together = np.logical_and.reduce([s.match for s in per_term])
        share = np.where(together, sum(s.score for s in per_term), 0.0) * boost
        score += share
        match |= together
        per_field.append((field, share))
    if len(terms) == 1:
        return Scored(score, match)
    return Scored(score, match, terms, tuple(per_field))


def top(
    postings: Postings, planned: Plan, extras: Sequence[Scored], limit: int, key: Callable[[int], str],
    stored: Stored, within: np.ndarray | None = None, place: Callable[[int], Any] | None = None,
) -> list[tuple[int, float]]:
    """The ``limit`` best documents, one per ``key`` (a paper's re-posts
    collapse to its best copy), as (docnum, score), best first; only
    documents in ``within`` when it is given. Exact ties go by ``place``
    (docnum → its place in a full build; the docnum itself when None), so
    an index built a post at a time answers as one built at once."""
    if limit < 1:
        return []
    place = place or _itself
    upper, eligible, sure, _ = _bounds(postings, planned, extras)
    if within is not None:
        eligible &= within
    candidates = np.flatnonzero(eligible)
    order = candidates[np.lexsort((candidates, -upper[candidates]))]
    best: dict[str, tuple[int, float]] = {}
    for start in range(0, len(order), CHUNK):
        chunk = order[start : start + CHUNK]
        if len(best) >= limit and upper[chunk[0]] < kth_best((score for _, score in best.values()), limit):
            break
        for doc in chunk.tolist():
            score = upper[doc] if sure[doc] else _exact(planned, extras, doc, stored(doc))
            if score is None:
                continue
            paper = key(doc)
            held = best.get(paper)
            if held is None or score > held[1] or (score == held[1] and place(doc) < place(held[0])):
                best[paper] = (doc, float(score))
    return ties_by_place(sorted(best.values(), key=lambda item: (-item[1], item[0])), limit, place)


def ties_by_place(ranked: list[tuple[int, float]], limit: int,
                  place: Callable[[int], Any]) -> list[tuple[int, float]]:
    """The first ``limit`` of (docnum, score) ranked best first, each run of
    equal scores that reaches them ordered by ``place``: only tied
    documents are looked up."""
    out: list[tuple[int, float]] = []
    start = 0
    while start < len(ranked) and len(out) < limit:
        end = start + 1
        while end < len(ranked) and ranked[end][1] == ranked[start][1]:
            end += 1
        run = ranked[start:end]
        out += sorted(run, key=lambda item: place(item[0])) if len(run) > 1 else run
        start = end
    return out[:limit]


def _itself(doc: int) -> int:
    return doc


@dataclass(frozen=True)
class Matches:
    """Papers that match, by their documents, and an estimate for the papers
    left unchecked."""

    docs: np.ndarray
    """Matching docnums: a copy of every matching paper when ``unchecked`` is 0."""
    unchecked: int = 0
    """Papers whose phrases went unchecked, of which about ``rate`` match."""
    rate: float = 0.0


def matching(postings: Postings, planned: Plan, extras: Sequence[Scored], stored: Stored,
             within: np.ndarray | None = None) -> np.ndarray:
    """Every matching document, phrases checked against their stored
    offsets where the terms alone do not decide (date order needs every
    copy)."""
    sure, unsure = _split(postings, planned, extras, within)
    found = [doc for doc in unsure.tolist() if _exact(planned, extras, doc, stored(doc)) is not None]
    return _merged(sure, found)


def counted(postings: Postings, planned: Plan, extras: Sequence[Scored], stored: Stored, key: Callable[[int], Any],
            budget: int, within: np.ndarray | None = None, place: Callable[[int], Any] | None = None) -> Matches:
    """The matching papers (``key``: docnum → paper), about ``budget``
    phrase checks spent: a common required phrase would otherwise read
    most of the corpus. A paper with a copy that matches whatever its
    phrases needs no check; any other is checked a copy at a time until
    one matches. Papers are checked in an order whose every prefix is
    spread evenly over them (`_spread`) until the budget is spent (a paper
    begun is checked whole: at most its copies less one past the budget);
    the rest are estimated at the rate found. Papers, not documents, are
    sampled: copies of one paper match together, and a sample of documents
    counted a re-posted paper once a copy (23% high at 5,904 entries). They
    are taken in full-build order (``place`` of their first copy, as `top`
    breaks ties), so an incremental build estimates as a full one, and as
    the page."""
    sure, unsure = _split(postings, planned, extras, within)
    known = {key(doc) for doc in sure.tolist()}
    groups: dict[Any, list[int]] = {}
    for doc in unsure.tolist() if place is None else sorted(unsure.tolist(), key=place):
        paper = key(doc)
        if paper not in known:
            groups.setdefault(paper, []).append(doc)
    papers = list(groups.values())
    found: list[int] = []
    checks = sampled = 0
    for i in _spread(len(papers), budget):
        if checks >= budget:
            break
        sampled += 1
        for doc in papers[i]:
            checks += 1
            if _exact(planned, extras, doc, stored(doc)) is not None:
                found.append(doc)
                break
    left = len(papers) - sampled
    return Matches(_merged(sure, found), left, len(found) / sampled if left else 0.0)


def _spread(count: int, size: int) -> list[int]:
    """``size`` indices spread evenly over ``range(count)`` (all when
    fewer), ordered so that every prefix is spread evenly too: the
    bit-reversal (van der Corput) order of their positions. A sample cut
    short by papers of many copies still covers the whole corpus."""
    points = list(range(count)) if count <= size else np.linspace(0, count - 1, size).astype(np.int64).tolist()
    bits = max(len(points) - 1, 0).bit_length()
    order = (int(f"{j:0{bits}b}"[::-1], 2) if bits else 0 for j in range(1 << bits))
    return [points[r] for r in order if r < len(points)]


def _split(postings: Postings, planned: Plan, extras: Sequence[Scored],
           within: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(documents that match whatever their phrases, documents that match
    only if a phrase does), each ascending."""
    _, eligible, _, member = _bounds(postings, planned, extras)
    if within is not None:
        eligible &= within
    return np.flatnonzero(eligible & member), np.flatnonzero(eligible & ~member)


def _merged(sure: np.ndarray, found: list[int]) -> np.ndarray:
    """Two disjoint lists of docnums as one ascending array: np.union1d's
    answer without np.unique, which imports numpy.ma (16 ms of a cold
    query) in numpy 2.4."""
    return np.sort(np.concatenate((sure, np.asarray(found, dtype=np.int64))))


def kth_best(scores: Iterable[float], k: int) -> float:
    """The ``k``-th best of these scores, 0 while there are fewer (a top
    not full yet bounds nothing)."""
    best = heapq.nlargest(k, scores)
    return best[k - 1] if len(best) >= k else 0.0


def _bounds(postings: Postings, planned: Plan, extras: Sequence[Scored]) -> tuple[np.ndarray, ...]:
    """Scores if every co-occurring phrase were a phrase (upper); which
    documents may match; which need no phrase check for their score (upper
    is exact) or for their membership (they match by single terms alone)."""
    size = postings.size
    none = np.zeros(size, dtype=bool)
    upper = np.zeros(size)
    required, optional, has_required = ~none, none.copy(), False
    sure_required, sure_optional, exact = ~none, none.copy(), ~none
    for alternatives, is_required in planned.parts:
        singles = [a for a in alternatives if not a.phrase]
        high = np.max([a.score for a in alternatives], axis=0)
        low = np.max([a.score for a in singles], axis=0) if singles else np.zeros(size)
        hit = np.logical_or.reduce([a.match for a in alternatives])
        single_hit = np.logical_or.reduce([a.match for a in singles] or [none])
        upper += high
        exact &= high == low
        if is_required:
            has_required = True
            required &= hit
            sure_required &= single_hit
        else:
            optional |= hit
            sure_optional |= single_hit
    for clause in extras:
        upper += clause.score
        optional |= clause.match
        sure_optional |= clause.match
    eligible = (required if has_required else optional) & postings.live()
    member = sure_required if has_required else sure_optional
    return upper, eligible, exact & sure_required, member


def _exact(planned: Plan, extras: Sequence[Scored], doc: int, stored: Mapping[str, Any]) -> float | None:
    """The document's score with its phrases checked; None when a required
    phrase is absent or nothing matches."""
    spans = stored["spans"]
    total, matched, required_ok = 0.0, False, True
    for alternatives, is_required in planned.parts:
        chosen = _best(alternatives, doc, spans)
        hit = chosen is not None
        total += chosen[1] if hit else 0.0
        if is_required:
            required_ok &= hit
        else:
            matched |= hit
    for clause in extras:
        total += float(clause.score[doc])
        matched |= bool(clause.match[doc])
    has_required = any(is_required for _, is_required in planned.parts)
    if not required_ok or not (has_required or matched):
        return None
    return total


def _best(alternatives: Sequence[Scored], doc: int, spans: Mapping[str, Sequence]) -> tuple[int, float] | None:
    """The matching alternative that scores highest in the document (the
    first among equals), as (index, score); None when none matches, a
    phrase counting only where it stands."""
    chosen = None
    for i, alt in enumerate(alternatives):
        if not alt.match[doc]:
            continue
        score = float(alt.score[doc]) if not alt.phrase else _phrase_score(spans, alt, doc)
        if score is not None and (chosen is None or score > chosen[1]):
            chosen = (i, score)
    return chosen


def _phrase_score(spans: Mapping[str, Sequence], alt: Scored, doc: int) -> float | None:
    """The phrase's score summed over the fields where it stands in
    consecutive positions; None when it stands in none."""
    score, found = 0.0, False
    for field, share in alt.per_field:
        if share[doc] and _has_phrase(spans, alt.phrase, field):
            score, found = score + float(share[doc]), True
    return score if found else None


def _has_phrase(spans: Mapping[str, Sequence], phrase: tuple[str, ...], field: str) -> bool:
    """Whether the phrase stands in consecutive positions of the field or,
    for the combined field, of some section. Only sections holding every
    word of it are looked at, and there only its words' positions (linear
    in the section, however often the words repeat)."""
    words = set(phrase)
    for name in list(spans) if field == ALL else [field]:
        if name not in spans or not words <= field_vocabulary(spans, name):
            continue
        if phrase_starts(spans, name, phrase):
            return True
    return False


# Explaining


Clause = tuple[str, str, float, str]
"""An extra one-term clause of a query: (field, term, boost, label)."""


def explain(
    postings: Postings, planned: Plan, parts: Sequence[Part], fields: Sequence[str], weights: Mapping[str, float],
    clauses: Sequence[Clause], doc: int, spans: Mapping[str, Sequence],
) -> list[TermScore]:
    """Each term's share of the document's score, chosen as `_exact`
    chooses (the best matching alternative of each part; a phrase only in
    the fields where it stands), so that the shares add up to it."""
    out: list[TermScore] = []
    for part, (alternatives, _) in zip(parts, planned.parts):
        chosen = _best(alternatives, doc, spans)
        if chosen is None:
            continue
        terms, alt = part.alternatives[chosen[0]], alternatives[chosen[0]]
        counted = fields if not alt.phrase else [
            f for f, share in alt.per_field if share[doc] and _has_phrase(spans, alt.phrase, f)
        ]
        for field in counted:
            for term in terms:
                out += _shares(postings, field, term, doc, spans, part.label, not part.typed, terms,
                               part.weight, weights.get(field, 1.0))
    for field, term, boost, label in clauses:
        out += _shares(postings, field, term, doc, spans, label, False, (term,), 1.0, boost)
    return out


def _shares(postings: Postings, field: str, term: str, doc: int, spans: Mapping[str, Sequence], label: str,
            expansion: bool, alternative: tuple[str, ...], weight: float, boost: float) -> list[TermScore]:
    """The term's share in one field, or none where it does not occur."""
    tf, idf, length, average, score = postings.components(field, term, doc)
    if not tf:
        return []
    names = [name for name in spans if term in field_vocabulary(spans, name)] if field == ALL else [field]
    occurrences = {name: len(field_positions(spans, name, term)) for name in names if name in spans}
    return [TermScore(label, expansion, alternative, field, term, tf, occurrences, idf, length, average,
                      weight, boost, weight * boost * score)]
