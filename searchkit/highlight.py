"""Matches → fragments, from term offsets stored at index time.

Re-running Kiwi on stored text to find matches costs more than the search
itself; the indexer already knows where every term sits. So a fragment is
found by scanning a section's stored ``(term, pos, start, end)`` tuples for
the query's terms and phrases, then cutting the densest window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .hits import Fragment

WINDOW = 150
"""Fragment length in characters (Korean is double-width: ~2 lines at 80)."""

Span = tuple[int, int]


def find_matches(
    stored: Sequence[Sequence], terms: set[str], phrases: Iterable[Sequence[str]] = ()
) -> list[Span]:
    """Character spans where a query term, or a whole phrase in
    consecutive positions, occurs in one field."""
    spans = [(s, e) for term, _pos, s, e in stored if term in terms]
    by_pos: dict[int, list] = {}
    for item in stored:
        by_pos.setdefault(item[1], []).append(item)
    for phrase in phrases:
        for term, pos, start, _end in stored:
            if term != phrase[0]:
                continue
            end = _phrase_end(by_pos, pos, phrase)
            if end is not None:
                spans.append((start, end))
    return merge(spans)


def _phrase_end(by_pos: dict[int, list], pos: int, phrase: Sequence[str]) -> int | None:
    end = None
    for offset, word in enumerate(phrase):
        found = [item for item in by_pos.get(pos + offset, ()) if item[0] == word]
        if not found:
            return None
        end = found[0][3]
    return end


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sort spans and join overlapping ones (a whole name and its parts)."""
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def fragment(text: str, spans: list[Span], window: int = WINDOW) -> Fragment:
    """The window of ``text`` holding the most matches, cut at spaces."""
    if len(text) <= window:
        return Fragment(text, tuple(spans))
    best_start, best_end, best_count = 0, 0, -1
    for first, (start, end) in enumerate(spans):
        count = sum(1 for s, e in spans[first:] if e <= start + window)
        if count > best_count:
            best_start, best_end, best_count = start, end, count
    lo = _word_start(text, max(0, best_start - window // 4))
    # moving back to a word start must not push the match out of the window
    hi = _word_end(text, min(len(text), max(lo + window, best_end)))
    inside = [(s - lo, e - lo) for s, e in spans if s >= lo and e <= hi]
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(text) else ""
    shift = len(prefix)
    body = text[lo:hi].replace("\n", " ")
    return Fragment(prefix + body + suffix, tuple((s + shift, e + shift) for s, e in inside))


def _word_start(text: str, i: int) -> int:
    if i == 0:
        return 0
    space = text.rfind(" ", max(0, i - 20), i)
    return space + 1 if space >= 0 else i


def _word_end(text: str, i: int) -> int:
    if i >= len(text):
        return len(text)
    space = text.find(" ", i, i + 20)
    return space if space >= 0 else i
