"""Hits → terminal and JSON: the only module that knows about rich.

Parts: the console (`make_console`), terminal renderers (`print_results`,
`print_paper`, `print_report`) and JSON renderers (`results_json`,
`paper_json`). Matches are styled from `Fragment.spans` with
``Text.stylize``; post text is never parsed as markup.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import IO, TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import COLOR_SYSTEMS, Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from rich.theme import Theme

from ..hits import Explanation, Fragment, Hit, IndexStats, PaperView, Results
from .output import client_terminal
from .plain import LABELS, explanation_text

if TYPE_CHECKING:  # the CLI prints errors through here: importing the indexer would load Whoosh for them
    from ..indexing import ReindexReport

THEME = Theme(
    {
        "search.match": "bold yellow",
        "search.rank": "bold cyan",
        "search.title": "bold",
        "search.url": "blue underline",
        "search.meta": "dim",
        "search.label": "green",
        "search.note": "italic magenta",
    }
)
MARK_OPEN, MARK_CLOSE = "**", "**"
"""How JSON fragments mark matches (the spans are given too)."""


def make_console(file: IO[str] | None = None, width: int | None = None) -> Console:
    """A console that drops colour when piped or when NO_COLOR is set
    (rich's own rules), and never guesses highlights in post text."""
    plain = bool(os.environ.get("NO_COLOR"))  # rich's no_color keeps bold and dim; NO_COLOR means plain
    return Console(
        file=file, theme=THEME, highlight=False, width=width, soft_wrap=False,
        color_system=None if plain else "auto",
        force_terminal=client_terminal("stderr" if file is sys.stderr else "stdout"),
    )


def painter(console: Console) -> Callable[[str, str], str]:
    """How ``console`` paints a text in one of the theme's styles: its
    escape codes around it, or the text as it is without colour."""
    if console.color_system is None or not console.is_terminal:
        return lambda text, _style: text
    system = COLOR_SYSTEMS[console.color_system]
    return lambda text, style: console.get_style(style).render(text, color_system=system)


# Terminal


def print_line(console: Console, line: str | Text, style: str | None = None) -> None:
    """One status line: wrapped at word boundaries to the width of a
    terminal (which would otherwise break it mid-word), never wrapped when
    written to a file or pipe, so a log keeps each line (and path) whole."""
    text = Text(line, style=style or "") if isinstance(line, str) else line
    console.print(text, soft_wrap=not console.is_terminal)


def highlighted(fragment: Fragment) -> Text:
    text = Text(fragment.text)
    for start, end in fragment.spans:
        text.stylize("search.match", start, end)
    return text


def _sections_table(highlights: dict[str, Fragment]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="search.label", no_wrap=True)
    table.add_column(overflow="fold")
    for name, fragment in highlights.items():
        if name != "title":
            table.add_row(LABELS[name], highlighted(fragment))
    return table


def _hit(rank: int, hit: Hit) -> Table:
    """Rank in its own column, so wrapped titles and sections stay indented."""
    title = highlighted(hit.highlights["title"]) if "title" in hit.highlights else Text(hit.title)
    title.stylize("search.title")
    meta = Text.assemble(
        (hit.url, "search.url"), ("  " + ", ".join(hit.dates), "search.meta"),
        (f"  score {hit.score:.2f}", "search.meta"),
    )
    body = [title, meta]
    if hit.shared_terms:
        body.append(Text.assemble(("shared: ", "search.label"), ", ".join(hit.shared_terms)))
    body.append(_sections_table(hit.highlights))
    if hit.explanation:
        body.append(_explanation(hit.score, hit.explanation))
    layout = Table.grid(padding=(0, 1))
    layout.add_column(style="search.rank", no_wrap=True, justify="right")
    layout.add_column(overflow="fold")
    layout.add_row(f"{rank}.", Padding(Group(*body), (0, 0, 1, 0)))
    return layout


def _explanation(score: float, explained: Explanation) -> Text:
    """The score as a sum of terms, then the re-ranking factors, one line
    each: what `--explain` adds under a hit."""
    return Text(explanation_text(score, explained), style="search.meta")


def print_results(console: Console, results: Results) -> None:
    if results.expansions:
        used = ", ".join(f"{e.source} → {e.target}" for e in results.expansions)
        print_line(console, f"expanded: {used}", "search.note")
    if results.suggestion:
        print_line(console, f"did you mean: {results.suggestion}", "search.note")
    for rank, hit in enumerate(results, 1):
        console.print(_hit(rank, hit))
    shown = len(results)
    about = "" if results.total_exact else "about "
    console.print(Text(f"{shown} of {about}{results.total} matching papers", style="search.meta"))


def print_similar(console: Console, source: PaperView, results: Results) -> None:
    console.print(Text.assemble(("papers like ", "search.meta"), (source.title, "search.title")))
    for rank, hit in enumerate(results, 1):
        console.print(_hit(rank, hit))


def print_stats(console: Console, stats: IndexStats) -> None:
    gap = 2
    table = Table.grid(padding=(0, gap))
    table.add_column(style="search.label", no_wrap=True)
    table.add_column(overflow="fold")
    rows = [
        ("index", stats.location),
        ("posts", str(stats.posts)),
        ("entries", str(stats.entries)),
        ("papers", f"{stats.papers} distinct arXiv ids"),
        ("dates", f"{stats.first_date} … {stats.last_date}"),
        ("size", f"{stats.size_bytes / 1e6:.1f} MB"),
        ("analyzer", f"{stats.analyzer} (kiwipiepy {stats.kiwi})"),
    ]
    labels = [name for name, _ in rows] + [LABELS[section] for section in stats.top_terms]
    width = console.width - max(map(cell_len, labels)) - gap
    for name, value in rows:
        table.add_row(name, Text(value))
    for section, terms in stats.top_terms.items():
        table.add_row(LABELS[section], _items([f"{t} {n}" for t, n in terms], width))
    console.print(table)


def _items(items: list[str], width: int) -> Text:
    """Items joined by commas, broken only between items: rich would wrap
    at any space and part a term from its count ("flow" / "5")."""
    lines: list[str] = []
    for item in items:
        if lines and cell_len(lines[-1]) + cell_len(item) + 2 <= width:
            lines[-1] += f", {item}"
        else:
            if lines:
                lines[-1] += ","
            lines.append(item)
    return Text("\n".join(lines))


def print_paper(console: Console, paper: PaperView) -> None:
    console.print(Text(paper.title, style="search.title"))
    console.print(Text.assemble((paper.url, "search.url"), ("  " + ", ".join(paper.dates), "search.meta")))
    for date, sections in paper.copies.items():
        if len(paper.copies) > 1:
            console.print(Text(f"\n— summary of {date}", style="search.note"))
        table = Table.grid(padding=(0, 1))
        table.add_column(style="search.label", no_wrap=True)
        table.add_column(overflow="fold")
        for name, text in sections.items():
            table.add_row(LABELS[name], Text(text))
        console.print(table)


def print_report(console: Console, report: ReindexReport) -> None:
    lines = [Text(notice, style="search.note") for notice in report.notices]
    lines += [Text(f"warning: {problem}", style="search.meta") for problem in report.warnings]
    lines += [Text(f"skipped: {problem}") for problem in report.skipped]
    kind = "full" if report.full else "incremental"
    lines.append(
        Text(
            f"{report.posts_read} posts read, {len(report.skipped)} skipped; "
            f"{report.entries} entries, {report.papers} papers indexed "
            f"({kind}: {report.added} added, {report.updated} updated, {report.removed} removed) "
            f"in {report.seconds:.1f}s"
        )
    )
    for line in lines:
        print_line(console, line)


@contextmanager
def progress_bar(console: Console) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar for `reindex`'s ``progress`` callback, drawn only on
    a terminal and gone when done."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    with bar:
        yield update


# JSON


def hit_json(hit: Hit) -> dict[str, Any]:
    return {
        "arxiv_id": hit.arxiv_id,
        "title": hit.title,
        "url": hit.url,
        "dates": list(hit.dates),
        "score": round(hit.score, 4),
        "matched_sections": list(hit.matched_sections),
        "highlights": {name: f.marked(MARK_OPEN, MARK_CLOSE) for name, f in hit.highlights.items()},
        "spans": {name: [list(s) for s in f.spans] for name, f in hit.highlights.items()},
        **({"shared_terms": list(hit.shared_terms)} if hit.shared_terms else {}),
        **({"explanation": explanation_json(hit.explanation)} if hit.explanation else {}),
    }


def explanation_json(explained: Explanation) -> dict[str, Any]:
    """The explanation as it is: the terms' ``score`` add up to ``bm25f``."""
    data = asdict(explained)
    data["terms"] = [{**t, "alternative": list(t["alternative"])} for t in data["terms"]]
    return data


def results_json(results: Results) -> dict[str, Any]:
    return {
        "query": results.query,
        "total": results.total,
        "total_exact": results.total_exact,
        "suggestion": results.suggestion,
        "expansions": [{"source": e.source, "target": e.target} for e in results.expansions],
        "hits": [hit_json(h) for h in results],
        **({"shards": results.shards.to_json()} if getattr(results, "shards", None) else {}),
    }


def paper_json(paper: PaperView) -> dict[str, Any]:
    return {
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "url": paper.url,
        "dates": list(paper.dates),
        "sections": paper.sections,
        "copies": paper.copies,
    }


def stats_json(stats: IndexStats) -> dict[str, Any]:
    data = asdict(stats)
    data["top_terms"] = {f: [{"term": t, "count": n} for t, n in terms] for f, terms in stats.top_terms.items()}
    data.pop("shards")
    if stats.shards is not None:
        data["shards"] = stats.shards.to_json()
    return data
