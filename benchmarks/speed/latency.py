"""In-process query latency of papersearch, tantivy and bm25s, as one process.

A long-lived caller (a server, a notebook) pays only for the search, so
this opens the index once, runs every query once to warm caches (and
records whether that made papersearch load Kiwi), then times ``ROUNDS``
passes over the queries: ``index.search(q, limit=10)`` with its top 10 and
highlights. tantivy and bm25s index the same entries fed the same Kiwi
terms (`searchkit.analysis.analyse_many`), so the comparison is between
engines, not analysers; their queries are analysed with Kiwi beforehand
and the timed part is building the OR query, searching and fetching the
10 ids. Prints JSON.

    python benchmarks/speed/latency.py INDEX CORPUS QUERY...
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import searchkit
from searchkit import analysis
from searchkit.corpus import find_posts, parse_post
from searchkit.schema import TEXT_FIELDS

ROUNDS = 5
CHUNK = 4096
"""Texts per Kiwi batch: enough to keep both workers busy, small enough
that the Term objects of a 50k corpus never all live at once."""


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: a value that was actually measured."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def timed(search: Callable[[str], object], queries: list[str]) -> dict:
    """``ROUNDS`` passes over the queries, in milliseconds."""
    samples = []
    for _ in range(ROUNDS):
        for query in queries:
            started = time.perf_counter()
            search(query)
            samples.append((time.perf_counter() - started) * 1000)
    per_query = {q: round(sorted(samples[i :: len(queries)])[ROUNDS // 2], 2) for i, q in enumerate(queries)}
    return {"p50_ms": percentile(samples, 0.5), "p95_ms": percentile(samples, 0.95), "per_query_ms": per_query}


def papersearch(index_dir: str, queries: list[str]) -> dict:
    with searchkit.open_index(index_dir) as index:
        for query in queries:
            index.search(query, limit=10)
        result = timed(lambda q: [hit.highlights for hit in index.search(q, limit=10)], queries)
    return {**result, "kiwi_loaded": getattr(analysis, "_kiwi", None) is not None}


def entries(corpus: str) -> tuple[list[str], list[list[str]]]:
    """Every indexed paper entry: its id and its fields' terms, space-joined."""
    paths, _ = find_posts(Path(corpus))
    papers = [p for path in paths for p in parse_post(path).papers]
    texts = [p.title if f == "title" else p.sections.get(f, "") for p in papers for f in TEXT_FIELDS]
    joined = []
    for start in range(0, len(texts), CHUNK):
        joined += [" ".join(t.text for t in terms) for terms in analysis.analyse_many(texts[start : start + CHUNK])]
    width = len(TEXT_FIELDS)
    return [p.arxiv_id for p in papers], [joined[i : i + width] for i in range(0, len(joined), width)]


def with_tantivy(ids: list[str], fields: list[list[str]]) -> Callable[[list[str]], list[str]]:
    """A RAM tantivy index, one whitespace-tokenised field per section; the
    raw ``arxiv_id`` field is searched too, as papersearch looks ids up."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("arxiv_id", stored=True, tokenizer_name="raw")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace")
    schema = builder.build()
    index = tantivy.Index(schema)
    writer = index.writer(256_000_000, 2)
    for arxiv_id, texts in zip(ids, fields):
        writer.add_document(tantivy.Document(arxiv_id=arxiv_id, **dict(zip(TEXT_FIELDS, texts))))
    writer.commit()
    index.reload()
    searcher = index.searcher()
    searched = ("arxiv_id", *TEXT_FIELDS)

    def search(terms: list[str]) -> list[str]:
        should = [(tantivy.Occur.Should, tantivy.Query.term_query(schema, f, t)) for f in searched for t in terms]
        hits = searcher.search(tantivy.Query.boolean_query(should), 10).hits
        return [searcher.doc(address)["arxiv_id"][0] for _, address in hits]

    return search


def with_bm25s(ids: list[str], fields: list[list[str]]) -> Callable[[list[str]], list[str]]:
    """bm25s over each entry's terms, all sections as one bag."""
    import bm25s

    model = bm25s.BM25()
    model.index([" ".join(texts).split() for texts in fields], show_progress=False)

    def search(terms: list[str]) -> list[str]:
        found, scores = model.retrieve([terms], k=10, show_progress=False)
        return [ids[i] for i, score in zip(found[0], scores[0]) if score > 0]

    return search


def baselines(corpus: str, queries: list[str]) -> dict:
    """tantivy and bm25s on the same terms; a missing one is skipped."""
    out: dict = {}
    ids, fields = entries(corpus)
    analysed = {q: list(dict.fromkeys(t.text for t in analysis.analyse(q))) for q in queries}
    for name, make in (("tantivy", with_tantivy), ("bm25s", with_bm25s)):
        try:
            started = time.perf_counter()
            search = make(ids, fields)
        except ImportError:
            out[name] = {"skipped": f"{name} is not installed: pip install -e '.[bench]'"}
            continue
        build_s = time.perf_counter() - started
        out[name] = {**timed(lambda q, s=search: s(analysed[q]), queries), "build_s": round(build_s, 2)}
    return out


def main() -> None:
    """``latency.py INDEX CORPUS [--no-baselines] QUERY…``: without the
    baselines (whose Kiwi analysis of a 200k corpus takes as long as a
    reindex) only papersearch is timed."""
    index_dir, corpus, *queries = sys.argv[1:]
    skip = "--no-baselines" in queries
    queries = [q for q in queries if q != "--no-baselines"]
    result = {"papersearch": papersearch(index_dir, queries)}
    if skip:
        result.update({name: {"skipped": "not run above run.py --baselines-up-to"} for name in ("tantivy", "bm25s")})
    else:
        result.update(baselines(corpus, queries))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
