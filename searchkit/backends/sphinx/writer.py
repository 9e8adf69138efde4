"""Posts → cluster: incremental, atomic reindexing over shards.

The same Kiwi analysis as the directory backend (`analysis.analyse_stream`
over the same texts in the same order) feeds every shard. Each document
lives on the shard its arXiv id hashes to (all copies of a paper on one
shard) and carries its encoded terms per section as text fields, plus the
packed spans and the section texts, so the reader ranks and highlights
without Kiwi.

Generations, as Sphinx has no aliases: a document is live in generation G
when ``born <= G < died``. A reindex to G+1 inserts the new documents
(``born = G+1``), marks the replaced ones ``died = G+1``, writes G+1's
manifest, then flips the live pointer in one REPLACE. Killed before the
flip, the new rows are invisible and the marks harmless (still live at G);
the next reindex first deletes the orphans and clears the marks. After the
flip, rows that died before G+1 are deleted (those dying at G+1 stay one
generation for readers still on G).
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import indexing, pairs
from ...analysis import ANALYZER_VERSION, Term, analyse_stream, kiwi_version
from ...bm25 import quantised_length
from ...corpus import Paper, Post
from ...errors import CorpusError
from ...glossary import _digest, glossary_body, glossary_surfaces, readings, readings_body, readings_current
from ...indexing import Progress, ReindexReport, count_lengths, diff, read_corpus, section_text, stored_sections
from ...lexicon import Lexicon, merged_pieces
from ...schema import TEXT_FIELDS, Spans, pack_spans
from ...store import FORMAT, Manifest, directory, file_lock
from . import ClusterURL, lexicon
from . import counts as term_counts
from .config import ID_FIELD, LENGTH_COLUMNS, MAX_PACKET
from .conn import ClusterError, Node, connect, values
from .layout import CLUSTER_FORMAT, FOREVER, packed_spans, shard_of
from .meta import COUNTS_ROW, GEN_ROW, POINTER_ROW, VOCABULARY_ROW, get, live, open_node, put, topology
from .meta import pieces as meta_pieces
from .terms import encode, field_text

BATCH_DOCS = 64
"""Documents per INSERT at most: spans and texts make a row ~20 kB."""
STATEMENT_BYTES = 4 << 20
"""An INSERT grows to this many bytes at most, unless one row is larger:
64 papers of megabyte sections made a 100 MB statement, past searchd's
``max_packet_size``, and the node dropped the connection mid-reindex."""
ROW_BYTES = MAX_PACKET - (1 << 20)
"""The largest document a node of papersearch's configuration takes (its
INSERT with the column list); a larger one stops the reindex, named."""
SELECT_CHUNK = 5000
COLUMNS = ("id", *TEXT_FIELDS, ID_FIELD, "born", "died", "day", *LENGTH_COLUMNS.values(), "arxiv_id", "post", "date",
           "url", "spans", "texts")


def reindex(
    corpus_dir: str | Path, location: str, *, full: bool = False, strict: bool = False, allow_empty: bool = False,
    progress: Progress | None = None, on_wait: Callable[[], None] | None = None,
) -> ReindexReport:
    """Bring the cluster at ``location`` up to date with the posts in
    ``corpus_dir``, as `indexer.reindex` does for a directory."""
    started = time.perf_counter()
    url = ClusterURL.parse(location)
    corpus = directory(corpus_dir, "corpus")
    if not corpus.is_dir():
        raise CorpusError(f"corpus directory not found: {corpus}")
    with _writer_lock(url, on_wait):
        writer = Writer(url)
        try:
            current = writer.recover()
            manifest, glossary, notices, rebuild = writer.base(current, full)
            posts = read_corpus(corpus, progress)
            skipped = tuple(p for post in posts for p in post.problems if p.fatal)
            if strict:
                indexing.refuse_skips(posts)
            empty = None if allow_empty else (corpus, len(posts))
            report = writer.apply(current, manifest, glossary, rebuild, posts, progress, empty)
        finally:
            writer.close()
    warnings = tuple(p for post in posts for p in post.problems if not p.fatal)
    return ReindexReport(
        posts_read=len(posts), skipped=skipped, warnings=warnings, full=rebuild,
        seconds=time.perf_counter() - started, notices=(*notices, *writer.notices), **report,
    )


@contextmanager
def _writer_lock(url: ClusterURL, on_wait: Callable[[], None] | None) -> Iterator[None]:
    """One writer per cluster from this machine (Sphinx has no locks):
    ``flock`` on a file named after the cluster, released by the kernel
    when a writer dies, and removed when it is done. The name comes from
    the cluster's registered topology, not from the URL: through
    ``localhost`` and ``127.0.0.1`` two writers took the same generation
    number, each cleaned up the other's rows as a killed reindex's, and
    both published."""
    key = hashlib.sha1(_identity(url).encode()).hexdigest()[:16]
    with file_lock(Path(tempfile.gettempdir()) / f"papersearch-cluster-{key}.lock", on_wait, remove=True):
        yield


def _identity(url: ClusterURL) -> str:
    """The cluster's shards as its meta index records them, and the name."""
    node = open_node(url)
    try:
        return json.dumps(topology(node, url), sort_keys=True) + "/" + url.name
    finally:
        node.close()


