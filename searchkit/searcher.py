"""Index → hits: the `Index` interface and its Whoosh implementation.

Parts: the backend-neutral interface (`Index`, `open_index`), ranking
constants, and `WhooshIndex`, which turns a `ParsedQuery` into a Whoosh
query, ranks with BM25F, collapses re-posted papers to their best copy,
re-ranks the top by how many query words a paper covers, and cuts
highlights from stored offsets.
"""

from __future__ import annotations

import re
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.scoring import BM25F

from . import scoring
from .errors import IndexCorruptError, NotFoundError, QueryError, SearchkitError
from .glossary import Glossary
from .highlight import find_matches, fragment
from .hits import Hit, IndexStats, PaperView, Results
from .lexicon import Lexicon
from .query import ParsedQuery, Part, is_hangul, parse_query, split_compounds
from .ranking import coverage, neighbour_pairs, proximity
from .schema import ALL, FIELD_WEIGHTS, TEXT_FIELDS, Spans, resolve_sections
from .similar import key_terms, surface_forms
from .store import FORMAT, LEXICON, live_generation, read_manifest
from .suggest import closest

BM25_B, BM25_K1 = 0.75, 1.6
CANDIDATES = 30
"""Collapsed papers fetched before coverage re-ranking."""
ARXIV_BOOST = 1000.0
_ID = re.compile(r"^(?:arxiv:|https?://(?:www\.)?arxiv\.org/(?:abs|pdf)/)?(\d{4}\.\d{4,5})(?:v\d+)?$", re.I)


# Interface


class Index(ABC):
    """What every backend answers; the CLI and library use only this."""

    @abstractmethod
    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        sections: list[str] | tuple[str, ...] | None = None,
        since: str | None = None,
        until: str | None = None,
        sort: str = "score",
        expand: bool = True,
    ) -> Results:
        """Rank papers for ``query``; see the README for the syntax."""

    @abstractmethod
    def paper(self, arxiv_id: str) -> PaperView:
        """The whole paper; raises `NotFoundError` for an unknown id."""

    @abstractmethod
    def similar(self, arxiv_id: str, *, limit: int = 10) -> Results:
        """Papers most like this one, each with the key terms it shares."""

    @abstractmethod
    def stats(self) -> IndexStats:
        """What the index holds: counts, dates, size, versions, top terms."""

    @abstractmethod
    def close(self) -> None: ...

    def is_current(self) -> bool:
        """False once a reindex has published newer content (then reopen)."""
        return True

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_index(index_dir: str | Path) -> Index:
    """Open the live generation of the index at ``index_dir`` for reading."""
    index = Path(index_dir)
    generation = live_generation(index)
    manifest = read_manifest(generation)
    if manifest.format != FORMAT:
        raise IndexCorruptError(
            f"index at {index} has an older format; run `papersearch reindex --full --index {index}`"
        )
    try:
        return WhooshIndex(generation)
    except Exception as exc:  # Whoosh raises many types for damaged files
        raise IndexCorruptError(
            f"index at {index} cannot be opened ({exc.__class__.__name__}); "
            f"run `papersearch reindex --full --index {index}`"
        ) from None


# Whoosh


