"""``papersearch serve``: answer CLI commands from a warm process.

The server listens on a Unix socket in the index directory (mode 0600),
runs each command line it receives through the same click commands as the
CLI, with the index kept open (reopened when a reindex publishes a new
generation) and Kiwi loaded once, and sends back stdout, stderr and the
exit code. Requests are answered one at a time, in order.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from contextlib import contextmanager, suppress
from pathlib import Path

from click.testing import CliRunner

from .client import exchange, socket_path
from .errors import InputError


def serve(index_dir: Path, announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted; the socket is removed on the way out."""
    from . import cli

    path = socket_path(index_dir)
    if not index_dir.is_dir():
        raise InputError(f"no index at {index_dir}: run `papersearch reindex --index {index_dir}`")
    _claim(path)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # unwind, removing the socket
    cli.KEEP_OPEN = True  # commands now leave their index open for the next one
    served = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        os.chmod(path, 0o600)
        listener.listen(8)
        announce(f"serving {index_dir} on {path}; Ctrl-C stops")
        try:
            while True:
                conn, _ = listener.accept()
                with conn:
                    served += _answer(conn, served)
        finally:
            with suppress(FileNotFoundError):
                path.unlink()


def _claim(path: Path) -> None:
    """Refuse to start twice; remove the socket a killed server left."""
    if not path.exists():
        return
    try:
        exchange(path, {"ping": True})
    except (OSError, ValueError):
        path.unlink()
        return
    raise InputError(f"a server already answers for {path.parent} (socket {path})")


def _answer(conn: socket.socket, served: int) -> int:
    data = b""
    while chunk := conn.recv(1 << 16):
        data += chunk
    request = json.loads(data)
    ping = bool(request.get("ping"))
    reply = {"pid": os.getpid(), "served": served} if ping else _run(request)
    conn.sendall(json.dumps(reply, ensure_ascii=False).encode())
    return 0 if ping else 1


def _run(request: dict) -> dict:
    """Run one command line as the client's terminal would have it."""
    from .cli import cli

    env = dict(request.get("env", {}))
    env["PAPERSEARCH_NO_PAGER"] = "1"  # the client pages, with its own terminal
    if request.get("tty") and "NO_COLOR" not in env:
        env["FORCE_COLOR"] = "1"
    if request.get("columns"):
        env["COLUMNS"] = str(request["columns"])
    with _cwd(request.get("cwd", os.getcwd())):
        result = CliRunner().invoke(cli, request["argv"], env=env, prog_name="papersearch")
    if result.exception and not isinstance(result.exception, SystemExit):
        print(f"serve: {result.exception!r}", file=sys.stderr)
    return {"stdout": result.stdout, "stderr": result.stderr, "exit_code": result.exit_code}


@contextmanager
def _cwd(path: str):
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)
