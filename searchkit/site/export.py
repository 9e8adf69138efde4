"""Index → a static search page: `export_site`.

The page (`static/`) runs the same query analysis and ranking as
`Index.search` in the browser, so the export gives it the index's own
numbers rather than a re-analysis: the lexicon's recorded word forms (no
Kiwi is loaded here), every term's live df and idf per field, its postings
with Whoosh's float32 weights, each document's length bytes, the stored
term offsets and texts, the analysed glossary, and every constant and
table the Python ranking reads (see `tables`). Everything is sharded so a
query downloads only what it touches (see `shards`).

The export is written into a temporary directory beside ``out_dir`` and
renamed into place, so a failed export never leaves a half-written
directory that looks complete.
"""

from __future__ import annotations

import fcntl
import glob
import gzip
import json
import os
import re
import secrets
import shutil
import string
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import numpy as np

from .. import standin, verbforms
from ..backends import open_index
from ..bm25 import LENGTHS
from ..engine import is_word
from ..errors import InputError
from ..schema import ALL, TEXT_FIELDS
from . import shards
from .tables import tables

FORMAT = "papersearch-site-1"
FIELDS = (ALL, *TEXT_FIELDS)
"""Fields with postings, in the order the data numbers them."""
DEFAULT_POST_URL = "/{year}/{month}/{day}/{slug}.html"
"""Jekyll's default permalink (``date``) for a post file ``YYYY-MM-DD-slug.md``."""
TARGET = 6_000
"""Bytes (before gzip) a hashed JSON shard averages: 1–3 KB on the wire.
Smaller shards mean more files but fewer bytes a query does not use
(a query touches a few shards of each kind, see benchmarks/site/)."""
POSTING_TARGET = 4_000
"""The same for a hashed posting shard (binary: most of it is gaps)."""
OWN_FILE = 4_000
"""A posting block larger than this gets a file of its own, so a common
term's postings are never fetched just to reach a rare one's."""
BUCKET = 1000
"""Documents per directory of per-document files."""


@dataclass(frozen=True)
class SiteReport:
    """What `export_site` wrote: counts and sizes (gzip: as served compressed)."""

    out_dir: str
    documents: int
    papers: int
    files: int
    bytes: int
    gzip_bytes: int
    page_gzip_bytes: int
    """index.html, its scripts, styles and meta.json: what every visit loads."""


def export_site(index_dir: str | Path, out_dir: str | Path, *, post_url: str = DEFAULT_POST_URL) -> SiteReport:
    """Write the static search page for the index at ``index_dir`` into
    ``out_dir`` (created, or replaced when it holds an earlier export).

    :param post_url: the blog post's URL for a post file, from ``{year}``,
        ``{month}``, ``{day}`` (the post's date) and ``{slug}`` (the file
        name after its date, URL-escaped); no other field.
    """
    _check_template(post_url)
    out = _target(Path(out_dir))
    with open_index(index_dir) as index:
        if not hasattr(index, "export_source"):
            raise InputError(f"a static page is exported from an index directory, not {index_dir}")
        source = index.export_source()
        _sweep_leftovers(out)
        tmp, claim = _claimed_tmp(out)
        try:
            _copy_static(tmp)
            documents, papers = _write_data(tmp / "data", source, post_url)
            (tmp / _CLAIM).unlink()
            _publish(tmp, out)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise InputError(f"cannot write the page at {out}: {exc.strerror or exc}") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            os.close(claim)
    return _report(out, documents, papers)


_CLAIM = ".export-in-progress"
"""A file in an export's temp directory, locked while the export writes it."""


