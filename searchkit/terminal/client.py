"""The ``papersearch`` entry point: hand a command to a running
``papersearch serve`` if there is one, else run it in this process.

A query process spends most of its life importing Whoosh, click and rich
and opening the index (about 0.3 s, against 0.035 s for a whole SQLite
FTS5 query process), and loads Kiwi for unseen words. This module imports
none of that: it looks for the server's socket (in the index directory,
or for a cluster URL in a private directory named by it, `protocol.home`),
sends the command line, prints the answer and exits.

The exchange on the socket: the client sends one JSON request and shuts
down its side; the server sends one line, either the answer at once (a
ping, "busy", a malformed request) or ``{"accepted": true, "limit": L}``
followed later by the answer line, within the limit of L seconds. Before
the server has accepted (no socket, connection refused, no first line) the
command runs here, and so it does when the server answers "busy" (marked
``"busy": true``: too many clients, or no worker free in time), which it
says only of a command it has not run; once the server has accepted, a
missing or garbled answer is an error (exit 2), never a reason to run the
command a second time.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from .output import (
    ON_ANSWER,
    columns_set,
    emit,
    reader_left,
    standard_streams,
    terminal_width,
    tolerant_streams,
)
from .protocol import PASSED_ENV, SERVED, is_cluster, private, socket_path

if TYPE_CHECKING:  # socket (and selectors) load only when a server's socket is there to talk to
    import socket

ACCEPT_TIMEOUT = 5.0
"""Seconds to wait for the server's first line; its master answers it as
soon as it has read the request, so only a stopped or hung server is late."""
ANSWER_MARGIN = 3.0
"""Seconds beyond the server's own limit before the client gives up: the
server kills a stuck worker half a second past the limit and answers."""
HANG_FACTOR = 10
"""A command the server handed back may use its limit in CPU time and wait
this many times it in all: on a loaded machine waiting for a core is no
hang, but an index on a dead mount uses no CPU while it hangs."""


class ServerFailed(Exception):
    """The server accepted the request but gave no usable answer; the
    message is one line for the user."""


class NotServed(Exception):
    """No server took the request: the command should run here."""


class HandedBack(NotServed):
    """The server was busy and did not run the command: it runs here, under
    the server's time limit (``limit`` seconds), so that an index that
    hangs for the server's workers cannot hang the client for ever."""

    def __init__(self, message: str, limit: float) -> None:
        super().__init__(message)
        self.limit = limit


def index_dir_from(argv: list[str]) -> str:
    """The ``--index`` a command line names, as click would resolve it."""
    for i, arg in enumerate(argv):
        if arg == "--index" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--index="):
            return arg.split("=", 1)[1]
    return os.environ.get("PAPERSEARCH_INDEX") or "index"  # an empty variable is unset, as click takes it


BLAS_THREADS = "OPENBLAS_NUM_THREADS"
"""numpy's OpenBLAS starts a thread a core when numpy is imported, half of
numpy's import time (about 60 ms of a ~300 ms cold query here); nothing
papersearch does calls BLAS, so its processes ask for one thread unless
the user's environment says otherwise. The library leaves the variable to
its caller."""


def main() -> None:
    os.environ.setdefault(BLAS_THREADS, "1")
    standard_streams()
    tolerant_streams()
    argv = sys.argv[1:]
    if argv and argv[0] in SERVED and not {"-h", "--help"} & set(argv):
        try:
            answer = ask_server(argv)
        except ServerFailed as exc:
            sys.stderr.write(f"Error: {exc}\n")
            sys.exit(2)
        except HandedBack as busy:
            answer = None
            _within(busy.limit)
        if answer is not None:
            try:
                sys.exit(show(answer, argv))
            except BrokenPipeError:
                sys.exit(reader_left())
    from .cli import main as run_here

    if argv and argv[0] in SERVED:
        _without_teardown(run_here, argv)
    run_here(argv)


def _within(limit: float) -> None:
    """End this process with the server's time-limit error if the command
    it handed back uses more than ``limit`` seconds of CPU finding its
    answer, or waits `HANG_FACTOR` times that (SIGALRM also interrupts an
    open(2) that hangs on a dead mount). CPU time, not the clock: a busy
    server hands commands back when the machine is busiest, and 50 clients
    on two cores made one in six take over 10 s of wall time for a
    second's work and fail (probe). The limit ends when the answer starts
    being written (`output.answer_ready`): a slow pipe or a pager read at
    length cut it off before."""
    import signal

    def ending(message: str) -> Callable[[int, object], None]:
        def expired(signum: int, frame: object) -> None:
            os.write(2, f"Error: the server was busy and this command, run here instead, {message} "
                        f"(papersearch serve --timeout)\n".encode())
            os._exit(2)
        return expired

    hang = limit * HANG_FACTOR
    signal.signal(signal.SIGPROF, ending(f"used up its {limit:g} s limit"))
    signal.signal(signal.SIGALRM, ending(f"did not finish within {hang:g} s"))
    signal.setitimer(signal.ITIMER_PROF, limit)
    signal.setitimer(signal.ITIMER_REAL, hang)

    def stop() -> None:  # writing the answer is the reader's pace
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
    ON_ANSWER.append(stop)


