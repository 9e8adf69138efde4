"""Query words the lexicon cannot analyse, read without Kiwi.

The lexicon (`lexicon.Lexicon`) holds Kiwi's analysis of every word form
of the corpus, and `Lexicon.segment` reads an unseen word made of recorded
ones. A word that is neither (a question's ending the summaries never
write, a noun the corpus lacks) used to load Kiwi for the whole query:
1.5 s and some 400 MB for one process, to analyse words that mostly match
nothing anyway. Kiwi runs where the corpus is indexed; a query is read
here from what Kiwi taught the lexicon: the endings and particles its
analyses leave after their last term (모델**을**, 학습**하려면**), each stem's
analysis before an ending (써 → 쓰), the index's own terms, and a few
rules of how Kiwi splits what it does not know (경량화 → 경량 + 화).

The static search page (`site/static/lexicon.js`, ``standIn``) reads
words the same way, line for line, so the page and the library analyse
every query alike and rank it alike.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from .analysis import normalise
from .query import SUFFIXES

ENDING_MIN = 2
"""Recorded words an ending must close before it is trusted."""
QUERY_ENDINGS = ("려면", "으려면", "하려면", "려고", "으려고", "하려고", "는가", "하는가", "은가", "인가", "는지",
                 "은지", "나요", "까", "을까", "할까", "야", "어야", "아야", "해야", "해")
"""Endings of questions and purposes (…하려면?, …하는가?) that a corpus of
declarative summaries seldom writes, so the lexicon cannot teach them."""

Items = list[list]
"""A word's reading: [term, position, start, end] relative to the word."""

_PIECE = re.compile(r"[^\W_](?:[^\W_]|[-.+/])*")
_LATIN = re.compile(r"[A-Za-z0-9\-.+/]+")
_LATIN_PARTS = re.compile(r"[A-Za-z]+|[0-9]+")
_RUNS = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-.+/]*|[\uac00-\ud7a3]+|[^A-Za-z0-9\uac00-\ud7a3]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]+")


def tables(entries: Iterable[tuple[str, Items]]) -> tuple[list[str], dict[str, Items]]:
    """The endings and the stems read off the lexicon's ``entries`` (word,
    reading): each all-Hangul word's text after its last term is an ending,
    the text up to it a stem read as the word's terms (its most frequent
    reading wins). An ending must close `ENDING_MIN` words and be at most
    four syllables; `QUERY_ENDINGS` are added."""
    endings: Counter[str] = Counter()
    stems: dict[str, Counter] = defaultdict(Counter)
    for word, items in entries:
        if not word or not _HANGUL.fullmatch(word):
            continue
        if not items:
            endings[word] += 1
            continue
        end = max(item[3] for item in items)
        if 0 < end < len(word) and min(item[2] for item in items) >= 0:
            endings[word[end:]] += 1
            stems[word[:end]][json.dumps(items, ensure_ascii=False)] += 1
    kept = sorted({e for e, n in endings.items() if n >= ENDING_MIN and len(e) <= 4} | set(QUERY_ENDINGS))
    return kept, {stem: json.loads(c.most_common(1)[0][0]) for stem, c in sorted(stems.items())}


