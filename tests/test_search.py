"""The library API: reindex, open_index, Index.search and Index.paper."""

from __future__ import annotations

import doctest
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import searchkit
from searchkit import analysis
from searchkit.analysis import analyse
from searchkit.backends.whoosh import writer as indexer
from searchkit.corpus import find_posts, parse_post
from searchkit.errors import IndexCorruptError, IndexMissingError, NotFoundError, QueryError
from searchkit.glossary import glossary_surfaces
from searchkit.schema import SECTION_GROUPS

from .conftest import DEFAULT_CORPUS, REPO, TINY_IDS, index_one_post, write_posts


def span_texts(hit: searchkit.Hit) -> list[str]:
    return [frag.text[s:e] for frag in hit.highlights.values() for s, e in frag.spans]


def ids(results: searchkit.Results) -> list[str]:
    return [hit.arxiv_id for hit in results]


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the indexer sends to Kiwi."""
    seen: list[str] = []
    real = indexer.analyse_stream

    glossary = set(glossary_surfaces())

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
    assert not (tmp_path / "index").exists()


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


@pytest.mark.parametrize("query", ["학습 데이터", "언어 모델 추론"])
def test_a_longer_limit_only_appends(default_index: searchkit.Index, query: str) -> None:
    """Re-ranking reorders BM25F's papers window by window: asking for
    more never changes the papers above (it did at 30 of these queries
    when the window grew with the limit)."""
    longest = [hit.arxiv_id for hit in default_index.search(query, limit=100)]
    assert len(longest) > 31
    for limit in (1, 10, 30, 31, 45):
        assert [hit.arxiv_id for hit in default_index.search(query, limit=limit)] == longest[:limit]
    seed = longest[0]
    alike = [hit.arxiv_id for hit in default_index.similar(seed, limit=60)]
    assert [hit.arxiv_id for hit in default_index.similar(seed, limit=10)] == alike[:10]


def _writing(corpus: Path, phrase: str) -> set[str]:
    """The papers whose title or a section writes the phrase word for word."""
    posts, _ = find_posts(corpus)
    return {paper.arxiv_id for post in posts for paper in parse_post(post).papers
            if any(phrase in text for text in [paper.title, *paper.sections.values()])}


@pytest.mark.parametrize("phrase", ["대형 언어", "이산 확산", "대규모 언어", "다중 모달", "멀티모달 대형"])
def test_a_quoted_phrase_finds_every_paper_writing_it(default_index: searchkit.Index, phrase: str) -> None:
    """Kiwi reads a word by its context (대형 is 대 in "멀티모달 대형 언어
    모델의"): a phrase matched only its words' commonest reading missed
    the papers writing it so."""
    writing = _writing(DEFAULT_CORPUS, phrase)
    assert writing and writing <= set(ids(default_index.search(f'"{phrase}"', limit=200)))


@pytest.mark.parametrize("phrase", ["멀티모달 대형 언어 모델", "대형 언어 모델", "디퓨전 모델", "양자화 기법"])
def test_a_quoted_phrase_finds_every_paper_writing_it_in_the_shared_corpus(
        shared_index: searchkit.Index, shared_corpus: Path, phrase: str) -> None:
    """"멀티모달 대형 언어 모델" found none of the ten papers writing it."""
    writing = _writing(shared_corpus / "daily-papers", phrase)
    assert writing and writing <= set(ids(shared_index.search(f'"{phrase}"', limit=400)))


@pytest.mark.parametrize("word", ["제안하였다", "입증하였다", "도입하였다"])
def test_a_word_written_only_before_punctuation_is_found(default_index: searchkit.Index, word: str) -> None:
    """The default corpus writes these only at a sentence's end
    ("…제안하였다."): the bare word typed was an unseen form, read by the
    stand-in as one made-up term, and found nothing."""
    posts, _ = find_posts(DEFAULT_CORPUS)
    writing = {paper.arxiv_id for post in posts for paper in parse_post(post).papers
               if any(re.search(word + "(?![가-힣])", t) for t in [paper.title, *paper.sections.values()])}
    assert writing and writing <= set(ids(default_index.search(word, limit=200, expand=False)))


def test_a_paper_asked_for_by_id_shows_the_sections_asked_for(default_index: searchkit.Index) -> None:
    """An id with --section limitations printed the paper with no section:
    the id matched, no word did. The sections asked for now open, unmarked."""
    paper = default_index.search("확산")[0].arxiv_id
    hit = default_index.search(paper, sections=["limitations"])[0]
    text = default_index.paper(paper).sections["limitations"]
    assert hit.arxiv_id == paper and list(hit.highlights) == ["limitations"]
    assert hit.highlights["limitations"].spans == () and text.startswith(hit.highlights["limitations"].text.rstrip("…"))
    assert default_index.search(paper)[0].highlights == {}  # every section: too much to open


def test_a_quoted_phrase_is_read_in_one_look_up(default_index: searchkit.Index, monkeypatch) -> None:
    """Its words' readings and counts come at once: on a cluster each
    look-up is a round trip, and reading the phrase twice cost two."""
    asked = []
    lexicon = default_index._lexicon
    for name in ("lookup", "readings"):
        real = getattr(lexicon, name)
        monkeypatch.setattr(lexicon, name, lambda words, real=real, name=name: asked.append(name) or real(words))
    parsed = default_index.parse('"대형 언어 모델"')
    assert asked == ["readings"] and ("대형", "언어", "모델") in parsed.parts[0].alternatives


def test_a_quoted_phrase_is_never_one_word_it_does_not_hold(default_index: searchkit.Index) -> None:
    """A word read as no term is searched as itself (깊이) when typed or
    quoted alone; inside a quoted phrase it made "두 가지" the one word
    가지 (가지치기's): a phrase of no searchable word is now said to be."""
    with pytest.raises(QueryError, match="no searchable words"):
        default_index.search('"두 가지"')
    assert ids(default_index.search('"깊이"')) == ids(default_index.search("깊이"))


def test_every_hit_of_a_compound_shows_where_it_matched(shared_index: searchkit.Index) -> None:
    """Papers that write 프레임워크 as one term match through the query's
    joined compound (프레임 + 워크 → 프레임워크); they were shown with no
    highlight and no matched section. (멀티모달 finds the 85 papers writing
    it; read as 멀티 or 모달 it also found 37 saying only 멀티뷰 or 모달리티.)"""
    for query in ("프레임워크", "멀티모달"):
        hits = shared_index.search(query, limit=400, expand=False)
        assert len(hits) > 80 and all(hit.highlights for hit in hits), query


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
    assert len(results) > 30
    assert len(ids(results)) == len(set(ids(results)))
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


def test_two_posts_of_one_date_keep_both_summaries(tmp_path: Path) -> None:
    """A daily digest and an arXiv digest of the same day both summarise a
    paper: `show` keeps both summaries, named by their posts, where keying
    by date alone let the second hide the first."""
    from .conftest import TINY_POSTS

    posts = dict(TINY_POSTS)
    second = posts["2025-01-08-daily-papers-20250108.md"].replace("자동으로 정하는", "손실로 고르는")
    posts["2025-01-08-arxiv-digest.md"] = second
    corpus = write_posts(tmp_path / "corpus", posts)
    searchkit.reindex(corpus, tmp_path / "index")
    with searchkit.open_index(tmp_path / "index") as index:
        paper = index.paper("2501.00005")
    assert paper.dates == ("2025-01-07", "2025-01-08")
    assert list(paper.copies) == ["2025-01-07", "2025-01-08 (2025-01-08-arxiv-digest.md)",
                                  "2025-01-08 (2025-01-08-daily-papers-20250108.md)"]
    goals = [copy["goal"] for copy in paper.copies.values()]
    assert goals[1:] == ["분류기의 학습 순서를 손실로 고르는 것이다.", "분류기의 학습 순서를 자동으로 정하는 것이다."]
    assert paper.sections["goal"] == goals[-1]  # the latest copy: the last post of the last date


def test_copy_keys_number_a_paper_posted_twice_in_one_post() -> None:
    from searchkit.engine import copy_keys

    copies = [{"date": "2025-01-07", "post": "a.md"}, {"date": "2025-01-08", "post": "b.md"},
              {"date": "2025-01-08", "post": "b.md"}, {"date": "2025-01-08", "post": "c.md"}]
    assert copy_keys(copies) == ["2025-01-07", "2025-01-08 (b.md) #1", "2025-01-08 (b.md) #2", "2025-01-08 (c.md)"]


def test_stats_top_terms_leave_removed_posts_out(tmp_path: Path) -> None:
    """Whoosh keeps a removed post's terms in its counts until the segment
    is rewritten: `stats` counted them (model 19 for 15 on corpus/)."""
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    searchkit.reindex(corpus, tmp_path / "index")
    sorted(corpus.glob("*.md"))[0].unlink()
    searchkit.reindex(corpus, tmp_path / "index")
    searchkit.reindex(corpus, tmp_path / "full")
    with searchkit.open_index(tmp_path / "index") as index, searchkit.open_index(tmp_path / "full") as full:
        assert index._reader.reader.has_deletions()
        assert index.stats().top_terms == full.stats().top_terms


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


def test_first_build_of_the_tiny_corpus(tiny_build) -> None:
    _, _, report = tiny_build
    assert (report.posts_read, report.entries, report.papers) == (3, 6, 5)
    assert (report.added, report.updated, report.removed, report.full) == (3, 0, 0, True)


def test_incremental_reindex(tiny_copy: tuple[Path, Path], analysed: list[str]) -> None:
    corpus, index = tiny_copy
    same = searchkit.reindex(corpus, index)
    assert (same.added, same.updated, same.removed, same.full) == (0, 0, 0, False)
    assert (same.posts_read, same.entries, same.papers) == (3, 6, 5)
    assert analysed == []

    # Add a post: only its paper is analysed.
    (corpus / "2025-01-09-daily-papers-20250109.md").write_text(NEW_POST, encoding="utf-8")
    added = searchkit.reindex(corpus, index)
    assert (added.added, added.updated, added.removed, added.entries, added.papers) == (1, 0, 0, 7, 6)
    assert [t for t in analysed if t] == ["Penguin Tracking", "펭귄 군집의 이동을 위성 영상으로 추적한다."]
    with searchkit.open_index(index) as opened:
        assert ids(opened.search("펭귄")) == ["2501.00009"]

    # Edit a post: its two papers are analysed again, the other posts' are not.
    analysed.clear()
    post = corpus / "2025-01-06-daily-papers-20250106.md"
    post.write_text(post.read_text(encoding="utf-8").replace("사족 로봇", "사족 펭귄"), encoding="utf-8")
    updated = searchkit.reindex(corpus, index)
    assert (updated.added, updated.updated, updated.removed, updated.entries) == (0, 1, 0, 7)
    titles = {"Diffusion Everywhere: Scaling Image Generation", "Legged Robots that Walk"}
    assert titles <= set(analysed)
    assert len(analysed) == 2 * len(searchkit.TEXT_FIELDS)
    with searchkit.open_index(index) as opened:
        assert set(ids(opened.search("펭귄"))) == {"2501.00002", "2501.00009"}
        [robots] = opened.search("보행 로봇", sections=["goal"], expand=False)
        assert span_texts(robots) == ["보행"]  # the goal no longer says 로봇
        assert opened.paper("2501.00002").sections["goal"].startswith("본 연구는 사족 펭귄의")

    # Delete a post: its papers leave the index, a re-posted one keeps its other copy.
    analysed.clear()
    (corpus / "2025-01-07-daily-papers-20250107.md").unlink()
    removed = searchkit.reindex(corpus, index)
    assert (removed.added, removed.updated, removed.removed, removed.entries, removed.papers) == (0, 0, 1, 4, 4)
    assert analysed == []
    with searchkit.open_index(index) as opened:
        assert ids(opened.search('"강화 학습"')) == []
        with pytest.raises(NotFoundError):
            opened.paper("2501.00004")
        assert opened.paper("2501.00005").dates == ("2025-01-08",)


def test_full_reindex_analyses_everything_again(tiny_copy: tuple[Path, Path], analysed: list[str]) -> None:
    corpus, index = tiny_copy
    report = searchkit.reindex(corpus, index, full=True)
    assert report.full and (report.added, report.entries, report.papers) == (3, 6, 5)
    assert len(analysed) == 6 * len(searchkit.TEXT_FIELDS)
    with searchkit.open_index(index) as opened:
        assert {opened.paper(i).arxiv_id for i in TINY_IDS} == set(TINY_IDS)


def test_reader_keeps_its_generation_during_a_reindex(tiny_copy: tuple[Path, Path]) -> None:
    corpus, index = tiny_copy
    with searchkit.open_index(index) as before:
        (corpus / "2025-01-09-daily-papers-20250109.md").write_text(NEW_POST, encoding="utf-8")
        searchkit.reindex(corpus, index)
        assert ids(before.search("펭귄", expand=False)) == []
    with searchkit.open_index(index) as after:
        assert ids(after.search("펭귄", expand=False)) == ["2501.00009"]


def test_broken_posts_are_skipped_and_reported(tiny_copy: tuple[Path, Path]) -> None:
    corpus, index = tiny_copy
    write_posts(corpus, {"2025-01-10-broken.md": "no front matter, no papers"})
    head = b"---\ndate: 2025-01-11\n---\n"
    (corpus / "2025-01-11-binary.md").write_bytes(head + b"\xff\n")
    report = searchkit.reindex(corpus, index)
    assert report.posts_read == 5
    assert sorted((Path(p.path).name, p.reason, p.fatal) for p in report.skipped) == [
        ("2025-01-10-broken.md", "has no paper headings", True),
        ("2025-01-11-binary.md", f"is not valid UTF-8 (byte {len(head)})", True),
    ]
    assert (report.added, report.entries, report.papers) == (0, 6, 5)


def _replace_by_dangling_link(post: Path) -> None:
    post.unlink()
    post.symlink_to("/nonexistent/x.md")


def _replace_by_directory(post: Path) -> None:
    post.unlink()
    post.mkdir()


def _replace_by_link_loop(post: Path) -> None:
    post.unlink()
    post.symlink_to(post.name)


def _replace_by_latin1(post: Path) -> None:
    post.write_bytes(post.read_bytes() + b"\xff")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_replace_by_dangling_link, "is a symlink to /nonexistent/x.md, which does not exist"),
        (_replace_by_directory, "is a directory, not a post"),
        (_replace_by_link_loop, "is a symlink loop"),
        (_replace_by_latin1, "is not valid UTF-8"),
    ],
)
def test_a_post_that_cannot_be_read_keeps_its_last_good_version(
    tiny_copy: tuple[Path, Path], damage: Callable[[Path], None], reason: str
) -> None:
    # The README: a post that cannot be read is skipped, its earlier version stays until the file is deleted.
    corpus, index = tiny_copy
    post = corpus / "2025-01-06-daily-papers-20250106.md"
    damage(post)
    report = searchkit.reindex(corpus, index)
    assert (report.removed, report.entries, report.papers) == (0, 6, 5)
    assert [(Path(p.path).name, p.reason.startswith(reason)) for p in report.skipped] == [(post.name, True)]
    with searchkit.open_index(index) as opened:
        assert opened.paper("2501.00001").arxiv_id == "2501.00001"
    if post.is_dir() and not post.is_symlink():
        post.rmdir()
    else:
        post.unlink()
    report = searchkit.reindex(corpus, index)  # deleting the file is what removes its papers
    assert (report.removed, report.entries, report.papers) == (1, 4, 3)


