"""Bounded work on any input: huge sections, degenerate posts, long queries.

Each test here hung, or ran for minutes, before its fix: a 5 MB post whose
Method repeats "확산 모델" kept a query busy for more than ten minutes in
`highlight.fragment`, and a query of 250 unknown words spent 43 s in
"did you mean". The bounds are hang guards (`within`), generous enough
for a loaded machine; speed itself is measured in benchmarks/speed/huge.py.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchkit
from searchkit import analysis
from searchkit import highlight as highlighting
from searchkit.analysis import Term, _with_names, analyse
from searchkit.corpus import parse_text
from searchkit.highlight import fragment
from searchkit.query import ParsedQuery, Part
from searchkit.ranking import proximity
from searchkit.schema import Spans, pack_spans
from searchkit.scoring import _has_phrase

from .conftest import write_posts


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail, rather than hang, when the block runs longer than ``seconds``."""

    def expire(*_: object) -> None:
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


REPEATS = 300_000


def repeated_spans(repeats: int = REPEATS) -> tuple[str, list[tuple[str, int, int, int]]]:
    """"확산 모델 " repeated, with its terms as the indexer stores them."""
    text = "확산 모델 " * repeats
    terms = []
    for i in range(repeats):
        terms += [("확산", 2 * i, 6 * i, 6 * i + 2), ("모델", 2 * i + 1, 6 * i + 3, 6 * i + 5)]
    return text, terms


def test_fragment_of_a_huge_section_is_linear() -> None:
    text, terms = repeated_spans()
    spans = [(s, e) for _, _, s, e in terms]
    with within(10):
        shown = fragment(text, spans)
    assert len(shown.text) < 200 and shown.spans
    for start, end in shown.spans:
        assert shown.text[start:end] in ("확산", "모델")


def test_highlight_reads_only_the_query_terms_of_a_huge_section() -> None:
    text, terms = repeated_spans()
    spans = Spans({"method": pack_spans(terms)})
    with within(10):
        shown = highlighting.highlight(spans, "method", text, {"확산", "모델"}, [("확산", "모델")])
    assert shown is not None and shown.spans
    assert {shown.text[s:e] for s, e in shown.spans} <= {"확산 모델", "확산", "모델"}


@pytest.mark.parametrize("packed", [False, True])
def test_proximity_and_phrases_over_repeated_words(packed: bool) -> None:
    text, terms = repeated_spans()
    # the two words stand apart everywhere but at the very end
    terms = [(t, p * 10, s, e) for t, p, s, e in terms[:-2]] + [("확산", 10**8, 0, 2), ("모델", 10**8 + 1, 3, 5)]
    spans = Spans({"method": pack_spans(terms)}) if packed else {"method": terms}
    parsed = ParsedQuery("확산 모델", (Part((("확산",),), label="확산"), Part((("모델",),), label="모델")))
    with within(10):
        assert proximity(spans, ("method",), parsed) == pytest.approx(1.5)
        assert _has_phrase(spans, ("확산", "모델"), "method")
        assert not _has_phrase(spans, ("모델", "확산"), "method")


@pytest.mark.parametrize("packed", [False, True])
def test_a_phrase_after_more_than_the_capped_matches_is_still_shown(packed: bool) -> None:
    """The fragment is chosen from a section's first MATCHES occurrences:
    a phrase standing only after that many of its first word was found by
    scoring but shown nowhere (a hit with no matched section)."""
    count = highlighting.MATCHES + 500
    text = "확산 " * count + "확산 모델"
    terms = [("확산", i, 3 * i, 3 * i + 2) for i in range(count)]
    terms += [("확산", count, 3 * count, 3 * count + 2), ("모델", count + 1, 3 * count + 3, 3 * count + 5)]
    spans = Spans({"method": pack_spans(terms)}) if packed else {"method": terms}
    shown = highlighting.highlight(spans, "method", text, set(), [("확산", "모델")])
    assert shown is not None
    assert [shown.text[s:e] for s, e in shown.spans] == ["확산 모델"]
    assert highlighting.highlight(spans, "method", text, set(), [("모델", "확산")]) is None


def test_names_in_a_long_english_text_are_found_in_linear_time() -> None:
    """Each name Kiwi splits (GPT-4o → gpt, 4o) gets one whole term; finding
    its parts scanned every term for every name."""
    count = 50_000
    text = "GPT-4o " * count
    terms = []
    for i in range(count):
        terms += [Term("gpt", 2 * i, 7 * i, 7 * i + 3), Term("4o", 2 * i + 1, 7 * i + 4, 7 * i + 6)]
    with within(10):
        named = _with_names(text, terms)
    wholes = [t for t in named if t.text == "gpt-4o"]
    assert len(wholes) == count and wholes[-1] == Term("gpt-4o", 2 * count - 2, 7 * count - 7, 7 * count - 1)


