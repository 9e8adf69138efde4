"""One writer per cluster, whichever machine it runs on: a lease in the
meta index.

Sphinx has no locks, but an RT index refuses a second row with an id it
holds, atomically: a writer claims the cluster by inserting the row
``LEASE_ROW + E`` for the epoch E after the newest one, when that one is
free (released, expired, or held by a process of this machine that is no
longer running). It renews the row while it writes (`BEAT`), checks before
it publishes that no newer epoch took the cluster over (`Lease.check`), and
marks it released when done. A writer killed on another machine holds the
cluster for `TTL` at most.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import ClusterURL
from .conn import ClusterError, Node, connect, quote
from .meta import LEASE_ROW

TTL = 120.0
"""Seconds a lease lasts unless renewed."""
BEAT = 15.0
"""Seconds between renewals."""
WAIT = 0.5
"""Seconds between looks at a held lease."""
EPOCHS = 1 << 40


class Lease:
    """A held lease: epoch ``epoch`` of the cluster at ``url``."""

    def __init__(self, url: ClusterURL, epoch: int, body: dict[str, Any]) -> None:
        self.url, self.epoch, self._body = url, epoch, body
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._renew, name="papersearch-lease", daemon=True)

    def check(self, node: Node) -> None:
        """Raise unless this lease is still the newest: a writer that stalled
        past `TTL` may have been taken over, and must not publish."""
        newest = _newest(node, self.url)
        if newest is None or newest[0] != self.epoch:
            raise ClusterError(f"another reindex took the cluster at {self.url} over while this one stalled "
                               f"(its lease lapsed after {TTL:.0f} s); nothing was published")

    def _renew(self) -> None:
        node = None
        try:
            while not self._stop.wait(BEAT):
                node = node or connect(self.url.host, self.url.port)
                _write(node, self.url, self.epoch, {**self._body, "expires": time.time() + TTL})
        except ClusterError:  # the cluster went away: the writer fails on its own
            pass
        finally:
            if node is not None:
                node.close()

    def _release(self, node: Node) -> None:
        self._stop.set()
        self._beat.join()
        _write(node, self.url, self.epoch, {**self._body, "released": True})
        older = [int(r[0]) for r in node.rows(f"SELECT id FROM {self.url.meta} WHERE id > {LEASE_ROW} "
                                              f"AND id < {LEASE_ROW + self.epoch} LIMIT 1000")]
        if older:  # the epochs before this one: only the newest row decides
            node.execute(f"DELETE FROM {self.url.meta} WHERE id IN ({','.join(map(str, older))})")


@contextmanager
def held(node: Node, url: ClusterURL, on_wait: Callable[[], None] | None = None) -> Iterator[Lease]:
    """Hold the cluster's lease for the block, waiting while another writer
    holds it (``on_wait`` is called once, then)."""
    waited = False
    while True:
        newest = _newest(node, url)
        if newest is None or _free(newest[1]):
            epoch = newest[0] + 1 if newest else 1
            body = {"host": socket.gethostname(), "pid": os.getpid(), "expires": time.time() + TTL}
            if _claim(node, url, epoch, body):
                break
            continue  # another writer claimed that epoch first
        if not waited and on_wait is not None:
            on_wait()
        waited = True
        time.sleep(WAIT)
    lease = Lease(url, epoch, body)
    lease._beat.start()
    try:
        yield lease
    finally:
        lease._release(node)


def _newest(node: Node, url: ClusterURL) -> tuple[int, dict[str, Any]] | None:
    rows = node.rows(f"SELECT id, body FROM {url.meta} WHERE id > {LEASE_ROW} AND id < {LEASE_ROW + EPOCHS} "
                     "ORDER BY id DESC LIMIT 1")
    return (int(rows[0][0]) - LEASE_ROW, json.loads(rows[0][1])) if rows else None


def _free(body: dict[str, Any]) -> bool:
    """Whether a lease no longer holds: released, expired, or taken by a
    process of this machine that has ended (a killed reindex: its row must
    not make the next one wait `TTL`)."""
    if body.get("released") or body.get("expires", 0) < time.time():
        return True
    return body.get("host") == socket.gethostname() and not _running(int(body.get("pid", 0)))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return pid > 0


def _claim(node: Node, url: ClusterURL, epoch: int, body: dict[str, Any]) -> bool:
    """Insert the epoch's row; False when another writer's is there."""
    try:
        node.execute(f"INSERT INTO {url.meta} (id, body_text, kind, body) "
                     f"VALUES ({LEASE_ROW + epoch}, '', 0, {quote(json.dumps(body))})")
    except ClusterError as exc:
        if "duplicate id" in str(exc):
            return False
        raise
    return True


def _write(node: Node, url: ClusterURL, epoch: int, body: dict[str, Any]) -> None:
    node.execute(f"REPLACE INTO {url.meta} (id, body_text, kind, body) "
                 f"VALUES ({LEASE_ROW + epoch}, '', 0, {quote(json.dumps(body))})")
