"""The cluster's own records, in the RT index ``NAME_meta`` on the first node.

Rows (id → JSON body): 1 the live generation, 2 the topology (every
shard's replicas), ``GEN_ROW + G`` generation G's manifest, analysed
glossary and top terms, ``VOCABULARY_ROW + G`` its terms, ``COUNTS_ROW +
G`` each section's term counts (compressed; the next reindex updates them
for the stats' top terms). A reindex writes its generation's rows, then
flips row 1 in one REPLACE: that statement is the publish.
"""

from __future__ import annotations

import json
from typing import Any

from . import ClusterURL
from .conn import ClusterError, Node, connect, quote

POINTER_ROW, TOPOLOGY_ROW, GEN_ROW = 1, 2, 1000
VOCABULARY_ROW = 1 << 40
"""``VOCABULARY_ROW + G``: generation G's index terms (a superset: an
incremental reindex keeps its predecessor's), read only for suggestions."""
COUNTS_ROW = 2 << 40
"""``COUNTS_ROW + G``: generation G's occurrences of every term in every
section, read only by the next reindex."""


def put(node: Node, url: ClusterURL, row: int, body: Any) -> None:
    """Write one meta row (replacing it)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    node.execute(f"REPLACE INTO {url.meta} (id, body_text, kind, body) VALUES ({row}, '', {row}, {quote(text)})")


def get(node: Node, url: ClusterURL, row: int) -> Any:
    """One meta row's body, None when it is absent."""
    rows = node.rows(f"SELECT body FROM {url.meta} WHERE id = {row}")
    return json.loads(rows[0][0]) if rows else None


def check_index(node: Node, url: ClusterURL) -> None:
    """The URL's indexes exist on this node: one line when they do not."""
    names = {str(row[0]) for row in node.rows("SHOW TABLES")}
    missing = [n for n in (url.name, url.meta, url.lexicon) if n not in names]
    if missing:
        has = ", ".join(sorted(names)) or "none"
        raise ClusterError(f"no index {missing[0]!r} at {url} (node {node.address} has {has})")


def open_node(url: ClusterURL) -> Node:
    """The first node, checked to hold the URL's indexes."""
    node = connect(url.host, url.port)
    try:
        check_index(node, url)
    except BaseException:
        node.close()
        raise
    return node


def register_topology(url: ClusterURL, topology: dict) -> None:
    """Record how to reach every shard, for the writer and the reader."""
    node = open_node(url)
    try:
        put(node, url, TOPOLOGY_ROW, topology)
    finally:
        node.close()


def topology(node: Node, url: ClusterURL) -> dict:
    found = get(node, url, TOPOLOGY_ROW)
    if not found:
        raise ClusterError(f"cluster at {url} has no topology: run `papersearch cluster register FILE --index {url}`")
    return found


def live(node: Node, url: ClusterURL) -> int:
    """The live generation, 0 before the first reindex."""
    found = get(node, url, POINTER_ROW)
    return int(found["live"]) if found else 0