def _damage_is_corruption(method: Callable) -> Callable:
    """Report a failure inside Whoosh itself (a truncated or garbled file
    raises anything from EOFError to a bare Exception) as a damaged index,
    naming the repair; failures in our own code stay what they are."""

    @wraps(method)
    def guarded(self: WhooshIndex, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except SearchkitError:
            raise
        except Exception as exc:
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            if tb is None or not tb.tb_frame.f_globals.get("__name__", "").startswith("whoosh"):
                raise
            index = self.generation.parent
            raise IndexCorruptError(
                f"index at {index} is damaged ({exc.__class__.__name__} in Whoosh); "
                f"run `papersearch reindex --full --index {index}`"
            ) from None

    return guarded


class WhooshIndex(Index):
    """One generation of a Whoosh index, with its lexicon."""

    def __init__(self, generation: Path) -> None:
        self.generation = generation
        self._ix = whoosh_index.open_dir(str(generation))
        try:
            self._searcher = self._ix.searcher(weighting=BM25F(B=BM25_B, K1=BM25_K1))
            self._lexicon = Lexicon(generation / LEXICON)
            self._glossary = Glossary(generation)
        except BaseException:
            self._ix.close()
            raise
        self._pending: list[weakref.ref[Results]] = []
        self._scorer: scoring.Postings | None = None
        self._columns: dict[str, Any] = {}

    def close(self) -> None:
        for ref in self._pending:  # totals need the reader: count them now
            if (results := ref()) is not None:
                _ = results.total
        self._searcher.close()
        self._ix.close()
        self._lexicon.close()

    def is_current(self) -> bool:
        try:
            return live_generation(self.generation.parent) == self.generation
        except SearchkitError:
            return False

    def parse(self, query: str, expand: bool = True) -> ParsedQuery:
        parsed = split_compounds(parse_query(query, lambda text: self._lexicon.analyse(text, self.known)), self.known)
        return self._glossary.expand(parsed) if expand else parsed

    def known(self, term: str) -> bool:
        """Whether any section holds the term (compound splitting, suggestions)."""
        return self._searcher.reader().doc_frequency(ALL, term) > 0

    @_damage_is_corruption
    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        sections: list[str] | tuple[str, ...] | None = None,
        since: str | None = None,
        until: str | None = None,
        sort: str = "score",
        expand: bool = True,
    ) -> Results:
        if not isinstance(limit, int) or limit < 1:
            raise QueryError(f"limit must be a positive whole number, not {limit!r}")
        if sort not in ("score", "date"):
            raise QueryError(f"sort must be 'score' or 'date', not {sort!r}")
        fields = resolve_sections(sections)
        since, until = _date_range(since, until)
        parsed = self.parse(query, expand)
        # unrestricted searches match on the combined field: one posting list a term
        matched = (ALL,) if fields == TEXT_FIELDS else fields
        wquery = build_query(parsed, matched, self.known)
        if wquery is None or self._searcher.reader().doc_count() == 0:
            return Results([], query=parsed.text, total=0, expansions=parsed.expansions)
        if sort == "date":
            date_filter = wq.TermRange("date", since, until) if since or until else None
            found = self._searcher.search(wquery, limit=None, collapse="arxiv_id", filter=date_filter, terms=False)
            latest = self._latest_dates(wquery, since, until)
            ranked = sorted(found, key=lambda h: (latest[self._arxiv_id(h.docnum)], h.score), reverse=True)
            candidates = [(self._stored(h.docnum), h.score) for h in ranked[:limit]]
        else:
            candidates = []
            for stored, score in self._top(parsed, matched, since, until, max(CANDIDATES, limit)):
                factor = coverage(stored["spans"], fields, parsed) * proximity(stored["spans"], fields, parsed)
                candidates.append((stored, score * factor))
            candidates.sort(key=lambda item: -item[1])
        hits = [self._hit(stored, score, parsed, fields) for stored, score in candidates[:limit]]
        results = Results(
            hits, query=parsed.text, total=lambda: self._distinct(wquery, since, until),
            expansions=parsed.expansions, suggestion=self._suggest(parsed),
        )
        self._pending = [ref for ref in self._pending if ref() is not None] + [weakref.ref(results)]
        return results

    def _top(
        self, parsed: ParsedQuery, fields: tuple[str, ...], since: str | None, until: str | None, limit: int
    ) -> list[tuple[dict, float]]:
        """The best ``limit`` papers by BM25F, each by its best copy, with
        their stored fields (read once, whether to check a phrase or to show)."""
        seen: dict[int, dict] = {}

        def stored(docnum: int) -> dict:
            if docnum not in seen:
                seen[docnum] = self._stored(docnum)
            return seen[docnum]

        return [(stored(d), score) for d, score in self._ranked(parsed, fields, since, until, limit, stored)]

    def _ranked(
        self, parsed: ParsedQuery, fields: tuple[str, ...], since: str | None, until: str | None, limit: int,
        stored: Callable[[int], dict] | None = None,
    ) -> list[tuple[int, float]]:
        """(docnum, score) of the best copies: the scores Whoosh gives
        `build_query`, computed a term at a time (see `scoring`)."""
        postings = self._postings()
        planned = scoring.plan(postings, parsed.parts, fields, FIELD_WEIGHTS)
        extras = [
            scoring.extra(postings, f, word, FIELD_WEIGHTS.get(f, 1.0))
            for word in _joined_words(parsed, self.known) for f in fields
        ] + [scoring.extra(postings, "arxiv_id", i, ARXIV_BOOST) for i in parsed.arxiv_ids]
        within = postings.within("date", since, until) if since or until else None
        return scoring.top(postings, planned, extras, limit, self._arxiv_id, stored or self._stored, within)

    def _postings(self) -> scoring.Postings:
        if self._scorer is None:
            self._scorer = scoring.Postings(self._searcher, BM25_K1, BM25_B)
        return self._scorer

    def _suggest(self, parsed: ParsedQuery) -> str | None:
        """The query with each word that matches nothing replaced by the
        nearest indexed term, or None when every word matched."""
        reader = self._searcher.reader()
        text, changed = parsed.text, False
        for part in parsed.typed:
            term = part.alternatives[0][0]
            if len(part.alternatives[0]) > 1 or self.known(term) or not part.label:
                continue
            # the combined field holds every section's terms: one look-up, not eight
            near = set(reader.terms_within(ALL, term, 1))
            best = closest(term, near, lambda t: reader.doc_frequency(ALL, t))
            if best:
                text, changed = text.replace(part.label, best, 1), True
        return text if changed else None

    @_damage_is_corruption
    def paper(self, arxiv_id: str) -> PaperView:
        copies = sorted(self._searcher.documents(arxiv_id=_bare_id(arxiv_id)), key=lambda d: d["date"])
        if not copies:
            raise NotFoundError(f"no paper with arXiv id {arxiv_id!r} in the index")
        latest = copies[-1]
        sections = {f: latest[f] for f in TEXT_FIELDS[1:] if f in latest}
        by_date = {d["date"]: {f: d[f] for f in TEXT_FIELDS[1:] if f in d} for d in copies}
        return PaperView(latest["arxiv_id"], latest["title"], latest["url"], tuple(by_date), sections, by_date)

    @_damage_is_corruption
    def similar(self, arxiv_id: str, *, limit: int = 10) -> Results:
        bare = _bare_id(arxiv_id)
        copies = [self._stored(n) for n in self._searcher.document_numbers(arxiv_id=bare)]
        if not copies:
            raise NotFoundError(f"no paper with arXiv id {arxiv_id!r} in the index")
        reader = self._searcher.reader()
        keys = key_terms([c["spans"] for c in copies], lambda t: reader.doc_frequency(ALL, t), reader.doc_count())
        forms = surface_forms([c["spans"] for c in copies], copies)
        parsed = ParsedQuery(bare, tuple(Part(((t,),), weight=w, typed=False) for t, w in keys))
        query = wq.Or([wq.Term(f, t, boost=w * FIELD_WEIGHTS[f]) for t, w in keys for f in TEXT_FIELDS])
        found = self._searcher.search(
            query, limit=max(CANDIDATES, limit), collapse="arxiv_id", mask=wq.Term("arxiv_id", bare), terms=False
        )
        hits = []
        for found_hit in found:
            stored = self._stored(found_hit.docnum)
            present = {t for name in stored["spans"] for t in stored["spans"].terms(name)}
            shared = tuple(forms[t] for t, _ in keys if t in present)
            hit = self._hit(stored, found_hit.score * len(shared) / max(len(keys), 1), parsed, TEXT_FIELDS)
            hits.append(replace(hit, shared_terms=shared))
        # Whoosh ignores collapse when a mask is given: keep each paper's best copy
        best: dict[str, Hit] = {}
        for hit in sorted(hits, key=lambda h: -h.score):
            best.setdefault(hit.arxiv_id, hit)
        hits = list(best.values())[:limit]
        # Whoosh cannot list all matches of a masked, collapsed search
        # (Results.docs fails in CollapseCollector.all_ids), so total counts the shown ones.
        return Results(hits, query=bare, total=len(hits))

    @_damage_is_corruption
    def stats(self) -> IndexStats:
        manifest = read_manifest(self.generation)
        reader = self._searcher.reader()
        column = reader.column_reader("date") if reader.doc_count() else {}
        # from live documents: the term list still has deleted posts' dates
        dates = sorted({column[d] for d in reader.all_doc_ids()})
        entries, papers = manifest.counts()
        top = {
            f: [(t.decode(), int(n)) for n, t in reader.most_frequent_terms(f, 40) if _telling(t.decode())][:8]
            for f in TEXT_FIELDS
        }
        size = sum(p.stat().st_size for p in self.generation.iterdir() if p.is_file())
        return IndexStats(
            str(self.generation.parent), len(manifest.posts), entries, papers,
            dates[0] if dates else None, dates[-1] if dates else None,
            size, manifest.analyzer, manifest.kiwi, top,
        )

    def _stored(self, docnum: int) -> dict:
        """A document's stored fields with its term offsets unpacked."""
        stored = dict(self._searcher.stored_fields(docnum))
        stored["spans"] = Spans(stored["spans"])
        return stored

    def _arxiv_id(self, docnum: int) -> str:
        return self._column("arxiv_id")[docnum]

    def _column(self, name: str) -> Any:
        """A sortable field's column, opened once: opening one reads its
        whole offset table."""
        if name not in self._columns:
            self._columns[name] = self._searcher.reader().column_reader(name)
        return self._columns[name]

    def _latest_dates(self, wquery: wq.Query, since: str | None = None, until: str | None = None) -> dict[str, str]:
        """Each matching paper's latest post date among its copies in the
        date range, read apart from the top-N collector: Whoosh's
        Results.docs fails on filtered, collapsed searches."""
        ids, dates = self._column("arxiv_id"), self._column("date")
        low, high = since or "", until or "\uffff"
        latest: dict[str, str] = {}
        for docnum in self._searcher.docs_for_query(wquery):
            if low <= dates[docnum] <= high:
                latest[ids[docnum]] = max(latest.get(ids[docnum], ""), dates[docnum])
        return latest

    def _distinct(self, wquery: wq.Query, since: str | None, until: str | None) -> int:
        """Distinct papers matching in the date range."""
        return len(self._latest_dates(wquery, since, until))

    def _hit(self, stored: dict, score: float, parsed: ParsedQuery, fields: tuple[str, ...]) -> Hit:
        column = self._column("date")
        dates = sorted({column[n] for n in self._searcher.document_numbers(arxiv_id=stored["arxiv_id"])})
        highlights = {}
        for name in fields:
            spans = find_matches(stored["spans"].get(name, ()), parsed.terms, parsed.phrases)
            if spans:
                highlights[name] = fragment(stored[name], spans)
        return Hit(
            stored["arxiv_id"], stored["title"], stored["url"], tuple(dates), score, tuple(highlights), highlights
        )


