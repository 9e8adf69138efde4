"""The client side of serving, and the pager every command's output goes
through: a server that took a request and then failed is an error, never
a second run; a pager that cannot show the text does not lose it."""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from searchkit.terminal.protocol import socket_path
from tests.test_serve import ENV, papersearch


class FakeServer(threading.Thread):
    """A socket that reads one request, then sends ``reply`` and hangs up
    (or, with ``hold``, keeps the connection open without a word)."""

    def __init__(self, index: Path, reply: bytes, hold: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(str(socket_path(index)))
        self.listener.listen(1)
        self.reply, self.hold, self.requests = reply, hold, 0
        self.start()

    def run(self) -> None:
        with self.listener:
            conn, _ = self.listener.accept()
            with conn:
                while conn.recv(1 << 16):
                    pass
                self.requests += 1
                conn.sendall(self.reply)
                time.sleep(self.hold)


ACCEPTED = b'{"accepted": true, "limit": 0.5}\n'


@pytest.mark.parametrize("reply, hold, message", [
    (ACCEPTED, 0.0, "closed the connection without an answer"),
    (ACCEPTED + b'{"stdout": "half', 0.0, "sent a garbled answer"),
    (ACCEPTED + b'{"pid": 1}\n', 0.0, "sent a garbled answer"),
    (ACCEPTED, 5.0, "took the request but did not answer within 3.5 s"),
])
def test_an_accepted_request_is_never_run_again_here(default_index_dir: Path, tmp_path: Path,
                                                     reply: bytes, hold: float, message: str) -> None:
    """The old client ran the command again itself after any of these, so
    a server that had done the work (or hung on it) cost it twice."""
    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    server = FakeServer(index, reply, hold)
    started = time.monotonic()
    result = papersearch("query", "확산 모델", "--index", str(index), timeout=30)
    assert server.requests == 1
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"Error: the server at {socket_path(index)} {message}\n"
    assert time.monotonic() - started < 5


def test_a_server_that_never_took_the_request_is_not_needed(default_index_dir: Path, tmp_path: Path) -> None:
    """Hung up on at once (no first line), or a socket nobody listens on:
    the command runs here."""
    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    server = FakeServer(index, b"")
    result = papersearch("query", "확산 모델", "--index", str(index))
    assert server.requests == 1
    assert result.returncode == 0 and "matching papers" in result.stdout
    server.join(5)
    assert socket_path(index).exists()
    result = papersearch("query", "확산 모델", "--index", str(index))
    assert result.returncode == 0 and "matching papers" in result.stdout


# The pager, in a real pseudo-terminal of 24 rows


SGR = re.compile(r"\x1b\[[0-9;]*m")


def in_terminal(args: list[str], env: dict[str, str], rows: int = 24, columns: int = 80) -> tuple[int, str, str]:
    """Run a command with stdin and stdout on a pty of that size; its exit
    code, what the terminal showed (escape codes dropped) and its stderr."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    environment = {k: v for k, v in ENV.items() if k not in ("NO_COLOR", "PAGER", "MANPAGER", "COLUMNS", "LINES")}
    process = subprocess.Popen(args, stdin=follower, stdout=follower, stderr=subprocess.PIPE,
                               env={**environment, "TERM": "xterm-256color", **env})
    os.close(follower)
    shown, deadline = b"", time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if select.select([leader], [], [], 0.5)[0]:
                try:
                    chunk = os.read(leader, 1 << 16)
                except OSError:  # EIO: every copy of the terminal is closed
                    break
                if not chunk:
                    break
                shown += chunk
            elif process.poll() is not None:
                break
        code = process.wait(30)
        stderr = process.stderr.read().decode()
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
    return code, SGR.sub("", shown.decode(errors="replace")).replace("\r\n", "\n"), stderr


def query_in_terminal(default_index_dir: Path, pager: str) -> tuple[int, str, str]:
    args = [sys.executable, "-m", "searchkit", "query", "모델", "--limit", "10", "--index", str(default_index_dir)]
    return in_terminal(args, {"PAGER": pager})


@pytest.mark.parametrize("pager", ["false", "/nonexistent/pager"])
def test_a_failing_pager_falls_back_to_plain_output(default_index_dir: Path, pager: str) -> None:
    """The old code lost the whole output and exited 0."""
    code, shown, stderr = query_in_terminal(default_index_dir, pager)
    assert code == 0
    assert shown.count("\n") > 24 and "matching papers" in shown
    assert stderr.startswith(f"papersearch: the pager ({pager}) failed (exit status ")
    assert stderr.endswith("; printing instead\n") and stderr.count("\n") == 1


def test_a_pager_that_exits_0_is_not_followed_by_a_second_copy(default_index_dir: Path) -> None:
    """`less` quit with q exits 0 having shown a page: that is the user's
    choice, and the text is not printed again (`true` stands in for it)."""
    code, shown, stderr = query_in_terminal(default_index_dir, "true")
    assert code == 0 and "matching papers" not in shown and stderr == ""


def test_a_working_pager_gets_the_text(default_index_dir: Path, tmp_path: Path) -> None:
    seen = tmp_path / "paged.txt"
    code, shown, _ = query_in_terminal(default_index_dir, f"cat > {seen}")
    assert code == 0 and "matching papers" not in shown
    assert "matching papers" in SGR.sub("", seen.read_text())