class StandIn:
    """Reads one word the way Kiwi most likely would, from the lexicon.

    :param lookup: word forms → recorded readings (`Lexicon.lookup`).
    :param known: whether an index term exists.
    :param segment: an unseen Hangul word from recorded ones, or None (`Lexicon.segment`).
    :param endings, stems: from `tables`.
    :param whole: as ``lookup``, and Kiwi's reading of a verb form the
        texts never wrote (`Lexicon.lookup_whole`), for a piece or its head,
        never a rest after an unknown head (들을 of 뷁들을 is no verb).
    """

    def __init__(self, lookup: Callable[[list[str]], dict[str, Items]], known: Callable[[str], bool],
                 segment: Callable[[str], Items | None], endings: Iterable[str], stems: dict[str, Items],
                 whole: Callable[[list[str]], dict[str, Items]] | None = None) -> None:
        self._lookup, self._known, self._segment, self._whole = lookup, known, segment, whole or lookup
        self._endings, self._stems = frozenset(endings), stems

    def word(self, word: str) -> Items:
        """The word's reading: punctuation cut off; Latin and digit names
        normalised as `analysis.normalise` and the name splitting do; a
        Korean remainder read by `_korean`."""
        out: Items = []
        pos = 0
        for match in _PIECE.finditer(word):
            piece = match.group().rstrip("-.+/")
            at = match.start()
            if _LATIN.fullmatch(piece):
                parts = [(normalise(p.group()), p.start()) for p in _LATIN_PARTS.finditer(piece)]
                parts = [(t, start) for t, start in parts if t]
                if len(parts) > 1:
                    out.append([unicodedata.normalize("NFKC", piece).lower(), pos, at, at + len(piece)])
                for term, start in parts:
                    out.append([term, pos, at + start, at + start + _part_length(piece, start)])
                    pos += 1
                continue
            items = self._korean(piece)
            out += [[t, pos + p, at + s, at + e] for t, p, s, e in items]
            pos += 1 + max((item[1] for item in items), default=-1)
        return out

    def _korean(self, piece: str) -> Items:
        """A Korean (or other non-Latin) piece: the longest head that is a
        recorded word, an index term or a recorded stem, before an ending
        the lexicon has seen (메모리로 → 메모리, 써야 → 쓰); a piece that is
        itself an ending reads as nothing (하려면); then the recorded
        reading, a stem, `Lexicon.segment`, an unknown head before the
        longest known word (보상모델 → 보상 + 모델); an unknown lone syllable
        is dropped, an unknown word before a derivational suffix is split
        from it (경량화 → 경량 + 화) and an object particle off an unknown
        noun (얼굴을 → 얼굴); anything else is kept whole (it matches
        nothing, and gets a "did you mean")."""
        lower = unicodedata.normalize("NFKC", piece).lower()
        if not _HANGUL.fullmatch(piece):
            return self._mixed(piece, lower)
        if piece in self._endings:
            return []  # 하려면, 하는가: Kiwi reads them as endings and auxiliaries
        heads = [piece[:k] for k in range(len(piece) - 1, 0, -1) if piece[k:] in self._endings]
        recorded = self._whole([piece, *heads])  # the corpus's reading first, then a verb form's
        if piece in recorded:
            return _without_ending(recorded[piece], heads)
        for head in heads:
            if recorded.get(head):
                return recorded[head]
            if self._known(head):
                return [[head, 0, 0, len(head)]]
            if head in self._stems:
                return self._stems[head]
            for variant in variants(head):
                if self._known(variant):
                    return [[variant, 0, 0, len(head)]]
        if piece in self._stems:
            return self._stems[piece]
        for variant in variants(piece):
            if self._known(variant):
                return [[variant, 0, 0, len(piece)]]
        segmented = self._segment(piece)
        if segmented is not None:
            return segmented
        return self._unknown(piece, lower)

    def _mixed(self, piece: str, lower: str) -> Items:
        """A piece not all Hangul: its recorded reading, or each run of one
        script on its own (GPT로, 3D모델), as Kiwi tags them apart."""
        found = self._lookup([piece, lower])
        recorded = found.get(piece, found.get(lower))
        if recorded is not None:
            return recorded
        runs = list(_RUNS.finditer(piece))
        if len(runs) < 2:
            return [[lower, 0, 0, len(piece)]]
        out: Items = []
        pos = 0
        for run in runs:
            items = self.word(run.group())
            out += [[t, pos + p, run.start() + s, run.start() + e] for t, p, s, e in items]
            pos += 1 + max((item[1] for item in items), default=-1)
        return out

    def _unknown(self, piece: str, lower: str) -> Items:
        """A Hangul piece nothing recorded reads."""
        rests = [piece[k:] for k in range(1, len(piece) - 1)]  # a known word of two syllables or more
        found = self._lookup(rests)
        for rest in rests:
            tail = found[rest] if found.get(rest) else [[rest, 0, 0, len(rest)]] if self._known(rest) else None
            if not tail:
                continue
            k = len(piece) - len(rest)
            return [[piece[:k], 0, 0, k], *[[t, p + 1, s + k, e + k] for t, p, s, e in tail]]
        if len(piece) == 1:
            return []
        last = len(piece) - 1
        if last >= 2 and piece[last] in SUFFIXES:
            return [[piece[:last], 0, 0, last], [piece[last], 1, last, len(piece)]]
        if last >= 2 and piece[last] in "을를":
            return [[piece[:last], 0, 0, last]]
        return [[lower, 0, 0, len(piece)]]


def _without_ending(items: Items, heads: list[str]) -> Items:
    """The corpus's reading, less a lone syllable it found in an ending
    (메모리로 → 메모리, not 메모리 + 로)."""
    for head in heads:
        inside = [item for item in items if item[3] <= len(head)]
        beyond = [item for item in items if item[3] > len(head)]
        if inside and beyond and all(item[2] >= len(head) and len(item[0]) == 1 for item in beyond):
            return inside
    return items


def variants(head: str) -> list[str]:
    """A verb stem as written before an ending that merged into its last
    syllable: a final ㄴ ㄹ ㅁ ㅂ taken off (모른 → 모르, 쓴 → 쓰), or ㅓ back
    to ㅡ (써 → 쓰)."""
    last = ord(head[-1]) - 0xAC00 if head else -1
    if not 0 <= last <= 11171:
        return []
    tail, vowel, bare = last % 28, (last % 588) // 28, last - last % 28
    out = []
    if tail in (4, 8, 16, 17):
        out.append(head[:-1] + chr(0xAC00 + bare))
    if tail == 0 and vowel == 4:
        out.append(head[:-1] + chr(0xAC00 + bare + (18 - 4) * 28))
    return out


def _part_length(piece: str, at: int) -> int:
    found = _LATIN_PARTS.match(piece, at)
    return len(found.group()) if found else 0