def _bare_id(arxiv_id: str) -> str:
    """The bare id in the forms people paste: 2510.00515, 2510.00515v2,
    arXiv:2510.00515, https://arxiv.org/abs/2510.00515v1."""
    match = _ID.search(arxiv_id.strip()) if isinstance(arxiv_id, str) else None
    if match is None:
        raise QueryError(f"{arxiv_id!r} is not an arXiv id like 2510.00515")
    return match.group(1)


def _telling(term: str) -> bool:
    """Terms worth listing in stats: not single syllables or numbers."""
    return len(term) > 1 and not term.replace(".", "").isdigit()


# Query construction


def build_query(
    parsed: ParsedQuery, fields: tuple[str, ...], known: Callable[[str], bool] = lambda t: False
) -> wq.Query | None:
    """The Whoosh query: required phrases AND-ed, everything else OR-ed,
    plus compounds of neighbouring words and arXiv id look-ups. It lists
    every match (sorting by date, totals); `scoring` ranks the top."""
    required = [_part(p, fields) for p in parsed.parts if p.required]
    optional = [_part(p, fields) for p in parsed.parts if not p.required]
    optional += _joined(parsed, fields, known)
    optional += [wq.Term("arxiv_id", i, boost=ARXIV_BOOST) for i in parsed.arxiv_ids]
    if not required and not optional:
        return None
    if not required:
        return wq.Or(optional)
    must = wq.And(required) if len(required) > 1 else required[0]
    return wq.AndMaybe(must, wq.Or(optional)) if optional else must


