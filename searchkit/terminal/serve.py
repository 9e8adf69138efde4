"""``papersearch serve``: answer CLI commands from warm worker processes.

The server listens on a Unix socket in the index directory (mode 0600; for
a cluster URL in a private directory, `protocol.home`) and runs each
command line it receives through the same click commands as the CLI, with
the index kept open (reopened when a reindex publishes a new generation),
and sends back stdout, stderr and the exit code (the exchange is described
in `client`).

Why it is built this way:

- Commands run through click's ``CliRunner``, which swaps process-global
  state (``sys.stdout``, ``os.environ``, the working directory), so two
  commands cannot run at once in one process. The master forks a small
  pool of workers (one per core by default); each warms up once.
- The master never runs a command. Its poll loop accepts connections and
  reads each request under a deadline (`READ_LIMIT`: a client that sends
  nothing, or trickles, is dropped without holding a worker), answers
  pings itself, accepts the request with a first line that tells the
  client the time limit, queues it (bounded: "busy" past the bound, and
  past `QUEUE_LIMIT` of waiting while the workers finish nothing, or past
  the time limit of waiting: a "busy" answer tells the client to run the
  command itself, as with no server, since nothing of it ran) and
  hands the connection's file descriptor and the request to an idle worker
  over a socket pair. The worker writes the answer straight to the client,
  as much as its socket takes at once; what is left (a client that does
  not read, or reads slower than a long answer comes) it hands back to the
  master in a spool file, and the poll loop writes it as the client reads
  (for `WRITE_LIMIT`), so the worker is free for the next request.
- A request's time limit runs from the moment a worker takes it, so a
  few slow requests ahead cannot use up a quick one's (they once made
  ~50 ms queries fail after 10 s). The worker arms a timer for it, which
  raises in Python code; a worker
  still busy `GRACE` after the deadline is stuck in C code, so the master
  kills it, answers the client with the time-limit error itself and forks
  a replacement.
- The master keeps its copy of each handed-off connection and watches it
  for a hang-up: a client that leaves has its work cancelled (SIGUSR1
  raises in the worker; SIGKILL after `GRACE`).
- A worker whose request was cut short exits after it (an exception at an
  arbitrary point may leave its state torn) and so does one that served
  ``--max-requests`` requests (memory stays flat); the master replaces it.
- SIGTERM and SIGINT wake the poll loop through a pipe: the master kills
  the workers, tells waiting clients, removes the socket and exits, at
  once, even mid-request.
"""

from __future__ import annotations

import array
import fcntl
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import InputError
from .output import CLIENT_TERMINALS
from .protocol import PASSED_ENV, SERVED, home, is_cluster, private, socket_path

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_REQUESTS = 5000
READ_LIMIT = 2.0
"""Seconds a client has, from connecting, to send its whole request."""
GRACE = 0.5
"""Seconds a worker has, past a deadline or a cancel, before SIGKILL."""
WRITE_LIMIT = 5.0
"""Seconds the master keeps writing an answer to a client that does not
read it, before it hangs up."""
MAX_REQUEST = 1 << 20
"""Bytes; a command-line argument cannot exceed 128 KiB anyway."""
MAX_READING = 64
"""Connections being read, or written from a spool, at once (each holds
descriptors); more are told the server is busy."""
QUEUE_PER_WORKER = 32
"""Accepted requests that may wait for a worker, per worker (a burst of 50
clients on two workers is served in ~5 s; refused, they ran cold beside
the workers on the same cores, each costing ~4 times a served request)."""
QUEUE_LIMIT = 2.0
"""Seconds an accepted request may wait for workers that finish nothing
before it is handed back to its client, which runs it itself (a cold
query takes ~0.3 s): they are held by slow requests. While the workers
are finishing requests the line moves, and a cold run beside them would
only take their cores, so it waits (within the time limit). While no
worker has warmed up it waits out the time limit instead: an index that
hangs on opening would hang the client too."""

_TALKING = ("reading", "spooling")
"""Job states in which the master itself reads from or writes to the
client, against the job's deadline, holding its descriptors."""
_HANDOFF = struct.Struct("!dI")  # seconds left, request length; the request follows
READY, COLD, WRITING, SPOOLED, DONE, LEAVING = b"R", b"C", b"W", b"S", b"D", b"E"
"""Worker → master: warmed up; ready, but opening the index timed out; about to write an answer; the rest of the
answer is in the file passed with this byte; done, idle again; done, and
exiting (cut short or recycled)."""


