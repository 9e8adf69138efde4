"""Papers → Whoosh directory: incremental, atomic reindexing.

Parts: the plan (which posts changed) and the writer. A reindex parses every post (cheap: it needs their hashes
anyway), analyses only added or changed posts in one Kiwi batch, applies
the change to a new generation and publishes it (see `store`).
"""

from __future__ import annotations

import errno
import gc
import json
import math
import shutil
import sqlite3
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import indexing, pairs
from ...analysis import ANALYZER_VERSION, Term, analyse_stream, kiwi_version
from ...corpus import Paper, Post
from ...errors import CorpusError, IndexCorruptError, IndexMissingError, IndexWriteError, SearchkitError
from ...glossary import (
    GLOSSARY_FILE,
    READINGS_FILE,
    TABLE_FILE,
    glossary_changed,
    glossary_texts,
    readings,
    readings_current,
    refresh_table,
    save_glossary,
    save_readings,
    save_table,
    stored_readings,
)
from ...indexing import Progress, ReindexReport, count_lengths, diff, read_corpus, section_text, stored_sections
from ...lexicon import Lexicon
from ...schema import ALL, FIELD_WEIGHTS, TEXT_FIELDS, pack_spans
from ...store import (
    FORMAT,
    LEXICON,
    Manifest,
    check_files,
    cleanup,
    directory,
    discard,
    generation_bytes,
    live_generation,
    new_generation,
    publish,
    read_manifest,
    write_manifest,
    writer_lock,
)
from .schema import Preanalysed, build_schema

BLOCK = 1024
"""Postings per block: the scorer reads whole posting lists, and each
block costs a seek, a decompression and an unpickling whatever its size
(Whoosh's default of 128 suits its own skipping, which goes unused)."""

FLUSH_POSTINGS = 4_000_000
"""Postings a writer holds before it writes them out as a segment: about
13,000 papers, roughly 300 MB. Without it a 50k-paper reindex peaked at
1.9 GiB (838 MiB with it); the scorer reads four segments as fast as one.
(The posts' texts and the lexicon's counts still grow with the corpus.)"""

INDEX_BYTES_PER_POST_BYTE = 16
"""How much bigger an index is than its posts, to estimate the free space
a reindex needs when there is no live generation to measure: 1.8 MB for
the default corpus's 116 kB, 12.8 MiB for the shared corpus's 1.5 MiB."""

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
_SQLITE_FULL, _SQLITE_READONLY, _SQLITE_PERM = 13, 8, 3
"""SQLite's primary result codes (the lexicon reports through them)."""

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
    """`backends.reindex` into an index directory: a write that fails
    (full disk, read-only directory) raises `IndexWriteError` and leaves no
    partial generation behind; the live index keeps answering."""
    started = time.perf_counter()
    corpus, index = directory(corpus_dir, "corpus"), directory(index_dir, "index")
    if not corpus.is_dir():
        raise CorpusError(f"corpus directory not found: {corpus}")
    existed = index.exists()
    try:
        with writer_lock(index, on_wait):
            cleanup(index)  # half-built generations of a reindex that was killed
            base, manifest, notices = _base(index, full)
            posts = read_corpus(corpus, progress)
            skipped = tuple(p for post in posts for p in post.problems if p.fatal)
            if strict:
                _refused(index, existed, posts)
            guard = None if allow_empty else _EmptyGuard(corpus, index, len(posts))
            report = _apply(index, base, manifest, posts, progress, guard)
    except (OSError, sqlite3.Error) as exc:  # a full disk, a read-only directory
        raise _write_error(exc, index, corpus) from None
    warnings = tuple(p for post in posts for p in post.problems if not p.fatal)
    return ReindexReport(
        posts_read=len(posts),
        skipped=skipped,
        warnings=warnings,
        full=base is None,
        seconds=time.perf_counter() - started,
        notices=tuple(notices),
        **report,
    )


def _refused(index: Path, existed: bool, posts: list[Post]) -> None:
    """``--strict``'s refusal (`indexing.refuse_skips`), which writes
    nothing: an index directory made only to hold the lock goes with it."""
    try:
        indexing.refuse_skips(posts)
    except CorpusError:
        if not existed and [p.name for p in index.iterdir()] == [".lock"]:
            shutil.rmtree(index, ignore_errors=True)
        raise


