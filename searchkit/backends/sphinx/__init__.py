"""papersearch on a Sphinx 2.2 / Manticore cluster.

Parts: cluster locations (`ClusterURL`; `backends.is_cluster` tells a URL from a directory), node configs
and local nodes (`config`, `nodes`), SphinxQL connections (`conn`), the
term encoding (`terms`), the writer (`writer`) and the reader (`reader`).
Kiwi stays in Python: Sphinx is fed analysed terms and only finds
candidates; the exact BM25F, re-ranking and highlights are computed here
from stored spans and global statistics (see `reader`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import InputError

SCHEME = "sphinx://"
_URL = re.compile(r"^(?i:sphinx)://(?P<host>[^:/\s]+):(?P<port>\d{1,5})/(?P<name>[A-Za-z_][A-Za-z0-9_]*)/?$")


@dataclass(frozen=True)
class ClusterURL:
    """``sphinx://HOST:PORT/NAME``: a node's SphinxQL listener and the
    distributed index on it."""

    host: str
    port: int
    name: str

    @classmethod
    def parse(cls, location: str) -> ClusterURL:
        match = _URL.match(location.strip())
        if not match or not 0 < int(match.group("port")) < 65536:
            raise InputError(f"{location!r} is not a cluster URL like sphinx://127.0.0.1:9306/papers")
        return cls(match.group("host"), int(match.group("port")), match.group("name"))

    def __str__(self) -> str:
        return f"{SCHEME}{self.host}:{self.port}/{self.name}"

    @property
    def meta(self) -> str:
        """The RT index on the first node holding the live generation,
        manifests, topology and glossary."""
        return f"{self.name}_meta"

    @property
    def lexicon(self) -> str:
        """The RT index on the first node holding the word-form lexicon."""
        return f"{self.name}_lexicon"
