"""Korean text → index terms, with Kiwi.

Parts: the shared Kiwi instance (`kiwi`, loaded once, lazily), term
normalisation (`normalise`), analysis in batches (`analyse_many`) and as a
stream for the indexer (`analyse_stream`), and the Whoosh
adapter (`KiwiTokenizer`, `korean_analyzer`). Every backend is fed by
these functions, so Whoosh and any later backend see the same terms.

A term is a content morpheme (noun, root, verb/adjective stem, foreign word,
number, hanja, pronouns such as 자기 in 자기 지도 학습), NFKC-folded and
lower-cased; English plurals and -ing/-ed forms are folded so that
``models`` and ``model`` meet, and English stop words are dropped. Names
written with digits or hyphens
(``GPT-4o``, ``Qwen2.5-VL``) also yield one whole term at the position of
their first part, so both the whole name and its parts match.
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "have", "if", "in", "is", "it", "may",
    "not", "of", "on", "or", "tbd", "that", "the", "this", "to", "us", "we", "when", "will", "with", "yet", "you",
    "your",
))
"""Whoosh's English stop words (``whoosh.analysis.STOP_WORDS``, which a
test compares with this), copied: importing ``whoosh.analysis`` for them
cost every query process Whoosh's analysers and an English stemmer."""

ANALYZER_VERSION = "kiwi-7"
"""Bumped whenever the terms produced for a text, or what the index
records of them, change: forces a rebuild (3: no position left for a stop
word; 4: English words before a full stop mended, `_kept`; 5: a Hangul word
that makes no term holds a `GAP`; 6: the lexicon counts how often each term
stands glued inside a longer word, `lexicon.piece_counts`; 7: a noun with
Kiwi's prefixes is also indexed whole, `PREFIXED`)."""

GAP = "\u2423"
"""The term of a position held by a Hangul word that makes no term of its
own (및, 두, 모두, 아직, 간): indexed, so that "모델 성능" is no phrase of
"모델 모두 아직 성능" and "성능을 대폭 향상" one of itself, but never a word
a query searches (`query.word_parts`), nor counted in a field's length,
its top terms or a paper's key terms. ``␣``: no analysis makes it."""

_KEEP_PREFIXES = ("NN", "NP", "VV", "VA", "XR", "SL", "SN", "SH", "W_")
PREFIXED = frozenset({"NNG", "NNP", "XR"})
"""Tags of a noun whose prefixes (Kiwi's XPN: 비, 불, 무, 재, 대, 소, 고 …)
make a word of their own with it. Kiwi drops the prefix, so 비지도 학습
(unsupervised) was 지도 학습 (supervised), 무손실 손실 and 소규모 대규모,
for the index as for a query. The prefixed word is indexed as a term too,
at the noun's position (as a whole name beside its parts): a query typing
it finds it alone (`query.word_parts`), one typing the noun still finds
both (불안정, instability, is about 안정)."""
_DROP_TAGS = {"NNB"}  # dependent nouns (것, 수, 등) carry no topic
_NAME = re.compile(r"[A-Za-z0-9]+(?:[-.+/][A-Za-z0-9]+)*")
_LATIN = re.compile(r"[a-z]+")
_ACRONYM_PLURAL = re.compile(r"[A-Z][A-Z0-9]+s")
_UNCHANGED = {"series", "species", "news", "lens", "mathematics", "physics"}


class Term(NamedTuple):
    """One analysed token: its term, position and character span.

    A named tuple rather than a dataclass: a corpus has millions of them,
    and they are stored in the index as plain tuples.

    :param text: the normalised term that goes into the index.
    :param pos: token position; a whole name shares its first part's.
    :param start: offset of the first character in the analysed text.
    :param end: offset one past the last character.
    """

    text: str
    pos: int
    start: int
    end: int


# Kiwi


_lock = threading.Lock()
_kiwi: Any = None


def kiwi() -> Any:
    """The process-wide Kiwi, loaded on first use: loading costs about a
    second and hundreds of MB, so nothing loads it that does not need it."""
    global _kiwi
    if _kiwi is None:
        with _lock:
            if _kiwi is None:
                from kiwipiepy import Kiwi

                # The typo and multi-word dictionaries slow loading by half
                # and change no content morpheme we index.
                _kiwi = Kiwi(num_workers=2, load_typo_dict=False, load_multi_dict=False)
    return _kiwi


def kiwi_version() -> str:
    """Version of kiwipiepy, recorded in the index to detect upgrades."""
    from importlib.metadata import version

    return version("kiwipiepy")


# Normalisation


WORD = re.compile(r"\S+")
"""A word form: what the lexicon records and a query looks up."""
_HANGUL_SYLLABLE = re.compile("[\uac00-\ud7a3]")
_HANGUL_WORD = re.compile("(?<!\\S)[^\\s\uac00-\ud7a3]*[\uac00-\ud7a3]\\S*")
"""A word (`WORD`) holding a Hangul syllable (`holds_gap`), found in one
scan. Anchored at a word's start: unanchored (``\\S*[가-힣]\\S*``), every
position of a long run without Hangul (a pasted URL or blob) rescanned
the run, 3 s for 16,000 characters."""