def _write_error(exc: OSError | sqlite3.Error, index: Path, corpus: Path) -> IndexWriteError:
    """One line for a failed write, saying what the user can do about it."""
    kind = _fault(exc)
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if kind == "full":
        need, free = _space_needed(index, corpus), _free_space(index)
        return IndexWriteError(
            f"cannot write the index at {index}: {reason}; a reindex needs about {_megabytes(need, up=True)} "
            f"free there, {_megabytes(free)} free now; the partial generation was removed, the live index is unchanged"
        )
    if kind == "read-only":
        return IndexWriteError(f"index directory {index} is not writable ({reason}); the live index is unchanged")
    return IndexWriteError(f"cannot write the index at {index}: {reason}")


def _fault(exc: OSError | sqlite3.Error) -> str:
    """"full", "read-only" or "other", from an errno or SQLite's code."""
    if isinstance(exc, OSError):
        return "full" if exc.errno in _DISK_FULL else "read-only" if exc.errno in _READ_ONLY else "other"
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is None:  # older Pythons: only the message says
        text = str(exc)
        return "full" if "is full" in text else "read-only" if "readonly" in text else "other"
    code &= 0xFF  # extended codes keep the primary one in the low byte
    return "full" if code == _SQLITE_FULL else "read-only" if code in (_SQLITE_READONLY, _SQLITE_PERM) else "other"


def _space_needed(index: Path, corpus: Path) -> int:
    """Bytes a reindex may write: a generation as big as the live one (a
    full rebuild or a merge rewrites it), or the corpus scaled by
    `INDEX_BYTES_PER_POST_BYTE`, whichever is larger."""
    try:
        live = generation_bytes(live_generation(index))
    except (SearchkitError, OSError):
        live = 0
    posts = 0
    with suppress(OSError):
        posts = sum(path.stat().st_size for path in corpus.glob("*.md") if path.is_file())
    return max(live, INDEX_BYTES_PER_POST_BYTE * posts)


def _free_space(index: Path) -> int:
    for path in (index, *index.parents):
        with suppress(OSError):
            return shutil.disk_usage(path).free
    return 0


def _megabytes(size: int, up: bool = False) -> str:
    """A size in MB to one decimal, rounded up for a need, down for what is free."""
    tenths = size / 1e5
    return f"{(math.ceil(tenths) if up else math.floor(tenths)) / 10:.1f} MB"


def _base(index: Path, full: bool) -> tuple[Path | None, Manifest, list[str]]:
    """The generation to build on, or None for a full rebuild (and why)."""
    fresh = Manifest(FORMAT, ANALYZER_VERSION, kiwi_version())
    notices: list[str] = []
    try:
        base = live_generation(index)
        manifest = read_manifest(base)
        stale = (manifest.format, manifest.analyzer, manifest.kiwi) != (fresh.format, fresh.analyzer, fresh.kiwi)
        if not stale:  # an older format may not even open: it is rebuilt, not repaired
            check_files(base, manifest)  # as a query does: Whoosh reads an emptied file as garbage or defaults
            _check_readable(base)
    except IndexMissingError:
        return None, fresh, notices
    except IndexCorruptError as exc:
        return None, fresh, [f"{str(exc).partition('; run')[0]}; rebuilding in full"]
    if stale:
        notices.append("index was built by another format, analyzer or Kiwi version; rebuilding in full")
    if not (full or stale) and not pairs.present(base):
        notices.append("index has no mined term pairs yet; rebuilding in full")
        stale = True
    if full or stale:
        return None, fresh, notices
    return base, manifest, notices


def _check_readable(generation: Path) -> None:
    """Building on a damaged generation would carry the damage forward."""
    from whoosh import index as whoosh_index

    try:
        whoosh_index.open_dir(str(generation)).searcher().close()
    except Exception as exc:  # Whoosh raises many types for damaged files
        raise IndexCorruptError(f"index at {generation.parent} is damaged ({exc.__class__.__name__})") from None


