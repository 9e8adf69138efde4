"""A query on the cluster: candidates found by Sphinx, scored exactly here.

Scoring every live document that holds a query term means fetching and
decoding most of the corpus for a common term. Instead (Elasticsearch's
dfs_query_then_fetch, with the candidates certified) Sphinx lists, for
each term of the query, the documents in order of that term's exact BM25
over every shard (`certify`), and papersearch fetches only the documents
that may still reach the top and scores them with the directory's code
(`engine.plan` over `reader.CandidatePostings`) and global statistics (df
and N counted over every shard, average lengths from the manifest). The
lists are read deeper until no unseen document can reach the top, so the
top is the directory's whatever the corpus size or the number of shards.

Sphinx's own ranking of a whole query could not promise that: its BM25F
in 2.2 has no length normalisation and a per-shard idf, and a window of
its best documents missed papers at scale (at 50,000 synthetic papers 10 of
the speed benchmark's 19 queries ranked otherwise on 1 shard; a window of
3,000 documents a shard was needed for all 19).

Totals and date order need no scores: Sphinx counts the matches and lists
their dates itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ...engine import Planned
from ...query import ParsedQuery, Part
from ...schema import ALL, TEXT_FIELDS
from ...scoring import kth_best
from . import certify
from .config import ID_FIELD
from .terms import encode

if TYPE_CHECKING:
    from .reader import SphinxIndex

SCORE_CHUNK = 64
"""Documents fetched and scored per step, best upper bound first."""
DATE_BATCH = 500
"""Matches read per step, latest first, when sorting by date."""


def fields_of(scope: Sequence[str]) -> tuple[str, ...]:
    return TEXT_FIELDS if tuple(scope) == (ALL,) else tuple(scope)


def alternative(terms: Sequence[str]) -> str:
    """One alternative in Sphinx's syntax: a keyword, or a quoted phrase."""
    words = [encode(t) for t in terms]
    return words[0] if len(words) == 1 else '"' + " ".join(words) + '"'


def part_expression(part: Part) -> str:
    return "(" + " | ".join(dict.fromkeys(alternative(a) for a in part.alternatives)) + ")"


def match_expression(parsed: ParsedQuery, scope: Sequence[str], joined: Sequence[str]) -> str:
    """The query's matches as the directory defines them: every required
    part (quoted phrases) when there is one, else any part, joined
    compound or arXiv id."""
    fields = "@(" + ",".join(fields_of(scope)) + ") "
    required = [part_expression(p) for p in parsed.parts if p.required]
    if required:
        return f"({fields}{' '.join(required)})"
    optional = [part_expression(p) for p in parsed.parts] + [f"({encode(word)})" for word in joined]
    either = [f"({fields}{' | '.join(optional)})"] if optional else []
    if parsed.arxiv_ids:
        either.append(f"(@{ID_FIELD} ({' | '.join(encode(i) for i in parsed.arxiv_ids)}))")
    return " | ".join(either)


