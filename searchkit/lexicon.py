"""Word forms → terms, recorded at index time so queries never need Kiwi.

Loading Kiwi costs a CLI query about 1.5 s and 500 MB, far more than the
search itself. But nearly every word a user types already occurs somewhere
in the corpus, and the indexer has just analysed it there. So the indexer
records, for each space-separated word form, the terms Kiwi gave it; a
query whose words are all recorded is analysed by look-up, exactly as the
corpus was, an unseen word made of recorded ones is segmented into them,
and a query with a word that is neither is read by `standin` from what the
lexicon holds (its endings and stems), as the static search page reads it.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from . import verbforms
from .analysis import GAP, WORD, Term, holds_gap, no_term, spellings
from .errors import IndexCorruptError

_HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]{3,}")
_HANGUL_NOUN = re.compile(r"[\uac00-\ud7a3]{2,}")
"""A typed word that may be searched as itself (see `Lexicon.analyse`)."""
_HANGUL = re.compile(r"[\uac00-\ud7a3]+")
PARTICLES = frozenset("을를이가은는의에로와과")
"""Case particles: after a recorded word they are the particle, even when
Kiwi once slipped and left one as an index term (얼굴을 → 얼굴, not 얼굴 + 을,
a phrase no summary holds)."""
_SCHEMA = "CREATE TABLE IF NOT EXISTS words (word TEXT PRIMARY KEY, terms TEXT NOT NULL) WITHOUT ROWID"
_COUNTS = ("CREATE TABLE IF NOT EXISTS counts (word TEXT NOT NULL, terms TEXT NOT NULL, n INTEGER NOT NULL, "
           "PRIMARY KEY (word, terms)) WITHOUT ROWID")
"""How often the indexed texts read each word form each way: `words` keeps
each form's commonest reading, and an incremental reindex adds the new
posts' readings and takes away the replaced ones', so the table is the one
a full build of the same posts writes."""
UNKNOWN_LONGEST = 64
"""The bound of a table that never measured its words: twice the longest
all-Hangul run of the shared corpus (30 syllables), so segmenting stays
linear without changing how any real word is read."""
_LONGEST = "CREATE TABLE IF NOT EXISTS longest (n INTEGER NOT NULL)"
_PIECES = ("CREATE TABLE IF NOT EXISTS pieces (term TEXT PRIMARY KEY, glued INTEGER NOT NULL, total INTEGER NOT NULL) "
           "WITHOUT ROWID")
"""Per Hangul term, how often the texts write it inside an all-Hangul word
form glued to another term of two syllables or more, and how often at all
(`piece_counts`, counted as `counts` counts forms): what `sticky` reads.
Kept as the counts are: an incremental reindex adds the new posts' and
takes the replaced posts'."""
STICKY = 0.8
"""The share of a term's texts that must write it glued inside a longer
word for it to be no word of its own (`sticky`): 워크 (of 프레임워크) 1.0,
셋 (데이터셋) 0.99, 모달 (멀티모달) 0.84; 학습 0.25, 증류 0.07, 정렬 0.00."""
STICKY_MIN = 10
"""Occurrences a sticky term needs, counted as the lexicon counts word
forms (once in each section text that writes a form: one paper's title,
sections and inflections can make several), so one paper's spelling
decides nothing (3 let one paper's 대조학습 make 대조 sticky)."""
AS_ITSELF = 0.25
"""How often the texts must read a word as itself for a query to search it
so where its commonest reading keeps no term: 깊이 is the noun depth in 28
of 65 texts and the adverb in the rest, 이진 (binary) in 5 of 15; 직접
(directly, 8 of 83) and 가지 (a counter, never the noun) stay unsearched;
and for a query to search it beside its commonest reading where that is
other terms (커버리지, read as 크 in 3 of 4 texts; 이산 as 산, 20 of 32)."""


