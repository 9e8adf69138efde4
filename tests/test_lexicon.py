"""Word forms → terms by look-up: the lexicon must agree with Kiwi."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from pathlib import Path

import pytest

from searchkit import analysis
from searchkit.analysis import GAP, Term, analyse
from searchkit.errors import IndexCorruptError
from searchkit.lexicon import PARTICLES, Lexicon, is_sticky, merged_pieces, piece_counts, split_words

CORPUS_TEXTS = [
    "본 논문은 확산 모델의 샘플링 속도를 높인다.",
    "확산 모델 강화 학습 정책 속도를",
    "강화 학습과 강화학습은 같은 말이다.",
    "GPT-4o와 Qwen2.5-VL을 비교하였다.",
    "보상 설계 및 정책 학습을 다룬다.",
]


@pytest.fixture
def lexicon(tmp_path: Path):
    lex = Lexicon(tmp_path / "lexicon.sqlite")
    lex.add((text, analyse(text)) for text in CORPUS_TEXTS)
    yield lex
    lex.close()


@pytest.fixture
def kiwi_calls(lexicon: Lexicon, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every use of Kiwi from here on (the corpus is analysed already)."""
    calls: list[str] = []
    real = analysis.kiwi

    def spy() -> object:
        calls.append("kiwi")
        return real()

    monkeypatch.setattr(analysis, "kiwi", spy)
    return calls


def test_split_words_makes_offsets_relative_to_the_word() -> None:
    text = "확산 모델의 GPT-4o와"
    words = split_words(text, analyse(text))
    assert words == {
        "확산": [("확산", 0, 0, 2)],
        "모델의": [("모델", 0, 0, 2)],
        "GPT-4o와": [("gpt-4o", 0, 0, 6), ("gpt", 0, 0, 3), ("4", 1, 4, 5), ("o", 2, 5, 6)],
    }


def test_split_words_records_a_word_without_its_punctuation_too() -> None:
    terms = [Term("제안", 1, 4, 6), Term("음파", 2, 12, 14)]
    words = split_words("방법을 제안하였다. 초음파, (끝)", terms)
    assert words["제안하였다"] == words["제안하였다."] == [("제안", 0, 0, 2)]
    assert words["초음파"] == [("음파", 0, 1, 3)] and words["끝"] == []
    # a form the text also writes bare keeps that reading, wherever it stands
    later = split_words("제안하였다. 제안하였다", [Term("제안", 0, 0, 2), Term("제", 1, 7, 8), Term("안", 2, 8, 9)])
    assert later["제안하였다"] == [("제", 0, 0, 1), ("안", 1, 1, 2)] and later["제안하였다."] == [("제안", 0, 0, 2)]


def test_split_words_records_words_without_terms() -> None:
    """및 makes no term but holds a position (`GAP`): the lexicon gives a
    query's phrase the same position there as the texts have."""
    text = "확산 및 모델"
    assert split_words(text, analyse(text))["및"] == [(GAP, 0, 0, 1)]


def test_split_words_leaves_out_words_a_term_straddles() -> None:
    text = "ab cd"
    straddling = [Term("abcd", 0, 0, 5)]
    assert split_words(text, straddling) == {}


@pytest.mark.parametrize("query", ["확산 모델", "강화 학습", "강화학습은", "GPT-4o와 비교하였다.", "보상 및 정책", "모델의 속도를"])
def test_known_words_are_analysed_like_kiwi(lexicon: Lexicon, kiwi_calls: list[str], query: str) -> None:
    found = lexicon.analyse(query)
    assert kiwi_calls == []
    assert found == analyse(query)


