"""Cluster descriptions → each node's ``sphinx.conf``.

A cluster is described in one JSON file::

    {"name": "papers",
     "nodes": [{"host": "10.0.0.1", "sql_port": 9306, "api_port": 9312,
                "dir": "/var/lib/papersearch"}, ...],
     "shards_per_node": 1,
     "mirrors": 1}

Every node holds ``shards_per_node`` RT shards, each copied on the next
``mirrors`` nodes (``agent = a|b:index``: Sphinx fails over between the
copies). The first node also holds the distributed index ``name``, which
queries go to, and two small RT indexes: ``name_meta`` (live generation,
manifests, topology, glossary) and ``name_lexicon`` (word forms). The
SphinxQL port serves clients; agents talk Sphinx's own protocol on the API
port.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...schema import ALL, TEXT_FIELDS

CHARSET = "0..9, A..Z->a..z, _, a..z, U+AC00..U+D7A3, U+3131..U+318E"
"""Hangul syllables and jamo, digits and Latin stay whole; every other
character is hex-encoded into a term by `terms.encode` first."""
ID_FIELD = "aid"
"""A text field holding the encoded arXiv id, so copies are found by MATCH."""
LENGTH_COLUMNS: dict[str, str] = {ALL: "alen", **{name: f"len_{name}" for name in TEXT_FIELDS}}
"""Each document's field lengths as Whoosh's scorer sees them (rounded
through one byte), the combined field's too: Sphinx's expression ranker
reads them to compute a term's exact BM25 (see `certify`)."""
MAX_PACKET = 128 << 20
"""searchd's ``max_packet_size``, its ceiling in Sphinx 2.2: the largest
statement a node takes (a paper with megabyte sections is one row)."""
AGENT_CONNECT_MS = 500
AGENT_QUERY_MS = 20000


@dataclass(frozen=True)
class NodeSpec:
    host: str
    sql_port: int
    api_port: int
    dir: str

    @property
    def sql(self) -> str:
        return f"{self.host}:{self.sql_port}"


@dataclass(frozen=True)
class Cluster:
    """A described cluster: its nodes, and each shard's replicas (node numbers)."""

    name: str
    nodes: tuple[NodeSpec, ...]
    shards: tuple[tuple[str, tuple[int, ...]], ...]

    def topology(self) -> dict[str, Any]:
        """What the writer and the reader need to reach every shard."""
        return {
            "name": self.name,
            "shards": [
                {"index": index, "replicas": [{"host": self.nodes[k].host, "sql_port": self.nodes[k].sql_port,
                                               "api_port": self.nodes[k].api_port} for k in replicas]}
                for index, replicas in self.shards
            ],
        }


def load(path: str | Path) -> Cluster:
    """Read a cluster description; one-line errors for what is wrong in it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read cluster description {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"cluster description {path} is not JSON ({exc})") from None
    except RecursionError:
        raise InputError(f"cluster description {path} is nested too deeply to be a cluster") from None
    return describe(data, str(path))


def describe(data: Any, source: str = "cluster description") -> Cluster:
    """A `Cluster` from a parsed description."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or not data["nodes"]:
        raise InputError(f"{source}: needs a non-empty \"nodes\" list")
    unknown = sorted(set(data) - _KEYS)
    if unknown:  # a typo ("mirror": 1) would quietly leave the cluster without what was meant
        raise InputError(f"{source}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    name = data.get("name", "papers")
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"{source}: \"name\" must be a plain identifier, not {name!r}")
    nodes = [_node(node, i, source) for i, node in enumerate(data["nodes"], 1)]
    listeners = [(n.host, port) for n in nodes for port in (n.sql_port, n.api_port)]
    if len(set(listeners)) < len(listeners):
        raise InputError(f"{source}: two listeners share a host and port (each node needs its own two ports)")
    if len({(n.host, n.dir) for n in nodes}) < len(nodes):
        raise InputError(f"{source}: two nodes share a host and \"dir\"")
    per_node, mirrors = data.get("shards_per_node", 1), data.get("mirrors", 0)
    if not (_whole(per_node) and 1 <= per_node <= MAX_SHARDS_PER_NODE and _whole(mirrors)
            and 0 <= mirrors < len(nodes)):
        raise InputError(f"{source}: \"shards_per_node\" must be 1 to {MAX_SHARDS_PER_NODE} and \"mirrors\" "
                         "below the number of nodes")
    shards = []
    for k in range(len(nodes)):
        for _ in range(per_node):
            replicas = tuple((k + m) % len(nodes) for m in range(mirrors + 1))
            shards.append((f"{name}_s{len(shards) + 1}", replicas))
    return Cluster(name, tuple(nodes), tuple(shards))


_KEYS = frozenset({"name", "nodes", "shards_per_node", "mirrors"})
_NODE_KEYS = frozenset({"host", "sql_port", "api_port", "dir"})

MAX_SHARDS_PER_NODE = 64
"""More is no layout anyone runs (each shard is an RT index with its own
threads and files), and a typo of 100000000 wrote configs until memory ran out."""


