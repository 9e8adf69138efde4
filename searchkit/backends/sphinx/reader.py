"""Cluster → hits: the `Index` interface over a Sphinx distributed index.

Sphinx's own scores cannot rank a query exactly (RT indexes keep no
field-length totals, IDF is per shard and per chunk), so the engine only
finds candidates: for each term of a query, the documents in order of the
term's exact score, across all shards, read until no unseen document can
reach the top (see `window` and `certify`), with their stored spans. The
ranking is then the directory backend's, computed by the same code
(`scoring.plan/top/matching`, `ranking.coverage/proximity`, `highlight`)
over `CandidatePostings`: a term's frequencies and each field's length are
read from the candidates' spans, N and df are exact live-generation counts
over every shard (``COUNT(*) … MATCH('@field term')``), average lengths
come from the manifest's per-post totals. This is Elasticsearch's
dfs_query_then_fetch, with the statistics global, so the number of shards
never changes a score. Totals and date order need no spans: Sphinx counts
the matches and lists their dates itself.
"""

from __future__ import annotations

import json
import re
import threading
from collections import ChainMap, Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any

import numpy as np

from ... import whoosh_lean  # noqa: F401 - first: Whoosh without the modules it never uses

# isort: split
from whoosh.automata import lev

from ... import bm25, engine
from ...analysis import GAP
from ...engine import Engine, Planned, plan
from ...errors import IndexClosedError, IndexMissingError, IndexStaleError, NotFoundError
from ...glossary import Glossary, readings_in
from ...hits import IndexStats, Results
from ...lexicon import Lexicon, is_sticky
from ...pairs import rows_of
from ...query import ParsedQuery
from ...schema import ALL, FIELD_WEIGHTS, TEXT_FIELDS, Spans
from ...scoring import DensePostings
from ...store import Manifest
from . import ClusterURL, certify
from . import lexicon as cluster_lexicon
from .config import ID_FIELD
from .conn import ClusterError, Node, connect, quote
from .layout import CLUSTER_FORMAT, live_filter, packed_spans, shard_of
from .lexicon import counts, reading, word_id
from .meta import GEN_ROW, VOCABULARY_ROW, get, live, open_node, topology
from .terms import any_of
from .window import DATE_BATCH, Windowed, excluded

MAX_CANDIDATES = 200_000
"""Documents one listing by id may return (a paper's copies, the matching
copies of the papers of a date page): OPTION max_matches."""
CACHED_DOCS = 50_000
"""Decoded documents an open index keeps (about 1 GB at the limit)."""
FETCH_CHUNK = 1000
"""Documents fetched by id in one statement."""
COMPLETE_CHUNK = 4096
"""Documents whose weight in a list one statement reads: searchd's
``max_filter_values`` (4096 by default) is the most an ``id IN`` may
hold; past it each agent refuses the query (a warning, so partial
results)."""
MIRROR_ATTEMPTS = 6
"""Runs of a batch while an agent fails, when shards have mirrors."""
BATCH = 16
"""Statements sent in one round trip (each with its SHOW META). Past
searchd's ``max_batch_queries`` (32) a batch over agents silently counts
only the local shard (measured on 2.2.11 with 64), so `_answers` cuts
every longer list of statements into batches of this size."""
ROW_COST = 40
"""A row read costs about as much as Sphinx's ranking of this many more
matches: a list is read down deeper than that many rows per document it
holds by two statements (its depth-th weight, then every document
reaching it as one row) rather than row by row."""
WHOLE_LIST = 16
"""A list is read whole, as one row (`SphinxIndex._weights_statement`),
when it holds at most this many times the documents asked for: one
number of a concatenated row costs about a twentieth of a row."""
ALL_FIELDS = "@(" + ",".join(TEXT_FIELDS) + ")"
_AGENT = re.compile(r"agent ([^\s:]+:\d+)")


@dataclass(frozen=True)
class ShardStatus:
    """How many shards answered a search; ``failed`` names the nodes
    (SphinxQL addresses) holding the shards that did not."""

    total: int
    answered: int
    failed: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        return self.answered < self.total

    def warning(self) -> str:
        nodes = ", ".join(self.failed)
        return f"partial results: {self.total - self.answered} of {self.total} shards did not answer (node {nodes})"

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "answered": self.answered, "failed": list(self.failed)}


def open_cluster(location: str) -> SphinxIndex:
    """Open the live generation of the cluster at ``location``."""
    return SphinxIndex(ClusterURL.parse(location))