def test_a_post_that_breaks_keeps_its_last_good_version(tiny_copy: tuple[Path, Path]) -> None:
    corpus, index = tiny_copy
    post = corpus / "2025-01-06-daily-papers-20250106.md"
    post.write_bytes(b"\x00")  # an editor saved it half-way
    report = searchkit.reindex(corpus, index)
    assert (report.removed, report.entries, report.papers) == (0, 6, 5)
    assert [p.reason for p in report.skipped] == ["has no paper headings"]
    with searchkit.open_index(index) as opened:
        assert opened.paper("2501.00001").arxiv_id == "2501.00001"
    post.unlink()  # deleting the file is what removes its papers
    report = searchkit.reindex(corpus, index)
    assert (report.removed, report.entries, report.papers) == (1, 4, 3)
    with searchkit.open_index(index) as opened, pytest.raises(NotFoundError):
        opened.paper("2501.00001")


def test_damaged_index_is_reported_then_rebuilt(tiny_copy: tuple[Path, Path]) -> None:
    corpus, index = tiny_copy
    (index / "CURRENT").write_text("gen-999999\n", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="damaged.*reindex --full"):
        searchkit.open_index(index)
    report = searchkit.reindex(corpus, index)
    assert report.full and report.notices and "rebuilding in full" in report.notices[0]
    with searchkit.open_index(index) as opened:
        assert opened.paper("2501.00001").dates == ("2025-01-06",)


