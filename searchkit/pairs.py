"""Term pairs mined from the corpus: ``한국어 용어(English term)``.

The summaries introduce a term the way a translator does, the Korean
first and the English (or its acronym) in parentheses: 흐름 매칭(flow
matching), 희소 자기부호기(SAE). Each such pair is a synonym the corpus
itself vouches for, so a new corpus brings its own. The indexer mines
every paper it analyses (`mine_fields`) and keeps the pairs per post in
the generation (`save`, ``pairs.json``), so an incremental reindex mines
only what changed; a query reads them through `read` (one function, so
another store, such as the cluster's meta index, can supply the same
rows) and `Glossary` uses them as expansions.

Mining works on the analysed text, because Kiwi already says where a
Korean word ends in particles: the Korean span is the run of bare words
(every character up to the word's end covered by a term, so no particle
or ending) just before the parenthesis, at most as many words as the
English has (an acronym: its capitals), stopping at relational nouns
(대비, 통해 …). Parentheses that hold no term are refused: citations
(Kim et al., 2024), numbers and units (7B, 128개, 10%), Korean text,
lists of several acronyms, and anything nested deeper than one level.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .analysis import Term
from .query import SUFFIXES, content_terms, sequence

PAIRS_FILE = "pairs.json"
VERSION = 1
"""Bumped when the miner's rules change: pairs from an older miner are
mined again (see `present`)."""
MAX_WORDS = 5
"""Longest Korean span, in words."""
MIN_ACRONYM_COUNT = 2
"""An acronym alone must be written for its Korean term at least twice:
once is mostly a paper's own method name (과제 생성 시스템(MAHTG)),
while LLM, SAE, T2V recur."""
MIN_SINGLE_COUNT = 2
"""A one-term Korean side must be written with its English at least twice."""
MIN_SHARE = 0.25
"""A source keeps a target only if at least this share of the source's
pairs name it: 모델(CADD) once among thirty other English forms of 모델
is a boundary mistake, not a synonym."""
STOP_WORDS = frozenset((
    "기존", "기반", "최신", "주요", "대표", "비공개", "일반", "전통", "여러",
    "대비", "대신", "통해", "위해", "관련", "이후", "이전", "동안", "및",
    "등", "또는", "혹은", "즉", "특히", "주로", "또한", "더불어", "함께",
    "각각", "각", "해당", "일종", "이른바", "소위", "바로", "이",
))
"""Bare nouns that end a Korean span when walking back: they relate the
term to the sentence (기존 방법 대비 궤적 오차(MTE)) or qualify it (기존
강화학습(RL), 확산 기반 대형 언어 모델(…)) rather than name it."""

TAIL_SUFFIXES = SUFFIXES | {"형"}
"""Syllables a bare noun may end in that Kiwi leaves out of its terms."""

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_KO_WORD = re.compile(r"[\uac00-\ud7a30-9·\-]+")
_LATIN = re.compile(r"[A-Za-z]")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_NUMBER = re.compile(r"^[~≈<>±]?[\d.,]+\s*[A-Za-z%×x]{0,3}$")
_REFUSE = re.compile(r"\bet al\b|\be\.g\.|\bi\.e\.|\bvs\b|[=<>±%]|https?:", re.I)
_ACRONYM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-+.]*$")


@dataclass(frozen=True)
class Pair:
    """One mined pair, as analysed terms and as written."""

    ko_terms: tuple[str, ...]
    ko_text: str
    en_terms: tuple[str, ...]
    en_text: str


def mine_fields(texts: Sequence[str], analysed: Sequence[Sequence[Term]]) -> list[Pair]:
    """Every pair in a paper's sections (text with its terms)."""
    return [pair for text, terms in zip(texts, analysed) for pair in mine(text, list(terms))]


def mine(text: str, terms: list[Term]) -> list[Pair]:
    """The ``Korean(English)`` pairs of one analysed text."""
    located = _Located(terms)
    found: list[Pair] = []
    for open_at in (m.start() for m in re.finditer(r"\(", text)):
        close_at = _closing(text, open_at)
        if close_at is None:
            continue
        english = _english(text[open_at + 1 : close_at])
        if english is None:
            continue
        words = _english_words(english)
        korean = _korean_span(text, open_at, located, words)
        if korean is None:
            continue
        start, end = korean
        # a long form of n words is named by n Korean words or more (spaces and
        # hyphens): 감쇄(Cautious Weight Decay) is the tail of a longer span
        if _is_long(english) and len(re.split(r"[\s\-]+", text[start:end])) < words:
            continue
        ko_terms = _terms_in(located, start, end)
        for surface, (s, e) in english:
            en_terms = _terms_in(located, open_at + 1 + s, open_at + 1 + e)
            if ko_terms and en_terms and ko_terms != en_terms:
                found.append(Pair(ko_terms, text[start:end], en_terms, surface))
    return found


