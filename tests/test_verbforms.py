"""Verb forms the corpus never wrote are read as Kiwi reads them (`verbforms`)."""

from __future__ import annotations

from pathlib import Path

import pytest

import searchkit
from searchkit import analysis, verbforms
from searchkit.analysis import analyse, kiwi_version
from searchkit.lexicon import Lexicon, split_words
from searchkit.understand import tables


def test_the_shipped_table_is_made_from_the_verb_lines() -> None:
    """Whatever Kiwi is installed: a verb line added or removed without
    rebuilding the table (`python -m searchkit.verbforms`) is caught."""
    assert verbforms.table_header()[1] == verbforms.stems_digest(tables()[2])


def test_the_shipped_table_is_what_the_installed_kiwi_reads() -> None:
    """The table holds the indexer's reading of every form in its phrase:
    rebuilt here with the installed Kiwi."""
    if kiwi_version() != verbforms.table_header()[0]:
        pytest.skip(f"the table was read by kiwipiepy {verbforms.table_header()[0]}, this is {kiwi_version()}: "
                    "run python -m searchkit.verbforms")
    forms, dead = verbforms.generate(tables()[2])
    assert dict(verbforms.all_readings()) == forms
    assert {"고르는", "골라", "고쳐", "바꿔", "막는", "지우려면", "줄일"} <= forms.keys()
    assert "판별하" in dead and "고르" not in dead  # Kiwi reads 판별하고 as 판별 + 하: no verb of its own


def test_a_form_is_read_in_a_phrase_as_the_lexicon_records_its_word() -> None:
    """Kiwi reads a word by its context: alone, 줄일 was 일 (work) and
    이끄는 was 끄; in a query's phrase they are 줄이 and 이끌. A form
    whose reading has no stem is left to the corpus's reading."""
    forms, _ = verbforms.generate(["고르", "줄이", "이끌", "빠르", "듣"])
    assert forms["골라"] == [["고르", 0, 0, 1]] and forms["빨라"] == [["빠르", 0, 0, 1]]
    assert forms["줄일"] == [["줄이", 0, 0, 2]] and forms["이끄는"] == [["이끌", 0, 0, 2]]
    assert "들어" not in forms  # 들 (enter) in the phrase: not the table's to say
    for ending, tag in verbforms.ENDINGS:
        form = next((f for f in forms if f.startswith("고") and f == analysis.kiwi().join([("고르", "VV"), (ending, tag)])),
                    None)
        if form is None:
            continue
        before, after = verbforms.FRAMES[tag]
        text = before + form + after
        assert forms[form] == [list(item) for item in split_words(text, analyse(text))[form]], form


def test_a_whole_word_falls_back_on_the_table_and_the_corpus_reading_wins(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    lex = Lexicon(tmp_path / "lexicon.sqlite")
    text = "그 말을 들어 보았다. 에이전트 평가"  # the texts read this 들어 as 들 (enter), the table as 듣 (hear)
    lex.add([(text, analyse(text))])
    recorded = lex.lookup(["들어"])["들어"]
    assert recorded == [list(item) for item in split_words(text, analyse(text))["들어"]]
    calls: list[str] = []
    monkeypatch.setattr(analysis, "kiwi", lambda: calls.append("kiwi"))
    found = lex.lookup_whole(["고르는", "들어", "없는말이다"])
    assert found["고르는"] == [["고르", 0, 0, 2]] and found["들어"] == recorded and "없는말이다" not in found
    assert "고르는" not in lex.lookup(["고르는"])  # what the texts wrote, for pieces of words
    assert [t.text for t in lex.analyse("데이터를 골라 고치려면")] == ["데이터", "고르", "고치"]
    assert calls == []
    lex.close()


@pytest.mark.parametrize("text", ["에이전트들을 평가", "뷁뷁 에이전트들을 평가", "뷁들을 에이전트 평가"])
def test_a_verb_form_is_never_a_piece_of_another_word(tmp_path: Path, text: str) -> None:
    """들을 alone is 듣 (hear) + 을; after a noun, the plural 들 and a
    particle: 에이전트들을 read as 에이전트 + 듣 once segmenting, and the
    stand-in, looked the rest up in the table."""
    lex = Lexicon(tmp_path / "lexicon.sqlite")
    corpus = "에이전트 평가를 한다. 모델들을 비교한다."
    lex.add([(corpus, analyse(corpus))])
    terms = [t.text for t in lex.analyse(text, lambda term: term in ("에이전트", "평가"))]
    assert "듣" not in terms and {"에이전트", "평가"} <= set(terms), terms  # 뷁들을: 뷁 + 들 + 을, or kept whole
    lex.close()


def test_a_verb_phrase_fires_its_verb_line(default_index: searchkit.Index) -> None:
    """고르는 is in no default post: read whole it matched nothing and 고르 →
    선택, 선별 never fired; as Kiwi reads it, it does, with an unknown word
    beside it (which sends every word to the stand-in) too."""
    for text in ("학습 데이터를 고르는", "뷁뷁 데이터를 고르는"):
        parsed = default_index.parse(text)
        assert ("고르",) in {alt for part in parsed.parts for alt in part.alternatives}, text
        assert {e.target for e in parsed.expansions} >= {"선택", "선별"}, text
