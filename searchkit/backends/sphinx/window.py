"""A query on the cluster: a bounded window of candidates, rescored exactly.

Scoring every live document that holds a query term means fetching and
decoding most of the corpus for a common term. Instead (Elasticsearch's
dfs_query_then_fetch with a rescore window) each shard ranks its matches
with Sphinx's own ranker and the distributed index returns the best
``window`` of them; papersearch then fetches only those documents' spans
and scores them exactly, with the directory's code (`engine.plan` over
`reader.CandidatePostings`) and global statistics (df and N counted over
every shard, average lengths from the manifest), so a score never depends
on the window or the number of shards; only which papers are candidates
does.

Why the window gives the exact top n, and when it might not. The exact
scores of the candidates are the directory's; the top n is exact as soon
as every paper of the exact top n has its best copy in the window. That is
certain when the window holds every match (Sphinx's ``total_found`` is
within it: the whole 738-paper corpus for most queries), and otherwise
likely because Sphinx ranks by nearly the same formula: ``bm25f(k1, 0,
{field weights})`` is the directory's BM25F with the same k1 and field
weights, its tf saturating the same way. It differs in that (1) it has no
length normalisation (b = 0: Sphinx 2.2's RT indexes keep no field-length
totals), so a short document with few occurrences ranks lower in Sphinx
than in papersearch; (2) its idf is each shard's ``log(N/df)``, not the
global ``log(N/(df+1)) + 1``, which weighs common terms less; (3) it adds
a part's alternatives (glossary expansions) where papersearch takes the
best one, and ignores their lower weights and similar's key-term weights;
(4) its phrases count positions as Sphinx does (a name like ``GPT-4o``
is one extra position there). A paper can miss the window when it is far
shorter than the window's documents and matches only through few
occurrences, or when its rank comes from an expansion; the window is made
generous (`WINDOW` per shard and more with phrases, expansions or date
filters, `window_size`): on the 738-paper corpus all 154 judged queries
rank as the directory at this window, and 143 (1 shard) and 150 (3
shards) still do at a tenth of it (tests/test_cluster.py,
``test_the_window_ranks_the_judged_queries…``). It is not rare at scale:
at 50,000 synthetic papers 10 of the speed benchmark's 19 queries rank
otherwise on 1 shard (3 on 3 shards), mostly for want of length
normalisation (a one-word query such as LLM differs), and a window of
3,000 a shard was needed for all 19 (benchmarks/speed/cluster.py prints
the disagreements). A certified window needs a bound: each document's
length stored as an attribute, Sphinx ranking by an upper bound of the
exact score, and the window widened until the 10th exact score passes
the bound of the first document left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ...engine import CANDIDATES, Planned
from ...query import ParsedQuery, Part
from ...schema import ALL, FIELD_WEIGHTS, TEXT_FIELDS
from .config import ID_FIELD
from .terms import encode

if TYPE_CHECKING:
    from .reader import SphinxIndex

WINDOW = 200
"""Documents each shard contributes to a query's candidates for every
`engine.CANDIDATES` (30) papers asked for: the distributed index returns
the best ``WINDOW × shards`` (so the window per shard is WINDOW on
average), about seven times the papers the re-ranking looks at, per shard."""
WIDER = 2
"""The window's factor when ranks depend on what Sphinx cannot weigh
(phrases, whose positions it counts otherwise, expansions and weighted
terms it adds up unweighted) or the query has a date filter."""
DATE_BATCH = 500
"""Matches read per step, latest first, when sorting by date."""
SCALE = 10000
"""Sphinx weights are integers: the ranker's float times this."""