def may_stand_alone(word: str) -> bool:
    """Whether a word read as no term may be searched as itself, when it is
    an index term (see `Lexicon.analyse`)."""
    return bool(_HANGUL_NOUN.fullmatch(word))


def split_words(text: str, terms: list[Term]) -> dict[str, list[tuple[str, int, int, int]]]:
    """Each word form of ``text`` with its terms, positions and offsets made
    relative to the word; words that a term straddles are left out, and a
    word written with punctuation around it is also recorded bare, unless
    the text writes it bare too (`_unpunctuated`)."""
    words: dict[str, list[tuple[str, int, int, int]]] = {}
    bare: dict[str, list[tuple[str, int, int, int]]] = {}  # forms without their punctuation (`_unpunctuated`)
    count, i = len(terms), 0
    for match in WORD.finditer(text):
        start, end = match.span()
        while i < count and terms[i][3] <= start:
            i += 1
        j, straddles = i, False
        while j < count and terms[j][2] < end:
            straddles = straddles or terms[j][2] < start or terms[j][3] > end
            j += 1
        word = match.group()
        if straddles or word in words:  # a word keeps its first analysis in a text
            continue
        base = terms[i][1] if i < j else 0
        words[word] = [(term, pos - base, s - start, e - start) for term, pos, s, e in terms[i:j]]
        if not (word[0].isalnum() and word[-1].isalnum()):
            _unpunctuated(bare, word, terms[i:j], start, base)
    for form, found in bare.items():  # a form written bare in the text keeps its own reading
        words.setdefault(form, found)
    return words


def _unpunctuated(bare: dict, word: str, terms: list[Term], start: int, base: int) -> None:
    """Record the word without the punctuation around it too, when no term
    reaches into that punctuation: a sentence's last word is written
    "제안하였다." and a list's "초음파,", and the bare word a user types
    was otherwise unseen (read by the stand-in as one made-up term)."""
    lead = next((k for k, c in enumerate(word) if not _punctuation(c)), len(word))
    end = len(word)
    while end > lead and _punctuation(word[end - 1]):
        end -= 1
    form = word[lead:end]
    if not form or form == word or form in bare:
        return
    if all(start + lead <= s and e <= start + end for _, _, s, e in terms):
        bare[form] = [(term, pos - base, s - start - lead, e - start - lead) for term, pos, s, e in terms]


def _punctuation(char: str) -> bool:
    """Punctuation a word is written with, not part of it (the underscore
    of snake_case names stays)."""
    return unicodedata.category(char) in _PUNCTUATION


_PUNCTUATION = frozenset({"Pd", "Ps", "Pe", "Pi", "Pf", "Po"})


def longest_hangul(strings: Iterable[str], floor: int = 0) -> int:
    """The length of the longest all-Hangul string, or ``floor`` when none
    is longer: the length is compared first, so the pattern runs only on
    the rare string that could raise the bound (``add`` sees every term)."""
    for text in strings:
        if len(text) > floor and _HANGUL.fullmatch(text):
            floor = len(text)
    return floor


def _encoded(analysis: tuple) -> str:
    return json.dumps(analysis, ensure_ascii=False, separators=(",", ":"))


def _by_word(rows: Iterable[tuple[str, str, int]]) -> dict[str, list[tuple[str, int]]]:
    """(word, reading, count) rows as word → its (reading, count) pairs."""
    found: dict[str, list[tuple[str, int]]] = {}
    for word, terms, n in rows:
        found.setdefault(word, []).append((terms, n))
    return found


def _is_itself(word: str, reading: Sequence[Sequence]) -> bool:
    """Whether a reading is the word as its one term."""
    return len(reading) == 1 and reading[0][0] == word


def _share_as_itself(word: str, readings: Sequence[tuple[list[list], int]]) -> float:
    """How often the texts read ``word`` as the one term ``word``."""
    total = sum(n for _, n in readings)
    itself = sum(n for reading, n in readings if _is_itself(word, reading))
    return itself / total if total else 0.0