@dataclass(frozen=True)
class Settings:
    index_dir: Path | str
    """An index directory or a cluster URL."""
    workers: int
    timeout: float
    max_requests: int
    command: Any = None
    """The click group a worker runs requests with (the CLI hands itself
    over: serve never imports it, so the two form no circle)."""
    warm_up: Callable[[], None] = lambda: None
    """Called once in each worker before its first request."""


def serve(
    index_dir: Path | str, announce: Callable[[str], None] = print, *, workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT, max_requests: int = DEFAULT_MAX_REQUESTS,
    command: Any = None, warm_up: Callable[[], None] = lambda: None,
) -> None:
    """Serve the index directory or cluster URL ``index_dir`` until Ctrl-C
    or SIGTERM; the socket is removed on the way out. Ctrl-C ends in
    KeyboardInterrupt (the CLI's exit 130) after cleaning up."""
    if is_cluster(index_dir):
        _private_home(home(index_dir))
    else:
        try:
            found = Path(index_dir).is_dir()
        except OSError as exc:  # a name too long for a path, a symlink loop
            raise InputError(f"index directory {index_dir} cannot be used ({exc.strerror or exc})") from None
        if not found:
            raise InputError(f"no index at {index_dir}: run `papersearch reindex --index {index_dir}`")
    settings = Settings(index_dir, workers or os.cpu_count() or 1, timeout, max_requests, command, warm_up)
    path = socket_path(index_dir)
    with _stops_held() as early, _single_server(home(index_dir), index_dir) as lock, _listening(path) as listener:
        master = Master(settings, listener, lock)
        with master.running():
            master.stop_signal = master.stop_signal or (early[0] if early else 0)
            announce(f"serving {index_dir} on {path} with {settings.workers} workers, "
                     f"{timeout:g} s a request; Ctrl-C stops")
            stopped_by = master.loop()
    if stopped_by == signal.SIGINT:
        raise KeyboardInterrupt