def _without_teardown(run: Callable[[list[str]], None], argv: list[str]) -> NoReturn:
    """Run a read-only command, then end the process at once, output
    flushed: the interpreter's teardown (freeing numpy's, Whoosh's and
    the index's objects, one by one) took 20-60 ms of every cold query,
    and a command that only reads has nothing to write back (the OS closes
    its files). An exception other than an exit still ends the usual way."""
    try:
        run(argv)
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = reader_left()
    os._exit(code if isinstance(code, int) else 0)


def ask_server(argv: list[str]) -> dict | None:
    """The server's answer to this command line, or None when no server
    took it (none running, a stale socket, a server that never replied).
    Raises `ServerFailed` when a server took it and then failed."""
    location = index_dir_from(argv)
    path = socket_path(location)
    try:
        if not path.exists() or (is_cluster(location) and not private(path.parent)):
            return None
    except OSError:  # a name too long for a path: no server holds it, and the command says what is wrong
        return None
    try:
        cwd = os.getcwd()
    except OSError:  # a removed working directory: answered here, as with no server
        return None
    request = {
        "argv": argv,
        "cwd": cwd,
        "env": {k: os.environ[k] for k in PASSED_ENV if k in os.environ},
        "tty": sys.stdout.isatty(),
        "err_tty": sys.stderr.isatty(),
        "columns": columns(),
    }
    if not _utf8(request):  # bytes no UTF-8 decodes (a path, an argument): answered here, as with no server
        return None
    try:
        answer = exchange(path, request)
    except HandedBack:
        raise
    except NotServed:
        return None
    if not _is_answer(answer):
        raise ServerFailed(f"the server at {path} sent a garbled answer")
    return answer


def _utf8(request: dict) -> bool:
    """Whether the request is text a server can read: Python hands over
    undecodable bytes as lone surrogates, which the protocol's UTF-8
    JSON cannot carry."""
    try:
        json.dumps(request, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def columns() -> int:
    """The width the output is drawn for, as rich would pick it here:
    $COLUMNS first (also when piped), else the first of stdin, stdout and
    stderr that is a terminal (`query … | grep` typed at a terminal wraps
    at its width), else 80; never left to the server's worker, whose
    streams are the server's."""
    return columns_set() or terminal_width() or 80


def _is_answer(answer: object) -> bool:
    return (
        isinstance(answer, dict)
        and isinstance(answer.get("stdout"), str)
        and isinstance(answer.get("stderr"), str)
        and type(answer.get("exit_code")) is int
    )


def exchange(path: Path, request: dict, accept_timeout: float = ACCEPT_TIMEOUT) -> dict:
    """One request, one answer (see the module docstring). Raises
    `NotServed` when no server took the request, `ServerFailed` when one
    took it and then sent nothing usable in time."""
    import socket

    payload = json.dumps(request, ensure_ascii=False).encode("utf-8", "surrogateescape")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        lines = _Lines(conn)
        try:
            conn.settimeout(accept_timeout)
            conn.connect(str(path))
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)
            first = lines.next(time.monotonic() + accept_timeout)
        except OSError as exc:  # refused, reset, timed out: nobody took it
            raise NotServed(str(exc)) from None
        if not first:
            raise NotServed("the server closed the connection at once")
        head = _parse(first, path)
        answer = head if head.get("accepted") is not True else _parse(_answer_line(lines, head, path), path)
        if answer.get("busy") is True:  # not run there: run here, within the server's limit
            limit = answer.get("limit")
            raise HandedBack(str(answer.get("stderr", "busy")).strip(),
                             limit if isinstance(limit, (int, float)) and limit > 0 else 30.0)
        return answer


def _answer_line(lines: _Lines, head: dict, path: Path) -> bytes:
    """The answer after an ``accepted`` line, within the server's limit."""
    limit = head.get("limit")
    wait = (limit if isinstance(limit, (int, float)) and limit > 0 else 30.0) + ANSWER_MARGIN
    try:
        line = lines.next(time.monotonic() + wait)
    except TimeoutError:
        raise ServerFailed(f"the server at {path} took the request but did not answer within {wait:g} s") from None
    except OSError as exc:
        raise ServerFailed(f"the server at {path} dropped the connection ({exc.strerror or exc})") from None
    if not line:
        raise ServerFailed(f"the server at {path} closed the connection without an answer")
    return line


def _parse(line: bytes, path: Path) -> dict:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        raise ServerFailed(f"the server at {path} sent a garbled answer") from None
    if not isinstance(value, dict):
        raise ServerFailed(f"the server at {path} sent a garbled answer")
    return value


class _Lines:
    """Newline-ended lines from a socket, each by a deadline."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buffer = b""

    def next(self, deadline: float) -> bytes:
        """The next line without its newline; b"" at the end of the stream
        (a last line without a newline is returned as it is)."""
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("timed out")
            self.conn.settimeout(remaining)
            chunk = self.conn.recv(1 << 16)
            if not chunk:
                line, self.buffer = self.buffer, b""
                return line
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line


def show(answer: dict, argv: list[str]) -> int:
    """Print the server's output here, paging it as the CLI would."""
    sys.stderr.write(answer["stderr"])
    emit(answer["stdout"], paging=argv[0] != "stats" and not {"--no-pager", "--json"} & set(argv))
    return int(answer["exit_code"])