def _claimed_tmp(out: Path) -> tuple[Path, int]:
    """A new temp directory beside ``out`` and the descriptor holding its
    claim locked: locked before it has its name, so a sweeper never finds
    the claim free."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise InputError(f"cannot write beside {out}: {exc.strerror}") from None
    try:
        claim = os.open(tmp / f"{_CLAIM}.new", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(claim, fcntl.LOCK_EX)
        os.rename(tmp / f"{_CLAIM}.new", tmp / _CLAIM)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise InputError(f"cannot write beside {out}: {exc.strerror}") from None
    return tmp, claim


def _sweep_leftovers(out: Path) -> None:
    """Remove the temp directories of exports to ``out`` that were killed
    (SIGKILL, a power cut: 2-17 MB each at 738 papers, never removed
    before): those whose claim file nobody holds locked. A running
    export's is locked; a directory with no claim file is left alone."""
    for old in out.parent.glob(f".{glob.escape(out.name)}.*.tmp"):
        try:
            fd = os.open(old / _CLAIM, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass  # an export at work
        finally:
            os.close(fd)


def _target(out: Path) -> Path:
    """``out_dir`` checked: its parent must exist, and it must be new,
    empty, or an earlier export (never someone's other files). A link is
    followed: the export replaces what it points at (replacing the link
    left it pointing at the stale export, and a stray link beside it)."""
    try:
        resolved = out.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of links
        raise InputError(f"output directory {out}: {getattr(exc, 'strerror', None) or exc}") from None
    if out.is_symlink() and not out.exists():
        raise InputError(f"output directory {out} is a link to nothing ({os.readlink(out)})")
    if out.is_symlink() and resolved.is_dir():
        out = resolved
    if not out.name or out.resolve() == Path("/").resolve():
        raise InputError(f"{out} cannot be an export directory")
    if not out.parent.resolve().is_dir():
        raise InputError(f"output directory {out}: its parent {out.parent} does not exist")
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise InputError(f"output directory {out} exists and is not a directory")
        if any(out.iterdir()) and not _is_export(out):
            raise InputError(f"output directory {out} is not empty and holds no earlier export; nothing was written")
    return out


def _is_export(out: Path) -> bool:
    try:
        return json.loads((out / "data" / "meta.json").read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _publish(tmp: Path, out: Path) -> None:
    """Rename the finished export into place; an earlier one is moved
    aside first and removed after."""
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; a page is for serving
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    try:
        tmp.rename(out)
    except OSError:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _copy_static(out: Path) -> None:
    static = files("searchkit.site").joinpath("static")
    for item in static.iterdir():
        if item.name.endswith((".html", ".js", ".css")):
            (out / item.name).write_bytes(item.read_bytes())


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def _write_data(data: Path, source: dict[str, Any], post_url: str) -> tuple[int, int]:
    """``data/meta.json`` and, beside it, every other file in a directory
    named after this export's ``version``: a page opened before a new
    export asks for the old version's files and learns that it must
    reload (`store.js`) instead of reading new shards with old counts, and
    a cached file can never be another export's."""
    version = secrets.token_hex(8)
    out = data / version
    postings, reader, stored = source["postings"], source["reader"], source["stored"]
    live = postings.live()
    # the page numbers live documents in a full build's order, by which the library breaks
    # exact ties, so that the page's ties, broken by number, go alike
    order = np.asarray(source["order"], dtype=np.int64)
    renumber = np.full(len(live), -1, dtype=np.int64)
    renumber[order] = np.arange(len(order))
    grams = shards.Grams(TEXT_FIELDS)
    papers, doc_dates = _write_documents(out, (stored(int(d)) for d in order), post_url, grams)
    dates = sorted(set(doc_dates))
    date_index = {d: i for i, d in enumerate(dates)}
    runs: list[list[int]] = []
    for day in doc_dates:
        if runs and runs[-1][1] == date_index[day]:
            runs[-1][0] += 1
        else:
            runs.append([1, date_index[day]])
    by_paper: dict[str, list[int]] = defaultdict(list)
    for i, paper in enumerate(papers):
        by_paper[paper].append(i)
    counts: dict[str, Any] = {}
    counts["lex"], counts["form"], counts["stem"], counts["alt"] = _write_lexicon(out, source["lexicon"])
    counts |= {
        "ids": _write_sharded(out / "ids", sorted(
            (paper, sorted([int(renumber[d]), float(t)] for d, t in zip(*postings.read("arxiv_id", paper))))
            for paper in by_paper)),
        "gram": _write_grams(out / "gram", grams),
        "sugg": _write_suggestions(out, postings, reader),
    }
    glossary = dict(shards.group_by_first(source["glossary"].synonyms))
    counts["dict"], counts["post"] = _write_postings(out, postings, reader, renumber, glossary)
    for field in FIELDS:
        lengths = postings.lengths(field)[order]
        codes = np.searchsorted(LENGTHS, lengths)
        if not np.array_equal(LENGTHS[codes], lengths):
            raise ValueError(f"the lengths of {field!r} are not Whoosh length bytes")
        (out / "len").mkdir(parents=True, exist_ok=True)
        (out / "len" / f"{field}.bin").write_bytes(codes.astype(np.uint8).tobytes())
    meta = {
        "format": FORMAT, "version": version, "count": int(postings.count), "fields": list(FIELDS),
        "averages": {f: postings.average(f) for f in FIELDS}, "lengths": LENGTHS.tolist(),
        "shards": counts, "bucket": BUCKET, "dates": dates, "doc_dates": runs,
        "copies": [group for group in by_paper.values() if len(group) > 1],
        "longest": source["lexicon"].longest(),  # `Lexicon.longest`: the page's `segment` tries no longer prefix
        "sticky": source["lexicon"].sticky_terms(),  # `Lexicon.sticky`: pieces `word_parts` keeps together
        **tables(source["constants"]),
    }
    _write_json(data / "meta.json", meta)
    return len(papers), len(by_paper)


def _write_documents(out: Path, documents: Any, post_url: str,
                     grams: shards.Grams) -> tuple[list[str], list[str]]:
    """One file per live document (its texts, links and stored offsets: a
    hit needs both, and one request is a round fewer), written as
    they are read (a large index's stored fields never sit in memory
    whole); ``grams`` gets each document's runs of terms (see
    `shards.Grams`). Returns each document's arXiv id and date."""
    papers, dates = [], []
    for i, d in enumerate(documents):
        grams.add(i, d["spans"])
        papers.append(d["arxiv_id"])
        dates.append(d["date"])
        spans = d["spans"]
        _write_json(out / "doc" / str(i // BUCKET) / f"{i}.json", {
            "arxiv_id": d["arxiv_id"], "title": d["title"], "url": d["url"], "date": d["date"],
            "post": _post_url(post_url, d["post"], d["date"]), "texts": {f: d.get(f, "") for f in TEXT_FIELDS},
            "spans": {name: shards.compact_spans(spans[name]) for name in spans},
        })
    return papers, dates


def _post_url(template: str, post: str, day: str) -> str:
    """The post's URL: its date as the index has it (the front matter's,
    else the file name's; Jekyll's permalinks take the same) and the file
    name after a leading date as the slug (``2025-10-06-daily-papers-20251006.md``
    → ``daily-papers-20251006``), escaped for a URL."""
    stem = post.rsplit("/", 1)[-1].removesuffix(".md")
    dated = _DATED.match(stem)
    year, month, date = day.split("-")
    return template.format(year=year, month=month, day=date, slug=quote(dated.group(1) if dated else stem))


_DATED = re.compile(r"\d{4}-\d{2}-\d{2}-(.+)")
_FIELDS = frozenset({"year", "month", "day", "slug"})


def _check_template(template: str) -> None:
    """`--post-url` names only its four fields, plainly (no index or
    attribute: ``{year.__class__}`` would read Python objects)."""
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)
                  if name is not None]
    except ValueError as exc:
        raise InputError(f"--post-url {template!r}: {exc}") from None
    wrong = [name for name, _, _ in fields if name not in _FIELDS]
    if wrong:
        raise InputError(f"--post-url {template!r}: {{{wrong[0]}}} is not one of "
                         "{year}, {month}, {day}, {slug}")
    dressed = [name for name, spec, conversion in fields if spec or conversion]
    if dressed:  # {day:x} fails, {slug:>100000000000} fills the memory: a field stands as it is
        raise InputError(f"--post-url {template!r}: {{{dressed[0]}}} takes no format spec or conversion "
                         "(write {year}, {month}, {day} or {slug} alone)")
    scheme = urlsplit(template).scheme.lower()
    if scheme not in ("", "http", "https"):  # a javascript: link would run on every click of a post title
        raise InputError(f"--post-url {template!r}: a post's URL is a path or an http(s) address, not {scheme}:")