def test_an_unknown_word_is_read_by_the_stand_in_never_by_kiwi(lexicon: Lexicon, kiwi_calls: list[str]) -> None:
    """펭귄 is neither recorded nor made of recorded words: every word of
    the text is read by the stand-in (recorded readings, endings learnt
    from the lexicon), and Kiwi is not asked."""
    known = {"확산", "모델", "속도"}.__contains__
    assert [(t.text, t.pos) for t in lexicon.analyse("확산 펭귄", known)] == [("확산", 0), ("펭귄", 1)]
    # 을 closes 모델을 in the corpus: an ending, so an unknown word before it loses it
    assert [t.text for t in lexicon.analyse("펭귄을 모델의", known)] == ["펭귄", "모델"]
    assert [t.text for t in lexicon.analyse("GPT-4o로 펭귄", known)] == ["gpt-4o", "gpt", "4", "o", "펭귄"]
    assert kiwi_calls == []


def test_lookup_returns_only_known_words(lexicon: Lexicon) -> None:
    found = lexicon.lookup(["확산", "펭귄", "확산"])
    assert found == {"확산": [["확산", 0, 0, 2]]}


def test_a_word_keeps_its_first_clean_analysis_in_a_text() -> None:
    """A word twice in a text: the first occurrence no term straddles wins."""
    text = "ab cd ab ab"
    terms = [Term("abcd", 0, 0, 5), Term("x", 1, 6, 8), Term("y", 2, 9, 11)]
    assert split_words(text, terms) == {"ab": [("x", 0, 0, 2)]}


def test_capitalised_words_are_recorded_lower_cased_too(tmp_path: Path) -> None:
    lex = Lexicon(tmp_path / "lexicon.sqlite")
    lex.add([("Reward", [Term("reward", 0, 0, 6)])])
    assert lex.lookup(["Reward", "reward", "REWARD"]) == {"Reward": [["reward", 0, 0, 6]], "reward": [["reward", 0, 0, 6]]}
    assert lex.analyse("REWARD") == [Term("reward", 0, 0, 6)]
    lex.close()


def test_most_frequent_analysis_of_a_word_wins(tmp_path: Path) -> None:
    lex = Lexicon(tmp_path / "lexicon.sqlite")
    lex.add([("확산", [Term("rare", 0, 0, 2)]), ("확산", [Term("common", 0, 0, 2)]), ("확산", [Term("common", 0, 0, 2)])])
    assert lex.analyse("확산") == [Term("common", 0, 0, 2)]
    lex.close()


def test_every_reading_is_kept_with_its_count(tmp_path: Path) -> None:
    """A phrase is matched in every way its words were read
    (`query.phrase_readings`), so the table gives them all, commonest first."""
    lex = Lexicon(tmp_path / "lexicon.sqlite")
    lex.add([("대형", [Term("대형", 0, 0, 2)]), ("대형", [Term("대", 0, 0, 1)]), ("대형", [Term("대형", 0, 0, 2)]),
             ("모델", [Term("모델", 0, 0, 2)])])
    assert lex.readings(["대형", "모델", "없는"]) == {"대형": [([["대형", 0, 0, 2]], 2), ([["대", 0, 0, 1]], 1)],
                                                 "모델": [([["모델", 0, 0, 2]], 1)]}
    assert list(lex.ambiguous()) == [("대형", [([["대형", 0, 0, 2]], 2), ([["대", 0, 0, 1]], 1)])]
    lex.remove([("대형", [Term("대", 0, 0, 1)])])
    assert lex.readings(["대형"]) == {"대형": [([["대형", 0, 0, 2]], 2)]} and not list(lex.ambiguous())
    lex.close()


def test_lexicon_persists_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.sqlite"
    lex = Lexicon(path)
    lex.add([("확산 모델", analyse("확산 모델"))])
    lex.close()
    again = Lexicon(path)
    assert set(again.lookup(["확산", "모델"])) == {"확산", "모델"}
    again.close()


def test_empty_query_text_analyses_to_nothing(lexicon: Lexicon, kiwi_calls: list[str]) -> None:
    assert lexicon.analyse("   ") == []
    assert kiwi_calls == []


