"""Matches → fragments, from term offsets stored at index time.

Re-running Kiwi on stored text to find matches costs more than the search
itself; the indexer already knows where every term sits. So a fragment is
found by scanning a section's stored ``(term, pos, start, end)`` tuples for
the query's terms and phrases, then cutting the densest window.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Container, Iterable, Mapping, Sequence

from .hits import Fragment
from .ranking import field_items, field_starts, phrase_starts

WINDOW = 150
"""Fragment length in characters (Korean is double-width: ~2 lines at 80)."""
MATCHES = 1000
"""Query-term occurrences of one section that its fragment is chosen
from, the first in text order: a section repeating the query 300,000
times is shown from its first thousand, in milliseconds."""

Span = tuple[int, int]


def highlight(
    spans: Mapping[str, Sequence[Sequence]], field: str, text: str, terms: set[str],
    phrases: Sequence[Sequence[str]] = (),
) -> Fragment | None:
    """The fragment of one section showing its matches, or None when the
    query's terms and phrases do not occur in it."""
    wanted = set(terms).union(*phrases)
    items = field_items(spans, field, wanted, MATCHES)
    matches = find_matches(items, terms, phrases)
    if not matches and phrases and len(items) == MATCHES:
        # the cap came before any phrase: read on from the first one
        since = min((p for phrase in phrases for p in phrase_starts(spans, field, phrase)[:1]), default=None)
        if since is not None:
            matches = find_matches(field_items(spans, field, wanted, MATCHES, since), terms, phrases)
    if not matches:
        return None
    return fragment(text, with_prefixes(text, matches, lambda: set(field_starts(spans, field))))


def with_prefixes(text: str, spans: list[Span], term_starts: Callable[[], Container[int]] = set) -> list[Span]:
    """Matches widened over a one-syllable prefix that begins their word
    and is no term of its own (대규모, 초고해상도): Kiwi leaves the prefix
    out of the term, but the reader sees one word, and a mark starting
    inside it looks misplaced. The field's term starts are read only when
    some match has such a syllable before it."""

    def prefixed(s: int) -> bool:
        return s >= 1 and "\uac00" <= text[s - 1] <= "\ud7a3" and (s == 1 or not text[s - 2].isalnum())

    if not any(prefixed(s) for s, _ in spans):
        return spans
    starts = term_starts()
    return merge((s - 1 if prefixed(s) and s - 1 not in starts else s, e) for s, e in spans)


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
    """The window of ``text`` holding the most matches, cut at spaces.

    ``spans`` are sorted and disjoint (see `merge`), so their ends rise
    too: one pass with a second pointer counts each window's matches, in
    time linear in the matches (a post repeating a word 300,000 times
    took minutes when each window was counted anew)."""
    if len(text) <= window:
        return Fragment(text, tuple(spans))
    best_start, best_end, best_count = 0, 0, -1
    last = 0
    for first, (start, end) in enumerate(spans):
        last = max(last, first)
        while last < len(spans) and spans[last][1] <= start + window:
            last += 1
        if last - first > best_count:
            best_start, best_end, best_count = start, end, last - first
    lo = _word_start(text, max(0, best_start - window // 4))
    # moving back to a word start must not push the match out of the window
    hi = _word_end(text, min(len(text), max(lo + window, best_end)))
    first_inside = bisect_left(spans, (lo, lo))
    inside = []
    for s, e in spans[first_inside:]:
        if s >= hi:
            break
        if e <= hi:
            inside.append((s - lo, e - lo))
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
