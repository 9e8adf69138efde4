"""The terminal side of `papersearch site` and `papersearch trend`: what
the CLI prints after an export, and the trend's bar chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .export import DEFAULT_POST_URL, SiteReport, export_site

BAR = 40
"""Characters of the longest bar."""


def run_site(index_dir: Path, out_dir: Path, post_url: str | None, console: Any) -> SiteReport:
    """Export, then print what was written and its budget figures."""
    report = export_site(index_dir, out_dir, post_url=post_url or DEFAULT_POST_URL)
    kib = 1024
    console.print(
        f"wrote {report.out_dir}: {report.documents} entries, {report.papers} papers, {report.files} files, "
        f"{report.bytes / kib / kib:.1f} MiB ({report.gzip_bytes / kib / kib:.1f} MiB gzipped)",
        highlight=False, soft_wrap=True,
    )
    console.print(
        f"every visit loads {report.page_gzip_bytes / kib:.0f} KiB gzipped (page, scripts, styles, meta.json); "
        "a query adds its shards (python benchmarks/site/budget.py measures them in Chromium)",
        highlight=False, soft_wrap=True,
    )
    return report


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
