"""The ``papersearch`` command: a thin click layer over the library.

Each command parses its options, makes one library call and renders the
result. Exit codes follow grep: 0 results (or success), 1 no results,
2 usage or input errors; library errors become one line on stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem

from .. import __version__
from ..backends import is_cluster, open_index
from ..engine import Index
from ..errors import IndexMissingError, NotFoundError, SearchkitError
from ..schema import SECTION_GROUPS
from ..store import POINTER
from .cluster import DirectoryPath

if TYPE_CHECKING:
    from ..hits import IndexStats, Results

DEFAULT_CORPUS = "corpus"
DEFAULT_INDEX = "index"
KEEP_OPEN = False
"""Set by `papersearch serve`: keep each index open for the next command."""
_open_indexes: dict[Path | str, Index] = {}
KEPT = 4
"""Most indexes a served process keeps open, the least recently used
closed first: a client naming a new --index each time grew a worker to
489 file descriptors and 167 MB, each index's generation pinned."""


# Errors → exit codes


def _error_line(line: str) -> None:
    """Print an error line on stderr: wrapped at word boundaries to a
    terminal's width, one unbroken line when stderr is a file or a pipe."""
    from .render import make_console, print_line

    print_line(make_console(file=sys.stderr), line)


class InputProblem(click.ClickException):
    """A library input error, shown as one line, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        _error_line(f"Error: {self.format_message()}")


class Failure(click.ClickException):
    """An expected failure that is not the user's input (exit code 1)."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        _error_line(f"Error: {self.format_message()}")


class OneLineUsageError(click.UsageError):
    """A usage error as the one line the README promises (click prints the
    usage, a hint, a blank line and the error: four lines), naming what is
    wrong and where help is."""

    def show(self, file: Any = None) -> None:
        command = self.ctx.command_path if self.ctx else "papersearch"
        _error_line(f"Error: {self.format_message()} (try '{command} --help')")


def _one_line(exc: click.UsageError) -> click.UsageError:
    """The one-line form of a click usage error; the bare ``papersearch``,
    which shows the whole help, stays as it is."""
    if isinstance(exc, (OneLineUsageError, click.exceptions.NoArgsIsHelpError)):
        return exc
    return OneLineUsageError(" ".join(exc.format_message().split()), exc.ctx)


