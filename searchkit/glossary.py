"""The concept layer: query words → other words for the same thing.

The summaries are Korean but users think in English terms (pruning, RAG)
and the text writes 가지치기, 검색 증강 생성; users write 동영상 where the
text says 영상 or 비디오, and 경량화 where it says 양자화. Three sources
feed one look-up table (`Glossary`):

- ``data/glossary.tsv``: curated English ↔ Korean pairs (synonyms);
- ``data/concepts.tsv``: hand-written synonyms and spelling variants, and
  concept → narrower methods, which weigh less (`NARROWER_WEIGHT`);
- pairs the corpus itself writes as ``한국어(English)``, mined at reindex
  time (`pairs`), weighing `MINED_WEIGHT`.

The indexer analyses the hand-written surfaces with Kiwi once per
generation (`glossary_texts`, `save_glossary`), so a query maps its term
sequences to alternatives by look-up (`expand`), weighted below what the
user typed; the expansions of one run of query words at one weight form
one part (the best of them counts, not their sum: a word with six
synonyms must not outweigh a word with none).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from functools import cache
from importlib.resources import files
from pathlib import Path

from . import pairs as mined_pairs
from .analysis import ANALYZER_VERSION, Term
from .errors import IndexCorruptError
from .hits import Expansion
from .query import ParsedQuery, Part, content_terms, is_hangul, sequence, unique

GLOSSARY_FILE = "glossary.json"
READINGS_FILE = "readings.json"
"""A generation's glossary surfaces that a query typing them reads as other
terms than Kiwi gave the surface alone (`readings`)."""
TABLE_FILE = "synonyms.tsv"
"""The built look-up table of a generation (`save_table`): building it from
the glossary and the mined pairs took 35 ms of every cold query; reading it
whole as JSON, 11 ms. A line per source, parsed when a query asks for it."""
TABLE_END = "# end of table"
"""The table's last line: a table cut short at a line's end would read as
one with fewer sources, synonyms missing with no sign; without it the
table is built instead."""
EXPANSION_WEIGHT = 0.7
"""A synonym counts less than the word the user typed (tuned: 0.3–0.7)."""
NARROWER_WEIGHT = 0.55
"""A narrower method (양자화 for 경량화) counts less than a synonym: a
paper on it answers the query, but less surely than one naming it
(tuning half: 0.4 → 0.55 raised verb_phrase 0.719 → 0.760; 0.3 and 0.5 scored
lower; 0.6 as well as 0.55, but a weight equal to `MINED_WEIGHT` would merge
narrower and mined expansions into one part)."""
MINED_WEIGHT = 0.6
"""A pair mined from the corpus: as good as a synonym when the miner is
right, which it is about nine times in ten (see `pairs`)."""
MAX_SPAN = 6
"""Query words in the longest run looked up: a surface reaches five
(멀티모달 대형 언어 모델 is 멀티, 모달, 대형, 언어, 모델; a test types
every surface)."""
MAX_TARGETS = 6
SYNONYM_KINDS = ("synonym", "narrower")
"""Kinds of `concepts.tsv` whose surfaces are analysed (the others are terms)."""

Entry = tuple[tuple[str, ...], str, float]  # analysed terms, surface text, weight


@cache
def _table(name: str) -> bytes:
    """A data table of the package, read once per process: a reindex takes
    its surfaces, its analysed body and its digest from one snapshot, even
    if the package is upgraded while it runs (re-read at the end, a longer
    table misaligned the body with the surfaces analysed at the start, and
    a digest of new tables over an old body would never be refreshed)."""
    return files("searchkit").joinpath(f"data/{name}").read_bytes()


def load_pairs() -> list[tuple[str, str]]:
    """The curated (english, korean) pairs shipped with the package."""
    text = _table("glossary.tsv").decode("utf-8")
    rows = [line.split("\t") for line in text.splitlines()[1:] if line.strip()]
    return [(row[0].strip(), row[1].strip()) for row in rows if len(row) == 2]


def load_concepts(kinds: tuple[str, ...] | None = None) -> list[tuple[str, str, tuple[str, ...]]]:
    """The hand-written concept entries, ``(kind, head, members)``, of the
    given kinds (all when None); ``#`` lines are comments."""
    text = _table("concepts.tsv").decode("utf-8")
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, head, *rest = [cell.strip() for cell in line.split("\t")]
        if kinds is None or kind in kinds:
            members = tuple(m.strip() for m in (rest[0] if rest else "").split("|") if m.strip())
            out.append((kind, head, members))
    return out