def test_small_reindex_stays_in_this_process(tiny_corpus: Path, tmp_path: Path, monkeypatch) -> None:
    import multiprocessing

    def no_processes(*args, **kwargs):
        raise AssertionError("a 5-paper reindex started worker processes")

    # The ~2,800 glossary surfaces once counted towards the threshold for
    # worker processes, so every full build started two (each loading Kiwi).

    monkeypatch.setattr(multiprocessing, "get_context", no_processes)
    report = searchkit.reindex(tiny_corpus, tmp_path / "index")
    assert report.papers == 5


# The README


def readme_blocks() -> list[str]:
    readme = REPO / "README.md"
    if not readme.is_file():
        pytest.skip("README.md not written yet")
    text = readme.read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```(?:python|pycon)\n(.*?)```", text, re.S) if "searchkit" in b]
    if not blocks:
        pytest.skip("README.md has no searchkit example")
    return blocks


def test_readme_library_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, default_index_dir) -> None:
    blocks = readme_blocks()
    (tmp_path / "corpus").symlink_to(DEFAULT_CORPUS)
    shutil.copytree(default_index_dir, tmp_path / "index")  # its reindex then has nothing to do
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        if ">>>" in block:
            test = doctest.DocTestParser().get_doctest(block, {}, "README", "README.md", 0)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            runner.run(test)
            assert runner.failures == 0
        else:
            exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.strip(), "the README example printed nothing"
    if "print(report.papers" in "".join(blocks):
        assert "46 papers indexed" in printed