class Commands(click.Group):
    """The command group, turning every usage error of it and of its
    commands (unknown option, bad value, missing argument) into one line."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line(exc) from None


def reports_errors(func: Callable) -> Callable:
    """Turn library errors into one-line click errors with our exit codes."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NotFoundError as exc:
            raise Failure(str(exc)) from None
        except SearchkitError as exc:  # InputError and the rest: the user can fix it
            raise InputProblem(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


# Shared options


class LocationPath(DirectoryPath):
    """An index or corpus option: a directory, never empty (``--index
    "$IDX"`` with ``$IDX`` unset would build an index wherever the user
    happens to stand; an empty environment variable counts as unset,
    click's rule, so it gives the default), or a cluster URL, kept as text."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if is_cluster(value):
            return value
        return super().convert(value, param, ctx)


def index_option(func: Callable) -> Callable:
    return click.option(
        "--index", "index_dir", type=LocationPath(),
        default=DEFAULT_INDEX, envvar="PAPERSEARCH_INDEX", show_default=True,
        help="Index directory or cluster URL sphinx://HOST:PORT/NAME (env PAPERSEARCH_INDEX).",
    )(func)


def corpus_option(func: Callable) -> Callable:
    return click.option(
        "--corpus", "corpus_dir", type=LocationPath(),
        default=DEFAULT_CORPUS, envvar="PAPERSEARCH_CORPUS", show_default=True,
        help="Directory of Markdown posts (env PAPERSEARCH_CORPUS).",
    )(func)


def _complete_sections(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``--section`` names for shell completion, matched without regard to
    case as the library matches them (validation stays with the library, so
    an unknown name is its one-line error)."""
    prefix = incomplete.lower()
    return [CompletionItem(name) for name in SECTION_GROUPS if name.startswith(prefix)]


def json_option(func: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")(func)


def pager_option(func: Callable) -> Callable:
    return click.option("--no-pager", is_flag=True, help="Never page long output (it is never paged when piped).")(func)


def _show(draw: Callable[[Any], None], no_pager: bool = False) -> None:
    """Render to text first, then print or page it (see `client.emit`);
    piped output is plain text without trailing padding."""
    from .output import emit
    from .render import make_console

    console = make_console()
    with console.capture() as capture:
        draw(console)
    text = capture.get()
    if not console.is_terminal or console.no_color or console.color_system is None:
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    emit(text, paging=console.is_terminal and not no_pager)


def _show_plain(results: Any = None, paper: Any = None) -> bool:
    """Print query results or a paper as plain text without importing
    rich, when the output is not a terminal (see `plain`); False when rich
    must draw them."""
    from . import plain

    columns = plain.width() if plain.wanted() else None
    if not columns:
        return False
    text = plain.results_text(results, columns) if paper is None else plain.paper_text(paper, columns)
    if text is None:
        return False
    from .output import emit

    emit(text, paging=False)
    return True


def _show_paper(paper: Any, no_pager: bool) -> None:
    """A paper on a terminal: laid out as plain text, painted with the
    theme's styles (see `plain.paper_text`), paged; rich draws it only
    when plain text cannot."""
    from . import plain
    from .output import emit
    from .render import make_console, painter, print_paper

    console = make_console()
    text = plain.paper_text(paper, console.width, painter(console))
    if text is None:
        _show(lambda console: print_paper(console, paper), no_pager)
    else:
        emit(text, paging=console.is_terminal and not no_pager)


def _err() -> Any:
    from .render import make_console

    return make_console(file=sys.stderr)


def _echo_json(data: dict) -> None:
    from .output import answer_ready

    text = json.dumps(data, ensure_ascii=False, indent=2)
    answer_ready()
    click.echo(text)


# Commands


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="papersearch")
def cli() -> None:
    """Korean full-text search over AI-paper summaries.

    \b
    Examples:
      papersearch reindex
      papersearch query "확산 모델"
      papersearch query --section limitations "계산 비용"
    """


@cli.command(name="reindex")
@corpus_option
@index_option
@click.option("--full", is_flag=True, help="Analyse every post again, not only changed ones.")
@click.option("--strict", is_flag=True, help="Exit 2, writing nothing, if any post cannot be indexed.")
@click.option("--allow-empty", is_flag=True, help="Let a corpus with no posts empty an index that has some.")
@reports_errors
def reindex_command(corpus_dir: Path, index_dir: Path, full: bool, strict: bool, allow_empty: bool) -> None:
    """Index the posts in the corpus (only what changed since last time).

    \b
    Examples:
      papersearch reindex                        # 바뀐 글만 다시 색인
      papersearch reindex --full                 # 전체 다시 색인
      papersearch reindex --corpus corpus --index scratch-index   # 다른 색인 디렉터리
    """
    from .render import print_report

    print_report(_err(), _reindex(corpus_dir, index_dir, full, strict, allow_empty))


def _reindex(
    corpus_dir: Path, index_dir: Path, full: bool = False, strict: bool = False, allow_empty: bool = False
) -> Any:
    from ..backends import reindex
    from .render import print_line, progress_bar

    console = _err()
    with progress_bar(console) as progress:
        return reindex(
            corpus_dir, index_dir, full=full, strict=strict, allow_empty=allow_empty, progress=progress,
            on_wait=lambda: print_line(console, f"waiting for another reindex of {index_dir} to finish…"),
        )


strict_shards_option = click.option(
    "--strict-shards", is_flag=True, help="On a cluster, exit 2 when a shard does not answer."
)


@cli.command(name="query")
@click.argument("text")
@index_option
@click.option("--limit", "-n", type=click.IntRange(min=1), default=10, show_default=True, help="Papers to show.")
@click.option(
    "--section", "-s", "sections", multiple=True, metavar="NAME", shell_complete=_complete_sections,
    help=f"Search only these sections (repeatable): {', '.join(SECTION_GROUPS)}.",
)
@click.option("--since", metavar="DATE", help="Only papers posted on or after DATE (2025-10-01).")
@click.option("--until", metavar="DATE", help="Only papers posted on or before DATE.")
@click.option("--sort", type=click.Choice(["score", "date"]), default="score", show_default=True, help="Order of hits.")
@click.option("--no-expand", is_flag=True, help="Do not add glossary, concept or mined synonyms.")
@click.option("--feedback", is_flag=True, help="Add the first hits' telling terms and search again.")
@click.option("--explain", is_flag=True, help="Show how each hit's score adds up, term by term.")
@strict_shards_option
@json_option
@pager_option
@reports_errors
def query_command(  # noqa: PLR0913 - one parameter per option
    text: str, index_dir: Path, limit: int, sections: tuple[str, ...], since: str | None, until: str | None,
    sort: str, no_expand: bool, feedback: bool, explain: bool, strict_shards: bool, as_json: bool, no_pager: bool,
) -> None:
    """Rank papers for TEXT and show the matching sections.

    Words are OR-ed, papers matching more of them first; "double quotes"
    make a phrase; an arXiv id finds that paper.

    \b
    Examples:
      papersearch query "확산 모델"
      papersearch query '"확산 모델" 샘플링' --limit 5
      papersearch query 2510.21800               # arXiv id로 찾기
      papersearch query --section limitations "계산 비용" --json
      papersearch query "에이전트" --since 2025-11-01 --sort date
    """
    with _open(index_dir) as index:
        results = index.search(
            text, limit=limit, sections=list(sections) or None, since=since, until=until, sort=sort,
            expand=not no_expand, explain=explain, **({"feedback": True} if feedback else {}),
        )
    _report_shards(results, strict_shards)
    if as_json:
        from .render import results_json

        _echo_json(results_json(results))
    elif not _show_plain(results):
        from .render import print_results

        _show(lambda console: print_results(console, results), no_pager)
    if not results:
        sys.exit(1)


@cli.command(name="show")
@click.argument("arxiv_id")
@index_option
@json_option
@pager_option
@reports_errors
def show_command(arxiv_id: str, index_dir: Path, as_json: bool, no_pager: bool) -> None:
    """Print one paper in full, every section, every post it appeared in.

    \b
    Example:
      papersearch show 2510.00515                # 논문 전체 요약 보기
    """
    with _open(index_dir) as index:
        paper = index.paper(arxiv_id)
    if as_json:
        from .render import paper_json

        _echo_json(paper_json(paper))
    elif not _show_plain(paper=paper):
        _show_paper(paper, no_pager)


@cli.command(name="similar")
@click.argument("arxiv_id")
@index_option
@click.option("--limit", "-n", type=click.IntRange(min=1), default=10, show_default=True, help="Papers to show.")
@strict_shards_option
@json_option
@pager_option
@reports_errors
def similar_command(arxiv_id: str, index_dir: Path, limit: int, strict_shards: bool, as_json: bool,
                    no_pager: bool) -> None:
    """Papers most like ARXIV_ID, with the key terms they share with it.

    \b
    Example:
      papersearch similar 2510.00515 --limit 5   # 시각 토큰 압축 논문과 비슷한 논문
    """
    with _open(index_dir) as index:
        source = index.paper(arxiv_id)
        results = index.similar(arxiv_id, limit=limit)
    _report_shards(results, strict_shards)
    if as_json:
        from .render import results_json

        _echo_json(results_json(results))
    else:
        from .render import print_similar

        _show(lambda console: print_similar(console, source, results), no_pager)
    if not results:
        sys.exit(1)


def _report_shards(results: Results | IndexStats, strict: bool) -> None:
    """A cluster's results (and stats) say whether every shard answered: a
    partial answer is one line on stderr, or with ``strict`` an error (exit 2)."""
    shards = getattr(results, "shards", None)
    if shards is not None and shards.partial:
        if strict:
            raise InputProblem(f"{shards.warning()} (--strict-shards)")
        _error_line(shards.warning())


@cli.command(name="stats")
@index_option
@json_option
@strict_shards_option
@reports_errors
def stats_command(index_dir: Path, as_json: bool, strict_shards: bool) -> None:
    """What the index holds: posts, papers, dates, size, versions, top terms.

    \b
    Example:
      papersearch stats --index scratch-index    # 색인 통계와 섹션별 빈출 용어
    """
    with _open(index_dir) as index:
        stats = index.stats()
    _report_shards(stats, strict_shards)
    if as_json:
        from .render import stats_json

        _echo_json(stats_json(stats))
    else:
        from .render import print_stats

        _show(lambda console: print_stats(console, stats), no_pager=True)


@cli.command(name="glossary")
@index_option
@click.option("--mined", is_flag=True, help="List the pairs mined from the corpus instead.")
@json_option
@reports_errors
def glossary_command(index_dir: Path, mined: bool, as_json: bool) -> None:
    """The concept layer: hand-written concepts, or the mined term pairs.

    Without --mined: each synonym, narrower, verb, frame and light entry
    of data/concepts.tsv and how many curated and mined pairs there are.
    With --mined: every 한국어(English) pair the corpus writes, most
    frequent first, as queries use it.

    \b
    Examples:
      papersearch glossary                       # 개념 사전 항목
      papersearch glossary --mined --json        # 말뭉치에서 뽑은 용어 쌍
    """
    from ..glossary import load_concepts, load_pairs

    with _open(index_dir) as index:
        pairs = index.concepts().mined
    if mined:
        rows = [{"korean": p.ko_text, "english": p.en_text, "count": p.count} for p in pairs]
        if as_json:
            _echo_json({"mined": rows})
            return
        for row in rows:
            click.echo(f"{row['count']:4d}  {row['korean']} ({row['english']})")
        return
    concepts = [{"kind": kind, "head": head, "members": list(members)} for kind, head, members in load_concepts()]
    if as_json:
        _echo_json({"concepts": concepts, "curated_pairs": len(load_pairs()), "mined_pairs": len(pairs)})
        return
    for entry in concepts:
        members = " | ".join(entry["members"])
        click.echo(f"{entry['kind']:9} {entry['head']}" + (f" → {members}" if members else ""))
    click.echo(f"{len(load_pairs())} curated English–Korean pairs; {len(pairs)} pairs mined from the corpus (--mined)")


@contextmanager
def _open(index_dir: Path) -> Iterator[Index]:
    """Open the index, building it from the corpus first when the index
    directory exists but is empty (a fresh clone's ``index/``), so that the
    README's first command works as written. A directory that does not
    exist is a typo, not a request to build."""
    key = index_dir if isinstance(index_dir, str) else _key(index_dir)  # a cluster URL is kept as text
    kept = _open_indexes.pop(key, None)
    if kept is not None and kept.is_current():
        index = kept
    else:
        if kept is not None:
            kept.close()
        index = open_index(index_dir) if isinstance(index_dir, str) else _open_or_build(index_dir)
    if KEEP_OPEN:
        _open_indexes[key] = index  # popped above: now the most recently used
        while len(_open_indexes) > KEPT:
            _open_indexes.pop(next(iter(_open_indexes))).close()
        yield index
    else:
        with index:
            yield index


def _key(index_dir: Path) -> Path:
    """The index's absolute path, for the served process's open indexes.
    ``resolve`` raises on a symlink loop; `open_index` then says what is
    wrong in one line."""
    try:
        return index_dir.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(index_dir))


