"""The ``papersearch`` entry point: hand a command to a running
``papersearch serve`` if there is one, else run it in this process.

A query process spends most of its life importing Whoosh, click and rich
and opening the index (about 0.3 s, against 0.035 s for a whole SQLite
FTS5 query process), and loads Kiwi for unseen words. This module imports
none of that: it looks for the server's socket in the index directory,
sends the command line, prints the answer and exits. Without a server, or
when the server does not answer, the command runs here as usual.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

SOCKET = "serve.sock"
SERVED = frozenset({"query", "show", "similar", "stats"})
"""Commands the server answers; reindex and serve always run here."""
PASSED_ENV = ("NO_COLOR", "TERM", "COLORTERM", "PAPERSEARCH_CORPUS", "PAPERSEARCH_INDEX")
TIMEOUT = 30.0


def socket_path(index_dir: str | os.PathLike) -> Path:
    return Path(index_dir) / SOCKET


def index_dir_from(argv: list[str]) -> str:
    """The ``--index`` a command line names, as click would resolve it."""
    for i, arg in enumerate(argv):
        if arg == "--index" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--index="):
            return arg.split("=", 1)[1]
    return os.environ.get("PAPERSEARCH_INDEX", "index")


def main() -> None:
    argv = sys.argv[1:]
    if argv and argv[0] in SERVED and not {"-h", "--help"} & set(argv):
        answer = ask_server(argv)
        if answer is not None:
            try:
                sys.exit(show(answer, argv))
            except BrokenPipeError:
                sys.exit(reader_left())
    from .cli import main as run_here

    run_here(argv)


def reader_left() -> int:
    """`papersearch query … | head`: the reader has what it wanted. Point
    stdout at /dev/null so the flush at exit cannot fail again; exit 0."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def ask_server(argv: list[str]) -> dict | None:
    """The server's answer to this command line, or None when no server
    answers (none running, a stale socket, a timeout)."""
    path = socket_path(index_dir_from(argv))
    if not path.exists():
        return None
    tty = sys.stdout.isatty()
    request = {
        "argv": argv,
        "cwd": os.getcwd(),
        "env": {k: os.environ[k] for k in PASSED_ENV if k in os.environ},
        "tty": tty,
        "columns": os.get_terminal_size(sys.stdout.fileno()).columns if tty else None,
    }
    try:
        return exchange(path, request)
    except (OSError, ValueError):
        return None


def exchange(path: Path, request: dict) -> dict:
    """One request, one answer: a JSON document each way."""
    payload = json.dumps(request, ensure_ascii=False).encode("utf-8", "surrogateescape")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(TIMEOUT)
        conn.connect(str(path))
        conn.sendall(payload)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(1 << 16):
            chunks.append(chunk)
    return json.loads(b"".join(chunks))


def show(answer: dict, argv: list[str]) -> int:
    """Print the server's output here, paging it as the CLI would."""
    sys.stderr.write(answer["stderr"])
    emit(answer["stdout"], paging=argv[0] != "stats" and not {"--no-pager", "--json"} & set(argv))
    return int(answer["exit_code"])


def emit(text: str, paging: bool) -> None:
    """Write output, through a pager ($MANPAGER or $PAGER, else less -R)
    when paging is allowed, stdout is a terminal and the text is taller
    than it (and PAPERSEARCH_NO_PAGER is not set)."""
    rows = os.get_terminal_size(sys.stdout.fileno()).lines if sys.stdout.isatty() else 0
    if paging and rows and text.count("\n") > rows and not os.environ.get("PAPERSEARCH_NO_PAGER"):
        os.environ.setdefault("LESS", "-R")  # keep the highlight colours in less
        import pydoc

        pydoc.pager(text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
