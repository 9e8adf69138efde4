"""Query → hits, whatever the backend: the `Index` interface and `Engine`,
the one search flow every backend runs.

A backend answers a few primitives (df and live counts, a `Planned`
query over its documents, a paper's copies, post dates, nearby terms);
everything else (query parsing and expansion, the BM25F plan, coverage
and proximity re-ranking, date order, highlights, "did you mean",
similar's key terms, explanations, hits) is computed here, once, so the
Whoosh directory and the Sphinx cluster rank and show exactly alike.
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from . import feedback as pseudo
from . import scoring
from .analysis import WORD, spellings
from .errors import NotFoundError, QueryError
from .glossary import Glossary, typed_key
from .highlight import fragment, highlight
from .hits import Explanation, Hit, IndexStats, PaperView, Results
from .lexicon import Lexicon, may_stand_alone
from .query import ParsedQuery, Part, compound_halves, is_hangul, parse_query, read_phrase, split_compounds
from .ranking import coverage, neighbour_pairs, proximity
from .schema import ALL, FIELD_WEIGHTS, TEXT_FIELDS, resolve_sections
from .similar import key_terms, surface_forms, telling
from .suggest import closest, swaps
from .understand import understand

BM25_B, BM25_K1 = 0.75, 1.6
CANDIDATES = 30
"""Re-ranking window: BM25F's papers are reordered by coverage and
proximity 30 at a time (ranks 1-30 among themselves, then 31-60...), so a
longer ``limit`` only appends, never changes the papers above it (the fixed
``window_size`` of Elasticsearch's rescore, for the same reason)."""
COUNT_BUDGET = 500
"""Phrase checks a total may spend (about: a paper begun is checked whole)
before it estimates the rest from the papers checked (~0.1 s at 6,000 papers; see `scoring.counted`: a rate of
95% found in 500 papers is within ±2% at 95%, one of 10% within ±26%)."""
ARXIV_BOOST = 1000.0
SUGGEST_WORDS = 4
"""Unmatched words a "did you mean" looks at: each costs a scan of the
term list, and a query of hundreds of unknown words is no typo."""
SUGGEST_LONGEST = 40
"""Longer words get no "did you mean": no indexed term is that long (the
default corpus's longest is 24 characters), and the edit-distance automaton
over the term list grows with the word (seconds for 800 characters)."""
_ID = re.compile(
    r"^(?:arxiv:)?(\d{4}\.\d{4,5})(?:v\d+)?$"
    r"|^(<)?(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(\d{4}\.\d{4,5})(?:v\d+)?"
    r"(?:\.pdf)?(?:[/?#][^\s<>]*)?(?(2)>)$", re.I,
)
"""An arXiv id as typed or pasted: bare, ``arXiv:``, or any link form the
parser takes as a paper's (`corpus._ARXIV_URL`)."""


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
        feedback: bool = False,
    ) -> Results:
        """Rank papers for ``query``; see the README for the syntax.

        :param sections: one `SECTION_GROUPS` name or several.
        :param since, until: ISO dates (``2025-10-01``) or `datetime.date`.
        :param explain: give each hit an `Explanation` of its score.
        :param feedback: add the first hits' telling terms to the query
            and run it again (pseudo-relevance feedback, see `feedback`).
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

    def concepts(self) -> Glossary:
        """The concept layer queries expand through (glossary, concepts,
        mined pairs); every backend keeps one as ``_glossary``."""
        return self._glossary  # type: ignore[attr-defined]

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The shared flow


class Engine(Index):
    """The search flow over a backend's primitives (the abstract methods
    below). Subclasses set ``_lexicon`` and ``_glossary``."""

    _lexicon: Lexicon
    _glossary: Glossary

    @abstractmethod
    def df(self, field: str, term: str) -> int:
        """Live documents holding the term in the field (global, never per shard)."""

    @property
    @abstractmethod
    def size(self) -> int:
        """Live documents: N in the idf."""

    @abstractmethod
    def _plan(self, parsed: ParsedQuery, scope: tuple[str, ...], joined: Sequence[str],
              since: str | None = None, until: str | None = None, exclude: str | None = None) -> Planned:
        """The query over the backend's documents, ready to give its top
        papers or every match (see `plan`), copies of ``exclude`` left out."""

    @abstractmethod
    def _copies(self, arxiv_id: str) -> list[dict]:
        """Every live copy of one paper (stored fields with ``spans`` and
        texts), oldest post first; empty when there is none."""

    @abstractmethod
    def _dates(self, arxiv_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Every live post date of each paper, oldest first."""

    @abstractmethod
    def _near(self, term: str) -> list[str]:
        """Indexed terms within one edit of ``term`` (no transpositions:
        the caller adds `suggest.swaps`)."""

    def _with_texts(self, docs: Sequence[dict]) -> set[int]:
        """Make sure these stored documents carry their section texts;
        returns the positions (in ``docs``) of those whose texts could not
        be read (on a cluster, a shard that stopped answering)."""
        return set()

    def _prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        """Count these (field, term) df at once (a cluster batches them)."""

    def _finish(self, results: Results) -> Results:
        """The backend's last word on a result list (lazy totals, shards)."""
        return results

    def _total(self, query: Planned) -> Callable[[], tuple[int, bool]]:
        """The lazy total of ``query``."""
        return query.count

    # what every backend does alike

    def known(self, term: str) -> bool:
        """Whether any live section holds the term (compound splitting, suggestions)."""
        return self.df(ALL, term) > 0

    def _joined(self, parsed: ParsedQuery) -> list[str]:
        """`joined_words`, their df asked in one batch (a cluster answers
        each look-up over the network)."""
        candidates = joined_candidates(parsed)
        self._prefetch((ALL, word) for word in candidates)
        return [word for word in candidates if self.known(word)]

    def typed_terms(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """The terms each text, typed as a query, looks the concept layer up
        by (see `Glossary.expand`), for texts whose every word the corpus
        wrote: empty for the others, whose reading would be the stand-in's
        guess (분자 read as 분, 하한 as 하: an entry keyed or matched by a
        guess matched "분 단위" and "역할을 하는"), and for a text that is
        no query. Word forms are looked up at once, and the df of every
        term the reading may ask `known` about (a compound's halves, a word
        read as no term) in one batch: a cluster answers each look-up over
        the network; so are the counts of the Korean words' readings (a
        word read as itself often enough is searched so: `Lexicon.analyse`).
        Sticky pieces are not asked about: a word matched as its pieces in
        sequence has the same terms to look up by."""
        ready = self._lexicon.prefetched(texts)
        self._prefetch((ALL, term) for term in _asked_about(ready))
        counted = self._lexicon.readings([w for w, reading in ready.items() if reading is not None and is_hangul(w)])
        read = []
        for text in texts:
            if not self._lexicon.recorded(text, ready):
                read.append(())
                continue
            try:
                parsed = split_compounds(
                    parse_query(text, lambda t: self._lexicon.analyse(t, self.known, ready, counted)), self.known)
            except QueryError:
                read.append(())
                continue
            read.append(typed_key(parsed))
        return read

    def parse(self, query: str, expand: bool = True) -> ParsedQuery:
        """The query analysed as the index was: recorded word forms first,
        Kiwi only for unseen ones; expanded by the concept layer unless not,
        and each word weighed by what it tells (see `understand`)."""
        parsed = split_compounds(parse_query(query, lambda text: self._lexicon.analyse(text, self.known),
                                             self._read_phrase, self._lexicon.sticky), self.known)
        parsed = self._glossary.expand(parsed) if expand else parsed
        return understand(parsed, lambda term: self.df(ALL, term), self.size, expand)

    def _read_phrase(self, text: str) -> tuple[tuple[str, ...], ...]:
        """A quoted phrase's term sequences (`query.read_phrase`)."""
        # the commonest readings come with the counts: one look-up (a round trip on a cluster), not two
        counted = self._lexicon.readings(spellings(WORD.findall(text)))
        ready = {word: readings[0][0] for word, readings in counted.items()}
        return read_phrase(text, lambda t: self._lexicon.analyse(t, self.known, ready, counted), lambda _: counted)

    def search(
        self, query: str, *, limit: int = 10, sections: str | Iterable[str] | None = None,
        since: str | date | None = None, until: str | date | None = None, sort: str = "score",
        expand: bool = True, explain: bool = False, feedback: bool = False,
    ) -> Results:
        limit = check_limit(limit)
        if sort not in ("score", "date"):
            raise QueryError(f"sort must be 'score' or 'date', not {sort!r}")
        fields = resolve_sections(sections)
        since, until = date_range(since, until)
        parsed = self.parse(query, expand)
        if not (parsed.parts or parsed.arxiv_ids) or self.size == 0:
            return self._finish(Results([], query=parsed.text, total=0, expansions=parsed.expansions))
        # unrestricted searches match on the combined field: one posting list a term
        scope = (ALL,) if fields == TEXT_FIELDS else fields
        joined = self._joined(parsed)
        planned = self._plan(parsed, scope, joined, since, until)
        if feedback:  # pseudo-relevance feedback: plan again with the first hits' terms
            first = [(planned.stored(d)["spans"], score) for d, score in planned.top(pseudo.DOCS)]
            parsed = pseudo.expand(parsed, first, lambda t: self.df(ALL, t), self.size)
            joined = self._joined(parsed)
            planned = self._plan(parsed, scope, joined, since, until)
        shown = planned.by_date(limit) if sort == "date" else _reranked(planned, parsed, fields, limit)
        found = self._hits([(planned.stored(d), s * c * n) for d, s, c, n in shown], parsed, fields, joined)
        if explain:
            found = [hit and replace(hit, explanation=planned.explain(d, s, c, n))
                     for hit, (d, s, c, n) in zip(found, shown)]
        hits = [hit for hit in found if hit is not None]
        return self._finish(Results(hits, query=parsed.text, total=self._total(planned),
                                    expansions=parsed.expansions, suggestion=self._suggest(parsed)))

    def _whole_copies(self, arxiv_id: str) -> list[dict]:
        """Every copy of the paper, texts read, in the order a full build
        places them; `NotFoundError` when there is none, or when a copy's
        texts could not be read (a shard stopped answering: no whole
        answer, and a cluster says why)."""
        copies = self._copies(bare_id(arxiv_id))
        if not copies:
            raise NotFoundError(f"no paper with arXiv id {arxiv_id!r} in the index")
        if self._with_texts(copies):
            raise NotFoundError(f"the texts of {arxiv_id!r} could not be read")
        # by date, then post, then as a post holds them: two copies of one date came in the order the
        # index got them, and an incremental reindex appends a rewritten post (similar's key terms and
        # the spelling of its shared terms followed that order)
        return sorted(copies, key=lambda d: (d["date"], d["post"]))

    def paper(self, arxiv_id: str) -> PaperView:
        copies = self._whole_copies(arxiv_id)
        latest = copies[-1]
        sections = {f: latest[f] for f in TEXT_FIELDS[1:] if f in latest}
        summaries = {key: {f: d[f] for f in TEXT_FIELDS[1:] if f in d} for key, d in zip(copy_keys(copies), copies)}
        dates = tuple(dict.fromkeys(d["date"] for d in copies))
        return PaperView(latest["arxiv_id"], latest.get("title", ""), latest["url"], dates, sections, summaries)

    def similar(self, arxiv_id: str, *, limit: int = 10) -> Results:
        limit = check_limit(limit)
        bare = bare_id(arxiv_id)
        copies = self._whole_copies(arxiv_id)  # texts too: the shared terms are shown as the texts write them
        spans = [c["spans"] for c in copies]
        self._prefetch((ALL, t) for s in spans for name in s for t in s.terms(name) if telling(t))
        keys = key_terms(spans, lambda t: self.df(ALL, t), self.size)
        forms = surface_forms(spans, copies, {t for t, _ in keys})
        parsed = ParsedQuery(bare, tuple(Part(((t,),), weight=w, typed=False) for t, w in keys))
        planned = self._plan(parsed, TEXT_FIELDS, (), exclude=bare)  # never the paper itself
        ranked = []
        for docnum, score in planned.top(window(limit)):
            stored = planned.stored(docnum)
            present = {t for name in stored["spans"] for t in stored["spans"].terms(name)}
            shared = tuple(forms[t] for t, _ in keys if t in present)
            ranked.append((stored, score * len(shared) / max(len(keys), 1), shared))
        ranked = reordered(ranked, lambda item: item[1])[:limit]
        found = self._hits([(stored, score) for stored, score, _ in ranked], parsed, TEXT_FIELDS)
        hits = [replace(hit, shared_terms=shared) for hit, (_, _, shared) in zip(found, ranked) if hit is not None]
        return self._finish(Results(hits, query=bare, total=self._total(planned)))

    def _hits(self, ranked: list[tuple[dict, float]], parsed: ParsedQuery,
              fields: Sequence[str], joined: Sequence[str] = ()) -> list[Hit | None]:
        """Hits with every post date of each paper and their highlights,
        one for each of ``ranked``; None for a paper whose texts or dates
        did not come (on a cluster, its shard stopped answering after it was
        ranked: partial results come from the shards that answered, and a
        hit with no title or dates is none of theirs). ``joined``: the
        compounds the query matched written as one word (`joined_words`),
        marked too: a paper found only by one had no section to show."""
        unread = self._with_texts([stored for stored, _ in ranked])
        dates = self._dates([stored["arxiv_id"] for stored, _ in ranked])
        out: list[Hit | None] = []
        terms = parsed.terms | set(joined)
        chosen = len(fields) < len(TEXT_FIELDS)  # sections asked for by name
        for i, (stored, score) in enumerate(ranked):
            if i in unread or not dates.get(stored["arxiv_id"]):
                out.append(None)
                continue
            highlights = {}
            named = chosen and stored["arxiv_id"] in parsed.arxiv_ids
            for name in fields:
                shown = highlight(stored["spans"], name, stored.get(name, ""), terms, parsed.phrases)
                if shown is None and named and stored.get(name):
                    # a paper asked for by its id, with the sections asked for: they open, unmarked
                    shown = fragment(stored[name], [])
                if shown:
                    highlights[name] = shown
            out.append(Hit(stored["arxiv_id"], stored.get("title", ""), stored["url"], dates[stored["arxiv_id"]],
                           score, tuple(highlights), highlights))
        return out

    def _suggest(self, parsed: ParsedQuery) -> str | None:
        """The query with each typed word that matches nothing replaced by
        the nearest indexed word, or None when every word matched. Bounded:
        at most `SUGGEST_WORDS` words are looked at, a query of hundreds of
        unknown words is no typo."""
        text, changed = parsed.text, False
        # a word matches through its synonyms too (보상 through reward)
        matched = {w for p in parsed.parts if any(all(map(self.known, a)) for a in p.alternatives)
                   for w in p.label.split()}
        unmatched = [p for p in parsed.typed if p.label and not set(p.label.split()) <= matched]
        for part in unmatched[:SUGGEST_WORDS]:
            term = part.alternatives[0][0]
            # a glossary term is spelt right, only absent here (보상 is no typo of 보장)
            if (len(part.alternatives[0]) > 1 or not is_word(term) or len(term) > SUGGEST_LONGEST
                    or self._glossary.knows((term,))):
                continue
            near = [t for t in dict.fromkeys(self._near(term) + swaps(term)) if is_word(t)]
            self._prefetch((ALL, t) for t in near)
            near = [t for t in near if self.df(ALL, t)]
            best = closest(term, near, lambda t: self.df(ALL, t))
            if best and (fixed := replace_word(text, part.label, best)) != text:
                text, changed = fixed, True
        return text if changed else None


def _asked_about(ready: Mapping[str, list[list] | None]) -> set[str]:
    """What reading these recorded word forms may ask `known` about: the
    halves `split_compounds` tries of each Hangul term, and a Hangul word
    read as no term (`Lexicon.analyse` searches it as itself if indexed)."""
    asked = {word for word, reading in ready.items() if reading == [] and may_stand_alone(word)}
    for reading in ready.values():
        asked.update(half for term, *_ in reading or () if is_hangul(term)
                     for halves in compound_halves(term) for half in halves)
    return asked


def _reranked(planned: Planned, parsed: ParsedQuery, fields: tuple[str, ...],
              limit: int) -> list[tuple[int, float, float, float]]:
    """(docnum, score, coverage, proximity) of the top papers, re-ranked
    by how many query words each covers and how close they stand."""
    candidates = []
    for docnum, score in planned.top(window(limit)):
        spans = planned.stored(docnum)["spans"]
        candidates.append((docnum, score, coverage(spans, fields, parsed), proximity(spans, fields, parsed)))
    return reordered(candidates, lambda item: item[1] * item[2] * item[3])[:limit]


def window(limit: int) -> int:
    """How many of BM25F's best papers the first ``limit`` are chosen
    from: whole `CANDIDATES` windows."""
    return CANDIDATES * max(1, -(-limit // CANDIDATES))


def reordered(ranked: list, score: Callable[[Any], float]) -> list:
    """``ranked`` (in BM25F order) reordered by ``score`` within each
    `CANDIDATES` window, ties kept in BM25F order: what a window holds
    never depends on how many windows were asked for."""
    out: list = []
    for start in range(0, len(ranked), CANDIDATES):
        out.extend(sorted(ranked[start:start + CANDIDATES], key=lambda item: -score(item)))
    return out


class Planned:
    """One query over one backend's documents: its top papers, every
    match, and the stored fields it read (checking a phrase reads them;
    showing a hit must not read them again).

    :param key: docnum → arXiv id (one hit a paper).
    :param day: docnum → post date.
    :param read: docnum → stored fields with ``spans``.
    :param distinct: how many papers a list of docnums holds.
    :param place: docnum → its place in a full build, for exact ties (the
        docnum itself when the backend numbers documents so).
    """

    def __init__(self, postings: scoring.Postings, planned: scoring.Plan, extras: list, within: Any,
                 key: Callable[[int], str], day: Callable[[int], str], read: Callable[[int], dict],
                 distinct: Callable[[list[int]], int], place: Callable[[int], Any] | None = None) -> None:
        self._args = (postings, planned, extras)
        self._within, self.key, self._day, self._read, self._distinct = within, key, day, read, distinct
        self._place = place
        self._stored: dict[int, dict] = {}
        self._papers: int | None = None  # how many papers match, once a top or the date order saw them all
        self.again: Callable[[], Planned] | None = None
        """The same query planned anew on the calling thread's reader (set by a
        backend whose readers are per thread), for `replanned`."""
        self.explainer: Callable[[int, Mapping[str, Any]], list] = lambda doc, spans: []
        """Each term's share of a document's score (set by `plan`, which knows the terms)."""

    def stored(self, docnum: int) -> dict:
        if docnum not in self._stored:
            self._stored[docnum] = self._read(docnum)
        return self._stored[docnum]

    def _peek(self, docnum: int) -> dict:
        """Stored fields for a phrase check over many documents: read, not kept."""
        return self._stored.get(docnum) or self._read(docnum)

    def top(self, limit: int) -> list[tuple[int, float]]:
        """(docnum, score) of the best copies of the ``limit`` best papers.
        Fewer than ``limit`` are every matching paper: the total, exact."""
        best = scoring.top(*self._args, limit, self.key, self.stored, self._within, self._place)
        if len(best) < limit:
            self._papers = len(best)
        return best

    def matching(self) -> list[int]:
        """Every matching docnum, phrases checked (date order needs them all)."""
        return scoring.matching(*self._args, self._peek, self._within).tolist()

    def by_date(self, limit: int) -> list[tuple[int, float, float, float]]:
        """(docnum, score, 1, 1) of the ``limit`` papers posted last, each
        its best copy, latest post first (score breaks ties). A method, so
        that a backend can find them without scoring every match."""
        latest = self.latest_dates(self.matching())
        self._papers = len(latest)  # every match was checked: the total is exact
        everything = self.top(len(latest))
        ranked = sorted(everything, key=lambda item: (latest[self.key(item[0])], item[1]), reverse=True)
        return [(d, score, 1.0, 1.0) for d, score in ranked[:limit]]

    def latest_dates(self, docnums: Iterable[int]) -> dict[str, str]:
        """Each paper's latest post date among the given copies."""
        latest: dict[str, str] = {}
        for docnum in docnums:
            paper = self.key(docnum)
            latest[paper] = max(latest.get(paper, ""), self._day(docnum))
        return latest

    def explain(self, docnum: int, score: float, covered: float, near: float) -> Explanation:
        """How the document's score adds up (see `scoring.explain`)."""
        terms = self.explainer(docnum, self.stored(docnum)["spans"])
        return Explanation(score, covered, near, BM25_K1, BM25_B, tuple(terms))

    def replanned(self) -> Planned | None:
        """This query planned anew (`again`), knowing what this one's top
        saw: its total is this one's (same generation, same sample)."""
        if self.again is None:
            return None
        fresh = self.again()
        fresh._papers = self._papers
        return fresh

    def count(self) -> tuple[int, bool]:
        """How many papers match, and whether that is exact: known when a
        top or the date order saw every match, else past `COUNT_BUDGET`
        phrase checks the rest is estimated from the papers checked."""
        if self._papers is not None:
            return self._papers, True
        found = scoring.counted(*self._args, self._peek, self.key, COUNT_BUDGET, self._within, self._place)
        return self._distinct(found.docs.tolist()) + round(found.unchecked * found.rate), not found.unchecked


def plan(postings: scoring.Postings, parsed: ParsedQuery, scope: tuple[str, ...], joined: Sequence[str],
         within: Any, **reads: Callable) -> Planned:
    """``parsed`` scored a term at a time over ``postings`` (see
    `scoring`), with the joined compounds and arXiv ids as optional
    clauses, over the documents in ``within`` (all when None); ``reads``
    are `Planned`'s key, day, read, distinct and place."""
    planned = scoring.plan(postings, parsed.parts, scope, FIELD_WEIGHTS)
    clauses = [(f, word, FIELD_WEIGHTS.get(f, 1.0), word) for word in joined for f in scope]
    clauses += [("arxiv_id", i, ARXIV_BOOST, i) for i in parsed.arxiv_ids]
    extras = [postings.dense(f, term, boost) for f, term, boost, _ in clauses]
    query = Planned(postings, planned, extras, within, **reads)
    query.explainer = lambda doc, spans: scoring.explain(
        postings, planned, parsed.parts, scope, FIELD_WEIGHTS, clauses, doc, spans  # type: ignore[arg-type]
    )
    return query


# Small rules both backends follow


def copy_keys(copies: Sequence[Mapping[str, Any]]) -> list[str]:
    """What `PaperView.copies` names each copy by: its post's date, and
    where two posts of one date (a daily digest and an arXiv digest) both
    hold the paper, the post too, so that neither summary hides the
    other; a post holding the paper twice numbers its copies."""
    dates = [d["date"] for d in copies]
    posts = [(d["date"], d["post"]) for d in copies]
    keys, seen = [], {}
    for day, post in posts:
        key = day if dates.count(day) == 1 else f"{day} ({post})"
        if posts.count((day, post)) > 1:
            seen[key] = seen.get(key, 0) + 1
            key = f"{key} #{seen[key]}"
        keys.append(key)
    return keys


def bare_id(arxiv_id: str) -> str:
    """The bare id in the forms people paste: 2510.00515, 2510.00515v2,
    arXiv:2510.00515, https://arxiv.org/abs/2510.00515v1."""
    # NFKC: full-width digits (２５１０.００５１５) passed the pattern and then matched nothing
    match = _ID.search(unicodedata.normalize("NFKC", arxiv_id).strip()) if isinstance(arxiv_id, str) else None
    if match is None:
        raise QueryError(f"{arxiv_id!r} is not an arXiv id like 2510.00515")
    return match.group(1) or match.group(3)


def joined_words(parsed: ParsedQuery, known: Callable[[str], bool]) -> list[str]:
    """The `joined_candidates` the index has."""
    return [word for word in joined_candidates(parsed) if known(word)]


def joined_candidates(parsed: ParsedQuery) -> list[str]:
    """Two Korean words typed apart also match the compound written as one
    word (희소 어텐션 → 희소어텐션), and two Latin words a name written as one
    (flash attention → FlashAttention, dino v3 → DINOv3), when the index has it;
    so does a word matched as its pieces in sequence (`query.word_parts`:
    프레임워크, which Kiwi keeps whole in some texts)."""
    names = [p.alternatives[0] for p in parsed.typed if not p.required]
    joined = ["".join(name) for name in names if len(name) > 1 and is_hangul("".join(name))]
    joined += ["".join(pair) for pair in neighbour_pairs(parsed) if is_hangul("".join(pair))]
    joined += [a[-1] + b[0] for a, b in zip(names, names[1:]) if _NAME.fullmatch(a[-1] + b[0])]
    return list(dict.fromkeys(joined))


_DAY = re.compile(r"(\d{4})(-?)(\d{2})\2(\d{2})", re.ASCII)
"""A calendar date, ISO or compact, not half of each (`date_range`; the page's `dateRange`)."""
_NAME = re.compile(r"[a-z][a-z0-9]*")
"""A name written as one word: ASCII letters, then letters or digits."""


def check_limit(limit: object) -> int:
    """``limit`` as every method takes it: a whole number of at least 1."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise QueryError(f"limit must be a positive whole number, not {limit!r}")
    return limit


def is_word(term: str) -> bool:
    """Whether a term may be offered as a spelling: letters, two or more
    (never a digit, a symbol or a lone syllable like 2 for 🤖)."""
    return len(term) > 1 and all(c.isalpha() for c in term)


def replace_word(text: str, word: str, by: str) -> str:
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
    compact forms (20251006) are normalised; a bad or empty date (``--since
    "$FROM"`` with FROM unset) or an empty range is an input error. Only
    calendar dates, as the page reads them: Python also reads 2025-W40 and
    2025-273, which the page refused."""
    out = []
    for name, value in (("since", since), ("until", until)):
        if isinstance(value, date):  # datetime too: its date
            out.append(value.isoformat()[:10])
            continue
        try:
            day = _DAY.fullmatch(value) if isinstance(value, str) else None
            out.append(None if value is None else date(*map(int, day.group(1, 3, 4))).isoformat())  # type: ignore[union-attr]
        except (AttributeError, TypeError, ValueError):
            raise QueryError(f"{name} date {value!r} is not an ISO date like 2025-10-06") from None
    if out[0] and out[1] and out[0] > out[1]:
        raise QueryError(f"since date {out[0]} is after until date {out[1]}")
    return out[0], out[1]
