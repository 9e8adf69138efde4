"""The Whoosh directory backend's reading side: `WhooshIndex`, the
`engine.Engine` primitives over one generation of a Whoosh index, safe to
share between threads (each reads through its own `_Reader`)."""

from __future__ import annotations

import heapq
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from functools import partial, wraps
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index

from ... import engine
from ...engine import Engine, Planned, plan
from ...errors import IndexClosedError, IndexCorruptError, SearchkitError, out_of_resources
from ...glossary import Glossary
from ...hits import IndexStats, Results
from ...lexicon import Lexicon
from ...query import ParsedQuery
from ...schema import ALL, TEXT_FIELDS, Spans
from ...similar import TOP_SCAN, top_terms
from ...store import FORMAT, LEXICON, Manifest, check_files, directory, live_generation, pin, read_manifest
from .postings import Damaged, Postings


def open_directory(index_dir: str | Path) -> WhooshIndex:
    """Open the live generation of the index directory at ``index_dir``."""
    index = directory(index_dir)
    generation, pinned = pin(index)
    try:
        manifest = read_manifest(generation)
        if manifest.format != FORMAT:
            raise IndexCorruptError(
                f"index at {index} has an older format; run `papersearch reindex --full --index {index}`"
            )
        check_files(generation, manifest)
        try:
            return WhooshIndex(generation, manifest, pinned)
        except IndexCorruptError:  # names the damaged file itself
            raise
        except Exception as exc:  # Whoosh raises many types for damaged files
            raise _exhausted(exc, index) or IndexCorruptError(
                f"index at {index} cannot be opened ({exc.__class__.__name__}); "
                f"run `papersearch reindex --full --index {index}`"
            ) from None
    except BaseException:
        if pinned is not None:
            os.close(pinned)
        raise


def place(doc_key: str) -> tuple[str, int]:
    """A document's place in a full build, from its ``doc_key``
    (``POST#LINE``): posts by name, papers as written. Docnums follow it
    only until an incremental reindex appends a post."""
    post, _, line = doc_key.rpartition("#")
    return post, int(line)


def _identity(generation: Path, opened: int | None = None) -> tuple[int, int]:
    """The generation directory itself (device, inode), from the descriptor
    that pins it when there is one."""
    found = os.fstat(opened) if opened is not None else os.stat(generation)
    return found.st_dev, found.st_ino


class _Reader:
    """One thread's view of a generation: a Whoosh reader and what is
    read from it once. Whoosh's readers seek and read shared file handles,
    so two threads on one reader read each other's bytes (wrong postings,
    missing papers, false "damaged" errors): each thread gets its own. Its
    lock lets a lazy total be counted from another thread.

    Searching reads the reader directly; a Whoosh searcher over it is made
    only when asked for (the tests compare with Whoosh's own scores):
    importing ``whoosh.searching`` pulls in Whoosh's whole query language,
    which a cold query process would pay for and never use."""

    def __init__(self, ix: Any, field_totals: dict[str, int]) -> None:
        self._ix = ix
        self.reader = ix.reader()
        # closes the files once: on `close`, or when the thread's reader is dropped
        self._close = weakref.finalize(self, self.reader.close)
        self._searcher: Any = None
        self.lock = threading.RLock()
        self._totals = field_totals
        self._postings: Postings | None = None
        self.columns: dict[str, Any] = {}
        self.papers: np.ndarray | None = None

    @property
    def searcher(self) -> Any:
        """A Whoosh searcher over this reader, weighted as the engine scores."""
        if self._searcher is None:
            from whoosh.scoring import BM25F
            from whoosh.searching import Searcher

            weighting = BM25F(B=engine.BM25_B, K1=engine.BM25_K1)
            self._searcher = Searcher(self.reader, weighting=weighting, fromindex=self._ix)
        return self._searcher

    @property
    def postings(self) -> Postings:
        if self._postings is None:
            self._postings = Postings(self.reader, engine.BM25_K1, engine.BM25_B, self._totals)
        return self._postings

    def column(self, name: str) -> Any:
        """A sortable field's column, opened once: opening one reads its
        whole offset table."""
        if name not in self.columns:
            self.columns[name] = self.reader.column_reader(name)
        return self.columns[name]

    def place(self, doc: int) -> tuple[str, int]:
        """The document's place in a full build (`place`), for exact ties."""
        return place(self.column("doc_key")[doc])

    def close(self) -> None:
        with self.lock:
            self._close()


