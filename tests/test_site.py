"""The static page's export (no browser): files, atomic writes, bad input,
the binary formats, and `trend` (tests/test_site_browser.py drives the page)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import searchkit
from searchkit.errors import QueryError
from searchkit.site import export as export_module
from searchkit.site.shards import Grams, deletion_keys, fnv1a, posting_block
from searchkit.site.trend import week_start
from searchkit.terminal.cli import main
from tests.conftest import DEFAULT_CORPUS, write_posts
from tests.site_harness import damaged_in_node, redeploy_in_node, search_in_node, segment_in_node
from tests.test_lexicon import _corpus_words


class Bytes:
    """A cursor over exported bytes, reading what store.js reads."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def varint(self) -> int:
        n = shift = 0
        while True:
            byte = self.data[self.at]
            self.at += 1
            n |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return n

    def take(self, size: int) -> bytes:
        self.at += size
        return self.data[self.at - size : self.at]


def read_block(data: bytes) -> tuple[list[int], list[float]]:
    """A Python reader of `posting_block`, as store.js `read` reads it."""
    import struct

    cursor = Bytes(data)
    count, distinct = cursor.varint(), cursor.varint()
    values = [struct.unpack("<f", cursor.take(4))[0] for _ in range(distinct)]
    docs, last = [], 0
    for _ in range(count):
        last += cursor.varint()
        docs.append(last)
    return docs, [values[cursor.varint()] for _ in range(count)]


def read_grams(data: bytes) -> dict[str, dict[int, int]]:
    """A Python reader of `gram_shard`, as store.js `gram` reads it: gram → {document: section mask}."""
    cursor = Bytes(data)
    heads = []
    for _ in range(cursor.varint()):
        key = cursor.take(cursor.varint()).decode("utf-8")
        heads.append((key, cursor.varint()))
    out: dict[str, dict[int, int]] = {}
    for key, length in heads:
        end, doc, docs = cursor.at + length, 0, {}
        while cursor.at < end:
            doc += cursor.varint()
            docs[doc] = cursor.varint()
        out[key] = docs
    return out


def test_posting_block_round_trips_float32_weights_and_large_gaps() -> None:
    import numpy as np

    docs = np.array([0, 3, 200, 70000])
    tf = np.array([np.float32(2.3), 1.0, np.float32(0.7), np.float32(2.3)], dtype=np.float64)
    assert read_block(posting_block(docs, tf)) == (docs.tolist(), tf.tolist())


def test_grams_hold_every_run_of_two_and_three_terms_by_section() -> None:
    # (term, position, start, end); 모델 and 모델링 share a position, as a compound's parts do
    title = [("확산", 0, 0, 2), ("모델", 1, 3, 5), ("모델링", 1, 3, 6), ("학습", 2, 7, 9)]
    method = [("확산", 0, 0, 2), ("학습", 5, 3, 5), ("모델", 6, 6, 8)]
    grams = Grams(("title", "method"))
    grams.add(3, {"title": title, "method": method})
    grams.add(200, {"method": method})
    shards = [read_grams(data) for data in grams.shards(target=40)]
    assert len(shards) > 1
    found = {key: docs for shard in shards for key, docs in shard.items()}
    assert found == {
        "확산\x1f모델": {3: 0b01}, "확산\x1f모델링": {3: 0b01}, "모델\x1f학습": {3: 0b01}, "모델링\x1f학습": {3: 0b01},
        "확산\x1f모델\x1f학습": {3: 0b01}, "확산\x1f모델링\x1f학습": {3: 0b01}, "학습\x1f모델": {3: 0b10, 200: 0b10},
    }
    for i, shard in enumerate(shards):  # each gram in the shard its hash picks, as the page looks it up
        assert all(fnv1a(key) % len(shards) == i for key in shard)


def test_fnv1a_is_the_reference_hash() -> None:
    assert fnv1a("") == 0x811C9DC5
    assert fnv1a("a") == 0xE40C292C  # the published FNV-1a test vector
    assert fnv1a("확산") != fnv1a("모델")


