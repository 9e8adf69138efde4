"""Word forms → terms by look-up: the lexicon must agree with Kiwi."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchkit import analysis
from searchkit.analysis import Term, analyse
from searchkit.lexicon import Lexicon, split_words

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


def test_split_words_records_words_without_terms() -> None:
    text = "확산 및 모델"
    assert split_words(text, analyse(text))["및"] == []


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
