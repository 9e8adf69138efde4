"""Where an index lives: a Whoosh directory (`whoosh`, the embedded
default) or a Sphinx/Manticore cluster (`sphinx`, a ``sphinx://`` URL).

`open_index` and `reindex` pick the backend from the location and import
only its code; both backends implement `engine.Engine`'s primitives, so
everything above this package is the same for either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from ..engine import Index
    from ..indexing import Progress, ReindexReport

CLUSTER_SCHEME = "sphinx://"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")
"""A location written as a URL (a scheme, a colon, a slash): never taken
for a directory, which ``sphinx:/host:9306/papers`` (one slash short) or
``mysql://…`` would otherwise have made, wherever the user stood."""


def is_cluster(location: str | Path) -> bool:
    """Whether ``location`` names a cluster rather than a directory."""
    return isinstance(location, str) and location[: len(CLUSTER_SCHEME)].lower() == CLUSTER_SCHEME  # SPHINX:// too


def _checked(location: str | Path) -> None:
    """Refuse a URL that is not a cluster's before it is read as a path."""
    if not is_cluster(location) and _URL.match(str(location)):  # a Path too: the CLI's are
        raise InputError(f"{str(location)!r} is no index location: give a directory or a cluster URL "
                         f"{CLUSTER_SCHEME}HOST:PORT/NAME")


def open_index(location: str | Path) -> Index:
    """Open the live generation of the index at ``location``: a directory,
    or a cluster at a ``sphinx://HOST:PORT/NAME`` URL, for reading."""
    _checked(location)
    if is_cluster(location):
        from .sphinx.reader import open_cluster

        return open_cluster(str(location))
    from .whoosh.index import open_directory

    return open_directory(location)


def reindex(
    corpus_dir: str | Path,
    index_dir: str | Path,
    *,
    full: bool = False,
    strict: bool = False,
    allow_empty: bool = False,
    progress: Progress | None = None,
    on_wait: Callable[[], None] | None = None,
) -> ReindexReport:
    """Bring the index at ``index_dir`` (a directory or a cluster URL) up
    to date with the posts in ``corpus_dir``; only changed posts are
    analysed unless ``full``.

    A post that cannot be parsed is skipped and reported; if an earlier
    version of it was indexed, that version stays (a half-saved post must
    not delete its papers). With ``strict``, any skip raises `CorpusError`
    before anything is written. A corpus that would leave an index that
    has posts with none (an empty or unmounted directory, a wrong path)
    raises `CorpusError` unless ``allow_empty``. A write that fails (full
    disk, read-only directory, a node gone) raises `IndexWriteError` and
    leaves the previous content answering.

    :param on_wait: called once if another reindex holds the lock.
    """
    _checked(index_dir)
    if is_cluster(index_dir):
        from .sphinx.writer import reindex as write
    else:
        from .whoosh.writer import reindex as write
    return write(corpus_dir, index_dir, full=full, strict=strict, allow_empty=allow_empty,
                 progress=progress, on_wait=on_wait)
