"""Encoders for the static page's data files, and the hash that picks a shard.

A query on the page downloads only the shards it needs, so every table is
split by a hash of its key (FNV-1a over UTF-8, mirrored by `store.js`
`shardOf`): a word form's lexicon shard, a term's dictionary and posting
shard, a glossary source's shard, a "did you mean" deletion key's shard.
Postings are binary (varints and float32 term frequencies, read by
`store.js` `readBlock`): the page sums BM25F from them exactly as
`scoring.Postings` does, so every number that enters a score is the
index's own (Whoosh's float32 weights, its length bytes, the live idf).
"""

from __future__ import annotations

import math
import struct
from collections import defaultdict
from collections.abc import Iterable

import numpy as np

FNV_OFFSET, FNV_PRIME = 0x811C9DC5, 0x01000193


def fnv1a(text: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes: cheap, and the same in JS."""
    h = FNV_OFFSET
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return h


def shard_of(key: str, count: int) -> int:
    return fnv1a(key) % count


def shard_count(total_bytes: int, target: int) -> int:
    """Shards so that one averages about ``target`` bytes before gzip."""
    return max(1, math.ceil(total_bytes / target))


def split(items: Iterable[tuple[str, object]], count: int) -> list[dict[str, object]]:
    """Key → value items spread over ``count`` shards by key hash."""
    shards: list[dict[str, object]] = [{} for _ in range(count)]
    for key, value in items:
        shards[shard_of(key, count)][key] = value
    return shards


def varint(out: bytearray, n: int) -> None:
    """Unsigned LEB128, as `store.js` `Reader.varint` reads it."""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


def posting_block(docs: np.ndarray, tf: np.ndarray) -> bytes:
    """One term's postings in one field: count, the distinct term
    frequencies as float32 (Whoosh stores weights as float32, so this is
    lossless), then docnum gaps and each posting's frequency index."""
    out = bytearray()
    values = sorted(set(tf.tolist()))
    index = {v: i for i, v in enumerate(values)}
    varint(out, len(docs))
    varint(out, len(values))
    for v in values:
        if float(np.float32(v)) != v:  # guards the float32 claim above
            raise ValueError(f"term frequency {v!r} is not a float32")
        out += struct.pack("<f", v)
    last = 0
    for doc in docs.tolist():
        varint(out, doc - last)
        last = doc
    for v in tf.tolist():
        varint(out, index[v])
    return bytes(out)


def deletion_keys(term: str) -> set[str]:
    """The term and every form of it with one character deleted: two words
    within one Damerau-Levenshtein edit share a key (a substitution and a
    transposition delete to the same form, an insertion to the other
    word), so "did you mean" fetches only the shards of its own keys."""
    return {term} | {term[:i] + term[i + 1 :] for i in range(len(term))}


def compact_spans(items: list[tuple[str, int, int, int]]) -> list:
    """A field's ``(term, pos, start, end)`` tuples as ``[terms joined by
    U+001F, [pos gap, start gap, length, …]]`` (`store.js` `unpackSpans`)."""
    numbers: list[int] = []
    last_pos = last_start = 0
    for _, pos, start, end in items:
        numbers += [pos - last_pos, start - last_start, end - start]
        last_pos, last_start = pos, start
    return ["\x1f".join(t for t, *_ in items), numbers]


def group_by_first(synonyms: dict[tuple[str, ...], list]) -> Iterable[tuple[str, object]]:
    """Glossary sources keyed by their first term (the page looks up every
    run of typed words starting at a word, so it knows that term)."""
    grouped: dict[str, dict[str, list]] = defaultdict(dict)
    for source, targets in synonyms.items():
        if source:
            grouped[source[0]]["\x1f".join(source)] = [[list(terms), text, weight] for terms, text, weight in targets]
    return grouped.items()


GRAM = 3
"""The longest run of consecutive terms exported as a gram (see `Grams`)."""


class Grams:
    """Every run of two and of three terms standing at consecutive
    positions in some section of the corpus (a "gram", keyed by its terms
    joined by U+001F), with the documents holding it and in which sections.

    A quoted phrase or a glossary phrase is checked against these instead
    of each candidate's offsets: a phrase of two or three terms is in a
    section exactly when its gram is (a gram the table lacks is in no
    document), and a longer one is ruled out where one of its three-term
    runs is missing. Added document by document, in document order, as
    varint pairs (document gap, section bit mask), read by `store.js` `gram`.
    """

    def __init__(self, sections: tuple[str, ...]) -> None:
        self.bit = {name: 1 << i for i, name in enumerate(sections)}
        self.blocks: dict[str, bytearray] = {}
        self.last: dict[str, int] = {}

    def add(self, doc: int, spans: dict[str, list[tuple[str, int, int, int]]]) -> None:
        masks: dict[str, int] = defaultdict(int)
        for name, items in spans.items():
            for key in adjacent_grams(items):
                masks[key] |= self.bit.get(name, 0)
        for key, mask in masks.items():
            block = self.blocks.get(key)
            if block is None:
                block = self.blocks[key] = bytearray()
            varint(block, doc - self.last.get(key, 0))
            varint(block, mask)
            self.last[key] = doc

    def shards(self, target: int) -> list[bytes]:
        """The grams in ``shard_count`` hashed shards (`gram_shard`)."""
        size = sum(len(k.encode("utf-8")) + len(b) for k, b in self.blocks.items())
        grouped: list[dict[str, bytes]] = [{} for _ in range(shard_count(size, target))]
        for key in sorted(self.blocks):
            grouped[shard_of(key, len(grouped))][key] = bytes(self.blocks[key])
        return [gram_shard(group) for group in grouped]


def adjacent_grams(items: list[tuple[str, int, int, int]]) -> set[str]:
    """The grams (terms joined by U+001F) of every two and three terms at
    positions p, p + 1 (, p + 2) of one field, as `scoring._has_phrase`
    matches a phrase (several terms may share a position)."""
    at: dict[int, list[str]] = defaultdict(list)
    for term, pos, *_ in items:
        at[pos].append(term)
    found = set()
    for pos, firsts in at.items():
        seconds = at.get(pos + 1)
        if not seconds:
            continue
        thirds = at.get(pos + 2, ())
        for a in firsts:
            for b in seconds:
                found.add(f"{a}\x1f{b}")
                found.update(f"{a}\x1f{b}\x1f{c}" for c in thirds)
    return found


def gram_shard(blocks: dict[str, bytes]) -> bytes:
    """One file of grams: their count, then each gram's UTF-8 length, UTF-8
    bytes and block length, then the blocks in the same order (one fetch
    answers a lookup, as a JSON shard would, without JSON's bulk)."""
    head, body = bytearray(), bytearray()
    varint(head, len(blocks))
    for key, block in blocks.items():
        raw = key.encode("utf-8")
        varint(head, len(raw))
        head += raw
        varint(head, len(block))
        body += block
    return bytes(head + body)
