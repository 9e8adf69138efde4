"""The library API: reindex, open_index, Index.search and Index.paper."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import searchkit
from searchkit import indexer
from searchkit.analysis import analyse
from searchkit.errors import IndexCorruptError, IndexMissingError, NotFoundError, QueryError
from searchkit.glossary import load_pairs
from searchkit.schema import SECTION_GROUPS

from .conftest import DEFAULT_CORPUS, REPO, TINY_IDS, TINY_POSTS, write_posts


def span_texts(hit: searchkit.Hit) -> list[str]:
    return [frag.text[s:e] for frag in hit.highlights.values() for s, e in frag.spans]


def ids(results: searchkit.Results) -> list[str]:
    return [hit.arxiv_id for hit in results]


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the indexer sends to Kiwi."""
    seen: list[str] = []
    real = indexer.analyse_stream

    glossary = {surface for pair in load_pairs() for surface in pair}

    def spy(texts: list[str], *args, **kwargs):
        seen.extend(t for t in texts if t not in glossary)  # the glossary rides along on full builds
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(indexer, "analyse_stream", spy)
    return seen


# Building


def test_reindex_report_for_the_default_corpus(default_build) -> None:
    _, report = default_build
    assert (report.posts_read, report.entries, report.papers) == (5, 46, 46)
    assert (report.added, report.updated, report.removed) == (5, 0, 0)
    assert report.full and report.skipped == () and report.warnings == () and report.notices == ()


def test_open_index_of_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="no index at .*: run `papersearch reindex"):
        searchkit.open_index(tmp_path / "nowhere")


def test_reindex_of_a_missing_corpus(tmp_path: Path) -> None:
    with pytest.raises(searchkit.CorpusError, match="corpus directory not found"):
        searchkit.reindex(tmp_path / "nowhere", tmp_path / "index")
    assert not (tmp_path / "index").exists() or not any((tmp_path / "index").glob("gen-*"))


# Searching the default corpus


def test_search_finds_the_query_words(default_index: searchkit.Index) -> None:
    results = default_index.search("확산 모델", expand=False)
    assert len(results) == 10 and results.total >= 10
    for hit in results:
        assert hit.highlights, hit.arxiv_id
        assert tuple(hit.highlights) == hit.matched_sections
        for text in span_texts(hit):
            assert "확산" in text or "모델" in text, (hit.arxiv_id, text)


def test_every_highlight_is_a_query_word_or_a_synonym(default_index: searchkit.Index) -> None:
    results = default_index.search("확산 모델")
    allowed = {t.text for t in analyse("확산 모델")}
    allowed |= {t.text for e in results.expansions for t in analyse(e.target)}
    for hit in results:
        for text in span_texts(hit):
            assert {t.text for t in analyse(text)} & allowed, (hit.arxiv_id, text)


def test_spans_point_inside_their_fragment(default_index: searchkit.Index) -> None:
    for query in ["시각 토큰 압축", '"강화 학습"', "GPT-4o", "LLM 에이전트 평가"]:
        for hit in default_index.search(query, limit=20):
            for frag in hit.highlights.values():
                assert all(0 <= s < e <= len(frag.text) for s, e in frag.spans)
                assert list(frag.spans) == sorted(frag.spans)


def test_limit_is_respected(default_index: searchkit.Index) -> None:
    results = default_index.search("모델", limit=3)
    assert len(results) == 3
    assert results.total > 3
    scores = [hit.score for hit in results]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("limit", [0, -1, 2.5, "3"])
def test_bad_limit_raises(default_index: searchkit.Index, limit) -> None:
    with pytest.raises(QueryError, match="limit must be a positive whole number"):
        default_index.search("모델", limit=limit)


def test_no_results(default_index: searchkit.Index) -> None:
    results = default_index.search("펭귄", expand=False)
    assert list(results) == [] and results.total == 0


def test_section_limitations(default_index: searchkit.Index) -> None:
    results = default_index.search("계산 비용", sections=["limitations"])
    assert results
    for hit in results:
        assert hit.matched_sections == ("limitations",)


def test_section_introduction_covers_goal_motivation_contribution(default_index: searchkit.Index) -> None:
    results = default_index.search("모델 성능", sections=["introduction"], limit=20)
    seen = set()
    for hit in results:
        assert hit.matched_sections
        assert set(hit.matched_sections) <= {"goal", "motivation", "contribution"}
        seen.update(hit.matched_sections)
    assert seen == {"goal", "motivation", "contribution"}


def test_section_restriction_narrows_results(default_index: searchkit.Index) -> None:
    everywhere = default_index.search("계산 비용", limit=50)
    limited = default_index.search("계산 비용", sections=["limitations"], limit=50)
    assert set(ids(limited)) < set(ids(everywhere))