@dataclass
class Shard:
    """One shard's RT index and a connection to each of its replicas."""

    index: str
    replicas: list[Node]

    def execute(self, sql: str) -> None:
        for node in self.replicas:
            node.execute(sql)

    def add_columns(self, columns: Iterable[str]) -> None:
        """Add the integer attributes a shard made by an older papersearch
        lacks (Sphinx 2.2 alters an RT index in place; the rebuild that
        CLUSTER_FORMAT forces fills them)."""
        for node in self.replicas:
            have = {str(name) for name, _ in node.rows(f"DESCRIBE {self.index}")}
            for column in columns:
                if column not in have:
                    node.execute(f"ALTER TABLE {self.index} ADD COLUMN {column} INTEGER")

    def ids(self, where: str, replica: Node | None = None) -> list[int]:
        """Ids of the documents matching ``where``, from ``replica`` (by
        default the first)."""
        rows = (replica or self.replicas[0]).rows(
            f"SELECT id FROM {self.index} WHERE {where} ORDER BY id ASC LIMIT {SELECT_CHUNK} "
            f"OPTION max_matches={SELECT_CHUNK}"
        )
        return [int(r[0]) for r in rows]

    def repair(self, current: int) -> None:
        """Undo, on every replica, what a killed reindex left (rows born
        after the ``current`` generation, marks of a generation never
        published) and what a killed clean-up left (rows dead before it).
        Each write goes to the replicas one after another, so a kill (or a
        replica's crash) between two leaves them apart: read from the
        first alone, the second kept its leftovers for ever, and queries,
        served by either, differed while saying every shard answered."""
        self.on_every_replica(f"born > {current}", self.delete)
        self.on_every_replica(f"died > {current} AND died < {FOREVER}", lambda ids: self.set_died(ids, FOREVER))
        self.on_every_replica(f"died < {current}", self.delete)

    def on_every_replica(self, where: str, apply: Callable[[list[int]], None]) -> None:
        """``apply`` (a write to every replica) to the documents matching
        ``where`` on any replica, until none is left on any."""
        for replica in self.replicas:
            while ids := self.ids(where, replica):
                apply(ids)

    def spans(self, ids: Sequence[int]) -> Iterator[Spans]:
        """The stored spans of these documents, from the first replica."""
        for (packed,) in self._by_id("spans", ids, 1000):
            yield Spans(packed_spans(packed))

    def texts(self, ids: Sequence[int]) -> Iterator[tuple[str, list]]:
        """Each section text of these documents with its terms, as they were
        indexed (stored texts and offsets), from the first replica."""
        for texts, packed in self._by_id("texts, spans", ids, 200):
            yield from stored_sections(json.loads(texts), packed_spans(packed))

    def _by_id(self, columns: str, ids: Sequence[int], chunk: int) -> Iterator[tuple]:
        """These documents' columns from the first replica, ``chunk`` ids a statement."""
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            yield from self.replicas[0].rows(f"SELECT {columns} FROM {self.index} WHERE id IN "
                                             f"({','.join(map(str, part))}) LIMIT {len(part)} "
                                             f"OPTION max_matches={len(part)}")

    def delete(self, ids: Sequence[int]) -> None:
        for start in range(0, len(ids), 1000):
            self.execute(f"DELETE FROM {self.index} WHERE id IN ({','.join(map(str, ids[start:start + 1000]))})")

    def set_died(self, ids: Sequence[int], died: int) -> None:
        for start in range(0, len(ids), 1000):
            chunk = ",".join(map(str, ids[start:start + 1000]))
            self.execute(f"UPDATE {self.index} SET died = {died} WHERE id IN ({chunk})")


