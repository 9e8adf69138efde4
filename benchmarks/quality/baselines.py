"""Baseline rankers that the quality benchmark compares papersearch against.

Each baseline is what a user gets out of the box from a common search tool: one index
field per paper section, equal weights, plain BM25, multi-word queries OR-ed.

Baselines
    :func:`whoosh_default` (Whoosh StandardAnalyzer, BM25F), :func:`sqlite_fts5`
    (SQLite FTS5, unicode61 tokenizer, bm25()) and :func:`lucene_nori` (Lucene's
    Korean nori analyzer with BM25, as in Elasticsearch; runs NoriBaseline.java).
Helpers
    Query splitting and quoting, de-duplication of re-posted papers, Java plumbing.

Every baseline takes ``papers``, dicts with ``"arxiv_id"`` plus :data:`FIELDS`, and
returns, per query, up to ``limit`` distinct arXiv ids, best first. An id may occur in
several entries (papers re-posted on other days); it keeps its best rank. ``arxiv_id``
is stored, not searched: it is not a section.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from whoosh.analysis import StandardAnalyzer
from whoosh.fields import STORED, TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.scoring import BM25F

FIELDS = (
    "title",
    "goal",
    "motivation",
    "contribution",
    "method",
    "results",
    "limitations",
    "conclusion",
)

#: Where Debian's liblucene8-java puts its jars; the LUCENE_JAR_DIR variable overrides.
LUCENE_JAR_DIR = Path(os.environ.get("LUCENE_JAR_DIR", "/usr/share/java"))

#: The Lucene jars NoriBaseline.java needs, by name without version.
_LUCENE_JARS = (
    "lucene-core",
    "lucene-analyzers-common",
    "lucene-analyzers-nori",
    "lucene-queryparser",
)

_NORI_SOURCE = Path(__file__).with_name("NoriBaseline.java")

#: A double-quoted phrase or a run of other non-space characters; stray quotes are
#: dropped. NoriBaseline.java splits queries with the same pattern.
_QUERY_PART = re.compile(r'"([^"]*)"|([^\s"]+)')


# Exceptions


class BaselineUnavailable(Exception):
    """A baseline cannot run on this machine; the message says what to install."""


# Baselines


def whoosh_default(papers: list[dict], queries: list[str], limit: int = 10) -> list[list[str]]:
    """Rank with Whoosh's defaults: StandardAnalyzer fields, BM25F, MultifieldParser.

    Whoosh is the library papersearch builds on, so this shows what its Korean-specific
    analysis adds. StandardAnalyzer keeps Korean words whole, particles attached.
    The query goes through Whoosh's own syntax unescaped, as a user's would.

    :param papers: entries with ``"arxiv_id"`` and every field in :data:`FIELDS`.
    :param queries: query strings.
    :param limit: the most ids to return per query.
    """
    fields = {field: TEXT(analyzer=StandardAnalyzer()) for field in FIELDS}
    schema = Schema(arxiv_id=STORED, **fields)
    index = RamStorage().create_index(schema)
    with index.writer() as writer:
        for paper in papers:
            writer.add_document(**{name: paper[name] for name in schema.names()})
    # OrGroup: Whoosh ANDs terms by default, the other baselines OR them.
    parser = MultifieldParser(list(FIELDS), schema, group=OrGroup)
    results = []
    with index.searcher(weighting=BM25F()) as searcher:
        for query in queries:
            # limit=None: re-posted papers can fill the best `limit` hits with repeats.
            hits = searcher.search(parser.parse(query), limit=None)
            results.append(_distinct((hit["arxiv_id"] for hit in hits), limit))
    return results


def sqlite_fts5(papers: list[dict], queries: list[str], limit: int = 10) -> list[list[str]]:
    """Rank with SQLite FTS5: the unicode61 tokenizer, one column per field, bm25().

    SQLite is the zero-install option in Python's standard library. unicode61 splits on
    spaces and punctuation, so an arXiv id in a query is a phrase of its two numbers.
    Each query becomes an OR of quoted strings, so no user text is read as FTS5 syntax.

    :param papers: entries with ``"arxiv_id"`` and every field in :data:`FIELDS`.
    :param queries: query strings; double-quoted parts stay phrases.
    :param limit: the most ids to return per query.
    """
    with closing(sqlite3.connect(":memory:")) as db:
        columns = ", ".join(FIELDS)
        db.execute(f"CREATE VIRTUAL TABLE papers USING fts5(arxiv_id UNINDEXED, {columns}, tokenize='unicode61')")
        placeholders = ", ".join("?" * (len(FIELDS) + 1))
        db.executemany(f"INSERT INTO papers VALUES ({placeholders})", map(_row, papers))
        results = []
        for query in queries:
            match = " OR ".join(_fts5_string(part) for part in _query_parts(query))
            if not match:  # FTS5 rejects an empty MATCH
                results.append([])
                continue
            rows = db.execute(
                "SELECT arxiv_id FROM papers WHERE papers MATCH ? ORDER BY bm25(papers)",
                (match,),
            )
            results.append(_distinct((row[0] for row in rows), limit))
        return results


def lucene_nori(papers: list[dict], queries: list[str], limit: int = 10) -> list[list[str]]:
    """Rank with Lucene's Korean nori analyzer and BM25, the Elasticsearch setup.

    nori is the morphological analyzer most Korean search deployments use, so it is
    the baseline papersearch's Korean analysis must beat. NoriBaseline.java indexes and
    searches; it is compiled once into a cache directory under the temp dir.

    :param papers: entries with ``"arxiv_id"`` and every field in :data:`FIELDS`.
    :param queries: query strings; double-quoted parts stay phrases.
    :param limit: the most ids to return per query.
    :raises BaselineUnavailable: if java, javac or Debian's Lucene jars are missing.
    """
    _require_java()
    jars = _lucene_jars()
    classpath = os.pathsep.join(map(str, [_compile_nori(jars), *jars]))
    with tempfile.TemporaryDirectory(prefix="nori-baseline-") as tmp:
        papers_tsv, queries_txt = Path(tmp, "papers.tsv"), Path(tmp, "queries.txt")
        rows = [["arxiv_id", *FIELDS], *map(_row, papers)]
        _write_lines(papers_tsv, ("\t".join(map(_tsv_escape, row)) for row in rows))
        _write_lines(queries_txt, map(_tsv_escape, queries))
        args = [papers_tsv, queries_txt, limit]
        output = subprocess.run(
            ["java", "-cp", classpath, "NoriBaseline", *map(str, args)],
            check=True,
            stdout=subprocess.PIPE,
            encoding="utf-8",
        ).stdout
    lines = output.split("\n")[: len(queries)]
    return [line.split("\t") if line else [] for line in lines]


# Helpers


def _query_parts(query: str) -> list[str]:
    """Split a query into its quoted phrases and bare words, dropping empty phrases."""
    return [phrase or word for phrase, word in _QUERY_PART.findall(query) if (phrase or word).strip()]


def _row(paper: dict) -> list[str]:
    """The id, then the fields in :data:`FIELDS` order."""
    return [paper["arxiv_id"], *(paper[field] for field in FIELDS)]


def _fts5_string(text: str) -> str:
    """Quote text as an FTS5 string, which FTS5 matches as a phrase of its tokens."""
    return '"' + text.replace('"', '""') + '"'


def _distinct(ids: Iterable[str], limit: int) -> list[str]:
    """Keep the first (best-ranked) occurrence of each id, up to ``limit`` ids."""
    distinct: list[str] = []
    for arxiv_id in ids:
        if len(distinct) >= limit:
            break
        if arxiv_id not in distinct:
            distinct.append(arxiv_id)
    return distinct


def _tsv_escape(value: str) -> str:
    """Escape a value for NoriBaseline.java's line- and tab-separated input."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as file:
        file.writelines(line + "\n" for line in lines)


