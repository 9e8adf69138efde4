"""The terminal side of `papersearch site` and `papersearch trend`: what
the CLI prints after an export, and the trend's bar chart."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from ..site.export import DEFAULT_POST_URL, SiteReport, export_site
from ..site.shards import shard_of

BAR = 40
"""Characters of the longest bar."""


SAMPLE = "확산 모델"
"""The first query whose download `run_site` estimates (benchmarks/site/budget.py's first)."""


def run_site(index_dir: Path, out_dir: Path, post_url: str | None, console: Any) -> SiteReport:
    """Export, then print what was written and its budget figures."""
    report = export_site(index_dir, out_dir, post_url=post_url or DEFAULT_POST_URL)
    kib = 1024
    first = first_query_bytes(index_dir, Path(report.out_dir), SAMPLE)
    estimate = f"a first query ({SAMPLE}) about {first / kib:.0f} KiB in all" if first else "a query adds its shards"
    console.print(
        f"wrote {report.out_dir}: {report.documents} entries, {report.papers} papers, {report.files} files, "
        f"{report.bytes / kib / kib:.1f} MiB ({report.gzip_bytes / kib / kib:.1f} MiB gzipped)",
        highlight=False, soft_wrap=True,
    )
    console.print(
        f"every visit loads {report.page_gzip_bytes / kib:.0f} KiB gzipped (page, scripts, styles, meta.json); "
        f"{estimate} (benchmarks/site/budget.py measures it in Chromium)",
        highlight=False, soft_wrap=True,
    )
    return report


def first_query_bytes(index_dir: Path, out: Path, query: str) -> int:
    """About what the page downloads, gzipped, to answer ``query`` after
    loading: itself, and the shards of the query's words, terms, synonyms
    and hits, found from the library's own answer (the page fetches the
    same files, and grams for phrases and neighbouring words, and the files
    of other candidates still in reach of the first page).
    0 when the lexicon does not know the query's words."""
    from ..backends import open_index

    data = out / "data"
    meta = json.loads((data / "meta.json").read_text(encoding="utf-8"))
    counts = meta["shards"]
    with open_index(index_dir) as index:
        words = query.split()
        spelt = words + [w.lower() for w in words]
        lexicon = index.export_source()["lexicon"]
        recorded = lexicon.lookup(spelt)
        if len(lexicon.lookup_whole(words)) < len(set(words)):
            return 0  # a word the lexicon cannot read: the page reads it by its stand-in, shards not counted here
        parsed = index.parse(query)
        hits = index.search(query, limit=10)
    files = data / meta["version"]  # every file but meta.json is under the export's version
    wanted = {p for p in out.iterdir() if p.is_file()} | {data / "meta.json", files / "len" / "all.bin"}
    wanted |= {files / "lex" / f"{shard_of(w, counts['lex'])}.json" for w in spelt}
    # a spelling not recorded is looked up among the verb forms
    wanted |= {files / "form" / f"{shard_of(w, counts['form'])}.json" for w in spelt if w not in recorded}
    for term in {t for part in parsed.parts for alt in part.alternatives for t in alt}:
        shard = files / "dict" / f"{shard_of(term, counts['dict'])}.json"
        wanted.add(shard)
        for row in json.loads(shard.read_text(encoding="utf-8")).get(term, []):
            if isinstance(row, list) and meta["fields"][row[0]] == "all":
                group, file = row[3], row[4]
                wanted.add(files / "post" / group / f"{file}.bin")
    for hit in hits:
        ids = json.loads((files / "ids" / f"{shard_of(hit.arxiv_id, counts['ids'])}.json").read_text(encoding="utf-8"))
        doc = ids[hit.arxiv_id][0][0]
        wanted.add(files / "doc" / str(doc // meta["bucket"]) / f"{doc}.json")
    return sum(len(gzip.compress(p.read_bytes(), 6)) for p in wanted if p.is_file())


def print_trend(weeks: list[tuple[str, int]], as_json: bool) -> None:
    """``--json``: ``[{"week": "2025-10-06", "papers": 3}, …]``; else one bar a week."""
    if as_json:
        print(json.dumps([{"week": w, "papers": n} for w, n in weeks], ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not weeks:
        console.print("no matching papers")
        return
    highest = max(n for _, n in weeks) or 1
    table = Table(show_header=True, box=None, pad_edge=False)
    table.add_column("week")
    table.add_column("papers", justify="right")
    table.add_column("")
    for week, n in weeks:
        table.add_row(week, str(n), "[yellow]" + "█" * round(BAR * n / highest) + "[/yellow]")
    console.print(table)
