"""Index → hits: the `Index` interface and its Whoosh implementation.

Parts: the backend-neutral interface (`Index`, `open_index`), ranking
constants, and `WhooshIndex`, which ranks a `ParsedQuery` by BM25F over
Whoosh's postings (see `scoring`), one copy per re-posted paper,
re-ranks the top by how many query words a paper covers and how close
they stand, and cuts highlights from stored offsets.
"""

from __future__ import annotations

import re
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh.scoring import BM25F

from . import scoring
from .errors import IndexClosedError, IndexCorruptError, NotFoundError, QueryError, SearchkitError
from .glossary import Glossary
from .highlight import highlight
from .hits import Explanation, Hit, IndexStats, PaperView, Results
from .lexicon import Lexicon
from .query import ParsedQuery, Part, is_hangul, parse_query, split_compounds
from .ranking import coverage, neighbour_pairs, proximity
from .schema import ALL, FIELD_WEIGHTS, TEXT_FIELDS, Spans, resolve_sections
from .similar import key_terms, surface_forms
from .store import FORMAT, LEXICON, Manifest, directory, live_generation, read_manifest
from .suggest import closest

BM25_B, BM25_K1 = 0.75, 1.6
CANDIDATES = 30
"""Collapsed papers fetched before coverage re-ranking."""
COUNT_BUDGET = 500
"""Phrase checks a total may spend before it estimates the rest from them
(~0.1 s; a sample of 500 puts a 95% match rate within ±2%)."""
ARXIV_BOOST = 1000.0
SUGGEST_WORDS = 4
"""Unmatched words a "did you mean" looks at: each costs a scan of the
term list, and a query of hundreds of unknown words is no typo."""
_ID = re.compile(
    r"^(?:arxiv:|(?:https?://)?(?:www\.)?arxiv\.org/(?:abs|pdf|html)/)?(\d{4}\.\d{4,5})(?:v\d+)?(?:\.pdf)?/?$", re.I
)


# Interface


class Index(ABC):
    """What every backend answers; the CLI and library use only this."""

    @abstractmethod
    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        sections: str | Iterable[str] | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
        sort: str = "score",
        expand: bool = True,
        explain: bool = False,
    ) -> Results:
        """Rank papers for ``query``; see the README for the syntax.

        :param sections: one `SECTION_GROUPS` name or several.
        :param since, until: ISO dates (``2025-10-01``) or `datetime.date`.
        :param explain: give each hit an `Explanation` of its score.
        """

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
    """Open the live generation of the index at ``index_dir`` (or of the
    cluster at a ``sphinx://HOST:PORT/NAME`` URL) for reading."""
    if isinstance(index_dir, str) and index_dir.startswith("sphinx://"):
        from .backends.sphinx.reader import open_cluster

        return open_cluster(index_dir)
    index = directory(index_dir)
    generation = live_generation(index)
    manifest = read_manifest(generation)
    if manifest.format != FORMAT:
        raise IndexCorruptError(
            f"index at {index} has an older format; run `papersearch reindex --full --index {index}`"
        )
    try:
        return WhooshIndex(generation, manifest)
    except Exception as exc:  # Whoosh raises many types for damaged files
        raise IndexCorruptError(
            f"index at {index} cannot be opened ({exc.__class__.__name__}); "
            f"run `papersearch reindex --full --index {index}`"
        ) from None


# Whoosh


class _Reader:
    """One thread's view of a generation: a Whoosh searcher and what is
    read from it once. Whoosh's readers seek and read shared file handles,
    so two threads on one searcher read each other's bytes (wrong postings,
    missing papers, false "damaged" errors): each thread gets its own. Its
    lock lets a lazy total be counted from another thread."""

    def __init__(self, ix: Any, field_totals: dict[str, int]) -> None:
        # the weighting only supplies Whoosh's own scores, for the tests to compare with
        self.searcher = ix.searcher(weighting=BM25F(B=BM25_B, K1=BM25_K1))
        # closes the files once: on `close`, or when the thread's reader is dropped
        self._close = weakref.finalize(self, self.searcher.close)
        self.lock = threading.RLock()
        self._totals = field_totals
        self._postings: scoring.Postings | None = None
        self.columns: dict[str, Any] = {}
        self.papers: np.ndarray | None = None

    @property
    def postings(self) -> scoring.Postings:
        if self._postings is None:
            self._postings = scoring.Postings(self.searcher, BM25_K1, BM25_B, self._totals)
        return self._postings

    def column(self, name: str) -> Any:
        """A sortable field's column, opened once: opening one reads its
        whole offset table."""
        if name not in self.columns:
            self.columns[name] = self.searcher.reader().column_reader(name)
        return self.columns[name]

    def close(self) -> None:
        with self.lock:
            self._close()


