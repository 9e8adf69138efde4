"""The vectorised scorer must rank exactly as Whoosh scores `build_query`."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from whoosh import query as wq

import searchkit
from searchkit import glossary, scoring
from searchkit.engine import ARXIV_BOOST, joined_words
from searchkit.highlight import find_matches
from searchkit.query import ParsedQuery
from searchkit.schema import ALL, FIELD_WEIGHTS, TEXT_FIELDS, resolve_sections

from .conftest import DEFAULT_CORPUS, grown_tied_corpus

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


def build_query(parsed: ParsedQuery, fields: tuple[str, ...], known) -> wq.Query:
    """The same query in Whoosh's own query language, as the reference:
    required phrases AND-ed, everything else OR-ed, each part the best of
    its alternatives, each field boosted by its weight. The combined field
    has no positions, so Whoosh checks its phrases in the sections."""

    def sequence(terms: tuple[str, ...], fields: tuple[str, ...], weight: float) -> wq.Query:
        if len(terms) > 1 and fields == (ALL,):
            fields = TEXT_FIELDS
        one = [
            wq.Term(f, terms[0], boost=FIELD_WEIGHTS.get(f, 1.0) * weight) if len(terms) == 1
            else wq.Phrase(f, list(terms), slop=1, boost=FIELD_WEIGHTS.get(f, 1.0) * weight)
            for f in fields
        ]
        return one[0] if len(one) == 1 else wq.Or(one)

    def part(p) -> wq.Query:
        alternatives = [sequence(alt, fields, p.weight) for alt in p.alternatives]
        return alternatives[0] if len(alternatives) == 1 else wq.DisjunctionMax(alternatives)

    required = [part(p) for p in parsed.parts if p.required]
    optional = [part(p) for p in parsed.parts if not p.required]
    optional += [sequence((word,), fields, 1.0) for word in joined_words(parsed, known)]
    optional += [wq.Term("arxiv_id", i, boost=ARXIV_BOOST) for i in parsed.arxiv_ids]
    if not required:
        return wq.Or(optional)
    must = wq.And(required) if len(required) > 1 else required[0]
    return wq.AndMaybe(must, wq.Or(optional)) if optional else must


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory):
    """The default corpus indexed as the index is, but with Whoosh's
    positions in the sections, which the index no longer writes (phrases
    are checked against stored offsets): Whoosh's positional phrase
    matching is the reference. Same corpus, same order: same docnums."""
    from searchkit.backends.whoosh import writer
    from searchkit.backends.whoosh.schema import build_schema

    path = tmp_path_factory.mktemp("positional") / "index"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer, "build_schema", lambda: build_schema(positions=True))
        searchkit.reindex(DEFAULT_CORPUS, path)
    with searchkit.open_index(path) as index:
        yield index


def whoosh_top(index, parsed, fields, limit=30) -> list[tuple[int, float]]:
    query = build_query(parsed, fields, index.known)
    found = index._searcher.search(query, limit=limit, collapse="arxiv_id", terms=False)
    return [(hit.docnum, hit.score) for hit in found]


def assert_same_ranking(ours: list[tuple[int, float]], theirs: list[tuple[int, float]]) -> None:
    assert len(ours) == len(theirs)
    assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], rel=1e-5)
    # equal scores may come in either order; distinct ones must not
    assert {d: round(s, 6) for d, s in ours} == {d: round(s, 6) for d, s in theirs}


def planned(index, parsed: ParsedQuery, fields: tuple, since: str | None = None, until: str | None = None):
    """The index's own plan for ``parsed``, as `Engine.search` makes it."""
    return index._plan(parsed, fields, joined_words(parsed, index.known), since, until)


@pytest.mark.parametrize("text", WORDS)
def test_scores_equal_whoosh_on_the_combined_field(default_index, reference, text: str) -> None:
    parsed = without_phrases(default_index.parse(text, expand=False))
    ours = planned(default_index, parsed, (ALL,)).top(30)
    assert ours, f"{text!r} should match something in the default corpus"
    assert_same_ranking(ours, whoosh_top(reference, parsed, (ALL,)))