@dataclass(frozen=True)
class _EmptyGuard:
    """Refuses a reindex that would leave an index holding posts with none:
    an empty, unmounted or mistyped corpus directory must not silently wipe
    an index (``allow_empty`` turns this off)."""

    corpus: Path
    index: Path
    posts_read: int

    def check(self, remaining: int) -> None:
        live = _live_posts(self.index)
        if remaining or not live:
            return
        found = "has no *.md posts" if not self.posts_read else f"has none of its {self.posts_read} posts to index"
        raise CorpusError(
            f"corpus {self.corpus} {found}: this would empty the index at {self.index} ({live} posts); "
            "nothing was written (use --allow-empty to empty it)"
        )


def _live_posts(index: Path) -> int:
    """Posts in the live generation, 0 when there is none or it is damaged."""
    try:
        return len(read_manifest(live_generation(index)).posts)
    except SearchkitError:
        return 0


def _apply(
    index: Path, base: Path | None, manifest: Manifest, posts: list[Post], progress: Progress | None,
    guard: _EmptyGuard | None = None,
) -> dict[str, int]:
    """Write the difference between the manifest and the corpus into a new
    generation; when nothing changed, keep the live one as it is."""
    known = manifest.posts
    change = diff(known, posts)
    changed, removed, counts = change.changed, change.removed, change.counts
    if guard is not None:
        guard.check(change.remaining)
    if (base is not None and not changed and not removed and not glossary_changed(base)
            and readings_current(stored_readings(base))):
        refresh_table(base)
        return {**counts, **_totals(manifest)}
    generation = new_generation(index, base)
    try:
        papers = [paper for post in changed for paper in post.papers]
        lengths = _write(generation, base, [Path(p.path).name for p in changed] + removed, papers, progress)
        for name in removed:
            del known[name]
        for post in changed:
            name = Path(post.path).name
            ids = [p.arxiv_id for p in post.papers]
            known[name] = {"digest": post.digest, "ids": ids, "lengths": lengths.get(name, {})}
        # a full build writes posts in order; an incremental one appends (removals keep the order)
        manifest.ordered = base is None or bool(manifest.ordered and not changed)
        _read_glossary(generation, manifest)
        write_manifest(generation, manifest)
        publish(index, generation)
    except BaseException as exc:  # a full disk, Ctrl-C: the half-built generation goes now, not at the next reindex
        _release(exc)
        discard(index, generation)
        raise
    return {**counts, **_totals(manifest)}


def _read_glossary(generation: Path, manifest: Manifest) -> None:
    """Read the glossary's surfaces as queries of the new generation read
    them (`glossary.readings`), then store its look-up table."""
    from .index import WhooshIndex

    path = generation / GLOSSARY_FILE
    body = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for inherited in (READINGS_FILE, TABLE_FILE):  # the base's, about to be replaced: never read (nor trusted)
        (generation / inherited).unlink(missing_ok=True)
    engine = WhooshIndex(generation, manifest)
    try:
        save_readings(generation, readings(body, engine.typed_terms))
    finally:
        engine.close()
    save_table(generation)


def _totals(manifest: Manifest) -> dict[str, int]:
    entries, papers = manifest.counts()
    return {"entries": entries, "papers": papers}


