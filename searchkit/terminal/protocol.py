"""What the client and `serve` agree on: where the socket is, which
commands a server answers, which environment variables travel with a
request. Standard library only, and `backends`' rule of what a cluster
URL is (a module of a few lines that imports no backend)."""

from __future__ import annotations

import os
from pathlib import Path

from ..backends import is_cluster  # the one rule of a cluster URL; re-exported for client and serve

SOCKET = "serve.sock"
SERVED = frozenset({"query", "show", "similar", "stats"})
"""Commands the server answers; reindex and serve always run here."""
PASSED_ENV = ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TERM", "COLORTERM", "LINES", "PAPERSEARCH_CORPUS",
              "PAPERSEARCH_INDEX")
"""What decides a command's output besides its arguments: rich reads the
colour and terminal variables (FORCE_COLOR and TTY_COMPATIBLE make piped
output coloured; on a dumb terminal it takes COLUMNS only beside LINES),
the CLI the papersearch ones. The worker clears those the client lacks."""
__all__ = ["PASSED_ENV", "SERVED", "SOCKET", "home", "is_cluster", "private", "socket_path"]


def home(location: str | os.PathLike) -> Path:
    """Where a server for the index at ``location`` keeps its socket and
    lock: the index directory itself, or, for a cluster URL (which has no
    directory here), a directory of this user's named by the URL's hash
    under ``$XDG_RUNTIME_DIR`` (else the temp dir), so a client finds the
    server by the same URL it would open."""
    if not is_cluster(location):
        return Path(location)
    import hashlib
    import tempfile

    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"papersearch-{os.getuid()}"
    # one server however the URL is spelt: the scheme in any case, a closing slash or none
    spelt = str(location).strip()
    canonical = spelt[: spelt.index("://")].lower() + spelt[spelt.index("://") :].rstrip("/")
    return base / hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def private(directory: Path) -> bool:
    """Whether ``directory`` (a cluster's `home` and its parent) is ours
    alone: in a shared temp dir another user could otherwise plant a
    socket that receives our command lines."""
    try:
        for path in (directory.parent, directory):
            status = path.lstat()
            if status.st_uid != os.getuid() or status.st_mode & 0o077 or not path.is_dir() or path.is_symlink():
                return False
    except OSError:
        return False
    return True


def socket_path(location: str | os.PathLike) -> Path:
    return home(location) / SOCKET