def _write_sharded(directory: Path, items: Any, target: int = TARGET) -> int:
    items = list(items)
    size = sum(len(json.dumps(v, ensure_ascii=False)) + len(k) for k, v in items)
    count = shards.shard_count(size, target)
    for i, shard in enumerate(shards.split(items, count)):
        _write_json(directory / f"{i}.json", shard)
    return count


def _write_grams(directory: Path, grams: shards.Grams) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    files_ = grams.shards(POSTING_TARGET)
    for i, data in enumerate(files_):
        (directory / f"{i}.bin").write_bytes(data)
    return len(files_)


def _write_lexicon(out: Path, lexicon: Any) -> tuple[int, int, int, int]:
    """The word forms' readings (``lex``), the verb forms the corpus never
    wrote (``form``: read for a whole word only, as `Lexicon.lookup_whole`
    reads them), the stand-in's tables, and every reading of the forms
    read more than one way (``alt``, with counts: what
    `query.phrase_readings` matches a phrase by)."""
    entries = list(lexicon.entries())
    endings, stems = standin.tables(entries)  # what the page's stand-in reads, as the library's does
    _write_json(out / "endings.json", endings)
    recorded = {word for word, _ in entries}
    forms = [(word, reading) for word, reading in verbforms.all_readings() if word not in recorded]
    return (_write_sharded(out / "lex", entries), _write_sharded(out / "form", forms),
            _write_sharded(out / "stem", list(stems.items())), _write_sharded(out / "alt", list(lexicon.ambiguous())))