def glossary_surfaces() -> list[str]:
    """Every surface to analyse: the pairs' (english, korean), then each
    synonym and narrower entry's head and members."""
    surfaces = [surface for pair in load_pairs() for surface in pair]
    for _, head, members in load_concepts(SYNONYM_KINDS):
        surfaces += [head, *members]
    return surfaces


def _digest() -> str:
    source = b"".join(_table(name) for name in ("glossary.tsv", "concepts.tsv"))
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
    return glossary_surfaces()


def save_glossary(generation: Path, base: Path | None, surfaces: list[str], analysed: list[list[Term]]) -> None:
    """Store the analysed glossary; replaced, never rewritten in place,
    because the inherited file is a hard link into the live generation."""
    if not surfaces:
        return
    tmp = generation / (GLOSSARY_FILE + ".tmp")
    tmp.write_text(json.dumps(glossary_body(surfaces, analysed), ensure_ascii=False), encoding="utf-8")
    tmp.replace(generation / GLOSSARY_FILE)


def glossary_body(surfaces: list[str], analysed: list[list[Term]]) -> dict:
    """The analysed glossary as stored (a directory's ``glossary.json``,
    a cluster's generation row): `glossary_surfaces` with their terms."""
    terms = [list(sequence(ts)) for ts in analysed]
    paired = 2 * len(load_pairs())
    rows = [[terms[i], surfaces[i], terms[i + 1], surfaces[i + 1]] for i in range(0, min(paired, len(surfaces)) - 1, 2)]
    concepts, at = [], paired
    for kind, _, members in load_concepts(SYNONYM_KINDS) if len(surfaces) > paired else []:
        group = [[terms[j], surfaces[j]] for j in range(at, at + 1 + len(members))]
        concepts.append([kind, *group])
        at += 1 + len(members)
    return {"digest": _digest(), "pairs": rows, "concepts": concepts}


def surface_terms(body: Mapping) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every surface of an analysed glossary with its terms."""
    for en_terms, en_text, ko_terms, ko_text in body.get("pairs", []):
        yield en_text, tuple(en_terms)
        yield ko_text, tuple(ko_terms)
    for _kind, *group in body.get("concepts", []):
        for terms, text in group:
            yield text, tuple(terms)


def readings(body: Mapping, read: Callable[[list[str]], list[tuple[str, ...]]]) -> dict[str, list[str]]:
    """The surfaces a query typing them looks up by other terms than their
    own → those terms. Kiwi reads a surface alone (평가자: 평가자) where
    the lexicon gives a query the reading its word took most often in the
    corpus (평가자: 평가), so about one surface in twenty (자연어 처리,
    LLM 평가자, 캡션) never fired when typed. ``read`` gives the terms a
    query typing each text looks the glossary up by (`Engine.typed_terms`:
    only texts the corpus wrote word for word, never a guess); the readings
    depend on the corpus, so each generation has its own."""
    texts = list(dict(surface_terms(body)).items())
    found = read([text for text, _ in texts])
    return {text: list(key) for (text, terms), key in zip(texts, found) if key and _key(key) != _key(terms)}


def readings_code() -> str | None:
    """The source of the code a query reads a surface with (this module,
    the lexicon, the stand-in, the query parser, the engine): readings
    stamped with another are read again at the next reindex, which has
    nothing else to do then. None when the code cannot be read."""
    try:
        names = ("glossary.py", "lexicon.py", "standin.py", "query.py", "engine.py")
        return hashlib.sha256(b"".join(Path(__file__).with_name(n).read_bytes() for n in names)).hexdigest()
    except OSError:
        return None


def readings_current(stored: Mapping | None) -> bool:
    """Whether stored readings (`readings_body`) were made by this code."""
    return isinstance(stored, Mapping) and stored.get("code") == _READER and _READER is not None


def readings_body(found: Mapping[str, list[str]]) -> dict:
    """Readings as stored: stamped with the code that read them."""
    return {"code": _READER, "readings": dict(found)}


def readings_in(stored: object) -> dict[str, list[str]] | None:
    """The readings a stored body holds (`readings_body`, wherever it is
    kept); None when it is no such body."""
    found = stored.get("readings") if isinstance(stored, Mapping) else None
    if not isinstance(found, dict) or not all(
            isinstance(terms, list) and all(isinstance(t, str) for t in terms) for terms in found.values()):
        return None
    return found


def _read_readings(generation: Path) -> dict[str, list[str]]:
    """A generation's `readings`; none for one written before they were kept."""
    if not (generation / READINGS_FILE).exists():
        return {}
    found = readings_in(stored_readings(generation))
    if found is None:
        raise IndexCorruptError(f"index at {generation.parent} is damaged: {generation.name}/{READINGS_FILE} "
                                f"cannot be read; run `papersearch reindex --full --index {generation.parent}`")
    return found