def spellings(words: Iterable[str]) -> list[str]:
    """Each word and its lower case, once each, in order: users type
    Reward, reward and REWARD alike, and the lexicon records both."""
    listed = list(words)
    return list(dict.fromkeys([*listed, *(w.lower() for w in listed)]))


@lru_cache(maxsize=65536)
def normalise(form: str) -> str:
    """Fold a morpheme to its index term: NFKC, lower case, light English
    stemming; "" for an English stop word."""
    term = unicodedata.normalize("NFKC", form).lower()
    if not _LATIN.fullmatch(term):
        return term
    if _ACRONYM_PLURAL.fullmatch(form):  # GPUs, LLMs
        return term[:-1]
    if term in STOP_WORDS:
        return ""
    return light_stem(term)


def light_stem(word: str) -> str:
    """Fold plurals and -ing/-ed, nothing more.

    Porter's stemmer conflates too much for a glossary that pivots through
    English: generation, generator and generalization all become "gener",
    which made 생성 expand to 일반화. Only inflection is folded here.
    """
    if len(word) <= 3 or word in _UNCHANGED:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ias")):
        return word[:-1]
    for suffix in ("ing", "ed"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 4 and any(c in "aeiouy" for c in stem):
            return stem[:-1] if stem[-1] == stem[-2] and stem[-1] not in "ls" else stem
    return word


def _keep(tag: str, form: str) -> bool:
    if tag in _DROP_TAGS:
        return False
    if tag.startswith(_KEEP_PREFIXES):
        return True
    # Kiwi tags mathematical letters such as 𝑘 as symbols; NFKC makes them words.
    return tag == "SW" and unicodedata.normalize("NFKC", form).isalnum()


# Analysis


PIECE = 8000
"""Longest text Kiwi is given whole, in characters. Kiwi slows down on
long inputs (a 5 MB section: 69 s whole, 31 s in pieces) and one text
keeps one of its threads; a longer text is cut at a line break or a
sentence end into pieces analysed apart and joined again, positions and
offsets running on. No section of the real corpus comes near it."""


def analyse_many(texts: list[str]) -> list[list[Term]]:
    """Analyse a batch of texts; Kiwi spreads a batch over its workers, so
    callers should pass as many texts at once as they have."""
    return list(analyse_stream(texts))


def analyse_stream(texts: Iterable[str]) -> Iterator[list[Term]]:
    """Analyse texts lazily, in order: Kiwi's worker threads run ahead in
    C++ without the GIL while the caller writes each result, so analysis
    and indexing overlap on two cores (738 papers: 2.4 s for both, against
    2.5 s for Kiwi alone). Long texts go in pieces (see `PIECE`).
    """
    texts = iter(texts)
    first = next(texts, None)
    if first is None:  # a reindex that only removes posts must not load Kiwi
        return
    pending: deque[tuple[int, str, int]] = deque()  # (offset, piece, pieces left in its text)

    def feed() -> Iterator[str]:
        for text in itertools.chain([first], texts):
            pieces = _pieces(text)
            for i, (offset, piece) in enumerate(pieces):
                pending.append((offset, piece, len(pieces) - 1 - i))
                yield piece

    joined: list[Term] = []
    for tokens in kiwi().tokenize(feed()):
        offset, piece, left = pending.popleft()
        terms = _terms(piece, tokens)
        if not joined and not offset:  # a whole text, or its first piece: nothing to shift
            joined = terms
        else:
            shift = joined[-1].pos + 1 if joined else 0
            joined += [Term(t.text, t.pos + shift, t.start + offset, t.end + offset) for t in terms]
        if not left:
            yield joined
            joined = []


def _pieces(text: str) -> list[tuple[int, str]]:
    """``text`` as (offset, piece) pairs of at most `PIECE` characters, cut
    after a line break, else a sentence end, else a space: one pair for
    any ordinary text (and for an empty one)."""
    if len(text) <= PIECE:
        return [(0, text)]
    pieces, start = [], 0
    while len(text) - start > PIECE:
        window = text[start : start + PIECE]
        cut = PIECE  # no break in the second half at all: a hard cut
        for mark in ("\n", ". ", " "):
            found = window.rfind(mark, PIECE // 2)
            if found >= 0:
                cut = found + len(mark)
                break
        pieces.append((start, text[start : start + cut]))
        start += cut
    pieces.append((start, text[start:]))
    return pieces


def analyse(text: str) -> list[Term]:
    """Analyse one text (queries, tests); prefer `analyse_many` in bulk."""
    return analyse_many([text])[0]


def _terms(text: str, tokens: Iterable[Any]) -> list[Term]:
    """The text's terms, numbered without gaps for what a word carries
    besides: a stop word leaves none, as a particle leaves none. A query
    phrase is its terms side by side, so a gap for "of" made "mixture of
    experts" and "text-to-image" match no paper that writes them (positions
    also decide proximity). A Hangul word that makes no term holds a
    position of its own (`GAP`)."""
    terms: list[Term] = []
    prefixed: list[Term] = []
    pos = 0
    for form, start, end, wholes in _kept(tokens):
        term = normalise(form)
        if term:
            prefixed += [Term(normalise(text[whole:end]), pos, whole, end) for whole in wholes]
            terms.append(Term(term, pos, start, end))
            pos += 1
    if prefixed:  # each before its noun, as a whole name before its parts
        terms = sorted(terms + prefixed, key=_position)
    return _with_gaps(text, _with_names(text, terms))


def _position(term: Term) -> tuple[int, int]:
    """A text's terms in order: by position, a whole before what it
    holds (a prefixed word before its noun, a name before its parts)."""
    return term.pos, term.start - term.end


def holds_gap(word: str) -> bool:
    """Whether a word that makes no term holds a position (a `GAP`): a
    Hangul one does; an English stop word or punctuation does not."""
    return bool(_HANGUL_SYLLABLE.search(word))


def no_term(reading: Sequence[Sequence]) -> bool:
    """Whether a word's reading (``[term, pos, start, end]`` items) makes no
    term: none at all, or a `GAP`."""
    return all(r[0] == GAP for r in reading)


def _with_gaps(text: str, terms: list[Term]) -> list[Term]:
    """The terms with a `GAP` for each Hangul word among them that makes
    none, every later position moved on by one: 모두 and 아직 made no term,
    so "모델 모두 아직 성능" matched the phrase "모델 성능"."""
    starts = [t.start for t in terms]
    gaps = [Term(GAP, 0, m.start(), m.end()) for m in _HANGUL_WORD.finditer(text)
            if not _holds_term(starts, m.start(), m.end())]
    if not gaps:
        return terms
    out: list[Term] = []
    shift, following = 0, 0  # gaps so far; the position the next term would take, gaps aside
    for text_, pos, start, end in sorted([*terms, *gaps], key=lambda t: t.start):
        if text_ == GAP:  # Term(...), not _replace: this runs for most terms of the corpus
            out.append(Term(GAP, following + shift, start, end))
            shift += 1
        else:
            out.append(Term(text_, pos + shift, start, end))
            following = pos + 1
    return sorted(out, key=_position)


def _holds_term(starts: list[int], start: int, end: int) -> bool:
    """Whether a term starts inside [start, end) (``starts`` ascending)."""
    i = bisect_left(starts, start)
    return i < len(starts) and starts[i] < end


def _kept(tokens: Iterable[Any]) -> list[tuple[str, int, int, tuple[int, ...]]]:
    """The (form, start, end, wholes) of Kiwi's tokens that make terms, its
    English words before a full stop mended: it keeps the stop on the word
    (``model.``, and ``FLUX.`` of FLUX.1-dev, which the query FLUX then
    missed) and cuts some words in two (``Learning.`` → ``Lea`` +
    ``rning.``). Latin pieces that touch are one word, and a word's closing
    full stops are not part of it. ``wholes`` are where a noun's prefixes
    begin (`PREFIXED`; 초고해상도: 초 and 고). One pass: this runs over
    every token the corpus has."""
    kept: list[tuple[str, int, int, tuple[int, ...]]] = []
    run: list | None = None  # the Latin word being read: [form, start, end]
    starts: list[int] = []  # the noun prefixes just read, where each begins
    end = -1  # where they end
    for t in tokens:
        if t.tag == "XPN":
            starts = [*starts, t.start] if starts and end == t.start else [t.start]
            end = t.end
            continue
        wholes = tuple(starts) if starts and end == t.start and t.tag in PREFIXED else ()
        starts = []
        if t.tag == "SL":
            if run is not None and run[2] == t.start:
                run[0] += t.form
                run[2] = t.end
                continue
            if run is not None:
                kept.append(_closed(run))
            run = [t.form, t.start, t.end]
            continue
        if run is not None:
            kept.append(_closed(run))
            run = None
        if _keep(t.tag, t.form):
            kept.append((t.form, t.start, t.end, wholes))
    if run is not None:
        kept.append(_closed(run))
    return kept


def _closed(run: list) -> tuple[str, int, int, tuple[int, ...]]:
    form, start, end = run
    bare = form.rstrip(".")
    return (bare, start, end - len(form) + len(bare), ()) if bare else (form, start, end, ())


def _with_names(text: str, terms: list[Term]) -> list[Term]:
    """Add one whole term for each name that Kiwi split into parts. Terms
    come in text order, so each name's parts are found by bisection (a
    scan of every term per name made a long English text quadratic)."""
    if not terms:
        return terms
    starts = [t.start for t in terms]
    names: list[Term] = []
    for match in _NAME.finditer(text):
        i = bisect_left(starts, match.start())
        parts = []
        while i < len(terms) and terms[i].start < match.end():
            if terms[i].end <= match.end():
                parts.append(terms[i])
            i += 1
        if len(parts) > 1:
            whole = unicodedata.normalize("NFKC", match.group()).lower()
            names.append(Term(whole, parts[0].pos, match.start(), match.end()))
    if not names:
        return terms
    return sorted(terms + names, key=_position)