def test_deletion_keys_meet_for_words_one_edit_apart() -> None:
    for a, b in [("학습", "핰습"), ("모델", "모데"), ("abc", "bac"), ("토큰", "토큰화")]:
        assert deletion_keys(a) & deletion_keys(b)
    assert not deletion_keys("학습") & deletion_keys("모델")


def _files(site: Path) -> Path:
    """Where an export keeps its files: beside meta.json, under its version."""
    return site / "data" / json.loads((site / "data" / "meta.json").read_text(encoding="utf-8"))["version"]


@pytest.fixture(scope="module")
def tiny_site(tiny_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "search"
    searchkit.export_site(tiny_index_dir, out)
    return out


def test_export_writes_the_page_and_sharded_data(tiny_site: Path, tiny_index: searchkit.Index) -> None:
    for name in ("index.html", "app.js", "searcher.js", "scoring.js", "style.css"):
        assert (tiny_site / name).is_file(), name
    meta = json.loads((tiny_site / "data" / "meta.json").read_text(encoding="utf-8"))
    assert meta["format"] == export_module.FORMAT
    assert meta["count"] == 6  # six entries: 2501.00005 is posted twice
    assert meta["copies"] == [[4, 5]]
    tables = meta["tables"]
    from searchkit import engine as searcher
    from searchkit import query, ranking, schema

    assert tables["SUFFIXES"] == sorted(query.SUFFIXES)
    assert tables["FIELD_WEIGHTS"] == schema.FIELD_WEIGHTS
    assert (tables["BM25_K1"], tables["BM25_B"], tables["CANDIDATES"]) == (
        searcher.BM25_K1, searcher.BM25_B, searcher.CANDIDATES)
    assert tables["PROXIMITY_BONUS"] == ranking.PROXIMITY_BONUS
    # query understanding's tables reach the page from understand.py, not from copies in the JS
    from searchkit import understand

    frame, light, verbs = understand.tables()
    assert (set(tables["FRAME"]), set(tables["LIGHT"])) == (frame, light)
    assert {k: tuple(v) for k, v in tables["VERBS"].items()} == verbs
    assert (tables["VERB_WEIGHT"], tables["SIGNIFICANCE_POWER"]) == (understand.VERB_WEIGHT, ranking.SIGNIFICANCE_POWER)
    # every term's postings are where the dictionary says, with the index's own weights
    postings = tiny_index.export_source()["postings"]
    shard = fnv1a("확산") % meta["shards"]["dict"]
    *rows, synonyms = json.loads((_files(tiny_site) / "dict" / f"{shard}.json").read_text(encoding="utf-8"))["확산"]
    # the row ends with the glossary sources starting with the term (확산 모델 → diffusion model, …),
    # each synonym with its terms' rows in `all` (0 for a term the index lacks)
    targets = tiny_index.export_source()["glossary"].synonyms[("확산", "모델")]
    assert [entry[:3] for entry in synonyms["확산\x1f모델"]] == [[list(t), text, w] for t, text, w in targets]
    for terms, _text, _weight, all_rows in synonyms["확산\x1f모델"]:
        for term, row in zip(terms, all_rows):
            shard = json.loads((_files(tiny_site) / "dict" / f"{fnv1a(term) % meta['shards']['dict']}.json")
                               .read_text(encoding="utf-8"))
            assert row == next((r for r in shard.get(term, []) if isinstance(r, list) and r[0] == 0), 0)
    for fi, df, idf, group, file, offset, length in rows:
        field = meta["fields"][fi]
        data = (_files(tiny_site) / "post" / group / f"{file}.bin").read_bytes()[offset : offset + length]
        docs, tf = postings.read(field, "확산")
        assert read_block(data) == (docs.tolist(), tf.tolist())
        assert (df, idf) == (postings.df(field, "확산"), postings.idf(field, "확산"))


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_a_page_open_across_a_new_export_says_to_reload(tiny_index_dir: Path, tmp_path: Path) -> None:
    """A page keeps the meta.json it opened with; after a new export its
    shard counts are stale, and read against the new files they sent a
    term to the wrong shard: 0 hits, no error (probe). Files now live
    under the export's version, so the old page finds them gone, sees the
    new version and says to reload."""
    out = tmp_path / "search"
    searchkit.export_site(tiny_index_dir, out)
    first = json.loads((out / "data" / "meta.json").read_text(encoding="utf-8"))["version"]
    searchkit.export_site(tiny_index_dir, out)
    assert json.loads((out / "data" / "meta.json").read_text(encoding="utf-8"))["version"] != first
    assert sorted(p.name for p in (out / "data").iterdir()) == sorted(["meta.json", _files(out).name])
    answer = redeploy_in_node(out)
    assert answer["before"] > 0
    assert answer["error"] == "the search index was updated since this page was opened: reload the page"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_a_damaged_file_is_reported_not_read_as_nothing(tiny_index_dir: Path, tmp_path: Path) -> None:
    """A posting file of zeros read as an empty block (확산 모델: no papers),
    a truncated length file shifted every length and a truncated gram
    shard lost its phrases, all silently (probe): each now says which
    file is damaged."""
    searchkit.export_site(tiny_index_dir, tmp_path / "search")
    answer = damaged_in_node(tmp_path / "search")
    assert answer["posting"] and answer["posting"].endswith("is damaged: export the page again")
    assert answer["lengths"] == "len/all.bin is damaged: export the page again"
    assert answer["gram"] == "a gram shard is damaged: export the page again"


def test_export_loads_no_kiwi(tiny_index_dir: Path, tmp_path: Path) -> None:
    code = ("import sys, searchkit; searchkit.export_site(sys.argv[1], sys.argv[2]); "
            "print('kiwipiepy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(tiny_index_dir), str(tmp_path / "out")],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_failed_export_leaves_nothing_that_looks_complete(tiny_index_dir: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module, "_write_data", broken)
    with pytest.raises(searchkit.InputError, match="No space left"):
        searchkit.export_site(tiny_index_dir, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_an_export_removes_what_a_killed_export_left(tiny_index_dir: Path, tmp_path: Path) -> None:
    """A killed export's temp directory (its claim file locked by nobody)
    is removed by the next export; one still being written (locked) and
    one that is not an export's (no claim file) are left alone."""
    import fcntl

    dead, running, foreign = (tmp_path / f".out.{name}.tmp" for name in ("dead", "running", "foreign"))
    for directory in (dead, running, foreign):
        directory.mkdir()
        (directory / "data").mkdir()
    (dead / export_module._CLAIM).touch()
    held = (running / export_module._CLAIM).open("w")
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        searchkit.export_site(tiny_index_dir, tmp_path / "out")
    finally:
        held.close()
    assert not dead.exists() and running.is_dir() and foreign.is_dir()
    assert not (tmp_path / "out" / export_module._CLAIM).exists(), "the claim is not published"


def test_export_replaces_an_earlier_export_but_no_other_directory(tiny_index_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    searchkit.export_site(tiny_index_dir, out)
    (out / "stale.txt").write_text("from before")
    searchkit.export_site(tiny_index_dir, out)
    assert not (out / "stale.txt").exists() and (out / "index.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    with pytest.raises(searchkit.InputError, match="not empty"):
        searchkit.export_site(tiny_index_dir, other)
    assert (other / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize("case", ["missing index", "no parent", "a file", "a loop of links", "a link to nothing",
                                  "{category}", "{0}", "{year", "{year.__class__.__name__}", "{year:{0}}",
                                  "{day:x}", "{slug!x}", "{slug:>100000000000}", "javascript:{slug}"])
def test_site_command_bad_input_is_one_line_and_exit_2(case: str, tiny_index_dir: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    """Bad targets and --post-url templates naming anything but the four
    fields (a KeyError or IndexError traceback before; an attribute was
    read and written into the page)."""
    (tmp_path / "file").write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    index, out = {
        "a loop of links": (tiny_index_dir, tmp_path / "loop"),
        "a link to nothing": (tiny_index_dir, tmp_path / "dangling"),
        "missing index": (tmp_path / "nope", tmp_path / "out"),
        "no parent": (tiny_index_dir, tmp_path / "a" / "b" / "out"),
        "a file": (tiny_index_dir, tmp_path / "file"),
    }.get(case, (tiny_index_dir, tmp_path / "out"))
    template = ["--post-url", case] if case.startswith("javascript") else [] if case[0] != "{" else [
        "--post-url", f"/{case}/x.html"]
    with pytest.raises(SystemExit) as exit_:
        main(["site", str(out), "--index", str(index), *template])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("Error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_site_command_prints_what_it_wrote(tiny_index_dir: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["site", str(tmp_path / "out"), "--index", str(tiny_index_dir)])
    assert exit_.value.code == 0
    err = capsys.readouterr().err
    assert "6 entries, 5 papers" in err and "every visit loads" in err


# trend

LATER = {
    "2025-01-22-daily-papers-20250122.md": """\
---
layout: post
date: 2025-01-22 08:00:00
---

# 1. [Diffusion Again](https://arxiv.org/abs/2501.00009)

## Introduction
- Goal: 확산 모델을 다시 연구한다.

## Method
확산 과정을 쓴다.
""",
}


def test_trend_counts_papers_per_iso_week_with_empty_weeks(tiny_copy: tuple[Path, Path]) -> None:
    corpus, index_dir = tiny_copy
    write_posts(corpus, LATER)
    searchkit.reindex(corpus, index_dir)
    with searchkit.open_index(index_dir) as index:
        weeks = searchkit.trend(index, "확산")
        hits = index.search("확산", limit=100)
    expected = Counter(week_start(d) for h in hits for d in {week_start(x) for x in h.dates})
    assert weeks == [("2025-01-06", expected["2025-01-06"]), ("2025-01-13", 0), ("2025-01-20", 1)]
    assert expected["2025-01-06"] == 2  # 2501.00001 and 2501.00003
    with searchkit.open_index(index_dir) as index:
        assert searchkit.trend(index, "확산", since="2025-01-20") == [("2025-01-20", 1)]
        assert searchkit.trend(index, "로봇", sections="title") == [("2025-01-06", 1)]


def test_trend_command_json_and_chart(tiny_index_dir: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["trend", "확산", "--index", str(tiny_index_dir), "--json"])
    assert exit_.value.code == 0
    assert json.loads(capsys.readouterr().out) == [{"week": "2025-01-06", "papers": 2}]
    with pytest.raises(SystemExit) as exit_:
        main(["trend", "확산", "--index", str(tiny_index_dir)])
    out = capsys.readouterr().out
    assert "2025-01-06" in out and "█" in out
    with pytest.raises(SystemExit) as exit_:
        main(["trend", "없는단어zz", "--index", str(tiny_index_dir), "--json"])
    assert exit_.value.code == 1


@pytest.fixture(scope="module")
def default_site_dir(default_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("default-site") / "search"
    searchkit.export_site(default_index_dir, out)
    return out


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_page_segments_unseen_words_as_the_library(default_site_dir: Path, default_index: searchkit.Index) -> None:
    """lexicon.js `segment` mirrors `Lexicon.segment`, memo and bound
    included: the same splits of the judged queries' words and of runs of
    recorded words, and a word that fails only at its end (exponential
    before: 다중모달 × 12 + 뷁뷁뷁 took the page 1.2 s, × 40 would take ages)."""
    lex, known = default_index._lexicon, default_index.known
    words = _corpus_words(default_index)[:400] + ["다중모달" * 40 + "뷁뷁뷁", "모델" * 500]
    page = segment_in_node(default_site_dir, words, timeout=60)
    assert page["longest"] == lex.longest() is not None
    assert [(w, s) for w, s, want in zip(words, page["segments"], (lex.segment(w, known) for w in words)) if s != want] == []


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_page_scores_as_the_library_to_the_bit_in_node(default_site_dir: Path,
                                                            default_index: searchkit.Index) -> None:
    """The page's scores come from another engine's Math: node's Math.log
    is one bit off C's log for one argument in thirty, and the queries'
    word significances took that bit into their scores (3D 재구성 scored
    32.3923400543144 on the page, 32.392340054314396 in the library) until
    both rounded them to single precision (`understand._single`)."""
    paper = default_index.search("확산")[0].arxiv_id
    queries = [{"q": q, "limit": limit} for q in ("3D 재구성", "언어 모델 추론 능력", "이미지 편집", "음성 합성",
                                                 "시각 토큰 압축", '"대형 언어" 모델') for limit in (10, 45)]
    queries += [{"q": f"{paper} 확산", "sections": ["limitations"]}, {"q": "확산 모델", "sections": ["results"]}]
    # Object.prototype's keys are no glossary source nor section (the page crashed on "constructor")
    queries += [{"q": "constructor design"}, {"q": "Constructor"}, {"q": "확산", "sections": ["constructor"]},
                {"q": "확산", "sections": ["__proto__"]}]
    # letters outside the BMP (pasted from a PDF) are two UTF-16 units but one code point, as offsets count
    queries += [{"q": q} for q in ("교𝑑감각", "𝑑𝑖𝑓𝑓𝑢𝑠𝑖𝑜𝑛 모델", "top-𝑘 샘플링", "𝐋𝐋𝐌 추론")]
    # bad options and odd text: the library's errors, quoted as Python's repr quotes them
    queries += [{"q": "확산", "limit": 0}, {"q": "확산", "limit": 2.5}, {"q": "확산", "sort": "Date"},
                {"q": "확산", "since": "0000-01-01"}, {"q": "확산", "since": 20251006}, {"q": "확산", "since": "2025-1006"},
                {"q": "확산", "until": "20251028"}, {"q": "확산", "sections": [1]},
                {"q": "확산", "sections": ["title\x1c"]}, {"q": "확산", "sections": ["\ufefftitle"]},
                {"q": "'"}, {"q": "!\u00a0!"}, {"q": "\\ \u3000 \""}, {"q": 5}, {"q": None}, {"q": ["확산"]},
                {"q": "확산", "sections": 5}, {"q": "확산", "limit": -0.0}, {"q": "확산", "limit": 1e-7},
                {"q": "확산", "since": ["2025-10-06"]}]
    # unassigned in Python's Unicode 14, letters or emoji in node's newer one: spaces in both
    queries += [{"q": "\U0001fa77"}, {"q": "모델\U00031350"}, {"q": "확산 \U0001fa77 모델"}]
    # a word split into a piece the texts write only glued is matched as its pieces in sequence (meta.sticky)
    queries += [{"q": q} for q in ("프레임워크", "멀티모달 데이터셋", "상호작용 프레임")]
    # a word the texts also read as itself is searched so beside its commonest reading (이산, read as 산)
    queries += [{"q": q} for q in ("이산 확산", "디코딩 속도", "동기화", "상관관계 분석", "저정밀도 학습", '"이산 확산"')]
    # verb forms the texts never wrote, read from the package's table in the lexicon shards (verbforms)
    queries += [{"q": q} for q in ("학습 데이터를 고르는", "환각을 막는", "뷁뷁 토큰을 골라", "오류를 고쳐야",
                                   "에이전트들을 평가", "뷁뷁 에이전트들을 평가", "뷁들을 막는")]  # never a piece of a word
    page = search_in_node(default_site_dir, queries)
    for query, got in zip(queries, page):
        options = {k: query[k] for k in ("since", "until", "sort") if k in query}
        try:
            hits = default_index.search(query["q"], limit=query.get("limit", 10), sections=query.get("sections"),
                                        **options)
        except QueryError as exc:
            assert got == {"error": str(exc)}, query
            continue
        shown = [{name: frag.text for name, frag in h.highlights.items()} for h in hits]
        expansions = [[e.source, e.target] for e in hits.expansions]
        assert got == {"ids": [h.arxiv_id for h in hits], "scores": [h.score for h in hits], "shown": shown,
                       "expansions": expansions, "total": hits.total, "exact": hits.total_exact,
                       "suggestion": hits.suggestion}, query


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_page_searches_words_as_themselves_as_the_library(default_index_dir: Path, default_index: searchkit.Index,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A word mostly read as no term is searched as itself where the
    texts read it so often enough (`lexicon.AS_ITSELF`): the page reads
    those counts from its alt/ shards. 직접 is the noun in 2 of the
    default corpus's 9 texts writing it: searched at a share of 0.2, not
    at 0.25."""
    from searchkit import lexicon

    monkeypatch.setattr(lexicon, "AS_ITSELF", 0.2)
    searchkit.export_site(default_index_dir, tmp_path / "search")
    queries = [{"q": q} for q in ("직접 비교", "직접", '"직접 비교"', "다른 직접 방법", "두 가지", "비교 하여")]
    page = search_in_node(tmp_path / "search", queries)
    for query, got in zip(queries, page):
        try:
            results = default_index.search(query["q"])
        except QueryError as exc:
            assert got == {"error": str(exc)}, query
            continue
        assert (got["ids"], got["scores"], got["total"]) == ([h.arxiv_id for h in results],
                                                              [h.score for h in results], results.total), query
    assert "직접" in [t for p in default_index.parse("직접 비교").parts for a in p.alternatives for t in a]
    monkeypatch.setattr(lexicon, "AS_ITSELF", 0.25)
    assert "직접" not in [t for p in default_index.parse("직접 비교").parts for a in p.alternatives for t in a]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_page_breaks_a_suggestions_tie_as_the_library(tmp_path: Path) -> None:
    """Two words one edit from the query and as frequent: the library
    takes the first by Python's order of strings, code point by code
    point; the page compared UTF-16 units, which put a character past
    U+FFFF (漢 + U+20000) before one in U+E000-U+FFFF (漢 + U+FA0E), and
    suggested the other (probe)."""
    body = "".join(f"# {i}. [Paper {i}](https://arxiv.org/abs/2602.1000{i})\n\n## Introduction\n\n"
                   f"- Goal: 본 연구는 {word} 표기를 다룬다.\n\n## Method\n\n방법을 설명한다.\n\n"
                   for i, word in ((1, "漢\ufa0e"), (2, "漢\U00020000")))
    write_posts(tmp_path / "corpus", {"2026-02-02-daily-papers-20260202.md": "---\ndate: 2026-02-02\n---\n\n" + body})
    searchkit.reindex(tmp_path / "corpus", tmp_path / "index")
    searchkit.export_site(tmp_path / "index", tmp_path / "search")
    queries = [{"q": "漢字"}, {"q": "漢字 모델"}]
    page = search_in_node(tmp_path / "search", queries)
    with searchkit.open_index(tmp_path / "index") as index:
        want = [index.search(query["q"]).suggestion for query in queries]
    assert want == ["漢\ufa0e", "漢\ufa0e 모델"]
    assert [got["suggestion"] for got in page] == want


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_a_prefixed_word_finds_its_papers_alone_in_the_library_and_on_the_page(tmp_path: Path) -> None:
    """Kiwi dropped the prefix of 비지도 (unsupervised): "비지도 학습"
    ranked the supervised-learning paper level with it. Now 비지도 matches
    only the paper that writes it (the other keeps 학습 alone, far below);
    "지도 학습" finds both, as a reader of either expects. A quoted phrase
    is still matched by the nouns (the cluster matches phrases so)."""
    body = "".join(f"# {i}. [Paper {i}](https://arxiv.org/abs/2602.2000{i})\n\n## Introduction\n\n"
                   f"- Goal: 본 연구는 {words}을 다룬다.\n\n## Method\n\n방법을 설명한다.\n\n"
                   for i, words in ((1, "지도 학습"), (2, "비지도 학습"), (3, "초고해상도 영상"), (4, "고해상도 영상")))
    write_posts(tmp_path / "corpus", {"2026-02-02-daily-papers-20260202.md": "---\ndate: 2026-02-02\n---\n\n" + body})
    searchkit.reindex(tmp_path / "corpus", tmp_path / "index")
    searchkit.export_site(tmp_path / "index", tmp_path / "search")
    queries = [{"q": q} for q in ("비지도 학습", "지도 학습", "학습비지도", "비지도", "고해상도", '"비지도 학습"')]
    page = search_in_node(tmp_path / "search", queries)
    with searchkit.open_index(tmp_path / "index") as index:
        found = [index.search(query["q"]) for query in queries]
    [unsupervised, supervised] = found[0]
    assert (unsupervised.arxiv_id, supervised.arxiv_id) == ("2602.20002", "2602.20001")
    assert supervised.score < unsupervised.score / 3
    assert sorted(h.arxiv_id for h in found[1]) == ["2602.20001", "2602.20002"]
    assert [h.arxiv_id for h in found[2]] == [h.arxiv_id for h in found[0]]  # glued before another word too
    assert found[2][1].score < found[2][0].score / 3
    assert [h.arxiv_id for h in found[3]] == ["2602.20002"]
    assert sorted(h.arxiv_id for h in found[4]) == ["2602.20003", "2602.20004"]  # 초고해상도 is 고해상도 too
    assert [(got["ids"], got["scores"]) for got in page] == [([h.arxiv_id for h in r], [h.score for h in r])
                                                             for r in found]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_page_estimates_totals_as_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the budget both sample the same papers in the same order and
    estimate the same total; where a top or the date order saw every
    match, both count it exactly. Small windows and budgets make the
    default corpus estimate, and its first post posted three more times
    spends a budget before the sample is whole."""
    from searchkit import engine

    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    first = sorted(corpus.glob("*.md"))[0]
    for day in ("2025-11-01", "2025-11-02", "2025-11-03"):
        (corpus / f"{day}-again.md").write_text(first.read_text(encoding="utf-8").replace("2025-10-06", day),
                                                encoding="utf-8")
    searchkit.reindex(corpus, tmp_path / "index")
    monkeypatch.setattr(engine, "CANDIDATES", 2)
    for budget in (2, 7):
        monkeypatch.setattr(engine, "COUNT_BUDGET", budget)
        searchkit.export_site(tmp_path / "index", tmp_path / "search")
        queries = [{"q": q, **options} for q in ('"언어 모델"', '"모델 학습"', '"대형 언어 모델" 추론', "모델 학습")
                   for options in ({}, {"limit": 1}, {"sort": "date"}, {"since": "2025-10-09"})]
        page = search_in_node(tmp_path / "search", queries)
        got, want = [], []
        with searchkit.open_index(tmp_path / "index") as index:
            for query, answer in zip(queries, page):
                results = index.search(query.pop("q"), **query)
                got.append((answer["total"], answer["exact"]))
                want.append((results.total, results.total_exact))
        assert got == want, budget
        assert {exact for _, exact in want} == {True, False}, "some totals should be estimated, some exact"


def test_post_links_take_the_posts_date_and_an_escaped_slug(tmp_path: Path) -> None:
    """A post whose file name has no date (its front matter has one) made
    the export end in a traceback; a slug with `#` or `?` made a broken link."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    posts = sorted(DEFAULT_CORPUS.glob("*.md"))
    shutil.copy(posts[0], corpus / "notes.md")
    shutil.copy(posts[1], corpus / "2025-10-08-a b#c?.md")
    searchkit.reindex(corpus, tmp_path / "index")
    searchkit.export_site(tmp_path / "index", tmp_path / "out")
    links = {json.loads(p.read_text(encoding="utf-8"))["post"] for p in (_files(tmp_path / "out") / "doc").rglob("*.json")}
    assert links == {"/2025/10/06/notes.html", "/2025/10/08/a%20b%23c%3F.html"}


def test_an_export_through_a_link_replaces_what_it_points_at(tiny_index_dir: Path, tmp_path: Path) -> None:
    """Exporting to a link replaced the link with a directory, left the
    export it pointed at stale, and a stray link beside them."""
    searchkit.export_site(tiny_index_dir, tmp_path / "real")
    (tmp_path / "real" / "data" / "meta.json").write_text(json.dumps({"format": export_module.FORMAT, "stale": 1}))
    (tmp_path / "lnk").symlink_to("real")
    searchkit.export_site(tiny_index_dir, tmp_path / "lnk")
    assert (tmp_path / "lnk").is_symlink() and (tmp_path / "lnk").resolve() == (tmp_path / "real").resolve()
    assert "stale" not in json.loads((tmp_path / "real" / "data" / "meta.json").read_text())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lnk", "real"]