def _filled(body: Mapping, read: Mapping[str, Sequence[str]]) -> dict:
    """The analysed glossary with the surfaces Kiwi gave no terms (깊이
    read alone as an adverb) taking the terms a query reads them as."""
    def terms(found: Sequence[str], text: str) -> list[str]:
        return list(found) or list(read.get(text, ()))

    pairs = [[terms(en, en_text), en_text, terms(ko, ko_text), ko_text]
             for en, en_text, ko, ko_text in body.get("pairs", [])]
    concepts = [[kind, *[[terms(found, text), text] for found, text in group]]
                for kind, *group in body.get("concepts", [])]
    return {**body, "pairs": pairs, "concepts": concepts}


def save_readings(generation: Path, found: Mapping[str, list[str]]) -> None:
    """Store a generation's readings, replaced whole (see `save_glossary`)."""
    tmp = generation / (READINGS_FILE + ".tmp")
    tmp.write_text(json.dumps(readings_body(found), ensure_ascii=False), encoding="utf-8")
    tmp.replace(generation / READINGS_FILE)


def stored_readings(generation: Path) -> dict | None:
    """A generation's readings file as stored, None when missing or unreadable."""
    try:
        return json.loads((generation / READINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _sources_digest(generation: Path) -> str | None:
    """What a generation's table is built from: its analysed glossary and
    its mined pairs (either may be missing), and the code that builds it
    (this module, the miner's aggregation, the query terms' keys), so a
    table stored by another papersearch is built again. The two files are
    named by identity (inode, size, modification time), not read: they are
    replaced, never rewritten in place, and pairs.json reaches megabytes at
    50,000 papers. None when the code cannot be read: no table is then
    stored or trusted."""
    if _BUILDER is None:
        return None
    digest = hashlib.sha256(_BUILDER.encode())
    for name in (GLOSSARY_FILE, mined_pairs.PAIRS_FILE, READINGS_FILE):
        try:
            found = (generation / name).stat()
            digest.update(f"{found.st_ino}:{found.st_size}:{found.st_mtime_ns}".encode())
        except OSError:
            digest.update(b"-")
        digest.update(b"\0")
    return digest.hexdigest()


def _builder_digest() -> str | None:
    """The source of the code the table depends on, read once at import
    (a package upgraded during a long reindex must not stamp a table built
    by the old code as the new code's); None where it cannot be read (a
    zip or frozen install)."""
    from . import query

    try:
        modules = (__file__, mined_pairs.__file__, query.__file__)
        return hashlib.sha256(b"".join(Path(m).read_bytes() for m in modules)).hexdigest()
    except (OSError, TypeError):
        return None


def refresh_table(generation: Path) -> None:
    """Store the table of a live generation whose table is missing or was
    stamped by other code (an index built before an upgrade): a reindex
    with nothing to do otherwise leaves every later open building it (24
    ms of a 250 ms cold query at 738 papers). The table is derived and
    replaced whole, so a reader sees the old file or the new one; a
    directory the user cannot write keeps building it, as before."""
    try:
        with (generation / TABLE_FILE).open(encoding="utf-8") as table:
            first = table.readline().rstrip("\n")
    except (OSError, ValueError):
        first = ""
    if first != _sources_digest(generation):
        with suppress(OSError):
            save_table(generation)


def save_table(generation: Path) -> None:
    """Store the generation's built look-up table (`TABLE_FILE`), stamped
    with its sources on the first line: `Glossary.of` reads it instead of
    building it on every open, and builds it again should the sources ever
    differ. Then one line a source: its terms joined by U+001F, a tab, its
    entries as JSON; then `TABLE_END`."""
    stamp = _sources_digest(generation)
    if stamp is None:
        return
    table = Glossary._built(generation).synonyms
    lines = [stamp] + [
        "\x1f".join(source) + "\t" + json.dumps([[list(t), text, weight] for t, text, weight in entries],
                                                ensure_ascii=False)
        for source, entries in table.items()
    ]
    tmp = generation / (TABLE_FILE + ".tmp")
    tmp.write_text("\n".join([*lines, TABLE_END]) + "\n", encoding="utf-8")
    tmp.replace(generation / TABLE_FILE)


class _StoredTable(Mapping):
    """`Glossary.synonyms` read from `TABLE_FILE`: a source's entries are
    parsed the first time a query asks for them (a query asks for a few of
    thousands)."""

    def __init__(self, lines: list[str]) -> None:
        self._raw: dict[str, str] = dict(line.split("\t", 1) for line in lines if line)
        self._parsed: dict[str, list[Entry]] = {}

    def __getitem__(self, source: tuple[str, ...]) -> list[Entry]:
        key = "\x1f".join(source)
        if key not in self._parsed:
            try:
                entries = [(tuple(t), text, weight) for t, text, weight in json.loads(self._raw[key])]
            except (ValueError, TypeError):  # a damaged line: written whole (tmp + rename), so the disk's fault
                raise IndexCorruptError(f"{TABLE_FILE} has a damaged line for {' '.join(source)!r}; "
                                        "run `papersearch reindex --full`") from None
            self._parsed[key] = entries
        return self._parsed[key]

    def __contains__(self, source: object) -> bool:
        return isinstance(source, tuple) and "\x1f".join(source) in self._raw

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return (tuple(key.split("\x1f")) for key in self._raw)

    def __len__(self) -> int:
        return len(self._raw)


class Glossary:
    """Term sequence → synonyms, both directions, and Korean forms that
    share an English term (대형 언어 모델 ↔ 대규모 언어 모델 via llm)."""

    def __init__(self, body: Mapping, mined: Iterable[Sequence] = (), read: Mapping[str, Sequence[str]] | None = None
                 ) -> None:
        """``body``: the analysed glossary (`glossary_body`); ``mined``: the
        generation's mined rows (`pairs.read`); ``read``: its `readings`;
        wherever they are kept."""
        if read:
            body = _filled(body, read)
        self.synonyms: Mapping[tuple[str, ...], list[Entry]] = defaultdict(list)
        self._mined: list[mined_pairs.Mined] | None = mined_pairs.aggregate(mined)
        self._generation: Path | None = None
        english: dict[tuple, list] = defaultdict(list)
        korean: dict[tuple, list] = defaultdict(list)
        for en_terms, en_text, ko_terms, ko_text in body.get("pairs", []):
            if en_terms and ko_terms:
                english[tuple(en_terms)].append((tuple(ko_terms), ko_text))
                korean[tuple(ko_terms)].append((tuple(en_terms), en_text))
        for source, targets in list(english.items()) + list(korean.items()):
            other = korean if source in english else english
            found = list(targets)
            for terms, _ in targets:
                found += [t for t in other.get(terms, []) if t[0] != source]
            entries = [(t, text, EXPANSION_WEIGHT) for t, text in dict.fromkeys(found)]
            self.synonyms[_key(source)] = entries[:MAX_TARGETS]
        for kind, *group in body.get("concepts", []):
            entries = [(tuple(terms), text) for terms, text in group if terms]
            if not entries:
                continue
            sources = entries if kind == "synonym" else entries[:1]
            weight = EXPANSION_WEIGHT if kind == "synonym" else NARROWER_WEIGHT
            for source, _ in sources:
                targets = [(t, text, weight) for t, text in entries if t != source]
                self._add(_key(source), targets)
        if read:
            self._read_as_queries(body, read)
        # mined pairs fill gaps: a term the curated tables already translate
        # keeps their translations only (a summary's slip, 확산(personalization),
        # must not turn every 확산 query towards personalization)
        curated = set(self.synonyms)
        for pair in self.mined:
            if _key(pair.ko_terms) not in curated:
                self._add(_key(pair.ko_terms), [(pair.en_terms, pair.en_text, MINED_WEIGHT)])
            if _key(pair.en_terms) not in curated:
                self._add(_key(pair.en_terms), [(pair.ko_terms, pair.ko_text, MINED_WEIGHT)])

    def _read_as_queries(self, body: Mapping, read: Mapping[str, Sequence[str]]) -> None:
        """A surface a query reads otherwise (`readings`) is a source under
        that reading too, with its entries, unless the reading is another
        surface's source (평가자 read as 평가 keeps 평가's own synonyms);
        as a target it is matched in either reading (the documents were
        mostly indexed the query's way)."""
        own = dict(surface_terms(body))
        curated = set(self.synonyms)
        for source, entries in list(self.synonyms.items()):
            self.synonyms[source] = [*entries, *[(tuple(read[text]), text, weight) for _, text, weight in entries
                                                 if text in read and tuple(read[text]) != source]]
        for text, terms in read.items():
            alias = _key(tuple(terms))
            if text in own and _key(own[text]) in curated and alias not in curated:
                self._add(alias, list(self.synonyms[_key(own[text])]))

    @property
    def mined(self) -> list[mined_pairs.Mined]:
        """The corpus's mined pairs with their counts (read on first use
        when the table came from `TABLE_FILE`)."""
        if self._mined is None:
            self._mined = mined_pairs.aggregate(mined_pairs.read(self._generation)) if self._generation else []
        return self._mined

    @classmethod
    def of(cls, generation: Path) -> Glossary:
        """The glossary of an index directory's generation: its built table
        when `save_table` wrote one for these very sources, else built."""
        try:
            lines = (generation / TABLE_FILE).read_text(encoding="utf-8").split("\n")
        except (OSError, ValueError):
            lines = []
        if len(lines) > 2 and lines[0] == _sources_digest(generation) and lines[-2:] == [TABLE_END, ""]:
            try:
                table = _StoredTable(lines[1:-2])
            except ValueError:  # a line without its tab: build the table instead
                return cls._built(generation)
            glossary = cls({})
            glossary.synonyms = table
            glossary._mined, glossary._generation = None, generation
            return glossary
        return cls._built(generation)

    @classmethod
    def _built(cls, generation: Path) -> Glossary:
        path = generation / GLOSSARY_FILE
        body = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        return cls(body, mined_pairs.read(generation), _read_readings(generation))

    def _add(self, source: tuple[str, ...], targets: list[Entry]) -> None:
        """Add targets the source does not have yet, in order."""
        have = {t for t, _, _ in self.synonyms.get(source, ())}
        fresh = [e for e in targets if e[0] not in have and e[0] != source]
        if fresh:
            self.synonyms[source] = self.synonyms.get(source, []) + fresh

    def knows(self, terms: tuple[str, ...]) -> bool:
        """Whether the glossary has these terms on either side."""
        return terms in self.synonyms

    def expand(self, parsed: ParsedQuery) -> ParsedQuery:
        """Add the synonyms of every run of typed words the glossary knows."""
        words = _words(parsed)
        seqs = [_source_terms(p) for p in words]
        typed = {alt for p in parsed.parts for alt in p.alternatives}
        added: list[Part] = []
        expansions: list[Expansion] = []
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + MAX_SPAN) + 1):
                source = tuple(t for seq in seqs[i:j] for t in seq)
                label = " ".join(p.label for p in words[i:j])
                groups: dict[float, list[tuple[str, ...]]] = {}
                for terms, text, weight in self.synonyms.get(source, ()):
                    if terms in typed:
                        continue
                    groups.setdefault(weight, []).append(terms)
                    expansions.append(Expansion(label, text))
                covers = tuple(p.label for p in words[i:j])
                for weight, alternatives in groups.items():
                    if GROUP:
                        added.append(Part(tuple(dict.fromkeys(alternatives)), weight=weight, label=label,
                                          typed=False, covers=covers))
                    else:
                        added += [Part((a,), weight=weight, label=label, typed=False, covers=covers)
                                  for a in alternatives]
        if not added:
            return parsed
        return ParsedQuery(
            parsed.text, parsed.parts + tuple(unique(added)), parsed.arxiv_ids, tuple(dict.fromkeys(expansions))
        )


GROUP = True
"""One part per source and weight (the best alternative counts), rather
than one part per synonym (each adds its score)."""


def _words(parsed: ParsedQuery) -> list[Part]:
    """The typed words a run of which the glossary is looked up by."""
    return [p for p in parsed.parts if not p.required and p.typed]


def typed_key(parsed: ParsedQuery) -> tuple[str, ...]:
    """The glossary source a query of these words looks up: all of them
    as one run (`Glossary.expand`)."""
    return tuple(t for p in _words(parsed) for t in _source_terms(p))


def _key(terms: tuple[str, ...]) -> tuple[str, ...]:
    """Source terms as a query has them: a glued suffix dropped (경량화 → 경량)."""
    return content_terms(terms) or terms


def _source_terms(part: Part) -> tuple[str, ...]:
    """Whole Korean words, but names by their parts, as the glossary has them."""
    first = part.alternatives[0]
    if len(part.alternatives) > 1 and not is_hangul(first[0]):
        return part.alternatives[1]
    return first


_BUILDER = _builder_digest()
_READER = readings_code()
