"""The searchable fields, their weights and their stored term offsets.

One text field per section plus ``title``, so ranking can weigh a match in
a title or goal above one in limitations; ``arxiv_id`` is an exact field for
look-ups and for collapsing re-posted papers; ``post`` lets an incremental
reindex delete one post's papers; ``spans`` stores each field's term
offsets so highlights never need Kiwi at query time.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Container, Iterable, Iterator, Mapping

import numpy as np

from .errors import QueryError
from .sections import INTRO_SECTIONS, SECTIONS

TEXT_FIELDS: tuple[str, ...] = ("title",) + SECTIONS
"""Searchable text fields, in display order."""

FIELD_WEIGHTS: dict[str, float] = {
    "title": 2.0,
    "goal": 1.5,
    "motivation": 0.8,
    "contribution": 1.3,
    "method": 1.0,
    "results": 0.7,
    "limitations": 0.4,
    "conclusion": 0.8,
}
"""Per-field boosts: a title or goal match says more than a limitation."""

SECTION_GROUPS: dict[str, tuple[str, ...]] = {
    "introduction": INTRO_SECTIONS,
    **{name: (name,) for name in TEXT_FIELDS},
}
"""Names accepted by ``--section``, each mapped to the fields it covers."""


ALL = "all"
"""Every section in one field, each term's frequency weighted by its
section's weight: true BM25F, and one posting list per query term instead
of one per term and section. It matches and scores; it keeps no positions
(phrases are checked section by section in the stored offsets)."""


def pack_spans(terms: list) -> tuple[str, bytes]:
    """A field's ``(term, pos, start, end)`` tuples as one string and one
    byte array: pickling 300,000 small tuples per corpus cost more than
    writing the postings."""
    numbers = array("I", [n for _, pos, start, end in terms for n in (pos, start, end)])
    return "\x1f".join(t[0] for t in terms), numbers.tobytes()


def unpack_spans(packed: tuple[str, bytes]) -> list[tuple[str, int, int, int]]:
    text, raw = packed
    numbers = array("I")
    numbers.frombytes(raw)
    words = text.split("\x1f") if text else []
    return [(w, numbers[3 * i], numbers[3 * i + 1], numbers[3 * i + 2]) for i, w in enumerate(words)]


SMALL_FIELD = 2000
"""Terms of a field up to which unpacking it whole is cheaper than
reading single terms' offsets out of the packed array."""


class Spans(Mapping):
    """A document's stored offsets, field → ``(term, pos, start, end)``
    tuples, unpacked only for the fields asked for: re-ranking the
    candidates needs their terms, rarely their offsets, and a highlight
    only the offsets of the query's terms (`where`), which in a section of
    a 5 MB post are a few of 700,000."""

    def __init__(self, packed: dict[str, tuple[str, bytes]]) -> None:
        self._packed = packed
        self._unpacked: dict[str, list[tuple[str, int, int, int]]] = {}
        self._terms: dict[str, list[str]] = {}
        self._numbers: dict[str, np.ndarray] = {}
        self._vocabulary: dict[str, set[str]] = {}

    def __getitem__(self, field: str) -> list[tuple[str, int, int, int]]:
        if field not in self._unpacked:
            self._unpacked[field] = unpack_spans(self._packed[field])
        return self._unpacked[field]

    def __contains__(self, field: object) -> bool:  # Mapping's would unpack the field
        return field in self._packed

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)

    def terms(self, field: str) -> list[str]:
        """The field's terms in order, without unpacking offsets."""
        if field not in self._terms:
            text = self._packed.get(field, ("", b""))[0]
            self._terms[field] = text.split("\x1f") if text else []
        return self._terms[field]

    def vocabulary(self, field: str) -> Collection[str]:
        """The field's distinct terms."""
        if field not in self._vocabulary:
            self._vocabulary[field] = set(self.terms(field))
        return self._vocabulary[field]

    def where(
        self, field: str, wanted: Container[str], limit: int | None = None, since: int = 0
    ) -> list[tuple[str, int, int, int]]:
        """The field's tuples whose term is in ``wanted``, in order, from
        position ``since`` on, the first ``limit`` of them at most; only
        those are unpacked."""
        words = self.terms(field)
        found = [i for i, term in enumerate(words) if term in wanted]
        if since:
            later = (self._array(field)[:, 0] >= since).tolist()
            found = [i for i in found if later[i]]
        found = found[:limit]
        rows = self._array(field)[found].tolist()
        return [(words[i], pos, start, end) for i, (pos, start, end) in zip(found, rows)]

    def positions(self, field: str, term: str) -> list[int]:
        """The term's positions in the field, ascending. A small field is
        unpacked whole (cheapest for the sections of ordinary papers); a
        large one only at the term's occurrences."""
        if term not in self.vocabulary(field):
            return []
        if len(self.terms(field)) <= SMALL_FIELD:
            return [pos for t, pos, *_ in self[field] if t == term]
        found = [i for i, word in enumerate(self.terms(field)) if word == term]
        return self._array(field)[found, 0].tolist()

    def starts(self, field: str) -> list[int]:
        """Each term's first character offset, in order."""
        return self._array(field)[:, 1].tolist()

    def _array(self, field: str) -> np.ndarray:
        """The field's packed (pos, start, end) numbers as rows."""
        if field not in self._numbers:
            raw = self._packed[field][1] if field in self._packed else b""
            self._numbers[field] = np.frombuffer(raw, dtype=np.uint32).reshape(-1, 3)
        return self._numbers[field]


def resolve_sections(names: str | Iterable[str] | None) -> tuple[str, ...]:
    """Fields covered by the given ``--section`` names (all when None); one
    name may be given as a plain string."""
    if isinstance(names, str):
        names = [names]
    if names is not None and not isinstance(names, Iterable):
        raise QueryError(f"sections must be a section name or a list of them, not {names!r}")
    if not names:
        return TEXT_FIELDS
    fields: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise QueryError(f"section names must be text, not {name!r}")
        key = name.strip().lower()
        if key not in SECTION_GROUPS:
            valid = ", ".join(SECTION_GROUPS)
            raise QueryError(f"unknown section {name!r}; valid sections: {valid}")
        fields.extend(f for f in SECTION_GROUPS[key] if f not in fields)
    return tuple(f for f in TEXT_FIELDS if f in fields)
