"""Matching papers per ISO week: `trend`.

A query's hits say which papers match; when they were posted says whether
a topic is rising. A paper counts once in each week (Monday to Sunday) in
which it was posted within the date range; weeks in between with no
match count 0, so a chart of the list has an even time axis.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from ..engine import date_range

ALL_PAPERS = 10**9
"""A limit no index reaches: every matching paper is counted."""


def trend(
    index: Any, query: str, *, sections: str | Iterable[str] | None = None, since: str | date | None = None,
    until: str | date | None = None, expand: bool = True,
) -> list[tuple[str, int]]:
    """``[(week_start, papers)]``, oldest first, from the first to the last
    week with a match; the options are `Index.search`'s."""
    results = index.search(query, limit=ALL_PAPERS, sections=sections, since=since, until=until,
                           sort="date", expand=expand)
    low, high = date_range(since, until)  # as search read them
    counts: Counter[str] = Counter()
    for hit in results:
        weeks = {week_start(d) for d in hit.dates if (low is None or d >= low) and (high is None or d <= high)}
        counts.update(weeks)
    return fill_weeks(counts)


def week_start(day: str) -> str:
    """The Monday of the ISO week holding ``day`` (ISO text in, ISO text out)."""
    d = date.fromisoformat(day)
    return (d - timedelta(days=d.weekday())).isoformat()


def fill_weeks(counts: Counter[str]) -> list[tuple[str, int]]:
    if not counts:
        return []
    first, last = date.fromisoformat(min(counts)), date.fromisoformat(max(counts))
    weeks = []
    while first <= last:
        weeks.append((first.isoformat(), counts.get(first.isoformat(), 0)))
        first += timedelta(days=7)
    return weeks