def window_size(parsed: ParsedQuery, limit: int, shards: int, filtered: bool) -> int:
    """How many documents the distributed index returns for ``limit`` papers."""
    per_shard = WINDOW * -(-limit // CANDIDATES)
    wide = filtered or any(p.weight != 1.0 or len(a) > 1 for p in parsed.parts for a in p.alternatives)
    return per_shard * (WIDER if wide else 1) * shards


def fields_of(scope: Sequence[str]) -> tuple[str, ...]:
    return TEXT_FIELDS if tuple(scope) == (ALL,) else tuple(scope)


def alternative(terms: Sequence[str]) -> str:
    """One alternative in Sphinx's syntax: a keyword, or a quoted phrase."""
    words = [encode(t) for t in terms]
    return words[0] if len(words) == 1 else '"' + " ".join(words) + '"'


def part_expression(part: Part) -> str:
    return "(" + " | ".join(dict.fromkeys(alternative(a) for a in part.alternatives)) + ")"


def match_expressions(parsed: ParsedQuery, scope: Sequence[str], joined: Sequence[str]) -> tuple[str, str]:
    """(boolean, ranked): the query's matches as the directory defines
    them (every required part — quoted phrases — when there is one, else
    any part, joined compound or arXiv id), and the same with the optional
    words added by MAYBE, so the ranker sees them without them matching."""
    fields = "@(" + ",".join(fields_of(scope)) + ") "
    required = [part_expression(p) for p in parsed.parts if p.required]
    optional = [part_expression(p) for p in parsed.parts if not p.required]
    optional += [f"({encode(word)})" for word in joined]
    either = [f"({fields}{' | '.join(optional)})"] if optional else []
    if parsed.arxiv_ids:
        either.append(f"(@{ID_FIELD} ({' | '.join(encode(i) for i in parsed.arxiv_ids)}))")
    if not required:
        expression = " | ".join(either)
        return expression, expression
    boolean = f"({fields}{' '.join(required)})"
    return boolean, (f"{boolean} MAYBE ({' | '.join(either)})" if either else boolean)


def ranker(scope: Sequence[str]) -> str:
    """Sphinx's BM25F with the directory's k1 and field weights, b = 0.
    Its weights must be integers: tenfold, and k1 tenfold with them, which
    gives the same ranking (tf' (k1 + 1) / (tf' + k1) only scales)."""
    from ...engine import BM25_K1

    weights = ", ".join(f"{f}={round(10 * FIELD_WEIGHTS.get(f, 1.0))}" for f in fields_of(scope))
    return f"expr('{SCALE}*bm25f({10 * BM25_K1:g}, 0, {{{weights}}})')"


class Windowed(Planned):
    """`Planned` over a cluster: each question (top papers, papers by
    date, the total) asks Sphinx for just the documents it needs, then
    plans exactly over them; stored fields and explanations refer to the
    documents of the last question asked, as the engine uses them."""

    def __init__(self, index: SphinxIndex, parsed: ParsedQuery, scope: tuple[str, ...], joined: Sequence[str],
                 since: str | None, until: str | None, exclude: str | None) -> None:  # noqa: D107
        self._index, self._parsed, self._scope, self._joined = index, parsed, scope, list(joined)
        self._since, self._until, self._exclude = since, until, exclude
        self._boolean, self._ranked = match_expressions(parsed, scope, self._joined)
        self._inner: Planned | None = None
        self._total: int | None = None
        self.exhaustive = False
        """Whether the last window held every match (then its top is certainly exact)."""

    def _plan_over(self, ids: list[int]) -> Planned:
        index = self._index
        docs = index._documents(sorted(ids, key=index._order_key))
        self._inner = index._planned_over(docs, self._parsed, self._scope, self._joined, self._exclude)
        return self._inner

    @property
    def _current(self) -> Planned:
        if self._inner is None:
            self._plan_over([])
        assert self._inner is not None
        return self._inner

    def key(self, docnum: int) -> str:  # type: ignore[override] - Planned keeps it as an attribute
        return self._current.key(docnum)

    def stored(self, docnum: int) -> dict:
        return self._current.stored(docnum)

    def explain(self, docnum: int, score: float, covered: float, near: float) -> Any:
        return self._current.explain(docnum, score, covered, near)

    def top(self, limit: int) -> list[tuple[int, float]]:
        """The best ``limit`` papers among the window's documents."""
        size = window_size(self._parsed, max(CANDIDATES, limit), self._index.shard_count,
                           bool(self._since or self._until))
        counting = self._index._count_statements(self._boolean, self._since, self._until, self._exclude)
        ids, found, counted = self._index._window(self._ranked, self._scope, size, self._since, self._until, counting)
        self.exhaustive = found <= len(ids)
        self._total = self._index._counted(counted, self._exclude)
        return self._plan_over(ids).top(limit)

    def matching(self) -> list[int]:
        """Every match among the last question's documents."""
        return self._current.matching()

    def by_date(self, limit: int) -> list[tuple[int, float, float, float]]:
        """The ``limit`` papers posted last, from ids and dates alone:
        Sphinx lists the matches latest first until ``limit`` papers and
        every paper of the last day are seen; only those papers' matching
        copies are fetched and scored (score breaks a day's ties)."""
        self.count()  # now: a total is read after the index may have closed (the CLI prints it last)
        papers = self._index._latest(self._boolean, self._scope, limit, self._since, self._until, self._exclude)
        ids = self._index._copies_matching(self._boolean, self._scope, papers, self._since, self._until)
        return self._plan_over(ids).by_date(limit)

    def count(self) -> tuple[int, bool]:
        """Papers matching, counted by Sphinx over every shard, exactly (see
        `reader.SphinxIndex._counted`): in the window's round trip when
        the top was asked for."""
        if self._total is None:
            self._total = self._index._count(self._boolean, self._since, self._until, self._exclude)
        return self._total, True


def excluded(docs: Sequence[dict], exclude: str | None) -> np.ndarray | None:
    """The ``within`` mask leaving out the copies of one paper."""
    return None if exclude is None else np.array([d["arxiv_id"] != exclude for d in docs], dtype=bool)


