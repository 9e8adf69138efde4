"""What every backend's reindex shares: the report, the progress
callback, reading the posts, and the per-post field-length totals the
searcher's statistics are computed from (`backends.whoosh.writer` and
`backends.sphinx.writer` both write them into the manifest)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .analysis import GAP, Term
from .corpus import Paper, Post, Problem, find_posts, parse_post
from .errors import CorpusError
from .schema import ALL, TEXT_FIELDS, unpack_spans

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while a reindex works."""



@dataclass(frozen=True)
class ReindexReport:
    """What a reindex did, for the summary line.

    :param posts_read: post files found in the corpus.
    :param entries: paper entries now in the index (a re-posted paper counts
        once per post).
    :param papers: distinct arXiv ids now in the index.
    :param added, updated, removed: posts analysed anew or dropped.
    :param skipped: posts not indexed at all, each with its reason.
    :param warnings: problems inside posts that were indexed.
    :param full: True when every post was analysed again.
    :param notices: why a full rebuild happened, if it was not asked for.
    """

    posts_read: int
    entries: int
    papers: int
    added: int
    updated: int
    removed: int
    skipped: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    full: bool
    seconds: float
    notices: tuple[str, ...] = field(default=())



def read_corpus(corpus: Path, progress: Progress | None) -> list[Post]:
    """Every ``*.md`` entry of ``corpus`` as a `Post`, parsed (cheap: a
    reindex needs their digests anyway). An entry `find_posts` cannot open
    (a directory, a broken link, a symlink loop) becomes a skipped post
    too, not a missing one: `diff` then keeps its last good version until
    the file is deleted, as it does for a post that cannot be parsed."""
    paths, problems = find_posts(corpus)
    posts = [Post(problem.path, "", (), (problem,)) for problem in problems]
    for done, path in enumerate(paths, 1):
        posts.append(parse_post(path))
        if progress:
            progress("reading posts", done, len(paths))
    return posts



def refuse_skips(posts: list[Post]) -> None:
    """``--strict``: a post or a paper that would not be indexed is an
    error, raised before anything is written."""
    lost = [p for post in posts for p in post.problems if p.fatal or p.lost]
    if lost:
        raise CorpusError(f"{len(lost)} post(s) or paper(s) could not be indexed (--strict); first: {lost[0]}")


def field_length(terms: list[Term]) -> int:
    """A field's length as BM25 counts it: its terms, a `GAP` none."""
    return sum(1 for t in terms if t.text != GAP)


def count_lengths(totals: dict[str, int], analysed: list[list[Term]], texts: list[str]) -> None:
    """Add one paper's field lengths, as Whoosh counts them (one per
    term), to its post's totals; the combined field holds them all."""
    for name, terms, text in zip(TEXT_FIELDS, analysed, texts):
        if text:
            size = field_length(terms)
            totals[name] = totals.get(name, 0) + size
            totals[ALL] = totals.get(ALL, 0) + size


def section_text(paper: Paper, name: str) -> str:
    return paper.title if name == "title" else paper.sections.get(name, "")


@dataclass(frozen=True)
class Change:
    """What a reindex must write: posts whose digest changed (or are new),
    posts gone from the corpus, and how many posts the index keeps.

    A post that could not be read or parsed counts as present: its last
    good version stays (a half-saved post, or one whose link broke, must
    not delete its papers); only a deleted file removes them."""

    changed: list[Post]
    removed: list[str]
    counts: dict[str, int]
    """``added``, ``updated``, ``removed``, for the report."""
    remaining: int


def diff(known: Mapping[str, dict], posts: list[Post]) -> Change:
    """The change from the posts a manifest ``known`` to ``posts``."""
    current = {Path(p.path).name: p for p in posts if not p.skipped}
    present = {Path(p.path).name for p in posts}
    changed = [p for name, p in current.items() if known.get(name, {}).get("digest") != p.digest]
    removed = [name for name in known if name not in present]
    counts = {
        "added": sum(1 for p in changed if Path(p.path).name not in known),
        "updated": sum(1 for p in changed if Path(p.path).name in known),
        "removed": len(removed),
    }
    return Change(changed, removed, counts, len(set(current) | {name for name in known if name in present}))


def stored_sections(texts: Mapping[str, str], spans: Mapping[str, Any]) -> Iterator[tuple[str, list]]:
    """Each section text of a stored document with its terms as they were
    indexed (its packed offsets unpacked): what a reindex takes from the
    lexicon's counts for a replaced post, with no Kiwi."""
    for name in TEXT_FIELDS:
        if texts.get(name) and name in spans:
            yield texts[name], unpack_spans(spans[name])
