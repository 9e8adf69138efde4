"""Each section's term occurrences over a generation, for `stats`' top terms.

Sphinx 2.2 cannot list an RT index's most frequent terms, so the writer
keeps the counts itself: a full reindex counts the terms it analyses; an
incremental one takes the previous generation's counts, subtracts those of
the documents it replaces (read back from their stored spans) and adds the
new ones. The counts are exact for the live documents, as a fully built
directory's term weights are (an incrementally built directory still
counts deleted documents until its segments merge).
"""

from __future__ import annotations

import base64
import heapq
import json
import zlib
from collections import Counter
from collections.abc import Mapping

from ... import similar
from ...schema import TEXT_FIELDS, Spans

Counts = dict[str, Counter]


def empty() -> Counts:
    return {name: Counter() for name in TEXT_FIELDS}


def add_spans(counts: Counts, spans: Spans, sign: int = 1) -> None:
    """Add (or, with ``sign`` -1, remove) one stored document's terms."""
    for name in spans:
        if name in counts:
            found = Counter(spans.terms(name))
            if sign > 0:
                counts[name].update(found)
            else:
                counts[name].subtract(found)


def merged(base: Counts, *more: Counts) -> Counts:
    """Sums per section, dropping terms counted down to nothing."""
    out = {name: Counter(base.get(name, {})) for name in TEXT_FIELDS}
    for other in more:
        for name, found in other.items():
            out[name].update(found)
    return {name: Counter({t: n for t, n in found.items() if n > 0}) for name, found in out.items()}


def pack(counts: Counts) -> str:
    """Counts as one compressed string for a meta row (~1 byte a term)."""
    raw = json.dumps({name: dict(found) for name, found in counts.items()}, ensure_ascii=False,
                     separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")


def unpack(text: str) -> Counts:
    data = json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))
    return {name: Counter(data.get(name, {})) for name in TEXT_FIELDS}


def top_terms(counts: Mapping[str, Mapping[str, int]]) -> dict[str, list]:
    """Each section's most frequent terms as the directory lists them:
    Whoosh's ``most_frequent_terms`` (the largest (count, UTF-8 bytes), so
    equal counts go by bytes, descending), then the telling ones."""
    out = {}
    for name in TEXT_FIELDS:
        found = counts.get(name, {})
        largest = heapq.nlargest(similar.TOP_SCAN, ((n, t.encode("utf-8")) for t, n in found.items()))
        out[name] = [[t, n] for t, n in similar.top_terms((t.decode("utf-8"), int(n)) for n, t in largest)]
    return out