def _part(part: Part, fields: tuple[str, ...]) -> wq.Query:
    alternatives = [_sequence(alt, fields, part.weight) for alt in part.alternatives]
    return alternatives[0] if len(alternatives) == 1 else wq.DisjunctionMax(alternatives)


def _sequence(terms: tuple[str, ...], fields: tuple[str, ...], weight: float, slop: int = 1) -> wq.Query:
    """One term or phrase over the fields, each field boosted by its weight
    (the combined field carries its weights in its postings, but no
    positions: a phrase there is a phrase in any section)."""
    if len(terms) > 1 and fields == (ALL,):
        fields = TEXT_FIELDS

    def one(f: str) -> wq.Query:
        boost = FIELD_WEIGHTS.get(f, 1.0) * weight
        if len(terms) == 1:
            return wq.Term(f, terms[0], boost=boost)
        return wq.Phrase(f, list(terms), slop=slop, boost=boost)

    return one(fields[0]) if len(fields) == 1 else wq.Or([one(f) for f in fields])


def _joined(parsed: ParsedQuery, fields: tuple[str, ...], known: Callable[[str], bool]) -> list[wq.Query]:
    return [_sequence((word,), fields, 1.0) for word in _joined_words(parsed, known)]


def _joined_words(parsed: ParsedQuery, known: Callable[[str], bool]) -> list[str]:
    """Two Korean words typed apart also match the compound written as one
    word (희소 어텐션 → 희소어텐션), when the index has it."""
    joined = ["".join(pair) for pair in neighbour_pairs(parsed)]
    return [word for word in joined if is_hangul(word) and known(word)]


def _date_range(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """ISO dates as stored (2025-10-06); compact forms are normalised, a
    bad date or an empty range is an input error."""
    out = []
    for name, value in (("since", since), ("until", until)):
        try:
            out.append(date.fromisoformat(value).isoformat() if value else None)
        except (TypeError, ValueError):
            raise QueryError(f"{name} date {value!r} is not an ISO date like 2025-10-06") from None
    if out[0] and out[1] and out[0] > out[1]:
        raise QueryError(f"since date {out[0]} is after until date {out[1]}")
    return out[0], out[1]