def _per_thread(method: Callable) -> Callable:
    """Run a public method on this thread's reader, holding its lock, with
    Whoosh's own failures reported as a damaged index (a truncated or
    garbled file raises anything from EOFError to a bare Exception, naming
    the repair); failures in our own code stay what they are."""

    @wraps(method)
    def guarded(self: WhooshIndex, *args: Any, **kwargs: Any) -> Any:
        try:
            with self._reader.lock:
                return method(self, *args, **kwargs)
        except SearchkitError:
            raise
        except Exception as exc:
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            in_whoosh = tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith("whoosh")
            if not (in_whoosh or isinstance(exc, scoring.Damaged)):
                raise
            index = self.generation.parent
            raise IndexCorruptError(
                f"index at {index} is damaged ({exc.__class__.__name__} in Whoosh); "
                f"run `papersearch reindex --full --index {index}`"
            ) from None

    return guarded


class WhooshIndex(Index):
    """One generation of a Whoosh index, with its lexicon. One open index
    may be shared by threads: each reads through its own `_Reader`."""

    def __init__(self, generation: Path, manifest: Manifest | None = None) -> None:
        self.generation = generation
        self._totals = (manifest or read_manifest(generation)).field_totals()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._readers: weakref.WeakSet[_Reader] = weakref.WeakSet()
        self._pending: list[weakref.ref[Results]] = []
        self._closed = False
        self._ix = whoosh_index.open_dir(str(generation))
        try:
            self._lexicon = Lexicon(generation / LEXICON, readonly=True)
            self._glossary = Glossary(generation)
            _ = self._reader  # the opening thread's: a damaged segment shows now
        except BaseException:
            self._ix.close()
            raise

    @property
    def _reader(self) -> _Reader:
        """This thread's reader, opened on its first use; a thread that
        ends takes its reader with it."""
        reader = getattr(self._local, "reader", None)
        if self._closed:
            raise IndexClosedError(f"the index at {self.generation.parent} is closed; open it again to search it")
        if reader is None:
            reader = _Reader(self._ix, self._totals)
            with self._lock:
                self._readers.add(reader)
            self._local.reader = reader
        return reader

    @property
    def _searcher(self) -> Any:
        return self._reader.searcher

    def close(self) -> None:
        """Count the totals still pending, then close every thread's reader.
        Later calls raise `IndexClosedError`; closing again does nothing."""
        with self._lock:
            if self._closed:
                return
            pending, self._pending = self._pending, []
        for ref in pending:  # totals need their reader: count them now
            if (results := ref()) is not None:
                _ = results.total
        with self._lock:
            self._closed = True
            readers = list(self._readers)
        for reader in readers:
            reader.close()
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
        """Whether any live section holds the term (compound splitting, suggestions)."""
        return self._postings().df(ALL, term) > 0

    @_per_thread
    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        sections: str | Iterable[str] | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
        sort: str = "score",
        expand: bool = True,
        explain: bool = False,
    ) -> Results:
        limit = check_limit(limit)
        if sort not in ("score", "date"):
            raise QueryError(f"sort must be 'score' or 'date', not {sort!r}")
        fields = resolve_sections(sections)
        since, until = date_range(since, until)
        parsed = self.parse(query, expand)
        if not (parsed.parts or parsed.arxiv_ids) or self._postings().count == 0:
            return Results([], query=parsed.text, total=0, expansions=parsed.expansions)
        # unrestricted searches match on the combined field: one posting list a term
        postings = self._postings()
        within = postings.within("date", since, until) if since or until else None
        query = self._plan(parsed, (ALL,) if fields == TEXT_FIELDS else fields, within)
        if sort == "date":
            latest = self._latest_dates(query.matching())
            everything = query.top(len(latest))  # each paper's best copy
            ranked = sorted(everything, key=lambda item: (latest[self._arxiv_id(item[0])], item[1]), reverse=True)
            candidates = [(d, score, 1.0, 1.0) for d, score in ranked[:limit]]
        else:
            candidates = []
            for docnum, score in query.top(max(CANDIDATES, limit)):
                spans = query.stored(docnum)["spans"]
                candidates.append((docnum, score, coverage(spans, fields, parsed), proximity(spans, fields, parsed)))
            candidates.sort(key=lambda item: -item[1] * item[2] * item[3])
        hits = []
        for docnum, score, covered, near in candidates[:limit]:
            hit = self._hit(query.stored(docnum), score * covered * near, parsed, fields)
            if explain:
                hit = replace(hit, explanation=query.explain(docnum, score, covered, near))
            hits.append(hit)
        results = Results(
            hits, query=parsed.text, total=self._counter(query),
            expansions=parsed.expansions, suggestion=self._suggest(parsed),
        )
        return self._track(results)

    def _counter(self, query: Planned) -> Callable[[], tuple[int, bool]]:
        """The lazy total of ``query``, counted under its reader's lock from
        whichever thread asks."""
        reader = self._reader

        def count() -> tuple[int, bool]:
            with reader.lock:
                return query.count(self._distinct)

        return count

    def _track(self, results: Results) -> Results:
        """Totals are counted lazily and need the reader: `close` counts
        those still pending."""
        with self._lock:
            self._pending = [ref for ref in self._pending if ref() is not None] + [weakref.ref(results)]
        return results

    def _plan(self, parsed: ParsedQuery, fields: tuple[str, ...], within: np.ndarray | None = None) -> Planned:
        """The query scored a term at a time (see `scoring`), over the
        documents in ``within`` (all when None), ready to give its top papers
        or every match; stored fields are read once."""
        reader = self._reader
        postings = reader.postings
        planned = scoring.plan(postings, parsed.parts, fields, FIELD_WEIGHTS)
        joined = _joined_words(parsed, self.known)
        clauses = [(f, word, FIELD_WEIGHTS.get(f, 1.0), word) for word in joined for f in fields]
        clauses += [("arxiv_id", i, ARXIV_BOOST, i) for i in parsed.arxiv_ids]
        extras = [postings.dense(f, term, boost) for f, term, boost, _ in clauses]
        planned_query = Planned(postings, planned, extras, within, reader.column("arxiv_id").__getitem__,
                                lambda docnum: _unpacked(reader.searcher.stored_fields(docnum)))
        planned_query.explainer = lambda doc, spans: scoring.explain(
            postings, planned, parsed.parts, fields, FIELD_WEIGHTS, clauses, doc, spans
        )
        return planned_query

    def _postings(self) -> scoring.Postings:
        return self._reader.postings

    def _suggest(self, parsed: ParsedQuery) -> str | None:
        """The query with each typed word that matches nothing replaced by
        the nearest indexed word, or None when every word matched. Bounded:
        at most `SUGGEST_WORDS` words are looked at, a query of hundreds of
        unknown words is no typo."""
        reader, postings = self._searcher.reader(), self._postings()
        text, changed = parsed.text, False
        # a word matches through its synonyms too (보상 through reward)
        matched = {w for p in parsed.parts if any(map(self._matches, p.alternatives)) for w in p.label.split()}
        unmatched = [p for p in parsed.typed if p.label and not set(p.label.split()) <= matched]
        for part in unmatched[:SUGGEST_WORDS]:
            term = part.alternatives[0][0]
            # a glossary term is spelt right, only absent here (보상 is no typo of 보장)
            if len(part.alternatives[0]) > 1 or not is_word(term) or self._glossary.knows((term,)):
                continue
            # the combined field holds every section's terms: one look-up, not eight
            near = [t for t in reader.terms_within(ALL, term, 1) if is_word(t) and postings.df(ALL, t)]
            best = closest(term, near, lambda t: postings.df(ALL, t))
            if best and (fixed := _replace_word(text, part.label, best)) != text:
                text, changed = fixed, True
        return text if changed else None

    def _matches(self, terms: tuple[str, ...]) -> bool:
        """Whether every term of an alternative occurs in the index."""
        return all(self.known(t) for t in terms)

    @_per_thread
    def export_source(self) -> dict[str, Any]:
        """What a static export (`searchkit.site.export`) reads, exactly as
        `search` reads it: this thread's `scoring.Postings` (live N, df, idf,
        lengths, tf), its Whoosh reader (term lists), stored fields by
        docnum, the lexicon, the glossary and the ranking constants."""
        return {
            "postings": self._postings(), "reader": self._searcher.reader(), "stored": self._stored,
            "lexicon": self._lexicon, "glossary": self._glossary,
            "constants": {"BM25_K1": BM25_K1, "BM25_B": BM25_B, "CANDIDATES": CANDIDATES,
                          "COUNT_BUDGET": COUNT_BUDGET, "ARXIV_BOOST": ARXIV_BOOST, "SUGGEST_WORDS": SUGGEST_WORDS},
        }

    @_per_thread
    def paper(self, arxiv_id: str) -> PaperView:
        copies = sorted(self._searcher.documents(arxiv_id=_bare_id(arxiv_id)), key=lambda d: d["date"])
        if not copies:
            raise NotFoundError(f"no paper with arXiv id {arxiv_id!r} in the index")
        latest = copies[-1]
        sections = {f: latest[f] for f in TEXT_FIELDS[1:] if f in latest}
        by_date = {d["date"]: {f: d[f] for f in TEXT_FIELDS[1:] if f in d} for d in copies}
        return PaperView(latest["arxiv_id"], latest["title"], latest["url"], tuple(by_date), sections, by_date)

    @_per_thread
    def similar(self, arxiv_id: str, *, limit: int = 10) -> Results:
        limit = check_limit(limit)
        bare = _bare_id(arxiv_id)
        copies = [self._stored(n) for n in self._searcher.document_numbers(arxiv_id=bare)]
        if not copies:
            raise NotFoundError(f"no paper with arXiv id {arxiv_id!r} in the index")
        postings = self._postings()
        keys = key_terms([c["spans"] for c in copies], lambda t: postings.df(ALL, t), postings.count)
        forms = surface_forms([c["spans"] for c in copies], copies, {t for t, _ in keys})
        parsed = ParsedQuery(bare, tuple(Part(((t,),), weight=w, typed=False) for t, w in keys))
        others = ~postings.dense("arxiv_id", bare).match  # never the paper itself
        query = self._plan(parsed, TEXT_FIELDS, others)
        hits = []
        for docnum, score in query.top(max(CANDIDATES, limit)):
            stored = query.stored(docnum)
            present = {t for name in stored["spans"] for t in stored["spans"].terms(name)}
            shared = tuple(forms[t] for t, _ in keys if t in present)
            hit = self._hit(stored, score * len(shared) / max(len(keys), 1), parsed, TEXT_FIELDS)
            hits.append(replace(hit, shared_terms=shared))
        hits.sort(key=lambda h: -h.score)
        return self._track(Results(hits[:limit], query=bare, total=self._counter(query)))

    @_per_thread
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
        return _unpacked(self._searcher.stored_fields(docnum))

    def _arxiv_id(self, docnum: int) -> str:
        return self._column("arxiv_id")[docnum]

    def _column(self, name: str) -> Any:
        return self._reader.column(name)

    def _distinct(self, docnums: list[int]) -> int:
        """How many papers these documents are copies of."""
        reader = self._reader
        if reader.papers is None:  # one code a paper, read once: totals count thousands of matches
            codes: dict[str, int] = {}
            reader.papers = np.array([codes.setdefault(i, len(codes)) for i in self._column("arxiv_id")])
        return len(np.unique(reader.papers[docnums])) if docnums else 0

    def _latest_dates(self, docnums: Iterable[int]) -> dict[str, str]:
        """Each paper's latest post date among the given copies."""
        ids, dates = self._column("arxiv_id"), self._column("date")
        latest: dict[str, str] = {}
        for docnum in docnums:
            paper = ids[docnum]
            latest[paper] = max(latest.get(paper, ""), dates[docnum])
        return latest

    def _hit(self, stored: dict, score: float, parsed: ParsedQuery, fields: tuple[str, ...]) -> Hit:
        column = self._column("date")
        dates = sorted({column[n] for n in self._searcher.document_numbers(arxiv_id=stored["arxiv_id"])})
        highlights = {}
        terms, phrases = parsed.terms, parsed.phrases
        for name in fields:
            shown = highlight(stored["spans"], name, stored.get(name, ""), terms, phrases)
            if shown:
                highlights[name] = shown
        return Hit(
            stored["arxiv_id"], stored["title"], stored["url"], tuple(dates), score, tuple(highlights), highlights
        )


