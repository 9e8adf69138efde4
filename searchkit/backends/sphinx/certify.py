"""The exact top of a query on a cluster, certified rather than hoped for.

Sphinx cannot rank a whole query as the directory does (see `window`), but
it can rank one term exactly: with a single keyword matched, a field's
``hit_count`` is the term's frequency there, and the expression ranker can
read each document's field lengths (attributes the writer stores, rounded
as Whoosh rounds them) and take the global idf and average length as
constants. So each (field, term) of the query gets a list, its documents in
order of that term's exact BM25, over every shard. This is Fagin's
threshold algorithm: a document in no list's top ``depth`` scores at most
what the query's formula gives with every term at its list's last score
(`bound`), and once the k-th best exact score among the documents seen
passes that bound, no unseen document can enter the top k. Until then the
lists are read deeper. The answer is exact by construction, whatever the
corpus size, number of shards or query; only the work depends on them.

Which seen documents need their spans fetched is bounded the same way: a
document's score lies between what its lists say (absent terms as 0) and
that plus the last score of each list it is absent from; those whose upper
bound cannot reach the k-th best lower bound are never fetched.

Sphinx computes in 32-bit floats and returns integer weights (the score
times `SCALE`): every bound taken from a weight is widened by `SLACK`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...query import ParsedQuery
from ...schema import ALL, FIELD_WEIGHTS, TEXT_FIELDS
from .config import LENGTH_COLUMNS
from .terms import encode

SCALE = 100_000
"""A list's weight is its term's exact score times this, as an integer."""
SLACK = 1e-5
"""Relative error allowed between Sphinx's float32 score and the exact one."""
DEPTH = 128
"""Documents each list returns first; `GROWTH` times more each time it
must be read deeper."""
GROWTH = 4

SWEEP_CLAUSES = 256
"""Most clauses (AND of words, OR'ed) a sweep's MATCH may have: Sphinx
evaluates a long one slowly (at 50,000 papers, written as `window.factored`:
61 clauses took 83 ms, 195 took 491 ms, 250 took 189 ms)."""
SWEEP_DOCS = 8192
"""Most documents a sweep may bring: each is then completed, one
statement per list and thousand documents. A sweep is also never asked
for more documents than reading the lists on would bring (their new
documents are completed just the same, and a round may not end it)."""

Key = tuple[str, str]
"""(field, term): one list. The field is a section or the combined `ALL`."""


def keys(parsed: ParsedQuery, scope: Sequence[str], joined: Sequence[str]) -> list[Key]:
    """Every (field, term) the query's score adds up."""
    terms = [t for part in parsed.parts for alt in part.alternatives for t in alt] + list(joined)
    return list(dict.fromkeys((f, t) for t in terms for f in scope))


def ranker(key: Key, idf: float, average: float, k1: float, b: float) -> str:
    """Sphinx's OPTION for the term's exact BM25 (times `SCALE`): the
    combined field's frequency is each section's count times its weight,
    as the indexer adds them (field weights are integers: tenfold, and the
    sum divided by ten)."""
    name, _ = key
    length = LENGTH_COLUMNS[name]
    tf = "sum(user_weight*hit_count)*0.1"
    expression = (f"{SCALE * idf * (k1 + 1):.6f}*{tf}/({tf}+{k1 * (1 - b):.9f}+{k1 * b / average:.12f}*{length})")
    names = TEXT_FIELDS if name == ALL else (name,)
    weights = ", ".join(f"{n}={round(10 * FIELD_WEIGHTS[n]) if name == ALL else 10}" for n in names)
    return f"ranker=expr('{expression}'), field_weights=({weights})"


def match(key: Key) -> str:
    """The list's MATCH: the term in the field, or in any section."""
    name, term = key
    scope = "@(" + ",".join(TEXT_FIELDS) + ")" if name == ALL else f"@{name}"
    return f"{scope} {encode(term)}"


