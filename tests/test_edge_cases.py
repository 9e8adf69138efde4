"""Edge cases found in review: each was a traceback, a wrong exit code or a
silently wrong answer."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import searchkit
from searchkit.terminal.client import exchange
from searchkit.terminal.protocol import socket_path

from .conftest import index_one_post

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def papersearch(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "searchkit", *args], capture_output=True, text=True, env=ENV,
                          **kwargs)


def test_a_closed_pipe_is_success(default_index_dir: Path) -> None:
    command = f"{sys.executable} -m searchkit query 모델 --index {default_index_dir} --limit 20 | head -c 10"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_an_empty_corpus_gives_an_empty_index_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    report = searchkit.reindex(tmp_path / "corpus", tmp_path / "index")
    assert (report.posts_read, report.entries) == (0, 0)
    with searchkit.open_index(tmp_path / "index") as index:
        results = index.search("모델")
        assert list(results) == [] and results.total == 0
        assert index.stats().first_date is None


def test_a_file_name_that_is_not_utf8_is_skipped(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(next((ROOT / "corpus").glob("*.md")), corpus)
    (corpus / os.fsdecode(b"2025-10-09-bad\xff.md")).write_text("x", encoding="utf-8")
    report = searchkit.reindex(corpus, tmp_path / "index")
    assert [p.reason for p in report.skipped] == ["file name is not valid UTF-8"]
    assert report.entries > 0


def test_a_hidden_post_file_is_skipped_as_jekyll_skips_it(tmp_path: Path) -> None:
    """macOS leaves `._NAME` copies (resource forks) beside posts copied
    from its volumes; they were parsed as posts, and a hidden copy of a
    post was indexed twice."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    post = next((ROOT / "corpus").glob("*.md"))
    shutil.copy(post, corpus)
    shutil.copy(post, corpus / f".{post.name}")
    (corpus / f"._{post.name}").write_bytes(b"\x00\x05\x16\x07Mac OS X        ")
    report = searchkit.reindex(corpus, tmp_path / "index")
    assert [p.reason for p in report.skipped] == ["hidden file (Jekyll does not publish it)"] * 2
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(post, alone)
    assert (report.posts_read, report.entries) == (3, searchkit.reindex(alone, tmp_path / "alone-index").entries)


@pytest.mark.parametrize("form", ["2510.00515", "2510.00515v2", "arXiv:2510.00515", "https://arxiv.org/abs/2510.00515v1",
                                  "２５１０.００５１５"])  # full-width digits passed the check and matched nothing
def test_ids_in_the_forms_people_paste(default_index: searchkit.Index, form: str) -> None:
    assert default_index.paper(form).arxiv_id == "2510.00515"


@pytest.mark.parametrize("junk", ["junk", "", "2510", "../2510.00515"])
def test_a_malformed_id_is_an_input_error(default_index: searchkit.Index, junk: str) -> None:
    with pytest.raises(searchkit.QueryError):
        default_index.paper(junk)


def test_compact_dates_are_normalised(default_index: searchkit.Index) -> None:
    compact = default_index.search("모델", since="20251008", until="20251009", limit=50)
    dashed = default_index.search("모델", since="2025-10-08", until="2025-10-09", limit=50)
    assert [h.arxiv_id for h in compact] == [h.arxiv_id for h in dashed] and compact


def test_strict_writes_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    (corpus / "2025-10-30-empty.md").write_text("---\ndate: 2025-10-30\n---\n", encoding="utf-8")
    with pytest.raises(searchkit.CorpusError, match="2025-10-30-empty.md"):
        searchkit.reindex(corpus, tmp_path / "index", strict=True)
    with pytest.raises(searchkit.IndexMissingError):
        searchkit.open_index(tmp_path / "index")


def test_removing_posts_does_not_load_kiwi(tmp_path: Path, default_index_dir: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(ROOT / "corpus", corpus)
    shutil.copytree(default_index_dir, index)
    next(corpus.glob("*.md")).unlink()
    probe = (
        "import sys, searchkit; from searchkit import analysis; "
        f"r = searchkit.reindex({str(corpus)!r}, {str(index)!r}); "
        "print(r.removed, analysis._kiwi is None)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=ENV)
    assert result.stdout.split() == ["1", "True"], result.stderr


@pytest.mark.slow
def test_garbage_on_the_socket_does_not_kill_the_server(default_index_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    server = subprocess.Popen([sys.executable, "-m", "searchkit", "serve", "--index", str(index)], env=ENV,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not socket_path(index).exists():
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        for garbage in (b"", b"{not json", b'{"argv": ["serve"]}'):
            with socket.socket(socket.AF_UNIX) as conn:
                conn.connect(str(socket_path(index)))
                conn.sendall(garbage)
                conn.shutdown(socket.SHUT_WR)
                conn.recv(1 << 16)
        assert exchange(socket_path(index), {"ping": True})["pid"] == server.pid
        result = papersearch("query", "확산 모델", "--index", str(index), "--limit", "1")
        assert result.returncode == 0 and "matching papers" in result.stdout
    finally:
        server.terminate()
        server.wait(10)


def test_a_paper_whose_title_is_only_spaces_is_found_and_shown(tmp_path: Path) -> None:
    """The parser takes `# 1. [ ](…)` with an empty title, which the index
    stores as no title at all: the search and `show` ended in a KeyError."""
    directory = index_one_post(tmp_path, (
        "# 1. [ ](https://arxiv.org/abs/2501.00001)\n\n## Method\n확산 모델을 학습한다.\n\n"
        "# 2. [Diffusion Models](https://arxiv.org/abs/2501.00002)\n\n## Method\n확산 모델을 쓴다.\n"))
    with searchkit.open_index(directory) as index:
        found = index.search("확산 모델")
        assert sorted(h.arxiv_id for h in found) == ["2501.00001", "2501.00002"] and found.total == 2
        assert index.paper("2501.00001").title == ""