def test_unknown_section_raises_with_valid_names(default_index: searchkit.Index) -> None:
    with pytest.raises(QueryError) as info:
        default_index.search("모델", sections=["abstract"])
    assert all(name in str(info.value) for name in SECTION_GROUPS)


@pytest.mark.parametrize("query", ["2510.00515", "2510.00515v2", "arXiv:2510.00515", "확산 모델 2510.00515"])
def test_arxiv_id_ranks_its_paper_first(default_index: searchkit.Index, query: str) -> None:
    results = default_index.search(query)
    assert results[0].arxiv_id == "2510.00515"
    assert results[0].title.startswith("Efficient Multi-modal Large Language Models")


def test_results_never_repeat_a_paper(default_index: searchkit.Index) -> None:
    results = default_index.search("모델 학습 성능", limit=50)
    assert len(ids(results)) == len(set(ids(results))) == 46 or len(ids(results)) == len(set(ids(results)))
    assert results.total == len(results)


def test_date_filters(default_index: searchkit.Index) -> None:
    everything = default_index.search("모델", limit=100)
    since = default_index.search("모델", limit=100, since="2025-10-27")
    until = default_index.search("모델", limit=100, until="2025-10-08")
    assert since and until
    assert all(hit.dates[-1] >= "2025-10-27" for hit in since)
    assert all(hit.dates[0] <= "2025-10-08" for hit in until)
    assert since.total == len(since) < everything.total
    assert set(ids(since)).isdisjoint(ids(until))


def test_bad_date_raises(default_index: searchkit.Index) -> None:
    with pytest.raises(QueryError):
        default_index.search("모델", since="last week")


def test_sort_by_date(default_index: searchkit.Index) -> None:
    results = default_index.search("모델", limit=46, sort="date")
    latest = [hit.dates[-1] for hit in results]
    assert latest == sorted(latest, reverse=True)


def test_paper_returns_every_section(default_index: searchkit.Index) -> None:
    paper = default_index.paper("2510.00515")
    assert paper.title == "Efficient Multi-modal Large Language Models via Progressive Consistency Distillation"
    assert paper.url == "https://arxiv.org/abs/2510.00515"
    assert paper.dates == ("2025-10-06",)
    assert tuple(paper.sections) == searchkit.SECTIONS
    assert paper.sections["goal"].startswith("본 논문은 토큰 압축 시")
    assert paper.copies == {"2025-10-06": paper.sections}


def test_paper_unknown_id_raises(default_index: searchkit.Index) -> None:
    with pytest.raises(NotFoundError, match="no paper with arXiv id '9999.99999' in the index"):
        default_index.paper("9999.99999")


def test_paper_accepts_a_versioned_id(default_index: searchkit.Index) -> None:
    assert default_index.paper("2510.00515v2").arxiv_id == "2510.00515"


def test_index_is_a_context_manager(default_index_dir: Path) -> None:
    with searchkit.open_index(default_index_dir) as index:
        assert isinstance(index, searchkit.Index)
        assert index.search("모델", limit=1)


# Ranking on the tiny corpus


def test_tiny_corpus_is_all_there(tiny_index: searchkit.Index) -> None:
    assert {tiny_index.paper(i).arxiv_id for i in TINY_IDS} == set(TINY_IDS)
    assert tiny_index.paper("2501.00001").title == "Diffusion Everywhere: Scaling Image Generation"


def test_papers_matching_more_words_rank_first(tiny_index: searchkit.Index) -> None:
    results = tiny_index.search("확산 로봇")
    assert results[0].arxiv_id == "2501.00003"


def test_papers_matching_more_words_rank_first_within_a_section(tiny_index: searchkit.Index) -> None:
    results = tiny_index.search("확산 로봇", sections=["method"])
    assert ids(results)[0] == "2501.00003"
    assert set(ids(results)) == {"2501.00001", "2501.00002", "2501.00003"}


def test_word_order_does_not_change_ranking(tiny_index: searchkit.Index) -> None:
    assert ids(tiny_index.search("확산 로봇")) == ids(tiny_index.search("로봇 확산"))


def test_quoted_phrase_is_required(tiny_index: searchkit.Index) -> None:
    # 2501.00005 says 강화 and 학습, but never side by side.
    loose = tiny_index.search("강화 학습")
    phrase = tiny_index.search('"강화 학습"')
    assert "2501.00005" in ids(loose)
    assert ids(phrase) == ["2501.00004"]
    assert set(span_texts(phrase[0])) <= {"강화 학습", "강화학습"}
    assert "강화학습" in span_texts(phrase[0])  # the spacing variant matches the phrase too


