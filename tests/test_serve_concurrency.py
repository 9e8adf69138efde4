"""papersearch serve under load: concurrent answers, a time limit, idle,
vanished and stuck clients or workers, and a prompt stop.

A request that hangs is made honestly, with no hook in the server: its
``--index`` is a directory whose pointer file ``CURRENT`` is a FIFO nobody
writes, so opening the index blocks in open(2), as on a dead network mount,
in the old server as in the new one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from searchkit.terminal.client import NotServed, exchange
from searchkit.terminal.protocol import socket_path
from tests.test_serve import alive, papersearch, served_count, server_starter, workers_option

pytestmark = pytest.mark.slow


@pytest.fixture()
def start_server(default_index_dir: Path, tmp_path: Path):
    yield from server_starter(default_index_dir, tmp_path)


def hung_index(tmp_path: Path) -> Path:
    """An index directory that hangs every command opening it."""
    directory = tmp_path / "hung"
    directory.mkdir()
    os.mkfifo(directory / "CURRENT")
    return directory


def request(*argv: str) -> dict:
    return {"argv": list(argv), "cwd": os.getcwd(), "env": {}, "tty": False, "columns": None}


class Pending(threading.Thread):
    """A raw request in the background; ``answer`` is its answer or error."""

    def __init__(self, index: Path, payload: dict) -> None:
        super().__init__(daemon=True)
        self.index, self.payload, self.answer = index, payload, None
        self.start()

    def run(self) -> None:
        try:
            self.answer = exchange(socket_path(self.index), self.payload)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            self.answer = exc


def wait_for(condition, timeout: float = 10, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_a_quick_query_is_answered_while_another_hangs(start_server, tmp_path: Path) -> None:
    server = start_server(*workers_option())
    server.wait_ready()
    hung = Pending(server.index, request("query", "확산", "--index", str(hung_index(tmp_path))))
    time.sleep(0.5)  # the hung request has a worker now (the old server: the only one)
    started = time.monotonic()
    quick = papersearch("query", "확산 모델", "--index", str(server.index), "--json", timeout=15)
    took = time.monotonic() - started
    assert quick.returncode == 0 and json.loads(quick.stdout)["hits"], quick.stderr
    assert took < 3, f"a quick query waited {took:.1f} s behind a hung one"
    assert hung.is_alive(), "the hung request was not in progress"


def test_an_idle_client_holds_no_worker_and_is_dropped(start_server) -> None:
    server = start_server(*workers_option())
    server.wait_ready()
    idle = []
    for _ in range(4):  # more than the workers
        conn = socket.socket(socket.AF_UNIX)
        conn.connect(str(socket_path(server.index)))
        idle.append(conn)
    trickler = socket.socket(socket.AF_UNIX)
    trickler.connect(str(socket_path(server.index)))
    trickler.sendall(b'{"argv": ')
    idle.append(trickler)
    try:
        started = time.monotonic()
        answer = exchange(socket_path(server.index), request("query", "확산 모델", "--index", str(server.index)))
        assert answer["exit_code"] == 0 and time.monotonic() - started < 1.5
        for conn in idle:  # each is hung up on, unanswered, after about 2 s
            conn.settimeout(4)
            assert conn.recv(100) == b""
        assert time.monotonic() - started < 3.5
    finally:
        for conn in idle:
            conn.close()


def test_a_request_nested_too_deep_is_answered_and_the_server_lives(start_server) -> None:
    """``[[[…]]]`` 100,000 deep made json.loads raise RecursionError, which
    the master did not catch: it died with a traceback and its socket went
    (probe). It is a request that is not a JSON object, and the next
    client is answered."""
    server = start_server(*workers_option())
    server.wait_ready()
    conn = socket.socket(socket.AF_UNIX)
    conn.connect(str(socket_path(server.index)))
    try:
        conn.sendall(b"[" * 100_000 + b"]" * 100_000)
        conn.shutdown(socket.SHUT_WR)  # a request ends where the client stops writing
        conn.settimeout(10)
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            reply += chunk
    finally:
        conn.close()
    assert "not a JSON object" in json.loads(reply.splitlines()[0])["stderr"]
    answer = exchange(socket_path(server.index), request("query", "확산 모델", "--index", str(server.index)))
    assert answer["exit_code"] == 0 and server.process.poll() is None


def test_the_time_limit_is_one_line_and_exit_2(start_server, tmp_path: Path) -> None:
    """The default limit, 10 s: the old server had none and held the client
    for its whole 30 s timeout, after which it ran the query itself, here
    hanging for ever."""
    server = start_server(*workers_option(), index=hung_index(tmp_path))
    wait_for(socket_path(server.index).exists, what="the server's socket")
    started = time.monotonic()
    result = papersearch("query", "확산 모델", "--index", str(server.index), timeout=25)
    took = time.monotonic() - started
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "Error: the server gave up on this request after its 10 s limit (papersearch serve --timeout)\n"
    )
    assert 9.5 < took < 13


def test_a_stuck_worker_is_killed_replaced_and_its_client_answered(start_server) -> None:
    """A worker that cannot run its signal handler (stopped here; stuck in
    C code in life) is killed at the limit plus grace, and replaced."""
    server = start_server("--workers", "1", "--timeout", "1")
    (stuck,) = server.wait_ready()["workers"]
    os.kill(stuck, signal.SIGSTOP)
    started = time.monotonic()
    answer = exchange(socket_path(server.index), request("stats", "--index", str(server.index)))
    assert answer["exit_code"] == 2 and "after its 1 s limit" in answer["stderr"]
    assert 0.9 < time.monotonic() - started < 3
    wait_for(lambda: not alive(stuck), what="the stuck worker to be killed")
    (fresh,) = server.wait_ready()["workers"]
    assert fresh != stuck
    answer = exchange(socket_path(server.index), request("stats", "--index", str(server.index), "--json"))
    assert answer["exit_code"] == 0 and json.loads(answer["stdout"])["papers"] > 0


def test_a_vanished_client_has_its_work_cancelled(start_server, tmp_path: Path) -> None:
    server = start_server(*workers_option())
    server.wait_ready()
    conn = socket.socket(socket.AF_UNIX)
    conn.settimeout(10)
    conn.connect(str(socket_path(server.index)))
    conn.sendall(json.dumps(request("query", "확산", "--index", str(hung_index(tmp_path)))).encode())
    conn.shutdown(socket.SHUT_WR)
    assert json.loads(conn.recv(1000))["accepted"] is True
    wait_for(lambda: server.ping()["busy"] == 1, what="a worker to take the request")
    conn.close()
    started = time.monotonic()
    wait_for(lambda: server.ping()["busy"] == 0, timeout=5, what="the work to be cancelled")
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_a_signal_stops_the_server_mid_request_at_once(start_server, tmp_path: Path, signum: int, code: int) -> None:
    server = start_server(*workers_option())
    workers = server.wait_ready()["workers"]
    hung = Pending(server.index, request("query", "확산", "--index", str(hung_index(tmp_path))))
    wait_for(lambda: server.ping()["busy"] == 1, what="a worker to take the request")
    started = time.monotonic()
    server.process.send_signal(signum)
    assert server.process.wait(5) == code
    assert time.monotonic() - started < 1.0
    assert not [pid for pid in workers if alive(pid)], "workers outlived the server"
    assert not socket_path(server.index).exists() and not (server.index / "serve.lock").exists()
    hung.join(5)
    assert hung.answer["stderr"] == "Error: the server stopped before answering\n"


def test_requests_past_the_queue_are_run_by_their_clients(start_server, tmp_path: Path) -> None:
    """One worker hung, the line full (its bound for one worker): the next
    request is refused at once instead of joining an endless line, marked
    "busy" (nothing of it ran), and the command line runs it itself: a
    burst of 40 served requests gave 22 "busy" errors (probe)."""
    from searchkit.terminal.serve import QUEUE_PER_WORKER

    server = start_server("--workers", "1")
    server.wait_ready()
    hung = request("query", "확산", "--index", str(hung_index(tmp_path)))
    waiting = [Pending(server.index, hung) for _ in range(QUEUE_PER_WORKER + 1)]
    wait_for(lambda: server.ping()["queued"] == QUEUE_PER_WORKER, what="the line to fill")
    started = time.monotonic()
    with pytest.raises(NotServed, match="busy"):
        exchange(socket_path(server.index), request("stats", "--index", str(server.index)))
    assert time.monotonic() - started < 1
    served = served_count(server.index)
    here = papersearch("query", "확산 모델", "--index", str(server.index), "--json", timeout=30)
    assert here.returncode == 0 and json.loads(here.stdout)["hits"], here.stderr
    assert served_count(server.index) == served
    for pending in waiting:
        pending.join(15)
    assert sum(isinstance(p.answer, NotServed) for p in waiting) >= QUEUE_PER_WORKER - 1  # one may run


def test_a_burst_waits_in_a_moving_line_rather_than_run_cold(start_server) -> None:
    """50 clients at once on two workers: the line was bounded at 8 a
    worker, and the rest, handed back, ran cold on the same two cores (a
    cold run costs ~4 times a served one), so the burst took 3 times as
    long and one command in six failed its time limit (probe). While the
    workers finish requests, the line moves and a request waits in it."""
    server = start_server("--workers", "1")
    server.wait_ready()
    burst = [Pending(server.index, request("query", "확산 모델", "--index", str(server.index), "--json"))
             for _ in range(30)]
    for pending in burst:
        pending.join(60)
    answers = [pending.answer for pending in burst]
    assert all(isinstance(answer, dict) and answer["exit_code"] == 0 for answer in answers), answers


def test_a_short_limit_never_fails_a_request_that_waited(start_server) -> None:
    """At --timeout 0.5 a queued request was first looked at after
    `QUEUE_LIMIT` (2 s), then given to a worker with no time left: 13 of a
    burst of 30 failed with the limit's error without being run (review).
    A request waits at most the limit, then runs with its own, or goes
    back to its client."""
    server = start_server("--workers", "1", "--timeout", "0.5")
    server.wait_ready()
    slower = ("query", "확산 모델 학습", "--limit", "50", "--explain", "--index", str(server.index))
    burst = [Pending(server.index, request(*slower)) for _ in range(30)]
    for pending in burst:
        pending.join(60)
    answers = [pending.answer for pending in burst]
    assert all(isinstance(a, NotServed) or (isinstance(a, dict) and a["exit_code"] == 0) for a in answers), answers
    assert any(isinstance(a, dict) for a in answers)


def test_a_stalled_line_hands_back_and_a_moving_one_waits(tmp_path: Path) -> None:
    """The master's rule, at its edges: a request that has waited
    `QUEUE_LIMIT` is handed back only if no worker finished a request in
    that time (they are held by slow ones), and once it has waited the
    time limit whatever the line does."""
    from searchkit.terminal.serve import QUEUE_LIMIT, Job, Master, Settings, Worker

    lock = open(tmp_path / "lock", "w")  # noqa: SIM115 - the master holds it, as serve's does
    master = Master(Settings(tmp_path, 1, 10.0, 100), socket.socket(socket.AF_UNIX), lock)
    channel, _ = socket.socketpair()
    master.workers[channel.fileno()] = Worker(os.getpid(), channel, state="busy", warm=True)
    now = time.monotonic()

    def queued(waited: float) -> socket.socket:
        ours, theirs = socket.socketpair()
        job = Job(ours, now - 0.01, state="queued", queued_at=now - waited)
        master.jobs[job.fd] = job
        master.queue.append(job)
        theirs.setblocking(False)
        return theirs

    moving, overdue = queued(QUEUE_LIMIT + 1), queued(10.5)
    master.finished_at = now - QUEUE_LIMIT / 2
    master._expire(now)
    assert json.loads(overdue.recv(4096))["busy"] is True
    with pytest.raises(BlockingIOError):
        moving.recv(4096)
    assert list(master.queue) and master.queue[0].deadline == pytest.approx(master.finished_at + QUEUE_LIMIT)
    master._expire(master.queue[0].deadline)  # and no worker finished anything since: the line stalled
    assert json.loads(moving.recv(4096))["busy"] is True and not master.queue


def test_a_quick_request_is_not_failed_by_the_slow_ones_ahead(start_server, tmp_path: Path) -> None:
    """Waiting in the queue counted against a request's time limit: two
    slow requests on two workers made ~50 ms queries behind them fail
    after 10 s (probe). A request waits at most `QUEUE_LIMIT` for a worker,
    then its client runs it; the limit runs from when a worker takes it."""
    from searchkit.terminal.serve import QUEUE_LIMIT

    server = start_server("--workers", "1", "--timeout", "30")
    server.wait_ready()
    hung = Pending(server.index, request("query", "확산", "--index", str(hung_index(tmp_path))))
    wait_for(lambda: server.ping()["busy"] == 1, what="a worker to take the hung request")
    started = time.monotonic()
    quick = papersearch("query", "확산 모델", "--index", str(server.index), "--json", timeout=30)
    took = time.monotonic() - started
    assert quick.returncode == 0 and json.loads(quick.stdout)["hits"], quick.stderr
    assert QUEUE_LIMIT <= took < QUEUE_LIMIT + 8, took
    assert hung.is_alive(), "the hung request keeps its worker and its own limit"


def test_a_worker_is_replaced_after_its_quota_and_answers_stay_right(start_server) -> None:
    server = start_server("--workers", "1", "--max-requests", "2")
    server.wait_ready()
    expected = exchange(socket_path(server.index), request("query", "확산 모델", "--index", str(server.index)))
    assert expected["exit_code"] == 0
    for _ in range(4):
        server.wait_ready()
        answer = exchange(socket_path(server.index), request("query", "확산 모델", "--index", str(server.index)))
        assert answer == expected
    server.wait_ready()
    assert len(server.workers) >= 3, f"workers seen: {server.workers}"


COMMANDS = [
    (("query", "확산 모델", "--json"), {}),
    (("query", "확산 모델"), {"COLUMNS": "40"}),
    (("query", "시각 토큰 압축", "--limit", "3", "--no-expand"), {"COLUMNS": "120"}),
    (("query", "핰습 모델", "--limit", "2"), {}),
    (("query", "zzqx"), {}),
    (("show", "2510.00515"), {"COLUMNS": "60"}),
    (("show", "2999.99999"), {}),
    (("similar", "2510.00515", "--limit", "3", "--json"), {}),
    (("stats", "--json"), {}),
]
"""Query, show, similar and stats; hits and none (exit 1); text at several
widths and JSON; a misspelt word read by the stand-in that gets a suggestion."""


def test_eight_clients_at_once_get_the_cold_answers(start_server, default_index_dir: Path, tmp_path: Path) -> None:
    index = str(tmp_path / "index")
    shutil.copytree(default_index_dir, index)

    def run(command: tuple[tuple[str, ...], dict]) -> tuple[int, str, str]:
        args, env = command
        result = papersearch(*args, "--index", index, env=env, timeout=60)
        return result.returncode, result.stdout, result.stderr

    commands = COMMANDS * 2
    with ThreadPoolExecutor(4) as pool:  # no server yet: each runs by itself
        cold = list(pool.map(run, COMMANDS))
    assert {code for code, _, _ in cold} == {0, 1}
    server = start_server(*workers_option(), index=Path(index))
    server.wait_ready()
    before = served_count(server.index)
    with ThreadPoolExecutor(8) as pool:
        warm = list(pool.map(run, commands))
    assert served_count(server.index) == before + len(commands), "some commands did not go through the server"
    for (args, env), expected, got in zip(commands, cold * 2, warm):
        assert got == expected, f"{args} {env} differs when served"


def test_clients_that_do_not_read_their_answers_hold_up_no_one(start_server) -> None:
    """A worker wrote each answer itself and waited up to `WRITE_LIMIT` for a
    client that did not read it: two such clients held both workers, and
    every other client queued behind them for 5 s (10 s and a time-limit
    error past two). The worker now hands what the client's socket does not
    take to the master, which writes it as the client reads: the others are
    answered while the slow ones still hold their connections, and a slow
    reader still gets its whole answer."""
    server = start_server(*workers_option())
    server.wait_ready()
    # over 200 KB: more than a Unix socket buffers for a client that does not read
    argv = ("query", "모델 데이터 학습 성능 방법", "--limit", "1000", "--json", "--explain", "--index", str(server.index))
    direct = papersearch(*argv)
    buffered = int(Path("/proc/sys/net/core/wmem_default").read_text()) if Path("/proc/sys/net").exists() else 0
    if not buffered or len(direct.stdout.encode()) < buffered:
        pytest.skip("the answer would fit in this system's socket buffer: no worker would wait")
    big = request(*argv)
    slow = []
    for _ in range(4):  # twice the workers
        conn = socket.socket(socket.AF_UNIX)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.connect(str(socket_path(server.index)))
        conn.sendall(json.dumps(big).encode())
        conn.shutdown(socket.SHUT_WR)
        slow.append(conn)
    try:
        time.sleep(0.5)  # the slow requests are answered (as far as their clients take) by now
        quick = exchange(socket_path(server.index), request("query", "확산 모델", "--index", str(server.index)))
        assert quick["exit_code"] == 0 and "확산" in quick["stdout"]
        whole = b""
        conn = slow[0]
        conn.settimeout(10)
        while chunk := conn.recv(1 << 16):
            whole += chunk
        head, answer = (json.loads(line) for line in whole.splitlines())  # cut short: not JSON
        assert head["accepted"] and answer["exit_code"] == 0
        assert answer["stdout"] == direct.stdout
    finally:
        for conn in slow:
            conn.close()


def test_an_answers_rest_is_passed_whole_or_written_by_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rest of an answer goes to the master in a memory file with its
    byte; when no file can be made (a full /tmp, a file-size limit) the
    worker says so and writes the rest itself rather than dying mid-answer."""
    from searchkit.terminal import serve

    rest = "결과 ".encode() * 100_000
    worker, master = socket.socketpair()
    with worker, master:
        assert serve._hand_over(worker, rest)
        data, fds = serve._receive_news(master)
        assert data == serve.SPOOLED and len(fds) == 1
        with os.fdopen(fds[0], "rb") as spool:
            assert spool.read() == rest

        def no_file(*_: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(serve.os, "memfd_create", no_file)
        monkeypatch.setattr(serve.tempfile, "TemporaryFile", no_file)
        assert not serve._hand_over(worker, rest)
        master.setblocking(False)
        with pytest.raises(BlockingIOError):
            master.recv(1)  # nothing was sent: the worker keeps the answer


def test_a_hung_index_never_hands_a_client_its_command(start_server, tmp_path: Path) -> None:
    """A worker whose warm-up timed out counted as ready: the request
    queued behind a hung one was handed back as "busy" and its client hung
    for ever opening the index itself (review). Until a worker has opened
    the index, queued requests wait out the limit."""
    server = start_server("--workers", "1", "--timeout", "3", index=hung_index(tmp_path))
    wait_for(socket_path(server.index).exists, what="the server's socket")
    time.sleep(3.5)  # the worker's warm-up has timed out: it takes requests, cold
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: papersearch("query", "확산", "--index", str(server.index), timeout=20), range(2)))
    for run in runs:
        assert run.returncode == 2 and "3 s limit" in run.stderr, run.stderr


