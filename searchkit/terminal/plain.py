"""Query results as plain text, without importing rich.

When stdout is not a terminal, `render.print_results` draws no colour,
and the CLI strips the padding off every line: what is left is text laid
out as rich lays it out. Importing rich's console and drawing its tables
costs a cold query process about as much as the search itself, so this
module writes the same text directly: the same layout (rank column, the
title, the meta line, the section grid), wrapped by rich's own
`divide_line` at rich's widths. A test compares the two byte for byte.

Only the plain case is drawn here, and only for text without tabs or
control characters (rich expands and strips those); anything else returns
None and the caller uses rich.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from ..hits import Explanation, Hit, PaperView, Results
from .output import client_terminal, terminal_width

LABELS = {
    "title": "Title",
    "goal": "Goal",
    "motivation": "Motivation",
    "contribution": "Contribution",
    "method": "Method",
    "results": "Results",
    "limitations": "Limitations",
    "conclusion": "Conclusion",
}
"""Section labels of the terminal output (`render` draws them too)."""

_UNSAFE = frozenset("\t\x07\x08\x0b\x0c\r")
"""Characters rich rewrites (tabs expanded, control codes stripped)."""
MIN_COLUMN = 4
"""Narrower section columns than this are left to rich, which squeezes
its grid there in ways not worth copying (a test checks every width above)."""


def wanted() -> bool:
    """Whether rich would draw plain text here: stdout is not a terminal,
    and no variable tells rich to treat it as one."""
    env = os.environ
    if sys.platform == "win32" or "TTY_COMPATIBLE" in env or "FORCE_COLOR" in env or client_terminal("stdout"):
        return False
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return isatty is not None and not isatty()
    except ValueError:  # closed
        return False


def width() -> int | None:
    """The width rich's console takes (`Console.size`): $COLUMNS, else
    the first of stdin, stdout, stderr that is a terminal, else 80. None
    for a $COLUMNS rich would take as zero."""
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdecimal():
        return int(columns) or None
    return terminal_width() or 80


def _wrapping() -> tuple[Callable[[str, int], list[str]], Callable[[str], int]]:
    """rich's word wrap at a width, and its cell length: two small
    modules, not the console."""
    from rich._wrap import divide_line
    from rich.cells import cell_len

    def wrap(text: str, room: int) -> list[str]:
        if room < 1:
            raise _Unsafe
        lines = []
        for line in text.split("\n"):
            starts = [0, *divide_line(line, room, fold=True), len(line)]
            lines += [line[a:b] for a, b in zip(starts, starts[1:])]
        return lines

    return wrap, cell_len


def results_text(results: Results, columns: int) -> str | None:
    """What `print_results` prints on a plain console ``columns`` wide,
    each line without trailing spaces; None when only rich can draw it."""
    wrap, cell_len = _wrapping()
    out: list[str] = []
    try:
        for note in [f"expanded: {', '.join(f'{e.source} → {e.target}' for e in results.expansions)}"
                     if results.expansions else None,
                     f"did you mean: {results.suggestion}" if results.suggestion else None]:
            if note is not None:
                out.append(_checked(note))  # not wrapped when piped (`render.print_line`)
        for rank, hit in enumerate(results, 1):
            out += _hit(rank, hit, columns, wrap, cell_len)
        about = "" if results.total_exact else "about "
        out += wrap(f"{len(results)} of {about}{results.total} matching papers", columns)
    except _Unsafe:
        return None
    return "".join(line.rstrip() + "\n" for line in out)


Paint = Callable[[str, str], str]
"""Text and the name of its style in `render.THEME` → the text as the
terminal shows it (with its escape codes)."""


def _unpainted(text: str, _style: str) -> str:
    return text


def paper_text(paper: PaperView, columns: int, paint: Paint = _unpainted) -> str | None:
    """What `render.print_paper` prints on a console ``columns`` wide, each
    line without trailing spaces, its parts passed through ``paint`` on a
    terminal; None when only rich can draw it. rich takes about 10 µs a
    character to lay a section out: a post's 5 MB section took half a
    minute to `show`, and more than `serve` allows a command."""
    wrap, cell_len = _wrapping()
    try:
        out = [paint(line, "search.title") for line in wrap(_checked(paper.title), columns)]
        out += _two_styles(wrap, f"{paper.url}  {', '.join(paper.dates)}", len(paper.url), columns, paint)
        for date, sections in paper.copies.items():
            if len(paper.copies) > 1:
                out += [paint(line, "search.note") for line in wrap(_checked(f"\n— summary of {date}"), columns)]
            out += _grid([(LABELS[name], text) for name, text in sections.items()], columns, wrap, cell_len,
                         paint)
    except _Unsafe:
        return None
    return "".join(line.rstrip() + "\n" for line in out)


def _two_styles(wrap, text: str, cut: int, columns: int, paint: Paint) -> list[str]:
    """``text`` wrapped, its first ``cut`` characters in the URL's style
    and the rest in the meta style."""
    out, start = [], 0
    for line in wrap(_checked(text), columns):
        head = max(0, min(len(line), cut - start))
        out.append(paint(line[:head], "search.url") + paint(line[head:], "search.meta") if line else "")
        start += len(line)
    return out


def _grid(rows: list[tuple[str, str]], room: int, wrap, cell_len, paint: Paint = _unpainted) -> list[str]:
    """A grid of labels and texts as rich draws it (`Table.grid` with one
    cell of padding between, the texts folded)."""
    if not rows:
        return []
    label = max(cell_len(name) for name, _ in rows)
    if room - label - 1 < MIN_COLUMN:
        raise _Unsafe
    width = room - label - 1
    if any("\t" in text for _, text in rows):  # rich measures a tab as no cell, then wraps the expanded text there
        width = min(width, max((cell_len(line) for _, text in rows for line in text.splitlines()), default=0))
    out = []
    for name, text in rows:
        head = paint(name, "search.label") + " " * (label - cell_len(name))
        lines = wrap(_checked(_expand_tabs(text, cell_len)), width)
        out += [(head if i == 0 else " " * label) + " " + line for i, line in enumerate(lines)]
    return out


class _Unsafe(Exception):
    """Text that rich would rewrite, or a width too small to reason about."""


def _expand_tabs(text: str, cell_len, size: int = 8) -> str:
    """Tabs as rich's ``Text.expand_tabs`` turns them into spaces, line by
    line: each tab a space, then spaces to the next multiple of ``size``
    cells. A section holding one tab went to rich, 10 µs a character."""
    if "\t" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        out, cells = [], 0
        for part in line.split("\t")[:-1]:
            part += " "
            cells += cell_len(part)
            pad = -cells % size
            out.append(part + " " * pad)
            cells += pad
        lines.append("".join(out) + line.rsplit("\t", 1)[-1])
    return "\n".join(lines)


def _checked(text: str) -> str:
    if not _UNSAFE.isdisjoint(text):
        raise _Unsafe
    return text


def _hit(rank: int, hit: Hit, columns: int, wrap, cell_len) -> list[str]:
    """`render._hit`: a grid of the rank and a column of the body, then a
    blank line (the body's bottom padding)."""
    number = f"{rank}."
    room = columns - cell_len(number) - 1
    title = hit.highlights["title"].text if "title" in hit.highlights else hit.title
    body = wrap(_checked(title), room)
    body += wrap(_checked(f"{hit.url}  {', '.join(hit.dates)}  score {hit.score:.2f}"), room)
    if hit.shared_terms:
        body += wrap(_checked("shared: " + ", ".join(hit.shared_terms)), room)
    body += _grid([(LABELS[name], f.text) for name, f in hit.highlights.items() if name != "title"], room,
                  wrap, cell_len)
    if hit.explanation:
        body += wrap(_checked(explanation_text(hit.score, hit.explanation)), room)
    body.append("")
    pad = " " * cell_len(number)
    return [(number if i == 0 else pad) + " " + line for i, line in enumerate(body)]


def explanation_text(score: float, explained: Explanation) -> str:
    """The score as a sum of terms, then the re-ranking factors, one line
    each: what `--explain` adds under a hit."""
    e = explained
    lines = [f"score {score:.4f} = BM25F {e.bm25f:.4f} × coverage {e.coverage:.4f} × proximity {e.proximity:.4f}"
             f" (k1 {e.k1}, b {e.b})"]
    for t in e.terms:
        where = ", ".join(f"{name} {n}" for name, n in t.occurrences.items())
        source = f"{t.label} → {' '.join(t.alternative)}" if t.expansion else t.label
        lines.append(
            f"  {t.score:.4f}  {t.term} in {t.field} ({source}): weight {t.weight:g} × boost {t.boost:g}"
            f" × idf {t.idf:.3f} × tf {t.tf:g} [{where}], length {t.length:g} / average {t.average:.1f}"
        )
    return "\n".join(lines)