def _places(keys: Any) -> Callable[[int], tuple[str, int]]:
    """Each document's place in a full build (`place`), from its column:
    not from the reader, which a pending total holds only weakly (`_total`)."""
    return lambda doc: place(keys[doc])


def _per_thread(method: Callable, counting: bool = False) -> Callable:
    """Run a public method on this thread's reader, holding its lock, with
    Whoosh's own failures reported as a damaged index (a truncated or
    garbled file raises anything from EOFError to a bare Exception, naming
    the repair); failures in our own code stay what they are. ``counting``:
    a total's count, let in while `close` counts the pending ones."""

    @wraps(method)
    def guarded(self: WhooshIndex, *args: Any, **kwargs: Any) -> Any:
        self._enter(counting)
        try:
            with _reported_as_ours(self.generation.parent), self._reader.lock:
                return method(self, *args, **kwargs)
        finally:
            self._leave()

    return guarded


@contextmanager
def _reported_as_ours(index: Path) -> Iterator[None]:
    """Failures while reading the index raised as `_reported` names them;
    ours (a `SearchkitError`, or a bug in our own code) as they are."""
    try:
        yield
    except SearchkitError:
        raise
    except Exception as exc:
        reported = _reported(exc, index)
        if reported is exc:
            raise
        raise reported from None


def _exhausted(exc: Exception, index: Path) -> Exception | None:
    """The system's shortage behind ``exc``, if there is one (`errors.out_of_resources`),
    also where Whoosh hid it: it lists a directory it cannot open as an empty
    index, so the directory is listed again here."""
    exhausted = out_of_resources(exc, index)
    if exhausted is None:
        try:
            os.listdir(index)
        except OSError as listing:
            exhausted = out_of_resources(listing, index)
    return exhausted


def _reported(exc: Exception, index: Path) -> Exception:
    """What to raise for ``exc``, raised while reading the index: the system
    out of files or memory as such (a full reindex would not help);
    Whoosh's own failures as a damaged index; our own as they are (``exc``
    itself)."""
    if not (_raised_in_whoosh(exc) or isinstance(exc, Damaged)):
        return out_of_resources(exc, index) or exc
    return _exhausted(exc, index) or IndexCorruptError(
        f"index at {index} is damaged ({exc.__class__.__name__} in Whoosh); "
        f"run `papersearch reindex --full --index {index}`")


def _raised_in_whoosh(exc: Exception) -> bool:
    """Whether the innermost frame of Whoosh or of ours that ``exc`` came
    through is Whoosh's: a garbled column fails in the codec Whoosh calls
    (``UnicodeDecodeError`` in ``encodings``), which is Whoosh reading bad
    bytes, not a bug of ours."""
    last = ""
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith(("whoosh", "searchkit")):
            last = module
        tb = tb.tb_next
    return last.startswith("whoosh")