def test_unseen_compounds_and_endings_are_segmented_without_kiwi(tmp_path: Path) -> None:
    lex = Lexicon(tmp_path / "lexicon.sqlite")
    lex.add((text, analyse(text)) for text in ["생성 모델을 학습한다", "성능 향상을 보였다", "비디오"])
    known = {"생성", "모델", "향상", "비디오"}.__contains__
    assert [t.text for t in lex.analyse("비디오 생성모델", known)] == ["비디오", "생성", "모델"]
    assert [t.text for t in lex.analyse("향상된다", known)] == ["향상"]
    terms = lex.analyse("생성모델", known)
    assert [("생성모델"[t.start : t.end], t.pos) for t in terms] == [("생성", 0), ("모델", 1)]
    assert lex.segment("완전히낯선말", known) is None, "unknown pieces go to the stand-in"
    lex.close()


def test_a_particle_after_a_recorded_word_is_no_term_even_when_the_index_has_it(tmp_path: Path) -> None:
    lex = Lexicon(tmp_path / "lexicon.sqlite")
    lex.add((text, analyse(text)) for text in ["얼굴 생성", "생각 사슬"])
    known = {"얼굴", "생각", "을", "의"}.__contains__  # a stray 을 or 의 some summary left as a term
    assert [t.text for t in lex.analyse("얼굴을", known)] == ["얼굴"]
    assert [t.text for t in lex.analyse("생각의 사슬", known)] == ["생각", "사슬"]
    lex.close()


# Segmentation: the memoised, bounded search against the exhaustive one it replaced

QUERIES = Path(__file__).resolve().parents[1] / "benchmarks" / "quality" / "queries.json"


def _reference_segment(word: str, lookup, known) -> list[list] | None:
    """`Lexicon.segment` as it was at ae504ff: exhaustive backtracking, no
    memo, every prefix looked up. Exponential, so only for short words,
    but the answer the bounded search must give."""
    if not re.fullmatch(r"[\uac00-\ud7a3]{3,}", word):
        return None
    prefixes = [word[:i] for i in range(len(word), 1, -1)]
    found = lookup(prefixes)
    for prefix in prefixes:
        if not found.get(prefix) and known(prefix):
            found[prefix] = [[prefix, 0, 0, len(prefix)]]
        if not found.get(prefix):
            continue
        rest = word[len(prefix) :]
        tail = lookup([rest]).get(rest) if rest and rest not in PARTICLES else []
        if tail is None and known(rest):
            tail = [[rest, 0, 0, len(rest)]]
        if tail is None:
            tail = _reference_segment(rest, lookup, known)
        if tail is None and len(rest) <= 2:
            tail = []
        if tail is not None:
            shift = 1 + max(item[1] for item in found[prefix])
            return found[prefix] + [[t, p + shift, s + len(prefix), e + len(prefix)] for t, p, s, e in tail]
    return None


class _Counted:
    """A lexicon's look-ups and a ``known`` that count the strings asked,
    and stop the search past ``limit`` (the old search ran for minutes)."""

    def __init__(self, lex: Lexicon, known, limit: int) -> None:
        self.asked, self.limit = 0, limit
        self._lookup, self._known = lex.lookup, known
        lex.lookup = self.lookup  # the instance's own: segment calls self.lookup

    def _ask(self, count: int) -> None:
        self.asked += count
        if self.asked > self.limit:
            raise AssertionError(f"more than {self.limit} strings asked")

    def lookup(self, words: list[str]) -> dict[str, list[list]]:
        self._ask(len(words))
        return self._lookup(words)

    def known(self, term: str) -> bool:
        self._ask(1)
        return self._known(term)


SEGMENT_TEXTS = ["다중 모달 다중모달 학습", "모델 병합 기법", "강화 학습 정책", "대규모 언어 모델"]
SEGMENT_KNOWN = {"다중", "모달", "다중모달", "모델", "병합", "기법", "강화", "학습", "정책", "대규모", "언어"}


@pytest.fixture
def segmenting(tmp_path: Path):
    lex = Lexicon(tmp_path / "lexicon.sqlite")
    lex.add((text, analyse(text)) for text in SEGMENT_TEXTS)
    lex.flush()
    yield lex
    lex.close()