@pytest.mark.parametrize("section", ["limitations", "introduction", "title"])
def test_scores_equal_whoosh_within_sections(default_index, reference, section: str) -> None:
    fields = resolve_sections([section])
    for text in ("모델 학습", "강화 학습", '"언어 모델"'):
        parsed = default_index.parse(text, expand=False)  # phrases in sections are Whoosh's too
        ours = planned(default_index, parsed, fields).top(30)
        assert_same_ranking(ours, whoosh_top(reference, parsed, fields))


def test_expanded_queries_score_like_whoosh(default_index, reference) -> None:
    """Glossary expansions add weighted parts; the scores must still be Whoosh's."""
    for text in ("확산", "보상 모델", "에이전트", "LLM"):
        parsed = default_index.parse(text)
        assert parsed.expansions, f"{text!r} should expand"
        parsed = without_phrases(parsed)
        assert_same_ranking(
            planned(default_index, parsed, (ALL,)).top(30), whoosh_top(reference, parsed, (ALL,))
        )


def test_required_phrase_keeps_only_papers_with_the_phrase(default_index, reference) -> None:
    parsed = default_index.parse('"언어 모델"', expand=False)
    ours = planned(default_index, parsed, (ALL,)).top(200)
    assert ours
    for docnum, _ in ours:
        spans = default_index._stored(docnum)["spans"]
        assert any(find_matches(spans[f], set(), [("언어", "모델")]) for f in spans), docnum
    # the same papers Whoosh finds with its positional phrase matcher
    theirs = whoosh_top(reference, parsed, (ALL,), limit=200)
    arxiv = default_index._reader.column("arxiv_id").__getitem__
    assert {arxiv(d) for d, _ in ours} == {arxiv(d) for d, _ in theirs}


def test_phrase_on_the_combined_field_scores_its_terms(default_index) -> None:
    """The combined field keeps no positions: a phrase found in a section
    scores what Whoosh gives its terms on the combined field."""
    searcher = default_index._searcher
    parsed = default_index.parse('"언어 모델"', expand=False)
    ranked = planned(default_index, parsed, (ALL,)).top(10)
    assert ranked
    per_term = {t: {h.docnum: h.score for h in searcher.search(wq.Term(ALL, t), limit=None)} for t in ("언어", "모델")}
    for docnum, score in ranked:
        assert score == pytest.approx(per_term["언어"][docnum] + per_term["모델"][docnum], rel=1e-6)