def test_spacing_variants_find_the_same_papers(tiny_index: searchkit.Index) -> None:
    assert ids(tiny_index.search("강화학습")) == ids(tiny_index.search("강화 학습"))
    assert ids(tiny_index.search('"강화학습"')) == ids(tiny_index.search('"강화 학습"')) == ["2501.00004"]


def test_reposted_paper_is_one_hit_with_all_dates(tiny_index: searchkit.Index) -> None:
    results = tiny_index.search("분류기 학습 순서")
    assert ids(results).count("2501.00005") == 1
    hit = results[ids(results).index("2501.00005")]
    assert hit.dates == ("2025-01-07", "2025-01-08")
    paper = tiny_index.paper("2501.00005")
    assert paper.dates == ("2025-01-07", "2025-01-08")
    assert paper.url == "https://arxiv.org/abs/2501.00005v2"  # the latest copy
    assert paper.copies["2025-01-07"]["goal"] == "분류기 학습 순서를 설계하는 것이다."
    assert paper.copies["2025-01-08"]["goal"] == "분류기의 학습 순서를 자동으로 정하는 것이다."
    assert paper.sections == paper.copies["2025-01-08"]


def test_title_is_searchable_and_highlighted(tiny_index: searchkit.Index) -> None:
    [hit] = tiny_index.search("Legged", expand=False)
    assert hit.arxiv_id == "2501.00002"
    assert hit.matched_sections == ("title",)
    assert span_texts(hit) == ["Legged"]


# The shared corpus


def test_reposted_paper_in_the_shared_corpus(shared_index: searchkit.Index) -> None:
    [hit] = shared_index.search("2508.20751", limit=1)
    assert hit.arxiv_id == "2508.20751"
    assert hit.dates == ("2025-08-29", "2025-08-30", "2025-08-31")
    paper = shared_index.paper("2508.20751")
    assert paper.dates == ("2025-08-29", "2025-08-30", "2025-08-31")
    assert list(paper.copies) == list(paper.dates)
    title_words = " ".join(paper.title.split()[:6])
    results = shared_index.search(title_words, limit=50)
    assert ids(results).count("2508.20751") == 1


def test_shared_corpus_results_are_distinct_papers(shared_index: searchkit.Index) -> None:
    for query in ["LLM 에이전트", "비디오 생성", "강화 학습 보상"]:
        found = ids(shared_index.search(query, limit=60))
        assert len(found) == len(set(found)) == 60


def test_ambiguous_word_form_is_looked_up_like_its_common_reading(shared_index: searchkit.Index) -> None:
    # Kiwi reads "벤치마크는" as 벤치+마크 in 10 of its 32 occurrences in the daily
    # papers and as 벤치마크 in 22; the lexicon must keep the common reading so
    # the query finds what "벤치마크" finds (it once kept the first one seen).
    assert [t.text for t in analyse("벤치마크는")] == ["벤치마크"]
    assert shared_index.search("벤치마크는").total == shared_index.search("벤치마크").total


# Incremental reindexing


NEW_POST = """\
---
date: 2025-01-09 08:00:00
---

# 1. [Penguin Tracking](https://arxiv.org/abs/2501.00009)

## Method
펭귄 군집의 이동을 위성 영상으로 추적한다.
"""


