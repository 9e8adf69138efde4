"""Search results: the records that leave the index for the renderers.

Fragments carry plain text plus match spans (character offsets), never
markup: the terminal and the JSON output are two renderers of one `Hit`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Fragment:
    """A short excerpt of one section with its matches.

    :param text: the excerpt, as written in the post (``…`` marks a cut).
    :param spans: ``(start, end)`` character offsets of matches in ``text``,
        sorted and non-overlapping.
    """

    text: str
    spans: tuple[tuple[int, int], ...]

    def marked(self, before: str = "**", after: str = "**") -> str:
        """The excerpt with each match wrapped in ``before``/``after``."""
        out, last = [], 0
        for start, end in self.spans:
            out += [self.text[last:start], before, self.text[start:end], after]
            last = end
        out.append(self.text[last:])
        return "".join(out)


@dataclass(frozen=True)
class TermScore:
    """One query term's share of a hit's BM25F score, in one field, as
    Elasticsearch's explain gives it: ``score = weight × boost × idf ×
    tf·(k1+1) / (tf + k1·(1 − b + b·length/average))``.

    :param label: the query words the term stands for.
    :param expansion: True for a glossary synonym (weighted below a typed word).
    :param alternative: the terms of the alternative that scored (two or
        more for a phrase, all of which appear here).
    :param field: ``all`` (every section, true BM25F) or one section;
        ``arxiv_id`` for an id in the query.
    :param tf: the term's frequency in the field; in ``all``, each
        occurrence counts its section's weight (see ``occurrences``).
    :param occurrences: section → how often the term occurs there.
    :param length, average: the field's length in this paper (as the index
        stores it, rounded to one byte) and over all papers.
    :param weight, boost: the part's weight (1 typed, less for a synonym)
        and the field's weight.
    """

    label: str
    expansion: bool
    alternative: tuple[str, ...]
    field: str
    term: str
    tf: float
    occurrences: dict[str, int]
    idf: float
    length: float
    average: float
    weight: float
    boost: float
    score: float


@dataclass(frozen=True)
class Explanation:
    """How a hit's score adds up: the terms' scores sum to ``bm25f``, and
    ``score = bm25f × coverage × proximity`` (both 1 when sorting by date).

    :param coverage: (query words the paper covers / query words) ** power.
    :param proximity: 1 + bonus × share of neighbouring query words that
        stand together in one section.
    """

    bm25f: float
    coverage: float
    proximity: float
    k1: float
    b: float
    terms: tuple[TermScore, ...]


@dataclass(frozen=True)
class Hit:
    """One paper in a result list.

    :param arxiv_id: the paper's id; re-posted copies are one hit.
    :param dates: every post date the paper appeared on, oldest first.
    :param score: ranking score of the paper's best-matching copy.
    :param matched_sections: sections where a query term matched, in
        display order (``title`` first).
    :param highlights: section → excerpt with the matched words.
    :param shared_terms: for ``similar``, the key terms it shares with the
        paper it is similar to; empty for searches.
    :param explanation: how the score adds up, when asked for (``explain=True``).
    """

    arxiv_id: str
    title: str
    url: str
    dates: tuple[str, ...]
    score: float
    matched_sections: tuple[str, ...]
    highlights: dict[str, Fragment]
    shared_terms: tuple[str, ...] = ()
    explanation: Explanation | None = None


@dataclass(frozen=True)
class Expansion:
    """A glossary synonym added to the query.

    :param source: the query words it translates.
    :param target: the synonym searched for, weighted below the literal.
    """

    source: str
    target: str


class Results(list):
    """A ``list[Hit]`` that also tells how many papers matched in all, which
    glossary expansions were used, and a spelling suggestion, if any.

    Counting every match costs a second pass over the postings, which a
    caller that shows ten hits may not want: ``total`` may be given as a
    function, called once, on first use; it returns the count, or the
    count and whether it is exact.
    """

    def __init__(
        self,
        hits: list[Hit],
        *,
        query: str,
        total: int | Callable[[], int | tuple[int, bool]],
        expansions: tuple[Expansion, ...] = (),
        suggestion: str | None = None,
    ) -> None:
        super().__init__(hits)
        self.query = query
        self._total = total
        self._exact = True
        self._counting = threading.Lock()  # two threads asking at once count once
        self.expansions = expansions
        self.suggestion = suggestion

    @property
    def total(self) -> int:
        """Distinct papers matching the query, shown or not."""
        with self._counting:
            if callable(self._total):
                counted = self._total()
                self._total, self._exact = counted if isinstance(counted, tuple) else (counted, True)
                if not self._exact:  # an estimate is never below the matching papers shown ("52 of about 51")
                    self._total = max(self._total, len(self))
        return self._total

    @property
    def total_exact(self) -> bool:
        """False when ``total`` is an estimate: checking a common phrase in
        every paper that holds its words would cost seconds."""
        _ = self.total
        return self._exact


@dataclass(frozen=True)
class PaperView:
    """A whole paper, for ``show``: every section and every post it was in.

    :param copies: post date → section texts of that day's summary; when
        two posts of one date hold the paper, each is named
        ``"DATE (POST)"`` instead (see `engine.copy_keys`).
    """

    arxiv_id: str
    title: str
    url: str
    dates: tuple[str, ...]
    sections: dict[str, str]
    copies: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexStats:
    """What an index holds, for ``stats``.

    :param entries: paper entries (a re-posted paper counts once per post).
    :param papers: distinct arXiv ids.
    :param first_date, last_date: the range of post dates.
    :param size_bytes: disk size of the live generation.
    :param top_terms: section → its most frequent terms with their counts.
    :param shards: on a cluster, which shards answered (``partial``,
        ``warning()``, ``to_json()``), as `Results.shards`; None on a directory.
    """

    location: str
    posts: int
    entries: int
    papers: int
    first_date: str | None
    last_date: str | None
    size_bytes: int
    analyzer: str
    kiwi: str
    top_terms: dict[str, list[tuple[str, int]]]
    shards: Any = None