class Planned:
    """One query against one searcher: its top papers, every match, and
    the stored fields it read (checking a phrase reads them; showing a hit
    must not read them again)."""

    def __init__(self, postings: scoring.Postings, planned: scoring.Plan, extras: list, within: Any,
                 key: Callable[[int], str], read: Callable[[int], dict]) -> None:
        self._args = (postings, planned, extras)
        self._within, self._key, self._read = within, key, read
        self._stored: dict[int, dict] = {}
        self.explainer: Callable[[int, Mapping[str, Any]], list] = lambda doc, spans: []
        """Each term's share of a document's score (set by the planner, which knows the terms)."""

    def stored(self, docnum: int) -> dict:
        if docnum not in self._stored:
            self._stored[docnum] = self._read(docnum)
        return self._stored[docnum]

    def _peek(self, docnum: int) -> dict:
        """Stored fields for a phrase check over many documents: read, not kept."""
        return self._stored.get(docnum) or self._read(docnum)

    def top(self, limit: int) -> list[tuple[int, float]]:
        """(docnum, score) of the best copies of the ``limit`` best papers."""
        return scoring.top(*self._args, limit, self._key, self.stored, self._within)

    def matching(self) -> list[int]:
        """Every matching docnum, phrases checked (date order needs them all)."""
        found = scoring.matching(*self._args, self._peek, self._within)
        return found.docs.tolist()

    def explain(self, docnum: int, score: float, covered: float, near: float) -> Explanation:
        """How the document's score adds up (see `scoring.explain`)."""
        terms = self.explainer(docnum, self.stored(docnum)["spans"])
        return Explanation(score, covered, near, BM25_K1, BM25_B, tuple(terms))

    def count(self, distinct: Callable[[list[int]], int]) -> tuple[int, bool]:
        """How many papers match, and whether that is exact: past
        `COUNT_BUDGET` phrase checks the rest is estimated from a sample."""
        found = scoring.matching(*self._args, self._peek, self._within, COUNT_BUDGET)
        return distinct(found.docs.tolist()) + round(found.unchecked * found.rate), not found.unchecked


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


