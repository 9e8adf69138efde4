"""Exceptions the library raises; the CLI maps each to an exit code.

Every message is one line meant for the user, naming the file, directory or
query at fault, so the CLI can print it as is.
"""

from __future__ import annotations


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