def piece_counts(counts: Mapping[str, Mapping[tuple, int]]) -> dict[str, list[int]]:
    """(glued, total) per Hangul term from word form → reading → number of
    texts (`Lexicon` counts): only all-Hangul forms count, so a text's word
    counts once (a capitalised or punctuated form is recorded twice), and a
    term is glued where it touches another Hangul term of two syllables or
    more (프레임 + 워크; not the 화 of 경량화, a suffix a query drops)."""
    found: dict[str, list[int]] = {}
    for word, readings in counts.items():
        if not _HANGUL.fullmatch(word):
            continue
        for reading, n in readings.items():
            if n:
                for term, glued in _glued(reading):
                    tally = found.setdefault(term, [0, 0])
                    tally[0] += n * glued
                    tally[1] += n
    return found


def _glued(reading: Sequence[Sequence]) -> Iterator[tuple[str, int]]:
    """Each Hangul term of a word's reading, 1 where it is glued (see
    `piece_counts`), else 0."""
    terms = [t for t in reading if _HANGUL.fullmatch(t[0])]
    for i, (term, _, start, end) in enumerate(terms):
        before = i > 0 and terms[i - 1][3] == start and len(terms[i - 1][0]) > 1
        after = i + 1 < len(terms) and terms[i + 1][2] == end and len(terms[i + 1][0]) > 1
        yield term, int(before or after)


def merged_pieces(base: Mapping[str, Sequence[int]], change: Mapping[str, Sequence[int]]) -> dict[str, list[int]]:
    """``base``'s (glued, total) counts with ``change`` added; terms no
    text holds any more are left out (a cluster's generation row)."""
    out = {term: list(tally) for term, tally in base.items()}
    for term, (glued, total) in change.items():
        tally = out.setdefault(term, [0, 0])
        tally[0] += glued
        tally[1] += total
        if tally[1] <= 0:
            del out[term]
    return out


def is_sticky(glued: int, total: int) -> bool:
    """Whether a term with these counts is no word of its own (`STICKY`)."""
    return total >= STICKY_MIN and glued >= STICKY * total


def commonest(readings: list[tuple[str, int]]) -> str:
    """The reading the texts give most often; among equals the first in
    text order of its encoding, so that neither the order the posts were
    indexed in nor the build's history decides."""
    return min(readings, key=lambda reading: (-reading[1], reading[0]))[0]