def _whole(value: Any) -> bool:
    """An integer, and not a bool (JSON's true is no count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _node(node: Any, i: int, source: str) -> NodeSpec:
    """Node ``i`` of a description, checked: it is written into sphinx.conf
    line by line, so a port is a whole number in range and a host or a
    directory holds no line break or blank."""
    if not isinstance(node, dict):
        raise InputError(f"{source}: node {i} must be an object")
    unknown = sorted(set(node) - _NODE_KEYS)
    if unknown:
        raise InputError(f"{source}: node {i} has an unknown key {unknown[0]!r} "
                         f"(known: {', '.join(sorted(_NODE_KEYS))})")
    ports = [node.get("sql_port"), node.get("api_port")]
    if not all(_whole(p) and 0 < p < 65536 for p in ports):
        raise InputError(f"{source}: node {i} needs \"sql_port\" and \"api_port\" as whole numbers from 1 to 65535")
    host, directory = node.get("host", "127.0.0.1"), node.get("dir", f"/var/lib/papersearch/node-{i}")
    for key, value in (("host", host), ("dir", directory)):
        if not isinstance(value, str) or not value or any(c.isspace() or not c.isprintable() for c in value):
            raise InputError(f"{source}: node {i}'s \"{key}\" must be text without blanks or line breaks, "
                             f"not {value!r}")
    return NodeSpec(host, ports[0], ports[1], directory)


def node_config(cluster: Cluster, k: int) -> str:
    """The ``sphinx.conf`` of node ``k`` (0-based)."""
    node = cluster.nodes[k]
    root = node.dir.rstrip("/")
    parts = [_rt(index, f"{root}/data/{index}", _shard_schema()) for index, replicas in cluster.shards if k in replicas]
    if k == 0:
        parts.append(_rt(f"{cluster.name}_meta", f"{root}/data/{cluster.name}_meta",
                         ["rt_field = body_text", "rt_attr_uint = kind", "rt_attr_string = body"]))
        parts.append(_rt(f"{cluster.name}_lexicon", f"{root}/data/{cluster.name}_lexicon",
                         ["rt_field = word_text", "rt_attr_string = word", "rt_attr_string = terms"]))
        parts.append(_distributed(cluster))
    parts.append(f"""searchd
{{
    listen = {node.host}:{node.api_port}
    listen = {node.host}:{node.sql_port}:mysql41
    log = {root}/searchd.log
    query_log = {root}/query.log
    pid_file = {root}/searchd.pid
    binlog_path = {root}/binlog
    workers = threads
    read_timeout = 30
    client_timeout = 300
    max_packet_size = {MAX_PACKET >> 10}K
    seamless_rotate = 0
}}
""")
    return "\n".join(parts)


def _shard_schema() -> list[str]:
    """Text fields: each section's encoded terms, and the arXiv id. The
    attributes carry what ranking and display need without Kiwi."""
    return [
        *(f"rt_field = {name}" for name in TEXT_FIELDS),
        f"rt_field = {ID_FIELD}",
        "rt_attr_uint = born",
        "rt_attr_uint = died",
        "rt_attr_uint = day",
        *(f"rt_attr_uint = {column}" for column in LENGTH_COLUMNS.values()),
        "rt_attr_string = arxiv_id",
        "rt_attr_string = post",
        "rt_attr_string = date",
        "rt_attr_string = url",
        "rt_attr_string = spans",
        "rt_attr_string = texts",
    ]


def _rt(index: str, path: str, schema: list[str]) -> str:
    lines = "\n".join(f"    {line}" for line in schema)
    return f"""index {index}
{{
    type = rt
    path = {path}
    dict = keywords
    charset_table = {CHARSET}
    min_word_len = 1
    rt_mem_limit = 256M
{lines}
}}
"""


def _distributed(cluster: Cluster) -> str:
    lines = []
    for index, replicas in cluster.shards:
        if replicas == (0,):
            lines.append(f"    local = {index}")
        else:
            hosts = "|".join(f"{cluster.nodes[k].host}:{cluster.nodes[k].api_port}" for k in replicas)
            lines.append(f"    agent = {hosts}:{index}")
    if any(len(replicas) > 1 for _, replicas in cluster.shards):
        lines.append("    ha_strategy = nodeads")  # a mirror that stops answering is left out
    body = "\n".join(lines)
    return f"""index {cluster.name}
{{
    type = distributed
{body}
    agent_connect_timeout = {AGENT_CONNECT_MS}
    agent_query_timeout = {AGENT_QUERY_MS}
}}
"""


def write_configs(cluster: Cluster, out: Path) -> list[Path]:
    """Write ``out/node-K/sphinx.conf`` for every node and ``out/topology.json``."""
    written = []
    try:
        for k in range(len(cluster.nodes)):
            target = out / f"node-{k + 1}" / "sphinx.conf"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(node_config(cluster, k), encoding="utf-8")
            written.append(target)
        (out / "topology.json").write_text(json.dumps(cluster.topology(), indent=1), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write configs under {out}: {exc.strerror or exc}") from None
    return written