def _write(
    generation: Path, base: Path | None, stale_posts: list[str], papers: list[Paper], progress: Progress | None
) -> dict[str, dict[str, int]]:
    """Analyse the papers (and the glossary, if it changed) in one stream
    and write each paper with Whoosh as soon as its analysis arrives.
    Returns each post's exact field lengths (terms per field, summed over
    its papers), which the searcher's statistics are computed from."""
    from whoosh import index as whoosh_index

    path = str(generation)
    ix = whoosh_index.create_in(path, build_schema()) if base is None else whoosh_index.open_dir(path)
    writer = _writer(ix)
    lexicon = Lexicon(generation / LEXICON)
    try:
        if base is not None:  # their readings leave the lexicon's counts as they leave the index
            lexicon.remove(_indexed_texts(ix, stale_posts))
        for name in stale_posts:
            writer.delete_by_term("post", name)
        # deleted papers' terms linger in term statistics until their segment
        # is rewritten: rewrite everything once they are a fifth of the index
        rewrite = ix.doc_count_all() and writer.reader().doc_count() < 0.8 * ix.doc_count_all()
        texts = [section_text(paper, name) for paper in papers for name in TEXT_FIELDS]
        glossary = glossary_texts(generation, base)
        analysed = analyse_stream(texts + glossary)
        width = len(TEXT_FIELDS)
        lengths: dict[str, dict[str, int]] = {}
        mined: dict[str, list[pairs.Pair]] = {}
        for i, paper in enumerate(papers):
            fields, own = [next(analysed) for _ in range(width)], texts[i * width : (i + 1) * width]
            writer.add_document(**_document(paper, fields, own))
            count_lengths(lengths.setdefault(paper.post, {}), fields, own)
            lexicon.add(zip(own, fields))
            mined.setdefault(paper.post, []).extend(pairs.mine_fields(own, fields))
            if writer.buffered >= FLUSH_POSTINGS:
                writer.commit(merge=False)
                writer = _writer(ix)
            if progress and (i % 16 == 15 or i + 1 == len(papers)):
                progress("analysing papers", i + 1, len(papers))
        save_glossary(generation, base, glossary, list(analysed))
        pairs.save(generation, stale_posts, mined)
        # a full build's segments never need merging; an incremental one's
        # small segments do, now and then (Whoosh's MERGE_SMALL)
        writer.commit(optimize=bool(rewrite), merge=base is not None)
        lexicon.close()
        return lengths
    except BaseException:
        _abandon(writer, lexicon)
        raise
    finally:
        ix.close()


def _indexed_texts(ix: Any, posts: list[str]) -> Iterator[tuple[str, list[tuple[str, int, int, int]]]]:
    """Each section text of the posts' live documents with its terms, as
    they were indexed (stored text and offsets: no Kiwi)."""
    with ix.reader() as reader:
        for name in posts:
            if ("post", name) not in reader:
                continue
            for docnum in reader.postings("post", name).all_ids():
                if reader.is_deleted(docnum):
                    continue
                stored = reader.stored_fields(docnum)
                yield from stored_sections(stored, stored["spans"])


def _release(exc: BaseException) -> None:
    """Close the files a failed write still holds open. The traceback keeps
    the writer's frames, and so its open segment files, alive as long as the
    exception lives: their space would not come back when the generation is
    removed (nor at all, for a library caller who keeps the error)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__context__
    gc.collect()  # Whoosh's writer and its index refer to each other


def _abandon(writer: Any, lexicon: Lexicon) -> None:
    """Close what a failed write left open, quietly: the generation is
    discarded anyway, and on a full disk the cancel and the lexicon's last
    flush fail again, which would bury the first error under two more."""
    if not writer.is_closed:  # a writer that failed to open leaves the last one committed
        with suppress(Exception):
            writer.cancel()
    with suppress(Exception):  # its last flush fails too; the connection closes all the same
        lexicon.close()


def _writer(ix: Any) -> Any:
    from .bulkwriter import BulkWriter, FreshCodec  # imports Whoosh's writer: not on a query's path

    # compound=False: Whoosh reads a compound segment file wholly into memory
    # when it opens it (58 MB at 10k papers); separate files are read as needed
    # limitmb: Whoosh's pool, used only when older segments are merged in
    return BulkWriter(ix, limitmb=256, compound=False, codec=FreshCodec(blocklimit=BLOCK))


def _document(paper: Paper, analysed: list[list[Term]], texts: list[str]) -> dict:
    doc: dict = {
        "doc_key": f"{paper.post}#{paper.line}",
        "arxiv_id": paper.arxiv_id,
        "post": paper.post,
        "date": paper.date,
        "url": paper.url,
        "spans": {},
    }
    combined: list[Term] = []
    boosts: list[float] = []
    for name, terms, text in zip(TEXT_FIELDS, analysed, texts):
        if not text:
            continue
        doc[name] = Preanalysed(text, terms)
        doc[f"_stored_{name}"] = text
        doc["spans"][name] = pack_spans(terms)
        combined += terms  # `all` keeps no positions: no need to renumber them
        boosts += [FIELD_WEIGHTS[name]] * len(terms)
    doc[ALL] = Preanalysed(paper.title, combined, boosts)
    return doc