def by_count(readings: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """(encoded reading, count) pairs commonest first, ties in `commonest`'s
    order, none counted zero: the order `query.phrase_readings` tries them in."""
    return sorted(((r, n) for r, n in readings if n > 0), key=lambda reading: (-reading[1], reading[0]))


class Lexicon:
    """The word-form table of one index generation (SQLite, one row a word).

    A reader's table is opened read-only and shared by the threads of one
    `Index` (SQLite connections refuse other threads unless told, and must
    not run two statements at once): look-ups take turns on a lock, which
    costs nothing next to the search.

    The table also keeps the length of the longest all-Hangul word form or
    term it was given (`longest`): `segment` tries no longer prefix, as no
    look-up nor index term could match one.
    """

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self._path = path
        if readonly:
            self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        else:
            self._db = sqlite3.connect(str(path))
            with self._reading():  # a reindex adds to the live generation's copy: it must be whole
                pieces = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pieces'")
                counted_pieces = pieces.fetchone() is not None
                self._db.execute(_SCHEMA)
                self._db.execute(_COUNTS)
                self._db.execute(_PIECES)
        self._lock = threading.Lock()
        self._counts: dict[str, Counter] = {}
        self._fresh = not readonly and self._db.execute("SELECT 1 FROM counts LIMIT 1").fetchone() is None
        """Nothing counted yet (a full build): the first flush's counts are the table's."""
        if not readonly and not self._fresh and not counted_pieces:  # adding to nothing would count a part
            self._db.close()
            raise self._damaged(ValueError("its pieces table is missing"))
        self._tables: tuple[list[str], dict[str, list]] | None = None
        self._longest = self._read_longest(readonly)

    def _read_longest(self, readonly: bool) -> int | None:
        """The stored bound; None (no bound) for a table written before the
        bound was kept, whose words and terms were never measured: a new
        generation copies its base's table and only adds the new posts."""
        try:
            row = self._db.execute("SELECT n FROM longest").fetchone()
        except sqlite3.OperationalError:  # no such table
            row = None
        if row is None and not readonly and self._db.execute("SELECT 1 FROM words LIMIT 1").fetchone() is None:
            return 0  # a new table: every word and term will pass through `add`
        return row[0] if row else None

    def _bound(self) -> int:
        """`longest`, or `UNKNOWN_LONGEST` for a table that never measured
        its words (an index written before the bound was kept): without a
        bound a long unseen word looks up every prefix at every offset,
        quadratically many (a 1000-syllable word, half a million)."""
        return UNKNOWN_LONGEST if self._longest is None else self._longest

    def longest(self) -> int | None:
        """The length of the longest all-Hangul word form or term recorded,
        or None when unknown (the static page's `segment` reads it too)."""
        return self._longest

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """SQLite's and JSON's complaints about a truncated or garbled
        table as a damaged index with its repair; SQLite opens the file
        lazily, so they surface at the first look-up, in a query."""
        try:
            yield
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise self._damaged(exc) from None

    def _damaged(self, exc: Exception) -> IndexCorruptError:
        index = self._path.parent.parent
        return IndexCorruptError(
            f"index at {index} is damaged (its lexicon: {exc}); run `papersearch reindex --full --index {index}`"
        )

    def close(self) -> None:
        """Write what is pending and close; the connection closes even when
        the write fails (a full disk), so its file keeps no space."""
        with self._lock:
            try:
                if self._counts:
                    self._flush()
            finally:
                self._db.close()

    def flush(self) -> None:
        """Write what `add` collected, in one transaction."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        pieces = [(term, glued, total) for term, (glued, total) in piece_counts(self._counts).items()]
        self._db.executemany("INSERT INTO pieces VALUES (?, ?, ?) ON CONFLICT (term) DO UPDATE SET "
                             "glued = glued + excluded.glued, total = total + excluded.total", pieces)
        self._db.execute("DELETE FROM pieces WHERE total <= 0")
        deltas = [(word, _encoded(analysis), n) for word, c in self._counts.items() for analysis, n in c.items() if n]
        if self._fresh and all(n > 0 for *_, n in deltas):  # nothing counted before: these are the whole table
            self._db.executemany("INSERT INTO counts VALUES (?, ?, ?)", deltas)
            found = _by_word(deltas)
        else:
            self._db.executemany("INSERT INTO counts VALUES (?, ?, ?) ON CONFLICT (word, terms) "
                                 "DO UPDATE SET n = n + excluded.n", deltas)
            found = self._recount(list(self._counts))
        self._db.executemany("INSERT OR REPLACE INTO words VALUES (?, ?)",
                             ((word, commonest(readings)) for word, readings in found.items()))
        self._db.executemany("DELETE FROM words WHERE word = ?", ((w,) for w in self._counts if w not in found))
        self._fresh = False
        if self._longest is not None:
            self._db.execute(_LONGEST)
            self._db.execute("DELETE FROM longest")
            self._db.execute("INSERT INTO longest VALUES (?)", (self._longest,))
        self._db.commit()
        self._counts = {}

    def pending(self) -> tuple[dict[str, dict[str, int]], dict[str, list[int]]]:
        """Take what `add` and `remove` collected and not yet written: word
        form → encoded reading → the change in its count, and Hangul term →
        the change in its (glued, total) counts (`piece_counts`). The
        cluster keeps them in its own lexicon index and generation row."""
        with self._lock:
            taken, self._counts = self._counts, {}
        return {word: {_encoded(a): n for a, n in c.items() if n} for word, c in taken.items()}, piece_counts(taken)

    def _recount(self, words: list[str]) -> dict[str, list[tuple[str, int]]]:
        """Drop the readings no text holds any more, then each of these
        words' readings still counted, with their counts."""
        self._db.executemany("DELETE FROM counts WHERE word = ? AND n <= 0", ((w,) for w in words))
        return _by_word(self._counted(words))

    def _counted(self, words: list[str]) -> list[tuple[str, str, int]]:
        """(word, encoded reading, count) rows of these words."""
        return self._chunked("SELECT word, terms, n FROM counts", words)

    def _chunked(self, select: str, words: list[str]) -> list[tuple]:
        """``select``'s rows of these words, 500 at a time (SQLite caps a
        statement's parameters)."""
        return self._chunked_by(select, "word", words)

    def _chunked_by(self, select: str, column: str, keys: list[str]) -> list[tuple]:
        """``select``'s rows whose ``column`` is one of ``keys``, 500 at a time."""
        rows: list[tuple] = []
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            rows += self._db.execute(f"{select} WHERE {column} IN ({','.join('?' * len(part))})", part).fetchall()
        return rows

    def add(self, items: Iterable[tuple[str, list[Term]]]) -> None:
        """Collect the word forms of analysed texts. Kiwi reads a word by its
        context, so a word keeps its most frequent analysis. Every index
        term comes through here, so the bound `longest` covers them all."""
        self._count(items, 1)

    def remove(self, items: Iterable[tuple[str, list[Term] | list[tuple[str, int, int, int]]]]) -> None:
        """Take away the word forms of texts no longer indexed (a replaced or
        removed post's, from its stored texts and offsets), so each word
        keeps the commonest reading of the texts still indexed. The bound
        `longest` stays: an upper bound is all `segment` needs."""
        self._count(items, -1)

    def _count(self, items: Iterable[tuple[str, Sequence]], sign: int) -> None:
        counts = self._counts
        for text, terms in items:
            words = split_words(text, terms)
            if sign > 0 and self._longest is not None:
                self._longest = longest_hangul(words, longest_hangul((t[0] for t in terms), self._longest))
            for word, found in words.items():
                analysis = tuple(found)  # hashable
                lower = word.lower()  # users type Reward, reward, REWARD alike
                for form in (word,) if lower == word else (word, lower):
                    seen = counts.get(form)
                    if seen is None:
                        seen = counts[form] = Counter()
                    seen[analysis] = seen.get(analysis, 0) + sign  # not Counter's __missing__, a Python call

    def lookup_whole(self, words: list[str]) -> dict[str, list[list]]:
        """Each whole word's reading (`lookup`), and for a form the texts
        never wrote that the package's table of verb forms holds
        (`verbforms`), Kiwi's reading of it. Never for a piece inside a
        word: 들을 alone is 듣 (hear), after a noun (에이전트들을) the plural
        들 and a particle."""
        found = self.lookup(words)
        if missing := [w for w in words if w not in found]:
            found.update(verbforms.readings(missing))
        return found

    def lookup(self, words: list[str]) -> dict[str, list[list]]:
        """Each word form's commonest reading in the indexed texts."""
        with self._lock:
            if self._counts:
                self._flush()
            with self._reading():
                rows = self._chunked("SELECT word, terms FROM words", list(dict.fromkeys(words)))
                return {word: json.loads(terms) for word, terms in rows}

    def readings(self, words: list[str]) -> dict[str, list[tuple[list[list], int]]]:
        """Every way the indexed texts read each recorded word form, with
        how often, commonest first (`by_count`): Kiwi reads a word by its
        context (대형 is 대 in "멀티모달 대형 언어 모델의" 39 times in 232),
        and a quoted phrase must match wherever its words were written
        (`query.phrase_readings`)."""
        unique = list(dict.fromkeys(words))
        with self._lock:
            if self._counts:
                self._flush()
            with self._reading():
                rows = self._counted(unique)
        return self._decoded(_by_word(rows))

    def sticky(self, terms: Iterable[str]) -> set[str]:
        """The terms the texts write glued inside longer words (`STICKY`):
        a query word Kiwi splits into one (프레임워크 → 프레임 + 워크) is
        matched as its pieces in sequence (`query.word_parts`)."""
        wanted = [t for t in dict.fromkeys(terms) if _HANGUL.fullmatch(t)]
        rows = self._pieces(lambda: self._chunked_by("SELECT term, glued, total FROM pieces", "term", wanted))
        return {term for term, glued, total in rows if self._sticky_row(glued, total)}

    def sticky_terms(self) -> list[str]:
        """Every sticky term, in order: what the static page reads (`sticky`)."""
        rows = self._pieces(lambda: self._db.execute("SELECT term, glued, total FROM pieces ORDER BY term").fetchall())
        return [term for term, glued, total in rows if self._sticky_row(glued, total)]

    def _sticky_row(self, glued: object, total: object) -> bool:
        """`is_sticky` of a stored row; a row that holds no counts is damage."""
        if not (isinstance(glued, int) and isinstance(total, int)):
            raise self._damaged(ValueError(f"pieces row ({glued!r}, {total!r}) is not two counts"))
        return is_sticky(glued, total)

    def _pieces(self, select: Callable[[], list[tuple]]) -> list[tuple]:
        """Rows of the `pieces` table; none from a table written before it
        was kept (an index of before kiwi-6 reads every query word's pieces
        apart, as it did, until its next reindex rebuilds it)."""
        with self._lock:
            if self._counts:
                self._flush()
            with self._reading():
                try:
                    return select()
                except sqlite3.OperationalError as exc:
                    if "no such table" not in str(exc):
                        raise
                    return []

    def ambiguous(self) -> Iterator[tuple[str, list[tuple[list[list], int]]]]:
        """Every word form read more than one way, with its `readings`, in
        word order: what the static page matches phrases by."""
        with self._lock:
            if self._counts:
                self._flush()
            with self._reading():
                rows = self._db.execute("SELECT word, terms, n FROM counts WHERE word IN "
                                        "(SELECT word FROM counts WHERE n > 0 GROUP BY word HAVING count(*) > 1) "
                                        "ORDER BY word").fetchall()
        yield from sorted(self._decoded(_by_word(rows)).items())

    def _decoded(self, found: Mapping[str, list[tuple[str, int]]]) -> dict[str, list[tuple[list[list], int]]]:
        """Each word's counted readings decoded, commonest first; a word
        none of whose readings is counted any more is left out."""
        with self._reading():
            ordered = {word: by_count(readings) for word, readings in found.items()}
            return {word: [(json.loads(r), n) for r, n in readings] for word, readings in ordered.items() if readings}

    def entries(self, hangul: bool = False) -> Iterator[tuple[str, list[list]]]:
        """Every recorded word form with its terms, in word order: what a
        static search page (`searchkit.site`) looks words up in; with
        ``hangul``, only words that start with a Hangul syllable (all the
        stand-in's tables read, `standin.tables`)."""
        where = " WHERE word >= '\uac00' AND word <= '\ud7a3\U0010ffff'" if hangul else ""
        with self._lock:
            if self._counts:
                self._flush()
            with self._reading():
                rows = self._db.execute(f"SELECT word, terms FROM words{where} ORDER BY word").fetchall()
        for word, terms in rows:
            try:
                found = json.loads(terms)
            except ValueError as exc:
                raise self._damaged(exc) from None
            yield word, found

    def prefetched(self, texts: Iterable[str]) -> dict[str, list[list] | None]:
        """Every word form of the texts (and its lower case) → its reading,
        None when not recorded: one look-up for many texts, for `analyse`."""
        words = {m.group() for text in texts for m in WORD.finditer(text)}
        wanted = spellings(words)
        found = self.lookup_whole(wanted)
        return {w: found.get(w) for w in wanted}

    @staticmethod
    def recorded(text: str, prefetched: Mapping[str, list[list] | None]) -> bool:
        """Whether every word of the text is a recorded word form (as it
        stands or in lower case), by a `prefetched` look-up of it."""
        return all(prefetched.get(w) is not None or prefetched.get(w.lower()) is not None
                   for w in (m.group() for m in WORD.finditer(text)))

    def analyse(self, text: str, known: Callable[[str], bool] = lambda term: False,
                prefetched: Mapping[str, list[list] | None] | None = None,
                counted: Mapping[str, Sequence[tuple[list[list], int]]] | None = None) -> list[Term]:
        """Analyse query text by look-up. When a word is neither recorded
        nor made of recorded words or ``known`` index terms, every word of
        the text is read by the stand-in (`standin.StandIn`), as the static
        page reads it; Kiwi is never loaded for a query. A Hangul word of
        two syllables or more read as no term but itself an index term is
        searched as that term when it is the text's one word, or when the
        texts read it so at least `AS_ITSELF` of the time: Kiwi read 깊이
        more often as the adverb "deeply" than as the noun "depth", and
        "단안 깊이" searched 단안 alone. Otherwise such a word stays
        unsearched: beside others it is mostly the counter or adverb its
        reading says (두 가지 searched 가지치기's 가지). ``prefetched``:
        readings looked up beforehand for many texts (`prefetched`);
        ``counted``: the words' `readings`, when the caller has them."""
        matches = list(WORD.finditer(text))
        words = {m.group() for m in matches}
        wanted = spellings(words)
        ready = prefetched or {}
        found = {w: r for w in wanted if (r := ready.get(w)) is not None}
        if missing := [w for w in wanted if w not in ready]:
            found.update(self.lookup_whole(missing))
        for word in words:
            if word not in found and word.lower() in found:
                found[word] = found[word.lower()]
        for word in words - found.keys():
            segmented = self.segment(word, known)
            if segmented is None:
                found = self._stand_in(words, known)
                break
            found[word] = segmented
        instead, beside = self._as_themselves(words, found, known, len(matches) == 1, counted)
        for word in instead:
            found[word] = [[word, 0, 0, len(word)]]
        for word in beside:  # the whole word, then its reading within it: one part of either (`query.word_parts`)
            found[word] = [[word, found[word][0][1], 0, len(word)], *found[word]]
        for word in words:  # read by the stand-in, or an index of before GAPs: as the texts' analysis reads it
            if not found[word] and holds_gap(word):
                found[word] = [[GAP, 0, 0, len(word)]]
        terms: list[Term] = []
        base = 0
        for match in matches:
            recorded = found[match.group()]
            for term, pos, start, end in recorded:
                terms.append(Term(term, base + pos, match.start() + start, match.start() + end))
            base += 1 + max((r[1] for r in recorded), default=-1)
        return terms

    def _as_themselves(self, words: Iterable[str], found: Mapping[str, list[list]], known: Callable[[str], bool],
                       alone: bool, counted: Mapping[str, Sequence[tuple[list[list], int]]] | None
                       ) -> tuple[list[str], list[str]]:
        """The words to search as themselves (see `analyse`): those read as
        no term, instead of their reading; and those the texts read as
        themselves at least `AS_ITSELF` of the time but most often
        otherwise, beside their reading: Kiwi read 커버리지 as 크 in three
        texts of four, 이산 (discrete) as 산, 모달 as 달, 판별 as 판, and the
        query searched only that. Counts are looked up once, only for such
        words (no-term ones only when the text has others)."""
        instead = [w for w in words if no_term(found[w]) and may_stand_alone(w) and known(w)]
        beside = [w for w in words if may_stand_alone(w) and not no_term(found[w]) and not _is_itself(w, found[w])]
        asked = beside + ([] if alone else instead)
        if asked and counted is None:
            counted = self.readings(asked)

        def often(word: str) -> bool:
            return _share_as_itself(word, (counted or {}).get(word, [])) >= AS_ITSELF

        return [w for w in instead if alone or often(w)], [w for w in beside if often(w)]

    def _stand_in(self, words: Iterable[str], known: Callable[[str], bool]) -> dict[str, list[list]]:
        """Every word as the stand-in reads it."""
        from .standin import StandIn, tables

        if self._tables is None:  # a pure function of the recorded words: read once
            self._tables = tables(self.entries(hangul=True))
        reader = StandIn(self.lookup, known, lambda word: self.segment(word, known), *self._tables,
                         whole=self.lookup_whole)
        return {word: reader.word(word) for word in words}

    def segment(self, word: str, known: Callable[[str], bool] = lambda term: False) -> list[list] | None:
        """Analyse an unseen Korean word from recorded ones: the longest
        recorded prefix, then the rest the same way, a remainder of one or
        two syllables being an ending (향상된다 → 향상; 대규모언어모델 →
        대규모 + 언어 + 모델). None when that fails: the stand-in decides.

        ``known`` must hold only terms of the recorded texts (an index's
        terms): prefixes longer than `longest` are not tried."""
        if not _HANGUL_WORD.fullmatch(word):
            return None
        return self._segment(word, 0, known, {})

    def _segment(self, word: str, start: int, known: Callable[[str], bool],
                 memo: dict[int, list[list] | None]) -> list[list] | None:
        """``word[start:]`` as `segment` reads it, worked out once per offset:
        a rest that fails was otherwise tried again from every way of
        reaching it, exponentially many (다중모달 × 16 + 뷁뷁뷁 took 21 s). The
        order of the tries is unchanged, so the first split found is too."""
        if start in memo:
            return memo[start]
        result = None
        for prefix, items in self._prefixes(word, start, known):
            end = start + len(prefix)
            tail = self._recorded_tail(word[end:], known)
            if tail is None:  # a rest of one or two syllables: an ending or a particle (된다, 에서, 으로)
                tail = [] if len(word) - end <= 2 else self._segment(word, end, known, memo)
            if tail is not None:
                shift = 1 + max(item[1] for item in items)
                result = items + [[t, pos + shift, s + len(prefix), e + len(prefix)] for t, pos, s, e in tail]
                break
        memo[start] = result
        return result

    def _prefixes(self, word: str, start: int, known: Callable[[str], bool]) -> Iterator[tuple[str, list[list]]]:
        """The prefixes of ``word[start:]`` that are recorded words or index
        terms, two syllables or more, longest first, with their items. None
        is longer than `longest`: a 1000-syllable word looked up all its
        prefixes at every step, half a million strings (518 MB)."""
        stop = min(len(word), start + self._bound())
        prefixes = [word[start:i] for i in range(stop, start + 1, -1)]
        found = self.lookup(prefixes) if prefixes else {}
        for prefix in prefixes:
            items = found.get(prefix)
            if not items and known(prefix):
                items = [[prefix, 0, 0, len(prefix)]]  # an index term written bare
            if items:
                yield prefix, items

    def _recorded_tail(self, rest: str, known: Callable[[str], bool]) -> list[list] | None:
        """The rest after a prefix as one recorded word or index term; none
        (``[]``) when it is empty or a case particle; None when neither."""
        if not rest or rest in PARTICLES:
            return []
        if len(rest) > self._bound():
            return None  # no recorded word or term is that long
        tail = self.lookup([rest]).get(rest)
        if tail is None and known(rest):
            tail = [[rest, 0, 0, len(rest)]]
        return tail
