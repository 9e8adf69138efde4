"""The cluster's own records, in the RT index ``NAME_meta`` on the first node.

Rows (id → JSON body): 1 the live generation, 2 the topology (every
shard's replicas), ``GEN_ROW + G`` generation G's manifest, analysed
glossary and top terms, ``VOCABULARY_ROW + G`` its terms, ``COUNTS_ROW +
G`` each section's term counts (compressed; the next reindex updates them
for the stats' top terms). A reindex writes its generation's rows, then
flips row 1 in one REPLACE: that statement is the publish.

A body longer than `PIECE` is compressed and cut into pieces, each in a
row of its own (`PIECES_ROW`), written before the row that names them:
Sphinx 2.2 keeps at most 4 MB of a string attribute and silently cuts the
rest, and a 50,000-paper manifest is longer (it was cut, and the cluster
could not be opened again).
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from . import ClusterURL
from .conn import ClusterError, Node, connect, quote

POINTER_ROW, TOPOLOGY_ROW, LEXICON_ROW, GEN_ROW = 1, 2, 3, 1000
"""``LEXICON_ROW``: ``{"dirty": G}`` while generation G's writer changes the
lexicon (`lexicon`), 0 once it has published."""
VOCABULARY_ROW = 1 << 40
"""``VOCABULARY_ROW + G``: generation G's index terms (a superset: an
incremental reindex keeps its predecessor's), read only for suggestions."""
COUNTS_ROW = 2 << 40
"""``COUNTS_ROW + G``: generation G's occurrences of every term in every
section, read only by the next reindex."""
PIECES_ROW = 3 << 40
"""``PIECES_ROW + row * MAX_PIECES + k``: piece k of a long body of ``row``."""
MAX_PIECES = 1 << 12
PIECE = 1 << 20
"""Characters of one piece (base64: bytes too), well under Sphinx's 4 MB."""
PIECES_KEY = "__pieces__"


def put(node: Node, url: ClusterURL, row: int, body: Any) -> None:
    """Write one meta row (replacing it); a long body goes to pieces first."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode("utf-8")) > PIECE:
        packed = base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")
        pieces = [packed[i : i + PIECE] for i in range(0, len(packed), PIECE)]
        if len(pieces) > MAX_PIECES:
            raise ClusterError(f"a meta record of {len(packed):,} bytes is too large for the cluster at {url}")
        first = PIECES_ROW + row * MAX_PIECES
        for k, piece in enumerate(pieces):
            _replace(node, url, first + k, piece)
        text = json.dumps({PIECES_KEY: len(pieces)})
    _replace(node, url, row, text)


def _replace(node: Node, url: ClusterURL, row: int, text: str) -> None:
    node.execute(f"REPLACE INTO {url.meta} (id, body_text, kind, body) VALUES ({row}, '', {row}, {quote(text)})")


def get(node: Node, url: ClusterURL, row: int) -> Any:
    """One meta row's body, None when it is absent."""
    rows = node.rows(f"SELECT body FROM {url.meta} WHERE id = {row}")
    if not rows:
        return None
    try:
        body = json.loads(rows[0][0])
        if not (isinstance(body, dict) and PIECES_KEY in body):
            return body
        count, first = int(body[PIECES_KEY]), PIECES_ROW + row * MAX_PIECES
    except (ValueError, TypeError) as exc:  # another program's index of that name
        raise ClusterError(f"{url.meta} at {url.host}:{url.port} is not a papersearch record ({exc.__class__.__name__}"
                           f" in row {row}); is {url} a papersearch cluster?") from None
    damaged = (f"the cluster at {url} is damaged: record {row} lacks some of its {count} pieces; "
               f"run `papersearch reindex --full --index {url}`")
    found = node.rows(f"SELECT id, body FROM {url.meta} WHERE id >= {first} AND id < {first + count} "
                      f"ORDER BY id ASC LIMIT {count} OPTION max_matches={count}")
    if [int(i) for i, _ in found] != list(range(first, first + count)):
        raise ClusterError(damaged)
    try:
        return json.loads(zlib.decompress(base64.b64decode("".join(str(b) for _, b in found))).decode("utf-8"))
    except (ValueError, zlib.error):  # the pieces are there, garbled
        raise ClusterError(damaged.replace("lacks some of its", "has garbled")) from None


def pieces(node: Node, url: ClusterURL, rows: list[int]) -> list[int]:
    """The ids of the pieces of these rows' bodies (to delete with them)."""
    out: list[int] = []
    for row in rows:
        first = PIECES_ROW + row * MAX_PIECES
        sql = (f"SELECT id FROM {url.meta} WHERE id >= {first} AND id < {first + MAX_PIECES} "
               f"LIMIT {MAX_PIECES} OPTION max_matches={MAX_PIECES}")
        out += [int(r[0]) for r in node.rows(sql)]
    return out


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