def _asked(tmp_path: Path, word: str, name: str) -> int:
    lex = Lexicon(tmp_path / "lexicon.sqlite", readonly=True)  # each count from a fresh reader
    counted = _Counted(lex, SEGMENT_KNOWN.__contains__, limit=100 * len(word))
    assert lex.segment(word, counted.known) is None, name
    lex.close()
    return counted.asked


def test_a_word_that_fails_late_costs_look_ups_linear_in_its_length(segmenting: Lexicon, tmp_path: Path) -> None:
    """다중모달 × k + 뷁뷁뷁 fails only at its end, after every way of
    splitting the 다중모달s: the old search tried them all (2^k), and each
    try looked up every prefix of its rest. Now doubling the word must not
    even double and a half the strings asked (quadratic would be 4×)."""
    asked = {k: _asked(tmp_path, "다중모달" * k + "뷁뷁뷁", f"k={k}") for k in (8, 16, 32)}
    assert asked[16] < 2.5 * asked[8] and asked[32] < 2.5 * asked[16], asked


def test_a_long_word_that_segments_asks_for_no_long_prefix(segmenting: Lexicon, tmp_path: Path) -> None:
    """모델 × 500 (1000 characters) segments with no backtracking, but every
    step looked up all prefixes of its rest: 250,000 strings."""
    word = "모델" * 500
    counted = _Counted(segmenting, SEGMENT_KNOWN.__contains__, limit=10 * len(word))
    assert segmenting.segment(word, counted.known) == [["모델", i, 2 * i, 2 * i + 2] for i in range(500)]
    assert segmenting.longest() == 4, "다중모달"


@pytest.mark.parametrize("k", [1, 2, 5, 8])
def test_the_pathological_word_segments_as_the_exhaustive_search(segmenting: Lexicon, k: int) -> None:
    known = SEGMENT_KNOWN.__contains__
    for word in ("다중모달" * k + "뷁뷁뷁", "다중모달" * k + "학습", "다중모달" * k + "모", "강화" + "다중모달" * k + "된다"):
        assert segmenting.segment(word, known) == _reference_segment(word, segmenting.lookup, known), word


def test_a_lexicon_without_the_bound_segments_alike(segmenting: Lexicon, tmp_path: Path) -> None:
    """A table written before the bound was kept (or copied into a new
    generation from one) has none: memo only, the same answers."""
    with sqlite3.connect(tmp_path / "lexicon.sqlite") as db:
        db.execute("DROP TABLE longest")
    old = Lexicon(tmp_path / "lexicon.sqlite", readonly=True)
    grown = Lexicon(tmp_path / "lexicon.sqlite")
    assert old.longest() is None and grown.longest() is None, "words without a bound: never measured"
    known = SEGMENT_KNOWN.__contains__
    for word in ("다중모달" * 6 + "뷁뷁뷁", "강화학습정책모델", "대규모언어모델병합기법"):
        assert old.segment(word, known) == segmenting.segment(word, known) == _reference_segment(word, old.lookup, known)
    old.close()
    grown.close()


