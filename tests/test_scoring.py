"""The vectorised scorer must rank exactly as Whoosh scores `build_query`."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import searchkit
from searchkit.highlight import find_matches
from searchkit.query import ParsedQuery
from searchkit.schema import ALL, TEXT_FIELDS, resolve_sections
from searchkit.searcher import build_query

from .conftest import DEFAULT_CORPUS

WORDS = [
    "확산 모델",
    "강화 학습 보상",
    "시각 토큰 압축",
    "멀티모달 대형 언어 모델",
    "모델을 학습하는 방법",
    "희소 어텐션",
    "LLM",
    "RLHF reward model",
    "GPT-4o",
    "Transformer 아키텍처",
    "에이전트 도구 사용 2510.21800",
]


def without_phrases(parsed: ParsedQuery) -> ParsedQuery:
    """Whoosh checks phrases with positions in the sections, the scorer with
    stored offsets; scores are compared on everything else (phrases have
    their own tests below)."""
    parts = []
    for part in parsed.parts:
        singles = tuple(alt for alt in part.alternatives if len(alt) == 1)
        if singles:
            parts.append(replace(part, alternatives=singles))
    return replace(parsed, parts=tuple(parts))


def whoosh_top(index, parsed, fields, limit=30) -> list[tuple[int, float]]:
    query = build_query(parsed, fields, index.known)
    found = index._searcher.search(query, limit=limit, collapse="arxiv_id", terms=False)
    return [(hit.docnum, hit.score) for hit in found]


def assert_same_ranking(ours: list[tuple[int, float]], theirs: list[tuple[int, float]]) -> None:
    assert len(ours) == len(theirs)
    assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], rel=1e-5)
    # equal scores may come in either order; distinct ones must not
    assert {d: round(s, 6) for d, s in ours} == {d: round(s, 6) for d, s in theirs}


@pytest.mark.parametrize("text", WORDS)
def test_scores_equal_whoosh_on_the_combined_field(default_index, text: str) -> None:
    parsed = without_phrases(default_index.parse(text, expand=False))
    ours = default_index._ranked(parsed, (ALL,), None, None, 30)
    assert ours, f"{text!r} should match something in the default corpus"
    assert_same_ranking(ours, whoosh_top(default_index, parsed, (ALL,)))


@pytest.mark.parametrize("section", ["limitations", "introduction", "title"])
def test_scores_equal_whoosh_within_sections(default_index, section: str) -> None:
    fields = resolve_sections([section])
    for text in ("모델 학습", "강화 학습", '"언어 모델"'):
        parsed = default_index.parse(text, expand=False)  # phrases in sections are Whoosh's too
        assert_same_ranking(default_index._ranked(parsed, fields, None, None, 30), whoosh_top(default_index, parsed, fields))


def test_expanded_queries_score_like_whoosh(default_index) -> None:
    """Glossary expansions add weighted parts; the scores must still be Whoosh's."""
    for text in ("확산", "보상 모델", "에이전트", "LLM"):
        parsed = default_index.parse(text)
        assert parsed.expansions, f"{text!r} should expand"
        parsed = without_phrases(parsed)
        assert_same_ranking(
            default_index._ranked(parsed, (ALL,), None, None, 30), whoosh_top(default_index, parsed, (ALL,))
        )


def test_required_phrase_keeps_only_papers_with_the_phrase(default_index) -> None:
    parsed = default_index.parse('"언어 모델"', expand=False)
    ours = default_index._ranked(parsed, (ALL,), None, None, 200)
    assert ours
    for docnum, _ in ours:
        spans = default_index._stored(docnum)["spans"]
        assert any(find_matches(spans[f], set(), [("언어", "모델")]) for f in spans), docnum
    # the same papers Whoosh finds with its positional phrase matcher
    theirs = whoosh_top(default_index, parsed, (ALL,), limit=200)
    arxiv = default_index._arxiv_id
    assert {arxiv(d) for d, _ in ours} == {arxiv(d) for d, _ in theirs}


def test_phrase_scores_as_the_sum_of_its_terms(default_index) -> None:
    """Whoosh scores a phrase by its terms' BM25F; so does the scorer."""
    postings = default_index._postings()
    parsed = default_index.parse('"언어 모델"', expand=False)
    for docnum, score in default_index._ranked(parsed, (ALL,), None, None, 10):
        expected = 0.0
        for term in ("언어", "모델"):
            docs, scores = postings.term(ALL, term)
            expected += float(scores[list(docs).index(docnum)])
        assert score == pytest.approx(expected, rel=1e-6)


def test_date_range_limits_candidates(default_index) -> None:
    parsed = default_index.parse("모델", expand=False)
    ranked = default_index._ranked(parsed, (ALL,), "2025-10-27", "2025-10-28", 30)
    dates = default_index._column("date")
    assert ranked and all("2025-10-27" <= dates[d] <= "2025-10-28" for d, _ in ranked)
    everything = default_index._ranked(parsed, (ALL,), None, None, 30)
    assert any(dates[d] < "2025-10-27" for d, _ in everything)


def test_several_segments_and_deletions_score_like_whoosh(tmp_path: Path) -> None:
    """An incremental reindex leaves several segments and deleted documents:
    global document numbers and live documents must still line up."""
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    posts = sorted(DEFAULT_CORPUS.glob("*.md"))
    for post in posts[:3]:
        shutil.copy(post, corpus)
    searchkit.reindex(corpus, index_dir)
    for post in posts[3:]:
        shutil.copy(post, corpus)
    searchkit.reindex(corpus, index_dir)
    (corpus / posts[0].name).unlink()
    searchkit.reindex(corpus, index_dir)
    with searchkit.open_index(index_dir) as index:
        assert len(index._searcher.leaf_searchers()) > 1
        assert index._searcher.reader().has_deletions()
        for text in ("확산 모델", "강화 학습 보상", "LLM"):
            parsed = without_phrases(index.parse(text, expand=False))
            ours = index._ranked(parsed, (ALL,), None, None, 30)
            assert_same_ranking(ours, whoosh_top(index, parsed, (ALL,)))
            removed = {p.name for p in posts[:1]}
            assert not {index._stored(d)["post"] for d, _ in ours} & removed


def test_each_field_scores_its_commonest_term_like_whoosh(default_index) -> None:
    from whoosh import query as wq

    postings, searcher = default_index._postings(), default_index._searcher
    for field in (*TEXT_FIELDS, ALL):
        _, term = searcher.reader().most_frequent_terms(field, 1)[0]
        docs, scores = postings.term(field, term.decode())
        theirs = {hit.docnum: hit.score for hit in searcher.search(wq.Term(field, term.decode()), limit=None)}
        assert len(docs) == len(theirs) > 0, field
        assert dict(zip(docs.tolist(), scores.tolist())) == pytest.approx(theirs, rel=1e-6), field
