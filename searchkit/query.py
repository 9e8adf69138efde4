"""Query text → a backend-neutral query: parts, phrases, arXiv ids.

Parts: validation (`check_query`), the records (`Part`, `ParsedQuery`) and
the parser (`parse_query`). The syntax is deliberately small, like a web
search box: words (OR-ed, more matched words rank higher), ``"quoted
phrases"`` (required, in order), and arXiv ids. Anything else, stray
quotes, operators, ``field:`` prefixes, is just text, so no query can fail
to parse.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from .analysis import GAP, WORD, Term, no_term, spellings
from .errors import QueryError
from .hits import Expansion

MAX_QUERY = 1000
"""Longest query accepted, in characters: a paragraph, not a document."""

_PHRASE = re.compile(r'"([^"]*)"')
_ARXIV = re.compile(
    r"(?<![0-9０-９.．])"
    r"(?:[aA][rR][xX][iI][vV]:|(?:[hH][tT][tT][pP][sS]?://)?(?:www\.|export\.)?[aA][rR][xX][iI][vV]\.[oO][rR][gG]"
    r"/(?:abs|pdf|html)/)?"
    r"([0-9０-９]{4}[.．][0-9０-９]{4,5})(?:[vｖ][0-9０-９]+)?(?:\.pdf)?(?![0-9０-９]|[.．][0-9０-９])"
)
r"""An arXiv id in a query, in ASCII or full-width digits (read NFKC, as
`engine.bare_id` reads them), with the ``arXiv:`` or link it was pasted
with (left as words, https and arxiv.org halved a paper's coverage);
spelt out rather than ``\d`` or a case flag, which Python and the page's
JavaScript read differently."""

Analyse = Callable[[str], list[Term]]
ReadPhrase = Callable[[str], tuple[tuple[str, ...], ...]]
Readings = Callable[[list[str]], Mapping[str, Sequence[tuple[Sequence, int]]]]
"""Word forms → each one's (reading, count) pairs (`lexicon.Lexicon.readings`)."""
Sticky = Callable[[Sequence[str]], Collection[str]]
"""Terms → those the texts write glued inside longer words (`lexicon.Lexicon.sticky`)."""
PHRASE_READINGS = 8
"""Ways a quoted phrase is matched in at most, its commonest first: each
word may have been read several ways in the texts (see `phrase_readings`)."""


@dataclass(frozen=True)
class Part:
    """One thing the query asks for.

    :param alternatives: term sequences, any of which satisfies the part; a
        sequence of two or more terms must match as a phrase.
    :param required: quoted phrases must match; words only add score.
    :param weight: 1.0 for what the user typed, less for expansions.
    :param label: the query text the part came from.
    :param typed: False for parts the engine added (glossary synonyms,
        similar's key terms): coverage counts only what the user typed.
    :param covers: for an expansion, the labels of the typed parts it
        stands for: a paper holding it covers those words (양자화 covers
        경량화).
    :param significance: how much the part tells about the topic (its
        idf, lowered for frame words; see `understand`): coverage counts
        words by it, and proximity looks only at significant words.
    """

    alternatives: tuple[tuple[str, ...], ...]
    required: bool = False
    weight: float = 1.0
    label: str = ""
    typed: bool = True
    covers: tuple[str, ...] = ()
    significance: float = 1.0


@dataclass(frozen=True)
class ParsedQuery:
    """The query as the backends see it.

    :param parts: typed words and phrases, then glossary expansions.
    :param arxiv_ids: ids written in the query; they rank their paper first.
    """

    text: str
    parts: tuple[Part, ...]
    arxiv_ids: tuple[str, ...] = ()
    expansions: tuple[Expansion, ...] = field(default=())

    @property
    def terms(self) -> set[str]:
        """Single terms to highlight."""
        return {alt[0] for part in self.parts for alt in part.alternatives if len(alt) == 1}

    @property
    def phrases(self) -> list[tuple[str, ...]]:
        """Term sequences to highlight only where they occur in order."""
        return [alt for part in self.parts for alt in part.alternatives if len(alt) > 1]

    @property
    def typed(self) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.typed)