def _joined_words(parsed: ParsedQuery, known: Callable[[str], bool]) -> list[str]:
    """Two Korean words typed apart also match the compound written as one
    word (희소 어텐션 → 희소어텐션), when the index has it."""
    joined = ["".join(pair) for pair in neighbour_pairs(parsed)]
    return [word for word in joined if is_hangul(word) and known(word)]


def _unpacked(fields: Mapping[str, Any]) -> dict:
    """A document's stored fields with its term offsets ready to unpack."""
    stored = dict(fields)
    stored["spans"] = Spans(stored["spans"])
    return stored


def check_limit(limit: object) -> int:
    """``limit`` as every method takes it: a whole number of at least 1."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise QueryError(f"limit must be a positive whole number, not {limit!r}")
    return limit


def is_word(term: str) -> bool:
    """Whether a term may be offered as a spelling: letters, two or more
    (never a digit, a symbol or a lone syllable like 2 for 🤖)."""
    return len(term) > 1 and all(c.isalpha() for c in term)


def _replace_word(text: str, word: str, by: str) -> str:
    """``text`` with every free-standing ``word`` replaced: inside a quoted
    phrase or another word it stays (보상 in "보상 모델" typed as 보샹)."""
    out, last = [], 0
    for match in re.finditer(re.escape(word), text):
        before, after = text[: match.start()], text[match.end() :]
        free = before.count('"') % 2 == 0
        alone = (not before or not before[-1].isalnum()) and (not after or not after[0].isalnum())
        if free and alone:
            out += [text[last : match.start()], by]
            last = match.end()
    return "".join(out) + text[last:]


def date_range(since: str | date | None, until: str | date | None) -> tuple[str | None, str | None]:
    """ISO dates as stored (2025-10-06): `datetime.date` objects and
    compact forms (20251006) are normalised, a bad date or an empty range
    is an input error."""
    out = []
    for name, value in (("since", since), ("until", until)):
        if isinstance(value, date):  # datetime too: its date
            out.append(value.isoformat()[:10])
            continue
        try:
            out.append(date.fromisoformat(value).isoformat() if value else None)
        except (TypeError, ValueError):
            raise QueryError(f"{name} date {value!r} is not an ISO date like 2025-10-06") from None
    if out[0] and out[1] and out[0] > out[1]:
        raise QueryError(f"since date {out[0]} is after until date {out[1]}")
    return out[0], out[1]