class ClusterLexicon(Lexicon):
    """The lexicon's look-ups from the cluster's ``NAME_lexicon`` index
    (rows keyed by a hash of the word form), so a query on any machine is
    analysed as the corpus was without Kiwi; the analysis itself is the
    directory backend's (`Lexicon.analyse`, `Lexicon.segment`)."""

    def __init__(self, index: SphinxIndex, longest: int | None,  # noqa: D107 - no SQLite table here
                 pieces: Mapping[str, Sequence[int]]) -> None:
        self._index = index
        self._lock = threading.Lock()
        self._counts = {}
        self._tables = None
        self._longest = longest  # the generation row's; None for a cluster written before it was kept
        self._sticky = frozenset(term for term, (glued, total) in pieces.items() if is_sticky(glued, total))
        """The generation row's sticky terms (`Lexicon.sticky`); none in a row of before kiwi-6."""

    def sticky(self, terms: Iterable[str]) -> set[str]:
        """`Lexicon.sticky` from the generation row: no round trip."""
        return self._sticky.intersection(terms)

    def sticky_terms(self) -> list[str]:
        """`Lexicon.sticky_terms` from the generation row."""
        return sorted(self._sticky)

    def lookup(self, words: list[str]) -> dict[str, list[list]]:
        """Each word form's commonest reading at the index's generation
        (`lexicon.reading`)."""
        generation = self._index.generation
        return {word: terms for word, body in self._rows(words) if (terms := reading(body, generation)) is not None}

    def _rows(self, words: list[str]) -> Iterator[tuple[str, str]]:
        """(word, row body) of each word form the lexicon index holds."""
        unique = list(dict.fromkeys(words))
        for start in range(0, len(unique), 500):
            ids = {word_id(w): w for w in unique[start : start + 500]}
            rows = self._index.rows(f"SELECT word, terms FROM {self._index.url.lexicon} WHERE id IN "
                                    f"({','.join(map(str, ids))}) LIMIT {len(ids)} OPTION max_matches={len(ids)}")
            yield from ((str(word), body) for word, body in rows if word in ids.values())

    def readings(self, words: list[str]) -> dict[str, list[tuple[list[list], int]]]:
        """Each word form's readings with their counts at the index's
        generation, commonest first (`Lexicon.readings`)."""
        generation = self._index.generation
        return {word: counted for word, body in self._rows(words) if (counted := counts(body, generation))}

    def entries(self, hangul: bool = False) -> Iterator[tuple[str, list[list]]]:
        """Every word form of the generation with its reading (what
        `standin.tables` reads), a page of rows at a time in id order;
        ``hangul`` is only a hint here (the tables skip other words
        themselves)."""
        generation = self._index.generation
        for word, body in cluster_lexicon.rows(self._index, self._index.url):  # a connection a page
            if (terms := reading(body, generation)) is not None:
                yield word, terms

    def close(self) -> None:
        return None


class CandidatePostings(DensePostings):
    """`scoring.Postings` over the candidates of one query: docnums are
    positions in ``docs`` (in a full build's order, as Whoosh's docnums
    are after one), term frequencies and field lengths come from
    their spans, N and df from the whole cluster."""

    def __init__(self, docs: list[dict], count: int, df: Any, totals: Mapping[str, int]) -> None:
        self.docs = docs
        self.size = len(docs)
        self.count = count
        self._df, self._totals = df, totals
        self._lengths: dict[str, np.ndarray] = {}
        self._live = np.ones(self.size, dtype=bool)

    def live(self) -> np.ndarray:
        return self._live

    def df(self, field: str, term: str) -> int:
        return self._df(field, term)

    def idf(self, field: str, term: str) -> float:
        return bm25.idf(self.count, self.df(field, term))

    def average(self, field: str) -> float:
        return bm25.average(self._totals.get(field, 0), self.count)

    def lengths(self, field: str) -> np.ndarray:
        """Each candidate's field length, quantised as Whoosh stores it;
        the combined field's is the sum of its sections'."""
        if field not in self._lengths:
            names = TEXT_FIELDS if field == ALL else (field,)
            raw = [_length(doc, field, names) for doc in self.docs]
            self._lengths[field] = np.array([bm25.quantised_length(n) for n in raw], dtype=np.float64)
        return self._lengths[field]

    def read(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Candidates holding the term and its weight in each: the count in
        a section; in the combined field the section weights of its
        occurrences summed in order, as float32 (as Whoosh stores them)."""
        ids, weights = [], []
        key = (field, term)
        for i, doc in enumerate(self.docs):
            # a document's weights are kept with it: a cached document is a
            # candidate of many queries (one dict look-up, not 16, a term)
            memo = doc.setdefault("_weights", {})
            weight = memo.get(key)
            if weight is None:
                weight = memo[key] = _weight(doc, field, term)
            if weight:
                ids.append(i)
                weights.append(weight)
        return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32).astype(np.float64)

    def term(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        if field == "arxiv_id":  # an id field is not scored: its raw weight, 1
            docs = np.flatnonzero([doc["arxiv_id"] == term for doc in self.docs]).astype(np.int64)
            return docs, np.ones(len(docs))
        docs, tf = self.read(field, term)
        if not len(docs):
            return docs, tf
        scores = bm25.term_scores(tf, self.lengths(field)[docs], self.idf(field, term), self.average(field),
                                  engine.BM25_K1, engine.BM25_B)
        return docs, scores

    def components(self, field: str, term: str, doc: int) -> tuple[float, float, float, float, float]:
        """(tf, idf, length, average, score) of the term in one candidate,
        as `scoring.Postings.components` gives them, for `--explain`."""
        if field == "arxiv_id":
            freq = float(self.docs[doc]["arxiv_id"] == term)
            return freq, 1.0, 0.0, 0.0, freq
        docs, tf = self.read(field, term)
        idf, length, average = self.idf(field, term), float(self.lengths(field)[doc]), self.average(field)
        return bm25.component(docs, tf, doc, idf, length, average, engine.BM25_K1, engine.BM25_B)


def _length(doc: dict, field: str, names: Sequence[str]) -> int:
    """A field's length in terms (the combined field's: all sections'; a
    `GAP` is none), kept with the document."""
    memo = doc.setdefault("_lengths", {})
    if field not in memo:
        memo[field] = sum(sum(1 for t in doc["spans"].terms(n) if t != GAP) for n in names if n in doc["spans"])
    return memo[field]


def _weight(doc: dict, field: str, term: str) -> float:
    """The term's posting weight in one document's field (0 when absent):
    its count in a section; in the combined field its occurrences' section
    weights added one by one in text order, as the indexer adds them."""
    counts = _counts(doc)
    if field != ALL:
        return float(counts.get(field, {}).get(term, 0))
    total = 0.0
    for name in TEXT_FIELDS:
        boost = FIELD_WEIGHTS[name]
        for _ in range(counts.get(name, {}).get(term, 0)):
            total += boost
    return total


def _counts(doc: dict) -> dict[str, Counter]:
    """Each field's term counts, counted once per candidate."""
    if "_counts" not in doc:
        spans = doc["spans"]
        doc["_counts"] = {name: Counter(spans.terms(name)) for name in spans}
    return doc["_counts"]


