""""Did you mean": the closest indexed term for a query word that matches
nothing, compared jamo by jamo.

A Hangul typo usually changes one jamo (핰습 for 학습), which is a whole
syllable to a character-level distance: 핰습 is as far from 학습 as from
학생. Decomposing syllables into jamo makes the typo one edit and the
unrelated word several, so only real near-misses are suggested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

_BASE, _LAST = 0xAC00, 0xD7A3
_LEADS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_TAILS = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"


def jamo(text: str) -> str:
    """Hangul syllables decomposed into lead, vowel and tail jamo."""
    out = []
    for char in text:
        code = ord(char)
        if _BASE <= code <= _LAST:
            offset = code - _BASE
            out += [_LEADS[offset // 588], _VOWELS[(offset % 588) // 28], _TAILS[offset % 28].strip()]
        else:
            out.append(char)
    return "".join(out)


def distance(a: str, b: str) -> int:
    """Levenshtein distance (pure: testable without an index)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def swaps(word: str) -> list[str]:
    """The word with two neighbouring characters swapped, each way: the
    commonest typo (langauge), which one-edit look-ups miss (a swap is
    two edits to Levenshtein). The page's `withinOne` keeps them too."""
    return list(dict.fromkeys(word[:i] + word[i + 1] + word[i] + word[i + 2 :]
                              for i in range(len(word) - 1) if word[i] != word[i + 1]))


def closest(word: str, candidates: Iterable[str], frequency: Callable[[str], int]) -> str | None:
    """The candidate nearest in jamo, most frequent among equals; None when
    nothing is near enough to be a typo (one jamo edit per three jamo,
    at most two)."""
    target = jamo(word)
    limit = min(2, max(1, len(target) // 3))
    scored = []
    for candidate in set(candidates):
        if candidate == word:
            continue
        d = distance(target, jamo(candidate))
        if d <= limit:
            scored.append((d, -frequency(candidate), candidate))
    return min(scored)[2] if scored else None
