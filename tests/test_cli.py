"""The ``papersearch`` command through click's CliRunner."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import searchkit
from searchkit.terminal.cli import cli

from .conftest import TINY_POSTS, write_posts

HIT_KEYS = {"arxiv_id", "title", "url", "dates", "score", "matched_sections", "highlights"}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def flat(text: str, joiner: str = " ") -> str:
    """Output with rich's line wrapping undone (see the xfail below)."""
    return joiner.join(line.strip() for line in text.splitlines()) if joiner else text.replace("\n", "")


def assert_one_line_error(result: Result, code: int, message: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""
    assert "Traceback" not in result.output


# Help and version


@pytest.mark.parametrize("command", [[]] + [[name] for name in sorted(cli.commands)],
                         ids=["group", *sorted(cli.commands)])
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help(command: list[str], flag: str) -> None:
    result = run(*command, flag)
    assert result.exit_code == 0
    assert result.output.startswith(f"Usage: cli {' '.join(command)}".rstrip() + " ")
    assert "Example" in result.output
    assert "papersearch " + (command[0] if command else "") in result.output


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.output == f"papersearch, version {searchkit.__version__}\n"


def test_every_documented_command_exists() -> None:
    assert {"reindex", "query", "show"} <= set(cli.commands)


def test_no_command_shows_usage() -> None:
    result = run()
    assert result.exit_code == 2  # click >= 8.2: a group without a command is a usage error
    assert result.stderr.startswith("Usage: cli [OPTIONS] COMMAND [ARGS]...")
    assert all(command in result.stderr for command in ("reindex", "query", "show"))


# query


def test_query_with_results(default_index_dir: Path) -> None:
    result = run("query", "확산 모델", "--index", str(default_index_dir), "--limit", "3")
    assert result.exit_code == 0, result.output
    ranks = re.findall(r"^ ?(\d+)\. ", result.stdout, re.M)
    assert ranks == ["1", "2", "3"]
    assert result.stdout.rstrip().endswith("matching papers")
    assert "확산" in result.stdout
    with searchkit.open_index(default_index_dir) as index:
        first = index.search("확산 모델", limit=1)[0]
    assert first.url in result.stdout


def test_query_reads_the_index_from_the_environment(default_index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERSEARCH_INDEX", str(default_index_dir))
    result = run("query", "2510.00515")
    assert result.exit_code == 0
    assert "https://arxiv.org/abs/2510.00515" in result.stdout


def test_query_without_results_exits_1(default_index_dir: Path) -> None:
    result = run("query", "zzqqxx", "--index", str(default_index_dir))
    assert result.exit_code == 1
    assert "0 of 0 matching papers" in result.stdout
    assert "Traceback" not in result.output


def test_query_json(default_index_dir: Path) -> None:
    result = run("query", "확산 모델", "--index", str(default_index_dir), "--json", "-n", "5")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {"query", "total", "hits"} <= set(data)
    assert data["query"] == "확산 모델"
    assert data["total"] >= len(data["hits"]) == 5
    assert data["total_exact"] is True
    for hit in data["hits"]:
        assert set(hit) >= HIT_KEYS
        assert hit["url"] == f"https://arxiv.org/abs/{hit['arxiv_id']}"
        assert hit["dates"] and all(len(d) == 10 for d in hit["dates"])
        assert isinstance(hit["score"], float)
        assert list(hit["highlights"]) == hit["matched_sections"]
        assert all("**" in text for text in hit["highlights"].values())
    marked = " ".join(text for hit in data["hits"] for text in hit["highlights"].values())
    assert "**확산**" in marked and "**모델**" in marked


def test_query_json_without_results_exits_1(default_index_dir: Path) -> None:
    result = run("query", "zzqqxx", "--index", str(default_index_dir), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["total"], data["hits"]) == (0, [])


def test_query_section(default_index_dir: Path) -> None:
    result = run("query", "계산 비용", "--index", str(default_index_dir), "--section", "limitations", "--json")
    assert result.exit_code == 0
    hits = json.loads(result.stdout)["hits"]
    assert hits and all(hit["matched_sections"] == ["limitations"] for hit in hits)


@pytest.mark.parametrize("query", ["", "   ", "\t"])
def test_empty_query_exits_2(default_index_dir: Path, query: str) -> None:
    result = run("query", query, "--index", str(default_index_dir))
    assert_one_line_error(result, 2, "empty query: give some words to search for")


def test_too_long_query_exits_2(default_index_dir: Path) -> None:
    result = run("query", "가" * 1001, "--index", str(default_index_dir))
    assert_one_line_error(result, 2, "query is too long: 1001 characters (at most 1000)")


def test_unknown_section_exits_2(default_index_dir: Path) -> None:
    result = run("query", "모델", "--index", str(default_index_dir), "-s", "abstract")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unknown section 'abstract'; valid sections: introduction, ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_missing_index_directory_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-index"
    result = run("query", "모델", "--index", str(missing))
    assert_one_line_error(result, 2, f"no index at {missing}: run `papersearch reindex --index {missing}`")
    assert not missing.exists()


def test_empty_index_directory_is_built_from_the_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_posts(tmp_path / "corpus", TINY_POSTS)
    index = tmp_path / "index"
    index.mkdir()
    monkeypatch.setenv("PAPERSEARCH_CORPUS", str(corpus))
    result = run("query", "로봇", "--index", str(index))
    assert result.exit_code == 0
    assert f"no index at {index} yet: building it from {corpus}/ first" in result.stderr
    assert "Legged Robots that Walk" in result.stdout


def test_a_query_never_builds_an_index_among_other_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a directory empty but for dot files (a repository's .gitkeep)
    is built in on a first query; a directory someone keeps files in is
    left as it is, with the usual message."""
    corpus = write_posts(tmp_path / "corpus", TINY_POSTS)
    index = tmp_path / "index"
    index.mkdir()
    (index / "important.txt").write_text("mine", encoding="utf-8")
    monkeypatch.setenv("PAPERSEARCH_CORPUS", str(corpus))
    result = run("query", "로봇", "--index", str(index))
    assert_one_line_error(result, 2, f"no index at {index}: run `papersearch reindex --index {index}`")
    assert sorted(p.name for p in index.iterdir()) == ["important.txt"]
    (index / "important.txt").unlink()
    (index / ".gitkeep").write_text("", encoding="utf-8")
    assert run("query", "로봇", "--index", str(index)).exit_code == 0


def test_an_index_directory_that_cannot_be_listed_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory the user may enter but not list (mode 0711, another
    owner's; root passes any mode, so the listing is made to fail): no
    index there, and none built among what cannot be seen."""
    corpus = write_posts(tmp_path / "corpus", TINY_POSTS)
    index = tmp_path / "index"
    index.mkdir()
    monkeypatch.setenv("PAPERSEARCH_CORPUS", str(corpus))
    listing = Path.iterdir

    def refused(self: Path):
        if self == index:
            raise PermissionError(13, "Permission denied", str(self))
        return listing(self)

    monkeypatch.setattr(Path, "iterdir", refused)
    result = run("query", "로봇", "--index", str(index))
    assert_one_line_error(result, 2, f"no index at {index}: run `papersearch reindex --index {index}`")


def test_damaged_index_exits_2(tiny_copy: tuple[Path, Path]) -> None:
    _, index = tiny_copy
    (index / "CURRENT").write_text("gen-999999\n", encoding="utf-8")
    result = run("query", "로봇", "--index", str(index))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: index at {index} is damaged")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


# reindex

NEW_POST = """\
---
date: 2025-01-09
---
# 1. [Penguin Tracking](https://arxiv.org/abs/2501.00009)
## Method
펭귄 군집의 이동을 추적한다.
"""


def test_reindex_prints_a_summary(tiny_copy: tuple[Path, Path]) -> None:
    corpus, index = tiny_copy
    same = run("reindex", "--corpus", str(corpus), "--index", str(index))
    assert same.exit_code == 0, same.output
    assert same.stdout == ""
    assert flat(same.stderr).startswith(
        "3 posts read, 0 skipped; 6 entries, 5 papers indexed (incremental: 0 added, 0 updated, 0 removed) in "
    )

    write_posts(corpus, {"2025-01-09-penguins.md": NEW_POST})
    added = run("reindex", "--corpus", str(corpus), "--index", str(index))
    assert added.exit_code == 0
    assert "4 posts read, 0 skipped; 7 entries, 6 papers indexed (incremental: 1 added, 0 updated, 0 removed)" in (
        flat(added.stderr)
    )
    with searchkit.open_index(index) as opened:
        assert opened.paper("2501.00009").title == "Penguin Tracking"


def test_reindex_full(tiny_copy: tuple[Path, Path]) -> None:
    corpus, index = tiny_copy
    result = run("reindex", "--full", "--corpus", str(corpus), "--index", str(index))
    assert result.exit_code == 0
    assert "6 entries, 5 papers indexed (full: 3 added, 0 updated, 0 removed)" in flat(result.stderr)


def test_reindex_uses_the_environment(tiny_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, index = tiny_copy
    write_posts(corpus, {"2025-01-09-penguins.md": NEW_POST})
    monkeypatch.setenv("PAPERSEARCH_CORPUS", str(corpus))
    monkeypatch.setenv("PAPERSEARCH_INDEX", str(index))
    result = run("reindex")
    assert result.exit_code == 0
    assert "7 entries, 6 papers indexed (incremental: 1 added" in flat(result.stderr)


def test_reindex_reports_skipped_posts(tiny_copy: tuple[Path, Path]) -> None:
    corpus, index = tiny_copy
    write_posts(corpus, {"2025-01-10-empty.md": "---\ndate: 2025-01-10\n---\n"})
    result = run("reindex", "--corpus", str(corpus), "--index", str(index))
    assert result.exit_code == 0
    assert f"skipped: {corpus / '2025-01-10-empty.md'}: has no paper headings" in flat(result.stderr, "")
    assert "4 posts read, 1 skipped; 6 entries, 5 papers indexed" in flat(result.stderr)

    strict = run("reindex", "--corpus", str(corpus), "--index", str(index), "--strict")
    assert strict.exit_code == 2
    assert strict.stderr.startswith("Error: 1 post(s) or paper(s) could not be indexed (--strict)")
    assert "2025-01-10-empty.md: has no paper headings" in strict.stderr


def test_strict_refuses_a_paper_skipped_within_a_post(tiny_copy: tuple[Path, Path]) -> None:
    """--strict used to count whole posts only: a post whose second paper
    had no arXiv link lost that paper and the reindex exited 0."""
    corpus, index = tiny_copy
    write_posts(corpus, {"2025-01-11-two.md": (
        "---\ndate: 2025-01-11\n---\n# 1. [Kept](https://arxiv.org/abs/2501.00011)\n## Method\n확산 모델.\n"
        "# 2. [Lost](https://example.com/lost)\n## Method\n확산 모델.\n")})
    lenient = run("reindex", "--corpus", str(corpus), "--index", str(index))
    assert lenient.exit_code == 0 and "2025-01-11-two.md:7: paper heading has no arXiv link; paper skipped" in (
        lenient.stderr)
    strict = run("reindex", "--corpus", str(corpus), "--index", str(index), "--strict", "--full")
    assert strict.exit_code == 2
    assert strict.stderr.startswith("Error: 1 post(s) or paper(s) could not be indexed (--strict); first: ")
    assert "2025-01-11-two.md:7: paper heading has no arXiv link" in strict.stderr
    fresh = index.parent / "fresh-index"  # refused before anything is written: not even its directory
    assert run("reindex", "--corpus", str(corpus), "--index", str(fresh), "--strict").exit_code == 2
    assert not fresh.exists()


def test_reindex_messages_are_not_wrapped_when_piped(tiny_copy: tuple[Path, Path]) -> None:
    corpus, index = tiny_copy
    name = corpus / "2025-01-10-a-post-with-a-rather-long-file-name-and-no-papers.md"
    name.write_text("---\ndate: 2025-01-10\n---\n", encoding="utf-8")
    result = run("reindex", "--corpus", str(corpus), "--index", str(index))
    assert f"skipped: {name}: has no paper headings\n" in result.stderr
    assert "4 posts read, 1 skipped; 6 entries, 5 papers indexed (incremental: 0 added, 0 updated, 0 removed)" in (
        result.stderr
    )


def test_reindex_missing_corpus_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-corpus"
    result = run("reindex", "--corpus", str(missing), "--index", str(tmp_path / "index"))
    assert_one_line_error(result, 2, f"corpus directory not found: {missing}")


# show


def test_show_known_paper(default_index_dir: Path) -> None:
    result = run("show", "2510.00515", "--index", str(default_index_dir))
    assert result.exit_code == 0
    assert result.stdout.startswith("Efficient Multi-modal Large Language Models via Progressive")
    assert "https://arxiv.org/abs/2510.00515  2025-10-06" in result.stdout
    for label in ("Goal", "Motivation", "Contribution", "Method", "Results", "Limitations", "Conclusion"):
        assert label in result.stdout


def test_show_json(default_index_dir: Path) -> None:
    result = run("show", "2510.00515", "--index", str(default_index_dir), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["arxiv_id"] == "2510.00515"
    assert data["dates"] == ["2025-10-06"]
    assert list(data["sections"]) == list(searchkit.SECTIONS)


def test_show_reposted_paper_prints_every_summary(tiny_index_dir: Path) -> None:
    result = run("show", "2501.00005", "--index", str(tiny_index_dir))
    assert result.exit_code == 0
    assert "— summary of 2025-01-07" in result.stdout and "— summary of 2025-01-08" in result.stdout


def test_show_unknown_paper_exits_1(default_index_dir: Path) -> None:
    result = run("show", "9999.99999", "--index", str(default_index_dir))
    assert_one_line_error(result, 1, "no paper with arXiv id '9999.99999' in the index")


def test_an_estimated_total_reads_about() -> None:
    from rich.console import Console

    from searchkit.hits import Results
    from searchkit.terminal.render import print_results, results_json

    console = Console(record=True, width=80, color_system=None)
    print_results(console, Results([], query="q", total=lambda: (1200, False)))
    assert "0 of about 1200 matching papers" in console.export_text()
    assert results_json(Results([], query="q", total=lambda: (1200, False)))["total_exact"] is False
    assert results_json(Results([], query="q", total=7))["total_exact"] is True


def test_a_served_process_keeps_a_few_indexes_open_not_every_one(tiny_index_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve`'s workers keep indexes open between commands; a client naming
    a new --index each time grew one to 489 file descriptors and 167 MB,
    each generation pinned (probe). The least recently used is closed."""
    import shutil

    from searchkit.terminal import cli as cli_module

    monkeypatch.setattr(cli_module, "KEEP_OPEN", True)
    monkeypatch.setattr(cli_module, "_open_indexes", {})
    copies, opened = [], {}
    for i in range(cli_module.KEPT + 2):
        copies.append(tmp_path / f"index-{i}")
        shutil.copytree(tiny_index_dir, copies[-1])
        assert CliRunner().invoke(cli, ["query", "확산", "--index", str(copies[-1])]).exit_code == 0
        opened.update(cli_module._open_indexes)
    kept = cli_module._open_indexes
    try:
        assert list(kept) == [c.resolve() for c in copies[-cli_module.KEPT:]]
        for copy in copies[:2]:  # the least recently used were closed, not left open
            with pytest.raises(searchkit.IndexClosedError):
                opened[copy.resolve()].search("확산")
        assert kept[copies[-1].resolve()].search("확산")
    finally:
        for index in kept.values():
            index.close()


@pytest.mark.parametrize("preset", [None, "2"])
def test_the_command_runs_blas_on_one_thread_unless_told(default_index_dir: Path, preset: str | None) -> None:
    """numpy's OpenBLAS starts a thread a core at import, half of numpy's
    import time in a cold query; papersearch never calls BLAS."""
    probe = ("import os, sys\nfrom searchkit.terminal import client\n"
             "client._without_teardown = lambda run, argv: run(argv)\n"
             "try:\n    client.main()\nfinally:\n"
             "    print(os.environ['OPENBLAS_NUM_THREADS'], 'numpy' in sys.modules, file=sys.stderr)\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if preset:
        env["OPENBLAS_NUM_THREADS"] = preset
    done = subprocess.run([sys.executable, "-c", probe, "query", "확산 모델", "--index", str(default_index_dir)],
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert done.stderr.split()[-2:] == [preset or "1", "True"]


# Bad input found by a probe (session 16): each one line, exit 2, nothing made


def test_a_serve_timeout_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    """``nan`` passed click's range (no comparison holds for it): every worker died, then the server."""
    result = run("serve", "--index", str(tmp_path), "--timeout", "nan")
    assert result.exit_code == 2 and "Invalid value for '--timeout': nan is not a number." in result.stderr


@pytest.mark.parametrize("command", [["query", "x"], ["stats"], ["serve"]])
def test_an_index_path_too_long_for_the_system_is_one_line(command: list[str], tmp_path: Path) -> None:
    long = str(tmp_path / ("x" * 5000))
    result = run(*command, "--index", long)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "File name too long" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("location", ["sphinx:/127.0.0.1:9306/papers", "mysql://127.0.0.1:9306/papers"])
def test_a_url_that_is_no_cluster_url_is_not_made_a_directory(location: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for args in (["reindex", "--corpus", str(tmp_path)], ["query", "x"], ["stats"]):
        result = run(*args, "--index", location)
        assert result.exit_code == 2, result.output
        assert "is no index location: give a directory or a cluster URL sphinx://HOST:PORT/NAME" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_cluster_commands_refuse_an_empty_directory(tmp_path: Path) -> None:
    for args in (["cluster", "down", "--dir", ""], ["cluster", "up", "--dir", ""]):
        result = run(*args)
        assert result.exit_code == 2 and "empty path; is a variable unset?" in result.stderr


def test_a_cluster_description_nested_too_deeply_is_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = run("cluster", "config", str(deep), "--out", str(tmp_path / "out"))
    assert_one_line_error(result, 2, f"cluster description {deep} is nested too deeply to be a cluster")


def test_a_query_that_was_not_utf8_is_refused_naming_the_byte(default_index_dir: Path) -> None:
    """Bytes that were not UTF-8 were dropped, and a query of only such bytes was called empty."""
    for query in ("\udcff확산", "\udcff\udcfe"):
        result = run("query", query, "--index", str(default_index_dir))
        assert_one_line_error(result, 2, "query is not valid UTF-8 text (byte 0xff): check the terminal's encoding")
    with searchkit.open_index(default_index_dir) as index, pytest.raises(searchkit.QueryError, match="lone surrogate"):
        index.search("확산\ud800")
