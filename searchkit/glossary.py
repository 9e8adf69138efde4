"""English ↔ Korean machine-learning terms as query-time synonyms.

The summaries are Korean but users think in English terms (pruning, RAG)
and the text writes 가지치기, 검색 증강 생성. ``data/glossary.tsv`` pairs
them; the indexer analyses both sides with Kiwi once per generation
(`glossary_texts`, `save_glossary`), so a query maps its term sequences to synonyms by
look-up (`expand`), weighted below what the user typed.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from importlib.resources import files
from pathlib import Path

from .analysis import ANALYZER_VERSION, Term
from .hits import Expansion
from .query import ParsedQuery, Part, is_hangul, unique

GLOSSARY_FILE = "glossary.json"
EXPANSION_WEIGHT = 0.7
"""A synonym counts less than the word the user typed (tuned: 0.3–0.7)."""
MAX_SPAN = 4
MAX_TARGETS = 6

Entry = tuple[tuple[str, ...], str]  # analysed terms, surface text


def load_pairs() -> list[tuple[str, str]]:
    """The curated (english, korean) pairs shipped with the package."""
    text = files("searchkit").joinpath("data/glossary.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines()[1:] if line.strip()]
    return [(row[0].strip(), row[1].strip()) for row in rows if len(row) == 2]


def _digest() -> str:
    source = files("searchkit").joinpath("data/glossary.tsv").read_bytes()
    return hashlib.sha256(source + ANALYZER_VERSION.encode()).hexdigest()


def glossary_changed(generation: Path) -> bool:
    """Whether the generation's analysed glossary is out of date."""
    try:
        return json.loads((generation / GLOSSARY_FILE).read_text(encoding="utf-8")).get("digest") != _digest()
    except (OSError, ValueError, AttributeError):
        return True


def glossary_texts(generation: Path, base: Path | None) -> list[str]:
    """The glossary surfaces to analyse for this generation: none when the
    one it inherited was made from the same glossary and analyzer."""
    if base is not None and not glossary_changed(generation):
        return []
    return [surface for pair in load_pairs() for surface in pair]


def save_glossary(generation: Path, base: Path | None, surfaces: list[str], analysed: list[list[Term]]) -> None:
    """Store the analysed glossary; replaced, never rewritten in place,
    because the inherited file is a hard link into the live generation."""
    if not surfaces:
        return
    terms = [[t.text for t in _parts_only(ts)] for ts in analysed]
    rows = [[terms[i], surfaces[i], terms[i + 1], surfaces[i + 1]] for i in range(0, len(surfaces) - 1, 2)]
    tmp = generation / (GLOSSARY_FILE + ".tmp")
    tmp.write_text(json.dumps({"digest": _digest(), "pairs": rows}, ensure_ascii=False), encoding="utf-8")
    tmp.replace(generation / GLOSSARY_FILE)


def _parts_only(terms: list) -> list:
    """Drop whole-name terms, keeping the parts that phrases match on."""
    return [t for i, t in enumerate(terms) if not (i + 1 < len(terms) and terms[i + 1].pos == t.pos)]


class Glossary:
    """Term sequence → synonyms, both directions, and Korean forms that
    share an English term (대형 언어 모델 ↔ 대규모 언어 모델 via llm)."""

    def __init__(self, generation: Path) -> None:
        self.synonyms: dict[tuple[str, ...], list[Entry]] = defaultdict(list)
        path = generation / GLOSSARY_FILE
        if not path.exists():
            return
        english: dict[tuple, list[Entry]] = defaultdict(list)
        korean: dict[tuple, list[Entry]] = defaultdict(list)
        for en_terms, en_text, ko_terms, ko_text in json.loads(path.read_text(encoding="utf-8"))["pairs"]:
            if en_terms and ko_terms:
                english[tuple(en_terms)].append((tuple(ko_terms), ko_text))
                korean[tuple(ko_terms)].append((tuple(en_terms), en_text))
        for source, targets in list(english.items()) + list(korean.items()):
            other = korean if source in english else english
            found = list(targets)
            for terms, _ in targets:
                found += [t for t in other.get(terms, []) if t[0] != source]
            self.synonyms[source] = list(dict.fromkeys(found))[:MAX_TARGETS]

    def knows(self, terms: tuple[str, ...]) -> bool:
        """Whether the glossary has these terms on either side."""
        return terms in self.synonyms

    def expand(self, parsed: ParsedQuery) -> ParsedQuery:
        """Add the synonyms of every run of typed words the glossary knows."""
        words = [p for p in parsed.parts if not p.required and p.typed]
        seqs = [_source_terms(p) for p in words]
        added: list[Part] = []
        expansions: list[Expansion] = []
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + MAX_SPAN) + 1):
                source = tuple(t for seq in seqs[i:j] for t in seq)
                for terms, text in self.synonyms.get(source, ()):
                    label = " ".join(p.label for p in words[i:j])
                    added.append(Part((terms,), weight=EXPANSION_WEIGHT, label=label, typed=False))
                    expansions.append(Expansion(label, text))
        if not added:
            return parsed
        typed = {p.alternatives for p in parsed.parts}
        fresh = [p for p in added if p.alternatives not in typed]
        kept = [e for p, e in zip(added, expansions) if p.alternatives not in typed]
        return ParsedQuery(
            parsed.text, parsed.parts + tuple(unique(fresh)), parsed.arxiv_ids, tuple(dict.fromkeys(kept))
        )


def _source_terms(part: Part) -> tuple[str, ...]:
    """Whole Korean words, but names by their parts, as the glossary has them."""
    first = part.alternatives[0]
    if len(part.alternatives) > 1 and not is_hangul(first[0]):
        return part.alternatives[1]
    return first