def test_gaps_in_a_text_with_a_long_run_without_hangul_are_found_in_linear_time() -> None:
    """A Hangul word that makes no term holds a GAP; finding those words
    with an unanchored pattern rescanned a long run of other characters
    (a pasted URL or blob) from each of its positions."""
    blob = "x" * 400_000
    text = f"모델 그리고 {blob} 아직 성능"
    terms = [Term("모델", 0, 0, 2), Term(blob, 1, 7, 7 + len(blob)), Term("성능", 2, len(text) - 2, len(text))]
    with within(10):
        gapped = analysis._with_gaps(text, terms)
    assert [(t.text, t.pos) for t in gapped] == [("모델", 0), (analysis.GAP, 1), (blob, 2), (analysis.GAP, 3),
                                                   ("성능", 4)]


def test_a_long_text_is_analysed_in_pieces_that_join_up() -> None:
    line = "확산 모델을 학습한다. 로봇이 걷는다.\n"
    text = line * (2 * analysis.PIECE // len(line) + 3)
    pieces = analysis._pieces(text)
    assert len(pieces) > 2 and all(len(p) <= analysis.PIECE for _, p in pieces)
    assert "".join(p for _, p in pieces) == text
    assert all(text[offset - 1] == "\n" for offset, _ in pieces[1:])  # cut after a line break
    whole = analyse(text)
    assert [t.text for t in whole] == [t.text for t in analyse(line)] * text.count("\n")
    assert all(text[t.start : t.end] in ("확산", "모델", "학습", "로봇", "걷") for t in whole)
    assert all(a.pos < b.pos for a, b in zip(whole, whole[1:]))  # positions run on across pieces


def test_text_without_breaks_is_cut_hard() -> None:
    text = "가" * (analysis.PIECE * 2 + 5)
    pieces = analysis._pieces(text)
    assert [len(p) for _, p in pieces] == [analysis.PIECE, analysis.PIECE, 5]


# Queries


def random_words(count: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return " ".join("".join(chr(rng.randint(0xAC00, 0xD7A3)) for _ in range(3)) for _ in range(count))[:999]


def test_a_query_of_hundreds_of_unknown_words_is_bounded(shared_index: searchkit.Index) -> None:
    """It took 45 s, 43 of them looking for a "did you mean" for every word."""
    with within(15):
        results = shared_index.search(random_words(250))
    assert results.total >= 0  # answered; a suggestion, if any, is only words


def test_suggestion_replaces_only_unmatched_words(default_index: searchkit.Index) -> None:
    results = default_index.search("핰습 토큰 핰습")
    assert results.suggestion == "학습 토큰 학습"
    assert default_index.search("학습 토큰").suggestion is None


def test_a_word_too_long_to_be_a_typo_is_not_looked_up(default_index: searchkit.Index,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit-distance look-up grows with the word (seconds at 800
    characters); no indexed term is longer than `SUGGEST_LONGEST`, so a
    longer word is no typo of one and is never looked up."""
    from searchkit.engine import SUGGEST_LONGEST

    looked: list[str] = []
    monkeypatch.setattr(default_index, "_near", lambda term: looked.append(term) or [])
    assert default_index.search("q" * (SUGGEST_LONGEST + 1) + " 학습").suggestion is None
    assert looked == []
    default_index.search("q" * SUGGEST_LONGEST + " 학습")
    assert looked == ["q" * SUGGEST_LONGEST]


def test_suggestion_is_never_a_non_word(shared_index: searchkit.Index) -> None:
    """🤖 analyses to a symbol term one character from the digit 2."""
    assert shared_index.search("🤖 에이전트").suggestion is None


def test_a_glossary_term_absent_from_the_corpus_is_no_typo(default_index: searchkit.Index) -> None:
    """보상 (reward) is not in the default corpus; 보장 (guarantee) is, one
    jamo away: the README's own example must not be "corrected" to it."""
    assert not default_index.known("보상")
    assert default_index.search('"강화 학습" 보상').suggestion is None


def test_highlight_covers_a_prefix_kiwi_left_out(default_index: searchkit.Index) -> None:
    """대규모 is 대 (a prefix, no term) + 규모: the mark covers the word."""
    hits = default_index.search("대규모 언어 모델", limit=20)
    marked = " ".join(f.marked("[", "]") for h in hits for f in h.highlights.values())
    assert "[대규모" in marked
    assert "대[규모" not in marked


# A huge post, end to end


@pytest.fixture(scope="module")
def huge_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One post of about 1.4 MB whose Method repeats "확산 모델", beside a
    small paper, indexed once."""
    body = "확산 모델 " * 100_000
    post = f"""---
date: 2025-03-01
---

# 1. [Huge Diffusion Post](https://arxiv.org/abs/2503.00001)

## Introduction
- Goal: 확산 모델을 연구한다.

## Method
{body}

# 2. [Small Robot Post](https://arxiv.org/abs/2503.00002)

## Introduction
- Goal: 로봇 보행을 연구한다.

## Method
확산 모델 없이 로봇을 제어한다.
"""
    root = tmp_path_factory.mktemp("huge")
    corpus = write_posts(root / "corpus", {"2025-03-01-huge.md": post})
    report = searchkit.reindex(corpus, root / "index")
    assert report.papers == 2
    return root / "index"


@pytest.mark.slow
@pytest.mark.parametrize("query, kwargs, first", [
    ("확산 모델", {}, "2503.00001"),
    ("확산 모델", {"limit": 100}, "2503.00001"),
    ('"확산 모델"', {"sections": "method"}, "2503.00001"),
    ("모델 확산 로봇", {}, None),  # with two papers, the huge one sets the average length
    ("확산 모델", {"sort": "date"}, "2503.00001"),
])
def test_huge_post_answers_every_query(huge_index: Path, query: str, kwargs: dict, first: str) -> None:
    with searchkit.open_index(huge_index) as index, within(20):
        results = index.search(query, **kwargs)
        assert results.total == 2  # both papers hold both words, in Method
    assert results[0].arxiv_id == first or first is None
    for hit in results:
        for shown in hit.highlights.values():
            assert len(shown.text) < 200
            marked = {shown.text[s:e].lower() for s, e in shown.spans}
            assert marked <= {"확산", "모델", "확산 모델", "로봇", "diffusion", "robot"}, marked


@pytest.mark.slow
def test_huge_post_similar_and_show(huge_index: Path) -> None:
    with searchkit.open_index(huge_index) as index, within(20):
        assert [h.arxiv_id for h in index.similar("2503.00002")] == ["2503.00001"]
        assert [h.arxiv_id for h in index.similar("2503.00001")] == ["2503.00002"]
        assert len(index.paper("2503.00001").sections["method"]) > 500_000


# Degenerate posts, generated


HEADER = "---\ndate: 2025-04-01\n---\n\n"


def paper(n: int, method: str) -> str:
    return f"# {n}. [Paper {n}](https://arxiv.org/abs/2504.{n:05d})\n\n## Introduction\n- Goal: 목표 {n}.\n\n## Method\n{method}\n"


@settings(max_examples=15, deadline=None)
@given(
    word=st.sampled_from(["확산", "모델", "GPT-4o", "a", "🤖", "가나다라마바사"]),
    repeats=st.integers(1, 20_000),
    separator=st.sampled_from([" ", "", "\n", ", "]),
)
def test_one_word_repeated_parses_whole(word: str, repeats: int, separator: str) -> None:
    method = separator.join([word] * repeats)
    papers, _ = parse_text(HEADER + paper(1, method), "2025-04-01-repeat.md", "2025-04-01-repeat.md")
    assert [p.arxiv_id for p in papers] == ["2504.00001"]
    assert papers[0].sections["method"] == method.strip()


@settings(max_examples=5, deadline=None)
@given(length=st.integers(50_000, 100_000), alphabet=st.sampled_from(["가", "ab", "확산 ", "1."]))
def test_one_100k_character_line_parses(length: int, alphabet: str) -> None:
    line = (alphabet * (length // len(alphabet) + 1))[:length]
    papers, _ = parse_text(HEADER + paper(1, line), "2025-04-01-line.md", "2025-04-01-line.md")
    assert len(papers) == 1 and papers[0].sections["method"] == line.strip()


def test_ten_thousand_papers_in_one_post_parse() -> None:
    count = 10_000
    text = HEADER + "\n".join(paper(n, f"{n}번 논문의 방법이다.") for n in range(1, count + 1))
    with within(30):
        papers, problems = parse_text(text, "2025-04-01-many.md", "2025-04-01-many.md")
    assert len(papers) == count and not problems
    assert papers[-1].arxiv_id == f"2504.{count:05d}"


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from([
        "확산 " * 20_000, "GPT-4o " * 5_000, "가" * 30_000, ("확산 모델을 학습한다.\n" * 3_000),
    ]),
)
def test_degenerate_posts_index_and_answer(tmp_path_factory: pytest.TempPathFactory, method: str) -> None:
    root = tmp_path_factory.mktemp("degenerate")
    corpus = write_posts(root / "corpus", {"2025-04-01-x.md": HEADER + paper(1, method) + paper(2, "확산 모델")})
    with within(120):
        assert searchkit.reindex(corpus, root / "index").papers == 2
        with searchkit.open_index(root / "index") as index:
            for query in ("확산 모델", "GPT-4o", "가가가", '"확산 모델"'):
                results = index.search(query, limit=5)
                assert len({h.arxiv_id for h in results}) == len(results)