def _closing(text: str, open_at: int) -> int | None:
    """The parenthesis closing the one at ``open_at``; None when it is
    not closed, nested more than one level, or directly follows no word."""
    if open_at == 0 or not _HANGUL.match(text[open_at - 1]):
        return None
    depth = 0
    for i in range(open_at, min(len(text), open_at + 200)):
        if text[i] == "(":
            depth += 1
            if depth > 2:
                return None
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


def _english(inside: str) -> list[tuple[str, tuple[int, int]]] | None:
    """The English forms in a parenthesis, each with its span in it: one
    long form, one acronym, or one of each; None for anything else."""
    if _HANGUL.search(inside) or _YEAR.search(inside) or _REFUSE.search(inside) or not _LATIN.search(inside):
        return None
    pieces = [(m.group().strip(), m.start() + len(m.group()) - len(m.group().lstrip()))
              for m in re.finditer(r"[^,;()]+", inside) if m.group().strip()]
    if not pieces or len(pieces) > 2:
        return None
    forms, acronyms, longs = [], 0, 0
    for piece, at in pieces:
        if _NUMBER.match(piece) or len(_LATIN.findall(piece)) < 2:
            return None
        if _is_acronym(piece):
            if any(c.isdigit() for c in piece) and "-" in piece:  # a model's name: Qwen-2.5-VL-7B
                return None
            acronyms += 1
        else:
            longs += 1
        forms.append((piece, (at, at + len(piece))))
    return forms if acronyms <= 1 and longs <= 1 else None


def _is_acronym(piece: str) -> bool:
    return " " not in piece and bool(_ACRONYM.match(piece)) and sum(c.isupper() for c in piece) >= 2


def _is_long(english: list[tuple[str, tuple[int, int]]]) -> bool:
    """Whether the parenthesis holds a long form, not an acronym alone."""
    return any(not _is_acronym(surface) for surface, _ in english)


def _english_words(english: list[tuple[str, tuple[int, int]]]) -> int:
    """How many Korean words the English may stand for: its long form's
    words (split at spaces and hyphens), else its acronym's capitals."""
    longs = [s for s, _ in english if not _is_acronym(s)]
    if longs:
        return len(re.split(r"[\s\-]+", longs[0]))
    return sum(c.isupper() for c in english[0][0])


def _korean_span(text: str, open_at: int, terms: _Located, limit: int) -> tuple[int, int] | None:
    """The Korean term before the parenthesis, as (start, end): the bare
    words walking back from it, at most ``limit`` (and `MAX_WORDS`)."""
    words = list(_KO_WORD.finditer(text, max(0, open_at - 120), open_at))
    if not words or words[-1].end() != open_at:
        return None
    limit = max(1, min(limit, MAX_WORDS))
    start = words[-1].start()
    if not _bare(words[-1], terms, text) or not _HANGUL.search(words[-1].group()):
        return None
    taken = 1
    for previous, following in zip(reversed(words[:-1]), reversed(words[1:])):
        between = text[previous.end() : following.start()]
        if taken >= limit or between != " " or previous.group() in STOP_WORDS or not _bare(previous, terms, text):
            break
        if not _HANGUL.search(previous.group()):
            break
        start, taken = previous.start(), taken + 1
    # a word glued to what precedes it (a quote, a slash) is not a term's start
    if start > 0 and not text[start - 1].isspace() and text[start - 1] not in "\"'“‘[":
        return None
    return start, open_at


class _Located:
    """A text's terms looked up by position: each bracket asked for the
    terms of a few words, and reading every term of the text for each made
    mining quadratic (a 5 MB section of real summaries: ten minutes)."""

    def __init__(self, terms: list[Term]) -> None:  # noqa: D107
        self._terms = terms
        self._order = sorted(range(len(terms)), key=lambda i: terms[i].start)
        self._starts = [terms[i].start for i in self._order]

    def within(self, start: int, end: int) -> list[Term]:
        """The terms lying in [start, end], in the text's term order."""
        found = self._order[bisect_left(self._starts, start) : bisect_right(self._starts, end)]
        return [self._terms[i] for i in sorted(found) if self._terms[i].end <= end]