@dataclass
class Lists:
    """What the lists have shown so far: each list's documents with their
    weights, its depth, and whether it is read to the end."""

    depth: dict[Key, int] = field(default_factory=dict)
    weights: dict[Key, dict[int, int]] = field(default_factory=dict)
    last: dict[Key, int] = field(default_factory=dict)
    ended: dict[Key, bool] = field(default_factory=dict)
    found: dict[Key, int] = field(default_factory=dict)
    """How many documents each list has in all."""
    papers: dict[int, str] = field(default_factory=dict)
    """Papers of the documents `worth_fetching` looked up (lists carry none)."""
    completed: set[int] = field(default_factory=set)
    """Documents whose weight in every list is known (`complete`): a list
    that has no weight for one of them does not hold it (its score is 0)."""

    def add(self, key: Key, depth: int, rows: Sequence[tuple[int, int]], found: int) -> None:
        """One list's next rows, read down to ``depth``: (id, weight), best
        first, after those read before; ``found`` is how many documents the
        list has in all."""
        self.depth[key] = depth
        self.weights.setdefault(key, {}).update(rows)
        self.ended[key] = found <= depth
        self.found[key] = found
        if rows:
            self.last[key] = rows[-1][1]

    def complete(self, key: Key, rows: Sequence[tuple[int, int]]) -> None:
        """Weights of chosen documents in one list, wherever they rank in it:
        (id, weight) for each of them that the list holds."""
        self.weights.setdefault(key, {}).update(rows)

    def deeper(self, keys: Sequence[Key]) -> int:
        """Rows that reading these lists `GROWTH` times deeper would bring."""
        return sum(min(self.found[k], self.depth[k] * GROWTH) - self.depth[k] for k in keys)

    def open(self) -> list[Key]:
        """Lists not read to the end."""
        return [k for k, ended in self.ended.items() if not ended]

    def ceiling(self, key: Key) -> float:
        """The most an unseen document can score on this list."""
        return 0.0 if self.ended[key] else high(self.last[key])


def high(weight: Any) -> Any:
    """The most the exact score can be, given Sphinx's weight (or weights)."""
    return (weight + 2) / SCALE * (1 + SLACK)


def low(weight: Any) -> Any:
    """The least the exact score can be, given Sphinx's weight (or weights)."""
    return np.maximum(0.0, (weight - 2) / SCALE * (1 - SLACK))


Value = Callable[[Key], Any]


def score(parsed: ParsedQuery, scope: Sequence[str], joined: Sequence[str], value: Value,
          singles_only: bool = False) -> Any:
    """The query's formula (see `scoring.plan`) with each (field, term)'s
    score given by ``value`` (a number, or an array over documents): each
    part's best alternative, its terms' scores summed over the fields with
    each field's weight and the part's; joined compounds added. With
    ``singles_only``, phrases count 0 (a lower bound: a phrase scores only
    where it stands)."""
    total: Any = 0.0
    for part in parsed.parts:
        best: Any = 0.0
        for alt in part.alternatives:
            if not (singles_only and len(alt) > 1):
                best = np.maximum(best, part.weight * _weighted(alt, scope, value))
        total = total + best
    return total + sum(_weighted((w,), scope, value) for w in joined)


def _weighted(terms: Sequence[str], scope: Sequence[str], value: Value) -> Any:
    """The terms' values summed over the fields, each field's weight applied."""
    return sum(FIELD_WEIGHTS.get(f, 1.0) * value((f, t)) for f in scope for t in terms)


def bound(parsed: ParsedQuery, scope: Sequence[str], joined: Sequence[str], lists: Lists) -> float:
    """The most a document seen in no list can score."""
    return float(score(parsed, scope, joined, lists.ceiling))


def holding_up(parsed: ParsedQuery, scope: Sequence[str], joined: Sequence[str], lists: Lists) -> list[Key]:
    """The open lists the bound rests on: those of each part's alternative
    that gives the part its bound, and the joined compounds'. Reading
    these deeper is what lowers `bound`; the others can wait."""
    keys: list[Key] = []
    for part in parsed.parts:
        best = max(part.alternatives, key=lambda alt: _weighted(alt, scope, lists.ceiling))
        keys += [(f, t) for f in scope for t in best]
    keys += [(f, w) for w in joined for f in scope]
    return [k for k in dict.fromkeys(keys) if not lists.ended.get(k, True)] or lists.open()


def sweep(parsed: ParsedQuery, scope: Sequence[str], joined: Sequence[str], lists: Lists,
          at_least: float) -> list[list[str]] | None:
    """The sets of words a document unseen by every list must hold to
    score ``at_least`` (the k-th best exact score so far): a MATCH of
    their union finds every such document, so scoring the few it finds
    certifies the top without reading the lists deeper. Unseen, a
    document scores at most the sum, over the words it holds, of each
    word's `ceilings`; the sets are those whose sum reaches ``at_least``,
    minimal in the words' order (largest ceiling first). None when
    nothing is known yet, or over `SWEEP_CLAUSES` sets."""
    if at_least <= 0.0:
        return None
    items = sorted(((c, w) for w, c in ceilings(parsed, scope, joined, lists).items() if c > 0.0), reverse=True)
    after = [0.0] * (len(items) + 1)  # what the words from i on can add at most
    for i in range(len(items) - 1, -1, -1):
        after[i] = after[i + 1] + items[i][0]
    found: list[list[str]] = []
    rounding = at_least * 1e-9  # sums taken in another order differ in the last bits: err towards more

    def walk(start: int, need: float, held: list[str]) -> bool:
        if need <= rounding:
            found.append(held)
            return len(found) <= SWEEP_CLAUSES
        for i in range(start, len(items)):
            if after[i] < need - rounding:
                return True
            if not walk(i + 1, need - items[i][0], held + [items[i][1]]):
                return False
        return True

    return found if walk(0, at_least, []) else None


