"""Query understanding: which typed words carry the query, and which frame it.

Users type phrases and questions (모델을 압축하는, 환각 줄이기, 긴 동영상을
작은 모델로 이해하는 방법): after Kiwi, every content morpheme is a query
word of equal standing, so 방법 and 하 counted as much as 동영상, a common
word (LLM, 추론, 모델) that nearly every paper holds covered as much of the
query as the rare word that names its topic (가속), and a verb (줄이) found
only papers using that verb, not those naming the act (감소, 완화).

Four table-driven rules, applied after parsing (`understand`), fix that;
the tables are the ``verb``, ``frame`` and ``light`` lines of
``data/concepts.tsv``, so a port of the query analysis (the static search
page's JavaScript) carries the same data and these few functions:

1. frame words (방법, 어떻게 …) are dropped when the query has other words;
2. light words (연구, 하, 위하 …) weigh `LIGHT_WEIGHT`;
3. a verb stem with nouns in the table (줄이 → 감소, 완화) weighs
   `VERB_WEIGHT` and gains those nouns as expansions;
4. every typed part gets a ``significance``, its rarity log(N / (df + 1))
   (× `LIGHT_WEIGHT` for light words): coverage counts words by it,
   proximity only counts pairs of significant words, and the expansions
   of a word far commoner than the query's rarest weigh less
   (`COMMON_DAMPING`), so they cannot drown the word that carries the query.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

from .hits import Expansion
from .query import ParsedQuery, Part

LIGHT_WEIGHT = 0.2
"""A light word's weight and share of significance."""
VERB_WEIGHT = 0.6
"""A verb stem the table maps to nouns: the nouns say it better."""
VERB_NOUN_WEIGHT = 0.7
"""The nouns of a verb, as a glossary synonym weighs."""
COMMON_DAMPING = 1.0
"""An expansion's weight × (its source's significance / the query's
highest) ** COMMON_DAMPING: 0 leaves expansions as they are."""
MIN_SIGNIFICANCE = 0.05


@lru_cache(maxsize=1)
def tables() -> tuple[frozenset[str], frozenset[str], dict[str, tuple[str, ...]]]:
    """(frame words, light words, verb stem → nouns) from ``concepts.tsv``."""
    from .glossary import load_concepts  # glossary imports query; this module is imported after both

    frame, light, verbs = set(), set(), {}
    for kind, head, members in load_concepts(("frame", "light", "verb")):
        if kind == "frame":
            frame.add(head)
        elif kind == "light":
            light.add(head)
        else:
            verbs[head] = members
    return frozenset(frame), frozenset(light), verbs


def understand(parsed: ParsedQuery, df: Callable[[str], int], count: int, expand: bool = True) -> ParsedQuery:
    """Apply the four rules to a parsed (and expanded) query; ``df`` gives a
    term's document frequency, ``count`` the number of documents."""
    frame, light, verbs = tables()
    parts = list(parsed.parts)
    words = [p for p in parts if p.typed and not p.required]

    def head(part: Part) -> str | None:
        first = part.alternatives[0]
        return first[0] if len(first) == 1 else None

    if any(head(p) not in frame for p in words):
        dropped = {p.label for p in words if head(p) in frame}
        parts = [p for p in parts if not (p.label in dropped and p.typed and not p.required)
                 and not (p.covers and set(p.covers) <= dropped)]
    expansions = list(parsed.expansions)
    out: list[Part] = []
    added: list[Part] = []
    for part in parts:
        term = head(part)
        if not part.typed or part.required:
            out.append(part)
            continue
        if term in light:
            part = replace(part, weight=part.weight * LIGHT_WEIGHT)
        elif term in verbs:
            part = replace(part, weight=part.weight * VERB_WEIGHT)
            nouns = tuple((n,) for n in verbs[term] if (n,) not in {a for p in parts for a in p.alternatives})
            if expand and nouns:
                added.append(Part(nouns, weight=VERB_NOUN_WEIGHT, label=part.label, typed=False, covers=(part.label,)))
                expansions += [Expansion(part.label, n[0]) for n in nouns]
        out.append(replace(part, significance=_significance(part, df, count, term in light)))
    out += added
    typed = [p for p in out if p.typed and not p.required]
    highest = max((p.significance for p in typed), default=1.0)
    by_label = {p.label: p.significance for p in typed}
    if COMMON_DAMPING and highest > 0:
        out = [_damped(p, by_label, highest) if not p.typed and p.covers else p for p in out]
    return ParsedQuery(parsed.text, tuple(out), parsed.arxiv_ids, tuple(dict.fromkeys(expansions)))


def _significance(part: Part, df: Callable[[str], int], count: int, is_light: bool) -> float:
    """The rarity of the part's rarest term, log(N / (df + 1)), floored."""
    terms = {t for alt in part.alternatives for t in alt}
    rarity = max((_single(math.log(max(count, 1) / (df(t) + 1))) for t in terms), default=0.0)
    return max(MIN_SIGNIFICANCE, rarity) * (LIGHT_WEIGHT if is_light else 1.0)


def _single(x: float) -> float:
    """``x`` rounded to single precision: the page's ``Math.log`` and C's
    ``log`` differ in the last bit for one argument in thirty, which moved
    its scores off the library's; rounded to 24 bits they agree (a one-ulp
    difference straddles a float32 rounding boundary about once in 2^29)."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _damped(part: Part, by_label: dict[str, float], highest: float) -> Part:
    """An expansion weighed down by how common its source words are."""
    source = max((by_label.get(label, highest) for label in part.covers), default=highest)
    return replace(part, weight=part.weight * (source / highest) ** COMMON_DAMPING)