def many_papers_post(count: int) -> str:
    """One post with ``count`` short papers: enough texts for worker processes."""
    papers = []
    for n in range(1, count + 1):
        sections = "\n".join(f"## {name}\n{n}번 논문의 {name} 문장이다.\n" for name in
                             ("Introduction", "Method", "Results", "Limitations", "Conclusion"))
        papers.append(f"# {n}. [Paper {n}](https://arxiv.org/abs/2502.{n:05d})\n\n{sections}")
    return "---\ndate: 2025-02-01\n---\n\n" + "\n".join(papers)


SCRIPT = """\
import sys

import searchkit

print("top level runs as", __name__, file=sys.stderr, flush=True)
report = searchkit.reindex({corpus!r}, {index!r})
print(report.papers, "papers indexed")
"""


def test_reindex_from_a_plain_script(tmp_path: Path) -> None:
    count = getattr(analysis, "PARALLEL_MIN", 800) // len(searchkit.TEXT_FIELDS) + 10
    corpus = write_posts(tmp_path / "corpus", {"2025-02-01-many.md": many_papers_post(count)})
    script = tmp_path / "example.py"
    script.write_text(SCRIPT.format(corpus=str(corpus), index=str(tmp_path / "index")), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(script)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )
    try:
        # A worker re-running the script announces itself as __mp_main__ within
        # seconds; stop there rather than wait for the hang to time out.
        for line in process.stderr:
            assert "__mp_main__" not in line, "the script ran again in a worker process"
        assert process.wait(timeout=120) == 0
        assert process.stdout.read() == f"{count} papers indexed\n"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_phrase_is_not_matched_across_a_word_that_makes_no_term(tmp_path: Path) -> None:
    """모두, 아직, 및, 두 and 간 make no term; they took no position, so
    "모델 성능" matched "모델 모두 아직 성능" and "모델 간 성능" (a probe found
    such hits on the shared corpus). Each now holds a position, and a
    phrase that names one (성능을 대폭 향상) still finds its own text."""
    index = index_one_post(tmp_path, "".join(
        f"# {i}. [Paper {i}](https://arxiv.org/abs/2501.0000{i})\n## Method\n{text}\n\n" for i, text in enumerate([
            "이 연구는 모델 모두 아직 성능이 낮다고 보고한다.",
            "두 모델 간 성능 차이를 분석한다.",
            "제안한 방법은 모델 성능을 높인다.",
            "학습 성능을 대폭 향상시킨다.",
        ], 1)))
    with searchkit.open_index(index) as opened:
        def found(query: str) -> list[str]:
            return sorted(h.arxiv_id for h in opened.search(query, expand=False))

        assert found('"모델 성능"') == ["2501.00003"]
        assert found('"성능을 대폭 향상"') == ["2501.00004"]
        assert found('"모델 간 성능"') == ["2501.00002"]
        assert found("모델 모두") == found("모델")  # a position, never a word searched
        with pytest.raises(QueryError, match="no searchable words"):
            opened.search("모두")
        hit = opened.search('"모델 간 성능"', expand=False)[0]
        assert "**모델 간 성능**" in hit.highlights["method"].marked()


