"""The contract every backend keeps: the same behaviour tests, run against
the Whoosh directory and a Sphinx cluster holding the same tiny corpus.

Each test states what a user may rely on, checked from the posts' text
(see `conftest.TINY_POSTS`), not from one backend's output. The cluster
runs on two real `searchd` nodes on loopback ports in a temporary
directory, stopped by pid when the session ends (also on failure); where
`searchd` or pymysql is missing those cases skip with the reason.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import searchkit

from .conftest import TINY_IDS, TINY_POSTS, write_posts

BACKENDS = ["directory", "cluster"]


def _cluster_missing() -> str | None:
    if shutil.which("searchd") is None:
        return "searchd not installed (apt-get install sphinxsearch)"
    if importlib.util.find_spec("pymysql") is None:
        return "pymysql not installed (pip install 'papersearch[cluster]')"
    return None


@pytest.fixture(scope="session")
def contract_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_posts(tmp_path_factory.mktemp("contract") / "corpus", TINY_POSTS)


@pytest.fixture(scope="session", params=BACKENDS)
def built(request: pytest.FixtureRequest, contract_corpus: Path,
          tmp_path_factory: pytest.TempPathFactory) -> tuple[str, searchkit.ReindexReport]:
    """(location, report) of the tiny corpus on one backend."""
    if request.param == "directory":
        location = str(tmp_path_factory.mktemp("contract-dir") / "index")
    else:
        if (why := _cluster_missing()) is not None:
            pytest.skip(why)
        from searchkit.backends.sphinx import nodes

        directory = tmp_path_factory.mktemp("contract-cluster")
        request.addfinalizer(lambda: nodes.down(directory))
        location = str(nodes.up(2, directory))
    return location, searchkit.reindex(contract_corpus, location)


@pytest.fixture(scope="session")
def index(built: tuple[str, searchkit.ReindexReport]) -> Iterator[searchkit.Index]:
    with searchkit.open_index(built[0]) as opened:
        yield opened


def ids(results: searchkit.Results) -> list[str]:
    return [hit.arxiv_id for hit in results]


def marked_words(hit: searchkit.Hit) -> set[str]:
    return {f.text[a:b] for f in hit.highlights.values() for a, b in f.spans}


# Ranking


def test_a_word_the_corpus_never_wrote_loads_no_kiwi(index: searchkit.Index, monkeypatch: pytest.MonkeyPatch) -> None:
    """펭귄을 is neither recorded nor made of recorded words: the query is
    read by the stand-in from the lexicon (을 is an ending the corpus
    wrote), on every backend alike, and Kiwi is never asked."""
    from searchkit import analysis

    def no_kiwi() -> None:
        raise AssertionError("a query loaded Kiwi")

    monkeypatch.setattr(analysis, "kiwi", no_kiwi)
    parsed = index.parse("펭귄을 확산")  # type: ignore[attr-defined]
    assert [p.label for p in parsed.typed] == ["펭귄", "확산"]
    assert ids(index.search("펭귄을 확산"))[:2] == ["2501.00001", "2501.00003"]


def test_a_word_ranks_the_paper_about_it_first(index: searchkit.Index) -> None:
    hits = index.search("확산")  # 2501.00001 says it in every section, 2501.00003 once
    assert ids(hits)[:2] == ["2501.00001", "2501.00003"]
    assert "2501.00002" not in ids(hits)  # the robot paper never says it
    assert hits.total == 2 and hits.total_exact


def test_every_query_word_counts(index: searchkit.Index) -> None:
    """The one paper holding both words comes before those holding one."""
    assert ids(index.search("확산 로봇"))[0] == "2501.00003"


def test_highlights_mark_the_matched_words(index: searchkit.Index) -> None:
    for hit in index.search("확산", expand=False):
        assert hit.matched_sections and marked_words(hit) == {"확산"}
    # a synonym is marked too: the title says Diffusion
    assert marked_words(index.search("확산")[0]) == {"확산", "Diffusion"}


def test_one_hit_per_paper_with_every_post_date(index: searchkit.Index) -> None:
    hits = index.search("학습", limit=10)
    assert len(ids(hits)) == len(set(ids(hits)))
    reposted = next(hit for hit in hits if hit.arxiv_id == "2501.00005")
    assert reposted.dates == ("2025-01-07", "2025-01-08")


def test_a_phrase_needs_its_words_together(index: searchkit.Index) -> None:
    """2501.00005 says 강화 and 학습 apart: the phrase does not match it."""
    found = ids(index.search('"강화 학습"'))
    assert "2501.00004" in found and "2501.00005" not in found


def test_an_arxiv_id_finds_its_paper(index: searchkit.Index) -> None:
    for form in ("2501.00002", "arXiv:2501.00002", "https://arxiv.org/abs/2501.00002v1"):
        assert ids(index.search(form))[0] == "2501.00002"


def test_particles_and_endings_do_not_matter(index: searchkit.Index) -> None:
    assert ids(index.search("로봇을"))[0] == ids(index.search("로봇"))[0] == "2501.00002"


# Options


def test_sections_restrict_what_matches(index: searchkit.Index) -> None:
    hits = index.search("확산", sections="method")
    assert set(ids(hits)) == {"2501.00001", "2501.00003"}
    assert all(set(hit.matched_sections) == {"method"} for hit in hits)
    assert not index.search("메모리", sections=["results", "conclusion"])  # only in Limitations


def test_dates_restrict_and_order(index: searchkit.Index) -> None:
    assert ids(index.search("확산", since="2025-01-07")) == ["2501.00003"]
    assert ids(index.search("확산", until="2025-01-06")) == ["2501.00001"]
    by_date = index.search("학습", sort="date", limit=10)
    latest = [max(hit.dates) for hit in by_date]
    assert latest == sorted(latest, reverse=True) and ids(by_date)[0] == "2501.00005"


def test_limit_and_totals(index: searchkit.Index) -> None:
    everything = index.search("학습", limit=10)
    first = index.search("학습", limit=1)
    assert ids(first) == ids(everything)[:1] and first.total == everything.total >= len(everything)


def test_expansions_are_shown_and_can_be_turned_off(index: searchkit.Index) -> None:
    expanded = index.search("diffusion")
    assert any(e.target == "확산" for e in expanded.expansions) and ids(expanded)[0] == "2501.00001"
    plain = index.search("diffusion", expand=False)
    assert not plain.expansions and ids(plain) == ["2501.00001"]  # only its title says diffusion


def test_a_typo_gets_a_suggestion(index: searchkit.Index) -> None:
    results = index.search("로봊")
    assert not results and results.suggestion == "로봇"
    assert index.search("로봇").suggestion is None
    assert index.search("diffsuion").suggestion == "diffusion", "two neighbours swapped: the commonest typo"


def test_the_lexicon_knows_its_longest_word(index: searchkit.Index) -> None:
    """Segmenting an unseen word tries no prefix longer than the corpus's
    longest all-Hangul word or term; the cluster keeps that bound in its
    generation row, as the directory keeps it in its table (시뮬레이션에서,
    seven syllables, is the tiny corpus's longest word)."""
    assert index._lexicon.longest() == len("시뮬레이션에서")


def test_explanations_add_up(index: searchkit.Index) -> None:
    for hit in index.search("확산 로봇", explain=True):
        e = hit.explanation
        assert e is not None and sum(t.score for t in e.terms) == pytest.approx(e.bm25f, rel=1e-9)
        assert e.bm25f * e.coverage * e.proximity == pytest.approx(hit.score, rel=1e-9)


# Other commands


def test_show_gives_the_latest_copy_and_every_date(index: searchkit.Index) -> None:
    paper = index.paper("2501.00005v2")
    assert paper.dates == ("2025-01-07", "2025-01-08")
    assert "손실 기반" in paper.sections["contribution"]  # the 2025-01-08 summary
    assert set(paper.copies) == {"2025-01-07", "2025-01-08"}


def test_similar_never_gives_the_paper_itself(index: searchkit.Index) -> None:
    hits = index.similar("2501.00001")
    assert hits and "2501.00001" not in ids(hits)
    assert ids(hits)[0] == "2501.00003" and "확산" in hits[0].shared_terms


def test_similar_shows_shared_terms_as_written_whatever_came_before(built: tuple[str, searchkit.ReindexReport]) -> None:
    """The shared terms are shown as the texts write them; the cluster read
    no texts for `similar` and showed index terms (mar for MARS, 보이 for
    보였) unless a `paper` call had fetched them before."""
    with searchkit.open_index(built[0]) as first:
        alone = [hit.shared_terms for hit in first.similar("2501.00001")]
    with searchkit.open_index(built[0]) as second:
        second.paper("2501.00001")
        after = [hit.shared_terms for hit in second.similar("2501.00001")]
    assert alone == after and alone[0][:2] == ("확산", "생성"), alone


def test_stats_count_the_corpus(index: searchkit.Index, built: tuple[str, searchkit.ReindexReport]) -> None:
    stats = index.stats()
    report = built[1]
    assert (stats.posts, stats.entries, stats.papers) == (3, report.entries, report.papers) == (3, 6, 5)
    assert (stats.first_date, stats.last_date) == ("2025-01-06", "2025-01-08")


# Errors


@pytest.mark.parametrize("call", [
    lambda ix: ix.search("확산", limit=0),
    lambda ix: ix.search("확산", sort="relevance"),
    lambda ix: ix.search("확산", since="2025-02-01", until="2025-01-01"),
    lambda ix: ix.search("확산", since="yesterday"),
    lambda ix: ix.search("확산", sections="abstract"),
    lambda ix: ix.similar("not-an-id"),
])
def test_bad_input_is_a_query_error(index: searchkit.Index, call) -> None:
    with pytest.raises(searchkit.QueryError):
        call(index)


def test_unknown_papers_are_not_found(index: searchkit.Index) -> None:
    for call in (index.paper, index.similar):
        with pytest.raises(searchkit.NotFoundError):
            call("2501.09999")


def test_a_query_of_nothing(index: searchkit.Index) -> None:
    """Empty is an error (a script's unset variable); words that carry
    nothing (particles alone) find nothing."""
    for text in ("", "   "):
        with pytest.raises(searchkit.QueryError):
            index.search(text)
    results = index.search("은는이가")
    assert not results and results.total == 0


def test_every_paper_is_reachable(index: searchkit.Index) -> None:
    assert {i for i in TINY_IDS if ids(index.search(i))[:1] == [i]} == set(TINY_IDS)


def _glossary_sources() -> list[str]:
    """Every surface a user may type to reach an entry: both sides of the
    pairs, every surface of a synonym line, the head of a narrower one."""
    from searchkit.glossary import load_concepts, load_pairs

    found = [surface for pair in load_pairs() for surface in pair]
    for kind, head, members in load_concepts(("synonym", "narrower")):
        found += [head, *members] if kind == "synonym" else [head]
    return list(dict.fromkeys(found))


def test_every_glossary_surface_typed_fires_its_entry(index: searchkit.Index) -> None:
    """A query reads a word the way the corpus mostly wrote it (평가자 as
    평가), Kiwi read the surface alone (평가자): one surface in twenty
    (LLM 평가자, 자연어 처리, 캡션) never fired until each generation
    stored how its queries read them (`glossary.readings`). Only surfaces
    the corpus wrote word for word: another is read by the stand-in's
    guess (하한 as 하), which must key nothing."""
    sources = _glossary_sources()
    written = [text for text, terms in zip(sources, index.typed_terms(sources)) if terms]
    assert len(written) > 30  # the tiny corpus writes enough of them to mean something
    silent = []
    for text in written:
        try:
            parsed = index.parse(text)
        except searchkit.QueryError:
            continue
        typed = {part.label for part in parsed.parts if part.typed and not part.required}  # frames dropped
        if not any(typed <= set(e.source.split()) for e in parsed.expansions):
            silent.append(text)
    assert silent == []


def test_a_guessed_reading_keys_and_matches_nothing(index: searchkit.Index) -> None:
    """하한 (lower bound) is no word of the tiny corpus: the stand-in reads
    it as 하, the verb every text writes. Kept as a reading, lower bound
    matched every paper with 하 and 하 typed fired the lower-bound entry."""
    assert index.typed_terms(["하한", "lower bound"]) == [(), ()]
    assert not any(e.target == "lower bound" for e in index.parse("하는 방법").expansions)
    assert index.search("lower bound", expand=True).total == index.search("lower bound", expand=False).total
