"""What the client and `serve` agree on: where the socket is, which
commands a server answers, which environment variables travel with a
request. Standard library only."""

from __future__ import annotations

import os
from pathlib import Path

SOCKET = "serve.sock"
SERVED = frozenset({"query", "show", "similar", "stats"})
"""Commands the server answers; reindex and serve always run here."""
PASSED_ENV = ("NO_COLOR", "TERM", "COLORTERM", "PAPERSEARCH_CORPUS", "PAPERSEARCH_INDEX")

def socket_path(index_dir: str | os.PathLike) -> Path:
    return Path(index_dir) / SOCKET
