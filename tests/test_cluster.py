"""The Sphinx cluster backend against the directory backend.

Real `searchd` nodes on free loopback ports in temporary directories,
always stopped by pid (finalizers run on failure too). Skipped, with the
reason, where `searchd` or pymysql is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import searchkit

from .conftest import DEFAULT_CORPUS, REPO, SHARED

pytestmark = [
    pytest.mark.skipif(shutil.which("searchd") is None, reason="searchd not installed (apt-get install sphinxsearch)"),
    pytest.mark.skipif(importlib.util.find_spec("pymysql") is None, reason="pymysql not installed"),
]

QUERIES = json.loads((REPO / "benchmarks" / "quality" / "queries.json").read_text(encoding="utf-8"))
CLI = [sys.executable, "-m", "searchkit"]
REL = 1e-6


def _nodes():  # imported late: the module must load (and skip) without pymysql
    from searchkit.backends.sphinx import nodes

    return nodes


def start(directory: Path, count: int, request: pytest.FixtureRequest) -> str:
    """Start a cluster whose nodes are stopped when the test (or session) ends."""
    request.addfinalizer(lambda: _nodes().down(directory))
    return str(_nodes().up(count, directory))


def run(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """The real CLI in a child process."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout)


def same_ranking(a: searchkit.Results, b: searchkit.Results) -> bool:
    """Same papers in the same order, scores equal to 1e-6 relative."""
    return [h.arxiv_id for h in a] == [h.arxiv_id for h in b] and all(
        abs(x.score - y.score) <= REL * max(abs(x.score), 1e-12) for x, y in zip(a, b)
    )


def compare(directory: searchkit.Index, cluster: searchkit.Index, cases: list[tuple[str, dict]]) -> list[str]:
    """The cases whose top 10, total or highlights differ between the backends."""
    differ = []
    for text, options in cases:
        a, b = directory.search(text, **options), cluster.search(text, **options)
        # the cluster counts phrases exactly where the directory estimates past COUNT_BUDGET checks
        total = a.total == b.total if a.total_exact else b.total_exact
        same = same_ranking(a, b) and total and [h.highlights for h in a] == [h.highlights for h in b]
        same = same and a.expansions == b.expansions and [h.dates for h in a] == [h.dates for h in b]
        same = same and a.suggestion == b.suggestion
        if not same:
            differ.append(f"{text!r} {options}: {[h.arxiv_id for h in a][:5]} vs {[h.arxiv_id for h in b][:5]}")
    return differ


# Session clusters: the shared corpus on 1 and on 3 shards


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The benchmark corpus when it is checked out beside the repo, else corpus/."""
    return SHARED / "daily-papers" if SHARED.is_dir() else DEFAULT_CORPUS


@pytest.fixture(scope="session")
def directory_index(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[searchkit.Index]:
    index = tmp_path_factory.mktemp("cluster-dir") / "index"
    searchkit.reindex(corpus, index)
    with searchkit.open_index(index) as opened:
        yield opened


@pytest.fixture(scope="session")
def clusters(corpus: Path, tmp_path_factory: pytest.TempPathFactory,
             request: pytest.FixtureRequest) -> dict[int, tuple[str, searchkit.ReindexReport]]:
    """A 1-node and a 3-node cluster, each holding the corpus: shards → (url, report)."""
    out = {}
    for count in (1, 3):
        url = start(tmp_path_factory.mktemp(f"cluster{count}"), count, request)
        out[count] = (url, searchkit.reindex(corpus, url))
    return out


@pytest.fixture(scope="session")
def opened(clusters: dict) -> Iterator[dict[int, searchkit.Index]]:
    indexes = {count: searchkit.open_index(url) for count, (url, _) in clusters.items()}
    yield indexes
    for index in indexes.values():
        index.close()


def test_reindex_reports_the_corpus(clusters: dict, directory_index: searchkit.Index, corpus: Path) -> None:
    stats = directory_index.stats()
    for _, report in clusters.values():
        assert (report.entries, report.papers) == (stats.entries, stats.papers)
        assert report.full and not report.skipped or corpus == SHARED / "daily-papers"
    if corpus == SHARED / "daily-papers":
        assert [(r.entries, r.papers) for _, r in clusters.values()] == [(738, 689), (738, 689)]


@pytest.mark.parametrize("shards", [1, 3])
def test_benchmark_queries_rank_as_the_directory(shards: int, opened: dict, directory_index: searchkit.Index) -> None:
    cases = [(q["query"], {"sections": q.get("sections")}) for q in QUERIES]
    differ = compare(directory_index, opened[shards], cases)
    share = 1 - len(differ) / len(cases)
    assert not differ, f"{share:.1%} of {len(cases)} benchmark queries match on {shards} shard(s); first: {differ[:3]}"


@pytest.mark.parametrize("shards", [1, 3])
def test_options_rank_as_the_directory(shards: int, opened: dict, directory_index: searchkit.Index) -> None:
    """Sections, phrases, arXiv ids, dates, date order, no expansion, names."""
    some = [q["query"] for q in QUERIES[::9]]
    ids = [h.arxiv_id for h in directory_index.search(some[0], limit=3)]
    cases = [(t, {"sort": "date", "limit": 5}) for t in some] + [(t, {"expand": False}) for t in some]
    cases += [(t, {"sections": ["introduction", "limitations"]}) for t in some]
    cases += [('"확산 모델" 샘플링', {}), ('"언어 모델"', {"limit": 20}), ('"멀티모달 대형 언어 모델"', {"limit": 40}),
              ('"대형 언어" 추론', {"limit": 40}), (" ".join(ids), {}), ("Qwen2.5-VL", {}),
              ("GPT-4o 평가", {}), (f"{ids[0]} 토큰", {"since": "2025-10-01", "until": "2025-11-30"}),
              ("핰습 데이터", {}), ("강화학습 에이전트", {}), ("희소 어텐션", {"limit": 15})]
    assert not compare(directory_index, opened[shards], cases)


@pytest.mark.parametrize("shards", [1, 3])
def test_explanations_add_up_as_the_directory(shards: int, opened: dict, directory_index: searchkit.Index) -> None:
    """`--explain` on a cluster: the same terms, shares and factors."""
    for text in ("시각 토큰 압축", '"언어 모델" 환각', "강화학습 에이전트"):
        ours = opened[shards].search(text, limit=5, explain=True)
        theirs = directory_index.search(text, limit=5, explain=True)
        for a, b in zip(ours, theirs):
            assert sum(t.score for t in a.explanation.terms) == pytest.approx(a.explanation.bm25f, rel=1e-9)
            assert [(t.term, t.field) for t in a.explanation.terms] == [(t.term, t.field) for t in b.explanation.terms]
            assert [t.score for t in a.explanation.terms] == pytest.approx([t.score for t in b.explanation.terms],
                                                                           rel=1e-6)


@pytest.mark.parametrize("shards", [1, 3])
def test_show_and_similar_as_the_directory(shards: int, opened: dict, directory_index: searchkit.Index) -> None:
    cluster = opened[shards]
    for hit in directory_index.search("강화 학습 보상", limit=3):
        assert cluster.paper(hit.arxiv_id) == directory_index.paper(hit.arxiv_id)
        a, b = directory_index.similar(hit.arxiv_id, limit=5), cluster.similar(hit.arxiv_id, limit=5)
        assert same_ranking(a, b) and [h.shared_terms for h in a] == [h.shared_terms for h in b]
    with pytest.raises(searchkit.NotFoundError):
        cluster.paper("1234.56789")
    stats = cluster.stats()
    assert (stats.entries, stats.papers, stats.first_date, stats.last_date) == (
        directory_index.stats().entries, directory_index.stats().papers,
        directory_index.stats().first_date, directory_index.stats().last_date)
    assert cluster.search("모델").shards.to_json() == {"total": shards, "answered": shards, "failed": []}
    assert stats.top_terms == directory_index.stats().top_terms and all(stats.top_terms.values())


@pytest.mark.slow
@pytest.mark.parametrize("shards", [1, 3])
@pytest.mark.parametrize("depth, sweep, whole", [(None, True, None), (2, False, None), (2, True, None),
                                                 (2, True, 0), (None, True, 1 << 30), (2, False, "rows")])
def test_the_judged_queries_rank_as_the_directory(
    depth: int | None, sweep: bool, whole: int | str | None, shards: int, opened: dict,
    directory_index: searchkit.Index, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 11's bar over all judged queries, held to every query
    rather than 95%: the same top 10 (papers, order, scores to 1e-6) and
    so the same nDCG@10. At a depth of 2 documents a list every query must
    read its lists deeper (no sweep) or sweep (`certify.sweep`) before its
    top is certified: the answer may cost more, never differ (a window of
    Sphinx's own best, as before, agreed on 128 of 154 at a tenth of its
    size). Lists read row by row (``whole`` 0) and every list read whole
    at once (then nothing is left unseen) certify the same top."""
    from searchkit.backends.sphinx import certify, reader, window

    if depth:
        monkeypatch.setattr(certify, "DEPTH", depth)
    if whole == "rows":  # every list read row by row: never whole, never down to a weight
        monkeypatch.setattr(reader, "WHOLE_LIST", 0)
        monkeypatch.setattr(reader, "ROW_COST", 0)
    elif whole is not None:
        monkeypatch.setattr(reader, "WHOLE_LIST", whole)
    if not sweep:
        monkeypatch.setattr(certify, "SWEEP_CLAUSES", 0)
    swept = []
    sweeping = window.Windowed._swept

    def counted(self: window.Windowed, *args: object) -> bool:
        done = sweeping(self, *args)
        swept.append(done)
        return done

    monkeypatch.setattr(window.Windowed, "_swept", counted)
    differ = []
    for q in QUERIES:
        a = directory_index.search(q["query"], sections=q.get("sections"))
        b = opened[shards].search(q["query"], sections=q.get("sections"))
        if not same_ranking(a, b):
            differ.append(q["query"])
    assert differ == []
    if depth:  # lists two deep certify nothing alone: some top needs a sweep, unless every list is read whole
        assert any(swept) == (sweep and whole != 1 << 30), "the sweep certified some tops (none when off)"