def check_query(text: str) -> str:
    """The query composed (NFC: a pasted 확산 may come as jamo, which
    matched but was labelled by its pieces), its invisible format
    characters dropped (a zero-width space or soft hyphen inside 확산 made
    two words of it) and other control characters turned into spaces;
    raises `QueryError` for an empty or oversized one."""
    if not isinstance(text, str):
        raise QueryError(f"query must be text, not {type(text).__name__}")
    broken = next((c for c in text if "\ud800" <= c <= "\udfff"), None)
    if broken is not None:  # bytes that were not UTF-8 (a shell in another locale): dropping them changed the query
        shown = f"byte 0x{ord(broken) - 0xDC00:02x}" if "\udc80" <= broken <= "\udcff" else "a lone surrogate"
        raise QueryError(f"query is not valid UTF-8 text ({shown}): check the terminal's encoding")
    visible = "".join(_VISIBLE.get(unicodedata.category(c), c) for c in text)
    cleaned = unicodedata.normalize("NFC", visible).strip()  # after: an invisible character splits jamo
    if not cleaned:
        raise QueryError("empty query: give some words to search for")
    if len(cleaned) > MAX_QUERY:
        raise QueryError(f"query is too long: {len(cleaned)} characters (at most {MAX_QUERY})")
    return cleaned


_VISIBLE = {"Cf": "", "Cc": " ", "Co": " ", "Cn": " "}
"""Unicode categories `check_query` replaces: format characters go, other
controls become spaces."""


def parse_query(text: str, analyse: Analyse, phrase: ReadPhrase | None = None, sticky: Sticky = lambda terms: ()
                ) -> ParsedQuery:
    """Split quoted phrases from free words and analyse both with
    ``analyse`` (the index's lexicon, so no Kiwi is needed for known words),
    or a phrase with ``phrase`` where given (`read_phrase`); ``sticky``
    tells which terms the texts write only glued inside longer words
    (`word_parts`)."""
    text = check_query(text)
    parts: list[Part] = []
    for match in _PHRASE.finditer(text):
        alternatives = phrase(match.group(1)) if phrase else (sequence(analyse(match.group(1))),)
        if alternatives and alternatives[0]:
            parts.append(Part(alternatives, required=True, label=match.group(1)))
    free = _PHRASE.sub(" ", text).replace('"', " ")
    ids = tuple(dict.fromkeys(unicodedata.normalize("NFKC", m.group(1)) for m in _ARXIV.finditer(free)))
    # ids are looked up in their own field; analysing them would only load Kiwi
    words = _ARXIV.sub(" ", free)
    if any(c.isalnum() for c in words):  # punctuation alone needs no analyser
        parts.extend(word_parts(words, analyse(words), sticky))
    if not parts and not ids:
        raise QueryError(f"no searchable words in query {text!r} (particles, stop words and punctuation are ignored)")
    return ParsedQuery(text, tuple(parts), ids)


def read_phrase(text: str, analyse: Analyse, lookup: Readings) -> tuple[tuple[str, ...], ...]:
    """A quoted phrase's term sequences: as ``analyse`` reads it (a word
    read as no term is searched as itself only where `Lexicon.analyse`
    says: "여섯 가지" is no phrase 가지, "이진 분류" keeps 이진), then
    `phrase_readings`; empty when it keeps no term."""
    terms = sequence(analyse(text))
    return tuple(dict.fromkeys([terms, *phrase_readings(text, lookup)])) if terms else ()


