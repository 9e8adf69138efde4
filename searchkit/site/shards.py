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
from collections.abc import Container, Iterable

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


def phrase_bigrams(synonyms: dict[tuple[str, ...], list]) -> dict[str, list]:
    """The word pairs of the glossary's multi-word synonyms (diffusion
    model, 대형 언어 모델), each to be filled with the documents holding it
    in consecutive positions and in which sections. A glossary phrase is
    checked in every candidate whose words co-occur; with these the page
    settles a two-word phrase, and rules out a longer one, without
    fetching the candidate's offsets."""
    pairs: dict[str, list] = {}
    for targets in synonyms.values():
        for terms, *_ in targets:
            for a, b in zip(terms, terms[1:]):
                pairs.setdefault(f"{a}\x1f{b}", [])
    return pairs


def adjacent_pairs(items: list[tuple[str, int, int, int]], wanted: Container[str]) -> set[str]:
    """The ``wanted`` pairs (``a\x1fb``) standing at positions p, p + 1 in one field."""
    at: dict[int, list[str]] = defaultdict(list)
    for term, pos, *_ in items:
        at[pos].append(term)
    found = set()
    for pos, firsts in at.items():
        for b in at.get(pos + 1, ()):
            for a in firsts:
                if (key := f"{a}\x1f{b}") in wanted:
                    found.add(key)
    return found
