"""Inflected forms of the concept table's verbs, as Kiwi reads them.

A query is read without Kiwi (`lexicon`, `standin`): each word by the
corpus's own reading of that word form. A verb the summaries seldom write
is missing in most of its forms, and a query phrased as a verb (요약을
고르는 방법, 환각을 막는) used to read 고르는 or 막는 as one made-up word: the
verb table's 고르 → 선택 and 막 → 방지 never fired. Endings Kiwi merges
into the stem (고쳐, 골라, 바꿔) defeat any rule of thumb.

So the package ships Kiwi's own reading of each verb stem of
``concepts.tsv`` before the endings a query writes (`ENDINGS`), made by
`generate` with the indexer's analysis (`analysis.analyse`) of the form in
a query-like phrase (`FRAMES`: Kiwi reads a word by its context, and alone
it read 줄일 as 일, 이끄는 as 끄), kept only where that reading holds the
stem (the table is there to fire verb lines; 들어, read 들 in context, is
left to the corpus's reading), in ``data/verbforms.tsv``.
`Lexicon.lookup_whole` falls back on it for a whole word the corpus never
wrote (and the stand-in for a word or its head before an ending), never for
a piece inside a word: 들을 alone is 듣, in 에이전트들을 the plural and a
particle. The directory, the cluster and the page (its ``form`` shards)
read such a word alike. A test rebuilds the table with the installed Kiwi.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib.resources import files

FILE = "verbforms.tsv"
HEADER = "# kiwipiepy "
"""The table's first line: the Kiwi version that read it."""
STEMS = "# stems "
"""The second line: a digest of the verb stems it was made from (`stems_digest`)."""
FRAMES = {"ETM": ("데이터를 ", " 방법"), "ETN": ("데이터를 ", " 위해"), "EC": ("데이터를 ", " 본다"),
          "EF": ("데이터를 ", ".")}
"""The phrase each form is read in, by its ending's tag: as a query writes it
(데이터를 줄일 방법, 데이터를 줄이기 위해, 데이터를 줄여 본다, 데이터를 줄인다.)."""
ENDINGS = (("는", "ETM"), ("은", "ETM"), ("을", "ETM"), ("기", "ETN"), ("음", "ETN"), ("고", "EC"),
           ("어", "EC"), ("어서", "EC"), ("려면", "EC"), ("려고", "EC"), ("면", "EC"), ("게", "EC"),
           ("도록", "EC"), ("며", "EC"), ("어야", "EC"), ("지", "EC"), ("는지", "EC"), ("는다", "EF"),
           ("다", "EF"), ("을까", "EF"))
"""What a query writes after a verb: 줄이는, 줄인, 줄일, 줄이기, 줄임, 줄이고,
줄여, 줄여서, 줄이려면, …; Kiwi fits each to the stem (은 → ㄴ after a vowel)."""
ACTION_ONLY = frozenset({"는", "려면", "려고", "도록", "는지", "는다"})
"""Endings an adjective (VA) does not take: 빠르는 is no word."""


def readings(words: Iterable[str]) -> dict[str, list[list]]:
    """Kiwi's reading of each of ``words`` the table holds."""
    table = _table()
    return {word: json.loads(table[word]) for word in words if word in table}


def all_readings() -> list[tuple[str, list[list]]]:
    """Every form of the table with its reading (what a static page ships)."""
    return [(form, json.loads(reading)) for form, reading in _table().items()]


@cache
def _text() -> str:
    return files("searchkit").joinpath("data", FILE).read_text(encoding="utf-8")


@cache
def _table() -> dict[str, str]:
    """Form → its reading as JSON, parsed only when asked for."""
    rows = (line.split("\t", 1) for line in _text().splitlines() if line and not line.startswith("#"))
    return {form: reading for form, reading in rows}


def generate(stems: Iterable[str]) -> tuple[dict[str, list[list]], list[str]]:
    """(form → reading, stems Kiwi does not read as a verb): each stem's
    forms before `ENDINGS`, joined by Kiwi, read by the indexer's analysis
    in their `FRAMES` (all phrases in one batch); a form whose reading
    lacks the stem is left out. A stem Kiwi splits (판별하 → 판별 + 하) or
    reads as a noun before 고 has no forms: its verb line never fires."""
    from .analysis import analyse_many, kiwi

    reader = kiwi()
    wanted: list[tuple[str, str, tuple[str, str]]] = []  # (form, stem, frame), in the stems' order
    dead = []
    for stem in stems:
        tag = next((t.tag for t in reader.tokenize(stem + "고")[:1] if t.form == stem and t.tag[0] == "V"), None)
        if tag is None:
            dead.append(stem)
            continue
        wanted += [(reader.join([(stem, tag), (ending, ending_tag)]), stem, FRAMES[ending_tag])
                   for ending, ending_tag in ENDINGS if not (tag.startswith("VA") and ending in ACTION_ONLY)]
    forms: dict[str, list[list]] = {}
    for (form, stem, (before, _)), terms in zip(wanted, analyse_many([b + f + a for f, _, (b, a) in wanted])):
        reading = in_context(terms, len(before), len(before) + len(form))
        if form not in forms and reading and any(item[0] == stem for item in reading):
            forms[form] = reading  # two stems may make one form: the first whose stem it holds
    return forms, dead


def in_context(terms: list, start: int, end: int) -> list[list] | None:
    """The reading of the word at [start, end) of an analysed phrase
    (its ``terms``), relative to the word as `lexicon.split_words` records
    a word; None when a term straddles it."""
    inside = [t for t in terms if start <= t.start and t.end <= end]
    if not inside or any(t.start < start < t.end or t.start < end < t.end for t in terms):
        return None
    base = inside[0].pos
    return [[t.text, t.pos - base, t.start - start, t.end - start] for t in inside]


def stems_digest(stems: Iterable[str]) -> str:
    """What the table was made from, to tell a stale table without Kiwi."""
    import hashlib

    return hashlib.sha256("\n".join(sorted(set(stems))).encode("utf-8")).hexdigest()[:16]


def table_text(forms: dict[str, list[list]], version: str, digest: str) -> str:
    """The table file's text: the header, then a form and its reading a line."""
    lines = [HEADER + version, STEMS + digest] + [f"{form}\t{json.dumps(reading, ensure_ascii=False)}"
                                                  for form, reading in sorted(forms.items())]
    return "\n".join(lines) + "\n"


def table_header() -> tuple[str, str]:
    """(the Kiwi version, the stems' digest) the shipped table was made with."""
    first, second = _text().split("\n", 2)[:2]
    return first.removeprefix(HEADER), second.removeprefix(STEMS)


def write() -> list[str]:
    """Rebuild ``data/verbforms.tsv`` from the verb lines of ``concepts.tsv``
    with the installed Kiwi; returns the stems that have no forms."""
    from pathlib import Path

    from .analysis import kiwi_version
    from .understand import tables

    stems = tables()[2]
    forms, dead = generate(stems)
    path = Path(__file__).with_name("data") / FILE
    path.write_text(table_text(forms, kiwi_version(), stems_digest(stems)), encoding="utf-8")
    return dead


if __name__ == "__main__":  # python -m searchkit.verbforms, after editing the verb lines of concepts.tsv
    print("no forms (Kiwi reads no verb):", " ".join(write()) or "none")