def _answering(method: Callable) -> Callable:
    """A public call of `SphinxIndex`: it starts with this thread's failed
    agents forgotten, and its answer (a "not found" too) stands only if
    the generation it read is still whole (`SphinxIndex._still_whole`,
    checked after the reads). A paper not found while a shard did not
    answer may be on that shard: that is no answer, not "not found"."""

    @wraps(method)
    def call(self: SphinxIndex, *args: Any, **kwargs: Any) -> Any:
        self._fresh()
        try:
            answer = method(self, *args, **kwargs)
        except NotFoundError:
            self._still_whole()
            wanted = args[0] if args else kwargs.get("arxiv_id")
            if self._holder_failed(engine.bare_id(str(wanted))):
                status = self._status()
                raise ClusterError(f"cannot tell whether {wanted!r} is in the index: "
                                   f"{status.warning().removeprefix('partial results: ')}, "
                                   "the one that would hold it among them") from None
            raise
        self._still_whole()
        return answer

    return call


class SphinxIndex(Engine):
    """One generation of a cluster. Queries go to the distributed index on
    the first node; a shard that does not answer leaves results from the
    others, flagged on `Results.shards`. Threads share it: each statement
    borrows a connection of its own from a pool (`_connection`), so one
    thread's long search does not hold up another's."""

    def __init__(self, url: ClusterURL, generation: int | None = None, row: dict | None = None) -> None:
        """Open the live generation, or ``generation`` with its ``row``
        (the writer reads one it has written before publishing it, the row
        not yet put)."""
        self.url = url
        self._lock = threading.RLock()  # the pool and the caches, never held over a statement
        first = open_node(url)
        self._idle: list[Node] = [first]
        self._closed = False
        try:
            self._load(first, generation, row)
        except BaseException:
            first.close()
            raise

    @contextmanager
    def _connection(self) -> Iterator[Node]:
        """A connection to the first node for one statement or batch: an
        idle one, or a new one when every other is in use. With one
        connection under a lock, a thread's search waited for each batch
        of any other thread's, seconds each on a big cluster. A connection
        that failed is closed, not given back."""
        with self._lock:
            if self._closed:
                raise IndexClosedError(f"the index at {self.url} is closed; open it again to search it")
            node = self._idle.pop() if self._idle else None
        if node is None:
            node = connect(self.url.host, self.url.port)
        try:
            yield node
        except BaseException:
            node.close()
            raise
        with self._lock:
            if self._closed:
                node.close()
            else:
                self._idle.append(node)

    def _load(self, node: Node, generation: int | None = None, row: dict | None = None) -> None:
        self.generation = generation or live(node, self.url)
        if not self.generation:
            raise IndexMissingError(f"no index at {self.url} yet: run `papersearch reindex --index {self.url}`")
        found = row or get(node, self.url, GEN_ROW + self.generation)
        if not found:
            raise ClusterError(f"cluster at {self.url} has no manifest for its live generation {self.generation}")
        if found.get("cluster_format") != CLUSTER_FORMAT:
            raise ClusterError(f"cluster at {self.url} was written by another papersearch (cluster format "
                               f"{found.get('cluster_format')}, this one reads {CLUSTER_FORMAT}): run `papersearch "
                               f"reindex --index {self.url}` to rebuild it")
        data = found["manifest"]
        self.manifest = Manifest(data["format"], data["analyzer"], data["kiwi"], data["posts"])
        self._totals = self.manifest.field_totals()
        self._top = {f: [(str(t), int(n)) for t, n in terms] for f, terms in (found.get("top_terms") or {}).items()}
        self._count_live = self.manifest.counts()[0]
        copies = Counter(i for post in self.manifest.posts.values() for i in post.get("ids", []))
        self._reposted = sorted(i for i, n in copies.items() if n > 1)
        self._replicas = [[(f"{r['host']}:{r['api_port']}", f"{r['host']}:{r['sql_port']}") for r in shard["replicas"]]
                          for shard in topology(node, self.url)["shards"]]
        self._df: dict[tuple[str, str], int] = {}
        self._agents = threading.local()  # each thread's failed agents, for its own results (`_status`)
        self._docs: dict[int, dict] = {}
        self._terms: list[str] | None = None
        self._lexicon = ClusterLexicon(self, found.get("longest"), found.get("pieces") or {})
        mined = rows_of(found.get("pairs") or {})
        self._glossary = Glossary(found.get("glossary") or {}, mined, readings_in(found.get("readings")) or {})

    # SphinxQL

    def rows(self, sql: str) -> list[tuple]:
        with self._connection() as node:
            return node.rows(sql)

    def _select(self, statements: Sequence[str]) -> list[list[tuple]]:
        """Each statement's rows (see `_answers`)."""
        return [rows for rows, _ in self._answers(statements)]

    def _answers(self, statements: Sequence[str]) -> list[tuple[list[tuple], dict[str, str]]]:
        """Run queries against the distributed index, `BATCH` to a round
        trip, each followed by SHOW META (given with its rows), and note
        the agents that did not answer."""
        return [answer for start in range(0, len(statements), BATCH)
                for answer in self._batch(statements[start : start + BATCH])]

    def _batch(self, statements: Sequence[str]) -> list[tuple[list[tuple], dict[str, str]]]:
        """One round trip of `_answers`. Sphinx 2.2.11 does not retry a
        query on another mirror: a statement that finds a mirror dead
        misses that shard, and ``ha_strategy = nodeads`` is slow to leave
        the dead mirror out, so with mirrors the statements whose answer
        names a failed agent are run again, up to `MIRROR_ATTEMPTS` times
        in all. Rerunning the whole batch while any statement failed left a
        batch of many statements with one still failing after every run,
        its count short by a shard and the shard reported as answered."""
        answers = self._run(statements)
        mirrored = any(len(replicas) > 1 for replicas in self._replicas)
        for _ in range(MIRROR_ATTEMPTS - 1 if mirrored else 0):
            warned = [i for i, (_, meta) in enumerate(answers) if _failed_agents(meta)]
            if not warned:
                break
            self._dead_agents()[1].update(a for i in warned for a in _failed_agents(answers[i][1]))
            for i, answer in zip(warned, self._run([statements[i] for i in warned])):
                answers[i] = answer
        failed = {a for _, meta in answers for a in _failed_agents(meta)}
        self._dead_agents()[1].update(failed)
        self._dead_agents()[0].update(failed)
        return answers

    def _run(self, statements: Sequence[str]) -> list[tuple[list[tuple], dict[str, str]]]:
        """Each statement's rows and its ``SHOW META``, in one round trip."""
        with self._connection() as node:
            answers = node.batch([s for statement in statements for s in (statement, "SHOW META")])
        return [(rows, {str(k): str(v) for k, v in meta}) for rows, meta in zip(answers[0::2], answers[1::2])]

    def _dead_agents(self) -> tuple[set[str], set[str]]:
        """This thread's agents that failed a batch's last run, and those
        seen failing in any run, since its last `_status`. Per thread: with
        one set for the index, a thread finishing its search took (and
        cleared) the failures of another's, whose partial results were
        then shown as complete."""
        if not hasattr(self._agents, "failed"):
            self._agents.failed, self._agents.seen = set(), set()
        return self._agents.failed, self._agents.seen

    def _holder_failed(self, arxiv_id: str) -> bool:
        """Whether the shard that would hold this paper (every copy of a
        paper is on one, `shard_of`) did not answer this thread's reads:
        only then is "not found" no answer."""
        return shard_of(arxiv_id, len(self._replicas)) in _missing(self._replicas, *self._dead_agents())

    def _status(self, unreached: Sequence[int] = ()) -> ShardStatus:
        """The shards missing from this thread's searches since its last
        status, and the ``unreached`` ones (by position, their first node
        named): a shard is missing when a statement's final answer (after
        `_batch`'s reruns) names a failed agent holding it."""
        last, seen = self._dead_agents()
        dead = last | seen
        failed = sorted(_missing(self._replicas, last, seen) | set(unreached))
        nodes = {sql for i in failed for api, sql in self._replicas[i] if api in dead}
        nodes |= {self._replicas[i][0][1] for i in unreached}
        self._fresh()
        return ShardStatus(len(self._replicas), len(self._replicas) - len(failed), tuple(sorted(nodes)))

    def _where(self, match: str | None, since: str | None = None, until: str | None = None) -> str:
        parts = [f"MATCH({quote(match)})"] if match else []
        parts.append(live_filter(self.generation))
        if since:
            parts.append(f"day >= {int(since.replace('-', ''))}")
        if until:
            parts.append(f"day <= {int(until.replace('-', ''))}")
        return " AND ".join(parts)

    # statistics

    def _prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        """Count df for every (field, term) not known yet, in batches. A
        count that a shard did not answer is this call's alone (its results
        say they are partial): kept for the index, it went on scoring every
        later query low after the shard was back, reported complete."""
        partial, known = self._partial_df(), self._known_df()
        wanted = [k for k in dict.fromkeys(keys) if k not in known]
        statements = [f"SELECT COUNT(*) FROM {self.url.name} WHERE {self._where(_scoped(f, [t]))}" for f, t in wanted]
        for key, (rows, meta) in zip(wanted, self._answers(statements)):
            missed = _AGENT.search(meta.get("warning", ""))
            (partial if missed else self._df)[key] = int(rows[0][0]) if rows else 0

    def df(self, field: str, term: str) -> int:
        """Live documents of the generation holding the term, over all shards."""
        if (field, term) not in self._known_df():
            self._prefetch([(field, term)])
        return self._known_df()[(field, term)]

    def _known_df(self) -> ChainMap[tuple[str, str], int]:
        """The counts this thread may use: the index's, then its call's partial ones."""
        return ChainMap(self._df, self._partial_df())

    def _partial_df(self) -> dict[tuple[str, str], int]:
        """This thread's counts from statements a shard did not answer,
        forgotten when its next call starts (`_fresh`)."""
        if not hasattr(self._agents, "partial_df"):
            self._agents.partial_df = {}
        return self._agents.partial_df

    # the Index interface

    def close(self) -> None:
        """Close every idle connection; one in use is closed when its
        statement ends. Later calls raise `IndexClosedError`."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for node in idle:
            node.close()

    def is_current(self) -> bool:
        try:
            with self._connection() as node:
                return live(node, self.url) == self.generation
        except (ClusterError, IndexClosedError):
            return False

    def _still_whole(self) -> None:
        """Raise `IndexStaleError` once the cluster has published two
        generations past this one: each publish deletes the rows dead
        before it (`writer.Writer._clean`), so this generation's reads may
        then miss documents, an answer wrong with no sign. Checked after
        the reads: a live generation of at most ours + 1 then means no
        deletion touching ours had begun while they ran."""
        with self._connection() as node:
            current = live(node, self.url)
        if current not in (self.generation, self.generation + 1):  # two publishes on, or rebuilt from scratch
            raise IndexStaleError(
                f"the cluster at {self.url} has published generation {current} since this index opened generation "
                f"{self.generation}, whose rows are being removed: open the index again"
            )

    # the Engine primitives

    @property
    def size(self) -> int:
        return self._count_live

    def _plan(self, parsed: ParsedQuery, scope: tuple[str, ...], joined: Sequence[str],
              since: str | None = None, until: str | None = None, exclude: str | None = None) -> Planned:
        """The query as a `window.Windowed`: Sphinx finds a bounded window
        of candidates for each question, the directory's planner scores
        them with statistics from the whole cluster."""
        terms = [t for part in parsed.parts for alt in part.alternatives for t in alt] + list(joined)
        self._prefetch([(f, t) for t in terms for f in scope])
        return Windowed(self, parsed, scope, joined, since, until, exclude)

    def _planned_over(self, docs: list[dict], parsed: ParsedQuery, scope: tuple[str, ...], joined: Sequence[str],
                      exclude: str | None) -> Planned:
        """The directory backend's plan over these candidates."""
        postings = CandidatePostings(docs, self._count_live, self.df, self._totals)
        return plan(postings, parsed, scope, joined, excluded(docs, exclude), key=lambda d: docs[d]["arxiv_id"],
                    day=lambda d: docs[d]["date"], read=docs.__getitem__,
                    distinct=lambda found: len({docs[d]["arxiv_id"] for d in found}))

    def _unread(self, missing: int) -> None:
        """Documents a list named that their fetch did not return: a shard
        that stopped answering in between is reported with the results
        (partial); with every shard answering, the copies of one differ or
        the cluster changed under the query, and an answer short of them
        would say it is complete: an error instead."""
        if not any(self._dead_agents()):
            raise ClusterError(f"cluster at {self.url}: {missing} document(s) a shard listed could not be read back "
                               "(a shard's copies differ, or the cluster changed during the query); try again")

    def _in_build_order(self, ids: Iterable[int]) -> list[dict]:
        """The documents with these ids in a full build's order (posts by
        name, papers as written): docnum order breaks exact ties, whatever
        order reindexes added them in."""
        return sorted(self._documents(list(ids)), key=lambda d: (d["post"], d["id"]))

    def _read_lists(self, lists: certify.Lists, depths: Mapping[certify.Key, int], since: str | None,
                    until: str | None, counting: Sequence[str] = ()) -> list[list[tuple]]:
        """Read each (field, term) list to its depth into ``lists``, over
        every shard; returns the answers to the ``counting`` statements,
        sent with the lists."""
        keys = list(depths)
        whole = {key for key in keys if self.df(*key) <= WHOLE_LIST * depths[key]}
        deep = {key for key in keys if key not in whole
                and (depths[key] - lists.depth.get(key, 0)) * ROW_COST > self.df(*key)}
        statements = list(counting) + [
            self._weights_statement(key, since, until) if key in whole
            else self._kth_statement(key, depths[key], since, until) if key in deep
            else self._list_statement(key, lists.depth.get(key, 0), depths[key], since, until) for key in keys]
        answers = self._answers(statements)
        above: dict[certify.Key, tuple[int | None, int]] = {}  # deep lists: (their depth-th weight, found)
        rows_for: list[certify.Key] = []  # lists read row by row after all: not given whole as one row
        for key, (rows, meta) in zip(keys, answers[len(counting):]):
            if key in deep:
                if rows:
                    above[key] = (int(rows[0][0]), int(meta.get("total_found", 0)))
                else:
                    rows_for.append(key)
            elif key in whole:
                if not _add_pairs(lists, key, concatenated(rows), None):
                    rows_for.append(key)
            else:
                _add_rows(lists, key, depths[key], rows, meta)
        if above:  # each deep list's documents down to its depth-th weight, as one row
            second = [self._weights_statement(key, since, until, at_least=kth) for key, (kth, _) in above.items()]
            for key, (rows, _) in zip(above, self._answers(second)):
                if not _add_pairs(lists, key, concatenated(rows), above[key][1]):
                    rows_for.append(key)
        if rows_for:
            again = [self._list_statement(key, lists.depth.get(key, 0), depths[key], since, until) for key in rows_for]
            for key, (rows, meta) in zip(rows_for, self._answers(again)):
                _add_rows(lists, key, depths[key], rows, meta)
        return [rows for rows, _ in answers[: len(counting)]]

    def _kth_statement(self, key: certify.Key, depth: int, since: str | None, until: str | None) -> str:
        """The list's ``depth``-th best weight (no row when it holds fewer
        documents), with the list's size in its SHOW META."""
        return (f"SELECT WEIGHT() AS w FROM {self.url.name} WHERE {self._where(certify.match(key), since, until)} "
                f"ORDER BY w DESC LIMIT {depth - 1}, 1 OPTION max_matches={depth}, {self._ranker(key)}")

    def _complete(self, lists: certify.Lists, ids: Sequence[int], since: str | None, until: str | None) -> None:
        """Read every list's weight for these documents (those a list holds
        below the depth read so far too), so their scores are known to
        within `certify.SLACK` and need no unseen list's ceiling. Each
        statement scans its term's whole posting list whatever the ids,
        hence as many ids a statement as Sphinx takes."""
        keys = [key for key in lists.depth if not lists.ended[key]]  # an ended list holds all its weights
        for start in range(0, len(ids) if keys else 0, COMPLETE_CHUNK):
            chunk = list(ids[start : start + COMPLETE_CHUNK])
            statements = [self._weights_statement(key, since, until, chunk) for key in keys]
            for key, rows in zip(keys, self._select(statements)):
                pairs = concatenated(rows)
                if pairs is None:  # Sphinx did not give them whole: one row a document, as before
                    rows = self._select([self._list_statement(key, 0, len(chunk), since, until, chunk)])[0]
                    pairs = [(int(i), int(w)) for i, w in rows]
                lists.complete(key, pairs)
        lists.completed.update(ids)

    def _weights_statement(self, key: certify.Key, since: str | None, until: str | None,
                           among: Sequence[int] = (), at_least: int | None = None) -> str:
        """The term's weight in each document of its list (of ``among``
        only, when given; only those weighing ``at_least``, when given:
        Sphinx cannot filter on a weight, but it can group by whether it
        is reached and give the group that reaches it), as one row of
        concatenated values (`concatenated`): pymysql reads a row in about
        40 µs, so a list of 10,000 documents took 0.4-0.9 s row by row and
        30 ms as one row (10,000 papers, 3 nodes)."""
        ids = f" AND id IN ({','.join(map(str, among))})" if among else ""
        group = "1" if at_least is None else f"IF(w >= {int(at_least)}, 1, 0)"
        return (f"SELECT WEIGHT() AS w, {group} AS g, COUNT(*), GROUP_CONCAT(id), GROUP_CONCAT(w), "
                f"GROUP_CONCAT(id + w) FROM {self.url.name} WHERE {self._where(certify.match(key), since, until)}{ids} "
                f"GROUP BY g ORDER BY g DESC LIMIT 1 OPTION {self._ranker(key)}")

    def _list_statement(self, key: certify.Key, start: int, depth: int, since: str | None, until: str | None,
                        among: Sequence[int] = ()) -> str:
        """The term's documents by its exact BM25 (`certify.ranker`), those
        ranked from ``start`` down to ``depth`` (the ones above were read),
        only ``among`` these ids when given."""
        ids = f" AND id IN ({','.join(map(str, among))})" if among else ""
        return (f"SELECT id, WEIGHT() FROM {self.url.name} WHERE "
                f"{self._where(certify.match(key), since, until)}{ids} LIMIT {start}, {depth - start} "
                f"OPTION max_matches={depth}, {self._ranker(key)}")

    def _ranker(self, key: certify.Key) -> str:
        """The OPTION ranking documents by the term's exact BM25 (`certify.ranker`)."""
        field, term = key
        return certify.ranker(key, bm25.idf(self._count_live, self.df(field, term)),
                              bm25.average(self._totals.get(field, 0), self._count_live),
                              engine.BM25_K1, engine.BM25_B)

    def _sweep(self, match: str, since: str | None, until: str | None, most: int) -> list[int] | None:
        """The live documents matching; None when more than ``most``."""
        rows = self._select([f"SELECT 1 AS g, COUNT(*), GROUP_CONCAT(id) FROM {self.url.name} "
                             f"WHERE {self._where(match, since, until)} GROUP BY g OPTION ranker=none"])[0]
        if not rows:
            return []
        count, ids = int(rows[0][1]), [int(i) for i in str(rows[0][2]).split(",")]
        if count > most:
            return None
        if len(ids) != count:  # agents' values dropped (see `_add_pairs`): the rows, as many as counted
            return [int(row[0]) for row in self._select([f"SELECT id FROM {self.url.name} WHERE "
                                                         f"{self._where(match, since, until)} LIMIT {count} "
                                                         f"OPTION max_matches={count}, ranker=none"])[0]]
        return ids

    def _papers(self, ids: Sequence[int]) -> dict[int, str]:
        """The papers of these documents (of the lists: live)."""
        return {int(i): str(paper) for i, paper in self._by_id("id, arxiv_id", ids, COMPLETE_CHUNK)}

    def _by_id(self, columns: str, ids: Sequence[int], chunk: int) -> list[tuple]:
        """These documents' rows, ``chunk`` ids a statement."""
        rows: list[tuple] = []
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            rows += self._select([f"SELECT {columns} FROM {self.url.name} WHERE id IN ({','.join(map(str, part))}) "
                                  f"LIMIT {len(part)} OPTION max_matches={len(part)}, ranker=none"])[0]
        return rows

    def _id_matches(self, arxiv_ids: Sequence[str], since: str | None, until: str | None) -> list[int]:
        """Every live copy of papers asked for by id (they score through
        their id, which no list ranks)."""
        if not arxiv_ids:
            return []
        rows = self._select([f"SELECT id FROM {self.url.name} WHERE "
                             f"{self._where(f'@{ID_FIELD} ({any_of(list(arxiv_ids))})', since, until)} "
                             f"LIMIT {MAX_CANDIDATES} OPTION max_matches={MAX_CANDIDATES}, ranker=none"])[0]
        return [int(row[0]) for row in rows]

    def _latest(self, match: str, scope: Sequence[str], limit: int, since: str | None, until: str | None,
                exclude: str | None) -> list[str]:
        """The papers posted last among the matches: the first ``limit``
        seen latest first, and every other paper of the last day seen."""
        papers: dict[str, int] = {}
        offset = 0
        while True:
            size = offset + DATE_BATCH
            rows = self._select([f"SELECT arxiv_id, day FROM {self.url.name} WHERE {self._where(match, since, until)} "
                                 f"ORDER BY day DESC LIMIT {offset}, {DATE_BATCH} OPTION max_matches={size}, "
                                 "ranker=none"])[0]
            for arxiv_id, day in rows:
                if str(arxiv_id) != exclude:
                    papers.setdefault(str(arxiv_id), int(day))
            last = sorted(papers.values(), reverse=True)[limit - 1] if len(papers) >= limit else None
            if len(rows) < DATE_BATCH or (last is not None and int(rows[-1][1]) < last):
                return [p for p, day in papers.items() if last is None or day >= last]
            offset = size

    def _copies_matching(self, match: str, scope: Sequence[str], papers: Sequence[str], since: str | None,
                         until: str | None) -> list[int]:
        """Ids of the matching copies of these papers."""
        if not papers:
            return []
        ids: list[int] = []
        for start in range(0, len(papers), FETCH_CHUNK):
            chunk = list(papers[start : start + FETCH_CHUNK])
            both = f"({match}) (@{ID_FIELD} ({any_of(chunk)}))"
            rows = self._select([f"SELECT id FROM {self.url.name} WHERE {self._where(both, since, until)} "
                                 f"LIMIT {MAX_CANDIDATES} OPTION max_matches={MAX_CANDIDATES}, ranker=none"])[0]
            ids += [int(row[0]) for row in rows]
        return ids

    def _count_statements(self, match: str, since: str | None, until: str | None, exclude: str | None) -> list[str]:
        """What counts the papers matching, over every shard: matching
        documents, then the matching copies of each re-posted paper
        (known from the manifest; GROUP BY over just those papers, so the
        groups fit in max_matches: Sphinx's COUNT(DISTINCT) on a string
        and a grouped ``total_found`` past max_matches are approximate),
        then whether the excluded paper matches. See `_counted`."""
        where = self._where(match, since, until)
        statements = [f"SELECT COUNT(*) FROM {self.url.name} WHERE {where}"]
        for start in range(0, len(self._reposted), FETCH_CHUNK):
            chunk = self._reposted[start : start + FETCH_CHUNK]
            both = self._where(f"({match}) (@{ID_FIELD} ({any_of(chunk)}))", since, until)
            statements.append(f"SELECT arxiv_id, COUNT(*) FROM {self.url.name} WHERE {both} GROUP BY arxiv_id "
                              f"LIMIT {len(chunk)} OPTION max_matches={len(chunk)}")
        if exclude:
            both = self._where(f"({match}) (@{ID_FIELD} ({any_of([exclude])}))", since, until)
            statements.append(f"SELECT COUNT(*) FROM {self.url.name} WHERE {both}")
        return statements

    @staticmethod
    def _counted(answers: list[list[tuple]], exclude: str | None) -> int:
        """Papers matching, from the answers to `_count_statements`:
        documents less the extra copies of re-posted papers, less the
        excluded paper. It is the directory's total, except that (1) the
        directory estimates past `engine.COUNT_BUDGET` phrase checks where
        this counts exactly. Sphinx reads a phrase at the positions the
        exact check reads: fields hold `query.plain`'s terms in order, the
        whole names after them (`terms.field_text`)."""
        total = int(answers[0][0][0]) if answers[0] else 0
        grouped = answers[1:-1] if exclude else answers[1:]
        total -= sum(int(n) - 1 for rows in grouped for _, n in rows)
        if exclude and answers[-1] and int(answers[-1][0][0]):
            total -= 1
        return total

    def _count(self, match: str, since: str | None, until: str | None, exclude: str | None) -> int:
        return self._counted(self._select(self._count_statements(match, since, until, exclude)), exclude)

    def _finish(self, results: Results) -> Results:
        """Results carrying which shards answered (see `ShardStatus`)."""
        results.shards = self._status()  # type: ignore[attr-defined]
        return results

    def _near(self, term: str) -> list[str]:
        """Terms within one edit, from the generation's vocabulary."""
        within = lev.levenshtein_automaton(term, 1, 0).to_dfa()  # as Whoosh's terms_within: no transpositions
        return [t for t in self._vocabulary() if within.accept(t)]

    def _copies(self, arxiv_id: str) -> list[dict]:
        match = f"@{ID_FIELD} ({any_of([arxiv_id])})"
        rows = self._select([f"SELECT id FROM {self.url.name} WHERE {self._where(match)} "
                             f"LIMIT {MAX_CANDIDATES} OPTION max_matches={MAX_CANDIDATES}, ranker=none"])[0]
        docs = self._in_build_order(int(row[0]) for row in rows)
        return sorted((d for d in docs if d["arxiv_id"] == arxiv_id), key=lambda d: d["date"])

    def _fresh(self) -> None:
        """Forget this thread's failed agents: a call that ended in an
        error before its status was taken leaves them, and they belong to
        that call; and the counts it read while a shard did not answer."""
        self._agents.failed, self._agents.seen = set(), set()
        self._agents.partial_df = {}

    search = _answering(Engine.search)
    paper = _answering(Engine.paper)
    similar = _answering(Engine.similar)

    def _vocabulary(self) -> list[str]:
        """The generation's terms, read on the first suggestion."""
        if self._terms is None:
            with self._connection() as node:
                self._terms = list(get(node, self.url, VOCABULARY_ROW + self.generation) or [])
        return self._terms

    def _documents(self, ids: list[int]) -> list[dict]:
        """The documents with these ids, spans decoded, read once per open
        index: a document's id is never reused (generation << 32 | sequence),
        so its content never changes. Section texts come later, for hits.
        The cache is locked only to look and to store, never over a read."""
        with self._lock:
            have = {i: self._docs[i] for i in ids if i in self._docs}
        missing = [i for i in dict.fromkeys(ids) if i not in have]
        fetched = {int(row[0]): _stored(row) for row in self._by_id("id, arxiv_id, date, url, spans, post", missing,
                                                                    FETCH_CHUNK)}
        with self._lock:
            if len(self._docs) + len(fetched) > CACHED_DOCS:
                self._docs.clear()
            self._docs.update(fetched)
        have.update(fetched)
        return [have[i] for i in ids if i in have]

    def _with_texts(self, docs: Sequence[dict]) -> set[int]:
        """Fetch the section texts of these candidates, in one query; a
        document whose shard did not answer stays unread (documents are
        cached: marked read, it would show no texts to later calls)."""
        wanted = [d["id"] for d in docs if "title" not in d]
        if wanted:
            found = {int(i): json.loads(texts) for i, texts in self._by_id("id, texts", wanted, FETCH_CHUNK)}
            for doc in docs:
                if "title" not in doc and doc["id"] in found:
                    doc.update(found[doc["id"]])
                    doc.setdefault("title", "")
        return {i for i, doc in enumerate(docs) if "title" not in doc}

    def _dates(self, arxiv_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Every live post date of each paper, oldest first."""
        if not arxiv_ids:
            return {}
        match = f"@{ID_FIELD} ({any_of(list(arxiv_ids))})"
        rows = self._select([f"SELECT arxiv_id, date FROM {self.url.name} WHERE {self._where(match)} "
                             f"LIMIT {MAX_CANDIDATES} OPTION max_matches={MAX_CANDIDATES}, ranker=none"])[0]
        found: dict[str, set[str]] = {}
        for arxiv_id, day in rows:
            found.setdefault(str(arxiv_id), set()).add(str(day))
        return {k: tuple(sorted(v)) for k, v in found.items()}

    @_answering
    def stats(self) -> IndexStats:
        """The stats, with which shards answered: the dates come from a
        search over every shard and the size from each shard's node, and a
        shard that did not answer made both smaller, reported as complete."""
        where = live_filter(self.generation)
        first, last = self._select([
            f"SELECT date FROM {self.url.name} WHERE {where} ORDER BY day ASC LIMIT 1",
            f"SELECT date FROM {self.url.name} WHERE {where} ORDER BY day DESC LIMIT 1",
        ])
        size, unreached = self._size()
        shards = self._status(unreached)
        entries, papers = self.manifest.counts()
        return IndexStats(
            str(self.url), len(self.manifest.posts), entries, papers, str(first[0][0]) if first else None,
            str(last[0][0]) if last else None, size, self.manifest.analyzer, self.manifest.kiwi, self._top,
            shards,
        )

    def _size(self) -> tuple[int, list[int]]:
        """Bytes the shards take on disk and in RAM (from SHOW INDEX …
        STATUS, on the first replica of each that answers), and the
        positions of the shards none of whose replicas did."""
        total, unreached = 0, []
        with self._connection() as node:
            shards = topology(node, self.url)["shards"]
        for position, shard in enumerate(shards):
            size = next((n for r in shard["replicas"] if (n := _shard_size(r, shard["index"])) is not None), None)
            if size is None:
                unreached.append(position)
            total += size or 0
        return total, unreached


def _scoped(field: str, terms: list[str]) -> str:
    """A MATCH expression: any of the terms, in one section or (for the
    combined field) in any section."""
    scope = ALL_FIELDS if field == ALL else f"@{field}"
    return f"{scope} ({any_of(terms)})"


def _shard_size(replica: dict, index: str) -> int | None:
    """Bytes a shard takes on one replica's node, on disk and in RAM; None
    when that node does not answer."""
    try:
        node = connect(replica["host"], replica["sql_port"])
    except ClusterError:
        return None
    try:
        status = dict(node.rows(f"SHOW INDEX {index} STATUS"))
        return int(status.get("disk_bytes", 0)) + int(status.get("ram_bytes", 0))
    except ClusterError:
        return None
    finally:
        node.close()


def _missing(replicas: Sequence[Sequence[tuple[str, str]]], last: set[str], seen: set[str]) -> set[int]:
    """The shards (by position) that may not have answered. ``last``: the
    agents some statement's final answer names as failed; ``seen``: every
    agent seen failing. A warning names the agent, not the shard it was
    asked for: a shard every copy of which failed explains the warnings
    of the agents holding it; an agent's warning no such shard explains
    marks every shard it holds (one of them went unanswered: reported,
    never hidden)."""
    dead = last | seen
    certain = {i for i, copies in enumerate(replicas)
               if any(api in last for api, _ in copies) and all(api in dead for api, _ in copies)}
    explained = {api for i in certain for api, _ in replicas[i]}
    unexplained = last - explained
    return certain | {i for i, copies in enumerate(replicas) if any(api in unexplained for api, _ in copies)}


def _failed_agents(meta: Mapping[str, str]) -> set[str]:
    """The agents a statement's ``SHOW META`` warning names as failed."""
    return set(_AGENT.findall(meta.get("warning", "")))


def _stored(row: tuple) -> dict:
    """A fetched document as `searcher.Planned` reads stored fields."""
    doc, arxiv_id, day, url, spans, post = row
    return {"id": int(doc), "arxiv_id": str(arxiv_id), "date": str(day), "url": str(url), "post": str(post),
            "spans": Spans(packed_spans(spans))}


def _add_pairs(lists: certify.Lists, key: certify.Key, pairs: list[tuple[int, int]] | None,
               found: int | None) -> bool:
    """Add a list's (id, weight) pairs read as one row: the whole list
    (``found`` None) or every document down to a weight; False when
    they did not come whole (Sphinx 2.2.11's distributed GROUP_CONCAT
    drops the agents' values when the first node's shard has no match:
    then the caller reads the rows, to the depth asked)."""
    if pairs is None:
        return False
    lists.add(key, len(pairs), sorted(pairs, key=lambda pair: -pair[1]), len(pairs) if found is None else found)
    return True


def _add_rows(lists: certify.Lists, key: certify.Key, depth: int, rows: Sequence[tuple], meta: Mapping) -> None:
    """A list's next rows (id, weight), best first, down to ``depth``."""
    lists.add(key, depth, [(int(i), int(w)) for i, w in rows], int(meta.get("total_found", len(rows))))


def concatenated(rows: Sequence[tuple]) -> list[tuple[int, int]] | None:
    """(id, weight) pairs from a `SphinxIndex._weights_statement` answer
    (no row: no document), or None unless every one is there and in step:
    the count matches and each id plus its weight is the checksum Sphinx
    concatenated beside them."""
    if not rows:
        return []
    _, group, count, ids, weights, sums = rows[0]
    if int(group) != 1:  # no document reaches the weight asked for (cannot be: its depth-th one does)
        return None
    found = [int(i) for i in str(ids).split(",")]
    values = [int(w) for w in str(weights).split(",")]
    checks = [int(c) for c in str(sums).split(",")]
    if len(rows) != 1 or not len(found) == len(values) == len(checks) == int(count):
        return None
    if any(i + w != c for i, w, c in zip(found, values, checks)):
        return None
    return list(zip(found, values))
