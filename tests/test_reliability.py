"""A reindex can die at any moment and lose nothing.

Like SQLite's and Lucene's crash tests, these kill a real reindex process
with SIGKILL at random moments and check that the previous index still
answers, then that the next reindex repairs everything.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import searchkit
from searchkit.corpus import find_posts, parse_post
from searchkit.store import POINTER, live_generation
from searchkit.terminal.cli import cli

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ["확산 모델", "시각 토큰 압축", '"강화 학습"', "언어 모델 추론"]
KILLS = 20


def _snapshot(index_dir: Path) -> dict[str, list[str]]:
    with searchkit.open_index(index_dir) as index:
        return {q: [h.arxiv_id for h in index.search(q, limit=10)] for q in QUERIES}


def _doc_keys(index_dir: Path) -> list[str]:
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(live_generation(index_dir)))
    with ix.searcher() as searcher:
        return sorted(doc["doc_key"] for doc in searcher.all_stored_fields())


def _expected_keys(corpus: Path) -> list[str]:
    paths, _ = find_posts(corpus)
    return sorted(f"{p.post}#{p.line}" for path in paths for p in parse_post(path).papers)


def _mutate(corpus: Path, spare: list[Path], rng: random.Random) -> None:
    """Add, edit or delete a post, so the next reindex has real work."""
    posts = sorted(corpus.glob("*.md"))
    actions = ["edit"] + ["add"] * bool(spare) + ["delete"] * (len(posts) > 2)
    action = rng.choice(actions)
    if action == "add":
        shutil.move(spare.pop(rng.randrange(len(spare))), corpus)
    elif action == "delete":
        victim = rng.choice(posts)
        spare.append(Path(shutil.move(victim, victim.parent.parent / "spare" / victim.name)))
    else:
        post = rng.choice(posts)
        post.write_text(post.read_text(encoding="utf-8") + f"\n<!-- edit {rng.random()} -->\n", encoding="utf-8")


def _stage(index: Path, live: str, before: str) -> str:
    if live != before:
        return "published"
    newer = [p for p in index.iterdir() if p.name.startswith("gen-") and p.name > live]
    return "mid-write" if newer else "before writing"


@pytest.fixture()
def crash_corpus(tmp_path: Path) -> tuple[Path, list[Path]]:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    spare_dir = tmp_path / "spare"
    spare_dir.mkdir()
    spare = []
    for post in sorted(corpus.glob("*.md"))[:2]:  # renamed copies act as new posts
        copy = spare_dir / f"2025-11-{len(spare) + 1:02d}-copy-{post.name}"
        copy.write_text(post.read_text(encoding="utf-8"), encoding="utf-8")
        spare.append(copy)
    return corpus, spare


@pytest.mark.slow
def test_sigkill_during_reindex_loses_nothing(crash_corpus: tuple[Path, list[Path]], tmp_path: Path) -> None:
    corpus, spare = crash_corpus
    index = tmp_path / "index"
    searchkit.reindex(corpus, index)
    rng = random.Random(20251006)
    stages = {"before writing": 0, "mid-write": 0, "published": 0}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for kill in range(KILLS):
        before = _snapshot(index)
        pointer = (index / POINTER).read_text()
        _mutate(corpus, spare, rng)
        full = ["--full"] if kill % 3 == 0 else []
        proc = subprocess.Popen(
            [sys.executable, "-m", "searchkit", "reindex", "--corpus", str(corpus), "--index", str(index), *full],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        live = (index / POINTER).read_text().strip()
        stages[_stage(index, live, pointer.strip())] += 1
        # (a) the previous complete index still answers, unchanged, unless
        # the reindex had already published its generation.
        if (index / POINTER).read_text() == pointer:
            assert _snapshot(index) == before, f"kill {kill}: results changed"
        else:
            assert _doc_keys(index) == _expected_keys(corpus), f"kill {kill}: published index incomplete"
        # (b) the next reindex completes and holds exactly the corpus.
        report = searchkit.reindex(corpus, index)
        keys = _doc_keys(index)
        assert keys == _expected_keys(corpus), f"kill {kill}: papers lost or duplicated"
        assert report.entries == len(keys)
    generations = [p for p in index.iterdir() if p.name.startswith("gen-")]
    assert len(generations) <= 2, "old generations are not cleaned up"
    print("kills by stage:", stages)  # shown with -s: where the kills landed


@pytest.mark.slow
def test_queries_succeed_during_reindex(default_index_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    errors: list[BaseException] = []
    done = threading.Event()

    def writer() -> None:
        try:
            for _ in range(2):
                searchkit.reindex(ROOT / "corpus", index, full=True)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    answered = 0
    while not done.is_set():
        with searchkit.open_index(index) as reader:
            assert reader.search("확산 모델", limit=5), "a query during reindex found nothing"
        answered += 1
    thread.join()
    assert not errors, errors
    assert answered > 3


def test_second_reindex_waits_for_the_first(default_index_dir: Path, tmp_path: Path) -> None:
    from searchkit.store import writer_lock

    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    waited = threading.Event()
    with writer_lock(index):
        thread = threading.Thread(
            target=lambda: searchkit.reindex(ROOT / "corpus", index, on_wait=waited.set)
        )
        thread.start()
        assert waited.wait(10), "the second reindex did not notice the first"
        assert thread.is_alive(), "the second reindex did not wait"
    thread.join(30)
    assert not thread.is_alive()


@pytest.mark.parametrize("damage", ["truncate", "delete", "pointer", "manifest", "column", "lengths", "glossary",
                                    "lexicon", "lexicon-unrecorded", "dates-garbled"])
def test_damaged_index_is_one_clear_line(default_index_dir: Path, tmp_path: Path, damage: str) -> None:
    """Every damage is named, never answered around: Whoosh reads a missing
    column (arXiv ids, lengths) as defaults, a missing glossary read as no
    expansions, and SQLite opens the lexicon only at the first look-up."""
    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    generation = live_generation(index)
    segment = max((p for p in generation.iterdir() if p.name.startswith("MAIN_")), key=lambda p: p.stat().st_size)
    lexicon = generation / "lexicon.sqlite"
    if damage == "truncate":
        with open(segment, "r+b") as handle:
            handle.truncate(100)
    elif damage == "delete":
        segment.unlink()
    elif damage == "manifest":  # the live generation's own manifest gone: named, not taken for a race
        (generation / "manifest.json").unlink()
    elif damage == "column":
        next(generation.glob("*.arxiv_id.col")).unlink()
    elif damage == "lengths":
        length = next(generation.glob("*._all_len.col"))
        length.write_bytes(length.read_bytes()[:20])
    elif damage == "glossary":
        (generation / "glossary.json").unlink()
    elif damage == "dates-garbled":  # its size kept: the bytes fail in the codec Whoosh calls (a traceback before)
        dates = next(generation.glob("*.date.col"))
        data = bytearray(dates.read_bytes())
        data[: len(data) // 2] = b"\xff" * (len(data) // 2)
        dates.write_bytes(bytes(data))
    elif damage.startswith("lexicon"):  # garbled, its size kept; unrecorded: as an index from before the record
        data = bytearray(lexicon.read_bytes())
        data[16:] = bytes(len(data) - 16)
        lexicon.write_bytes(bytes(data))
        if damage == "lexicon-unrecorded":
            manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
            del manifest["files"]
            (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    else:
        (index / POINTER).write_text("gen-999999\n")
    result = CliRunner().invoke(cli, ["query", "확산 모델", "--index", str(index)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert str(index) in result.output and "reindex --full" in result.output
    assert damage != "manifest" or "manifest.json" in result.output
    # and the repair command repairs it
    searchkit.reindex(ROOT / "corpus", index, full=True)
    assert _snapshot(index)["확산 모델"]


@pytest.mark.parametrize("file", [".pst", "._stored.col"])
def test_a_plain_reindex_over_a_damaged_index_rebuilds_it(default_index_dir: Path, tmp_path: Path, file: str) -> None:
    """An emptied postings or stored-fields file opens in Whoosh: a plain
    reindex built on it, with a traceback (postings) or a misleading
    "cannot write" (stored fields). The file sizes a query checks say it is
    damaged, and the reindex rebuilds in full instead."""
    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    next(p for p in live_generation(index).iterdir() if p.name.endswith(file)).write_bytes(b"")
    report = searchkit.reindex(ROOT / "corpus", index)
    assert report.full and any("damaged" in n and "rebuilding in full" in n for n in report.notices), report.notices
    assert _snapshot(index) == _snapshot(default_index_dir)


def test_analyzer_change_forces_full_rebuild(default_index_dir: Path, tmp_path: Path, monkeypatch) -> None:
    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    monkeypatch.setattr("searchkit.backends.whoosh.writer.ANALYZER_VERSION", "kiwi-test")
    report = searchkit.reindex(ROOT / "corpus", index)
    assert report.full and report.notices
    assert "rebuilding in full" in report.notices[0]


def test_an_index_built_again_from_nothing_is_not_taken_for_the_open_one(default_index_dir: Path,
                                                                         tmp_path: Path) -> None:
    """A removed index built again starts its generations over at
    gen-000001: an index kept open (a server's) must see that it is not
    the one it reads, though the names are the same."""
    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    with searchkit.open_index(index) as kept:
        assert kept.is_current()
        name = live_generation(index).name
        shutil.rmtree(index)
        searchkit.reindex(ROOT / "corpus", index)
        assert live_generation(index).name == name
        assert not kept.is_current()
    with searchkit.open_index(index) as fresh:
        assert fresh.is_current()


def test_a_lock_removed_after_use_still_admits_one_holder_at_a_time(tmp_path: Path) -> None:
    """`store.file_lock(remove=True)` (the cluster writer's lock in the temp
    directory) leaves no file behind, and a waiter that locked the file
    just removed takes the new one instead: never two holders at once."""
    from searchkit.store import file_lock

    path = tmp_path / "writer.lock"
    inside, most, rounds = [0], [0], []
    guard = threading.Lock()

    def hold() -> None:
        for _ in range(25):
            with file_lock(path, remove=True):
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.001)
                with guard:
                    inside[0] -= 1
                rounds.append(1)

    threads = [threading.Thread(target=hold) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(rounds) == 100 and most[0] == 1
    assert not path.exists()


def test_a_program_that_seeds_random_cannot_overwrite_the_live_index(tiny_corpus: Path, tmp_path: Path) -> None:
    """Whoosh names segments from Python's global `random`, and a new
    generation hard-links the live one's files: a program that seeded it
    drew the live segment's name again on its next reindex, and writing the
    "new" segment truncated the live one (a traceback, then a damaged or
    silently shrunken index)."""
    index = tmp_path / "index"
    random.seed(42)
    searchkit.reindex(tiny_corpus, index)
    first = live_generation(index)
    before = {p.name: p.read_bytes() for p in first.iterdir() if p.is_file()}
    post = sorted(tiny_corpus.glob("*.md"))[0]
    post.write_text(post.read_text(encoding="utf-8") + "\n추가 문장.\n", encoding="utf-8")
    random.seed(42)
    report = searchkit.reindex(tiny_corpus, index)
    assert (report.updated, report.full) == (1, False)
    assert {p.name: p.read_bytes() for p in first.iterdir() if p.is_file() and p.name in before} == before
    searchkit.reindex(tiny_corpus, tmp_path / "full")
    with searchkit.open_index(index) as grown, searchkit.open_index(tmp_path / "full") as whole:
        for text in ("확산", "로봇 보행", "추가 문장"):
            got, want = grown.search(text), whole.search(text)
            assert [(h.arxiv_id, h.score) for h in got] == [(h.arxiv_id, h.score) for h in want], text
            assert got.total == want.total, text
