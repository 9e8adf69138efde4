"""Every constant and table the Python search reads, for the page's meta.json.

The page's JS mirrors `query`, `lexicon`, `glossary`, `understand`, `scoring`, `ranking`,
`highlight` and `suggest`; it hard-codes none of their numbers or word
lists. They are read here, from the modules themselves, at export time,
so a change to one of them (a new suffix, a retuned weight) reaches the
page with the next export and only a change of *logic* needs a JS edit
(see docs/ARCHITECTURE.md, "Static page").
"""

from __future__ import annotations

import unicodedata
from typing import Any

from .. import analysis, engine, glossary, highlight, lexicon, query, ranking, schema, scoring, understand


def tables(constants: dict[str, Any]) -> dict[str, Any]:
    """The tables, keyed as the JS reads them (``meta.tables.NAME``).

    :param constants: the backend's ranking constants (`WhooshIndex.export_source`).
    """
    frame, light, verbs = understand.tables()
    return {"tables": {
        **constants,
        # query.py
        "MAX_QUERY": query.MAX_QUERY,
        "PHRASE": query._PHRASE.pattern,
        "ARXIV": query._ARXIV.pattern,
        "UNASSIGNED": unassigned(),
        "PHRASE_READINGS": query.PHRASE_READINGS,
        # engine.py
        "JOINED_NAME": engine._NAME.pattern,
        "SUFFIXES": sorted(query.SUFFIXES),
        "PREFIXES": sorted(query.PREFIXES),
        # lexicon.py
        "HANGUL_WORD": lexicon._HANGUL_WORD.pattern,
        "AS_ITSELF": lexicon.AS_ITSELF,
        "GAP": analysis.GAP,
        "PARTICLES": sorted(lexicon.PARTICLES),
        # analysis.py (the page's stand-in for Kiwi on words the lexicon cannot analyse)
        "STOP_WORDS": sorted(analysis.STOP_WORDS),
        "UNCHANGED": sorted(analysis._UNCHANGED),
        "NAME": analysis._NAME.pattern,
        "KEEP_TAGS": list(analysis._KEEP_PREFIXES),
        "DROP_TAGS": sorted(analysis._DROP_TAGS),
        # glossary.py
        "EXPANSION_WEIGHT": glossary.EXPANSION_WEIGHT,
        "MAX_SPAN": glossary.MAX_SPAN,
        "MAX_TARGETS": glossary.MAX_TARGETS,
        "GROUP": glossary.GROUP,
        # understand.py (the frame, light and verb lines of data/concepts.tsv, and the weights)
        "FRAME": sorted(frame),
        "LIGHT": sorted(light),
        "VERBS": {stem: list(nouns) for stem, nouns in verbs.items()},
        "LIGHT_WEIGHT": understand.LIGHT_WEIGHT,
        "VERB_WEIGHT": understand.VERB_WEIGHT,
        "VERB_NOUN_WEIGHT": understand.VERB_NOUN_WEIGHT,
        "COMMON_DAMPING": understand.COMMON_DAMPING,
        "MIN_SIGNIFICANCE": understand.MIN_SIGNIFICANCE,
        # schema.py
        "ALL": schema.ALL,
        "TEXT_FIELDS": list(schema.TEXT_FIELDS),
        "FIELD_WEIGHTS": schema.FIELD_WEIGHTS,
        "SECTION_GROUPS": {k: list(v) for k, v in schema.SECTION_GROUPS.items()},
        # scoring.py, ranking.py, highlight.py
        "CHUNK": scoring.CHUNK,
        "COORD_POWER": ranking.COORD_POWER,
        "SIGNIFICANCE_POWER": ranking.SIGNIFICANCE_POWER,
        "PROXIMITY_MIN_SIGNIFICANCE": ranking.PROXIMITY_MIN_SIGNIFICANCE,
        "PROXIMITY_POWER": ranking.PROXIMITY_POWER,
        "PROXIMITY_BONUS": ranking.PROXIMITY_BONUS,
        "PROXIMITY_SLOP": ranking.PROXIMITY_SLOP,
        "WINDOW": highlight.WINDOW,
        "MATCHES": highlight.MATCHES,
    }}


def unassigned() -> list[int]:
    """The code points Python's Unicode database (14.0 in 3.11) leaves
    unassigned, which `query.check_query` turns into spaces, as [gap,
    length] pairs from the end of the run before: a browser's newer
    Unicode reads some as letters (🩷, U+1FA77, is an emoji since 15.0),
    and the page answered where the library said "empty query"."""
    out, end = [], -1
    start = None
    for cp in range(0x110001):
        if cp < 0x110000 and unicodedata.category(chr(cp)) == "Cn":
            start = cp if start is None else start
        elif start is not None:
            out += [start - end - 1, cp - start]
            end, start = cp - 1, None
    return out