def test_a_sweep_or_list_sphinx_concatenates_short_is_read_as_rows(
    opened: dict, directory_index: searchkit.Index, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sphinx 2.2.11's distributed GROUP_CONCAT drops the agents' values
    when the first node's shard has no match (COUNT stays right): with a
    date filter a sweep then gave fewer documents than it counted, and the
    search failed (review). Such a sweep, and such a list, are read as rows
    instead; the answer is the directory's."""
    from searchkit.backends.sphinx import certify, reader

    monkeypatch.setattr(certify, "DEPTH", 2)
    monkeypatch.setattr(reader, "WHOLE_LIST", 0)
    for query in ("편집 강도를 연속적으로 조절하는", "게임 에이전트", "확산 모델 가속"):
        for since in ("2025-10-01", "2025-11-15"):
            a = directory_index.search(query, since=since)
            b = opened[3].search(query, since=since)
            assert same_ranking(a, b), (query, since)


def test_concatenated_weights_are_taken_only_whole_and_in_step() -> None:
    """A list's weights read as one row: kept only when the count and the
    checksum (id plus weight, concatenated beside them) agree; otherwise
    None, and the caller reads the list row by row."""
    from searchkit.backends.sphinx.reader import concatenated

    assert concatenated([]) == []
    assert concatenated([(7, 1, 3, "10,11,12", "5,6,7", "15,17,19")]) == [(10, 5), (11, 6), (12, 7)]
    assert concatenated([(7, 1, 3, "10,11,12", "6,5,7", "15,17,19")]) is None, "out of step"
    assert concatenated([(7, 1, 4, "10,11,12", "5,6,7", "15,17,19")]) is None, "a document missing"
    assert concatenated([(7, 1, 3, "10,11", "5,6,7", "15,17,19")]) is None
    assert concatenated([(7, 0, 3, "10,11,12", "5,6,7", "15,17,19")]) is None, "the group below the weight"


def test_the_kth_paper_counts_each_paper_once_at_its_best_copy() -> None:
    """`certify._kth_paper`: the limit-th best lower bound among papers, a
    paper's copies counted once (at the best), the excluded paper and
    documents no longer live left out, papers looked up only as far as
    needed."""
    import numpy as np

    from searchkit.backends.sphinx import certify

    papers = {1: "a", 2: "a", 3: "b", 4: "c", 5: "d", 6: "e"}
    asked: list[int] = []

    def look_up(ids: list[int]) -> dict[int, str]:
        asked.extend(ids)
        return {doc: papers[doc] for doc in ids if doc != 5}

    seen = np.array([1, 2, 3, 4, 5, 6])
    lowers = np.array([9.0, 8.0, 7.0, 6.0, 5.5, 0.0])
    monkey = certify.PAPERS_STEP
    try:
        certify.PAPERS_STEP = 2
        assert certify._kth_paper(seen, lowers, certify.Lists(), 2, look_up, None) == 7.0
        assert asked == [1, 2, 3, 4]
        assert certify._kth_paper(seen, lowers, certify.Lists(), 2, look_up, "b") == 6.0
        assert certify._kth_paper(seen, lowers, certify.Lists(), 4, look_up, None) == 0.0, "5 is gone, 6 has 0"
    finally:
        certify.PAPERS_STEP = monkey


def test_a_sweep_asks_for_every_set_of_words_that_could_reach_the_kth_score(monkeypatch: pytest.MonkeyPatch) -> None:
    """`certify.sweep`: every set of words whose ceilings reach the k-th
    best score holds one of its clauses (so its MATCH finds every unseen
    document that could enter the top), and each clause reaches it; a
    word whose lists were read to the end is left out (no unseen document
    holds it); none when nothing is known or when the clauses are too many."""
    from itertools import combinations

    from searchkit.backends.sphinx import certify
    from searchkit.query import ParsedQuery, Part

    parsed = ParsedQuery("", (Part((("a",),)), Part((("b",), ("c", "c")), weight=0.5), Part((("d",),)),
                              Part((("e",),))))
    lists = certify.Lists()
    for word, last in (("a", 500_000), ("b", 600_000), ("c", 150_000), ("d", 200_000), ("e", 90_000)):
        lists.add(("title", word), 1, [(1, last + 1_000), (2, last)], found=50)
    ceiling = certify.ceilings(parsed, ("title",), [], lists)
    assert ceiling["c"] == pytest.approx(0.5 * 2 * certify.FIELD_WEIGHTS["title"] * certify.high(150_000))
    assert certify.sweep(parsed, ("title",), [], lists, 0.0) is None, "nothing known yet"
    for kth in (ceiling["e"], ceiling["a"], ceiling["a"] + ceiling["d"], sum(ceiling.values()) - ceiling["e"]):
        clauses = certify.sweep(parsed, ("title",), [], lists, kth)
        assert clauses and all(sum(ceiling[w] for w in clause) >= kth for clause in clauses)
        for size in range(1, len(ceiling) + 1):
            for words in combinations(ceiling, size):
                if sum(ceiling[w] for w in words) >= kth:
                    assert any(set(clause) <= set(words) for clause in clauses), (kth, words)
    assert certify.sweep(parsed, ("title",), [], lists, sum(ceiling.values()) * 1.01) == []
    lists.add(("title", "a"), 100, [], found=50)  # read to its end
    assert all("a" not in clause for clause in certify.sweep(parsed, ("title",), [], lists, ceiling["d"]))
    monkeypatch.setattr(certify, "SWEEP_CLAUSES", 1)
    assert certify.sweep(parsed, ("title",), [], lists, ceiling["e"]) is None


def test_a_sweep_written_factored_matches_what_its_clauses_match(opened: dict) -> None:
    """`window.factored` writes shared leading words once; Sphinx must
    match exactly the documents the clauses side by side match (its ``|``
    binds tighter than AND: unbracketed, the count was 0 for 17,132)."""
    from searchkit.backends.sphinx.terms import encode
    from searchkit.backends.sphinx.window import factored

    assert factored([["a", "b"], ["a", "c", "d"], ["b", "c"]]) == "(a ((b) | (c ((d))))) | (b ((c)))"
    index = opened[3]
    words = ["모델", "확산", "강화", "학습", "토큰", "llm", "언어"]
    sets = [[words[:2], words[1:3], [words[0], words[3], words[4]], [words[5]]],
            [[a, b] for i, a in enumerate(words) for b in words[i + 1 :]],
            [[words[0], words[2], words[3]], [words[0], words[2], words[6]], [words[0], words[5]], [words[4]]]]
    for clauses in sets:
        flat = " | ".join("(" + " ".join(encode(w) for w in clause) + ")" for clause in clauses)
        counts = [index._count(f"@(title,goal,method) ({written})", None, None, None)
                  for written in (flat, factored(clauses))]
        assert counts[0] == counts[1] > 0, clauses


def test_a_list_weight_brackets_the_exact_term_score(opened: dict) -> None:
    """What certification rests on: Sphinx's score of one term (its
    expression ranker over hit counts and the stored field lengths) lies,
    once widened by `certify.low/high`, around the exact BM25 the
    directory's formula gives, for every document, in the combined field
    and in each section."""
    from searchkit.backends.sphinx import certify
    from searchkit.backends.sphinx.reader import CandidatePostings

    index = opened[3]
    keys = [(field, term) for term in ("모델", "llm", "확산", "강화", "qwen2.5-vl", "토큰")
            for field in ("all", "title", "goal", "method", "limitations")]
    lists = certify.Lists()
    index._read_lists(lists, dict.fromkeys(keys, 100_000), None, None)
    checked = 0
    for key in keys:
        docs = index._in_build_order(lists.weights[key])
        postings = CandidatePostings(docs, index._count_live, index.df, index._totals)
        found, scores = postings.term(*key)
        exact = {docs[i]["id"]: score for i, score in zip(found.tolist(), scores.tolist())}
        assert set(exact) == set(lists.weights[key]), key
        assert lists.ended[key] and len(exact) == index.df(*key), key
        for doc, weight in lists.weights[key].items():
            assert certify.low(weight) <= exact[doc] <= certify.high(weight), (key, doc, weight, exact[doc])
            checked += 1
    assert checked > 1000


def test_completing_more_documents_than_an_id_filter_takes_stays_whole(opened: dict) -> None:
    """`_complete` reads a list's weights for any number of documents:
    past searchd's ``max_filter_values`` (4096) each agent would refuse
    the statement and the weights of two shards of three would be lost."""
    from searchkit.backends.sphinx import certify

    index = opened[3]
    key = ("all", "모델")
    whole = certify.Lists()
    index._read_lists(whole, {key: 100_000}, None, None)
    real = sorted(whole.weights[key])
    unknown = [(index.generation << 32) + (1 << 31) + n for n in range(6000)]  # ids no document has
    completed = certify.Lists()
    index._read_lists(completed, {key: 1}, None, None)
    index._fresh()
    index._complete(completed, unknown[:3000] + real + unknown[3000:], None, None)
    assert not index._status().partial
    assert completed.weights[key] == whole.weights[key] and len(real) > 100


# Lifecycle and errors


def test_up_and_down_by_the_cli(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    request.addfinalizer(lambda: _nodes().down(tmp_path / "c"))
    up = run("cluster", "up", "--nodes", "2", "--dir", str(tmp_path / "c"))
    assert up.returncode == 0, up.stderr
    url = up.stdout.strip().splitlines()[-1]
    assert url.startswith("sphinx://127.0.0.1:") and url.endswith("/papers")
    pids = [int((tmp_path / "c" / f"node-{k}" / "searchd.pid").read_text()) for k in (1, 2)]
    assert all(Path(f"/proc/{pid}").exists() for pid in pids)
    empty = run("query", "확산", "--index", url)
    assert empty.returncode == 2 and "no index at" in empty.stderr and "Traceback" not in empty.stderr
    down = run("cluster", "down", "--dir", str(tmp_path / "c"))
    assert down.returncode == 0, down.stderr
    assert not any(_nodes()._alive(pid) for pid in pids)
    assert not list((tmp_path / "c").glob("node-*/searchd.pid"))


def test_a_meta_record_past_sphinx_string_limit_reads_back_whole(tmp_path: Path,
                                                                  request: pytest.FixtureRequest) -> None:
    """Sphinx 2.2 cuts a string attribute at 4 MB without a word: a
    50,000-paper manifest was cut, and the cluster could not be opened.
    A long record is kept in pieces and reads back as written."""
    from searchkit.backends.sphinx import ClusterURL, meta

    url = ClusterURL.parse(start(tmp_path / "c", 1, request))
    node = meta.open_node(url)
    try:
        body = {"posts": [os.urandom(32).hex() for _ in range(200_000)], "한국어": "확산 모델"}  # 13 MB, ~6 MB packed
        meta.put(node, url, meta.GEN_ROW + 7, body)
        assert meta.get(node, url, meta.GEN_ROW + 7) == body
        assert len(meta.pieces(node, url, [meta.GEN_ROW + 7])) >= 6
        meta.put(node, url, meta.GEN_ROW + 7, {"small": 1})  # a short body replaces it in place
        assert meta.get(node, url, meta.GEN_ROW + 7) == {"small": 1}
    finally:
        node.close()


def small_packet_cluster(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """One node whose searchd takes statements of 128 kB at most (its
    least), inserts and meta records cut to fit."""
    from searchkit.backends.sphinx import config, meta, writer

    monkeypatch.setattr(config, "MAX_PACKET", 128 << 10)
    monkeypatch.setattr(meta, "PIECE", 32 << 10)
    monkeypatch.setattr(writer, "STATEMENT_BYTES", 64 << 10)
    url = start(tmp_path / "cluster", 1, request)
    assert "max_packet_size = 128K" in (tmp_path / "cluster" / "node-1" / "sphinx.conf").read_text()
    return url


def long_sections(corpus: Path) -> Path:
    """A copy of corpus/ whose every long line says itself three times."""
    shutil.copytree(DEFAULT_CORPUS, corpus)
    for post in corpus.glob("*.md"):
        lines = post.read_text(encoding="utf-8").split("\n")
        post.write_text("\n".join(" ".join([line] * 3) if len(line) > 80 else line for line in lines), encoding="utf-8")
    return corpus


def test_inserts_stay_under_a_node_packet_limit(tmp_path: Path, request: pytest.FixtureRequest,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """64 papers a statement made a statement of many megabytes for posts
    with long sections, past the node's max_packet_size: the node dropped
    the connection mid-reindex. Statements now end at a byte bound."""
    from searchkit.backends.sphinx import writer

    corpus = long_sections(tmp_path / "corpus")
    url = small_packet_cluster(tmp_path, request, monkeypatch)
    sent: list[list[int]] = []  # each INSERT's rows' bytes
    insert = writer.Writer._insert

    def counted(self: writer.Writer, shard: int, rows: list[str]) -> None:
        sent.append([len(row.encode("utf-8")) for row in rows])
        insert(self, shard, rows)

    monkeypatch.setattr(writer.Writer, "_insert", counted)
    report = searchkit.reindex(corpus, url)
    searchkit.reindex(corpus, tmp_path / "index")
    rows = [size for statement in sent for size in statement]
    assert len(rows) == report.entries
    assert all(sum(statement) <= writer.STATEMENT_BYTES or len(statement) == 1 for statement in sent)
    assert sum(rows[: writer.BATCH_DOCS]) > 128 << 10  # what one statement held before: the node refused it
    agree(url, tmp_path / "index")


def test_a_paper_too_large_for_a_node_is_named_and_nothing_is_published(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from searchkit.backends.sphinx import writer

    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    url = small_packet_cluster(tmp_path, request, monkeypatch)
    searchkit.reindex(corpus, url)
    with searchkit.open_index(url) as before:
        expected = [[(h.arxiv_id, h.score) for h in r] for r in probes(before)]
    post = sorted(corpus.glob("*.md"))[0]
    post.write_text(post.read_text(encoding="utf-8").replace("확산", "디퓨전"), encoding="utf-8")
    monkeypatch.setattr(writer, "ROW_BYTES", 2000)  # every paper's row is larger
    with pytest.raises(searchkit.SearchkitError, match=rf"^{post.name}: paper \S+ is too large for a cluster node"):
        searchkit.reindex(corpus, url)
    with searchkit.open_index(url) as after:
        assert [[(h.arxiv_id, h.score) for h in r] for r in probes(after)] == expected


def test_a_node_lost_after_the_publish_is_a_notice_and_the_next_reindex_tidies(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A node that died after the new generation was published, while the
    rows it replaced were being deleted, made the reindex exit 2 although
    the new content answered (probe). It is said as a notice; the next
    reindex deletes the leftovers."""
    from searchkit.backends.sphinx import writer
    from searchkit.backends.sphinx.conn import ClusterError

    directory = tmp_path / "cluster"
    url = start(directory, 2, request)
    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    searchkit.reindex(corpus, url)
    post = sorted(corpus.glob("*.md"))[0]
    post.write_text(post.read_text(encoding="utf-8").replace("확산", "디퓨전"), encoding="utf-8")

    def lost(self: writer.Writer, new: int) -> None:
        raise ClusterError("cluster node 127.0.0.1:1: Lost connection to MySQL server during query")

    with monkeypatch.context() as patch:
        patch.setattr(writer.Writer, "_clean", lost)
        report = searchkit.reindex(corpus, url)
    assert report.updated == 1 and len(report.notices) == 1
    assert report.notices[0].startswith("published generation 2, but tidying up after it stopped (cluster node")
    with searchkit.open_index(url) as index:
        assert index.search("디퓨전").total > 0
    second = sorted(corpus.glob("*.md"))[1]
    second.write_text(second.read_text(encoding="utf-8").replace("모델", "모형", 3), encoding="utf-8")
    tidy = searchkit.reindex(corpus, url)
    assert tidy.notices == () and tidy.updated == 1
    assert sum(sum(copies) for copies in replica_counts(url, "died < 3")) == 0
    with searchkit.open_index(url) as index:
        assert index.search("디퓨전").total > 0 and index.search("모형").total > 0


def test_errors_are_one_line(clusters: dict, tmp_path: Path) -> None:
    url = clusters[1][0]
    port = _nodes().free_ports(1)[0]
    for args in (["query", "x", "--index", url.replace("/papers", "/nope")],
                 ["query", "x", "--index", f"sphinx://127.0.0.1:{port}/papers"],
                 ["query", "x", "--index", "sphinx://nowhere"],
                 ["reindex", "--corpus", str(DEFAULT_CORPUS), "--index", f"sphinx://127.0.0.1:{port}/papers"]):
        done = run(*args)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)
        assert "Traceback" not in done.stderr
    env = {**os.environ, "PATH": str(tmp_path)}
    done = run("cluster", "up", "--dir", str(tmp_path / "c"), env=env)
    assert done.returncode == 2 and "searchd not found" in done.stderr and len(done.stderr.splitlines()) == 1


def test_a_node_that_accepts_and_never_greets_is_given_up_on_at_the_connect_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A stopped searchd's kernel still accepts connections: the greeting
    was waited for under the statements' 60 s limit, so every command took
    a minute to say the node does not answer."""
    from searchkit.backends.sphinx import conn

    monkeypatch.setattr(conn, "TIMEOUT", 0.5)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepted by the kernel, never answered
        started = time.monotonic()
        with pytest.raises(conn.ClusterError, match="does not answer"):
            conn.connect("127.0.0.1", silent.getsockname()[1])
        assert time.monotonic() - started < conn.READ_TIMEOUT / 2


def test_config_writes_mirrors(tmp_path: Path) -> None:
    description = {"name": "papers", "shards_per_node": 2, "mirrors": 1,
                   "nodes": [{"host": f"10.0.0.{k}", "sql_port": 9306, "api_port": 9312} for k in (1, 2, 3)]}
    (tmp_path / "cluster.json").write_text(json.dumps(description))
    done = run("cluster", "config", str(tmp_path / "cluster.json"), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    first = (tmp_path / "out" / "node-1" / "sphinx.conf").read_text()
    assert "agent = 10.0.0.1:9312|10.0.0.2:9312:papers_s1" in first
    assert "agent = 10.0.0.3:9312|10.0.0.1:9312:papers_s6" in first
    third = (tmp_path / "out" / "node-3" / "sphinx.conf").read_text()
    assert "index papers_s4" in third and "index papers_s5" in third and "type = distributed" not in third
    bad = run("cluster", "config", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o2"))
    assert bad.returncode == 2 and "cannot read cluster description" in bad.stderr


@pytest.mark.parametrize(("change", "why"), [
    ({"shards_per_node": 100_000_000}, "shards_per_node"),  # wrote configs until memory ran out
    ({"mirrors": True}, "mirrors"),
    ({"nodes": [{"host": "h", "sql_port": 9306, "api_port": 9306}]}, "share a host and port"),
    ({"nodes": [{"host": "h", "sql_port": 9306, "api_port": 9312, "dir": "/d"}] * 2}, "share a host and port"),
    ({"nodes": [{"host": "h", "sql_port": 70000, "api_port": 9312}]}, "1 to 65535"),
    ({"nodes": [{"host": "h", "sql_port": 9306.5, "api_port": 9312}]}, "whole numbers"),
    ({"nodes": [{"host": "h", "sql_port": "9306", "api_port": 9312}]}, "whole numbers"),
    ({"nodes": [{"host": "h\nlisten = 0.0.0.0:1", "sql_port": 9306, "api_port": 9312}]}, "line breaks"),
    ({"nodes": [{"host": "", "sql_port": 9306, "api_port": 9312}]}, "host"),
    ({"mirror": 1}, "unknown key 'mirror'"),  # a typo left the cluster without mirrors, exit 0
    ({"nodes": [{"host": "h", "sql_port": 9306, "api_port": 9312, "directory": "/d"}]}, "unknown key 'directory'"),
])
def test_config_refuses_what_sphinx_conf_cannot_hold(tmp_path: Path, change: dict, why: str) -> None:
    """Each was written into the nodes' sphinx.conf with exit 0: two listen
    lines on one port, a port out of range, a host that added config lines."""
    description = {"name": "papers", "nodes": [{"host": "10.0.0.1", "sql_port": 9306, "api_port": 9312},
                                               {"host": "10.0.0.2", "sql_port": 9306, "api_port": 9312}], **change}
    (tmp_path / "cluster.json").write_text(json.dumps(description))
    done = run("cluster", "config", str(tmp_path / "cluster.json"), "--out", str(tmp_path / "out"), timeout=30)
    assert done.returncode == 2 and why in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "out").exists()


# Change, crashes and faults, on a scratch cluster of the default corpus


@pytest.fixture
def scratch(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, Path, Path, Path]:
    """A 3-node cluster, a writable copy of corpus/ and a directory index
    of it, both built: (url, corpus, index directory, cluster directory)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    url = start(tmp_path / "cluster", 3, request)
    searchkit.reindex(corpus, url)
    searchkit.reindex(corpus, tmp_path / "index")
    return url, corpus, tmp_path / "index", tmp_path / "cluster"


def probes(index: searchkit.Index) -> list[searchkit.Results]:
    return [index.search(text, limit=20) for text in ("확산 모델", "시각 토큰 압축", "강화 학습", "에이전트 벤치마크",
                                                      "멀티모달 프레임워크")]


def agree(url: str, index_dir: Path) -> None:
    with searchkit.open_index(url) as cluster, searchkit.open_index(index_dir) as directory:
        for a, b in zip(probes(directory), probes(cluster)):
            assert same_ranking(a, b) and a.total == b.total, (
                a.query, [(h.arxiv_id, h.score) for h in a], [(h.arxiv_id, h.score) for h in b], a.total, b.total)
        assert cluster.stats().entries == directory.stats().entries
        assert cluster.stats().top_terms == directory.stats().top_terms  # counts kept across reindexes
        assert live_documents(cluster) == directory.stats().entries


def live_documents(index: searchkit.Index) -> int:
    """Live documents over every shard, each counted once by its (post, line) key."""
    rows = index.rows(f"SELECT COUNT(*) FROM papers WHERE born <= {index.generation} AND died > {index.generation}")
    return int(rows[0][0])


@pytest.mark.slow
def test_serve_answers_for_a_cluster(scratch: tuple[str, Path, Path, Path], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """`serve --index URL`: commands for that URL go through the server
    (its socket in a private directory named by the URL), with the output
    they have without it; stopping it removes the socket."""
    from searchkit.terminal.protocol import socket_path

    from .test_serve import Server, papersearch, served_count

    url = scratch[0]
    # a short runtime directory: the socket's path must fit AF_UNIX's 108 bytes, and tmp_path
    # grows with pytest's run counter (pytest-101/...) until it does not
    short = Path(tempfile.mkdtemp(prefix="ps-"))
    request.addfinalizer(lambda: shutil.rmtree(short, ignore_errors=True))
    runtime, elsewhere = short / "run", short / "none"
    runtime.mkdir(mode=0o700)
    elsewhere.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))  # where this test looks for the socket
    server = Server(url, "--workers", "1", env={"XDG_RUNTIME_DIR": str(runtime)}, log_path=tmp_path / "serve.log")
    try:
        server.wait_ready()
        assert socket_path(url).parent.stat().st_mode & 0o777 == 0o700
        before = served_count(url)
        served = papersearch("query", "확산 모델", "--index", url, "--json", env={"XDG_RUNTIME_DIR": str(runtime)})
        assert served_count(url) == before + 1, "the query did not go through the server"
        alone = papersearch("query", "확산 모델", "--index", url, "--json", env={"XDG_RUNTIME_DIR": str(elsewhere)})
        assert served.returncode == alone.returncode == 0, served.stderr + alone.stderr
        assert json.loads(served.stdout) == json.loads(alone.stdout)
        second = papersearch("serve", "--index", url, env={"XDG_RUNTIME_DIR": str(runtime)})
        assert second.returncode == 2 and "already answers" in second.stderr
    finally:
        server.stop()
    assert not socket_path(url).exists()


def test_serve_refuses_a_cluster_that_does_not_answer(tmp_path: Path) -> None:
    done = run("serve", "--index", "sphinx://127.0.0.1:1/papers", env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)})
    assert done.returncode == 2 and "127.0.0.1:1" in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir()), "nothing is made for a cluster that does not answer"


def test_incremental_reindex(scratch: tuple[str, Path, Path, Path]) -> None:
    """Each change ranks as a full directory build of the changed corpus
    (an incremental directory build scores the same but may order exact
    ties by its segments' history; the cluster orders them as a full build)."""
    url, corpus, index_dir, _ = scratch
    posts = sorted(corpus.glob("*.md"))
    agree(url, index_dir)
    edited = posts[0].read_text(encoding="utf-8").replace("확산", "디퓨전", 3)
    posts[0].write_text(edited, encoding="utf-8")
    moved = posts[1].read_text(encoding="utf-8")
    posts[1].unlink()
    for step in ("edit+delete", "add"):
        report = searchkit.reindex(corpus, url)
        searchkit.reindex(corpus, index_dir, full=True)
        assert not report.full and (report.updated, report.removed, report.added) == (
            (1, 1, 0) if step == "edit+delete" else (0, 0, 1))
        agree(url, index_dir)
        with searchkit.open_index(url) as cluster, searchkit.open_index(index_dir) as directory:
            # the bound of every word ever added: it may only be the larger
            assert cluster._lexicon.longest() >= directory._lexicon.longest() > 0
            # queries are read from the words a full build records, however the cluster got there
            assert sorted(cluster._lexicon.entries()) == list(directory._lexicon.entries())
            # and which pieces stand only glued (프레임워크's 워크), counted as a full build counts them
            assert cluster._lexicon.sticky_terms() == directory._lexicon.sticky_terms() != []
        (corpus / posts[1].name).write_text(moved, encoding="utf-8")
    again = searchkit.reindex(corpus, url)
    assert (again.added, again.updated, again.removed) == (0, 0, 0)


def test_two_spellings_of_one_cluster_take_turns(scratch: tuple[str, Path, Path, Path]) -> None:
    """The writer's lock is named after the cluster, not the URL: while a
    reindex holds it through 127.0.0.1, one through localhost waits (they
    took the same generation, removed each other's rows and both published)."""
    import threading

    from searchkit.backends.sphinx import ClusterURL
    from searchkit.backends.sphinx.writer import _writer_lock

    url, corpus, _, _ = scratch
    other = url.replace("127.0.0.1", "localhost")
    assert other != url
    waited, done = threading.Event(), []
    with _writer_lock(ClusterURL.parse(url), None):
        worker = threading.Thread(target=lambda: done.append(searchkit.reindex(corpus, other, on_wait=waited.set)))
        worker.start()
        assert waited.wait(30), "the second writer did not wait for the first"
        assert not done
    worker.join(120)
    assert done and (done[0].added, done[0].updated, done[0].removed) == (0, 0, 0)


def test_a_phrase_after_a_name_is_counted_where_it_is_found(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A name (model-based, In-Context-Learning) is indexed beside its
    first part at one position; written in order into Sphinx's field it
    came between a phrase's last terms (language model-based: language,
    model-based, model), and Sphinx's count missed a paper the exact check
    shows; a name led by a stop word counted as a position of its own."""
    post = ("---\ndate: 2025-01-06\n---\n\n"
            "# 1. [Names First](https://arxiv.org/abs/2501.00001)\n\n"
            "## Method\nlarge language model-based 방법과 In-Context-Learning 을 쓴다.\n\n"
            "# 2. [Plain Words](https://arxiv.org/abs/2501.00002)\n\n"
            "## Method\nlarge language model 을 쓴다.\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "2025-01-06-daily-papers-20250106.md").write_text(post, encoding="utf-8")
    url = start(tmp_path / "cluster", 1, request)
    searchkit.reindex(corpus, url)
    with searchkit.open_index(url) as index:
        results = index.search('"large language model"', expand=False)
        assert sorted(h.arxiv_id for h in results) == ["2501.00001", "2501.00002"]
        assert (results.total, results.total_exact) == (2, True)
        learning = index.search('"In-Context-Learning"', expand=False)
        assert [h.arxiv_id for h in learning] == ["2501.00001"] and learning.total == 1


def test_a_post_replaced_by_a_broken_link_keeps_its_papers(scratch: tuple[str, Path, Path, Path]) -> None:
    url, corpus, _, _ = scratch
    post = sorted(corpus.glob("*.md"))[0]
    post.unlink()
    post.symlink_to("/nonexistent/x.md")
    report = searchkit.reindex(corpus, url)
    assert (report.removed, report.entries, len(report.skipped)) == (0, 46, 1)
    post.unlink()  # deleting the file is what removes its papers
    assert searchkit.reindex(corpus, url).removed == 1


def test_a_connection_searchd_closed_while_idle_is_opened_again(clusters: dict,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """searchd 2.2 drops a SphinxQL connection idle for 15 minutes, which a
    long reindex's meta connection is while Kiwi works: the next statement
    after `conn.IDLE` seconds pings and reconnects instead of failing."""
    import socket

    from searchkit.backends.sphinx import conn

    url = searchkit.backends.sphinx.ClusterURL.parse(clusters[1][0])
    node = conn.connect(url.host, url.port)
    try:
        node._db._sock.shutdown(socket.SHUT_RDWR)  # as searchd's close looks from here
        monkeypatch.setattr(conn, "IDLE", 0.0)
        assert node.rows("SHOW STATUS LIKE 'uptime'")
    finally:
        node.close()


def test_a_cluster_of_an_older_format_is_refused_then_rebuilt(scratch: tuple[str, Path, Path, Path]) -> None:
    """A cluster written before the shards kept field lengths (format 4,
    no length attributes): a query says in one line to reindex, and the
    reindex adds the attributes in place and rebuilds in full."""
    from searchkit.backends.sphinx import meta
    from searchkit.backends.sphinx.config import LENGTH_COLUMNS

    url, corpus, index_dir, _ = scratch
    with searchkit.open_index(url) as cluster, cluster._connection() as first:
        row = meta.GEN_ROW + cluster.generation
        body = meta.get(first, cluster.url, row)
        meta.put(first, cluster.url, row, {**body, "cluster_format": 4})
        for shard in meta.topology(first, cluster.url)["shards"]:
            node = cluster_node(shard)
            for column in LENGTH_COLUMNS.values():
                node.execute(f"ALTER TABLE {shard['index']} DROP COLUMN {column}")
            node.close()
    refused = run("query", "확산 모델", "--index", url)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "reindex" in refused.stderr, refused.stderr
    report = searchkit.reindex(corpus, url)
    assert report.full
    agree(url, index_dir)


def cluster_node(shard: dict):  # noqa: ANN201 - a conn.Node
    from searchkit.backends.sphinx.conn import connect

    replica = shard["replicas"][0]
    return connect(replica["host"], replica["sql_port"])


def test_sigkill_mid_reindex_keeps_the_previous_content(scratch: tuple[str, Path, Path, Path]) -> None:
    url, corpus, index_dir, _ = scratch
    removed = sorted(corpus.glob("*.md"))[2]
    text = removed.read_text(encoding="utf-8")
    removed.unlink()
    searchkit.reindex(corpus, url)
    searchkit.reindex(corpus, index_dir, full=True)
    with searchkit.open_index(url) as before:
        expected = [[(h.arxiv_id, h.score) for h in r] for r in probes(before)]
        generation = before.generation
    removed.write_text(text, encoding="utf-8")
    first = sorted(corpus.glob("*.md"))[0]
    first.write_text(first.read_text(encoding="utf-8").replace("모델", "모형", 2), encoding="utf-8")
    writer = subprocess.Popen([*CLI, "reindex", "--corpus", str(corpus), "--index", url], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with searchkit.open_index(url) as watch:  # kill once new rows are being written
            deadline = time.monotonic() + 120
            while watch.rows(f"SELECT COUNT(*) FROM papers WHERE born > {generation}")[0][0] == 0:
                assert writer.poll() is None and time.monotonic() < deadline, "the reindex ended before writing"
                time.sleep(0.01)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    with searchkit.open_index(url) as after:
        assert after.generation == generation
        assert after.rows(f"SELECT COUNT(*) FROM papers WHERE born > {generation}")[0][0] > 0  # killed mid-write
        assert [[(h.arxiv_id, h.score) for h in r] for r in probes(after)] == expected
        assert live_documents(after) == after.stats().entries
    report = searchkit.reindex(corpus, url)
    searchkit.reindex(corpus, index_dir, full=True)
    assert report.added == 1 and report.updated == 1
    agree(url, index_dir)


def test_a_reindex_that_dies_writing_the_lexicon_leaves_it_as_it_was(scratch: tuple[str, Path, Path, Path],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The lexicon is versioned by generation: a reindex that dies half-way
    through writing it (after its documents) leaves queries reading the
    previous generation's words, and the next reindex undoes the half."""
    from searchkit.backends.sphinx import lexicon

    url, corpus, index_dir, _ = scratch
    with searchkit.open_index(url) as before:
        words = sorted(before._lexicon.entries())
        expected = [[(h.arxiv_id, h.score) for h in r] for r in probes(before)]
    first = sorted(corpus.glob("*.md"))[0]
    first.write_text(first.read_text(encoding="utf-8").replace("모델", "모형"), encoding="utf-8")
    push = lexicon.push

    def dies_half_way(node, url_, change, current, new, rebuild) -> None:
        half = dict(sorted(change.items())[: len(change) // 2])
        push(node, url_, half, current, new, rebuild)
        raise RuntimeError("killed")

    monkeypatch.setattr(lexicon, "push", dies_half_way)
    with pytest.raises(RuntimeError):
        searchkit.reindex(corpus, url)
    with searchkit.open_index(url) as after:
        assert sorted(after._lexicon.entries()) == words
        assert [[(h.arxiv_id, h.score) for h in r] for r in probes(after)] == expected
    monkeypatch.setattr(lexicon, "push", push)
    assert searchkit.reindex(corpus, url).updated == 1
    searchkit.reindex(corpus, index_dir, full=True)
    with searchkit.open_index(url) as cluster, searchkit.open_index(index_dir) as directory:
        assert sorted(cluster._lexicon.entries()) == list(directory._lexicon.entries())
        assert cluster._lexicon.sticky_terms() == directory._lexicon.sticky_terms() != []
    agree(url, index_dir)


def test_a_reader_one_generation_behind_keeps_its_words(scratch: tuple[str, Path, Path, Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader on generation G still answers while G+1 is live (its rows
    are kept until G+2 is published); writing G+2's lexicon must not take
    away the words it reads, which died at G+1."""
    from searchkit.backends.sphinx import lexicon

    url, corpus, _, _ = scratch
    posts = sorted(corpus.glob("*.md"))
    with searchkit.open_index(url) as reader:
        words = sorted(reader._lexicon.entries())
        posts[0].write_text(posts[0].read_text(encoding="utf-8").replace("모델", "모형"), encoding="utf-8")
        searchkit.reindex(corpus, url)  # G+1
        push = lexicon.push

        def then_dies(*args, **kwargs) -> None:
            push(*args, **kwargs)
            raise RuntimeError("killed after writing the lexicon")

        monkeypatch.setattr(lexicon, "push", then_dies)
        posts[1].unlink()
        with pytest.raises(RuntimeError):
            searchkit.reindex(corpus, url, full=True)  # G+2 never published: every word is touched
        reader._lexicon._tables = None
        assert sorted(reader._lexicon.entries()) == words


def test_lexicon_rows_of_an_older_papersearch_are_rewritten(scratch: tuple[str, Path, Path, Path]) -> None:
    """An older papersearch kept a reading alone per row (no counts, no
    generations): its rows are never read as versions, the full rebuild its
    format forces rewrites the words still indexed and drops the others
    (it crashed on them)."""
    from searchkit.backends.sphinx import ClusterURL
    from searchkit.backends.sphinx.conn import values
    from searchkit.backends.sphinx.lexicon import word_id
    from searchkit.backends.sphinx.meta import open_node

    url, corpus, index_dir, _ = scratch
    parsed = ClusterURL.parse(url)
    node = open_node(parsed)
    try:
        legacy = [(word_id(w), "", w, '[["' + w + '",0,0,' + str(len(w)) + "]]") for w in ("모델", "레거시단어")]
        node.execute(f"REPLACE INTO {parsed.lexicon} (id, word_text, word, terms) VALUES {values(legacy)}")
        assert searchkit.reindex(corpus, url, full=True).full
        assert not node.rows(f"SELECT id FROM {parsed.lexicon} WHERE id = {word_id('레거시단어')}")
    finally:
        node.close()
    with searchkit.open_index(url) as cluster, searchkit.open_index(index_dir) as directory:
        assert sorted(cluster._lexicon.entries()) == list(directory._lexicon.entries())
        assert cluster._lexicon.sticky_terms() == directory._lexicon.sticky_terms() != []
    agree(url, index_dir)


def kill_node(directory: Path, k: int) -> str:
    """SIGKILL node ``k``'s searchd (its watchdog first, or it restarts
    searchd); its SphinxQL address."""
    pid = int((directory / f"node-{k}" / "searchd.pid").read_text())
    watchdog = _nodes().watchdog_of(pid)
    for victim in (watchdog, pid):
        if victim:
            os.kill(victim, signal.SIGKILL)
    while _nodes()._alive(pid):
        time.sleep(0.05)
    return f"127.0.0.1:{json.loads((directory / 'cluster.json').read_text())['nodes'][k - 1]['sql_port']}"


def test_killed_node_gives_partial_results(scratch: tuple[str, Path, Path, Path]) -> None:
    url, _, _, directory = scratch
    address = kill_node(directory, 3)
    done = run("query", "모델", "--index", url, "--json", "--limit", "50")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert done.stderr.strip() == f"partial results: 1 of 3 shards did not answer (node {address})"
    data = json.loads(done.stdout)
    assert data["shards"] == {"total": 3, "answered": 2, "failed": [address]} and data["hits"]
    from searchkit.backends.sphinx.writer import shard_of

    assert all(shard_of(hit["arxiv_id"], 3) != 2 for hit in data["hits"])
    strict = run("query", "모델", "--index", url, "--strict-shards")
    assert strict.returncode == 2 and len(strict.stderr.strip().splitlines()) == 1
    assert "did not answer" in strict.stderr and "Traceback" not in strict.stderr



def test_a_paper_on_a_killed_node_is_no_answer_not_unknown(scratch: tuple[str, Path, Path, Path]) -> None:
    """With a shard down, `show` and `similar` of a paper that shard holds
    said "no paper with arXiv id … in the index" (exit 1, an unknown id):
    now they say they cannot tell, naming the node (exit 2). A paper on a
    shard that answered is shown, an id whose shard answered is unknown as
    usual (exit 1); `similar` flags its partial results."""
    from searchkit.backends.sphinx.writer import shard_of
    from searchkit.corpus import parse_post

    url, corpus, _, directory = scratch
    ids = sorted({p.arxiv_id for post in corpus.glob("*.md") for p in parse_post(post).papers})
    lost = next(i for i in ids if shard_of(i, 3) == 2)
    kept = next(i for i in ids if shard_of(i, 3) != 2)
    address = kill_node(directory, 3)
    for command in ("show", "similar"):
        done = run(command, lost, "--index", url)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.strip() == (f"Error: cannot tell whether '{lost}' is in the index: 1 of 3 shards did not "
                                       f"answer (node {address}), the one that would hold it among them")
    assert run("show", kept, "--index", url).returncode == 0
    # an id whose shard answered is known to be absent: exit 1, as with every shard up
    absent = next(f"2599.{n:05d}" for n in range(100) if shard_of(f"2599.{n:05d}", 3) != 2)
    unknown = run("show", absent, "--index", url)
    assert unknown.returncode == 1 and "no paper with arXiv id" in unknown.stderr
    similar = run("similar", kept, "--index", url, "--json")
    assert similar.returncode in (0, 1) and json.loads(similar.stdout)["shards"]["answered"] == 2
    assert similar.stderr.strip() == f"partial results: 1 of 3 shards did not answer (node {address})"
    assert run("similar", kept, "--index", url, "--strict-shards").returncode == 2


def test_counts_read_while_a_shard_was_down_are_not_kept(scratch: tuple[str, Path, Path, Path]) -> None:
    """An open index kept the document counts (df) it read while a shard
    was down: after the shard came back, every query with those words
    scored from the partial counts (about 15% too high, another fifth
    paper) and said every shard had answered."""
    url, _, index_dir, directory = scratch
    nodes = _nodes()
    with searchkit.open_index(url) as cluster, searchkit.open_index(index_dir) as whole:
        kill_node(directory, 3)
        during = cluster.search("확산 모델", limit=5)
        assert during.shards is not None and during.shards.partial
        description = json.loads((directory / "cluster.json").read_text())
        nodes._start(nodes.searchd_binary(), directory / "node-3", nodes.describe(description), 2)
        after, want = cluster.search("확산 모델", limit=5), whole.search("확산 모델", limit=5)
        assert not after.shards.partial
        assert same_ranking(after, want) and after.total == want.total, (
            [(h.arxiv_id, h.score) for h in after], [(h.arxiv_id, h.score) for h in want])


def test_stats_says_which_shards_did_not_answer(scratch: tuple[str, Path, Path, Path]) -> None:
    """With a shard down, stats gave the dates and size of the others,
    exit 0, as if complete (a third smaller)."""
    url, _, _, directory = scratch
    whole = json.loads(run("stats", "--index", url, "--json").stdout)
    assert whole["shards"] == {"total": 3, "answered": 3, "failed": []}
    address = kill_node(directory, 2)
    done = run("stats", "--index", url, "--json")
    assert done.returncode == 0 and done.stderr.strip() == f"partial results: 1 of 3 shards did not answer (node {address})"
    assert json.loads(done.stdout)["shards"] == {"total": 3, "answered": 2, "failed": [address]}
    strict = run("stats", "--index", url, "--strict-shards")
    assert strict.returncode == 2 and "did not answer" in strict.stderr and "Traceback" not in strict.stderr


def test_a_shard_lost_after_ranking_leaves_no_hit_without_dates(scratch: tuple[str, Path, Path, Path],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A shard that stopped answering between the ranking and the dates of
    the hits left its papers in the partial results with no dates at all:
    partial results come from the shards that answered."""
    from searchkit.backends.sphinx.reader import SphinxIndex
    from searchkit.backends.sphinx.writer import shard_of

    url, _, _, directory = scratch
    original, lost = SphinxIndex._dates, []

    def dates_after_a_loss(self: SphinxIndex, arxiv_ids: list[str]) -> dict:
        if not lost:
            lost.append(kill_node(directory, 3))
        return original(self, arxiv_ids)

    monkeypatch.setattr(SphinxIndex, "_dates", dates_after_a_loss)
    with searchkit.open_index(url) as cluster:
        found = cluster.search("모델", limit=20)
    assert lost and found.shards.partial and found.shards.failed == (lost[0],)
    assert found and all(hit.dates for hit in found)
    assert all(shard_of(hit.arxiv_id, 3) != 2 for hit in found)


def test_a_shard_lost_before_the_texts_is_no_answer_not_a_crash(scratch: tuple[str, Path, Path, Path],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """`show` of a paper whose shard stopped answering after its copies
    were found and before their texts came ended in a KeyError (a bug
    report); the search left such hits titleless in the document cache."""
    from searchkit.backends.sphinx.conn import ClusterError
    from searchkit.backends.sphinx.reader import SphinxIndex
    from searchkit.backends.sphinx.writer import shard_of
    from searchkit.corpus import parse_post

    url, corpus, _, directory = scratch
    ids = sorted({p.arxiv_id for post in corpus.glob("*.md") for p in parse_post(post).papers})
    lost_id = next(i for i in ids if shard_of(i, 3) == 2)
    original, lost = SphinxIndex._with_texts, []

    def texts_after_a_loss(self: SphinxIndex, docs: list[dict]) -> set[int]:
        if not lost:
            lost.append(kill_node(directory, 3))
        return original(self, docs)

    monkeypatch.setattr(SphinxIndex, "_with_texts", texts_after_a_loss)
    with searchkit.open_index(url) as cluster:
        with pytest.raises(ClusterError, match=f"cannot tell whether '{lost_id}' is in the index"):
            cluster.paper(lost_id)
        found = cluster.search("모델", limit=20)
        assert found.shards.partial and found and all(hit.title for hit in found)


def test_each_thread_hears_of_the_shards_its_own_queries_missed(scratch: tuple[str, Path, Path, Path]) -> None:
    """One open index, two threads: a thread's results report the shards
    that failed its own batches. With one set for the index, a thread that
    finished first took (and cleared) the other's failures, whose partial
    results were then shown as complete."""
    url, _, _, directory = scratch
    with searchkit.open_index(url) as index:
        kill_node(directory, 3)
        failed = threading.Event()
        other: list = []

        def asks_for_status() -> None:
            failed.wait(30)
            other.append(index._status())

        thread = threading.Thread(target=asks_for_status)
        thread.start()
        index._select([f"SELECT id FROM {index.url.name} LIMIT 1"])  # this thread's batch misses node 3
        failed.set()
        thread.join(30)
        assert not other[0].partial, "another thread's status took this one's failures"
        assert index._status().partial


def test_one_threads_long_search_does_not_hold_up_anothers(opened: dict, directory_index: searchkit.Index,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads share one open cluster index, each statement on a connection
    of its own: while one thread's batch takes seconds (held here in the
    middle of its search), another thread's whole search completes, and
    both answer as the directory does. With one connection under a lock,
    the second waited for the first."""
    from searchkit.backends.sphinx import conn

    index = opened[3]
    slow, done = threading.Event(), threading.Event()
    batch = conn.Node.batch
    released: list[bool] = []

    def held(node, statements):  # noqa: ANN001, ANN202 - conn.Node.batch
        if threading.current_thread().name == "slow" and not slow.is_set():
            slow.set()
            released.append(done.wait(10))  # until the other thread's search is over
        return batch(node, statements)

    monkeypatch.setattr(conn.Node, "batch", held)
    answers: dict[str, searchkit.Results] = {}
    first = threading.Thread(target=lambda: answers.update(slow=index.search("강화 학습 보상", limit=10)), name="slow")
    first.start()
    assert slow.wait(20)
    answers["fast"] = index.search("확산 모델", limit=10)  # while the slow thread holds its connection
    done.set()
    first.join(30)
    assert released == [True], "the other search waited for the held one"
    assert same_ranking(answers["fast"], directory_index.search("확산 모델", limit=10))
    assert same_ranking(answers["slow"], directory_index.search("강화 학습 보상", limit=10))


def test_a_calls_failed_agents_stay_with_that_call(opened: dict) -> None:
    """A call that raised before taking its status (a `show` of a missing
    paper while a node was down) left its failed agents to the thread's
    next call, which then said a shard had not answered."""
    index = opened[3]
    agent = index._replicas[0][0][0]
    for left in index._dead_agents():  # as such a call leaves them
        left.add(agent)
    assert not index.search("확산 모델", limit=5).shards.partial


def test_an_index_two_generations_behind_refuses_rather_than_miss_rows(
        scratch: tuple[str, Path, Path, Path]) -> None:
    """A publish deletes the rows dead before it, so a generation two behind
    the live one may read incompletely: one generation behind still answers
    as before; two behind is a clear error, never a silently shorter list."""
    url, corpus, _, _ = scratch
    posts = sorted(corpus.glob("*.md"))
    with searchkit.open_index(url) as index:
        before = index.search("확산 모델", limit=20)
        posts[0].write_text(posts[0].read_text(encoding="utf-8").replace("확산", "디퓨전"), encoding="utf-8")
        searchkit.reindex(corpus, url)
        again = index.search("확산 모델", limit=20)
        assert same_ranking(before, again) and before.total == again.total
        posts[1].write_text(posts[1].read_text(encoding="utf-8").replace("확산", "디퓨전"), encoding="utf-8")
        searchkit.reindex(corpus, url)
        with pytest.raises(searchkit.SearchkitError, match="open the index again"):
            index.search("확산 모델", limit=20)
        with pytest.raises(searchkit.SearchkitError, match="open the index again"):
            index.paper(before[0].arxiv_id)
    with searchkit.open_index(url) as reopened:
        assert reopened.generation == index.generation + 2 and reopened.search("확산 모델", limit=20)


def test_a_mirror_answers_for_a_killed_node(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Each shard also on the next node: one node down loses nothing; two
    down lose the shard they both held, reported with both nodes."""
    directory = tmp_path / "cluster"
    request.addfinalizer(lambda: _nodes().down(directory))
    url = str(_nodes().up(3, directory, mirrors=1))
    searchkit.reindex(DEFAULT_CORPUS, url)
    searchkit.reindex(DEFAULT_CORPUS, tmp_path / "index")
    with searchkit.open_index(tmp_path / "index") as local:
        expected = probes(local)
    kill_node(directory, 3)
    for _ in range(3):  # whichever mirror each query picks
        with searchkit.open_index(url) as cluster:
            for a, b in zip(expected, probes(cluster)):
                assert same_ranking(a, b) and a.total == b.total
                assert not b.shards.partial
    dead = {kill_node(directory, 2), f"127.0.0.1:{json.loads((directory / 'cluster.json').read_text())['nodes'][2]['sql_port']}"}
    with searchkit.open_index(url) as cluster:
        results = cluster.search("모델", limit=50)
    assert results.shards.to_json() == {"total": 3, "answered": 2, "failed": sorted(dead)}  # shard 2 was on both
    from searchkit.backends.sphinx.writer import shard_of

    assert results and all(shard_of(hit.arxiv_id, 3) != 1 for hit in results)


def test_readings_of_other_code_are_read_again_by_a_reindex_with_nothing_to_do(
        scratch: tuple[str, Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a directory: the generation row's readings carry the code's
    stamp, and a reindex with nothing else to do publishes new ones."""
    from searchkit import glossary

    url, corpus, index_dir, _ = scratch
    with searchkit.open_index(url) as cluster:
        first = cluster.generation
    searchkit.reindex(corpus, url)
    with searchkit.open_index(url) as cluster:
        assert cluster.generation == first  # nothing to do
    monkeypatch.setattr(glossary, "_READER", "other code")
    searchkit.reindex(corpus, url)
    with searchkit.open_index(url) as cluster:
        assert cluster.generation == first + 1
    agree(url, index_dir)


def test_a_warning_marks_the_shards_its_agent_may_have_missed() -> None:
    """Shard k on node k and node k+1 (mirrors=1). A warning names a node,
    not the shard: one node down with a warning left after the reruns may
    have missed either shard it holds, and both are reported; two nodes
    down explain their warnings by the shard both held."""
    from searchkit.backends.sphinx.reader import _missing

    a, b, c = ("1:1", "1:2"), ("2:1", "2:2"), ("3:1", "3:2")
    replicas = [[a, b], [b, c], [c, a]]
    assert _missing(replicas, set(), {"3:1"}) == set()  # a rerun went to the mirror
    assert _missing(replicas, {"3:1"}, {"3:1"}) == {1, 2}
    assert _missing(replicas, {"2:1", "3:1"}, {"2:1", "3:1"}) == {1}
    assert _missing([[a], [b], [c]], {"2:1"}, {"2:1"}) == {1}


def test_only_the_statements_that_met_a_dead_mirror_run_again() -> None:
    """Rerunning the whole batch while any statement failed left a long
    batch with one statement failing in every run: its count was short a
    shard, reported as answered (`reader.SphinxIndex._batch`)."""
    from searchkit.backends.sphinx import reader

    index = object.__new__(reader.SphinxIndex)
    index._replicas, index._agents = [[("1:1", "1:2"), ("2:1", "2:2")]], threading.local()
    warning = {"warning": "index papers: agent 2:1: connect() failed"}
    runs = []

    def run(statements: list[str]) -> list:
        runs.append(list(statements))
        return [([(1,)], warning if s == "b" and len(runs) < 3 else {}) for s in statements]

    index._run = run
    assert index._batch(["a", "b", "c"]) == [([(1,)], {})] * 3
    assert runs == [["a", "b", "c"], ["b"], ["b"]]
    assert index._dead_agents() == (set(), {"2:1"})


def test_every_term_is_one_sphinx_keyword(clusters: dict) -> None:
    """Sphinx's own tokenizer (CALL KEYWORDS) keeps each encoded term whole
    and distinct, whatever characters the term has."""
    from searchkit.backends.sphinx.terms import encode

    terms = ["확산", "qwen2.5-vl", "gpt-4o", "c++", "a_b", "ㄱㄴ", "vq-vae/gan", "https://arxiv.org/abs/2510.00515",
             "모델" * 30, "2510.00515", "x" * 41, "mllm", "漢字", "α-β"]
    with searchkit.open_index(clusters[1][0]) as cluster:
        for term in terms:
            rows = cluster.rows(f"CALL KEYWORDS('{encode(term)}', 'papers_s1')")
            assert [str(r[1]) for r in rows] == [encode(term)], (term, rows)
    assert len({encode(t) for t in terms}) == len(terms)


def test_up_refuses_what_it_cannot_do(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    request.addfinalizer(lambda: _nodes().down(tmp_path / "c"))
    zero = run("cluster", "up", "--nodes", "0", "--dir", str(tmp_path / "c"))
    assert zero.returncode == 2 and "--nodes must be between" in zero.stderr
    assert run("cluster", "up", "--dir", str(tmp_path / "c")).returncode == 0
    again = run("cluster", "up", "--dir", str(tmp_path / "c"))
    assert again.returncode == 2 and "cluster down" in again.stderr and len(again.stderr.splitlines()) == 1


def test_another_programs_meta_index_is_one_line_not_a_traceback() -> None:
    """An index of the same name whose ``NAME_meta`` rows are not
    papersearch's JSON made query, stats and reindex end in a
    JSONDecodeError traceback."""
    from searchkit.backends.sphinx import ClusterURL, meta
    from searchkit.backends.sphinx.conn import ClusterError

    class Foreign:
        def rows(self, sql: str) -> list[tuple]:
            return [("hello",)]

    with pytest.raises(ClusterError, match=r"foo_meta at 127\.0\.0\.1:9306 is not a papersearch record"):
        meta.get(Foreign(), ClusterURL.parse("sphinx://127.0.0.1:9306/foo"), 1)  # type: ignore[arg-type]


def test_the_scheme_of_a_cluster_url_ignores_case() -> None:
    """SPHINX://… was taken for a directory path ("no index at SPHINX:/…")."""
    from searchkit.backends import is_cluster
    from searchkit.backends.sphinx import ClusterURL

    for spelt in ("SPHINX://127.0.0.1:9306/papers", "Sphinx://127.0.0.1:9306/papers"):
        assert is_cluster(spelt) and str(ClusterURL.parse(spelt)) == "sphinx://127.0.0.1:9306/papers"
    from searchkit.terminal.protocol import home

    assert home("sphinx://127.0.0.1:9306/papers") == home("SPHINX://127.0.0.1:9306/papers/")  # one server
    port = _nodes().free_ports(1)[0]
    done = run("query", "x", "--index", f"SPHINX://127.0.0.1:{port}/papers")
    assert done.returncode == 2 and f"cluster node 127.0.0.1:{port} does not answer" in done.stderr


def replica_counts(url: str, where: str) -> list[list[int]]:
    """For each shard, the rows matching ``where`` on each of its replicas."""
    from searchkit.backends.sphinx import ClusterURL
    from searchkit.backends.sphinx.conn import connect
    from searchkit.backends.sphinx.meta import open_node, topology

    first = open_node(ClusterURL.parse(url))
    shards = topology(first, ClusterURL.parse(url))["shards"]
    first.close()
    out = []
    for shard in shards:
        counts = []
        for replica in shard["replicas"]:
            node = connect(replica["host"], replica["sql_port"])
            counts.append(int(node.rows(f"SELECT COUNT(*) FROM {shard['index']} WHERE {where}")[0][0]))
            node.close()
        out.append(counts)
    return out


@pytest.mark.parametrize("dies_in", ["lexicon", "publish"])
def test_a_reindex_killed_between_two_copies_leaves_none_apart(tmp_path: Path, request: pytest.FixtureRequest,
                                                               monkeypatch: pytest.MonkeyPatch, dies_in: str) -> None:
    """Every write goes to a shard's copies one after another. A reindex
    dies after writing rows (``lexicon``: new rows of the next generation)
    or marks (``publish``: the replaced rows marked dead); the next one dies
    in its clean-up after the first copy's write. The clean-up read the
    first copy only, so the mirror kept the leftovers for ever: the next
    reindex failed on a duplicate id, or published with the replaced rows
    dead on the mirror only, and queries differed by the copy they met
    while every shard said it answered (probe)."""
    from searchkit.backends.sphinx import lexicon, writer

    directory = tmp_path / "cluster"
    request.addfinalizer(lambda: _nodes().down(directory))
    url = str(_nodes().up(3, directory, mirrors=1))
    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    searchkit.reindex(corpus, url)
    first, second = sorted(corpus.glob("*.md"))[:2]
    original_text = first.read_text(encoding="utf-8")
    first.write_text(original_text.replace("모델", "모형", 3), encoding="utf-8")

    class Died(Exception):
        pass

    def dies(*_args: object, **_kwargs: object) -> None:
        raise Died

    with monkeypatch.context() as patch:
        patch.setattr(lexicon, "push", dies) if dies_in == "lexicon" else patch.setattr(writer, "put", _dies_on_publish(
            writer.put, Died))
        with pytest.raises(Died):
            searchkit.reindex(corpus, url, full=dies_in == "lexicon")
    left = "born > 1" if dies_in == "lexicon" else "died = 2"
    assert all(min(copies) > 0 for copies in replica_counts(url, left))
    # the reindex that completes replaces another post: the dead one's marks are not made again
    first.write_text(original_text, encoding="utf-8")
    second.write_text(second.read_text(encoding="utf-8").replace("모델", "모형", 3), encoding="utf-8")
    writes = "delete" if dies_in == "lexicon" else "set_died"
    original = getattr(writer.Shard, writes)

    def first_copy_only(shard: writer.Shard, ids: list[int], *rest: object) -> None:
        replicas = shard.replicas
        shard.replicas = replicas[:1]
        try:
            original(shard, ids, *rest)
        finally:
            shard.replicas = replicas
        raise Died

    with monkeypatch.context() as patch:
        patch.setattr(writer.Shard, writes, first_copy_only)
        with pytest.raises(Died):
            searchkit.reindex(corpus, url)
    assert any(copies[0] != copies[1] for copies in replica_counts(url, left))  # apart
    searchkit.reindex(corpus, url)
    searchkit.reindex(corpus, tmp_path / "index")
    live = replica_counts(url, "born <= 2 AND died > 2")
    assert all(copies[0] == copies[1] > 0 for copies in live), live
    for leftover in ("born > 2", "died < 2"):  # Sphinx 2.2 has no OR between attribute filters
        assert all(copies == [0, 0] for copies in replica_counts(url, leftover)), leftover
    for _ in range(3):  # whichever copy each statement meets
        agree(url, tmp_path / "index")


def _dies_on_publish(put, error: type[Exception]):  # noqa: ANN001, ANN202 - meta.put and its stand-in
    """``put`` that raises ``error`` instead of writing the publish (the
    pointer row), after the replaced rows were marked dead."""
    from searchkit.backends.sphinx.meta import POINTER_ROW

    def wrapped(node, url, row, body) -> None:  # noqa: ANN001
        if row == POINTER_ROW:
            raise error
        put(node, url, row, body)

    return wrapped


def test_a_shard_lost_after_the_lists_were_read_gives_partial_results(scratch: tuple[str, Path, Path, Path],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A node that dies between reading a query's lists and fetching its
    candidates made the fetch return fewer documents than the lists named,
    and scoring indexed past them: a traceback, exit 1 (probe). Now the
    shard is reported as not answering, as when it died before."""
    from searchkit.backends.sphinx.reader import SphinxIndex

    url, _, _, directory = scratch
    read_lists, killed = SphinxIndex._read_lists, []

    def then_kill(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        out = read_lists(self, *args, **kwargs)
        if not killed:
            killed.append(kill_node(directory, 3))
        return out

    monkeypatch.setattr(SphinxIndex, "_read_lists", then_kill)
    with searchkit.open_index(url) as cluster:
        results = cluster.search("확산 모델", limit=20)
    assert killed and results.shards.partial and results.shards.answered == 2
    assert results and all(hit.score > 0 for hit in results)


def test_documents_a_list_named_but_no_shard_returned_are_an_error(scratch: tuple[str, Path, Path, Path],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With every shard answering, a candidate that cannot be read back
    (copies apart, the cluster changed under the query) is an error in one
    line, never an answer short of it that says it is complete."""
    from searchkit.backends.sphinx.reader import SphinxIndex

    url = scratch[0]
    documents = SphinxIndex._documents
    monkeypatch.setattr(SphinxIndex, "_documents", lambda self, ids: documents(self, ids)[1:])
    with searchkit.open_index(url) as cluster, pytest.raises(searchkit.SearchkitError, match="could not be read back"):
        cluster.search("확산 모델", limit=20)
