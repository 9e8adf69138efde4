"""A hostile environment: symlink loops, empty path arguments, a full disk,
a read-only index directory, an empty corpus, a narrow terminal, usage
slips and shell completion (issue 15, item 4 and part of item 6).

Each fault must be one line on stderr with exit code 2 (never a
traceback, never silent harm), and the live index must keep answering.
Faults that need a real file system (a full or read-only one) are
simulated by making the write fail with the errno the kernel would give,
at several points of a reindex; where this machine lets us mount a tmpfs
the same faults are also produced for real.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner, Result
from rich.cells import cell_len

import searchkit
from searchkit import lexicon, store
from searchkit.schema import SECTION_GROUPS
from searchkit.terminal.cli import cli

from .conftest import DEFAULT_CORPUS, TINY_POSTS, write_posts

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
"""Escape sequences: colours, and the progress bar's cursor movements."""
NEW_POST = """\
---
date: 2025-01-09
---
# 1. [Penguin Tracking](https://arxiv.org/abs/2501.00009)
## Method
펭귄 군집의 이동을 추적한다.
"""


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def papersearch(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """The installed entry point's code path (client, then cli.main) in a
    fresh process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "searchkit", *args], capture_output=True, text=True,
                          env={**ENV, **env}, cwd=cwd, timeout=120)


def assert_one_line(result: Result | subprocess.CompletedProcess, code: int = 2) -> str:
    """The result is one ``Error:`` line on stderr with ``code``; returns it."""
    exit_code = result.exit_code if isinstance(result, Result) else result.returncode
    assert exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), result.stderr
    return result.stderr.rstrip("\n")


def generations(index: Path) -> list[str]:
    return sorted(p.name for p in index.iterdir() if p.name.startswith("gen-"))


def answers(index: Path) -> list[tuple[str, float]]:
    with searchkit.open_index(index) as opened:
        return [(hit.arxiv_id, round(hit.score, 6)) for hit in opened.search("확산 로봇", limit=5)]


# Symlink loops


@pytest.fixture
def loop(tmp_path: Path) -> Path:
    path = tmp_path / "loop"
    path.symlink_to(path)
    return path


@pytest.mark.parametrize("args", [["query", "모델"], ["show", "2501.00001"], ["similar", "2501.00001"], ["stats"]],
                         ids=["query", "show", "similar", "stats"])
def test_an_index_that_is_a_symlink_loop_is_one_line(loop: Path, args: list[str]) -> None:
    line = assert_one_line(run(*args, "--index", str(loop)))
    assert line == f"Error: index directory {loop} is a symlink loop"


def test_reindex_into_a_symlink_loop_is_one_line(loop: Path, tiny_corpus: Path) -> None:
    line = assert_one_line(run("reindex", "--corpus", str(tiny_corpus), "--index", str(loop)))
    assert line == f"Error: index directory {loop} is a symlink loop"  # was "File exists"


def test_a_corpus_that_is_a_symlink_loop_is_one_line(loop: Path, tmp_path: Path) -> None:
    line = assert_one_line(run("reindex", "--corpus", str(loop), "--index", str(tmp_path / "index")))
    assert line == f"Error: corpus directory {loop} is a symlink loop"
    assert not (tmp_path / "index").exists()


def test_a_loop_inside_the_path_and_a_dangling_link(loop: Path, tmp_path: Path) -> None:
    inner = loop / "index"
    assert assert_one_line(run("stats", "--index", str(inner))) == f"Error: index directory {inner} is a symlink loop"
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "gone")
    line = assert_one_line(run("reindex", "--corpus", str(DEFAULT_CORPUS), "--index", str(dangling)))
    assert line == f"Error: index directory {dangling} is a symlink to {tmp_path / 'gone'}, which does not exist"


def test_the_library_names_the_loop(loop: Path, tiny_corpus: Path) -> None:
    with pytest.raises(searchkit.InputError, match=f"^index directory {re.escape(str(loop))} is a symlink loop$"):
        searchkit.open_index(loop)
    with pytest.raises(searchkit.InputError, match="is a symlink loop$"):
        searchkit.reindex(tiny_corpus, loop)


def test_a_served_style_process_survives_the_loop(loop: Path) -> None:
    """The installed command (client → cli.main), not only CliRunner."""
    line = assert_one_line(papersearch("query", "모델", "--index", str(loop)))
    assert line == f"Error: index directory {loop} is a symlink loop"


# Empty path arguments


@pytest.mark.parametrize("args", [["query", "모델"], ["show", "2501.00001"], ["similar", "2501.00001"], ["stats"],
                                  ["reindex"], ["serve"]],
                         ids=["query", "show", "similar", "stats", "reindex", "serve"])
def test_an_empty_index_option_is_refused(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    write_posts(work, TINY_POSTS)  # what `--index ""` would have indexed, and where
    monkeypatch.chdir(work)
    before = sorted(os.listdir(work))
    line = assert_one_line(run(*args, "--index", ""))
    assert line.startswith("Error: Invalid value for '--index': empty path; is a variable unset?")
    assert sorted(os.listdir(work)) == before, "files were written into the current directory"


def test_an_empty_corpus_option_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = write_posts(tmp_path / "cwd", TINY_POSTS)
    monkeypatch.chdir(work)
    line = assert_one_line(run("reindex", "--corpus", "", "--index", str(tmp_path / "index")))
    assert line.startswith("Error: Invalid value for '--corpus': empty path")
    assert not (tmp_path / "index").exists(), "the current directory was read as the corpus"


def test_empty_variables_count_as_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``PAPERSEARCH_CORPUS=`` is the default ``corpus/``, not the current
    directory: the index is not built from whatever lies around."""
    work = write_posts(tmp_path / "cwd", TINY_POSTS)
    (work / "idx").mkdir()  # an empty index directory is built from the corpus on first use
    monkeypatch.chdir(work)
    result = run("query", "로봇", "--index", "idx", env={"PAPERSEARCH_CORPUS": "", "PAPERSEARCH_INDEX": ""})
    assert assert_one_line(result) == "Error: no index at idx: run `papersearch reindex --index idx`"
    assert os.listdir(work / "idx") == []
    stats = run("stats", env={"PAPERSEARCH_INDEX": ""})  # the default index/, which is not there
    assert assert_one_line(stats) == "Error: no index at index: run `papersearch reindex --index index`"


def test_the_library_refuses_empty_paths(tmp_path: Path, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_corpus)
    with pytest.raises(searchkit.InputError, match="^empty index directory name"):
        searchkit.reindex(tiny_corpus, "")
    with pytest.raises(searchkit.InputError, match="^empty corpus directory name"):
        searchkit.reindex("", tmp_path / "index")
    assert sorted(os.listdir(tiny_corpus)) == sorted(TINY_POSTS)


# A full disk during reindex


def enospc(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _fail_whoosh_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoosh's segment files run out of space half-way through."""
    from whoosh.filedb.structfile import StructFile

    real = StructFile.write
    calls = [0]

    def write(self: StructFile, data: bytes) -> None:
        calls[0] += 1
        if calls[0] > 50:
            enospc()
        real(self, data)

    monkeypatch.setattr(StructFile, "write", write)


def _fail_lexicon(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite itself reports SQLITE_FULL: the lexicon may grow no further."""
    real = lexicon.Lexicon.__init__

    def init(self: lexicon.Lexicon, path: Path) -> None:
        real(self, path)
        self._db.execute("PRAGMA max_page_count = 1")

    monkeypatch.setattr(lexicon.Lexicon, "__init__", init)


def _fail_named(name: str) -> Callable[[pytest.MonkeyPatch], None]:
    """The small atomic writes (manifest, CURRENT) fail."""

    def patch(monkeypatch: pytest.MonkeyPatch) -> None:
        real = store._write_atomic

        def write(path: Path, text: str) -> None:
            if path.name == name:
                enospc()
            real(path, text)

        monkeypatch.setattr(store, "_write_atomic", write)

    return patch


def _fail_seeding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copying the lexicon into the new generation fails."""
    monkeypatch.setattr(store.shutil, "copy2", enospc)


FULL_DISK = {
    "whoosh-segment": _fail_whoosh_segment,
    "lexicon-sqlite": _fail_lexicon,
    "manifest": _fail_named(store.MANIFEST),
    "pointer": _fail_named(store.POINTER),
    "seeding": _fail_seeding,
}


def _change(corpus: Path, full: bool) -> None:
    """Add a post (with enough new word forms that the lexicon must grow
    by more than a page), and for a full rebuild delete one too."""
    words = " ".join(f"펭귄{i}호" for i in range(600))
    write_posts(corpus, {"2025-01-09-penguins.md": NEW_POST + words + "\n"})
    if full:
        (corpus / "2025-01-07-daily-papers-20250107.md").unlink()


@pytest.mark.parametrize("where, full", [(where, full) for where in sorted(FULL_DISK) for full in (False, True)
                                         if not (where == "seeding" and full)])  # a full rebuild seeds nothing
def test_a_full_disk_is_one_error_and_leaves_nothing_behind(
    tiny_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, where: str, full: bool
) -> None:
    corpus, index = tiny_copy
    before, pointer, expected = generations(index), (index / "CURRENT").read_text(), answers(index)
    live_size = sum(f.stat().st_size for f in (index / pointer.strip()).iterdir())
    _change(corpus, full)
    FULL_DISK[where](monkeypatch)
    with pytest.raises(searchkit.IndexWriteError) as raised:
        searchkit.reindex(corpus, index, full=full)
    message = str(raised.value)
    match = re.fullmatch(
        rf"cannot write the index at {re.escape(str(index))}: (No space left on device|database or disk is full); "
        r"a reindex needs about ([\d.]+) MB free there, "
        r"([\d.]+) MB free now; the partial generation was removed, the live index is unchanged",
        message,
    )
    assert match, message
    assert float(match.group(2)) * 1e6 >= live_size
    monkeypatch.undo()
    assert generations(index) == before, "the partial generation was left on the disk"
    assert (index / "CURRENT").read_text() == pointer
    assert not (index / "CURRENT.tmp").exists()
    assert answers(index) == expected, "the live index stopped answering as before"
    report = searchkit.reindex(corpus, index, full=full)  # and the next reindex, with space, just works
    assert report.papers == (4 if full else 6)


def test_a_full_disk_through_the_cli(tiny_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, index = tiny_copy
    before = generations(index)
    _change(corpus, full=False)
    _fail_whoosh_segment(monkeypatch)
    line = assert_one_line(run("reindex", "--full", "--corpus", str(corpus), "--index", str(index)))
    assert line.startswith(f"Error: cannot write the index at {index}: No space left on device; a reindex needs about ")
    assert generations(index) == before


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_when_nothing_can_be_created(tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 code: int) -> None:
    """Out of space (or quota) before a first build: the estimate comes
    from the corpus, as there is no live generation to measure."""

    def mkdir(path: object, *args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(os, "mkdir", mkdir)
    with pytest.raises(searchkit.IndexWriteError, match=r"needs about 0\.\d MB free there"):
        searchkit.reindex(tiny_corpus, tmp_path / "index")


@contextmanager
def tmpfs(mountpoint: Path, size: int) -> Iterator[Path]:
    """A real, small file system, unmounted whatever happens; skips the
    test where mounting is not permitted (not root, no CAP_SYS_ADMIN)."""
    mountpoint.mkdir()
    mount = shutil.which("mount")
    if mount is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    done = subprocess.run([mount, "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_a_really_full_disk(tiny_build: tuple[Path, Path, searchkit.ReindexReport], tmp_path: Path) -> None:
    """A full rebuild on a tmpfs with room for only a quarter of another
    generation: the real ENOSPC, from wherever it strikes first."""
    corpus, built, _ = tiny_build
    size = sum(p.stat().st_size for p in built.rglob("*") if p.is_file())
    with tmpfs(tmp_path / "mnt", size + size // 4 + 64 * 1024) as mnt:
        index = mnt / "index"
        shutil.copytree(built, index)
        free = shutil.disk_usage(mnt).free
        expected = answers(index)
        result = papersearch("reindex", "--full", "--corpus", str(corpus), "--index", str(index))
        line = assert_one_line(result)
        assert line.startswith(f"Error: cannot write the index at {index}: No space left on device; a reindex needs about ")
        assert generations(index) == generations(built)
        assert shutil.disk_usage(mnt).free >= free - 16 * 1024, "the partial generation still takes space"
        assert answers(index) == expected


# A read-only index directory


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.EPERM])
def test_a_read_only_index_directory(tiny_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """As root, chmod stops nothing: the kernel's answer is simulated where
    a reindex first creates something (the new generation's directory)."""
    corpus, index = tiny_copy
    _change(corpus, full=False)
    before, expected = generations(index), answers(index)

    def mkdir(path: object, *args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(os, "mkdir", mkdir)
    line = assert_one_line(run("reindex", "--corpus", str(corpus), "--index", str(index)))
    assert line == (f"Error: index directory {index} is not writable ({os.strerror(code)}); "
                    "the live index is unchanged")
    monkeypatch.undo()
    assert generations(index) == before and answers(index) == expected


def test_a_read_only_lexicon(tiny_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's own read-only error (SQLITE_READONLY) is the same one line."""
    corpus, index = tiny_copy
    _change(corpus, full=False)
    before = generations(index)

    opened = lexicon.Lexicon.__init__

    def init(self: lexicon.Lexicon, path: Path, readonly: bool = False) -> None:
        opened(self, path, readonly=True)  # the writer's table, opened as a reader's

    monkeypatch.setattr(lexicon.Lexicon, "__init__", init)
    with pytest.raises(searchkit.IndexWriteError, match=rf"^index directory {re.escape(str(index))} is not writable"):
        searchkit.reindex(corpus, index)
    monkeypatch.undo()
    assert generations(index) == before and len(answers(index)) > 0


def test_a_really_read_only_file_system(tiny_build: tuple[Path, Path, searchkit.ReindexReport], tmp_path: Path) -> None:
    corpus, built, _ = tiny_build
    with tmpfs(tmp_path / "mnt", 8 * 1024 * 1024) as mnt:
        index = mnt / "index"
        shutil.copytree(built, index)
        expected = answers(index)
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        line = assert_one_line(papersearch("reindex", "--full", "--corpus", str(corpus), "--index", str(index)))
        assert line == f"Error: index directory {index} is not writable (Read-only file system); " \
                       "the live index is unchanged"
        assert answers(index) == expected, "a read-only index must still answer queries"
        query = papersearch("query", "로봇", "--index", str(index), "--json")
        assert query.returncode == 0, query.stderr


# An existing but empty corpus against a non-empty index


def test_an_empty_corpus_does_not_silently_empty_the_index(tiny_copy: tuple[Path, Path]) -> None:
    corpus, index = tiny_copy
    for post in corpus.glob("*.md"):
        post.unlink()
    pointer, expected = (index / "CURRENT").read_text(), answers(index)
    for full in (False, True):
        line = assert_one_line(run("reindex", *(["--full"] * full), "--corpus", str(corpus), "--index", str(index)))
        assert line == (f"Error: corpus {corpus} has no *.md posts: this would empty the index at {index} "
                        "(3 posts); nothing was written (use --allow-empty to empty it)")
        assert (index / "CURRENT").read_text() == pointer and answers(index) == expected
    emptied = run("reindex", "--allow-empty", "--corpus", str(corpus), "--index", str(index))
    assert emptied.exit_code == 0, emptied.output
    assert "0 entries, 0 papers indexed (incremental: 0 added, 0 updated, 3 removed)" in emptied.stderr
    assert answers(index) == []
    again = run("reindex", "--corpus", str(corpus), "--index", str(index))  # empty into empty is fine
    assert again.exit_code == 0, again.output


def test_a_corpus_of_only_broken_posts_is_refused_too(tiny_copy: tuple[Path, Path]) -> None:
    corpus, index = tiny_copy
    for post in corpus.glob("*.md"):
        post.unlink()
    write_posts(corpus, {"2025-02-01-broken.md": "---\ndate: 2025-02-01\n---\nno papers here\n"})
    with pytest.raises(searchkit.CorpusError, match="has none of its 1 posts to index: this would empty the index"):
        searchkit.reindex(corpus, index)
    report = searchkit.reindex(corpus, index, allow_empty=True)
    assert (report.entries, report.removed, len(report.skipped)) == (0, 3, 1)


def test_removing_some_posts_is_not_refused(tiny_copy: tuple[Path, Path]) -> None:
    corpus, index = tiny_copy
    (corpus / "2025-01-07-daily-papers-20250107.md").unlink()
    (corpus / "2025-01-08-daily-papers-20250108.md").unlink()
    report = searchkit.reindex(corpus, index)
    assert (report.removed, report.papers) == (2, 2)


# Impossible dates in posts


def _post(date_line: str) -> str:
    return f"---\n{date_line}\n---\n# 1. [Dated](https://arxiv.org/abs/2501.00011)\n## Method\n날짜를 확인한다.\n"


def test_an_impossible_front_matter_date_takes_the_file_name_date(tmp_path: Path) -> None:
    corpus = write_posts(tmp_path / "corpus", {"2025-01-06-dated.md": _post("date: 2025-13-45 08:00:00")})
    report = searchkit.reindex(corpus, tmp_path / "index")
    [warning] = report.warnings
    assert str(warning) == f"{corpus / '2025-01-06-dated.md'}:2: date 2025-13-45 is not a real date; " \
                           "using 2025-01-06 from the file name"
    with searchkit.open_index(tmp_path / "index") as index:
        assert index.paper("2501.00011").dates == ("2025-01-06",)
        assert [h.arxiv_id for h in index.search("날짜", since="2025-01-01")] == ["2501.00011"]


def test_an_impossible_date_everywhere_skips_the_post(tmp_path: Path) -> None:
    corpus = write_posts(tmp_path / "corpus", {
        "2025-02-30-dated.md": _post("date: 2025-13-45"),
        "2025-02-29-undated.md": _post("title: no date here"),
        "2025-03-01-fine.md": _post("date: 2025-03-01").replace("2501.00011", "2501.00012"),
    })
    report = searchkit.reindex(corpus, tmp_path / "index")
    reasons = {Path(p.path).name: (p.line, p.reason) for p in report.skipped}
    assert reasons == {
        "2025-02-30-dated.md": (2, "date 2025-13-45 is not a real date, nor is there one in the file name"),
        "2025-02-29-undated.md": (0, "file name date 2025-02-29 is not a real date"),
    }
    result = run("reindex", "--corpus", str(corpus), "--index", str(tmp_path / "index2"))
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert f"skipped: {corpus / '2025-02-30-dated.md'}:2: date 2025-13-45 is not a real date" in result.stderr
    assert report.papers == 1


# Wrapping to the terminal's width


def terminal(width: int) -> dict[str, str]:
    """What rich sees on a terminal of ``width`` columns (as `serve` sets it)."""
    return {"FORCE_COLOR": "1", "COLUMNS": str(width), "NO_COLOR": ""}


def assert_wrapped(output: str, width: int, *phrases: str) -> list[str]:
    """Every line fits ``width`` cells, and each phrase is broken, if at all,
    only where it has a space: no word split across lines."""
    lines = [CSI.sub("", line).rstrip() for line in output.replace("\r", "\n").splitlines()]
    for line in lines:
        assert cell_len(line) <= width, f"line overflows {width} columns: {line!r}"
    words = " ".join(lines).split()
    for phrase in phrases:
        parts = phrase.split()
        assert any(words[i : i + len(parts)] == parts for i in range(len(words))), f"{phrase!r} broken mid-word"
    return lines


@pytest.mark.parametrize("width", [80, 40])
def test_the_expanded_line_wraps_at_words(default_index_dir: Path, width: int) -> None:
    query = "확산 모델 강화 학습 언어 모델 에이전트"
    result = run("query", query, "--index", str(default_index_dir), "-n", "1", "--no-pager", env=terminal(width))
    assert result.exit_code == 0, result.output
    with searchkit.open_index(default_index_dir) as index:
        expansions = index.search(query, limit=1).expansions
    expanded = "expanded: " + ", ".join(f"{e.source} → {e.target}" for e in expansions)
    assert cell_len(expanded) > 80, "the test needs an expansion line longer than the terminal"
    assert_wrapped(result.stdout, width, expanded)


@pytest.mark.parametrize("width", [80, 40])
def test_the_reindex_summary_wraps_at_words(tiny_copy: tuple[Path, Path], width: int) -> None:
    corpus, index = tiny_copy
    result = run("reindex", "--corpus", str(corpus), "--index", str(index), env=terminal(width))
    assert result.exit_code == 0, result.output
    summary = "3 posts read, 0 skipped; 6 entries, 5 papers indexed (incremental: 0 added, 0 updated, 0 removed) in"
    assert_wrapped(result.stderr, width, summary)


@pytest.mark.parametrize("width", [80, 40])
def test_stats_terms_wrap_between_terms(default_index: searchkit.Index, default_index_dir: Path, width: int) -> None:
    result = run("stats", "--index", str(default_index_dir), env=terminal(width))
    assert result.exit_code == 0, result.output
    pairs = [f"{t} {n}" for terms in default_index.stats().top_terms.values() for t, n in terms]
    lines = assert_wrapped(result.stdout, width)
    for pair in pairs:  # a term and its count stay on one line
        assert any(pair in line for line in lines), f"{pair!r} split across lines"


@pytest.mark.parametrize("width", [80, 40])
def test_errors_wrap_at_words_on_a_terminal(tmp_path: Path, width: int) -> None:
    missing = tmp_path / "a-rather-long-directory-name" / "no-such-index"
    result = run("query", "모델", "--index", str(missing), env=terminal(width))
    assert result.exit_code == 2
    assert_wrapped(result.stderr, width, "Error: no index at", "run `papersearch reindex --index")
    usage = run("query", "모델", "--limt", "3", env=terminal(width))
    assert_wrapped(usage.stderr, width, "Error: No such option '--limt'. Did you mean '--limit'?")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")
@pytest.mark.parametrize("width", [80, 40])
def test_every_line_wraps_at_words_in_a_real_terminal(
    tiny_copy: tuple[Path, Path], default_index: searchkit.Index, default_index_dir: Path, width: int
) -> None:
    """What the user sees: a terminal breaks an over-long line at its edge,
    mid-word; each line must come already wrapped at word boundaries."""
    from .test_terminal import run_in_tmux

    corpus, index = tiny_copy
    query = "확산 모델 강화 학습 언어 모델 에이전트"
    py = f"{sys.executable} -m searchkit"
    commands = "; ".join([
        f"{py} query '{query}' -n 1 --no-pager --index {default_index_dir}",
        f"{py} reindex --corpus {corpus} --index {index}",
        f"{py} stats --index {default_index_dir}",
        f"{py} query 모델 --limt 3",
    ])
    pane = run_in_tmux(commands, width, 24)
    output = CSI.sub("", pane)[: CSI.sub("", pane).index("__DONE__")]
    expansions = default_index.search(query, limit=1).expansions
    lines = assert_wrapped(
        output, width,
        "expanded: " + ", ".join(f"{e.source} → {e.target}" for e in expansions),
        "3 posts read, 0 skipped; 6 entries, 5 papers indexed (incremental: 0 added, 0 updated, 0 removed) in",
        "Error: No such option '--limt'. Did you mean '--limit'? (try 'papersearch query --help')",
    )
    for terms in default_index.stats().top_terms.values():
        for term, count in terms:
            assert any(f"{term} {count}" in line for line in lines), f"'{term} {count}' split across lines"


# One-line usage errors


@pytest.mark.parametrize("args, message", [
    (["query", "모델", "--limt", "3"], "No such option '--limt'. Did you mean '--limit'? (try 'cli query --help')"),
    (["query"], "Missing argument 'TEXT'. (try 'cli query --help')"),
    (["query", "모델", "--limit", "0"], "Invalid value for '--limit' / '-n': 0 is not in the range x>=1. "
                                       "(try 'cli query --help')"),
    (["query", "모델", "--sort", "bogus"], "Invalid value for '--sort': 'bogus' is not one of 'score', 'date'. "
                                         "(try 'cli query --help')"),
    (["show"], "Missing argument 'ARXIV_ID'. (try 'cli show --help')"),
    (["reindex", "--fulll"], "No such option '--fulll'. Did you mean '--full'? (try 'cli reindex --help')"),
    (["serach", "모델"], "No such command 'serach'. (try 'cli --help')"),
    (["--bogus"], "No such option '--bogus'. (try 'cli --help')"),
])
def test_usage_errors_are_one_line(args: list[str], message: str) -> None:
    assert assert_one_line(run(*args)) == f"Error: {message}"


def test_usage_errors_of_the_installed_command_are_one_line() -> None:
    line = assert_one_line(papersearch("query", "모델", "--limt", "3"))
    assert line == "Error: No such option '--limt'. Did you mean '--limit'? (try 'papersearch query --help')"


def test_help_is_still_whole() -> None:
    result = run("query", "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: cli query [OPTIONS] TEXT")
    assert "--section" in result.stdout and "Examples:" in result.stdout


def test_an_unknown_section_stays_the_librarys_one_line(default_index_dir: Path) -> None:
    line = assert_one_line(run("query", "모델", "--index", str(default_index_dir), "--section", "Abstract"))
    assert line.startswith("Error: unknown section 'Abstract'; valid sections: introduction, ")
    upper = run("query", "계산 비용", "--index", str(default_index_dir), "--section", "LIMITATIONS", "--json")
    assert upper.exit_code == 0, upper.output


# Shell completion of section names


def completions(args: list[str], incomplete: str) -> list[str]:
    shell = ShellComplete(cli, {}, "papersearch", "_PAPERSEARCH_COMPLETE")
    return [item.value for item in shell.get_completions(args, incomplete)]


@pytest.mark.parametrize("option", ["--section", "-s"])
def test_section_names_complete(option: str) -> None:
    assert completions(["query", "모델", option], "") == list(SECTION_GROUPS)
    assert completions(["query", "모델", option], "m") == ["motivation", "method"]
    assert completions(["query", "모델", option], "LIM") == ["limitations"]
    assert completions(["query", "모델", option], "abstract") == []


def test_section_names_complete_through_the_shell_protocol() -> None:
    env = {"_PAPERSEARCH_COMPLETE": "bash_complete", "COMP_WORDS": "papersearch query 모델 --section co",
           "COMP_CWORD": "4"}
    result = CliRunner().invoke(cli, [], env=env, prog_name="papersearch")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["plain,contribution", "plain,conclusion"]