def _bare(word: re.Match, terms: _Located, text: str) -> bool:
    """Whether the word is a noun as it stands: no particle, no ending. Its
    last term reaches the word's end, or leaves only a derivational suffix
    Kiwi does not index (대형 → 대 + 형). A verb's stem is written otherwise
    than its word (벗어난 → 벗어나), so a modifier (새로운, 벗어난) ends the span."""
    inside = terms.within(word.start(), word.end())
    if not inside:
        return False
    last = inside[-1]
    if text[last.start : last.end].lower() != last.text:
        return False
    tail = text[last.end : word.end()]
    return not tail or tail in TAIL_SUFFIXES


def _terms_in(terms: _Located, start: int, end: int) -> tuple[str, ...]:
    """The terms inside [start, end) as a phrase matches them (`sequence`:
    두 단계(two stages) is the phrase 단계)."""
    return sequence(terms.within(start, end))


# The generation's file


def present(generation: Path) -> bool:
    """Whether the generation holds pairs mined by this miner (an older
    index has none: its posts must be mined again, in full)."""
    try:
        return json.loads((generation / PAIRS_FILE).read_text(encoding="utf-8")).get("version") == VERSION
    except (OSError, ValueError, AttributeError):
        return False


def save(generation: Path, stale_posts: Iterable[str], mined: Mapping[str, list[Pair]]) -> None:
    """Store the generation's pairs per post: the inherited ones minus
    those of changed or deleted posts, plus those just mined. Replaced,
    never rewritten in place (the inherited file is a hard link)."""
    path = generation / PAIRS_FILE
    posts: dict[str, list] = {}
    if present(generation):
        posts = json.loads(path.read_text(encoding="utf-8"))["posts"]
    for name in stale_posts:
        posts.pop(name, None)
    for name, found in mined.items():
        rows = [[list(p.ko_terms), p.ko_text, list(p.en_terms), p.en_text] for p in found]
        if rows:
            posts[name] = rows
    tmp = generation / (PAIRS_FILE + ".tmp")
    tmp.write_text(json.dumps({"version": VERSION, "posts": posts}, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def read(generation: Path) -> list[list]:
    """Every mined row of the generation, ``[ko_terms, ko_text, en_terms,
    en_text]`` once per occurrence; [] for an index without pairs."""
    if not present(generation):
        return []
    return rows_of(json.loads((generation / PAIRS_FILE).read_text(encoding="utf-8"))["posts"])


def rows_of(posts: Mapping[str, list]) -> list[list]:
    """Every mined row of these posts (post name → its rows), the posts in
    name order, as a full build mines them: `aggregate` breaks its ties by
    the order it meets rows in, and an incremental reindex stores a
    re-mined post last (a tie between FUSE and Fuse kept or dropped a pair
    by the build's history)."""
    return [row for name in sorted(posts) for row in posts[name]]


@dataclass(frozen=True)
class Mined:
    """One pair after aggregation: how often the corpus writes it."""

    ko_terms: tuple[str, ...]
    ko_text: str
    en_terms: tuple[str, ...]
    en_text: str
    count: int


def aggregate(rows: Iterable[Sequence]) -> list[Mined]:
    """Distinct pairs with their counts, keeping for each side only the
    other sides it names often enough (`MIN_SHARE`); the most frequent
    surface names each side."""
    counts: Counter = Counter()
    surfaces: dict[tuple, Counter] = defaultdict(Counter)
    for ko_terms, ko_text, en_terms, en_text in rows:
        key = (tuple(ko_terms), tuple(en_terms))
        counts[key] += 1
        surfaces[("ko", key[0])][ko_text] += 1
        surfaces[("en", key[1])][en_text] += 1
    by_ko: Counter = Counter()
    by_en: Counter = Counter()
    for (ko, en), n in counts.items():
        by_ko[ko] += n
        by_en[en] += n
    out = []
    for (ko, en), n in counts.most_common():
        if n < MIN_ACRONYM_COUNT and _is_acronym(surfaces[("en", en)].most_common(1)[0][0]):
            continue
        if n < MIN_SINGLE_COUNT and len(content_terms(ko)) == 1:  # as the glossary keys it: 정확도 is 정확
            continue
        if n < MIN_SHARE * by_ko[ko] or n < MIN_SHARE * by_en[en]:
            continue
        ko_text = surfaces[("ko", ko)].most_common(1)[0][0]
        en_text = surfaces[("en", en)].most_common(1)[0][0]
        out.append(Mined(ko, ko_text, en, en_text, n))
    return out