def _lucene_jars() -> list[Path]:
    """Find each Lucene jar (the last version by name), or say which package has them."""
    jars = []
    for name in _LUCENE_JARS:
        found = sorted(LUCENE_JAR_DIR.glob(f"{name}-[0-9]*.jar"))
        if not found:
            raise BaselineUnavailable(
                f"{name} jar not found in {LUCENE_JAR_DIR}:"
                " apt-get install liblucene8-java"
                " (or run benchmarks/quality/install_baselines.sh)"
            )
        jars.append(found[-1])
    return jars


def _require_java() -> None:
    """Check for the JDK, or say which package provides it."""
    for tool in ("java", "javac"):
        if shutil.which(tool) is None:
            raise BaselineUnavailable(
                f"{tool} not found: apt-get install default-jdk-headless"
                " (or run benchmarks/quality/install_baselines.sh)"
            )


def _compile_nori(jars: list[Path]) -> Path:
    """Compile NoriBaseline.java once per source and jars; return the class folder."""
    source = _NORI_SOURCE.read_bytes()
    key = hashlib.sha256(source + "\0".join(map(str, jars)).encode()).hexdigest()[:16]
    classes = Path(tempfile.gettempdir(), f"papersearch-nori-{key}")
    if not (classes / "NoriBaseline.class").exists():
        # Build elsewhere and rename into place: concurrent runs never see half a build.
        build = Path(tempfile.mkdtemp(prefix="papersearch-nori-build-"))
        classpath = os.pathsep.join(map(str, jars))
        subprocess.run(["javac", "-d", str(build), "-cp", classpath, str(_NORI_SOURCE)], check=True)
        try:
            build.rename(classes)
        except OSError:  # another run got there first
            shutil.rmtree(build)
    return classes