class Writer:
    """A reindex's connections: the first node (meta, lexicon) and every
    replica of every shard; a node that does not answer stops the reindex
    before anything is written."""

    def __init__(self, url: ClusterURL) -> None:
        self.url = url
        self.node = open_node(url)
        self.shards: list[Shard] = []
        self.longest: int | None = 0
        """The added posts' `Lexicon.longest`, for the generation row."""
        self.readings: dict[str, dict[str, int]] = {}
        """Word form → reading → the change in its count (`lexicon.push`)."""
        self.pieces: dict[str, list[int]] = {}
        """Hangul term → the change in its (glued, total) counts (`lexicon.piece_counts`)."""
        self._rows: dict[int, dict] = {}
        self.notices: list[str] = []
        """What the reindex says besides its summary (`_after_publish`)."""
        try:
            for shard in topology(self.node, url)["shards"]:
                replicas = [connect(r["host"], r["sql_port"]) for r in shard["replicas"]]
                self.shards.append(Shard(shard["index"], replicas))
            for target in self.shards:
                target.add_columns(LENGTH_COLUMNS.values())
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.node.close()
        for shard in self.shards:
            for node in shard.replicas:
                node.close()

    def recover(self) -> int:
        """Undo what a killed reindex left (rows born after the live
        generation, marks of a generation never published) and what a
        killed clean-up left (rows dead before it); the live generation."""
        current = live(self.node, self.url)
        for shard in self.shards:
            shard.repair(current)
        lexicon.recover(self.node, self.url, current)
        return current

    def base(self, current: int, full: bool) -> tuple[Manifest, dict | None, list[str], bool]:
        """The live manifest and analysed glossary to build on, and whether
        this is a full rebuild (asked for, a new cluster, another analyzer)."""
        fresh = Manifest(FORMAT, ANALYZER_VERSION, kiwi_version())
        found = self._live_row(current)
        if not found:
            return fresh, None, [], True
        data = found["manifest"]
        manifest = Manifest(data["format"], data["analyzer"], data["kiwi"], dict(data["posts"]))  # apply edits it
        stale = (manifest.format, manifest.analyzer, manifest.kiwi, found.get("cluster_format")) != (
            fresh.format, fresh.analyzer, fresh.kiwi, CLUSTER_FORMAT)
        notices = ["cluster was built by another analyzer or Kiwi version; rebuilding in full"] if stale else []
        if full or stale:
            return fresh, found.get("glossary"), notices, True
        return manifest, found.get("glossary"), notices, False

    def apply(self, current: int, manifest: Manifest, glossary: dict | None, rebuild: bool, posts: list[Post],
              progress: Progress | None, empty: tuple[Path, int] | None) -> dict[str, int]:
        """Write the difference between the manifest and the corpus as the
        next generation and publish it."""
        previous = self._live_manifest(current)
        known = manifest.posts
        change = diff(known, posts)
        changed, removed, counts, remaining = change.changed, change.removed, change.counts, change.remaining
        if empty is not None and not remaining and previous.posts:
            corpus, read = empty
            found = "has no *.md posts" if not read else f"has none of its {read} posts to index"
            raise CorpusError(
                f"corpus {corpus} {found}: this would empty the index at {self.url} ({len(previous.posts)} posts); "
                "nothing was written (use --allow-empty to empty it)"
            )
        glossary_stale = glossary is None or glossary.get("digest") != _digest()
        if (current and not rebuild and not changed and not removed and not glossary_stale
                and readings_current(self._live_row(current).get("readings"))):
            return {**counts, **_totals(manifest)}
        new = current + 1
        papers = [paper for post in changed for paper in post.papers]
        # the replaced copies: every live document of a changed or removed post
        # (a full rebuild replaces them all)
        rewritten = {Path(p.path).name for p in changed} | set(removed)
        replaced = [name for name in previous.posts if rebuild or name in rewritten]
        by_shard: dict[int, list[int]] = {}
        for name in replaced:
            for shard, doc in previous.posts[name].get("docs", []):
                by_shard.setdefault(shard, []).append(doc)
        lengths, docs, glossary, added = self._write(new, papers, glossary if not glossary_stale else None, progress,
                                                     {} if rebuild else by_shard)
        lexicon.push(self.node, self.url, self.readings, current, new, rebuild)
        vocabulary = {t for found in added.values() for t in found}
        if not rebuild:  # terms of replaced posts may linger: suggestions check df
            vocabulary |= set(get(self.node, self.url, VOCABULARY_ROW + current) or [])
        occurrences = self._counts(current, rebuild, previous, by_shard, added)
        for shard, ids in by_shard.items():
            self.shards[shard].set_died(ids, new)
        for name in removed:
            del known[name]
        for post in changed:
            name = Path(post.path).name
            known[name] = {"digest": post.digest, "ids": [p.arxiv_id for p in post.papers],
                           "lengths": lengths.get(name, {}), "docs": docs.get(name, [])}
        base = {} if rebuild else self._live_row(current)
        inherited = dict(base.get("pairs") or {})
        mined = {name: rows for name, rows in inherited.items() if name not in rewritten}
        mined.update({name: rows for name, rows in self.mined.items() if rows})
        put(self.node, self.url, COUNTS_ROW + new, term_counts.pack(occurrences))
        row = {"manifest": manifest.__dict__, "glossary": glossary, "pairs": mined, "cluster_format": CLUSTER_FORMAT,
               "longest": _longest(rebuild, base.get("longest"), self.longest),
               "pieces": merged_pieces(base.get("pieces") or {}, self.pieces),
               "top_terms": term_counts.top_terms(occurrences)}
        put(self.node, self.url, VOCABULARY_ROW + new, sorted(vocabulary, key=lambda t: t.encode("utf-8")))
        put(self.node, self.url, GEN_ROW + new, {**row, "readings": readings_body(self._readings(new, row))})
        put(self.node, self.url, POINTER_ROW, {"live": new})  # the publish
        self._after_publish(new)
        return {**counts, **_totals(manifest)}

    def _after_publish(self, new: int) -> None:
        """Mark the lexicon clean and delete what generation ``new``
        replaced. Neither decides an answer, and the next reindex does both
        (`lexicon.recover` reads versions against the live generation,
        `_clean` any rows dead before it): a node lost here is a notice,
        not an error. It was exit 2 while the new content answered (probe)."""
        try:
            lexicon.published(self.node, self.url)
            self._clean(new)
        except ClusterError as exc:
            self.notices.append(f"published generation {new}, but tidying up after it stopped ({exc}); "
                                "the next reindex finishes it")

    def _readings(self, generation: int, row: dict) -> dict[str, list[str]]:
        """The glossary's surfaces read as queries of the written, not yet
        published, generation (its ``row`` still to be put) read them
        (`glossary.readings`)."""
        from .reader import SphinxIndex

        view = SphinxIndex(self.url, generation, row)
        try:
            return readings(row["glossary"] or {}, view.typed_terms)
        finally:
            view.close()

    def _counts(self, current: int, rebuild: bool, previous: Manifest, replaced: dict[int, list[int]],
                added: term_counts.Counts) -> term_counts.Counts:
        """The new generation's term counts: the added documents', plus
        the previous generation's less those of the replaced documents
        (read from their spans); a cluster written before counts were
        kept has its kept documents counted instead."""
        if rebuild:
            return term_counts.merged(added)
        stored = get(self.node, self.url, COUNTS_ROW + current)
        if stored:
            gone = term_counts.empty()
            for shard, ids in replaced.items():
                for spans in self.shards[shard].spans(ids):
                    term_counts.add_spans(gone, spans)
            negated = {name: Counter({t: -n for t, n in found.items()}) for name, found in gone.items()}
            return term_counts.merged(term_counts.unpack(stored), added, negated)
        dropped = {(shard, doc) for shard, ids in replaced.items() for doc in ids}
        kept: dict[int, list[int]] = {}
        for entry in previous.posts.values():
            for shard, doc in entry.get("docs", []):
                if (shard, doc) not in dropped:
                    kept.setdefault(shard, []).append(doc)
        base = term_counts.empty()
        for shard, ids in kept.items():
            for spans in self.shards[shard].spans(ids):
                term_counts.add_spans(base, spans)
        return term_counts.merged(base, added)

    def _live_row(self, current: int) -> dict:
        """The live generation's row ({} before the first reindex), read
        once: with every post's mined pairs it reaches megabytes."""
        if current not in self._rows:
            self._rows[current] = (get(self.node, self.url, GEN_ROW + current) if current else None) or {}
        return self._rows[current]

    def _live_manifest(self, current: int) -> Manifest:
        found = self._live_row(current)
        data = found["manifest"] if found else {"format": FORMAT, "analyzer": "", "kiwi": "", "posts": {}}
        return Manifest(data["format"], data["analyzer"], data["kiwi"], dict(data["posts"]))

    def _write(self, new: int, papers: list[Paper], glossary: dict | None, progress: Progress | None,
               replaced: dict[int, list[int]]) -> tuple[dict, dict, dict, term_counts.Counts]:
        """Analyse the papers (and the glossary, when it changed) in one
        stream, insert each paper's document into its shard in batches and
        count word forms' readings, the ``replaced`` documents' taken away
        (`readings`). Returns each post's field-length totals, each
        post's (shard, id) list, the analysed glossary and each section's
        term counts."""
        texts = [section_text(paper, name) for paper in papers for name in TEXT_FIELDS]
        surfaces = glossary_surfaces() if glossary is None else []
        self.mined: dict[str, list] = {}  # each post's term pairs (see `pairs`), for the generation's row
        analysed = analyse_stream(texts + surfaces)
        width = len(TEXT_FIELDS)
        lengths: dict[str, dict[str, int]] = {}
        docs: dict[str, list[list[int]]] = {}
        pending = _Batches()
        counts = term_counts.empty()
        words = Lexicon(Path(":memory:"))  # counts readings and the bound `longest`; writes nothing (`pending`)
        try:
            for shard, ids in replaced.items():
                words.remove(self.shards[shard].texts(ids))
            for i, paper in enumerate(papers):
                fields, own = [next(analysed) for _ in range(width)], texts[i * width : (i + 1) * width]
                doc = (new << 32) | (i + 1)
                shard = shard_of(paper.arxiv_id, len(self.shards))
                row, size = _encoded(_row(doc, new, paper, fields, own), paper)
                if pending.full(shard, size):
                    self._insert(shard, pending.take(shard))
                pending.add(shard, row, size)
                docs.setdefault(paper.post, []).append([shard, doc])
                count_lengths(lengths.setdefault(paper.post, {}), fields, own)
                words.add(zip(own, fields))
                self.mined.setdefault(paper.post, []).extend(
                    [list(p.ko_terms), p.ko_text, list(p.en_terms), p.en_text] for p in pairs.mine_fields(own, fields))
                for name, terms in zip(TEXT_FIELDS, fields):
                    counts[name].update(t.text for t in terms)  # GAP too: the directory's top terms scan it
                if progress and (i % 16 == 15 or i + 1 == len(papers)):
                    progress("analysing papers", i + 1, len(papers))
            for shard in list(pending.rows):
                self._insert(shard, pending.take(shard))
            if surfaces:
                glossary = glossary_body(surfaces, list(analysed))
            self.longest = words.longest()  # of the added posts' words and terms (a new table measures all)
            self.readings, self.pieces = words.pending()
        finally:
            words.close()
        return lengths, docs, glossary or {}, counts

    def _insert(self, shard: int, rows: list[str]) -> None:
        """One INSERT of encoded rows (`_encoded`) into a shard's replicas."""
        target = self.shards[shard]
        target.execute(f"INSERT INTO {target.index} ({', '.join(COLUMNS)}) VALUES {', '.join(rows)}")

    def _clean(self, new: int) -> None:
        """Delete rows dead before the new generation, and old manifests
        (the previous generation stays for readers still on it)."""
        for shard in self.shards:
            shard.on_every_replica(f"died < {new}", shard.delete)
        old = [int(r[0]) for r in self.node.rows(
            f"SELECT id FROM {self.url.meta} WHERE id >= {GEN_ROW} AND id < {GEN_ROW + new - 1} LIMIT 1000")]
        old += [int(r[0]) for r in self.node.rows(
            f"SELECT id FROM {self.url.meta} WHERE id >= {VOCABULARY_ROW} AND id < {VOCABULARY_ROW + new - 1} "
            "LIMIT 1000")]
        old += [int(r[0]) for r in self.node.rows(
            f"SELECT id FROM {self.url.meta} WHERE id >= {COUNTS_ROW} AND id < {COUNTS_ROW + new} LIMIT 1000")]
        old += meta_pieces(self.node, self.url, old)
        for start in range(0, len(old), 1000):
            chunk = ",".join(map(str, old[start : start + 1000]))
            self.node.execute(f"DELETE FROM {self.url.meta} WHERE id IN ({chunk})")