def phrase_readings(text: str, lookup: Readings) -> list[tuple[str, ...]]:
    """The term sequences of a phrase of two words or more, each word read
    in each way the texts read it (``lookup``: word forms → each one's
    (reading, count) pairs, `lexicon.Lexicon.readings`), most likely
    first, at most `PHRASE_READINGS`. Kiwi reads a word by its context:
    대형 is 대형 in most texts but 대 in "멀티모달 대형 언어 모델의", and a
    quoted phrase matched only its commonest reading missed every paper
    writing it so. Empty when a word is not recorded (its reading is a
    guess) or the phrase is one word (양자화 read as 양자 would be quantum).
    A word read as no term only now and then is not tried so: 대형 read as
    nothing would make the phrase match "멀티모달 언어 모델"."""
    words = WORD.findall(text)
    if len(words) < 2:
        return []
    readings = lookup(spellings(words))
    beam: list[tuple[tuple, float]] = [((), 1.0)]
    for word in words:
        found = readings.get(word) or readings.get(word.lower())
        if not found:
            return []
        total = sum(n for _, n in found)
        # a reading of no term only where it is the word's commonest (다른 is mostly no term; 대형 once)
        options = [(r, n / total) for i, (r, n) in enumerate(found) if not no_term(r) or not i]
        beam = sorted(((chosen + (r,), p * share) for chosen, p in beam for r, share in options),
                      key=lambda item: -item[1])[:PHRASE_READINGS]
    out = []
    for chosen, _ in beam:
        terms: list[Term] = []
        base = 0
        for reading in chosen:
            terms += [Term(term, base + pos, 0, 0) for term, pos, *_ in reading]
            base += 1 + max((r[1] for r in reading), default=-1)
        if len(found := sequence(terms)) > 1:
            out.append(found)
    return list(dict.fromkeys(out))


def word_parts(text: str, terms: list[Term], sticky: Sticky = lambda terms: ()) -> list[Part]:
    """One part per term; a name Kiwi split (``gpt-4o``) becomes one part
    matching either the whole name or its parts in sequence, and a Korean
    word Kiwi split into a lone syllable and the rest (저자원 → 저자 + 원),
    or into pieces one of which the texts write only glued (``sticky``:
    프레임워크 → 프레임 + 워크, 데이터셋 → 데이터 + 셋), one part matching such
    a piece and its neighbour in sequence (`_bound`): it is no word of its
    own, and its neighbour alone (저자, author; 프레임, frame) is another."""
    parts: list[Part] = []
    terms = _without_prefixed_nouns([t for t in terms if t.text != GAP])  # a GAP holds a position only
    i = 0
    while i < len(terms):
        term = terms[i]
        inner = [t for t in terms[i + 1 :] if term.start <= t.start and t.end <= term.end]
        label = text[term.start : term.end]
        glued = _glued_run(terms, i)
        if inner:
            seq = tuple(t.text for t in inner)
            parts.append(Part(((term.text,), seq), label=label))
            i += 1 + len(inner)
        elif len(glued) > 1 and all(is_hangul(t.text) for t in glued):
            parts += [Part((tuple(t.text for t in group),), label=text[group[0].start : group[-1].end])
                      for group in _bound(glued, sticky)]
            i += len(glued)
        elif not _suffix(terms, i):
            parts.append(Part(((term.text,),), label=label))
            i += 1
        else:
            i += 1
    return unique(parts)


def _bound(run: list[Term], sticky: Sticky) -> list[list[Term]]:
    """Korean pieces glued in one word, grouped into what is matched
    together: a piece that is no word of its own (a lone syllable, or a
    sticky term) binds to the piece before it, or, first in its group, to
    the piece after it; the others stand alone. 멀티모달프레임워크 is
    (멀티 모달) (프레임 워크), never one phrase of four pieces, which texts
    keeping 멀티모달 as one term never match. Asks ``sticky`` once a run."""
    found = sticky(tuple(t.text for t in run))
    binds = [len(t.text) == 1 or t.text in found for t in run]
    groups: list[list[int]] = []
    for i, binding in enumerate(binds):
        if groups and (binding or (len(groups[-1]) == 1 and binds[groups[-1][0]])):
            groups[-1].append(i)
        else:
            groups.append([i])
    return [[run[i] for i in group] for group in groups]


def _glued_run(terms: list[Term], i: int) -> list[Term]:
    """The terms from ``i`` on that stand glued together in one word,
    glued suffixes (`SUFFIXES`) left out."""
    run = [terms[i]]
    for j in range(i + 1, len(terms)):
        if terms[j].start != run[-1].end or _suffix(terms, j):
            break
        run.append(terms[j])
    return run


def content_terms(terms: Sequence[str]) -> tuple[str, ...]:
    """Analysed terms of a short text without derivational suffixes past
    the first term (모델 경량화 → 모델, 경량), as `word_parts` reads a query."""
    return tuple(t for i, t in enumerate(terms) if not (i and t in SUFFIXES))


