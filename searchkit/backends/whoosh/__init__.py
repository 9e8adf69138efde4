"""The Whoosh directory backend, the embedded default: `writer` (reindex
into a new generation, published atomically), `bulkwriter` (Whoosh
segments written a term at a time), `schema` (fields and the analyzer
adapter), `postings` (posting blocks read whole into numpy) and `index`
(`WhooshIndex`, the engine's primitives over one generation)."""

from ... import whoosh_lean  # noqa: F401 - before any module of this package imports Whoosh