def _row(doc: int, new: int, paper: Paper, fields: list[list[Term]], own: list[str]) -> tuple:
    """One document: encoded terms per section, the arXiv id, the
    generation marks, and what the reader needs (spans, texts)."""
    spans, texts = {}, {}
    for name, terms, text in zip(TEXT_FIELDS, fields, own):
        if not text:
            continue
        words, numbers = pack_spans(terms)
        spans[name] = [words, base64.b64encode(numbers).decode("ascii")]
        texts[name] = text
    encoded = [field_text(terms) if text else "" for terms, text in zip(fields, own)]
    sizes = [indexing.field_length(terms) if text else 0 for terms, text in zip(fields, own)]
    lengths = [int(quantised_length(n)) for n in (sum(sizes), *sizes)]  # LENGTH_COLUMNS' order
    return (doc, *encoded, encode(paper.arxiv_id), new, FOREVER, int(paper.date.replace("-", "")), *lengths,
            paper.arxiv_id, paper.post, paper.date, paper.url, _json(spans), _json(texts))


class _Batches:
    """Each shard's encoded rows (`_encoded`) waiting for its next INSERT,
    with their bytes: a statement ends at `BATCH_DOCS` rows or before it
    would pass `STATEMENT_BYTES`."""

    def __init__(self) -> None:
        self.rows: dict[int, list[str]] = {}
        self._bytes: dict[int, int] = {}

    def full(self, shard: int, size: int) -> bool:
        """Whether a row of ``size`` bytes must wait for the next statement."""
        held = self.rows.get(shard)
        return bool(held) and (len(held) >= BATCH_DOCS or self._bytes[shard] + size > STATEMENT_BYTES)

    def add(self, shard: int, row: str, size: int) -> None:
        self.rows.setdefault(shard, []).append(row)
        self._bytes[shard] = self._bytes.get(shard, 0) + size

    def take(self, shard: int) -> list[str]:
        self._bytes[shard] = 0
        return self.rows.pop(shard, [])


def _encoded(row: tuple, paper: Paper) -> tuple[str, int]:
    """The row as an INSERT writes it, with its size in bytes (exact only
    where it matters: the estimate, 3 bytes a character, only sizes batches)."""
    text = values([row])
    size = len(text) * 3
    if size > min(STATEMENT_BYTES, ROW_BYTES):
        size = len(text.encode("utf-8"))
        if size > ROW_BYTES:
            raise ClusterError(f"{paper.post}: paper {paper.arxiv_id} is too large for a cluster node: its document "
                               f"is {size:,} bytes, a node takes {ROW_BYTES:,} at most; nothing was published")
    return text, size


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _totals(manifest: Manifest) -> dict[str, int]:
    entries, papers = manifest.counts()
    return {"entries": entries, "papers": papers}


def _longest(rebuild: bool, before: int | None, added: int | None) -> int | None:
    """The lexicon's bound (`Lexicon.longest`) for the new generation: the
    larger of the previous bound and the added posts' (an upper bound is all
    `segment` needs: a removed post's long word may leave it high); unknown
    (None) when the previous generation never measured its words."""
    if rebuild:
        return added
    return None if before is None or added is None else max(before, added)