def test_a_lexicon_without_the_bound_still_asks_no_long_prefix(segmenting: Lexicon, tmp_path: Path) -> None:
    """An old table's words were never measured: `UNKNOWN_LONGEST` bounds
    its prefixes instead, so 모델 × 500 asks linearly many strings (the
    unbounded search asked 250,000) and reads as before."""
    from searchkit.lexicon import UNKNOWN_LONGEST

    with sqlite3.connect(tmp_path / "lexicon.sqlite") as db:
        db.execute("DROP TABLE longest")
    old = Lexicon(tmp_path / "lexicon.sqlite", readonly=True)
    word = "모델" * 500
    counted = _Counted(old, SEGMENT_KNOWN.__contains__, limit=2 * UNKNOWN_LONGEST * len(word) // 2)
    assert old.longest() is None
    assert old.segment(word, counted.known) == [["모델", i, 2 * i, 2 * i + 2] for i in range(500)]
    old.close()


def test_a_query_of_words_read_as_no_term_searches_the_index_terms_they_are(tmp_path: Path) -> None:
    """Kiwi read 깊이 as the adverb (no term) more often than as the noun
    depth: typed alone it was "no searchable words", and "단안 깊이"
    searched 단안 alone, though papers hold the term 깊이. Such a word is
    searched as itself when it is the text's one word, or when the texts
    read it so at least a quarter of the time; otherwise it stays
    unsearched, beside other words or not (두 가지 searched 가지치기's
    가지). A one-syllable word (이, "this") and a word that is no index
    term never count."""
    lex = Lexicon(tmp_path / "lexicon.sqlite")
    lex.add([("깊이 추정 이 모두 가지 방법 직접", [Term("추정", 1, 3, 5), Term("방법", 5, 14, 16)])])
    lex.add([("깊이 직접", [])] * 2 + [("깊이", [Term("깊이", 0, 0, 2)])] * 2 + [("직접", [Term("직접", 0, 0, 2)])]
            + [("직접", [])])
    known = {"깊이", "추정", "이", "가지", "방법", "직접"}.__contains__
    assert lex.readings(["깊이", "직접"]) == {"깊이": [([], 3), ([["깊이", 0, 0, 2]], 2)],
                                            "직접": [([], 4), ([["직접", 0, 0, 2]], 1)]}
    assert lex.analyse("깊이", known) == [Term("깊이", 0, 0, 2)]
    assert [t.text for t in lex.analyse("이 깊이", known)] == [GAP, "깊이"]  # read so 2 times in 5; 이 a position
    assert [t.text for t in lex.analyse("깊이 추정", known)] == ["깊이", "추정"]
    assert [t.text for t in lex.analyse("직접 추정", known)] == [GAP, "추정"]  # 1 in 5: under a quarter
    assert [t.text for t in lex.analyse("직접", known)] == ["직접"]  # alone
    assert [t.text for t in lex.analyse("두 가지 방법", known)] == [GAP, GAP, "방법"]
    assert [t.text for t in lex.analyse("두 가지", known)] == [GAP, GAP]  # never read as itself: not searched
    assert [t.text for t in lex.analyse("이 모두", known)] == [GAP, GAP]
    lex.close()


def test_a_word_the_texts_also_read_as_itself_is_searched_so_beside_its_reading(tmp_path: Path) -> None:
    """Kiwi read 커버리지 (coverage) as 크 ("big") in three texts of the
    shared corpus's four, and 이산 (discrete) as 산: the query searched
    only that, and found every paper saying 크게. A word the texts read as
    itself at least a quarter of the time is searched as itself too, its
    commonest reading beside (one part of either); under a quarter, or
    never, it is read as before."""
    from searchkit.query import word_parts

    lex = Lexicon(tmp_path / "lexicon.sqlite")
    lex.add([("커버리지", [Term("크", 0, 0, 1)])] * 3 + [("커버리지", [Term("커버리지", 0, 0, 4)])]
            + [("모델을", [Term("모델", 0, 0, 2)])] * 5 + [("모델을", [Term("모델을", 0, 0, 3)])]
            + [("데이터셋", [Term("데이터", 0, 0, 3), Term("셋", 1, 3, 4)])] * 2 + [("데이터셋", [Term("데이터셋", 0, 0, 4)])] * 2)
    analysed = lex.analyse("커버리지 모델을 데이터셋")
    assert analysed == [Term("커버리지", 0, 0, 4), Term("크", 0, 0, 1), Term("모델", 1, 5, 7),
                        Term("데이터셋", 2, 9, 13), Term("데이터", 2, 9, 12), Term("셋", 3, 12, 13)]
    parts = word_parts("커버리지 모델을 데이터셋", analysed)
    assert [p.alternatives for p in parts] == [(("커버리지",), ("크",)), (("모델",),), (("데이터셋",), ("데이터", "셋"))]
    assert lex.analyse("모델을") == [Term("모델", 0, 0, 2)]  # read so once in six: under a quarter
    lex.close()


def _entries(index_dir: Path) -> list[tuple[str, list]]:
    import searchkit

    with searchkit.open_index(index_dir) as index:
        return list(index._lexicon.entries())


def test_pieces_count_how_often_a_term_stands_glued_inside_a_word() -> None:
    """A term is glued where it touches another Hangul term of two
    syllables or more in an all-Hangul word form; the counts are of texts."""
    counts = {
        "프레임워크를": {(("프레임", 0, 0, 3), ("워크", 1, 3, 5)): 4},
        "프레임": {(("프레임", 0, 0, 3),): 1},
        "경량화": {(("경량", 0, 0, 2), ("화", 1, 2, 3)): 2, (("경량화", 0, 0, 3),): 0},
        "LLM프레임워크": {(("llm", 0, 0, 3), ("프레임", 1, 3, 6), ("워크", 2, 6, 8)): 9},  # not all Hangul: its lower case is recorded too
        "프레임,워크": {(("프레임", 0, 0, 3), ("워크", 1, 4, 6)): 7},  # not one Hangul word
    }
    assert piece_counts(counts) == {"프레임": [4, 5], "워크": [4, 4], "경량": [0, 2], "화": [2, 2]}
    assert merged_pieces({"워크": [4, 4], "셋": [1, 1]}, {"워크": [-1, -1], "셋": [-1, -1], "링": [3, 3]}) == {
        "워크": [3, 3], "링": [3, 3]}
    assert [is_sticky(g, n) for g, n in ((10, 10), (8, 10), (7, 10), (9, 9), (0, 0))] == [True, True, False, False, False]


def test_sticky_terms_are_read_from_the_table_and_an_old_table_has_none(tmp_path: Path) -> None:
    lexicon = Lexicon(tmp_path / "lexicon.sqlite")
    lexicon.add([("프레임워크 프레임워크를 모델", [Term("프레임", 0, 0, 3), Term("워크", 1, 3, 5), Term("프레임", 2, 6, 9),
                                          Term("워크", 3, 9, 11), Term("모델", 4, 13, 15)])] * 5)
    # one paper's spelling decides nothing: its three forms in one text count three, under STICKY_MIN
    lexicon.add([("대조학습 대조학습을 대조학습의", [Term("대조", 0, 0, 2), Term("학습", 1, 2, 4), Term("대조", 2, 5, 7),
                                          Term("학습", 3, 7, 9), Term("대조", 4, 11, 13), Term("학습", 5, 13, 15)])])
    assert lexicon.sticky(["프레임", "워크", "모델", "대조"]) == {"프레임", "워크"}
    assert lexicon.sticky_terms() == ["워크", "프레임"]
    lexicon._db.execute("UPDATE pieces SET glued = 'x' WHERE term = '워크'")  # a garbled row is damage, said
    with pytest.raises(IndexCorruptError, match="damaged"):
        lexicon.sticky(["워크"])
    lexicon._db.execute("DROP TABLE pieces")  # an index of before kiwi-6
    assert lexicon.sticky(["워크"]) == set() and lexicon.sticky_terms() == []
    lexicon.close()


def test_an_index_that_lost_its_pieces_table_is_damaged_not_added_to(tiny_copy: tuple[Path, Path]) -> None:
    """A reindex adds the new posts' counts to the live generation's copy:
    a table that lost its pieces would be counted from the new posts only
    (a review's find: 상관 sticky on a part of the corpus). It is damage,
    said with its repair, and the previous content keeps answering."""
    import sqlite3

    import searchkit

    corpus, index = tiny_copy
    live = index / (index / "CURRENT").read_text(encoding="utf-8").strip()
    with sqlite3.connect(live / "lexicon.sqlite") as db:
        db.execute("DROP TABLE pieces")
    post = sorted(corpus.glob("*.md"))[0]
    post.write_text(post.read_text(encoding="utf-8") + "\n추가 문장이다.\n", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="reindex --full"):
        searchkit.reindex(corpus, index)
    with searchkit.open_index(index) as before:
        assert before.search("로봇").total > 0
    assert searchkit.reindex(corpus, index, full=True).full


def test_an_incremental_reindex_records_the_words_a_full_one_does(tmp_path: Path) -> None:
    """The lexicon decides how a query is read, so it must not depend on
    the build's history: a word kept the reading of the first build that
    saw it, and removed posts' words stayed (사실 unsearchable, 디코딩
    read otherwise, on the shared corpus). Posts added, edited and removed
    step by step must leave the table a full build of the result writes."""
    import shutil

    import searchkit

    from .conftest import DEFAULT_CORPUS

    posts = sorted(DEFAULT_CORPUS.glob("*.md"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for post in posts[:3]:
        shutil.copy(post, corpus)
    searchkit.reindex(corpus, tmp_path / "index")
    for post in posts[3:]:
        shutil.copy(post, corpus)
    (corpus / posts[0].name).unlink()
    edited = corpus / posts[1].name
    edited.write_text(edited.read_text(encoding="utf-8").replace("모델", "모형"), encoding="utf-8")
    report = searchkit.reindex(corpus, tmp_path / "index")
    assert (report.added, report.updated, report.removed) == (2, 1, 1)
    searchkit.reindex(corpus, tmp_path / "full")
    incremental, full = _entries(tmp_path / "index"), _entries(tmp_path / "full")
    assert len(full) > 1000
    assert incremental == full
    pieces = _pieces(tmp_path / "full")
    assert _pieces(tmp_path / "index") == pieces and any(glued for _, glued, _ in pieces)


def _pieces(index_dir: Path) -> list[tuple[str, int, int]]:
    import searchkit

    with searchkit.open_index(index_dir) as index:
        return index._lexicon._db.execute("SELECT term, glued, total FROM pieces ORDER BY term").fetchall()


def test_the_bound_covers_every_hangul_word_and_term_recorded(tmp_path: Path) -> None:
    lex = Lexicon(tmp_path / "lexicon.sqlite")
    lex.add([("가나 GPT다라마바사", [Term("가나", 0, 0, 2), Term("gpt", 1, 3, 6), Term("다라마바사", 2, 6, 11)])])
    assert lex.longest() == 5, "a term longer than any all-Hangul word"
    lex.add([("가나다라마바사아", [Term("가나", 0, 0, 2)])])
    lex.close()
    again = Lexicon(tmp_path / "lexicon.sqlite", readonly=True)
    assert again.longest() == 8
    again.close()


def _corpus_words(index) -> list[str]:
    """Words to segment: every Hangul word of the judged queries, and
    recorded words run together with each other and with endings and
    syllables no word has (deterministic)."""
    queries = json.loads(QUERIES.read_text(encoding="utf-8"))
    words = sorted({w for q in queries for w in re.findall(r"[\uac00-\ud7a3]{3,}", q["query"])})
    recorded = sorted(w for w, _ in index._lexicon.entries(hangul=True) if re.fullmatch(r"[\uac00-\ud7a3]{2,6}", w))
    rng = random.Random(7)
    endings = ["", "을", "된다", "에서", "으로", "뷁", "하는가", "뷁뷁뷁"]
    for _ in range(1500):
        words.append("".join(rng.sample(recorded, rng.randint(2, 4))) + rng.choice(endings))
    return words


def test_segmentation_is_unchanged_on_the_judged_queries_and_corpus_words(default_index) -> None:
    """The ranking must not move: every judged query's Hangul words and
    1500 runs of the default corpus's recorded words segment exactly as
    the exhaustive search did, splits after backtracking among them."""
    lex, known = default_index._lexicon, default_index.known
    assert lex.longest() is not None
    words = _corpus_words(default_index)
    got = [lex.segment(w, known) for w in words]
    want = [_reference_segment(w, lex.lookup, known) for w in words]
    assert [(w, g) for w, g, r in zip(words, got, want) if g != r] == []
    assert sum(g is not None for g in got) > 500, "most runs of recorded words segment"