class WhooshIndex(Engine):
    """One generation of a Whoosh index, with its lexicon. One open index
    may be shared by threads: each reads through its own `_Reader`."""

    def __init__(self, generation: Path, manifest: Manifest | None = None, pinned: int | None = None) -> None:
        self.generation = generation
        self._identity = _identity(generation, pinned)
        manifest = manifest or read_manifest(generation)
        self._totals = manifest.field_totals()
        self._ordered = bool(manifest.ordered)  # docnums in full-build order: no place to look up
        self._lock = threading.Lock()
        self._local = threading.local()
        self._readers: weakref.WeakSet[_Reader] = weakref.WeakSet()
        self._pending: list[weakref.ref[Results]] = []
        self._closed = False
        self._closing = False
        self._busy = 0  # calls in flight, which `close` waits for
        self._idle = threading.Condition(self._lock)
        self._ix = whoosh_index.open_dir(str(generation))
        try:
            self._lexicon = Lexicon(generation / LEXICON, readonly=True)
            self._glossary = Glossary.of(generation)
            _ = self._reader  # the opening thread's: a damaged segment shows now
        except BaseException:
            self._ix.close()
            raise
        # the generation's pin (`store.pin`), released on close or when the index is dropped
        self._unpin = weakref.finalize(self, os.close, pinned) if pinned is not None else None

    @property
    def _reader(self) -> _Reader:
        """This thread's reader, opened on its first use; a thread that
        ends takes its reader with it."""
        reader = getattr(self._local, "reader", None)
        if self._closed:
            raise IndexClosedError(f"the index at {self.generation.parent} is closed; open it again to search it")
        if reader is None:
            reader = _Reader(self._ix, self._totals)
            with self._lock:
                self._readers.add(reader)
            self._local.reader = reader
        return reader

    @property
    def _searcher(self) -> Any:
        return self._reader.searcher

    def _enter(self, counting: bool = False) -> None:
        """A public call begins: refused once the index is closing, unless
        it is made from within a call in flight (a search parses its query)
        or it counts a total while `close` still counts the pending ones
        (one whose thread ended is counted where it is read, not waited for:
        `close` may be waiting to count that very total)."""
        with self._lock:
            if self._closing and not getattr(self._local, "busy", 0) and not (counting and not self._closed):
                raise IndexClosedError(f"the index at {self.generation.parent} is closed; open it again to search it")
            self._busy += 1
            self._local.busy = getattr(self._local, "busy", 0) + 1

    def _leave(self) -> None:
        with self._lock:
            self._busy -= 1
            self._local.busy -= 1
            self._idle.notify_all()

    def close(self) -> None:
        """Refuse new calls, let the calls in flight finish, count the
        totals still pending (theirs too), then close every thread's
        reader. Later calls raise `IndexClosedError`; closing again does
        nothing. A search that began just before a close on another thread
        had its lexicon closed under it (reported as a damaged index) and
        its total left uncounted (`IndexClosedError` on reading it)."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            try:
                while self._busy > getattr(self._local, "busy", 0):  # not for this thread's own calls
                    self._idle.wait()
            except BaseException:  # interrupted (Ctrl-C): a later close must still close
                self._closing = False
                raise
            pending, self._pending = self._pending, []
            self._busy += 1  # counting is a call in flight: a total whose thread ended is planned again here
            self._local.busy = getattr(self._local, "busy", 0) + 1
        try:
            for ref in pending:  # totals need their reader: count them now
                if (results := ref()) is not None:
                    with suppress(SearchkitError):  # that total's own failure
                        _ = results.total
        finally:  # interrupted or not, the readers close
            with self._lock:
                self._busy -= 1
                self._local.busy -= 1
                while self._busy > self._local.busy:  # totals other threads began counting meanwhile
                    self._idle.wait()
                self._closed = True
                readers = list(self._readers)
            for reader in readers:
                reader.close()
            self._ix.close()
            self._lexicon.close()
            if self._unpin is not None:
                self._unpin()

    def is_current(self) -> bool:
        """Whether the live generation is the one this index reads: the
        same name and the same directory, since an index removed and
        built again starts its names over (gen-000001 again)."""
        try:
            live = live_generation(self.generation.parent)
            return live == self.generation and _identity(live) == self._identity
        except (SearchkitError, OSError):
            return False

    # the Engine primitives

    def df(self, field: str, term: str) -> int:
        return self._postings().df(field, term)

    @property
    def size(self) -> int:
        return self._postings().count

    def _postings(self) -> Postings:
        return self._reader.postings

    def _plan(self, parsed: ParsedQuery, scope: tuple[str, ...], joined: Sequence[str],
              since: str | None = None, until: str | None = None, exclude: str | None = None) -> Planned:
        """Scored over every document of the generation, those outside
        the dates or copies of ``exclude`` masked out; stored fields are
        read once."""
        reader = self._reader
        postings = reader.postings
        within = postings.within("date", since, until) if since or until else None
        if exclude is not None:
            others = ~postings.dense("arxiv_id", exclude).match
            within = others if within is None else within & others
        planned = plan(postings, parsed, scope, joined, within, key=reader.column("arxiv_id").__getitem__,
                       day=reader.column("date").__getitem__, read=self._stored, distinct=self._distinct,
                       place=None if self._ordered else _places(reader.column("doc_key")))
        planned.again = lambda: self._plan(parsed, scope, joined, since, until, exclude)
        return planned

    def _total(self, query: Planned) -> Callable[[], tuple[int, bool]]:
        """The lazy total, counted under its reader's lock from whichever
        thread asks; while the thread that searched is reading with that
        reader (its next search), the asking thread plans the query again
        on its own reader rather than wait for it (a whole search: 10.9 s
        on a heavy query at 5,000 papers). The reader is held weakly: a
        thread that ends closes its files (~6) even while results it made
        keep an unread total, which is then planned again where it is read."""
        held = weakref.ref(self._reader)

        def count() -> tuple[int, bool]:
            reader = held()
            if reader is None:  # its thread has ended
                return self._recount(query)
            if not reader.lock.acquire(blocking=False):
                if query.again is not None:
                    with suppress(IndexClosedError):  # closing: `close` is counting with that reader; wait
                        return self._recount(query)
                reader.lock.acquire()
            try:
                with _reported_as_ours(self.generation.parent):
                    return query.count()
            finally:
                reader.lock.release()

        return count

    @partial(_per_thread, counting=True)
    def _recount(self, query: Planned) -> tuple[int, bool]:
        """``query``'s total, counted on this thread's reader (see `_total`)."""
        fresh = query.replanned()
        assert fresh is not None  # `_total` asks only then
        return fresh.count()

    def _finish(self, results: Results) -> Results:
        """Totals are counted lazily and need the reader: `close` counts
        those still pending."""
        with self._lock:
            self._pending = [ref for ref in self._pending if ref() is not None] + [weakref.ref(results)]
        return results

    def _documents(self, field: str, value: str) -> list[int]:
        """Live documents whose exact ``field`` is ``value`` (Whoosh's
        ``document_numbers``, without its query machinery)."""
        found = []
        for leaf, offset in self._reader.reader.leaf_readers():
            if (field, value) in leaf:
                found += [offset + n for n in leaf.postings(field, value).all_ids()]
        return found

    def _copies(self, arxiv_id: str) -> list[dict]:
        numbers = self._documents("arxiv_id", arxiv_id)
        return sorted((self._stored(n) for n in numbers), key=lambda d: d["date"])

    def _dates(self, arxiv_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        column = self._reader.column("date")
        return {i: tuple(sorted({column[n] for n in self._documents("arxiv_id", i)}))
                for i in dict.fromkeys(arxiv_ids)}

    def _near(self, term: str) -> list[str]:
        # the combined field holds every section's terms: one look-up, not eight
        return list(self._reader.reader.terms_within(ALL, term, 1))

    search = _per_thread(Engine.search)
    paper = _per_thread(Engine.paper)
    similar = _per_thread(Engine.similar)
    parse = _per_thread(Engine.parse)
    typed_terms = _per_thread(Engine.typed_terms)

    @_per_thread
    def export_source(self) -> dict[str, Any]:
        """What a static export (`searchkit.site.export`) reads, exactly as
        `search` reads it: this thread's `Postings` (live N, df, idf,
        lengths, tf), its Whoosh reader (term lists), stored fields by
        docnum, the live docnums in a full build's order (the page numbers
        documents so, and breaks exact ties by number), the lexicon, the
        concept layer and the ranking constants."""
        postings = self._postings()
        order = sorted(np.flatnonzero(postings.live()).tolist(), key=self._reader.place)
        return {
            "postings": postings, "reader": self._reader.reader, "stored": self._stored, "order": order,
            "lexicon": self._lexicon, "glossary": self._glossary,
            "constants": {"BM25_K1": engine.BM25_K1, "BM25_B": engine.BM25_B, "CANDIDATES": engine.CANDIDATES,
                          "COUNT_BUDGET": engine.COUNT_BUDGET, "ARXIV_BOOST": engine.ARXIV_BOOST,
                          "SUGGEST_WORDS": engine.SUGGEST_WORDS, "SUGGEST_LONGEST": engine.SUGGEST_LONGEST},
        }

    @_per_thread
    def stats(self) -> IndexStats:
        manifest = read_manifest(self.generation)
        reader = self._reader.reader
        column = reader.column_reader("date") if reader.doc_count() else {}
        # from live documents: the term list still has deleted posts' dates
        dates = sorted({column[d] for d in reader.all_doc_ids()})
        entries, papers = manifest.counts()
        top = {f: top_terms(_most_frequent(reader, self._postings(), f)) for f in TEXT_FIELDS}
        size = sum(p.stat().st_size for p in self.generation.iterdir() if p.is_file())
        return IndexStats(
            str(self.generation.parent), len(manifest.posts), entries, papers,
            dates[0] if dates else None, dates[-1] if dates else None,
            size, manifest.analyzer, manifest.kiwi, top,
        )

    def _stored(self, docnum: int) -> dict:
        return _unpacked(self._reader.reader.stored_fields(docnum))

    def _distinct(self, docnums: list[int]) -> int:
        """How many papers these documents are copies of."""
        reader = self._reader
        if reader.papers is None:  # one code a paper, read once: totals count thousands of matches
            codes: dict[str, int] = {}
            reader.papers = np.array([codes.setdefault(i, len(codes)) for i in reader.column("arxiv_id")])
        # distinct codes counted without np.unique, which imports numpy.ma (16 ms cold) in numpy 2.4
        return int(np.count_nonzero(np.bincount(reader.papers[docnums]))) if docnums else 0


def _most_frequent(reader: Any, postings: Postings, field: str) -> list[tuple[str, int]]:
    """The field's `TOP_SCAN` most frequent terms in live documents, most
    frequent first (ties as Whoosh orders them). Whoosh's own counts still
    hold deleted documents until their segment is rewritten (a removed
    post's terms stayed on top): each term's is an upper bound, so terms
    are recounted in that order until no later one could reach the list."""
    if not reader.has_deletions():
        return [(t.decode(), int(n)) for n, t in reader.most_frequent_terms(field, TOP_SCAN)]
    bounds = sorted(((info.weight(), text) for text, info in reader.iter_field(field)), reverse=True)
    top: list[tuple[float, bytes]] = []  # a min-heap of the best TOP_SCAN so far
    for bound, text in bounds:
        if len(top) == TOP_SCAN and bound < top[0][0]:
            break
        live = float(postings.read(field, text.decode())[1].sum())
        if live:
            (heapq.heappush if len(top) < TOP_SCAN else heapq.heappushpop)(top, (live, text))
    return [(t.decode(), int(n)) for n, t in sorted(top, reverse=True)]


def _unpacked(fields: Mapping[str, Any]) -> dict:
    """A document's stored fields with its term offsets ready to unpack."""
    stored = dict(fields)
    stored["spans"] = Spans(stored["spans"])
    return stored
