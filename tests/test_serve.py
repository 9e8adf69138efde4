"""papersearch serve: commands answered by a warm process, same output,
fresh after a reindex, and a CLI that never depends on it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.cells import cell_len

import searchkit
from searchkit.terminal.client import NotServed, exchange
from searchkit.terminal.protocol import socket_path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def papersearch(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "searchkit", *args], capture_output=True, text=True,
                          env={**ENV, **(env or {})}, timeout=timeout, stdin=subprocess.DEVNULL)


def alive(pid: int) -> bool:
    """Whether ``pid`` is one of our servers, still running (not a zombie);
    the command line is checked so that a reused pid is never touched."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z" and b"searchkit" in cmdline and b"serve" in cmdline


class Server:
    """`papersearch serve` on its own index, with its log in a file (a pipe
    nobody reads could fill and stall it), stopped by pid: the master and
    every worker it ever reported, also when a test fails."""

    def __init__(self, index: Path | str, *args: str, env: dict[str, str] | None = None,
                 log_path: Path | None = None) -> None:
        self.index = index  # a directory, or a cluster URL (then give ``log_path``)
        self.log_path = log_path or index.parent / f"serve-{index.name}.log"
        self.workers: set[int] = set()
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "searchkit", "serve", "--index", str(index), *args],
                env={**ENV, **(env or {})}, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )

    def log(self) -> str:
        return self.log_path.read_text()

    def ping(self) -> dict:
        status = exchange(socket_path(self.index), {"ping": True})
        self.workers.update(status.get("workers", []))
        return status

    def wait_ready(self, timeout: float = 60) -> dict:
        """Until every worker has warmed up (opened the index)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"the server exited {self.process.returncode}: {self.log()}"
            assert time.monotonic() < deadline, f"the server did not get ready: {self.log()}"
            if socket_path(self.index).exists():
                with contextlib.suppress(OSError, ValueError, NotServed):
                    status = self.ping()
                    if "ready" not in status or status["ready"] == len(status["workers"]) > 0:
                        return status
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for pid in self.workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def workers_option() -> tuple[str, ...]:
    """The default pool is one worker a core; tests of concurrency need two
    (on this 2-core machine the default, so the old server runs them too)."""
    return () if (os.cpu_count() or 1) >= 2 else ("--workers", "2")


@pytest.fixture()
def start_server(default_index_dir: Path, tmp_path: Path):
    yield from server_starter(default_index_dir, tmp_path)


def server_starter(default_index_dir: Path, tmp_path: Path):
    """For a fixture: start servers on copies of the default index (or a
    given directory); each is stopped, workers included, when the test ends."""
    servers: list[Server] = []

    def start(*args: str, index: Path | None = None, env: dict[str, str] | None = None) -> Server:
        if index is None:
            index = tmp_path / f"index-{len(servers)}"
            shutil.copytree(default_index_dir, index)
        servers.append(Server(index, *args, env=env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture()
def served(start_server):
    server = start_server(*workers_option())
    server.wait_ready()
    return server.index, server.process


def served_count(index: Path) -> int:
    return exchange(socket_path(index), {"ping": True})["served"]


@pytest.mark.slow
def test_server_answers_with_the_same_output(served) -> None:
    index, _ = served
    before = served_count(index)
    via_server = papersearch("query", "확산 모델", "--index", str(index), "--json")
    assert served_count(index) == before + 1, "the query did not go through the server"
    with searchkit.open_index(index) as opened:
        expected = [h.arxiv_id for h in opened.search("확산 모델")]
    assert via_server.returncode == 0
    assert [h["arxiv_id"] for h in json.loads(via_server.stdout)["hits"]] == expected
    missing = papersearch("show", "2999.99999", "--index", str(index))
    assert missing.returncode == 1 and "2999.99999" in missing.stderr


@pytest.mark.slow
def test_server_sees_a_reindex_at_once(served, tmp_path: Path) -> None:
    index, _ = served
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    post = sorted(corpus.glob("*.md"))[0]
    post.write_text(post.read_text(encoding="utf-8").replace("EPIC", "ZYXWVUT"), encoding="utf-8")
    searchkit.reindex(corpus, index)
    result = papersearch("query", "zyxwvut", "--index", str(index), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hits"][0]["arxiv_id"] == "2510.00515"


@pytest.mark.slow
def test_one_server_per_index_and_a_killed_one_is_not_needed(start_server) -> None:
    server = start_server(*workers_option())
    workers = server.wait_ready()["workers"]
    second = papersearch("serve", "--index", str(server.index))
    assert second.returncode == 2 and "already answers" in second.stderr
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    assert socket_path(server.index).exists(), "a killed server leaves its socket behind"
    fallback = papersearch("query", "확산 모델", "--index", str(server.index))
    assert fallback.returncode == 0 and "matching papers" in fallback.stdout
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers), "workers outlived their killed master"


def test_sigterm_removes_the_socket_and_the_lock(start_server) -> None:
    server = start_server()
    deadline = time.monotonic() + 30
    while not socket_path(server.index).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert socket_path(server.index).exists(), "the server did not start"
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(10) == 0
    assert not socket_path(server.index).exists()
    assert not (server.index / "serve.lock").exists()


def test_a_sigterm_as_the_socket_appears_stops_the_server_cleanly(default_index_dir: Path, tmp_path: Path) -> None:
    """The socket exists before the master routes SIGTERM to its loop; a
    SIGTERM then (a test or a supervisor that waits for the socket) killed
    the server outright, socket and lock left behind (CI). Sent at that
    moment, it now stops the server as it does later: exit 0, both removed."""
    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    script = ("import os, signal, sys\nfrom searchkit.terminal import serve\n"
              "running = serve.Master.running\n"
              "def early(self):\n    os.kill(os.getpid(), signal.SIGTERM)\n    return running(self)\n"
              "serve.Master.running = early\nfrom searchkit.terminal.cli import main\n"
              f"main(['serve', '--index', {str(index)!r}])\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=ENV,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert not socket_path(index).exists() and not (index / "serve.lock").exists()


@pytest.mark.slow
def test_the_served_path_honours_columns(start_server) -> None:
    """COLUMNS=40 narrows piped output here; the server drew it at 80."""
    index = start_server(*workers_option())
    index.wait_ready()
    args = ("query", "시각 토큰 압축", "--limit", "2", "--no-expand", "--index", str(index.index))
    before = served_count(index.index)
    served = papersearch(*args, env={"COLUMNS": "40"})
    assert served_count(index.index) == before + 1, "the query did not go through the server"
    index.stop()
    cold = papersearch(*args, env={"COLUMNS": "40"})
    assert cold.returncode == served.returncode == 0
    assert max(cell_len(line) for line in cold.stdout.splitlines()) <= 40
    assert served.stdout == cold.stdout


def on_a_terminal(*args: str, env: dict[str, str], columns: int = 120) -> subprocess.CompletedProcess:
    """A command typed at a terminal of ``columns`` with its output piped
    (`query … | grep`): stdin and stderr are the terminal, stdout a pipe."""
    import fcntl
    import pty
    import struct
    import termios

    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    try:
        return subprocess.run([sys.executable, "-m", "searchkit", *args], stdin=side, stderr=side,
                              stdout=subprocess.PIPE, text=True, env={**ENV, **env}, timeout=60)
    finally:
        os.close(side)
        os.close(main)


@pytest.mark.slow
def test_piped_output_is_drawn_as_here_for_the_terminal_and_colour_variables(start_server) -> None:
    """The width of a terminal on stdin or stderr and FORCE_COLOR or
    TTY_COMPATIBLE decide how a piped command draws its output here; the
    server drew it at its own width (its worker's streams are the
    server's) and without colour (probe)."""
    server = start_server(*workers_option())
    server.wait_ready()
    bare = {k: v for k, v in ENV.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE")}
    cases = [("query", "확산 모델", "--limit", "2"), ("show", "2510.00515")]
    settings = [{}, {"FORCE_COLOR": "1"}, {"TTY_COMPATIBLE": "1"}]
    before = served_count(server.index)
    served = [on_a_terminal(*case, "--index", str(server.index), env={**bare, **extra})
              for case in cases for extra in settings]
    assert served_count(server.index) == before + len(served), "a command did not go through the server"
    server.stop()
    here = [on_a_terminal(*case, "--index", str(server.index), env={**bare, **extra})
            for case in cases for extra in settings]
    assert [(r.returncode, r.stdout) for r in served] == [(r.returncode, r.stdout) for r in here]
    assert max(cell_len(line) for line in here[0].stdout.splitlines()) > 80  # drawn for 120 columns
    assert "\x1b[" in here[1].stdout and "\x1b[" in here[2].stdout and "\x1b[" not in here[0].stdout


def at_terminals(*args: str, stdout_tty: bool, stderr_tty: bool, env: dict[str, str],
                 columns: int = 70) -> tuple[int, bytes, bytes]:
    """A command with stdout and stderr each on a terminal of ``columns``
    or a pipe; its exit status and what each stream received."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    def stream(tty: bool) -> tuple[int, int]:
        if not tty:
            return os.pipe()
        ours, theirs = pty.openpty()
        fcntl.ioctl(theirs, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        return ours, theirs

    (out, out_side), (err, err_side) = stream(stdout_tty), stream(stderr_tty)
    child = subprocess.Popen([sys.executable, "-m", "searchkit", *args], stdin=subprocess.DEVNULL,
                             stdout=out_side, stderr=err_side, env={**ENV, **env})
    os.close(out_side)
    os.close(err_side)
    received, reading = {out: b"", err: b""}, {out, err}
    while reading:
        for fd in select.select(list(reading), [], [], 60)[0]:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:  # a terminal whose other side has closed
                chunk = b""
            received[fd] += chunk
            if not chunk:
                reading.discard(fd)
                os.close(fd)
    return child.wait(timeout=60), received[out], received[err]


@pytest.mark.slow
def test_each_stream_is_drawn_as_here_for_its_own_terminal(start_server) -> None:
    """A served command took the client's stdout for both streams: an
    error line was wrapped when stdout was a terminal, not stderr, and a
    terminal under NO_COLOR was drawn as a pipe (a long line left
    unwrapped) (probe: 12 of 144 stream, variable and command cases)."""
    server = start_server(*workers_option())
    server.wait_ready()
    bare = {k: v for k, v in ENV.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE")}
    cases = [(("query", "확산 모델", "--limit", "1"), {"NO_COLOR": "1"}),
             (("show", "9999.99999"), {"COLUMNS": "40"}), (("query", "확산", "--since", "2025-13-01"), {})]
    streams = [(True, False), (False, True)]

    def run_all() -> list[tuple[int, bytes, bytes]]:
        return [at_terminals(*args, "--index", str(server.index), stdout_tty=out, stderr_tty=err,
                             env={**bare, **extra}, columns=50)
                for args, extra in cases for out, err in streams]

    before = served_count(server.index)
    served = run_all()
    assert served_count(server.index) == before + len(served), "a command did not go through the server"
    server.stop()
    here = run_all()
    assert served == here
    assert b"\r\n" in here[3][2] and b"\n" not in here[2][2][:-1], "an error wraps on a terminal, not on a pipe"


@pytest.mark.slow
def test_a_command_started_without_stdout_or_stderr_answers_as_here(start_server) -> None:
    """``papersearch query … 2>&-`` printed nothing and exited 1 with a
    server (Python leaves sys.stderr None; the client asked it isatty),
    and ``>&-`` was a traceback with no server. The missing stream is
    /dev/null: what the other stream gets, and the exit status, are as
    with both open."""
    server = start_server(*workers_option())
    server.wait_ready()
    args = [sys.executable, "-m", "searchkit", "query", "확산 모델", "--limit", "1", "--index", str(server.index)]

    def without(fd: int) -> subprocess.CompletedProcess:
        return subprocess.run(args, capture_output=True, text=True, env=ENV, timeout=60, stdin=subprocess.DEVNULL,
                              preexec_fn=lambda: os.close(fd))

    before = served_count(server.index)
    served = [without(1), without(2), without(0)]
    assert served_count(server.index) == before + 3, "a command did not go through the server"
    server.stop()
    here = [without(1), without(2), without(0)]
    whole = papersearch("query", "확산 모델", "--limit", "1", "--index", str(server.index))
    for run in served + here:
        assert run.returncode == 0 and run.stderr == "", run.stderr
    assert [run.stdout for run in served] == [run.stdout for run in here] == ["", whole.stdout, whole.stdout]


@pytest.mark.parametrize(("env", "coloured"), [({}, True), ({"TTY_COMPATIBLE": "auto"}, True),
                                               ({"TTY_COMPATIBLE": ""}, True), ({"TTY_COMPATIBLE": "0"}, False),
                                               ({"FORCE_COLOR": ""}, False), ({"NO_COLOR": "1"}, False)])
def test_a_worker_stands_in_for_the_clients_terminal_as_rich_would(default_index_dir: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     env: dict[str, str], coloured: bool) -> None:
    """For a client whose stdout is a terminal the worker draws for one,
    unless a variable rich asks first decides: FORCE_COLOR set at all, or
    TTY_COMPATIBLE as 0 or 1; any other TTY_COMPATIBLE (auto, empty) leaves
    rich to ask isatty, which here says yes (review: it dropped colour)."""
    from searchkit.terminal import serve
    from searchkit.terminal.cli import cli

    monkeypatch.setattr(serve, "_command", cli)
    answer = serve._run({"argv": ["query", "확산 모델", "--limit", "1", "--index", str(default_index_dir)],
                         "cwd": os.getcwd(), "env": env, "tty": True, "columns": 100})
    assert answer["exit_code"] == 0, answer
    assert ("\x1b[" in answer["stdout"]) is coloured


def test_what_a_server_cannot_be_sent_is_answered_here(served, tmp_path: Path) -> None:
    """Undecodable bytes in an argument or the working directory, and a
    removed working directory, cannot travel in the protocol's UTF-8 JSON:
    the command runs in its own process, as with no server, rather than
    failing only because a server is running (a query that is not UTF-8
    is then refused there, naming the byte, as with no server)."""
    index, _ = served
    before = served_count(index)
    word = "확산 " + b"\xff".decode("utf-8", "surrogateescape")
    odd = subprocess.run([sys.executable, "-m", "searchkit", "query", word, "--index", str(index), "--json"],
                         capture_output=True, env=ENV, timeout=60, stdin=subprocess.DEVNULL)
    assert odd.returncode == 2, odd.stderr.decode(errors="replace")
    assert odd.stderr == b"Error: query is not valid UTF-8 text (byte 0xff): check the terminal's encoding\n"
    gone = tmp_path / "gone"
    gone.mkdir()
    script = (f"import os, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); "
              f"sys.argv = ['papersearch', 'query', '확산', '--index', {str(index)!r}, '--json']; "
              "from searchkit.terminal.client import main; main()")
    removed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=ENV,
                             timeout=60, stdin=subprocess.DEVNULL)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["hits"]
    assert served_count(index) == before, "neither went through the server"


def test_an_index_directory_the_server_cannot_write_is_one_line(tmp_path: Path) -> None:
    """The server keeps its lock (and socket) in the index directory: one
    it cannot write (read-only, not a directory) is named, no traceback."""
    from searchkit.errors import InputError
    from searchkit.terminal.serve import _single_server

    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"cannot serve IDX: cannot write .*a-file/serve.lock"), \
            _single_server(blocked, "IDX"):
        pass
