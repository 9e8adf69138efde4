"""SQLite FTS5 baseline for the whole-process query time.

The cheapest full-text search a Python user can reach for: the standard
library's sqlite3, one FTS5 column per section, the unicode61 tokenizer and
bm25() ranking. ``query`` is what a tiny search script does: open the
prebuilt file, match, print the top 10 with a snippet. It imports nothing
else, so its time is the floor for a query process.

    python benchmarks/speed/fts5.py build CORPUS DB
    python benchmarks/speed/fts5.py query DB TEXT
"""

from __future__ import annotations

import re
import sqlite3
import sys

FIELDS = ("title", "goal", "motivation", "contribution", "method", "results", "limitations", "conclusion")
_PART = re.compile(r'"([^"]*)"|([^\s"]+)')


def match_expression(text: str) -> str:
    """The query's words and quoted phrases OR-ed, each quoted so no user
    text is read as FTS5 syntax."""
    parts = [phrase or word for phrase, word in _PART.findall(text)]
    return " OR ".join('"' + p.replace('"', '""') + '"' for p in parts if p.strip())


def query(db_path: str, text: str) -> None:
    db = sqlite3.connect(db_path)
    rows = db.execute(
        "SELECT arxiv_id, title, snippet(papers, -1, '**', '**', '…', 16) FROM papers"
        " WHERE papers MATCH ? ORDER BY rank LIMIT 10",
        (match_expression(text),),
    )
    for rank, (arxiv_id, title, snippet) in enumerate(rows, 1):
        print(f"{rank}. {title}\n   https://arxiv.org/abs/{arxiv_id}\n   {snippet}")


def build(corpus: str, db_path: str) -> None:
    """One row per paper entry, from the same parser papersearch uses."""
    from pathlib import Path

    from searchkit.corpus import find_posts, parse_post

    Path(db_path).unlink(missing_ok=True)
    db = sqlite3.connect(db_path)
    db.execute(f"CREATE VIRTUAL TABLE papers USING fts5(arxiv_id UNINDEXED, {', '.join(FIELDS)}, tokenize='unicode61')")
    paths, _ = find_posts(Path(corpus))
    rows = (
        (p.arxiv_id, p.title, *(p.sections.get(name, "") for name in FIELDS[1:]))
        for path in paths
        for p in parse_post(path).papers
    )
    db.executemany(f"INSERT INTO papers VALUES ({', '.join('?' * (len(FIELDS) + 1))})", rows)
    db.execute("INSERT INTO papers(papers) VALUES ('optimize')")
    db.commit()
    db.close()


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"build": build, "query": query}[command](*args)
