"""Budgets of the static page, measured in headless Chromium.

    python benchmarks/site/budget.py --index INDEX [--site DIR] [--json]

- bytes downloaded for the first query after load (page, scripts, styles
  and data, each file counted gzipped, as a static host serves it), with
  an empty browser cache, for "확산 모델" and a few more first queries;
- the export's total size, raw and gzipped;
- time from the last keystroke of a typed query to its results drawn,
  with the page loaded and warmed by one query (median and worst of the
  first 20 judged queries), then the same 20 again with their shards in
  the browser's memory (the cost of the analysis, ranking and drawing).
  The page is typed into over the bare DevTools protocol (typing.mjs), as
  a reader's browser runs it with nothing attached; the same 20 typed
  under Playwright, which watches every request and so makes each fetch
  about three times dearer here, are printed beside for comparison.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import searchkit  # noqa: E402
from tests.site_harness import drive, missing, serve, type_queries  # noqa: E402

BYTES_BUDGET = ((738, 150_000), (50_000, 300_000))
"""(entries, gzipped bytes of the first query): the issue's budgets, at 738 and at 50,000 papers."""
KEYSTROKE_BUDGET_MS = 50
"""Last keystroke to results drawn, median, at 738 papers (the issue sets none at 50,000)."""
FIRST_QUERIES = ["확산 모델", "강화 학습 보상", '"대형 언어 모델" 추론', "2510.00515"]
QUERIES = REPO / "benchmarks" / "quality" / "queries.json"
ENGINE = """(async () => { const s = await import('./searcher.js'); const out = [];
  for (const q of %s) {
    await s.search(q); const t = performance.now(); await s.search(q); out.push(performance.now() - t);
  }
  return out; })()"""
"""searcher.js `search` alone, its shards cached: analysis, ranking and highlights without the page."""


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), 6))


def first_query_bytes(site: Path, url: str, query: str) -> dict:
    """Every file the page fetched, from a cold cache, to load and answer ``query`` in full."""
    answer = drive(url, [{"type": "query", "q": query, "full": True}])
    paths = []
    for request in answer["requests"]:
        parts = urlsplit(request["url"])
        if parts.hostname != "127.0.0.1":
            continue
        local = site / unquote(parts.path).lstrip("/")
        paths.append(local / "index.html" if local.is_dir() else local)
    unique = list(dict.fromkeys(paths))
    return {"query": query, "files": len(unique), "gzip_bytes": sum(gzipped(p) for p in unique if p.is_file()),
            "raw_bytes": sum(p.stat().st_size for p in unique if p.is_file()),
            "stats": answer["answers"][0].get("stats")}


def measure(index: Path, site: Path | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = site or Path(tmp) / "site"
        if site is None:
            searchkit.export_site(index, out)
        files = [p for p in out.rglob("*") if p.is_file()]
        entries = json.loads((out / "data" / "meta.json").read_text(encoding="utf-8"))["count"]
        total = {"files": len(files), "bytes": sum(p.stat().st_size for p in files),
                 "gzip_bytes": sum(gzipped(p) for p in files)}
        queries = [q["query"] for q in json.loads(QUERIES.read_text(encoding="utf-8"))[:20]]
        with serve(out) as url:
            first = [first_query_bytes(out, url, q) for q in FIRST_QUERIES]
            typed = type_queries(url, queries)
            steps = [{"type": "query", "q": "모델"}] + [{"type": "latency", "q": q} for q in queries]
            engine = ENGINE % json.dumps(queries, ensure_ascii=False)
            watched = drive(url, steps + [{"type": "eval", "js": engine}])["answers"][1:]
            engine_ms = watched.pop()
        observed = [a["ms"] for a in watched if "ms" in a]
    return {"index": str(index), "entries": entries, "export": total, "first_query": first,
            "keystroke_to_results_ms": summary(typed["cold"]),
            "keystroke_to_results_cached_ms": summary(typed["warm"]),
            "keystroke_to_results_under_playwright_ms": summary(observed),
            "search_call_cached_ms": summary(engine_ms),
            "load_average": os.getloadavg()[0]}


def summary(ms: list[float]) -> dict:
    return {"median": statistics.median(ms), "max": max(ms), "n": len(ms)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--site", type=Path, help="an export of the index (default: export to a temp dir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if (reason := missing()) is not None:
        sys.exit(f"cannot drive the page: {reason}")
    result = measure(args.index, args.site)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    kib = 1024
    e = result["export"]
    mib = kib * kib
    print(f"export: {e['files']} files, {e['bytes'] / mib:.1f} MiB, {e['gzip_bytes'] / mib:.1f} MiB gzipped")
    papers = result["entries"]
    limit = BYTES_BUDGET[0][1] if papers <= BYTES_BUDGET[0][0] else BYTES_BUDGET[1][1]
    for f in result["first_query"]:
        print(f"first query {f['query']!r}: {f['gzip_bytes'] / kib:.0f} KiB gzipped in {f['files']} files "
              f"({f['stats']}); budget {limit // 1000} KB at {papers} entries: "
              f"{'met' if f['gzip_bytes'] <= limit else 'OVER'}")
    t = result["search_call_cached_ms"]
    print(f"searcher.js search() alone, shards cached: median {t['median']:.1f} ms, worst {t['max']:.1f} ms")
    kinds = (("keystroke_to_results_ms", "shards fetched"), ("keystroke_to_results_cached_ms", "shards cached"),
             ("keystroke_to_results_under_playwright_ms", "shards fetched, every request watched by Playwright"))
    for key, what in kinds:
        t = result[key]
        print(f"last keystroke → results drawn ({what}): median {t['median']:.1f} ms, worst {t['max']:.1f} ms "
              f"({t['n']} queries)")
    typed = result["keystroke_to_results_ms"]["median"]
    if papers <= BYTES_BUDGET[0][0]:
        print(f"keystroke budget {KEYSTROKE_BUDGET_MS} ms (median, shards fetched): "
              f"{'met' if typed <= KEYSTROKE_BUDGET_MS else 'OVER'}")
    else:
        print(f"keystroke budget {KEYSTROKE_BUDGET_MS} ms: set at {BYTES_BUDGET[0][0]} papers only")
    print(f"load average during the run: {result['load_average']:.1f}")


if __name__ == "__main__":
    main()
