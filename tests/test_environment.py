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
import sqlite3
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
from searchkit.cli import cli
from searchkit.schema import SECTION_GROUPS

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
