"""``papersearch serve``: answer CLI commands from a warm process.

The server listens on a Unix socket in the index directory (mode 0600),
runs each command line it receives through the same click commands as the
CLI, with the index kept open (reopened when a reindex publishes a new
generation) and Kiwi loaded once, and sends back stdout, stderr and the
exit code. Requests are answered one at a time, in order.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from click.testing import CliRunner

from .client import PASSED_ENV, SERVED, socket_path
from .errors import InputError


def serve(index_dir: Path, announce: Callable[[str], None] = print) -> None:
    """Serve until Ctrl-C or SIGTERM; the socket is removed on the way out."""
    from . import cli

    if not index_dir.is_dir():
        raise InputError(f"no index at {index_dir}: run `papersearch reindex --index {index_dir}`")
    stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))  # finish the request, then unwind
    with _single_server(index_dir), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        path = socket_path(index_dir)
        with suppress(FileNotFoundError):
            path.unlink()  # left by a server that was killed: the lock says none runs
        try:
            listener.bind(str(path))
        except OSError as exc:
            raise InputError(f"cannot listen on {path}: {exc.strerror or exc}") from None
        os.chmod(path, 0o600)
        listener.listen(8)
        listener.settimeout(0.5)  # so a SIGTERM is noticed between requests
        cli.KEEP_OPEN = True  # commands now leave their index open for the next one
        try:
            _warm(index_dir)
            announce(f"serving {index_dir} on {path}; Ctrl-C stops")
            served = 0
            while not stop:
                with suppress(TimeoutError):
                    conn, _ = listener.accept()
                    with conn:
                        served += _answer(conn, served)
        finally:
            with suppress(FileNotFoundError):
                path.unlink()


@contextmanager
def _single_server(index_dir: Path) -> Iterator[None]:
    """One server per index: a flock, released by the kernel if it dies."""
    with open(index_dir / "serve.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"a server already answers for {index_dir}") from None
        yield


def _warm(index_dir: Path) -> None:
    """Open the index and load Kiwi now, not on the first user's time."""
    from .analysis import analyse

    _run({"argv": ["stats", "--index", str(index_dir), "--json"]})
    analyse("확산 모델")


def _answer(conn: socket.socket, served: int) -> int:
    """Answer one connection; a client that sends garbage or leaves early
    costs it its answer, never the server its life."""
    conn.settimeout(5)
    try:
        data = b""
        while chunk := conn.recv(1 << 16):
            data += chunk
        request = json.loads(data)
        ping = bool(request.get("ping"))
        reply = {"pid": os.getpid(), "served": served} if ping else _run(request)
        conn.sendall(json.dumps(reply, ensure_ascii=False).encode())
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        print(f"serve: dropped a request ({exc.__class__.__name__})", file=sys.stderr)
        return 0
    return 0 if ping else 1


def _run(request: dict) -> dict:
    """Run one command line as the client's terminal would have it."""
    from .cli import cli

    argv = [str(arg) for arg in request["argv"]]
    if not argv or argv[0] not in SERVED:
        return {"stdout": "", "stderr": f"Error: serve does not run {argv[:1]}\n", "exit_code": 2}
    env: dict[str, str | None] = {name: None for name in (*PASSED_ENV, "FORCE_COLOR", "COLUMNS")}
    env.update(request.get("env", {}))
    env["PAPERSEARCH_NO_PAGER"] = "1"  # the client pages, with its own terminal
    if request.get("tty") and not env.get("NO_COLOR"):
        env["FORCE_COLOR"] = "1"
    if request.get("columns"):
        env["COLUMNS"] = str(request["columns"])
    with _cwd(request.get("cwd", os.getcwd())):
        result = CliRunner().invoke(cli, argv, env=env, prog_name="papersearch")
    if result.exception and not isinstance(result.exception, SystemExit):
        name = result.exception.__class__.__name__
        message = f"Error: unexpected {name}: {result.exception} (a bug; please report)\n"
        return {"stdout": result.stdout, "stderr": message, "exit_code": 2}
    return {"stdout": result.stdout, "stderr": result.stderr, "exit_code": result.exit_code}


@contextmanager
def _cwd(path: str) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)
