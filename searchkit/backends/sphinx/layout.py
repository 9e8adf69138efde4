"""The layout of a cluster's documents, which the writer writes and the
reader reads: the format number, the shard a paper lives on, the rows of
one generation, a document's packed spans."""

from __future__ import annotations

import base64
import json
import zlib

CLUSTER_FORMAT = 8
"""Bumped when the documents' layout or the generation row changes (3: mined
term pairs per post; 5: field lengths as attributes; 6: the lexicon's
readings counted and versioned, `lexicon`; 7 and 8: names after the terms a
phrase matches, `terms.field_text`): forces a full rebuild."""
FOREVER = 4294967295
"""``died`` of a document no reindex has replaced (uint32 max)."""


def shard_of(arxiv_id: str, shards: int) -> int:
    """The shard a paper lives on: every copy of it on the same one, so a
    paper collapses to its best copy on one shard."""
    return zlib.crc32(arxiv_id.encode("utf-8")) % shards


def live_filter(generation: int) -> str:
    """The condition selecting generation G's documents."""
    return f"born <= {generation} AND died > {generation}"


def packed_spans(stored: str) -> dict[str, tuple[str, bytes]]:
    """A document's ``spans`` attribute (JSON, offsets base64, as `_row`
    writes it) as `schema.pack_spans` made it, field by field: what the
    reader's `Spans` and the writer's recounts read."""
    return {name: (words, base64.b64decode(numbers)) for name, (words, numbers) in json.loads(stored).items()}
