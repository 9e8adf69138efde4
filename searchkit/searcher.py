"""Index → hits: the `Index` interface and its Whoosh implementation.

Parts: the backend-neutral interface (`Index`, `open_index`), ranking
constants, and `WhooshIndex`, which turns a `ParsedQuery` into a Whoosh
query, ranks with BM25F, collapses re-posted papers to their best copy,
re-ranks the top by how many query words a paper covers, and cuts
highlights from stored offsets.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.scoring import BM25F

from .errors import IndexCorruptError, NotFoundError, QueryError
from .glossary import Glossary
from .highlight import find_matches, fragment
from .hits import Hit, IndexStats, PaperView, Results
from .lexicon import Lexicon
from .query import ParsedQuery, Part, is_hangul, parse_query, split_compounds
from .schema import FIELD_WEIGHTS, TEXT_FIELDS, resolve_sections
from .similar import key_terms, surface_forms
from .store import FORMAT, LEXICON, live_generation, read_manifest
from .suggest import closest

BM25_B, BM25_K1 = 0.75, 1.2
PROXIMITY_WEIGHT, PROXIMITY_SLOP = 0.6, 3
"""Extra score when two query words stand within a few words of each other."""
COORD_POWER = 1.0
"""Score × (covered query words / all query words) ** COORD_POWER."""
CANDIDATES = 60
"""Collapsed papers fetched before coverage re-ranking."""
ARXIV_BOOST = 1000.0


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


class WhooshIndex(Index):
    """One generation of a Whoosh index, with its lexicon."""

    def __init__(self, generation: Path) -> None:
        self.generation = generation
        self._ix = whoosh_index.open_dir(str(generation))
        weighting = BM25F(B=BM25_B, K1=BM25_K1)
        self._searcher = self._ix.searcher(weighting=weighting)
        self._lexicon = Lexicon(generation / LEXICON)
        self._glossary = Glossary(generation)

    def close(self) -> None:
        self._searcher.close()
        self._ix.close()
        self._lexicon.close()

    def parse(self, query: str, expand: bool = True) -> ParsedQuery:
        parsed = split_compounds(parse_query(query, self._lexicon.analyse), self.known)
        return self._glossary.expand(parsed) if expand else parsed

    def known(self, term: str) -> bool:
        """Whether any section holds the term (for compound splitting)."""
        reader = self._searcher.reader()
        return any(reader.doc_frequency(f, term) for f in TEXT_FIELDS)

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
        fields = resolve_sections(sections)
        parsed = self.parse(query, expand)
        wquery = build_query(parsed, fields, self.known)
        if wquery is None:
            return Results([], query=parsed.text, total=0, expansions=parsed.expansions)
        found = self._searcher.search(
            wquery,
            limit=max(CANDIDATES, limit),
            collapse="arxiv_id",
            collapse_limit=1,
            filter=_date_filter(since, until),
            terms=False,
        )
        ranked = []
        for found_hit in found:
            stored = self._searcher.stored_fields(found_hit.docnum)
            hit = self._hit(stored, found_hit.score, parsed, fields)
            ranked.append((hit, _covered(stored["spans"], fields, parsed)))
        ranked = rerank(ranked, parsed)
        if sort == "date":
            ranked.sort(key=lambda h: (h.dates[-1], h.score), reverse=True)
        total = self._distinct(wquery, since, until)
        return Results(
            ranked[:limit], query=parsed.text, total=total, expansions=parsed.expansions,
            suggestion=self._suggest(parsed),
        )

    def _suggest(self, parsed: ParsedQuery) -> str | None:
        """The query with each word that matches nothing replaced by the
        nearest indexed term, or None when every word matched."""
        reader = self._searcher.reader()
        text, changed = parsed.text, False
        for part in parsed.typed:
            term = part.alternatives[0][0]
            if len(part.alternatives[0]) > 1 or self.known(term) or not part.label:
                continue
            near = {t for f in TEXT_FIELDS for t in reader.terms_within(f, term, 1)}
            best = closest(term, near, lambda t: sum(reader.doc_frequency(f, t) for f in TEXT_FIELDS))
            if best:
                text, changed = text.replace(part.label, best, 1), True
        return text if changed else None

    def paper(self, arxiv_id: str) -> PaperView:
        copies = sorted(self._searcher.documents(arxiv_id=_bare_id(arxiv_id)), key=lambda d: d["date"])
        if not copies:
            raise NotFoundError(f"no paper with arXiv id {arxiv_id!r} in the index")
        latest = copies[-1]
        sections = {f: latest[f] for f in TEXT_FIELDS[1:] if f in latest}
        by_date = {d["date"]: {f: d[f] for f in TEXT_FIELDS[1:] if f in d} for d in copies}
        return PaperView(latest["arxiv_id"], latest["title"], latest["url"], tuple(by_date), sections, by_date)

    def similar(self, arxiv_id: str, *, limit: int = 10) -> Results:
        bare = _bare_id(arxiv_id)
        copies = list(self._searcher.documents(arxiv_id=bare))
        if not copies:
            raise NotFoundError(f"no paper with arXiv id {arxiv_id!r} in the index")
        reader = self._searcher.reader()
        keys = key_terms(
            [c["spans"] for c in copies],
            lambda t: sum(reader.doc_frequency(f, t) for f in TEXT_FIELDS),
            reader.doc_count(),
        )
        forms = surface_forms([c["spans"] for c in copies], copies)
        parsed = ParsedQuery(bare, tuple(Part(((t,),), weight=w) for t, w in keys))
        query = wq.Or([wq.Term(f, t, boost=w * FIELD_WEIGHTS[f]) for t, w in keys for f in TEXT_FIELDS])
        found = self._searcher.search(
            query, limit=max(CANDIDATES, limit), collapse="arxiv_id", mask=wq.Term("arxiv_id", bare), terms=False
        )
        hits = []
        for found_hit in found:
            stored = self._searcher.stored_fields(found_hit.docnum)
            present = {t for items in stored["spans"].values() for t, *_ in items}
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

    def stats(self) -> IndexStats:
        manifest = read_manifest(self.generation)
        reader = self._searcher.reader()
        dates = sorted(t.decode() if isinstance(t, bytes) else t for t in reader.lexicon("date"))
        ids = [i for entry in manifest.posts.values() for i in entry["ids"]]
        top = {
            f: [(t.decode(), int(n)) for n, t in reader.most_frequent_terms(f, 40) if _telling(t.decode())][:8]
            for f in TEXT_FIELDS
        }
        size = sum(p.stat().st_size for p in self.generation.iterdir() if p.is_file())
        return IndexStats(
            str(self.generation.parent), len(manifest.posts), len(ids), len(set(ids)),
            dates[0] if dates else None, dates[-1] if dates else None,
            size, manifest.analyzer, manifest.kiwi, top,
        )

    def _distinct(self, wquery: wq.Query, since: str | None, until: str | None) -> int:
        """Distinct papers matching, counted apart from the top-N collector:
        Whoosh's Results.docs fails on filtered, collapsed searches."""
        reader = self._searcher.reader()
        ids, dates = reader.column_reader("arxiv_id"), reader.column_reader("date")
        low, high = since or "", until or "\uffff"
        return len({ids[d] for d in self._searcher.docs_for_query(wquery) if low <= dates[d] <= high})

    def _hit(self, stored: dict, score: float, parsed: ParsedQuery, fields: tuple[str, ...]) -> Hit:
        dates = sorted({d["date"] for d in self._searcher.documents(arxiv_id=stored["arxiv_id"])})
        highlights = {}
        for name in fields:
            spans = find_matches(stored["spans"].get(name, ()), parsed.terms, parsed.phrases)
            if spans:
                highlights[name] = fragment(stored[name], spans)
        return Hit(
            stored["arxiv_id"], stored["title"], stored["url"], tuple(dates), score, tuple(highlights), highlights
        )