def _nothing_of_others(index_dir: Path) -> bool:
    """Whether the directory holds only what papersearch writes (its lock,
    pointer and generations) and dot files (a repository's .gitkeep): a
    query builds an index only there, never among someone's files."""
    try:
        return all(entry.name.startswith((".", "gen-")) or entry.name == POINTER for entry in index_dir.iterdir())
    except OSError:  # a directory we may enter but not list: not ours to build in
        return False


def _open_or_build(index_dir: Path) -> Index:
    try:
        return open_index(index_dir)
    except IndexMissingError:
        # an empty $PAPERSEARCH_CORPUS is unset, as click treats the options' variables
        corpus = Path(os.environ.get("PAPERSEARCH_CORPUS") or DEFAULT_CORPUS)
        if not index_dir.is_dir() or not corpus.is_dir() or not _nothing_of_others(index_dir):
            raise
        from .render import print_line, print_report

        print_line(_err(), f"no index at {index_dir} yet: building it from {corpus}/ first")
        print_report(_err(), _reindex(corpus, index_dir))
        return open_index(index_dir)


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """click's FloatRange lets ``nan`` through (no comparison holds for it)."""
    if value != value:
        raise click.BadParameter(f"{value} is not a number.")
    return value


@cli.command(name="serve")
@index_option
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes  [default: one per core]")
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=10.0, show_default=True, callback=_finite,
              help="Seconds a request may take before its client gets an error.")