class Windowed(Planned):
    """`Planned` over a cluster: each question (top papers, papers by
    date, the total) asks Sphinx for just the documents it needs, then
    plans exactly over them; stored fields and explanations refer to the
    documents of the last question asked, as the engine uses them."""

    def __init__(self, index: SphinxIndex, parsed: ParsedQuery, scope: tuple[str, ...], joined: Sequence[str],
                 since: str | None, until: str | None, exclude: str | None) -> None:  # noqa: D107
        self._index, self._parsed, self._scope, self._joined = index, parsed, scope, list(joined)
        self._since, self._until, self._exclude = since, until, exclude
        self._boolean = match_expression(parsed, scope, self._joined)
        self._inner: Planned | None = None
        self._total: int | None = None

    def _plan_over(self, ids: list[int]) -> Planned:
        index = self._index
        docs = index._in_build_order(ids)
        if len(docs) < len(set(ids)):
            index._unread(len(set(ids)) - len(docs))
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
        """The exact best ``limit`` papers: the query's lists read deeper
        until the ``limit``-th best score among the documents scored beats
        what any unseen document could score (see `certify`). Each round
        scores only documents not scored before whose upper bound reaches
        the ``limit``-th best score so far (a score never changes: the
        statistics are global). The total comes in the first round trip."""
        index, parsed, scope, joined = self._index, self._parsed, self._scope, self._joined
        counting = index._count_statements(self._boolean, self._since, self._until, self._exclude)
        lists = certify.Lists()
        depths = {key: certify.DEPTH for key in certify.keys(parsed, scope, joined)}
        named = set(index._id_matches(parsed.arxiv_ids, self._since, self._until))  # no list ranks an id
        best: dict[str, tuple[float, tuple[str, int], int]] = {}  # paper → (score, build order, id)
        scored: set[int] = set()
        while True:
            counted = index._read_lists(lists, depths, self._since, self._until, counting)
            if counting:
                self._total, counting = index._counted(counted, self._exclude), []
            kth = _kth(best, limit)
            wanted = self._worth(lists, limit, kth)
            unknown = [doc for doc, _ in wanted if doc not in lists.completed]
            if unknown:  # their weights in every list narrow their bounds: fewer documents to score
                index._complete(lists, unknown, self._since, self._until)
                wanted = self._worth(lists, limit, kth)
            self._score(named - scored, best)
            scored |= named
            self._score_best_first(wanted, limit, best, scored)
            if not lists.open() or certify.certified_at(_kth(best, limit), certify.bound(parsed, scope, joined,
                                                                                           lists)):
                break
            if self._swept(lists, limit, best, scored):
                break
            depths = {key: lists.depth[key] * certify.GROWTH
                      for key in certify.holding_up(parsed, scope, joined, lists)}
        chosen = sorted(best.values(), key=lambda b: (-b[0], b[1]))[:limit]
        return self._plan_over([doc for _, _, doc in chosen]).top(limit)

    def _worth(self, lists: certify.Lists, limit: int, kth: float) -> list[tuple[int, float]]:
        """The documents whose upper bound still reaches ``kth`` (`certify.worth_fetching`)."""
        return certify.worth_fetching(self._parsed, self._scope, self._joined, lists, limit, self._index._papers,
                                      self._exclude, kth)

    def _swept(self, lists: certify.Lists, limit: int, best: dict[str, tuple[float, tuple[str, int], int]],
               scored: set[int]) -> bool:
        """Certify the top by a sweep instead of reading deeper: Sphinx
        finds every document holding a set of words that could lift an
        unseen document to the k-th best score (`certify.sweep`); those
        are completed and the ones that may still enter the top scored.
        Any other document scores below the k-th best. Reading on cost
        most of a slow query's time: a common word's list falls slowly,
        and at 50,000 papers ``RLHF reward model`` read ``model`` to
        32,768 rows. False (nothing done) when the sweep's MATCH or its
        documents would be too many."""
        parsed, scope, joined, index = self._parsed, self._scope, self._joined, self._index
        kth = _kth(best, limit)
        clauses = certify.sweep(parsed, scope, joined, lists, kth)
        if not clauses:
            return False
        most = min(certify.SWEEP_DOCS, lists.deeper(certify.holding_up(parsed, scope, joined, lists)))
        found = index._sweep(f"@({','.join(fields_of(scope))}) ({factored(clauses)})", self._since, self._until,
                             most)
        if found is None:
            return False
        index._complete(lists, [doc for doc in found if doc not in lists.completed], self._since, self._until)
        wanted = self._worth(lists, limit, kth)
        self._score_best_first(wanted, limit, best, scored)
        return True

    def _score_best_first(self, ranked: list[tuple[int, float]], limit: int,
                          best: dict[str, tuple[float, tuple[str, int], int]], scored: set[int]) -> None:
        """Score these documents (with their upper bounds, highest first) a
        chunk at a time, until the next bound falls below the ``limit``-th
        best exact score so far: the rest cannot reach the top. Read whole,
        a list shows every document holding its term at once, and scoring
        all of those that could reach a top not yet known (the k-th score
        0) fetched 2-3 times the documents (3,707 for a phrase query at
        10,000 papers)."""
        todo = [(doc, upper) for doc, upper in ranked if doc not in scored]
        for start in range(0, len(todo), SCORE_CHUNK):
            chunk = todo[start : start + SCORE_CHUNK]
            if chunk[0][1] < _kth(best, limit):
                break
            ids = {doc for doc, _ in chunk}
            self._score(ids, best)
            scored |= ids

    def _score(self, ids: set[int], best: dict[str, tuple[float, tuple[str, int], int]]) -> None:
        """Score these documents exactly; keep each paper's best copy (the
        first in build order among equals, as the directory keeps it)."""
        if not ids:
            return
        planned = self._plan_over(list(ids))
        for docnum, score in planned.top(len(ids)):  # docnums of the documents read back (`_plan_over`)
            doc = planned.stored(docnum)
            entry = (score, (doc["post"], doc["id"]), doc["id"])
            old = best.get(doc["arxiv_id"])
            if old is None or score > old[0] or (score == old[0] and entry[1] < old[1]):
                best[doc["arxiv_id"]] = entry

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


def factored(clauses: Sequence[Sequence[str]]) -> str:
    """Clauses (words all required, any clause) as one Sphinx expression
    with their shared leading words written once: ``(a ((b) | (c)))`` for
    [a b], [a c]. Sphinx evaluates it 2-10 times faster than the clauses
    side by side (at 50,000 papers, 183 clauses: 194 ms against 2.1 s).
    Every alternative is bracketed: in Sphinx's syntax ``|`` binds tighter
    than the implicit AND."""
    tree: dict = {}
    for clause in clauses:
        node = tree
        for word in clause:
            node = node.setdefault(word, {})

    def written(node: dict) -> str:
        return " | ".join(f"({encode(word)} ({written(rest)}))" if rest else f"({encode(word)})"
                          for word, rest in node.items())

    return written(tree)


def _kth(best: dict[str, tuple[float, tuple[str, int], int]], limit: int) -> float:
    """The ``limit``-th best score so far (0 while fewer papers)."""
    return kth_best((entry[0] for entry in best.values()), limit)


def excluded(docs: Sequence[dict], exclude: str | None) -> np.ndarray | None:
    """The ``within`` mask leaving out the copies of one paper."""
    return None if exclude is None else np.array([d["arxiv_id"] != exclude for d in docs], dtype=bool)