def test_incremental_reindex(tiny_corpus: Path, tmp_path: Path, analysed: list[str]) -> None:
    index = tmp_path / "index"
    first = searchkit.reindex(tiny_corpus, index)
    assert (first.posts_read, first.entries, first.papers, first.added, first.full) == (3, 6, 5, 3, True)
    assert len(analysed) == 6 * len(searchkit.TEXT_FIELDS)

    analysed.clear()
    same = searchkit.reindex(tiny_corpus, index)
    assert (same.added, same.updated, same.removed, same.full) == (0, 0, 0, False)
    assert (same.entries, same.papers) == (6, 5)
    assert analysed == []

    # Add a post: only its paper is analysed.
    analysed.clear()
    (tiny_corpus / "2025-01-09-daily-papers-20250109.md").write_text(NEW_POST, encoding="utf-8")
    added = searchkit.reindex(tiny_corpus, index)
    assert (added.added, added.updated, added.removed, added.entries, added.papers) == (1, 0, 0, 7, 6)
    assert "펭귄 군집의 이동을 위성 영상으로 추적한다." in analysed
    assert len(analysed) == len(searchkit.TEXT_FIELDS)
    with searchkit.open_index(index) as opened:
        assert ids(opened.search("펭귄")) == ["2501.00009"]

    # Edit a post: its papers are analysed again, the others are not.
    analysed.clear()
    post = tiny_corpus / "2025-01-06-daily-papers-20250106.md"
    post.write_text(post.read_text(encoding="utf-8").replace("사족 로봇", "사족 펭귄"), encoding="utf-8")
    updated = searchkit.reindex(tiny_corpus, index)
    assert (updated.added, updated.updated, updated.removed, updated.entries) == (0, 1, 0, 7)
    assert len(analysed) == 2 * len(searchkit.TEXT_FIELDS)
    assert "2501.00001" not in " ".join(analysed) and "Legged Robots that Walk" in analysed
    with searchkit.open_index(index) as opened:
        assert set(ids(opened.search("펭귄"))) == {"2501.00002", "2501.00009"}
        [robots] = opened.search("보행 로봇", sections=["goal"], expand=False)
        assert span_texts(robots) == ["보행"]  # the goal no longer says 로봇
        assert opened.paper("2501.00002").sections["goal"].startswith("본 연구는 사족 펭귄의")

    # Delete a post: its papers leave the index, a re-posted one keeps its other copy.
    analysed.clear()
    (tiny_corpus / "2025-01-07-daily-papers-20250107.md").unlink()
    removed = searchkit.reindex(tiny_corpus, index)
    assert (removed.added, removed.updated, removed.removed, removed.entries, removed.papers) == (0, 0, 1, 4, 4)
    assert analysed == []
    with searchkit.open_index(index) as opened:
        assert ids(opened.search('"강화 학습"')) == []
        with pytest.raises(NotFoundError):
            opened.paper("2501.00004")
        assert opened.paper("2501.00005").dates == ("2025-01-08",)


def test_full_reindex_analyses_everything_again(tiny_corpus: Path, tmp_path: Path, analysed: list[str]) -> None:
    index = tmp_path / "index"
    searchkit.reindex(tiny_corpus, index)
    analysed.clear()
    report = searchkit.reindex(tiny_corpus, index, full=True)
    assert report.full and (report.entries, report.papers) == (6, 5)
    assert len(analysed) == 6 * len(searchkit.TEXT_FIELDS)


def test_reader_keeps_its_generation_during_a_reindex(tiny_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    searchkit.reindex(tiny_corpus, index)
    with searchkit.open_index(index) as before:
        (tiny_corpus / "2025-01-09-daily-papers-20250109.md").write_text(NEW_POST, encoding="utf-8")
        searchkit.reindex(tiny_corpus, index)
        assert ids(before.search("펭귄", expand=False)) == []
    with searchkit.open_index(index) as after:
        assert ids(after.search("펭귄", expand=False)) == ["2501.00009"]


def test_broken_post_is_skipped_and_reported(tmp_path: Path) -> None:
    corpus = write_posts(tmp_path / "corpus", {**TINY_POSTS, "2025-01-10-broken.md": "no front matter, no papers"})
    head = b"---\ndate: 2025-01-11\n---\n"
    (corpus / "2025-01-11-binary.md").write_bytes(head + b"\xff\n")
    report = searchkit.reindex(corpus, tmp_path / "index")
    assert report.posts_read == 5
    assert sorted((Path(p.path).name, p.reason) for p in report.skipped) == [
        ("2025-01-10-broken.md", "has no paper headings"),
        ("2025-01-11-binary.md", f"is not valid UTF-8 (byte {len(head)})"),
    ]
    assert (report.entries, report.papers) == (6, 5)


def test_damaged_index_is_reported_then_rebuilt(tiny_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    searchkit.reindex(tiny_corpus, index)
    (index / "CURRENT").write_text("gen-999999\n", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="damaged.*reindex --full"):
        searchkit.open_index(index)
    report = searchkit.reindex(tiny_corpus, index)
    assert report.full and report.notices and "rebuilding in full" in report.notices[0]
    with searchkit.open_index(index) as opened:
        assert opened.paper("2501.00001")


# The README


def test_readme_library_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    readme = REPO / "README.md"
    if not readme.is_file():
        pytest.skip("README.md not written yet")
    blocks = [b for b in re.findall(r"```(?:python|pycon)\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
              if "searchkit" in b]
    if not blocks:
        pytest.skip("README.md has no searchkit example")
    (tmp_path / "corpus").symlink_to(DEFAULT_CORPUS)
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        if ">>>" in block:
            test = doctest.DocTestParser().get_doctest(block, {}, "README", str(readme), 0)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            runner.run(test)
            assert runner.failures == 0
        else:
            exec(compile(block, str(readme), "exec"), {})
    printed = capsys.readouterr().out
    assert printed.strip(), "the README example printed nothing"
    if 'reindex("corpus", "index")' in "".join(blocks):
        assert (tmp_path / "index" / "CURRENT").is_file()
