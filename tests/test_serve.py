"""papersearch serve: commands answered by a warm process, same output,
fresh after a reindex, and a CLI that never depends on it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import searchkit
from searchkit.client import exchange, socket_path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def papersearch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "searchkit", *args], capture_output=True, text=True, env=ENV)


@pytest.fixture()
def served(default_index_dir: Path, tmp_path: Path):
    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    server = subprocess.Popen([sys.executable, "-m", "searchkit", "serve", "--index", str(index)], env=ENV,
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not socket_path(index).exists():
        assert server.poll() is None, server.stderr.read()
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield index, server
    server.send_signal(signal.SIGTERM)
    server.wait(10)


def served_count(index: Path) -> int:
    return exchange(socket_path(index), {"ping": True})["served"]


@pytest.mark.slow
def test_server_answers_with_the_same_output(served) -> None:
    index, _ = served
    before = served_count(index)
    via_server = papersearch("query", "확산 모델", "--index", str(index), "--json")
    assert served_count(index) == before + 1, "the query did not go through the server"
    with searchkit.open_index(index) as opened:
        expected = [h.arxiv_id for h in opened.search("확산 모델")]
    assert via_server.returncode == 0
    assert [h["arxiv_id"] for h in json.loads(via_server.stdout)["hits"]] == expected
    missing = papersearch("show", "2999.99999", "--index", str(index))
    assert missing.returncode == 1 and "2999.99999" in missing.stderr


@pytest.mark.slow
def test_server_sees_a_reindex_at_once(served, tmp_path: Path) -> None:
    index, _ = served
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    post = sorted(corpus.glob("*.md"))[0]
    post.write_text(post.read_text(encoding="utf-8").replace("EPIC", "ZYXWVUT"), encoding="utf-8")
    searchkit.reindex(corpus, index)
    result = papersearch("query", "zyxwvut", "--index", str(index), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hits"][0]["arxiv_id"] == "2510.00515"


@pytest.mark.slow
def test_one_server_per_index_and_a_killed_one_is_not_needed(served) -> None:
    index, server = served
    second = papersearch("serve", "--index", str(index))
    assert second.returncode == 2 and "already answers" in second.stderr
    server.send_signal(signal.SIGKILL)
    server.wait(10)
    assert socket_path(index).exists(), "a killed server leaves its socket behind"
    fallback = papersearch("query", "확산 모델", "--index", str(index))
    assert fallback.returncode == 0 and "matching papers" in fallback.stdout


def test_sigterm_removes_the_socket(default_index_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    server = subprocess.Popen([sys.executable, "-m", "searchkit", "serve", "--index", str(index)], env=ENV)
    deadline = time.monotonic() + 30
    while not socket_path(index).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert socket_path(index).exists(), "the server did not start"
    server.send_signal(signal.SIGTERM)
    assert server.wait(10) == 0
    assert not socket_path(index).exists()