@contextmanager
def _stops_held() -> Iterator[list[int]]:
    """SIGTERM and SIGINT noted, not acted on, from before the socket
    exists until the master routes them (`Master.running`): a SIGTERM sent
    as soon as the socket appeared killed the server outright, leaving its
    socket and lock behind. The master then stops at once."""
    early: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: early.append(signum))
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield early
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _private_home(directory: Path) -> None:
    """Make a cluster's server directory (see `protocol.home`), readable by
    this user alone; one another user made or opened up is refused."""
    try:
        directory.parent.mkdir(mode=0o700, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot make the server's directory {directory}: {exc.strerror or exc}") from None
    if not private(directory):
        raise InputError(f"{directory} is not private to this user (mode 700, owned by us); remove it and try again")


@contextmanager
def _single_server(directory: Path, index: Path | str) -> Iterator[IO[str]]:
    """One server per index: a flock in ``directory``, released by the
    kernel if it dies.

    The lock file is removed on the way out, while still locked; so a
    server that locked a file is sure it is still the one at the path
    (another may have opened it just before it was removed), else it tries
    again with the new one."""
    path = directory / "serve.lock"
    while True:
        try:
            handle = open(path, "a+")  # noqa: SIM115 - closed below or by the with
        except OSError as exc:  # a read-only index directory, one not ours
            raise InputError(f"cannot serve {index}: cannot write {path} ({exc.strerror or exc}); the server keeps "
                             "its lock and socket there") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise InputError(f"a server already answers for {index}") from None
        try:
            same = os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        handle.close()
    with handle:
        try:
            yield handle
        finally:
            with suppress(FileNotFoundError):
                path.unlink()


@contextmanager
def _listening(path: Path) -> Iterator[socket.socket]:
    """The listening socket at ``path``, removed again on the way out."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        with suppress(FileNotFoundError):
            path.unlink()  # left by a server that was killed: the lock says none runs
        try:
            listener.bind(str(path))
        except OSError as exc:
            raise InputError(f"cannot listen on {path}: {exc.strerror or exc}") from None
        try:
            os.chmod(path, 0o600)
            listener.listen(128)
            listener.setblocking(False)
            yield listener
        finally:
            with suppress(FileNotFoundError):
                path.unlink()


def _receive_news(channel: socket.socket) -> tuple[bytes, list[int]]:
    """What a worker said, without blocking, and the files it passed
    (`socket.recv_fds` ignores its flags before Python 3.12, so it would block)."""
    fds = array.array("i")
    data, ancillary, flags, _ = channel.recvmsg(256, socket.CMSG_SPACE(4 * fds.itemsize), socket.MSG_DONTWAIT)
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    if flags & socket.MSG_CTRUNC:  # out of descriptors: that answer is cut short, its client told so
        print("serve: a passed answer was lost (out of file descriptors)", file=sys.stderr, flush=True)
    return data, list(fds)


def _error(message: str) -> dict:
    return {"stdout": "", "stderr": f"Error: {message}\n", "exit_code": 2}


def _busy(message: str, limit: float) -> dict:
    """An answer to a request that was not run: the client runs it itself,
    within ``limit`` seconds."""
    return {**_error(message), "busy": True, "limit": limit}


def _limit_error(limit: float) -> dict:
    return _error(f"the server gave up on this request after its {limit:g} s limit (papersearch serve --timeout)")


def _line(value: dict) -> bytes:
    """One JSON line. A lone surrogate (an undecodable file name) becomes
    a JSON escape through backslashreplace, so the line stays valid."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n"


# The master


@dataclass(eq=False)
class Job:
    """One client connection, from accept to answer."""

    conn: socket.socket
    deadline: float
    data: bytearray = field(default_factory=bytearray)
    state: str = "reading"  # reading, queued, running, spooling
    worker: Worker | None = None
    wrote: bool = False  # the worker began writing the answer
    cancelled: bool = False  # the client left; nobody to answer
    fd: int = -1  # kept: a closed socket's fileno() is -1
    closed: bool = False
    spool: IO[bytes] | None = None  # the answer's rest, which the master writes
    pending: bytes = b""  # read from the spool, not yet taken by the client
    queued_at: float = 0.0  # it may wait the time limit for a worker, then run for the limit

    def __post_init__(self) -> None:
        self.fd = self.conn.fileno()


@dataclass(eq=False)
class Worker:
    """One worker process and the master's end of its socket pair."""

    pid: int
    channel: socket.socket
    state: str = "starting"  # starting, idle, busy, leaving
    warm: bool = False  # its index opened within the limit: a busy pool, not a hung index
    job: Job | None = None
    kill_at: float = float("inf")


class Master:
    """The poll loop: connections, the queue, the workers (see the module
    docstring). Single-threaded; nothing in it blocks on a client."""

    def __init__(self, settings: Settings, listener: socket.socket, lock: IO[str]) -> None:
        self.settings = settings
        self.listener = listener
        self.lock = lock
        self.poll = select.poll()
        self.workers: dict[int, Worker] = {}  # channel fd → worker
        self.jobs: dict[int, Job] = {}  # connection fd → job
        self.queue: deque[Job] = deque()
        self.served = 0
        self.finished_at = float("-inf")  # when a worker last finished a request: is the line moving?
        self.stop_signal = 0
        self.spawn_after = 0.0
        self.wakeup = os.pipe()
        self.accepted_line = _line({"accepted": True, "limit": 2 * settings.timeout})  # waiting, then running

    @contextmanager
    def running(self) -> Iterator[None]:
        """Signals routed to the loop and the workers started; on the way
        out (a signal, or a bug) every worker is killed and reaped."""
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
        os.set_blocking(self.wakeup[1], False)
        old_wakeup = signal.set_wakeup_fd(self.wakeup[1])
        for sig in previous:
            signal.signal(sig, self._on_signal)
        self.poll.register(self.listener.fileno(), select.POLLIN)
        self.poll.register(self.wakeup[0], select.POLLIN)
        try:
            self._respawn(time.monotonic())
            yield
        finally:
            for sig in previous:  # a second Ctrl-C must not cut the cleanup short
                signal.signal(sig, signal.SIG_IGN)
            signal.set_wakeup_fd(old_wakeup)
            self._shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stop_signal = self.stop_signal or signum

    def loop(self) -> int:
        """Serve until a signal; return its number."""
        while not self.stop_signal:
            events = self.poll.poll(self._wait_ms())
            # worker news first: an answer written is counted before a ping
            # that arrived with it, and a finished worker is not cancelled
            events.sort(key=lambda event: event[0] not in self.workers)
            for fd, _mask in events:
                self._event(fd)
            now = time.monotonic()
            self._assign(now)  # first: a request whose wait ends as a worker frees is run, not handed back
            self._expire(now)
            self._respawn(now)
            self._assign(now)
        return self.stop_signal

    def _wait_ms(self) -> int:
        """Until the next deadline, at most a second."""
        deadlines = [job.deadline for job in self.jobs.values() if job.state != "running"]
        deadlines += [worker.kill_at for worker in self.workers.values()]
        if len(self.workers) < self.settings.workers:
            deadlines.append(self.spawn_after)
        wait = min(min(deadlines, default=float("inf")) - time.monotonic(), 1.0)
        return max(0, int(wait * 1000) + 1)

    def _event(self, fd: int) -> None:
        if fd == self.listener.fileno():
            self._accept()
        elif fd == self.wakeup[0]:
            with suppress(OSError):
                os.read(fd, 512)
        elif fd in self.workers:
            self._hear(self.workers[fd])
        elif fd in self.jobs:
            job = self.jobs[fd]
            if job.state == "reading":
                self._read(job)
            elif job.state == "spooling":
                self._spool(job)
            else:
                self._vanished(job)

    # Connections

    def _accept(self) -> None:
        now = time.monotonic()
        for _ in range(64):
            try:
                conn, _ = self.listener.accept()
            except OSError:  # none left (or out of descriptors: retried next round)
                return
            conn.setblocking(False)
            job = Job(conn, now + READ_LIMIT)
            if sum(j.state in _TALKING for j in self.jobs.values()) >= MAX_READING:
                self._send(job, _line(_busy("the server is busy; try again", self.settings.timeout)))
                conn.close()
                continue
            self.jobs[job.fd] = job
            self.poll.register(job.fd, select.POLLIN)

    def _read(self, job: Job) -> None:
        try:
            chunk = job.conn.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            self._close(job)
            return
        if not chunk:
            self._received(job)
        elif len(job.data) + len(chunk) > MAX_REQUEST:
            self._finish(job, _error(f"the request is larger than {MAX_REQUEST >> 20} MiB"))
        else:
            job.data += chunk

    def _received(self, job: Job) -> None:
        """A whole request: answer a ping or a malformed one here, else
        accept it into the queue."""
        try:
            request = json.loads(job.data)
        except (ValueError, RecursionError):  # [[[…]]] 100,000 deep killed the master with a traceback
            request = None
        if not isinstance(request, dict):
            self._finish(job, _error("serve received a request that is not a JSON object"))
        elif request.get("ping"):
            self._finish(job, self._status())
        elif len(self.queue) >= QUEUE_PER_WORKER * self.settings.workers:
            self._finish(job, _busy(f"the server is busy ({len(self.queue)} requests waiting); try again",
                                    self.settings.timeout))
        else:
            now = time.monotonic()
            job.state, job.deadline, job.queued_at = "queued", now + min(QUEUE_LIMIT, self.settings.timeout), now
            self.poll.modify(job.fd, 0)  # from now on only a hang-up is news
            self._send(job, self.accepted_line)
            self.queue.append(job)

    def _status(self) -> dict:
        states = [worker.state for worker in self.workers.values()]
        return {
            "pid": os.getpid(), "served": self.served, "workers": [w.pid for w in self.workers.values()],
            "ready": states.count("idle") + states.count("busy"), "busy": states.count("busy"),
            "queued": len(self.queue),
        }

    def _vanished(self, job: Job) -> None:
        """A hang-up on an accepted connection: the client left."""
        if job.state == "queued":
            self.queue.remove(job)
            self._close(job)
            return
        worker = job.worker
        assert worker is not None
        self._hear(worker)  # it may have answered already
        if job.closed:
            return
        with suppress(KeyError):
            self.poll.unregister(job.fd)  # level-triggered: it would repeat
        if not job.wrote and not job.cancelled:
            job.cancelled = True
            with suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGUSR1)
            worker.kill_at = min(worker.kill_at, time.monotonic() + GRACE)

    def _send(self, job: Job, data: bytes) -> None:
        """Best effort, never blocking: the master's own lines are small
        and the client's buffer is empty."""
        with suppress(OSError):
            job.conn.send(data)

    def _finish(self, job: Job, answer: dict) -> None:
        self._send(job, _line(answer))
        self._close(job)

    def _close(self, job: Job) -> None:
        if job.closed:
            return
        job.closed = True
        if job.spool is not None:
            job.spool.close()
        if self.jobs.get(job.fd) is job:
            del self.jobs[job.fd]
        with suppress(KeyError):
            self.poll.unregister(job.fd)
        with suppress(OSError):  # end the stream even if a new worker inherited a copy
            job.conn.shutdown(socket.SHUT_RDWR)
        job.conn.close()

    def _expire(self, now: float) -> None:
        for job in [j for j in self.jobs.values() if j.state in _TALKING and j.deadline <= now]:
            self._close(job)  # idle or trickling: no answer owed; or not reading the one it was given
        serving = self._serving()
        stalled = now - self.finished_at >= QUEUE_LIMIT
        for job in [j for j in self.queue if j.deadline <= now]:
            waited, given_up_at = now - job.queued_at, job.queued_at + self.settings.timeout
            if given_up_at <= now or (serving and stalled):
                self.queue.remove(job)
                self._finish(job, _busy(f"no worker was free within {waited:.0f} s; try again",
                                        self.settings.timeout) if serving else _limit_error(self.settings.timeout))
            elif serving:  # the line moves: look again when it may have stalled
                job.deadline = min(given_up_at, self.finished_at + QUEUE_LIMIT)
            else:  # no worker has warmed up yet (an index that hangs on opening): look again in a while
                job.deadline = min(given_up_at, now + QUEUE_LIMIT)
        for worker in [w for w in self.workers.values() if w.kill_at <= now]:
            self._lost(worker, _limit_error(self.settings.timeout))

    # Workers

    def _assign(self, now: float) -> None:
        """Hand queued requests, oldest first, to idle workers."""
        idle = [w for w in self.workers.values() if w.state == "idle"]
        serving = self._serving()
        while self.queue and idle:
            job, worker = self.queue.popleft(), idle.pop()
            job.deadline = self._deadline(job, serving, now)
            left = job.deadline - now
            message = _HANDOFF.pack(left, len(job.data)) + job.data
            try:
                sent = socket.send_fds(worker.channel, [message], [job.fd])
                if sent < len(message):
                    worker.channel.sendall(message[sent:])
            except OSError:
                self.queue.appendleft(job)
                self._lost(worker, None)
                continue
            job.state, job.worker = "running", worker
            worker.state, worker.job, worker.kill_at = "busy", job, job.deadline + GRACE

    def _serving(self) -> bool:
        """Whether some worker has opened the index and takes requests
        (else the index may hang on opening: a queued request waits, and
        its wait counts against its limit)."""
        return any(w.warm and w.state in ("idle", "busy") for w in self.workers.values())

    def _deadline(self, job: Job, serving: bool, now: float) -> float:
        """Its own limit from now (a wait in a moving line, at most the
        limit, then the limit, is what the client was promised); but while
        no worker has opened the index (one that hangs on opening) the time
        it waited counts, so a hung index fails at its limit. The first
        look at a queued request comes within the limit (`_received`): at
        --timeout 0.5 a request first looked at after 2 s went to a worker
        with no time left and failed unrun (review)."""
        limit = self.settings.timeout
        if serving:
            return min(now, job.queued_at + limit) + limit
        return min(now + limit, job.queued_at + limit + QUEUE_LIMIT)

    def _hear(self, worker: Worker) -> None:
        """Read what the worker said, without blocking; a spool file comes
        with its byte."""
        while self.workers.get(worker.channel.fileno()) is worker:
            try:
                data, fds = _receive_news(worker.channel)
            except BlockingIOError:
                return
            except OSError:
                data, fds = b"", []
            if not data:
                for fd in fds:
                    os.close(fd)
                self._lost(worker, _error("a server worker died while answering; see the server's log"))
                return
            for byte in data:
                news = bytes([byte])
                self._news(worker, news, fds.pop(0) if news == SPOOLED and fds else None)
            for fd in fds:
                os.close(fd)

    def _news(self, worker: Worker, news: bytes, spool: int | None = None) -> None:
        job = worker.job
        if news in (READY, COLD):
            worker.state, worker.warm = "idle", news == READY
        elif news == WRITING and job is not None:
            job.wrote = True
            self.served += 1
        elif news == SPOOLED and spool is not None:
            if job is None or job.closed or job.cancelled:
                os.close(spool)
            else:
                self._start_spooling(job, spool)
        elif news in (DONE, LEAVING):
            if job is not None:
                self.finished_at = time.monotonic()
            if job is not None and job.state != "spooling":
                self._close(job)
            worker.job = None
            if news == DONE:
                worker.state, worker.kill_at = "idle", float("inf")
            else:
                worker.state, worker.kill_at = "leaving", time.monotonic() + GRACE

    def _start_spooling(self, job: Job, spool: int) -> None:
        """Take over writing an answer the client's socket did not take
        whole: from now on the job is the master's, its worker free."""
        job.spool = os.fdopen(spool, "rb")
        job.state, job.deadline = "spooling", time.monotonic() + WRITE_LIMIT
        try:
            self.poll.modify(job.fd, select.POLLOUT)
        except OSError:  # unregistered after a hang-up
            self.poll.register(job.fd, select.POLLOUT)
        self._spool(job)

    def _spool(self, job: Job) -> None:
        """Write as much of the spooled answer as the client takes now; end
        the stream once it has all of it, or once it has left."""
        assert job.spool is not None
        while True:
            if not job.pending:
                job.pending = job.spool.read(1 << 16)
                if not job.pending:
                    self._close(job)
                    return
            try:
                sent = job.conn.send(job.pending)
            except BlockingIOError:
                return
            except OSError:
                self._close(job)
                return
            job.pending = job.pending[sent:]

    def _lost(self, worker: Worker, answer: dict | None) -> None:
        """Kill and reap a worker that is gone, stuck or leaving; its client,
        if it still waits and got nothing yet, gets ``answer``."""
        if worker.state == "starting":
            self.spawn_after = time.monotonic() + 1.0  # do not spin on a worker that cannot start
        self._reap(worker)
        job = worker.job
        if job is not None and job.state != "spooling":  # a spooled answer is the master's to finish
            if answer is not None and not job.wrote and not job.cancelled:
                self._finish(job, answer)
            else:
                self._close(job)

    def _reap(self, worker: Worker) -> None:
        with suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGKILL)
        with suppress(ChildProcessError):
            os.waitpid(worker.pid, 0)
        self.workers.pop(worker.channel.fileno(), None)
        with suppress(KeyError):
            self.poll.unregister(worker.channel.fileno())
        worker.channel.close()

    def _respawn(self, now: float) -> None:
        while len(self.workers) < self.settings.workers and now >= self.spawn_after:
            self._spawn()
            now = time.monotonic()

    def _spawn(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        master = os.getpid()
        try:
            pid = os.fork()
        except OSError as exc:  # out of processes or memory: try again in a second
            print(f"serve: cannot start a worker: {exc.strerror or exc}", file=sys.stderr, flush=True)
            ours.close()
            theirs.close()
            self.spawn_after = time.monotonic() + 1.0
            return
        if pid == 0:  # the worker: it must never return into this loop
            code = 1
            try:
                ours.close()
                _become_worker(master)
                self._close_inherited()
                code = _work(theirs, self.settings)
            except BaseException as exc:  # noqa: BLE001 - reported, then the process ends
                with suppress(Exception):
                    print(f"serve: worker {os.getpid()} failed: {exc.__class__.__name__}: {exc}",
                          file=sys.stderr, flush=True)
            finally:
                os._exit(code)
        theirs.close()
        self.workers[ours.fileno()] = Worker(pid, ours)
        self.poll.register(ours.fileno(), select.POLLIN)

    def _close_inherited(self) -> None:
        """In a new worker: drop the master's descriptors, so that only the
        master holds the listener, the lock and the other connections."""
        self.listener.close()
        self.lock.close()
        for fd in self.wakeup:
            os.close(fd)
        for worker in self.workers.values():
            worker.channel.close()
        for job in self.jobs.values():
            job.conn.close()
            if job.spool is not None:
                job.spool.close()

    def _shutdown(self) -> None:
        """Kill every worker at once and tell the clients still waiting."""
        for worker in self.workers.values():
            with suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
        for worker in list(self.workers.values()):
            self._reap(worker)
        for job in list(self.jobs.values()):
            if job.state != "reading" and not job.wrote and not job.cancelled:
                self._finish(job, _error("the server stopped before answering"))
            else:
                self._close(job)
        for fd in self.wakeup:
            os.close(fd)


# The workers


class _TimeLimit(BaseException):
    """Raised by SIGALRM in a worker: the request's time is up. A
    BaseException, so that neither click nor the CLI catches it."""


class _ClientGone(BaseException):
    """Raised by SIGUSR1 in a worker: the master saw the client leave."""


_armed = False
_command: Any = None
"""The click group this worker runs requests with (from `Settings.command`)."""
"""True while a request runs: the signals raise only then."""


def _on_alarm(_signum: int, _frame: object) -> None:
    if _armed:
        raise _TimeLimit


def _on_cancel(_signum: int, _frame: object) -> None:
    if _armed:
        raise _ClientGone


def _become_worker(master: int) -> None:
    """Signals for a worker: Ctrl-C reaches the whole process group, but the
    master decides; and the worker dies with the master, even by SIGKILL."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGUSR1, _on_cancel)
    with suppress(Exception):  # Linux only: PR_SET_PDEATHSIG
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    if os.getppid() != master:  # the master died before prctl took effect
        os._exit(0)


def _work(channel: socket.socket, settings: Settings) -> int:
    """A worker's life: warm up, then answer what the master hands over
    until told to stop, cut short, or past its quota (with a random tenth
    more, so workers do not all restart at once)."""
    global _command
    _command = settings.command
    settings.warm_up()  # the CLI: commands now leave their index open for the next one
    channel.sendall(READY if _warm(settings) else COLD)
    quota = settings.max_requests + random.randrange(settings.max_requests // 10 + 1)
    served = 0
    while (handoff := _receive(channel)) is not None:
        served += 1
        finished = _answer(*handoff, channel, settings.timeout)
        leaving = not finished or served >= quota
        channel.sendall(LEAVING if leaving else DONE)
        if leaving:
            break
    return 0


def _warm(settings: Settings) -> bool:
    """Open the index now, not on the first user's time (no Kiwi: a query
    never loads it); an index that hangs (a dead network mount) is not
    waited for past the limit. Whether it opened in time."""
    try:
        _within(settings.timeout, lambda: _run({"argv": ["stats", "--index", str(settings.index_dir), "--json"]}))
    except _TimeLimit:
        print(f"serve: opening {settings.index_dir} took over {settings.timeout:g} s", file=sys.stderr, flush=True)
        return False
    return True


def _receive(channel: socket.socket) -> tuple[int, float, bytes] | None:
    """The next hand-off: (connection fd, seconds left, request); None when
    the master has gone."""
    try:
        data, fds, _, _ = socket.recv_fds(channel, 1 << 16, 1)
        while data and len(data) < _HANDOFF.size + _length(data):
            more = channel.recv(1 << 20)
            if not more:
                return None
            data += more
    except OSError:
        return None
    if not data or not fds:
        return None
    left, _ = _HANDOFF.unpack_from(data)
    return fds[0], left, data[_HANDOFF.size :]


def _length(data: bytes) -> int:
    return _HANDOFF.unpack_from(data)[1] if len(data) >= _HANDOFF.size else 0


def _answer(fd: int, left: float, data: bytes, channel: socket.socket, limit: float) -> bool:
    """Run one request within the time left and write its answer to the
    client; False when it was cut short (the worker should then leave)."""
    with socket.socket(fileno=fd) as conn:
        try:
            answer, finished = _within(left, lambda: _run_safely(data)), True
        except _TimeLimit:
            answer, finished = _limit_error(limit), False
        except _ClientGone:
            return False
        channel.sendall(WRITING)
        rest = _write_now(conn, _line(answer))
        if rest and not _hand_over(channel, rest):
            with suppress(OSError):  # no file for the rest: write it here, as long as a client may take
                conn.settimeout(WRITE_LIMIT)
                conn.sendall(rest)
    return finished


def _write_now(conn: socket.socket, data: bytes) -> bytes:
    """Send what the client's socket takes without waiting for it; return
    the rest (nothing when the client has left: nobody to answer)."""
    conn.setblocking(False)
    view, sent = memoryview(data), 0
    try:
        while sent < len(data):
            sent += conn.send(view[sent:])
    except BlockingIOError:
        pass
    except OSError:
        return b""
    return data[sent:]


def _spool_file() -> IO[bytes] | None:
    """A memory file (Linux), else an unlinked one; None when neither can be made."""
    with suppress(AttributeError, OSError):
        return os.fdopen(os.memfd_create("papersearch-answer"), "w+b")
    with suppress(OSError):
        return tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    return None


def _hand_over(channel: socket.socket, rest: bytes) -> bool:
    """Pass the answer's rest to the master in a file of its own (memory,
    where the system has it: a full /tmp must not cut answers): a client
    that does not read then holds no worker (it held one for `WRITE_LIMIT`,
    and the other clients queued behind it). False when no file could be
    made or passed."""
    spool = _spool_file()
    if spool is None:
        return False
    with spool:
        try:
            spool.write(rest)
            spool.flush()
            spool.seek(0)
            socket.send_fds(channel, [SPOOLED], [spool.fileno()])
        except OSError:
            return False
    return True


def _within(seconds: float, run: Callable[[], Any]) -> Any:
    """``run()``, interrupted by `_TimeLimit` after ``seconds`` (and by
    `_ClientGone` if the master cancels it)."""
    global _armed
    if seconds <= 0:
        raise _TimeLimit
    signal.setitimer(signal.ITIMER_REAL, seconds)
    _armed = True
    try:
        return run()
    finally:
        _armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)


def _run_safely(data: bytes) -> dict:
    """A request the master checked is a JSON object; anything else about
    it that is wrong is the client's error, in one line."""
    try:
        return _run(json.loads(data))
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        return _error(f"serve could not run this request ({exc.__class__.__name__}: {exc})")