def _write_suggestions(out: Path, postings: Any, reader: Any) -> int:
    """Deletion key → the spellable terms (`searcher.is_word`) under it,
    with their df: what `_suggest` finds with Whoosh's ``terms_within``."""
    keyed: dict[str, list] = defaultdict(list)
    for term in reader.field_terms(ALL):
        if is_word(term) and (df := postings.df(ALL, term)):
            for key in sorted(shards.deletion_keys(term)):
                keyed[key].append([term, df])
    return _write_sharded(out / "sugg", sorted(keyed.items()))


def _write_postings(out: Path, postings: Any, reader: Any, renumber: np.ndarray,
                    glossary: dict[str, Any]) -> tuple[int, dict[str, int]]:
    """Posting blocks (binary, see `shards.posting_block`) in hashed shards,
    one group for ``all`` and one for the sections (an unrestricted query
    reads only the first); the dictionary says where each block is. A
    term's glossary entries (sources starting with it, `shards.group_by_first`)
    close its dictionary row: the page reads a typed word's statistics and
    synonyms in one fetch, and each synonym's postings in the next."""
    blocks: dict[str, list[tuple[str, int, bytes]]] = {"a": [], "s": []}
    stats: dict[str, list] = defaultdict(list)
    for fi, field in enumerate(FIELDS):
        group = "a" if field == ALL else "s"
        for term in reader.field_terms(field):
            docs, tf = postings.read(field, term)
            if not len(docs):
                continue
            numbers = renumber[docs]
            ascending = np.argsort(numbers, kind="stable")
            blocks[group].append((term, fi, shards.posting_block(numbers[ascending], tf[ascending])))
            stats[term].append([fi, postings.df(field, term), postings.idf(field, term), group])
    counts: dict[str, int] = {}
    where: dict[tuple[str, int], list] = {}
    for group, items in blocks.items():
        small = sum(len(b) for *_, b in items if len(b) <= OWN_FILE)
        count = counts[group] = shards.shard_count(small, POSTING_TARGET)
        files_: dict[str, bytearray] = defaultdict(bytearray)
        for n, (term, fi, block) in enumerate(items):
            name = f"t{n}" if len(block) > OWN_FILE else str(shards.shard_of(term, count))
            where[term, fi] = [name, len(files_[name]), len(block)]
            files_[name] += block
        (out / "post" / group).mkdir(parents=True, exist_ok=True)
        for name, data in files_.items():
            (out / "post" / group / f"{name}.bin").write_bytes(bytes(data))
    def rows(term: str) -> list:
        return [[fi, df, idf, group, *where[term, fi]] for fi, df, idf, group in stats.get(term, ())]

    def all_row(term: str) -> list | int:
        return next((row for row in rows(term) if row[0] == 0), 0)

    # each synonym carries its terms' `all` rows (0: not in the index), so the page reads an
    # expansion's postings without first fetching its terms' dictionary shards
    glossary = {first: {source: [[*target, [all_row(t) for t in target[0]]] for target in targets]
                        for source, targets in sources.items()} for first, sources in glossary.items()}
    entries = ((term, rows(term) + ([glossary[term]] if term in glossary else [])) for term in {**stats, **glossary})
    return _write_sharded(out / "dict", entries), counts


def _report(out: Path, documents: int, papers: int) -> SiteReport:
    total = gz = page = 0
    count = 0
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        size = len(gzip.compress(data, 6))
        count, total, gz = count + 1, total + len(data), gz + size
        if path.parent == out or path == out / "data" / "meta.json":
            page += size
    return SiteReport(str(out), documents, papers, count, total, gz, page)