@click.option("--max-requests", type=click.IntRange(min=1), default=5000, show_default=True,
              help="Requests a worker answers before it is replaced (keeps memory flat).")
@reports_errors
def serve_command(index_dir: Path, workers: int | None, timeout: float, max_requests: int) -> None:
    """Keep the index open and warm; other papersearch commands use it.

    While it runs, `papersearch query`, `show`, `similar` and `stats` for
    the same index are answered by this process through a socket in the
    index directory (for a cluster URL, in a directory of yours named by the
    URL), in a few milliseconds instead of a few hundred; without it they
    run by themselves as usual. A reindex is picked up at once.

    \b
    Example:
      papersearch serve &        # 백그라운드에서 실행
      papersearch query "확산 모델"
    """
    from .render import print_line
    from .serve import serve

    if isinstance(index_dir, str):  # a cluster URL: check it answers before forking workers for it
        with open_index(index_dir):
            pass
    serve(index_dir, announce=lambda line: print_line(_err(), line), workers=workers, timeout=timeout,
          max_requests=max_requests, command=cli, warm_up=_keep_open)


def _keep_open() -> None:
    """In a server's worker, commands leave their index open for the next one."""
    global KEEP_OPEN
    KEEP_OPEN = True


@cli.command(name="site")
@click.argument("out_dir", type=click.Path(path_type=Path))
@index_option
@click.option("--post-url", default=None, metavar="TEMPLATE",
              help="A post's URL from {year} {month} {day} {slug}  [default: /{year}/{month}/{day}/{slug}.html]")
