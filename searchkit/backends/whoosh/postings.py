"""Whoosh's postings read whole: a term's posting blocks into numpy
arrays, with statistics of the live documents (see `Postings`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield

from ... import bm25
from ...bm25 import LENGTHS
from ...scoring import DensePostings


class Damaged(Exception):
    """Index data read directly (not through Whoosh) is inconsistent."""


class Postings(DensePostings):
    """Term → (docnums, BM25F scores) over every segment of one reader.

    The statistics are the live documents' own, never Whoosh's: Whoosh
    counts a deleted document in N and in every df until its segment is
    rewritten, and a merge rounds field-length totals to each document's
    length byte, so the same corpus would score differently after a full
    and an incremental build. Here N counts live documents, df live
    postings, and average lengths come from the exact per-post totals in
    the manifest (``field_totals``): scores depend on the corpus alone.
    """

    def __init__(self, reader: Any, k1: float, b: float, field_totals: Mapping[str, int]) -> None:
        self._reader = reader
        self._k1, self._b = k1, b
        self._leaves = list(reader.leaf_readers())
        self.size = reader.doc_count_all()
        self.count = reader.doc_count()
        """Live documents: N in the idf."""
        self._totals = field_totals
        self._lengths: dict[str, np.ndarray] = {}
        self._live: np.ndarray | None = None
        self._df: dict[tuple[str, str], int] = {}

    def live(self) -> np.ndarray:
        """Documents not deleted by an incremental reindex."""
        if self._live is None:
            live = np.ones(self.size, dtype=bool)
            for reader, offset in self._leaves:
                dead = list(reader.deleted_docs_set) if reader.has_deletions() else []
                live[np.asarray(dead, dtype=np.int64) + offset] = False
            self._live = live
        return self._live

    def df(self, field: str, term: str) -> int:
        """Live documents holding the term. Whoosh's count is exact when
        nothing is deleted, and an upper bound otherwise, so only then are
        the postings read (and only while the bound could be wrong)."""
        key = (field, term)
        if key not in self._df:
            found = self._reader.doc_frequency(field, term)
            deleted = self.size - self.count
            if deleted and found:
                found = len(self.read(field, term)[0])
            self._df[key] = found
        return self._df[key]

    def idf(self, field: str, term: str) -> float:
        """Whoosh's BM25 idf over live documents (see `backends.bm25`)."""
        return bm25.idf(self.count, self.df(field, term))

    def average(self, field: str) -> float:
        """The field's average length over live documents (1 when empty)."""
        return bm25.average(self._totals.get(field, 0), self.count)

    def lengths(self, field: str) -> np.ndarray:
        """Every document's length in ``field``, as Whoosh's scorer sees it."""
        if field not in self._lengths:
            out = np.zeros(self.size, dtype=np.float64)
            for reader, offset in self._leaves:
                out[offset : offset + reader.doc_count_all()] = _segment_lengths(reader, field)
            self._lengths[field] = out
        return self._lengths[field]

    def read(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Global docnums and weights of the term's live postings."""
        ids, weights = [], []
        for reader, offset in self._leaves:
            if (field, term) not in reader:
                continue
            for block_ids, block_weights in _blocks(reader.postings(field, term)):
                ids.append(block_ids + offset)
                weights.append(block_weights)
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        docs, found = np.concatenate(ids), np.concatenate(weights)
        keep = self.live()[docs]
        return docs[keep], found[keep]

    def within(self, field: str, low: str | None, high: str | None) -> np.ndarray:
        """Documents whose ``field`` (an exact field such as ``date``) lies
        in the inclusive range."""
        inside = np.zeros(self.size, dtype=bool)
        for value in self._reader.field_terms(field):
            if (low is None or value >= low) and (high is None or value <= high):
                inside[self.read(field, value)[0]] = True
        return inside

    def term(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Docnums and Whoosh's BM25F score of the term in each."""
        docs, tf = self.read(field, term)
        if not len(docs):
            return docs, tf
        if not self._reader.schema[field].scorable:  # ids: Whoosh scores the raw weight
            return docs, tf
        lengths = self.lengths(field)[docs]
        return docs, bm25.term_scores(tf, lengths, self.idf(field, term), self.average(field), self._k1, self._b)

    def components(self, field: str, term: str, doc: int) -> tuple[float, float, float, float, float]:
        """(tf, idf, length, average, score) of the term in one document,
        the parts `term` multiplies out, for explaining a score."""
        docs, tf = self.read(field, term)
        if not self._reader.schema[field].scorable:
            freq = float(tf[docs == doc].sum())
            return freq, 1.0, 0.0, 0.0, freq
        idf, length, average = self.idf(field, term), float(self.lengths(field)[doc]), self.average(field)
        return bm25.component(docs, tf, doc, idf, length, average, self._k1, self._b)



def _segment_lengths(reader: Any, field: str) -> np.ndarray:
    """One segment's length bytes for ``field``, read in one slice."""
    count = reader.doc_count_all()
    out = np.zeros(count, dtype=np.float64)
    if not count:  # an empty index's reader (Whoosh's EmptyReader) has no columns to read
        return out
    column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is None:
        return out
    raw = column._dbfile.get(column._basepos, column._count * column._fixedlen)
    if len(raw) != column._count * column._fixedlen:
        raise Damaged(f"the length column of {field!r} is truncated")
    codes = np.frombuffer(raw, dtype=np.uint8)[:count]
    out[: len(codes)] = LENGTHS[codes]
    return out


def _blocks(matcher: Any) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """A term's postings as (local docnums, weights), one block at a time.

    Deletions are filtered by the caller, so a filtering wrapper is peeled
    off; Whoosh's block reader is read block by block, anything else (an
    inlined single posting) posting by posting.
    """
    matcher = getattr(matcher, "child", matcher)
    if not isinstance(matcher, W3LeafMatcher):
        pairs = []
        while matcher.is_active():
            pairs.append((matcher.id(), matcher.weight()))
            matcher.next()
        if pairs:
            ids, weights = zip(*pairs)
            yield np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)
        return
    while matcher.is_active():
        matcher._read_data()
        deltas, weights = matcher._data[0], matcher._data[1]
        ids = np.cumsum(np.asarray(deltas, dtype=np.int64))  # each block restarts its deltas at 0
        if weights is None:
            weights = np.ones(len(ids))
        elif isinstance(weights, float):
            weights = np.full(len(ids), weights)
        else:
            weights = np.asarray(weights, dtype=np.float32).astype(np.float64)
        yield ids, weights
        matcher._next_block()