def _bare_id(arxiv_id: str) -> str:
    """2510.00515v2 names the same paper as 2510.00515."""
    return re.sub(r"v\d+$", "", arxiv_id.strip())


def _telling(term: str) -> bool:
    """Terms worth listing in stats: not single syllables or numbers."""
    return len(term) > 1 and not term.replace(".", "").isdigit()


# Query construction


def build_query(
    parsed: ParsedQuery, fields: tuple[str, ...], known: Callable[[str], bool] = lambda t: False
) -> wq.Query | None:
    """The Whoosh query: required phrases AND-ed, everything else OR-ed,
    plus proximity bonuses for neighbouring words and arXiv id look-ups."""
    required = [_part(p, fields) for p in parsed.parts if p.required]
    optional = [_part(p, fields) for p in parsed.parts if not p.required]
    optional += _proximity(parsed.typed, fields, known)
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
    if len(terms) == 1:
        return wq.Or([wq.Term(f, terms[0], boost=FIELD_WEIGHTS[f] * weight) for f in fields])
    return wq.Or([wq.Phrase(f, list(terms), slop=slop, boost=FIELD_WEIGHTS[f] * weight) for f in fields])


def _proximity(parts: tuple[Part, ...], fields: tuple[str, ...], known: Callable[[str], bool]) -> list[wq.Query]:
    """Neighbouring typed words that also stand close in a section score
    extra: papers about "시각 토큰" beat papers mentioning both apart. Two
    Korean words typed apart also match the compound written as one word
    (희소 어텐션 → 희소어텐션), when the index has it."""
    singles = [p.alternatives[-1] for p in parts if not p.required]
    pairs = {(a[-1], b[0]) for a, b in zip(singles, singles[1:]) if a[-1] != b[0]}
    clauses = []
    for pair in sorted(pairs):
        near = _sequence(pair, fields, PROXIMITY_WEIGHT, slop=PROXIMITY_SLOP)
        joined = "".join(pair)
        if is_hangul(joined) and known(joined):
            near = wq.Or([near, _sequence((joined,), fields, 1.0 + PROXIMITY_WEIGHT)])
        clauses.append(near)
    return clauses


def _date_filter(since: str | None, until: str | None) -> wq.Query | None:
    if not since and not until:
        return None
    for name, value in (("since", since), ("until", until)):
        if value:
            try:
                date.fromisoformat(value)
            except (TypeError, ValueError):
                raise QueryError(f"{name} date {value!r} is not an ISO date like 2025-10-06") from None
    return wq.TermRange("date", since or None, until or None)


# Re-ranking


def _covered(spans: dict, fields: tuple[str, ...], parsed: ParsedQuery) -> int:
    """How many typed parts of the query occur anywhere in the paper."""
    present = {t for name in fields for t, *_ in spans.get(name, ())}
    count = 0
    for part in parsed.typed:
        if any(all(term in present for term in alt) for alt in part.alternatives):
            count += 1
    return count


def rerank(ranked: list[tuple[Hit, int]], parsed: ParsedQuery) -> list[Hit]:
    """Scale scores by query coverage, so papers matching more of the
    query's words come first while every word stays optional."""
    total = len(parsed.typed)
    if total <= 1:
        return [hit for hit, _ in ranked]
    rescored = []
    for hit, covered in ranked:
        factor = (max(covered, 1) / total) ** COORD_POWER
        rescored.append(_with_score(hit, hit.score * factor))
    return sorted(rescored, key=lambda h: -h.score)


def _with_score(hit: Hit, score: float) -> Hit:
    return replace(hit, score=score)