def ceilings(parsed: ParsedQuery, scope: Sequence[str], joined: Sequence[str], lists: Lists) -> dict[str, float]:
    """Each word's most to the score of a document no list has shown:
    its lists' ceilings with the field weights, times its part's weight
    and the most times one alternative of the part holds it (the query's
    formula takes one alternative a part; adding all of them only
    overstates), summed over the parts and compounds holding it."""
    def most(word: str) -> float:
        return sum(FIELD_WEIGHTS.get(f, 1.0) * lists.ceiling((f, word)) for f in scope)

    out: dict[str, float] = {}
    for part in parsed.parts:
        for word in dict.fromkeys(t for alt in part.alternatives for t in alt):
            times = max(alt.count(word) for alt in part.alternatives)
            out[word] = out.get(word, 0.0) + part.weight * times * most(word)
    for word in joined:
        out[word] = out.get(word, 0.0) + most(word)
    return out


Papers = Callable[[Sequence[int]], Mapping[int, str]]
"""Document ids → their papers (arXiv ids), looked up in the cluster."""


def worth_fetching(parsed: ParsedQuery, scope: Sequence[str], joined: Sequence[str], lists: Lists,
                   limit: int, papers: Papers, exclude: str | None = None,
                   at_least: float = 0.0) -> list[tuple[int, float]]:
    """The seen documents that may still be among the top ``limit``, with
    their upper bounds, highest first: every one whose upper bound reaches
    ``at_least`` (the ``limit``-th best exact score so far) and the
    ``limit``-th best lower bound among papers (``exclude``, a paper left
    out of the answer, not counted). A lower bound needs the document to
    match, which only holds when the query requires nothing (then any
    single term seen is a match)."""
    seen = np.array(sorted({doc for found in lists.weights.values() for doc in found}), dtype=np.int64)
    uppers = np.broadcast_to(score(parsed, scope, joined, _over(lists, seen, high, lists.ceiling)), seen.shape)
    floor = at_least
    if not any(part.required for part in parsed.parts):
        lowers = np.broadcast_to(score(parsed, scope, joined, _over(lists, seen, low, lambda key: 0.0),
                                       singles_only=True), seen.shape)
        floor = max(at_least, _kth_paper(seen, lowers, lists, limit, papers, exclude))
    kept = np.flatnonzero(uppers >= floor)
    kept = kept[np.lexsort((seen[kept], -uppers[kept]))]
    return list(zip(seen[kept].tolist(), uppers[kept].tolist()))


PAPERS_STEP = 64
"""Documents whose papers one look-up brings, best lower bound first."""


def _kth_paper(seen: np.ndarray, lowers: np.ndarray, lists: Lists, limit: int, papers: Papers,
               exclude: str | None) -> float:
    """The ``limit``-th best lower bound among papers (each paper's best
    copy; 0 while fewer papers have one above 0). The documents are walked
    best first, their papers looked up a step at a time: a paper is
    first met at its best copy, so the ``limit``-th paper met is the one."""
    order = np.argsort(-lowers, kind="stable")
    order = order[lowers[order] > 0.0]
    met: set[str] = set()
    for start in range(0, len(order), PAPERS_STEP):
        step = seen[order[start : start + PAPERS_STEP]].tolist()
        unknown = [doc for doc in step if doc not in lists.papers]
        if unknown:
            lists.papers.update(papers(unknown))
        for doc, at in zip(step, order[start : start + PAPERS_STEP].tolist()):
            paper = lists.papers.get(doc)
            if paper is None or paper == exclude or paper in met:
                continue  # None: no longer live (then it cannot be fetched either)
            met.add(paper)
            if len(met) == limit:
                return float(lowers[at])
    return 0.0


def _over(lists: Lists, seen: np.ndarray, convert: Callable[[np.ndarray], np.ndarray],
          otherwise: Callable[[Key], float]) -> Value:
    """Each list's value for every seen document: its weight converted,
    0 where a completed document is not in the list, or ``otherwise``
    where the list has not shown it."""
    known = np.isin(seen, np.fromiter(lists.completed, dtype=np.int64, count=len(lists.completed)))

    def value(key: Key) -> np.ndarray:
        out = np.full(len(seen), otherwise(key))
        out[known] = 0.0
        found = lists.weights.get(key, {})
        if found:
            docs = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
            weights = np.fromiter(found.values(), dtype=np.float64, count=len(found))
            at = np.searchsorted(seen, docs)
            out[at] = convert(weights)
        return out
    return value


def certified_at(kth: float, ceiling: float) -> bool:
    """Whether no unseen document can enter a top whose last (``limit``-th)
    exact score is ``kth`` (0 while fewer papers are found): it beats the
    bound strictly (a tie would go by document order), or nothing unseen
    can score at all."""
    return ceiling <= 0.0 or kth > ceiling