PREFIXES = frozenset("고대재불최비저무부초미역반소진제과신친탈범구준총매캡생가정주")
"""The syllables Kiwi tags as noun prefixes (XPN), which the analysis
indexes with their noun as a whole word beside the noun
(`analysis.PREFIXED`)."""


def _without_prefixed_nouns(terms: list[Term]) -> list[Term]:
    """The terms less those a prefixed word of the same position stands
    over (지도 under 비지도, 고해상도 and 해상도 under 초고해상도): typed,
    a prefixed word is searched alone, glued to others or not, or 비지도
    학습 would find every 지도 학습 (supervised) paper too."""
    out: list[Term] = []
    for term in terms:
        over = next((t for t in reversed(out) if t.pos == term.pos), None)
        if over is not None and _prefixed(over, term):
            continue
        out.append(term)
    return out


def _prefixed(whole: Term, noun: Term) -> bool:
    """Whether ``whole`` is ``noun`` with prefixes (`PREFIXES`) before it."""
    head = whole.text[: len(whole.text) - len(noun.text)]
    return (bool(head) and whole.end == noun.end and whole.text.endswith(noun.text) and is_hangul(whole.text)
            and set(head) <= PREFIXES)


SUFFIXES = frozenset("화적성형용별식률율력도감")
"""Sino-Korean derivational suffixes (경량화, 효율적, 정확도, 추론력): glued
to a term they add nothing a search can use. Other single syllables after
a term stay, as the 턴 of 멀티턴 (multi-turn) or the 핑 of 스키핑."""


def _suffix(terms: list[Term], i: int) -> bool:
    """A derivational suffix glued to the end of the term before it, which
    on its own would match every paper holding that syllable anywhere."""
    term = terms[i]
    return i > 0 and term.text in SUFFIXES and terms[i - 1].end == term.start


def is_hangul(term: str) -> bool:
    return bool(term) and all("\uac00" <= c <= "\ud7a3" for c in term)


def split_compounds(parsed: ParsedQuery, known: Callable[[str], bool]) -> ParsedQuery:
    """Let a Korean compound Kiwi kept whole (희소어텐션) also match its
    parts written apart (희소 어텐션): each split into two indexed words of
    two or more syllables becomes an alternative phrase."""
    parts = []
    for part in parsed.parts:
        alternatives = list(part.alternatives)
        if len(alternatives) == 1 and len(alternatives[0]) == 1 and is_hangul(alternatives[0][0]):
            alternatives += [(a, b) for a, b in compound_halves(alternatives[0][0]) if known(a) and known(b)]
        parts.append(replace(part, alternatives=tuple(alternatives)))
    return ParsedQuery(parsed.text, tuple(parts), parsed.arxiv_ids, parsed.expansions)


def compound_halves(word: str) -> list[tuple[str, str]]:
    """The ways `split_compounds` tries to cut a Korean word: two halves
    of two syllables or more."""
    return [(word[:i], word[i:]) for i in range(2, len(word) - 1)]


def sequence(terms: list[Term]) -> tuple[str, ...]:
    """A phrase's terms as it is matched, position by position: parts
    rather than whole names (`plain`), a `GAP` kept between two terms and
    none at either end ("두 가지" is no phrase of 가지, "두 단계" the
    phrase 단계, "성능을 대폭 향상" 성능, GAP, 향상)."""
    found = [t.text for t in plain(terms)]
    while found and found[0] == GAP:
        found.pop(0)
    while found and found[-1] == GAP:
        found.pop()
    return tuple(found)


def plain(terms: list[Term]) -> list[Term]:
    """Terms without whole-name duplicates, one a position, for phrases
    matched by position: the one rule for "the parts, not the name" (the
    glossary's and the mined pairs' terms, the cluster's field order)."""
    out: list[Term] = []
    for t in terms:
        if out and out[-1].pos == t.pos:
            # the part replaces the whole name at its position, even where the name starts earlier
            # (In-Context-Learning: its first chunk is a stop word, so its first kept part starts later)
            out[-1] = t
        else:
            out.append(t)
    return out


def unique(parts: list[Part]) -> list[Part]:
    """Parts in order, each set of alternatives once."""
    seen: set = set()
    out = []
    for part in parts:
        if part.alternatives not in seen:
            seen.add(part.alternatives)
            out.append(part)
    return out
