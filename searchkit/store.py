"""The index directory: generations, the pointer to the live one, the lock.

Layout::

    index/CURRENT          name of the live generation (replaced atomically)
    index/.lock            held by the one writer
    index/gen-000007/      one complete index: backend files, manifest.json,
                           lexicon.sqlite

A reindex builds a new generation beside the live one and publishes it with
one ``os.replace`` of ``CURRENT``; a reindex killed at any moment leaves the
old generation live. Readers resolve ``CURRENT`` once and keep their
generation, pinned (`pin`): a shared ``flock`` on its directory, which
`cleanup` never removes while any reader holds it, however many publishes
go by; the previous generation is kept besides, for readers still opening.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .errors import IndexCorruptError, IndexMissingError, InputError, broken_link, out_of_resources

POINTER = "CURRENT"
MANIFEST = "manifest.json"
LEXICON = "lexicon.sqlite"
FORMAT = 9
"""Bumped when the index layout or schema changes: forces a rebuild (6: the
analyzer Whoosh pickles into the schema moved to `backends.whoosh.schema`;
7: no positions in the section fields; 8: the lexicon keeps its counts;
9: a column of each document's place, ``doc_key``, for exact ties)."""
DERIVED = frozenset({"synonyms.tsv"})
"""Files of a generation a reindex may refresh in place (`glossary.TABLE_FILE`),
so `Manifest.files` leaves them out."""

_GEN = re.compile(r"^gen-(\d{6})$")
_KEEP_OLD = 1  # generations kept behind the live one, for open readers


@dataclass
class Manifest:
    """What a generation holds, so the next reindex can do only the change.

    :param posts: post file name → {"digest": sha256, "ids": [arXiv ids of
        its papers, in order], "lengths": {field: terms in it, summed over
        the post's papers}}.
    """

    format: int
    analyzer: str
    kiwi: str
    posts: dict[str, dict] = field(default_factory=dict)
    files: dict[str, int] | None = None
    """Each file of a directory generation with its size, as written: an
    open checks them (`check_files`), because Whoosh reads a missing or
    short column file as default values and a missing glossary reads as
    none, wrong answers with no sign. None where nothing was recorded."""
    ordered: bool | None = None
    """True when the documents are numbered in a full build's order (a
    full build; an incremental one appends): ties and a total's sample then
    need no look-up of each document's place. None where not recorded."""

    def counts(self) -> tuple[int, int]:
        """(paper entries, distinct arXiv ids) in this generation."""
        ids = [i for entry in self.posts.values() for i in entry["ids"]]
        return len(ids), len(set(ids))

    def field_totals(self) -> dict[str, int]:
        """Each field's total length over every paper entry: exact, and
        independent of how the index was built up (see `scoring.Postings`)."""
        totals: dict[str, int] = {}
        for entry in self.posts.values():
            for name, length in entry.get("lengths", {}).items():
                totals[name] = totals.get(name, 0) + length
        return totals

    def to_json(self) -> str:
        data = {key: value for key, value in self.__dict__.items() if value is not None}
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)


# Paths


def directory(value: str | Path, what: str = "index") -> Path:
    """A directory argument as a path, refusing "" (``Path("")`` is the
    current directory: an unset ``$IDX`` would scatter an index there) and
    paths that can never be a directory (symlink loops)."""
    if isinstance(value, str) and not value:
        raise InputError(f"empty {what} directory name: give a path (an unset variable?)")
    path = Path(value)
    check_directory(path, what)
    return path


def check_directory(path: Path, what: str = "index") -> None:
    """Refuse a directory path that can never work, before anything reads
    or writes through it: ``Path.is_dir`` and ``mkdir`` swallow a symlink
    loop or a dangling link into "missing" or "File exists", which sends
    the user after the wrong problem (and ``Path.resolve`` raises on it).

    :raises InputError: naming the path and what is wrong with it.
    """
    try:
        os.stat(path)
    except OSError as exc:
        link = broken_link(path, exc)
        if link:
            raise InputError(f"{what} directory {path} {link}") from None
        if exc.errno == errno.ENOTDIR:
            raise InputError(f"{what} directory {path}: a part of the path is a file, not a directory") from None
        if exc.errno != errno.ENOENT:
            raise InputError(f"{what} directory {path} cannot be used ({exc.strerror or exc})") from None
        return
    if not path.is_dir():
        raise InputError(f"{what} directory {path} is a file, not a directory")