@pytest.mark.parametrize("json_output", [True, False])
def test_a_handed_back_commands_limit_ends_when_its_answer_is_written(default_index_dir: Path,
                                                                     json_output: bool) -> None:
    """The limit covers finding the answer: a reader slower than it (a pipe
    read late, a pager read at length) cut the output off with the limit's
    error, which no server would have given (probe)."""
    args = ["query", "모델 학습 데이터 성능", "--limit", "100", "--index", str(default_index_dir),
            "--json" if json_output else "--explain"]
    script = ("import sys\nfrom searchkit.terminal.client import _within\nfrom searchkit.terminal.cli import main\n"
              f"_within(3.0)\nmain({args!r})\n")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    time.sleep(6.5)  # the answer fills the pipe and waits for this reader, past the limit
    out, err = child.communicate(timeout=60)
    expected = subprocess.run([sys.executable, "-m", "searchkit", *args], capture_output=True, env=env, timeout=60)
    assert len(out) > 65536, "the answer must be larger than a pipe holds"
    assert (child.returncode, out, err) == (0, expected.stdout, b"")


def _handed_back(script: str, limit: float, timeout: float = 30) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``script`` as a command the server handed back with ``limit``."""
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-c", f"from searchkit.terminal.client import _within\n_within({limit})\n"
                          + script], capture_output=True, text=True, timeout=timeout)
    return run, time.monotonic() - started


def test_a_command_handed_back_that_hangs_is_ended(tmp_path: Path) -> None:
    """A busy server hands a command back; run here, it may hang as the
    server's workers did (an index on a dead mount): the client ends it,
    with one line, also inside a blocking open(2). A hang uses no CPU, so
    the clock ends it, at `HANG_FACTOR` times the limit."""
    from searchkit.terminal.client import HANG_FACTOR

    fifo = tmp_path / "never"
    os.mkfifo(fifo)
    run, took = _handed_back(f"open({str(fifo)!r}).read()\nprint('not reached')\n", 0.3)
    assert run.returncode == 2 and run.stdout == "" and 0.3 * HANG_FACTOR <= took < 0.3 * HANG_FACTOR + 5
    assert run.stderr == (f"Error: the server was busy and this command, run here instead, did not finish within "
                          f"{0.3 * HANG_FACTOR:g} s (papersearch serve --timeout)\n")


def test_a_command_handed_back_has_the_servers_limit_in_cpu_time() -> None:
    """The limit counts the command's own work, as on the server: run here
    beside 50 other clients on two cores, a second's work took over 10 s
    of the clock and one command in six failed (probe). A process waiting
    for a core uses no CPU time, as one asleep: it finishes; one that
    works past the limit is ended with one line."""
    waiting, _ = _handed_back("import time\ntime.sleep(2.5)\nprint('answer')\n", 1.0)
    assert (waiting.returncode, waiting.stdout, waiting.stderr) == (0, "answer\n", "")
    working, took = _handed_back("while True:\n    pass\n", 1.0)
    assert working.returncode == 2 and working.stdout == "" and took < 8
    assert working.stderr == ("Error: the server was busy and this command, run here instead, used up its 1 s "
                              "limit (papersearch serve --timeout)\n")
