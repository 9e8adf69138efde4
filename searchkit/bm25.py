"""Whoosh's BM25F, as pure functions of statistics a backend gathers.

The directory backend computes these inside `scoring.Postings` from
Whoosh's own files; the cluster backend gathers the same statistics from
every shard (N and df as live counts, field-length totals from the
manifest, per-document lengths and term frequencies from stored spans) and
calls these, so both rank with one formula.
"""

from __future__ import annotations

import math

import numpy as np

from . import whoosh_lean  # noqa: F401 - first: Whoosh without the modules it never uses

# isort: split
from whoosh.util.numeric import byte_to_length, length_to_byte

LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
"""Whoosh stores a field's length as one byte; this decodes all 256."""


def quantised_length(length: int) -> float:
    """A field length as Whoosh's scorer sees it: rounded through one byte."""
    return float(LENGTHS[length_to_byte(length)]) if length else 0.0


def idf(count: int, df: int) -> float:
    """Whoosh's BM25 idf over live documents: log(N / (df + 1)) + 1."""
    return math.log(count / (df + 1)) + 1


def average(total: int, count: int) -> float:
    """A field's average length over live documents (1 when empty)."""
    return (total / count if count else 0) or 1


def term_scores(tf: np.ndarray, lengths: np.ndarray, idf_value: float, average_length: float,
                k1: float, b: float) -> np.ndarray:
    """BM25 of one term in each document: idf · tf(k1+1) / (tf + k1(1 − b + b·L/avg)),
    ``lengths`` already quantised (`quantised_length`)."""
    norm = k1 * ((1 - b) + b * lengths / average_length)
    return idf_value * (tf * (k1 + 1)) / (tf + norm)


def component(docs: np.ndarray, tf: np.ndarray, doc: int, idf_value: float, length: float, average_length: float,
              k1: float, b: float) -> tuple[float, float, float, float, float]:
    """(tf, idf, length, average, score) of one term in document ``doc``,
    given the term's postings (``docs`` with their ``tf``): each part of a
    score as `--explain` shows it."""
    found = np.flatnonzero(docs == doc)
    freq = float(tf[found[0]]) if len(found) else 0.0
    score = float(term_scores(np.array([freq]), np.array([length]), idf_value, average_length, k1, b)[0])
    return freq, idf_value, length, average_length, score if freq else 0.0
