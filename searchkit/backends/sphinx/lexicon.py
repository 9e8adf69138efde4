"""The cluster's word-form lexicon (``NAME_lexicon`` on the first node):
how a query is read without Kiwi, kept as the directory's table is
(`lexicon.Lexicon`), so both read every query alike.

One row a word form, id `word_id`, whose ``terms`` attribute holds the
form's versions ``[born, died, {reading: count}]``: how often the indexed
texts read it each way, from generation ``born`` until ``died`` (null while
alive). A reader at generation G takes the version alive at G and its
commonest reading, so a reindex changes nothing a reader sees until it
publishes, and an incremental reindex (the new posts' readings added, the
replaced ones' taken away) leaves the counts a full build writes. A reindex
marks the lexicon dirty before it writes and clean once it has published;
the next reindex undoes a killed one's versions (`recover`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from ...lexicon import by_count, commonest
from . import ClusterURL
from .conn import Node, values
from .meta import LEXICON_ROW, get, put

BATCH = 500
"""Words read and written a statement."""
PAGE = 5000
"""Rows read a statement when the whole lexicon is read (the stand-in's
tables, a full rebuild, a recovery)."""

Version = list  # [born, died or None, {reading: count}]


def word_id(word: str) -> int:
    """A lexicon row's id: a 63-bit hash of the word form (never 0)."""
    return (int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "big") >> 1) or 1


def alive(versions: list[Version], generation: int) -> Version | None:
    """The version a reader at ``generation`` sees, if any."""
    for version in versions:
        born, died, _ = version
        if born <= generation and (died is None or died > generation):
            return version
    return None


def versions_of(body: str) -> list[Version]:
    """A row's versions. A row an older papersearch wrote (a reading alone,
    no counts) reads as one version dead from the start: never seen, and
    gone at the next write (the full rebuild its format forces)."""
    found = json.loads(body)
    if isinstance(found, list) and all(isinstance(v, list) and len(v) == 3 and isinstance(v[2], dict)
                                       for v in found):
        return found
    return [[0, 0, {}]]


def reading(body: str, generation: int) -> list | None:
    """The row's commonest reading at ``generation``; None when the word
    form was not indexed then."""
    version = alive(versions_of(body), generation)
    return json.loads(commonest(list(version[2].items()))) if version else None


def counts(body: str, generation: int) -> list[tuple[list, int]]:
    """The row's readings at ``generation`` with their counts, commonest
    first (`lexicon.by_count`); empty when the form was not indexed then."""
    version = alive(versions_of(body), generation)
    return [(json.loads(r), n) for r, n in by_count(version[2].items())] if version else []


def updated(versions: list[Version], change: Mapping[str, int], current: int, new: int,
            rebuild: bool) -> list[Version]:
    """The versions after generation ``new`` applies ``change`` to the
    counts alive at ``current`` (to none, on a full rebuild). Versions dead
    before ``current`` go, as documents dead before it went when it was
    published: one that died at ``current`` stays for readers still on the
    generation before, until ``new`` is published."""
    old = alive(versions, current)
    counts = {} if rebuild or old is None else dict(old[2])
    for encoded, n in change.items():
        counts[encoded] = counts.get(encoded, 0) + n
    counts = {encoded: n for encoded, n in counts.items() if n > 0}
    kept = [v for v in versions if v[1] is None or v[1] >= current]
    if old is not None and (rebuild or counts != old[2]):
        old[1] = new
    elif old is not None:
        return kept  # nothing changed: the version lives on
    return kept + [[new, None, counts]] if counts else kept


def recovered(versions: list[Version], live: int) -> list[Version]:
    """The versions with a killed reindex's undone: none born after the
    live generation, none dead since it."""
    kept = [v for v in versions if v[0] <= live]
    for version in kept:
        if version[1] is not None and version[1] > live:
            version[1] = None
    return kept


def push(node: Node, url: ClusterURL, change: Mapping[str, Mapping[str, int]], current: int, new: int,
         rebuild: bool) -> None:
    """Write generation ``new``'s lexicon: every word form whose counts
    change (and, on a full rebuild, every other form, which dies)."""
    put(node, url, LEXICON_ROW, {"dirty": new})
    # a rebuild rewrites every row: read them once (it read them twice,
    # whole and then 500 at a time, 0.7 s of 738 papers' full reindex)
    stored = {word: versions_of(body) for word, body in rows(node, url)} if rebuild else None
    words = sorted(set(change) | set(stored or ()))
    for start in range(0, len(words), BATCH):
        chunk = words[start : start + BATCH]
        found = {w: stored[w] for w in chunk if w in stored} if stored is not None else _versions(node, url, chunk)
        out = []
        for word in chunk:
            before = found.get(word, [])
            after = updated([list(v) for v in before], change.get(word, {}), current, new, rebuild)
            if after != before:
                out.append((word, after))
        _store(node, url, out)


def published(node: Node, url: ClusterURL) -> None:
    """The new generation is live: the lexicon is clean."""
    put(node, url, LEXICON_ROW, {"dirty": 0})


def recover(node: Node, url: ClusterURL, live: int) -> None:
    """Undo what a reindex killed while writing the lexicon left: versions
    of a generation never published (read whole, only after a kill)."""
    if not (get(node, url, LEXICON_ROW) or {}).get("dirty"):
        return
    out = []
    for word, body in rows(node, url):
        before = versions_of(body)
        after = recovered([list(v) for v in before], live)
        if after != before:
            out.append((word, after))
    for start in range(0, len(out), BATCH):
        _store(node, url, out[start : start + BATCH])
    published(node, url)


def _store(node: Node, url: ClusterURL, rows_: list[tuple[str, list[Version]]]) -> None:
    """Write these words' versions in one statement; a word left with none
    loses its row."""
    kept = [(word_id(w), "", w, json.dumps(v, ensure_ascii=False, separators=(",", ":"))) for w, v in rows_ if v]
    if kept:
        node.execute(f"REPLACE INTO {url.lexicon} (id, word_text, word, terms) VALUES {values(kept)}")
    gone = [str(word_id(w)) for w, v in rows_ if not v]
    if gone:
        node.execute(f"DELETE FROM {url.lexicon} WHERE id IN ({','.join(gone)})")


def rows(node: Any, url: ClusterURL) -> Iterator[tuple[str, str]]:
    """Every row's word form and versions, a page at a time in id order,
    from anything with a ``rows(sql)`` (a `Node`, a `SphinxIndex`)."""
    last = 0
    while True:
        page = node.rows(f"SELECT id, word, terms FROM {url.lexicon} WHERE id > {last} "
                         f"ORDER BY id ASC LIMIT {PAGE} OPTION max_matches={PAGE}")
        for _, word, body in page:
            yield str(word), str(body)
        if len(page) < PAGE:
            return
        last = int(page[-1][0])


def _versions(node: Node, url: ClusterURL, words: list[str]) -> dict[str, Any]:
    ids = {word_id(w): w for w in words}
    found = node.rows(f"SELECT word, terms FROM {url.lexicon} WHERE id IN ({','.join(map(str, ids))}) "
                      f"LIMIT {len(ids)} OPTION max_matches={len(ids)}")
    return {str(word): versions_of(body) for word, body in found if str(word) in ids.values()}