@reports_errors
def site_command(out_dir: Path, index_dir: Path, post_url: str | None) -> None:
    """Write a static search page for the index into OUT_DIR.

    \b
    Example:
      papersearch site _site-search            # 정적 검색 페이지 (Jekyll: search/ 로 복사)
    """
    from .site import run_site

    run_site(index_dir, out_dir, post_url, _err())


@cli.command(name="trend")
@click.argument("text")
@index_option
@click.option("--section", "-s", "sections", multiple=True, metavar="NAME", shell_complete=_complete_sections,
              help=f"Search only these sections (repeatable): {', '.join(SECTION_GROUPS)}.")
@click.option("--since", metavar="DATE", help="Only papers posted on or after DATE (2025-10-01).")
@click.option("--until", metavar="DATE", help="Only papers posted on or before DATE.")
@click.option("--no-expand", is_flag=True, help="Do not add English/Korean glossary synonyms.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of weeks instead of the chart.")
@reports_errors
def trend_command(text: str, index_dir: Path, sections: tuple[str, ...], since: str | None, until: str | None,
                  no_expand: bool, as_json: bool) -> None:
    """Matching papers per ISO week, as a bar chart.

    \b
    Example:
      papersearch trend "확산 모델" --since 2025-10-01   # 주별 논문 수
    """
    from ..site.trend import trend
    from .site import print_trend

    with _open(index_dir) as index:
        weeks = trend(index, text, sections=list(sections) or None, since=since, until=until, expand=not no_expand)
    print_trend(weeks, as_json)
    if not weeks:
        sys.exit(1)


def _add_cluster_commands() -> None:
    """``papersearch cluster …`` (see `terminal.cluster`)."""
    from .cluster import cluster

    cli.add_command(cluster)


_add_cluster_commands()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI. click's standalone mode would turn a closed pipe
    (``papersearch query … | head``) into exit 1, "no results"; here the
    reader simply had what it wanted, so it is exit 0."""
    from .output import columns_set, tolerant_streams

    if "COLUMNS" in os.environ and columns_set() is None:  # rich would draw zero columns: nothing, errors too
        del os.environ["COLUMNS"]  # as good as unset, as the server takes it
    tolerant_streams()
    try:
        code = cli.main(args=argv, prog_name="papersearch", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except click.Abort:
        click.echo("Aborted!", err=True)
        code = 1
    except BrokenPipeError:
        from .output import reader_left

        code = reader_left()
    sys.exit(code if isinstance(code, int) else 0)
