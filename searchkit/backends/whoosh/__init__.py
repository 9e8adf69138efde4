"""The Whoosh directory backend, the embedded default: `writer` (reindex
into a new generation, published atomically), `bulkwriter` (Whoosh
segments written a term at a time), `schema` (fields and the analyzer
adapter), `postings` (posting blocks read whole into numpy) and `index`
(`WhooshIndex`, the engine's primitives over one generation).

Importing this package imports Whoosh's base modules without three
imports of theirs that nothing here uses and that cost a cold query
process more than a third of Whoosh itself: ``whoosh.compat`` imports
``urllib.request`` (ssl, email, http.client) for a ``urlretrieve`` only its
downloaders call; ``whoosh.analysis`` imports the Porter stemmer (dozens
of regular expressions compiled) for a filter our schema does not use;
``whoosh.reading`` imports the ``cached_property`` package, which imports
asyncio, for one decorator the standard library has. While those Whoosh
modules load, stand-ins take the three names: ``urlretrieve`` and ``stem``
that import the real ones when called, and `functools.cached_property`.
The stand-ins are removed from ``sys.modules`` at once, so any later
import gets the real modules."""

from __future__ import annotations

import functools
import sys
import types


def _urlretrieve(*args, **kwargs):  # noqa: ANN002, ANN003 - whoosh.compat's name, the real one's signature
    from urllib.request import urlretrieve

    return urlretrieve(*args, **kwargs)


def _porter_stem(*args, **kwargs):  # noqa: ANN002, ANN003
    from whoosh.lang.porter import stem

    return stem(*args, **kwargs)


def _import_whoosh_lean() -> None:
    if "whoosh.reading" in sys.modules:
        return
    stand_ins = {}
    if "urllib.request" not in sys.modules:
        stand_ins["urllib.request"] = types.ModuleType("urllib.request")
        stand_ins["urllib.request"].urlretrieve = _urlretrieve
    if "whoosh.lang.porter" not in sys.modules:
        stand_ins["whoosh.lang.porter"] = types.ModuleType("whoosh.lang.porter")
        stand_ins["whoosh.lang.porter"].stem = _porter_stem
    if "cached_property" not in sys.modules:
        stand_ins["cached_property"] = types.ModuleType("cached_property")
        stand_ins["cached_property"].cached_property = functools.cached_property
    sys.modules.update(stand_ins)
    try:
        import whoosh.compat  # noqa: F401
        import whoosh.reading  # noqa: F401
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


_import_whoosh_lean()
