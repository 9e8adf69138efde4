"""Exceptions the library raises; the CLI maps each to an exit code.

Every message is one line meant for the user, naming the file, directory or
query at fault, so the CLI can print it as is.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


class SearchkitError(Exception):
    """Base class: a problem the user can fix, reported as one line."""


class InputError(SearchkitError):
    """Bad input from the user (query, option, directory): exit code 2."""


class QueryError(InputError):
    """The query cannot be run (empty, unknown section, bad date)."""


class CorpusError(InputError):
    """The corpus directory is missing or unreadable."""


class IndexMissingError(InputError):
    """No index exists at the given location yet."""


class IndexCorruptError(InputError):
    """The index exists but cannot be read; reindex --full repairs it."""


class IndexWriteError(InputError):
    """The index directory cannot be written (missing parent, read-only, full)."""


class NotFoundError(SearchkitError):
    """An arXiv id that is not in the index (exit code 1, like no results)."""


class IndexClosedError(SearchkitError):
    """The `Index` was closed (``close()`` or the end of its ``with``) and then used."""


class IndexStaleError(SearchkitError):
    """An open cluster index fell two generations behind the live one (or
    the cluster was rebuilt under it) while it was read: the rows it reads
    are being removed, so it must be opened again (exit code 2, like a
    damaged index)."""


class ResourceError(SearchkitError):
    """The system ran out of what reading the index needs (open files,
    memory): nothing is wrong with the index (exit code 2)."""


_EXHAUSTED = {errno.EMFILE: "too many open files (ulimit -n), e.g. open indexes or results whose total was "
                            "never read, each holding a reader",
              errno.ENFILE: "the system's open file table is full",
              errno.ENOMEM: "out of memory"}


def out_of_resources(exc: BaseException, where: Path) -> ResourceError | None:
    """The error to report when ``exc`` means the system ran out of files
    or memory while reading the index at ``where``: told as such, not as a
    damaged index, whose repair (a full reindex) would not help. Its causes
    are looked at too: Whoosh reports a table of contents it could not open
    as an empty index."""
    seen: BaseException | None = exc
    for _ in range(8):  # a chain of causes, never a cycle followed forever
        if seen is None:
            break
        if isinstance(seen, MemoryError):
            return ResourceError(f"cannot read the index at {where}: out of memory")
        if isinstance(seen, OSError) and seen.errno in _EXHAUSTED:
            return ResourceError(f"cannot read the index at {where}: {_EXHAUSTED[seen.errno]}")
        seen = seen.__cause__ or seen.__context__
    return None


def broken_link(path: Path, error: OSError) -> str | None:
    """What a link did to a path whose ``stat`` failed with ``error``: "is a
    symlink loop", "is a symlink to TARGET, which does not exist", or None
    when no link is to blame. ``Path.is_file`` and ``is_dir`` answer False
    to both, which sends the user after the wrong problem; an index
    directory and a post are described alike."""
    if error.errno == errno.ELOOP:
        return "is a symlink loop"
    if error.errno == errno.ENOENT:
        try:
            return f"is a symlink to {os.readlink(path)}, which does not exist"
        except OSError:  # no link: really missing
            return None
    return None