# Reading


def live_generation(index_dir: Path) -> Path:
    """The directory of the live generation; clear errors when there is none."""
    check_directory(index_dir)
    if not index_dir.is_dir():
        raise IndexMissingError(f"no index at {index_dir}: run `papersearch reindex --index {index_dir}`")
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexMissingError(f"no index at {index_dir}: run `papersearch reindex --index {index_dir}`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise out_of_resources(exc, index_dir) or _corrupt(index_dir, f"cannot read {POINTER} ({exc})") from None
    if not _GEN.match(name) or not (index_dir / name).is_dir():
        raise _corrupt(index_dir, f"{POINTER} names a missing generation {name!r}")
    return index_dir / name


def pin(index_dir: Path) -> tuple[Path, int | None]:
    """The live generation, held against `cleanup` until the returned file
    descriptor is closed. Without it a reader kept open across two
    reindexes lost its files to the second one's cleanup: a thread opening
    its own Whoosh reader then failed as "damaged". A generation removed
    between reading ``CURRENT`` and taking the lock is noticed (its
    manifest is gone and ``CURRENT`` names another: cleanup deletes under
    the exclusive lock) and the pointer read again. Where a directory
    cannot be locked (a file system without ``flock``), the generation is
    read unpinned, as before pins existed (None)."""
    for _ in range(10):
        generation = live_generation(index_dir)
        try:
            fd = os.open(generation, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            continue
        except OSError:
            return generation, None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
        except OSError:
            os.close(fd)
            return generation, None
        if (generation / MANIFEST).exists() or live_generation(index_dir) == generation:
            return generation, fd  # a missing manifest of the live generation is read_manifest's error to name
        os.close(fd)
    raise _corrupt(index_dir, f"its live generation kept disappearing while being opened ({POINTER} changing)")


def read_manifest(generation: Path) -> Manifest:
    try:
        data = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
        return Manifest(data["format"], data["analyzer"], data["kiwi"], data["posts"], data.get("files"),
                        data.get("ordered"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise (out_of_resources(exc, generation.parent)
               or _corrupt(generation.parent, f"unreadable {MANIFEST} ({exc.__class__.__name__})")) from None


def check_files(generation: Path, manifest: Manifest) -> None:
    """Raise `IndexCorruptError` naming the first recorded file of the
    generation that is gone or not the size it was written at: a stat a
    file, nothing read."""
    for name, size in sorted((manifest.files or {}).items()):
        try:
            found = (generation / name).stat().st_size
        except OSError:
            raise _corrupt(generation.parent, f"{generation.name}/{name} is missing") from None
        if found != size:
            raise _corrupt(generation.parent, f"{generation.name}/{name} has {found} bytes, {size} were written")


def _recorded(generation: Path) -> dict[str, int]:
    """The generation's files and sizes for `Manifest.files`: not the
    manifest, derived tables, temporary or lock files."""
    return {p.name: p.stat().st_size for p in generation.iterdir()
            if p.is_file() and p.name != MANIFEST and p.name not in DERIVED
            and not p.name.endswith((".tmp", "LOCK", "-journal", "-wal", "-shm"))}


def _corrupt(index_dir: Path, why: str) -> IndexCorruptError:
    return IndexCorruptError(
        f"index at {index_dir} is damaged: {why}; run `papersearch reindex --full --index {index_dir}`"
    )


# Writing


@contextmanager
def writer_lock(index_dir: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the single-writer lock, waiting for another reindex if needed.

    ``flock`` is released by the kernel when a writer dies, so a killed
    reindex never leaves a stale lock behind.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with file_lock(index_dir / ".lock", on_wait):
        yield


@contextmanager
def file_lock(path: Path, on_wait: Callable[[], None] | None = None, remove: bool = False) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path``, calling ``on_wait`` once if
    another process holds it; the kernel releases it when its holder dies.

    With ``remove``, the file is removed on the way out, still locked (a
    lock named after a cluster URL in the temp directory would otherwise
    stay there, one for every cluster ever written to). A waiter may then
    hold a lock on a removed file, so it takes the lock only once the path
    still names the file it locked, else it opens the new one (as
    `terminal.serve._single_server` does for its own lock: serve imports
    nothing of the index layer)."""
    waited = False
    while True:
        handle = open(path, "a+")  # noqa: SIM115 - closed below
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait and not waited:
                    on_wait()
                waited = True
                fcntl.flock(handle, fcntl.LOCK_EX)
            if not remove or _names(path, handle):
                break
        except BaseException:
            handle.close()
            raise
        handle.close()
    with handle:
        try:
            yield
        finally:
            if remove:
                with suppress(FileNotFoundError):
                    path.unlink()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _names(path: Path, handle: IO[str]) -> bool:
    """Whether ``path`` still names the open file."""
    try:
        return os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
    except FileNotFoundError:
        return False


def new_generation(index_dir: Path, base: Path | None) -> Path:
    """Create the next generation's directory, seeded from ``base``.

    Backend files are hard-linked: the backend only ever writes new files
    and deletes old ones, never rewrites one, so the live generation is
    untouched. The lexicon, which SQLite rewrites in place, is copied.
    """
    numbers = [int(m.group(1)) for p in index_dir.iterdir() if (m := _GEN.match(p.name))]
    target = index_dir / f"gen-{max(numbers, default=0) + 1:06d}"
    target.mkdir()
    if base is None:
        return target
    try:
        for item in base.iterdir():
            if item.name == LEXICON:
                shutil.copy2(item, target / item.name)
            elif item.is_file() and item.name != MANIFEST and not item.name.endswith("LOCK"):
                os.link(item, target / item.name)
    except BaseException:  # a copy that ran out of space must not keep what it copied
        discard(index_dir, target)
        raise
    return target


def discard(index_dir: Path, generation: Path) -> None:
    """Remove a generation that a failed reindex was building, at once: on
    a full disk it holds the space the user needs back, and the next
    reindex may be a long way off. The live generation is never removed
    (a failure after `publish` switched to it leaves it live)."""
    try:
        live = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        live = None
    if generation.name != live:
        shutil.rmtree(generation, ignore_errors=True)
    with suppress(OSError):  # a pointer that failed half-written: the writer lock says nobody else writes it
        (index_dir / (POINTER + ".tmp")).unlink(missing_ok=True)


def generation_bytes(generation: Path) -> int:
    """Bytes the files of one generation take (hard links counted in full:
    this is what a rebuild writes again)."""
    total = 0
    for item in generation.iterdir():
        try:
            total += item.stat().st_size if item.is_file() else 0
        except OSError:
            continue
    return total


def write_manifest(generation: Path, manifest: Manifest) -> None:
    """Write the manifest last, once every other file of the generation is
    written, with their sizes (`Manifest.files`)."""
    manifest.files = _recorded(generation)
    _write_atomic(generation / MANIFEST, manifest.to_json())


def publish(index_dir: Path, generation: Path) -> None:
    """Make ``generation`` live in one atomic step, then drop old ones."""
    for item in generation.iterdir():
        _fsync(item)
    _fsync(generation)
    _write_atomic(index_dir / POINTER, generation.name + "\n")
    cleanup(index_dir)


def cleanup(index_dir: Path) -> None:
    """Remove generations older than the live one's predecessor, and any
    half-built generation a killed reindex left behind."""
    try:
        live = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return
    gens = sorted(p for p in index_dir.iterdir() if _GEN.match(p.name))
    older = [p for p in gens if p.name < live]
    keep = {live, *(p.name for p in older[-_KEEP_OLD:])}
    for path in gens:
        if path.name not in keep:
            _remove_unpinned(path)


def _remove_unpinned(generation: Path) -> None:
    """Remove a generation unless a reader pins it (`pin`): it is then left
    for a later cleanup, after the reader closes."""
    try:
        fd = os.open(generation, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # nothing a reader could have pinned either
        shutil.rmtree(generation, ignore_errors=True)
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # a reader holds it
        os.close(fd)
        return
    except OSError:  # no flock on this file system: nobody can pin, removed as before pins existed
        pass
    try:
        shutil.rmtree(generation, ignore_errors=True)
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
