"""SphinxQL connections: pymysql with autocommit, and one-line errors.

Every failure to reach a node, or a statement a node refuses, becomes an
`InputError` naming the node (exit 2 in the CLI), never a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from typing import Any

from ...errors import InputError

TIMEOUT = 10.0
"""Seconds to connect to a node and hear its greeting."""
READ_TIMEOUT = 60.0
"""Seconds one statement (or batch) may take to answer."""
IDLE = 300.0
"""Seconds a connection may sit unused before its next statement checks it
(a ping that reconnects): searchd 2.2 closes a SphinxQL connection idle for
15 minutes (``g_iClientQlTimeout``, not configurable), which a long
reindex's meta connection is while Kiwi analyses (a 200,000-paper build
died on it with "Lost connection to MySQL server during query")."""


class ClusterError(InputError):
    """A node cannot be reached, or refused a statement."""


def _pymysql() -> Any:
    try:
        import pymysql
    except ImportError:
        raise ClusterError("the cluster backend needs pymysql: pip install 'papersearch[cluster]'") from None
    return pymysql


def connect(host: str, port: int) -> Node:
    """A connection to one node's SphinxQL listener. Its greeting is waited
    for `TIMEOUT`, as the connection itself: a node that accepts and never
    answers (a stopped searchd, whose kernel still accepts) held every
    command for the statements' `READ_TIMEOUT`, 60 s, before its one line."""
    pymysql = _pymysql()
    try:
        db = pymysql.connect(host=host, port=port, autocommit=True, charset="utf8", connect_timeout=TIMEOUT,
                             read_timeout=TIMEOUT, write_timeout=READ_TIMEOUT)
    except pymysql.Error as exc:
        raise ClusterError(f"cluster node {host}:{port} does not answer ({_reason(exc)})") from None
    db._read_timeout = READ_TIMEOUT  # pymysql takes no other after connecting; its next read applies it
    return Node(host, port, db)


def _reason(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    text = str(args[1]) if len(args) > 1 else str(exc)
    return " ".join(text.split()) or exc.__class__.__name__


def quote(value: str) -> str:
    """A SphinxQL string literal. Only the backslash and the quote need
    escaping: every text stored is JSON, which has no raw control bytes."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Node:
    """One node's connection: statements return rows as tuples."""

    def __init__(self, host: str, port: int, db: Any) -> None:
        self.host, self.port, self._db = host, port, db
        self._used = time.monotonic()

    def _cursor(self) -> Any:
        """A cursor on a live connection: one idle past `IDLE` is pinged
        first and opened again if searchd closed it."""
        now = time.monotonic()
        if now - self._used > IDLE:
            try:
                self._db.ping(reconnect=False)
            except _pymysql().Error:
                self._db._read_timeout = TIMEOUT  # the greeting, as in `connect`
                try:
                    self._db.connect()  # raises pymysql's error if the node is gone: the caller's one line
                finally:
                    self._db._read_timeout = READ_TIMEOUT
        self._used = now
        return self._db.cursor()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def rows(self, sql: str) -> list[tuple]:
        """Run one statement and return its rows."""
        pymysql = _pymysql()
        try:
            with self._cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())
        except pymysql.Error as exc:
            raise ClusterError(f"cluster node {self.address}: {_reason(exc)}") from None

    def batch(self, statements: Sequence[str]) -> list[list[tuple]]:
        """Run statements in one round trip (SphinxQL multi-statement); one
        result set each, in order."""
        if not statements:
            return []
        pymysql = _pymysql()
        out: list[list[tuple]] = []
        try:
            with self._cursor() as cursor:
                cursor.execute(";\n".join(statements))
                out.append(list(cursor.fetchall()))
                while cursor.nextset():
                    out.append(list(cursor.fetchall()))
        except pymysql.Error as exc:
            raise ClusterError(f"cluster node {self.address}: {_reason(exc)}") from None
        return out

    def meta(self) -> dict[str, str]:
        """``SHOW META`` of the last query: total_found, warnings."""
        return {str(k): str(v) for k, v in self.rows("SHOW META")}

    def execute(self, sql: str) -> int:
        """Run a statement that changes data; the rows it affected."""
        pymysql = _pymysql()
        try:
            with self._cursor() as cursor:
                return int(cursor.execute(sql))
        except pymysql.Error as exc:
            raise ClusterError(f"cluster node {self.address}: {_reason(exc)}") from None

    def close(self) -> None:
        with suppress(Exception):  # closing a dead connection is no error
            self._db.close()


def values(rows: Iterable[Sequence[Any]]) -> str:
    """``(…), (…)`` for INSERT: ints as they are, text quoted."""
    def one(value: Any) -> str:
        return str(int(value)) if isinstance(value, (int, bool)) else quote(str(value))

    return ", ".join("(" + ", ".join(one(v) for v in row) + ")" for row in rows)