@pytest.mark.parametrize("text", ["GPT-4o", "LLM", "대형 언어 모델", "확산 모델", '"언어 모델" 환각'])
@pytest.mark.parametrize("sections", [["method"], ["introduction", "results"]])
def test_optional_and_required_phrases_rank_like_whoosh_in_sections(
    default_index, reference, text: str, sections, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In section fields Whoosh checks phrases by position, exactly: the
    upper bounds and early stop of the scorer must give the same top.
    Expansions are kept one part each here: Whoosh's DisjunctionMax over
    several Phrases scores above the sum of its children (24.7 where the
    phrases scored apart sum to 17.0), so grouped synonyms are checked
    against the best alternative instead (next test)."""
    monkeypatch.setattr(glossary, "GROUP", False)
    fields = resolve_sections(sections)
    parsed = default_index.parse(text)
    assert any(len(alt) > 1 for p in parsed.parts for alt in p.alternatives), f"{text!r} should hold a phrase"
    assert_same_ranking(planned(default_index, parsed, fields).top(30), whoosh_top(reference, parsed, fields))


def test_date_range_limits_candidates(default_index) -> None:
    parsed = default_index.parse("모델", expand=False)
    ranked = planned(default_index, parsed, (ALL,), "2025-10-27", "2025-10-28").top(30)
    dates = default_index._reader.column("date")
    assert ranked and all("2025-10-27" <= dates[d] <= "2025-10-28" for d, _ in ranked)
    everything = planned(default_index, parsed, (ALL,)).top(30)
    assert any(dates[d] < "2025-10-27" for d, _ in everything)


def test_several_segments_and_deletions_score_like_a_full_build(tmp_path: Path) -> None:
    """An incremental reindex leaves several segments and deleted documents,
    which Whoosh still counts in N, df and field lengths. The same corpus
    must score the same however the index was built up, to 1e-9: global
    document numbers, live documents and statistics must all line up."""
    corpus, index_dir, full_dir = tmp_path / "corpus", tmp_path / "index", tmp_path / "full"
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
    searchkit.reindex(corpus, full_dir)
    with searchkit.open_index(index_dir) as index, searchkit.open_index(full_dir) as full:
        assert len(index._searcher.leaf_searchers()) > 1
        assert index._searcher.reader().has_deletions()
        for text in ("확산 모델", "강화 학습 보상", "LLM", '"언어 모델" 환각', "2510.21800 에이전트"):
            parsed = without_phrases(index.parse(text, expand=False))
            ours = [(index._stored(d)["doc_key"], s) for d, s in planned(index, parsed, (ALL,)).top(30)]
            theirs = [(full._stored(d)["doc_key"], s) for d, s in planned(full, parsed, (ALL,)).top(30)]
            assert [k for k, _ in ours] == [k for k, _ in theirs], text
            assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], rel=1e-9, abs=0), text
            removed = {p.name for p in posts[:1]}
            assert not {key.partition("#")[0] for key, _ in ours} & removed
            got, want = index.search(text, limit=20), full.search(text, limit=20)
            assert [(h.arxiv_id, h.dates) for h in got] == [(h.arxiv_id, h.dates) for h in want], text
            assert [h.score for h in got] == pytest.approx([h.score for h in want], rel=1e-9, abs=0), text
            assert (got.total, got.suggestion) == (want.total, want.suggestion), text


def test_exact_ties_rank_as_a_full_build_whatever_order_posts_came_in(tmp_path: Path) -> None:
    """Papers that score exactly alike are ordered by where a full build
    places them (posts by name, papers as written), never by the order
    reindexes added them: an index grown a post at a time answers as one
    built at once, in the top, by date, and in which copy stands for a
    paper (2501.00001 is in both posts, word for word)."""
    corpus, grown, full = grown_tied_corpus(tmp_path)
    searchkit.reindex(corpus, full)
    with searchkit.open_index(grown) as index, searchkit.open_index(full) as whole:
        for kwargs in ({}, {"sort": "date"}, {"limit": 2}):
            got, want = index.search("희소 라우팅", **kwargs), whole.search("희소 라우팅", **kwargs)
            assert len({h.score for h in want}) == 1  # the premise: every paper ties
            assert [h.arxiv_id for h in got] == [h.arxiv_id for h in want], kwargs
        assert [h.arxiv_id for h in whole.search("희소 라우팅")] == ["2501.00003", "2501.00001", "2501.00002",
                                                                  "2501.00004"]
        for source in (index, whole):
            best = planned(source, source.parse("희소 라우팅", expand=False), (ALL,)).top(10)
            assert [source._stored(d)["doc_key"].partition("#")[0] for d, _ in best[:2]] == ["2025-01-01-a.md"] * 2


def test_each_field_scores_its_commonest_term_like_whoosh(default_index) -> None:
    from whoosh import query as wq

    postings, searcher = default_index._postings(), default_index._searcher
    for field in (*TEXT_FIELDS, ALL):
        _, term = searcher.reader().most_frequent_terms(field, 1)[0]
        docs, scores = postings.term(field, term.decode())
        theirs = {hit.docnum: hit.score for hit in searcher.search(wq.Term(field, term.decode()), limit=None)}
        assert len(docs) == len(theirs) > 0, field
        assert dict(zip(docs.tolist(), scores.tolist())) == pytest.approx(theirs, rel=1e-6), field


@pytest.mark.parametrize("text", ['"언어 모델"', '"언어 모델" 환각', "GPT-4o", "멀티모달 대형 언어 모델", "LLM 2510.21800"])
@pytest.mark.parametrize("section", [None, "method"])
def test_every_match_is_one_whoosh_finds(default_index, reference, text: str, section: str | None) -> None:
    """Totals and date sorting list every match: phrases included, the same
    documents as Whoosh's positional matching."""
    fields = resolve_sections([section]) if section else (ALL,)
    parsed = default_index.parse(text)
    ours = set(planned(default_index, parsed, fields).matching())
    theirs = set(reference._searcher.docs_for_query(build_query(parsed, fields, default_index.known)))
    assert ours == theirs
    assert ours or section, f"{text!r} should match something"


def test_similar_never_returns_the_paper_itself(default_index) -> None:
    paper = default_index.search("확산 모델", limit=1)[0].arxiv_id
    found = default_index.similar(paper, limit=20)
    ids = [hit.arxiv_id for hit in found]
    assert found and paper not in ids and len(ids) == len(set(ids))
    assert found.total >= len(found)


def test_total_past_the_budget_is_an_estimate_and_says_so(default_index, monkeypatch: pytest.MonkeyPatch) -> None:
    """A common required phrase would need a stored-field read per paper
    holding its words; past the budget a sample is checked instead."""
    from searchkit import engine as searcher

    query = '"언어 모델"'
    parsed = default_index.parse(query)
    everything = planned(default_index, parsed, (ALL,)).matching()
    assert planned(default_index, parsed, (ALL,)).count() == (default_index._distinct(everything), True)
    words = default_index._postings()
    together = set(words.read(ALL, "언어")[0].tolist()) & set(words.read(ALL, "모델")[0].tolist())
    assert len(together) > 8, "the phrase's words must co-occur without it for this test"
    monkeypatch.setattr(searcher, "COUNT_BUDGET", 2)
    total, exact = planned(default_index, parsed, (ALL,)).count()
    assert not exact and 0 < total <= default_index._distinct(sorted(together))


def test_every_prefix_of_a_sample_is_spread_over_the_corpus() -> None:
    """A sample cut short (papers of many copies spend the budget first)
    must still cover the whole corpus, not its first posts."""
    order = scoring._spread(1000, 500)
    assert sorted(order) == np.linspace(0, 999, 500).astype(np.int64).tolist()
    for size in (2, 8, 64):
        taken = sorted(order[:size])
        assert max(b - a for a, b in zip([0, *taken], [*taken, 999])) <= 2 * 1000 / size, size
    assert sorted(scoring._spread(5, 500)) == [0, 1, 2, 3, 4] and scoring._spread(0, 5) == []


def test_a_top_that_saw_every_match_gives_the_exact_total(default_index, monkeypatch: pytest.MonkeyPatch) -> None:
    """A top of fewer papers than it was asked for holds every match, and
    the date order reads them all: no estimate then ("7 of about 16")."""
    from searchkit import engine as searcher

    exact = {q: default_index.search(q).total for q in ('"언어 모델"', '"모델 학습"')}
    monkeypatch.setattr(searcher, "COUNT_BUDGET", 1)
    for query, total in exact.items():
        for sort in ("score", "date"):
            results = default_index.search(query, sort=sort)
            assert (results.total, results.total_exact) == (total, True), (query, sort)


def test_the_sample_counts_papers_and_the_budget_counts_checks(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies of one paper match together: the sample counts papers, so a
    re-posted paper is never counted once a copy (a sample of documents
    overestimated by 23% at 5,904 entries), and the budget counts phrase
    checks, so re-posts cannot multiply the work."""
    from searchkit import engine as searcher

    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    first = sorted(corpus.glob("*.md"))[0]
    for day in ("2025-11-01", "2025-11-02", "2025-11-03"):  # every paper of the first post posted 4 times
        (corpus / f"{day}-again.md").write_text(first.read_text(encoding="utf-8").replace("2025-10-06", day),
                                                encoding="utf-8")
    searchkit.reindex(corpus, tmp_path / "index")
    with searchkit.open_index(tmp_path / "index") as index:
        parsed = index.parse('"언어 모델"')

        def count() -> tuple[tuple[int, bool], int]:
            plan = index._plan(parsed, (ALL,), joined_words(parsed, index.known))
            reads = []
            plan._read = lambda doc, read=plan._read: reads.append(doc) or read(doc)
            return plan.count(), len(reads)

        plan = index._plan(parsed, (ALL,), joined_words(parsed, index.known))
        sure, unsure = scoring._split(*plan._args, None)
        known = {plan.key(d) for d in sure.tolist()}
        papers = {plan.key(d) for d in unsure.tolist()} - known
        assert len(unsure) > len(papers) > 4, "re-posted papers must need a phrase check for this test"
        exact, reads = count()
        assert exact[1] and reads <= len(unsure)
        for budget in (3, 8):
            monkeypatch.setattr(searcher, "COUNT_BUDGET", budget)
            (total, estimated), reads = count()
            assert not estimated and reads < budget + 4, budget  # the last paper may take all its 4 copies
            assert total <= len(known) + len(papers)


def test_an_estimate_samples_in_full_build_order(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An incremental build numbers documents otherwise than a full one;
    the sample of phrase checks followed that numbering, so one corpus gave
    two estimates (and the page, which samples in full-build order, a third)."""
    from searchkit import engine as searcher

    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    posts = sorted(corpus.glob("*.md"))
    moved = [post.rename(tmp_path / post.name) for post in posts[:2]]
    searchkit.reindex(corpus, tmp_path / "grown")
    for post in moved:
        post.rename(corpus / post.name)
    searchkit.reindex(corpus, tmp_path / "grown")
    searchkit.reindex(corpus, tmp_path / "full")
    monkeypatch.setattr(searcher, "COUNT_BUDGET", 3)  # 10 and 23 for "언어 모델" when the sample followed docnums
    with searchkit.open_index(tmp_path / "grown") as grown, searchkit.open_index(tmp_path / "full") as full:
        counts = {q: [planned(index, index.parse(q), (ALL,)).count() for index in (grown, full)]
                  for q in ('"언어 모델"', '"모델 학습"', '"추론 능력"')}
    assert all(a == b for a, b in counts.values()), counts
    assert not counts['"언어 모델"'][0][1], "the test needs an estimate"


def test_an_index_says_when_its_docnums_follow_a_full_builds_order(tmp_path) -> None:
    """Where they do (a full build, and one with posts only removed since),
    ties and a total's sample skip looking up each document's place (10-17
    ms of a common phrase's total at 10k papers); where an incremental
    build appended, they look it up."""
    import numpy as np

    from searchkit.backends.whoosh.index import place
    from searchkit.store import live_generation, read_manifest

    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    posts = sorted(corpus.glob("*.md"))

    def ordered() -> tuple[bool | None, bool]:
        """(what the manifest says, whether docnums follow places)."""
        with searchkit.open_index(tmp_path / "index") as index:
            live = np.flatnonzero(index._postings().live()).tolist()
            keys = index._reader.column("doc_key")
            follows = [place(keys[d]) for d in live] == sorted(place(keys[d]) for d in live)
        return read_manifest(live_generation(tmp_path / "index")).ordered, follows

    searchkit.reindex(corpus, tmp_path / "index")
    assert ordered() == (True, True)
    kept = posts[1].read_text(encoding="utf-8")
    posts[1].unlink()
    searchkit.reindex(corpus, tmp_path / "index")
    assert ordered() == (True, True)
    posts[1].write_text(kept, encoding="utf-8")  # back: appended after the posts it sorts before
    searchkit.reindex(corpus, tmp_path / "index")
    assert ordered() == (False, False)


def test_an_estimated_total_is_never_below_the_hits_shown(shared_index, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample checked at the budget found fewer matches than the hits
    shown: "52 of about 51 matching papers"."""
    from searchkit import engine as searcher

    monkeypatch.setattr(searcher, "COUNT_BUDGET", 2)
    for query in ('"모델 기반"', '"기반 모델"'):
        results = shared_index.search(query, limit=30)
        assert not results.total_exact and results.total >= len(results) == 30, query


@pytest.mark.parametrize("text", ["LLM", "대형 언어 모델"])
def test_grouped_synonyms_score_their_best_alternative(default_index, text: str) -> None:
    """A part holding several synonyms scores, in each paper, what its best
    synonym scores alone: never their sum."""
    fields = resolve_sections(["introduction", "results"])
    parsed = default_index.parse(text)
    grouped = [p for p in parsed.parts if len(p.alternatives) > 1 and not p.typed]
    assert grouped, f"{text!r} should have grouped synonyms"
    for part in grouped:
        whole = dict(planned(default_index, replace(parsed, parts=(part,)), fields).top(50))
        alone = [dict(planned(default_index, replace(parsed, parts=(replace(part, alternatives=(alt,)),)), fields).top(50))
                 for alt in part.alternatives]
        for doc, score in whole.items():
            assert score == pytest.approx(max(a.get(doc, 0.0) for a in alone), rel=1e-9)
