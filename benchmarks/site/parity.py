"""The page's top 10 against the library's for every judged query.

    python benchmarks/site/parity.py --index INDEX [--queries FILE] [--json]

Exports the index, serves it on loopback, types each query of
benchmarks/quality/queries.json into the page in headless Chromium, and
compares the ranked arXiv ids with `Index.search` on the same index.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import searchkit  # noqa: E402
from tests.site_harness import drive, missing, query_step, serve  # noqa: E402

QUERIES = REPO / "benchmarks" / "quality" / "queries.json"


def parity(index: Path, queries: list[dict], site: Path | None = None) -> list[dict]:
    """One row per query: its id, the library's ids, the page's, and whether they agree."""
    with tempfile.TemporaryDirectory() as tmp:
        out = site or Path(tmp) / "site"
        if site is None:
            searchkit.export_site(index, out)
        with searchkit.open_index(index) as opened:
            expected = [[h.arxiv_id for h in opened.search(q["query"], sections=q.get("sections"))] for q in queries]
        with serve(out) as url:
            answer = drive(url, [query_step(q) for q in queries])
    rows = []
    for q, want, got in zip(queries, expected, answer["answers"]):
        rows.append({"id": q["id"], "query": q["query"], "library": want, "page": got.get("ids"),
                     "same": want == got.get("ids"), "error": got.get("error")})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--site", type=Path, help="an export of the index (default: export to a temp dir)")
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if (reason := missing()) is not None:
        sys.exit(f"cannot drive the page: {reason}")
    rows = parity(args.index, json.loads(args.queries.read_text(encoding="utf-8")), args.site)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    for row in rows:
        if not row["same"]:
            print(f"{row['id']} {row['query']!r}\n  library {row['library']}")
            print(f"  page    {row['page']} {row['error'] or ''}")
    print(f"{sum(r['same'] for r in rows)}/{len(rows)} queries: the page's top 10 equals the library's")


if __name__ == "__main__":
    main()