def _run(request: dict) -> dict:
    """Run one command line as the client's terminal would have it."""
    from click.testing import CliRunner

    argv = [str(arg) for arg in request["argv"]]
    if not argv or argv[0] not in SERVED:
        return {"stdout": "", "stderr": f"Error: serve does not run {argv[:1]}\n", "exit_code": 2}
    env: dict[str, str | None] = {name: None for name in (*PASSED_ENV, "COLUMNS")}
    env.update(request.get("env", {}))
    env["PAPERSEARCH_NO_PAGER"] = "1"  # the client pages, with its own terminal
    if request.get("columns"):
        env["COLUMNS"] = str(request["columns"])
    with _cwd(request.get("cwd", os.getcwd())), _terminals(request, env):
        result = CliRunner().invoke(_command, argv, env=env, prog_name="papersearch")
    if result.exception and not isinstance(result.exception, SystemExit):
        name = result.exception.__class__.__name__
        message = f"Error: unexpected {name}: {result.exception} (a bug; please report)\n"
        return {"stdout": result.stdout, "stderr": message, "exit_code": 2}
    return {"stdout": result.stdout, "stderr": result.stderr, "exit_code": result.exit_code}


@contextmanager
def _terminals(request: dict, env: dict[str, str | None]) -> Iterator[None]:
    """The client's terminals stand in for this worker's streams
    (`output.CLIENT_TERMINALS`), unless a variable rich asks before it
    asks isatty decides: FORCE_COLOR set at all, TTY_COMPATIBLE as 0 or 1
    (auto, empty: it asks isatty). A client that sent no ``err_tty`` (an
    older one) has stderr where stdout is."""
    told = env.get("FORCE_COLOR") is not None or env.get("TTY_COMPATIBLE") in ("0", "1")
    streams = {"stdout": request.get("tty"), "stderr": request.get("err_tty", request.get("tty"))}
    CLIENT_TERMINALS.update(name for name, tty in streams.items() if tty is True and not told)
    try:
        yield
    finally:
        CLIENT_TERMINALS.clear()


@contextmanager
def _cwd(path: str) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)