def test_copies_of_one_date_count_in_post_order_whatever_the_build_history(tmp_path: Path) -> None:
    """Two posts of one date holding one paper: the copies came in the
    order the index got them, and an incremental reindex appends a
    rewritten post, so `similar` (its key terms, the spelling of the terms
    it shows) answered otherwise after one of the posts was touched (a
    probe's find, on the shared corpus). The copies are now taken by date,
    then post, as a full build places them, whatever order the backend
    gives them in."""
    def post(title: str, method: str) -> str:
        return f"""---
date: 2025-09-01
---

# 1. [{title}](https://arxiv.org/abs/2509.00001)

## Method
{method}

# 2. [Another Benchmark of Robots](https://arxiv.org/abs/2509.00002)

## Method
로봇 보행 벤치마크와 제어 정책을 평가한다.
"""
    corpus = write_posts(tmp_path / "corpus", {
        "2025-09-01-a.md": post("A Benchmark of Robots", "로봇 제어 정책을 학습한다."),
        "2025-09-01-b.md": post("a benchmark of robots", "보행 로봇의 제어기를 설계한다."),
    })
    searchkit.reindex(corpus, tmp_path / "index")
    with searchkit.open_index(tmp_path / "index") as index:
        def answers() -> tuple:
            return [(h.arxiv_id, h.score, h.shared_terms) for h in index.similar("2509.00001")], index.paper("2509.00001")

        as_built = answers()
        assert [d["post"] for d in index._copies("2509.00001")] == ["2025-09-01-a.md", "2025-09-01-b.md"]
        assert any("Benchmark" in terms for _, _, terms in as_built[0])  # post a's spelling: it comes first
        given = index._copies
        index._copies = lambda arxiv_id: list(reversed(given(arxiv_id)))  # as after a rewrite of post a
        assert answers() == as_built
