"""Local nodes for development, CI and a one-machine trial.

``up`` writes a cluster of N nodes on free loopback ports into DIR
(``DIR/node-K/``: sphinx.conf, searchd.pid, data, binlog, logs), starts
each ``searchd`` and waits until it answers; ``down`` stops them by the
pids in their pid files and waits for them to exit. Only 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from ...errors import InputError
from . import ClusterURL
from .config import Cluster, describe, write_configs
from .conn import ClusterError, connect
from .meta import register_topology

HOST = "127.0.0.1"
START_SECONDS = 20.0
STOP_SECONDS = 20.0
MAX_NODES = 16


def searchd_binary() -> str:
    """The ``searchd`` to run; one line when it is missing."""
    found = shutil.which("searchd")
    if not found:
        raise ClusterError("searchd not found on PATH: install Sphinx (apt-get install sphinxsearch) or Manticore")
    return found


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports free right now (held open together
    while picked, so none is handed out twice)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def up(count: int, directory: Path, name: str = "papers", mirrors: int = 0) -> ClusterURL:
    """Start ``count`` local nodes, one shard each (copied on the next
    ``mirrors`` nodes), and return the index URL. A node that fails to
    start stops the ones already started."""
    if not 1 <= count <= MAX_NODES:
        raise InputError(f"--nodes must be between 1 and {MAX_NODES}, not {count}")
    if not 0 <= mirrors < count:
        raise InputError(f"--mirrors must be between 0 and {count - 1} (the other nodes), not {mirrors}")
    binary = searchd_binary()
    if any(directory.glob("node-*/searchd.pid")):
        raise InputError(f"{directory} already has nodes (pid files): run `papersearch cluster down --dir {directory}`")
    ports = free_ports(2 * count)
    nodes = [{"host": HOST, "sql_port": ports[2 * k], "api_port": ports[2 * k + 1],
              "dir": str((directory / f"node-{k + 1}").resolve())} for k in range(count)]
    description = {"name": name, "nodes": nodes, "shards_per_node": 1, "mirrors": mirrors}
    cluster = describe(description)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "cluster.json").write_text(json.dumps(description, indent=1), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the cluster directory {directory}: {exc.strerror or exc}") from None
    write_configs(cluster, directory)
    try:
        for k in range(count):
            _start(binary, directory / f"node-{k + 1}", cluster, k)
        url = ClusterURL(HOST, cluster.nodes[0].sql_port, name)
        register_topology(url, cluster.topology())
    except BaseException:
        down(directory)
        raise
    return url


def _start(binary: str, node_dir: Path, cluster: Cluster, k: int) -> None:
    """Start one node and wait until its SphinxQL port answers."""
    for sub in ("data", "binlog"):
        (node_dir / sub).mkdir(parents=True, exist_ok=True)
    done = subprocess.run([binary, "--config", str(node_dir / "sphinx.conf")], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    spec = cluster.nodes[k]
    if done.returncode != 0:
        lines = [line for line in (done.stdout + done.stderr).splitlines() if "FATAL" in line or "ERROR" in line]
        why = lines[-1].strip() if lines else f"exit code {done.returncode}"
        raise ClusterError(f"searchd for node {k + 1} ({spec.sql}) did not start: {why}")
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            connect(spec.host, spec.sql_port).close()
            return
        except ClusterError:
            if time.monotonic() > deadline:
                raise ClusterError(f"node {k + 1} ({spec.sql}) does not answer {START_SECONDS:.0f} s after "
                                   f"starting; see {node_dir}/searchd.log") from None
            time.sleep(0.1)


def pids(directory: Path) -> dict[Path, int]:
    """Each node's pid file and the pid in it."""
    found = {}
    for path in sorted(directory.glob("node-*/searchd.pid")):
        try:
            found[path] = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
    return found


def down(directory: Path) -> int:
    """Stop every node of the cluster in ``directory`` by its pid and wait
    for it to exit (SIGKILL after `STOP_SECONDS`); the number stopped."""
    stopped = 0
    for path, pid in pids(directory).items():
        if _alive(pid) and _is_searchd(pid):
            watchdog = watchdog_of(pid)
            _stop(pid)
            if watchdog:  # it exits when its searchd stops cleanly; never left behind
                _stop(watchdog, grace=2.0)
            stopped += 1
        path.unlink(missing_ok=True)
    return stopped


def watchdog_of(pid: int) -> int | None:
    """The watchdog process searchd 2.2 runs as its parent (it restarts a
    crashed searchd), or None."""
    try:
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return parent if parent > 1 and _is_searchd(parent) else None


def _stop(pid: int, grace: float = 0.0) -> None:
    """SIGTERM (after ``grace`` seconds of waiting for it to exit by
    itself), SIGKILL after `STOP_SECONDS`, and wait until it is gone."""
    deadline = time.monotonic() + grace
    while grace and _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not _alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _is_searchd(pid: int) -> bool:
    """A recycled pid must never be signalled: check the process is searchd."""
    try:
        return "searchd" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return True
