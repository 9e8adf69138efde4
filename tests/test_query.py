"""Query text → parts, phrases and arXiv ids; bad queries raise QueryError."""

from __future__ import annotations

import pytest

from searchkit.analysis import Term, analyse
from searchkit.errors import InputError, QueryError
from searchkit.query import (
    MAX_QUERY,
    PHRASE_READINGS,
    Part,
    check_query,
    parse_query,
    phrase_readings,
    read_phrase,
    word_parts,
)
from searchkit.schema import SECTION_GROUPS, TEXT_FIELDS, resolve_sections


def parse(text: str):
    return parse_query(text, analyse)


def test_words_become_optional_parts() -> None:
    parsed = parse("확산 모델을")
    assert parsed.parts == (
        Part((("확산",),), label="확산"),
        Part((("모델",),), label="모델"),
    )
    assert parsed.terms == {"확산", "모델"}
    assert parsed.phrases == []
    assert parsed.arxiv_ids == ()


def test_balanced_quotes_make_a_required_phrase() -> None:
    parsed = parse('"강화 학습" 보상')
    assert parsed.parts[0] == Part((("강화", "학습"),), required=True, label="강화 학습")
    assert parsed.parts[1] == Part((("보상",),), label="보상")
    assert parsed.phrases == [("강화", "학습")]
    assert parsed.text == '"강화 학습" 보상'


def test_unbalanced_quote_is_just_text() -> None:
    parsed = parse('"강화 학습 보상')
    assert all(not part.required for part in parsed.parts)
    assert [part.alternatives for part in parsed.parts] == [(("강화",),), (("학습",),), (("보상",),)]


def test_two_phrases_and_a_stray_quote() -> None:
    parsed = parse('"확산 모델" "강화 학습" 보상"')
    assert [p.alternatives for p in parsed.parts if p.required] == [(("확산", "모델"),), (("강화", "학습"),)]
    assert [p.alternatives for p in parsed.parts if not p.required] == [(("보상",),)]


def test_phrase_of_a_name_uses_its_parts() -> None:
    parsed = parse('"GPT-4o 평가"')
    assert parsed.parts[0].alternatives == (("gpt", "4", "o", "평가"),)


def test_empty_quotes_add_nothing() -> None:
    assert parse('"" 모델').parts == parse("모델").parts
    with pytest.raises(QueryError, match="no searchable words"):
        parse('""')


def test_names_match_whole_or_by_parts() -> None:
    [part] = parse("GPT-4o").parts
    assert part.alternatives == (("gpt-4o",), ("gpt", "4", "o"))
    assert part.label == "GPT-4o"


def test_a_prefixed_noun_is_searched_whole_and_a_word_read_beside_either_way() -> None:
    """비지도 학습 found every 지도 학습 (supervised) paper: the prefixed
    word is searched alone. A word searched beside its commonest reading
    (이산, discrete, mostly read as 산) keeps both: 이 is no prefix."""
    prefixed = [Term("비지도", 0, 0, 3), Term("지도", 0, 1, 3), Term("학습", 1, 4, 6)]
    assert [p.alternatives for p in word_parts("비지도 학습", prefixed)] == [(("비지도",),), (("학습",),)]
    glued = [Term("데이터", 0, 0, 3), Term("재구성", 1, 3, 6), Term("구성", 1, 4, 6)]  # review: 구성 was a part
    assert [p.alternatives for p in word_parts("데이터재구성", glued)] == [(("데이터",),), (("재구성",),)]
    beside = [Term("이산", 0, 0, 2), Term("산", 0, 1, 2)]
    assert [p.alternatives for p in word_parts("이산", beside)] == [(("이산",), ("산",))]


def test_word_parts_dedupes_repeated_words() -> None:
    text = "모델 모델 확산"
    assert [p.alternatives for p in word_parts(text, analyse(text))] == [(("모델",),), (("확산",),)]


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("2510.00515", ("2510.00515",)),
        ("2510.00515v2", ("2510.00515",)),
        ("arXiv:2508.21824v1 확산", ("2508.21824",)),
        ("2510.00515 2509.22033v3 2510.00515", ("2510.00515", "2509.22033")),
        ("1.5 버전과 12025.00515", ()),
        ("２５０９.１７７６５ 확산", ("2509.17765",)),  # full-width digits, read NFKC as `show` reads them
        ("２５０９．１７７６５ｖ２", ("2509.17765",)),
        ("٢٥٠٩.١٧٧٦٥", ()),  # other digits stay words (NFKC keeps them), on the page too
    ],
)
def test_arxiv_ids(query: str, ids: tuple[str, ...]) -> None:
    assert parse(query).arxiv_ids == ids


@pytest.mark.parametrize("query", ["arXiv:2510.00515", "https://arxiv.org/abs/2510.00515v2",
                                   "http://www.arxiv.org/pdf/2510.00515.pdf", "ARXIV.ORG/html/2510.00515"])
def test_an_id_pasted_with_its_prefix_or_link_leaves_no_words(query: str) -> None:
    """https, arxiv.org/abs and pdf were searched as words: a paper found by
    its link covered half of the query's words and scored 500, not 1000."""
    parsed = parse(query)
    assert parsed.arxiv_ids == ("2510.00515",) and parsed.parts == ()


def test_arxiv_id_ending_a_sentence() -> None:
    assert parse("2510.00515v2.").arxiv_ids == ("2510.00515",)  # passes: the version ends the match
    assert parse("논문 2510.00515.").arxiv_ids == ("2510.00515",)


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "\x00\x01\x7f", "\u200b\u200e", " \x1b "])
def test_empty_queries_raise(query: str) -> None:
    with pytest.raises(QueryError, match="empty query"):
        parse(query)


def test_query_error_is_an_input_error() -> None:
    assert issubclass(QueryError, InputError)


def test_control_characters_become_spaces() -> None:
    assert check_query("확산\x00모델\n") == "확산 모델"
    assert [p.label for p in parse("확산\x00모델").parts] == ["확산", "모델"]


def test_longest_query_is_accepted_and_one_more_character_is_not() -> None:
    assert check_query("가" * MAX_QUERY) == "가" * MAX_QUERY
    with pytest.raises(QueryError, match="too long: 1001 characters"):
        parse("가" * 1001)


def test_non_text_query_raises() -> None:
    with pytest.raises(QueryError, match="must be text"):
        check_query(None)  # type: ignore[arg-type]


def test_operators_and_field_prefixes_are_text() -> None:
    parsed = parse("title:확산 AND (모델) OR")
    assert {alt[0] for p in parsed.parts for alt in p.alternatives} >= {"확산", "모델"}


# Sections


def test_section_names_resolve_to_fields() -> None:
    assert resolve_sections(None) == TEXT_FIELDS
    assert resolve_sections([]) == TEXT_FIELDS
    assert resolve_sections(["introduction"]) == ("goal", "motivation", "contribution")
    assert resolve_sections(["Limitations "]) == ("limitations",)
    assert resolve_sections(["method", "title", "goal", "introduction"]) == (
        "title", "goal", "motivation", "contribution", "method",
    )


def test_unknown_section_lists_the_valid_ones() -> None:
    with pytest.raises(QueryError) as info:
        resolve_sections(["method", "abstract"])
    message = str(info.value)
    assert message.startswith("unknown section 'abstract'; valid sections: ")
    assert all(name in message for name in SECTION_GROUPS)
    assert "\n" not in message


def test_a_derivational_suffix_is_no_part_of_its_own(default_index) -> None:
    """경량화 is 경량 + 화 (XSN): 화 alone matched every paper holding the
    syllable anywhere (масштаб화 ranked first for 경량화)."""
    for text, expected in (("경량화", [("경량",)]), ("효율적 추론", [("효율",), ("추론",)])):
        parts = default_index.parse(text, expand=False).parts
        assert [p.alternatives[0] for p in parts] == expected


def test_a_pasted_query_is_composed_and_invisible_characters_dropped() -> None:
    """Decomposed Hangul (as some systems paste it) matched, but its
    expansions were labelled by jamo pieces (화 → diffusion); a zero-width
    space or soft hyphen inside a word made two words of it."""
    from unicodedata import normalize

    assert check_query(normalize("NFD", "확산 모델")) == "확산 모델"
    assert check_query("확\u200b산\u00ad모델\u200d") == "확산모델"
    assert check_query("\u1112\u116a\u00ad\u11a8산") == "확산"  # 확 in jamo, split by a soft hyphen
    assert check_query("확산\t모델\x07") == "확산 모델"


READINGS = {
    "멀티모달": [([["멀티", 0, 0, 2], ["모달", 1, 2, 4]], 161), ([["멀티모달", 0, 0, 4]], 14)],
    "대형": [([["대형", 0, 0, 2]], 192), ([["대", 0, 0, 1]], 39), ([], 1)],
    "모델": [([["모델", 0, 0, 2]], 702)],
    "다른": [([], 77), ([["다르", 0, 0, 2]], 20)],
    "gpt-4o": [([["gpt-4o", 0, 0, 6], ["gpt", 0, 0, 3], ["4o", 1, 4, 6]], 3)],
}


def lookup(words: list[str]) -> dict:
    return {w: READINGS[w] for w in words if w in READINGS}


def test_a_phrase_is_read_every_way_its_words_were_read_most_likely_first() -> None:
    assert phrase_readings("멀티모달 대형 모델", lookup) == [
        ("멀티", "모달", "대형", "모델"), ("멀티", "모달", "대", "모델"),
        ("멀티모달", "대형", "모델"), ("멀티모달", "대", "모델"),
    ]  # a reading of no term is left out: 대형 read as nothing would make the phrase 멀티모달 모델
    assert phrase_readings("GPT-4o 모델", lookup) == [("gpt", "4o", "모델")]  # names by their parts, as `plain`
    # a word mostly read as no term (다른) is tried so too: skipping it is its commonest reading
    assert phrase_readings("다른 대형 모델", lookup) == [
        ("대형", "모델"), ("다르", "대형", "모델"), ("대", "모델"), ("다르", "대", "모델")]


def test_a_phrase_with_an_unrecorded_word_or_of_one_word_has_no_other_reading() -> None:
    assert phrase_readings("대형 펭귄", lookup) == []  # the unrecorded word's reading would be a guess
    assert phrase_readings("대형", lookup) == []  # 대 alone would match any 대


def test_a_phrase_is_read_at_most_so_many_ways() -> None:
    many = {w: [([[f"{w}{i}", 0, 0, 1]], 10 - i) for i in range(4)] for w in "가나다"}
    read = phrase_readings("가 나 다", lambda words: {w: many[w] for w in words if w in many})
    assert len(read) == PHRASE_READINGS and read[0] == ("가0", "나0", "다0")


def test_a_quoted_phrase_matches_each_reading() -> None:
    parsed = parse_query('"대형 모델"', analyse, lambda text: read_phrase(text, analyse, lookup))
    assert parsed.parts[0].alternatives == (("대형", "모델"), ("대", "모델")) and parsed.parts[0].required


def test_a_word_split_into_a_piece_written_only_glued_is_one_part() -> None:
    """워크 stands only inside 프레임워크 (and 워크플로우): read apart, the
    query 프레임워크 matched every paper saying 프레임 (frame) and fired the
    frame expansion; 안전정렬's 정렬 is a word of its own and stays one."""
    framework = [Term("프레임", 0, 0, 3), Term("워크", 1, 3, 5)]
    assert [p.alternatives for p in word_parts("프레임워크", framework)] == [(("프레임",),), (("워크",),)]
    asked: list[tuple[str, ...]] = []

    def sticky(pieces):
        asked.append(tuple(pieces))
        return {"워크"} & set(pieces)

    parts = word_parts("프레임워크", framework, sticky)
    assert [(p.alternatives, p.label) for p in parts] == [((("프레임", "워크"),), "프레임워크")]
    safety = [Term("안전", 0, 0, 2), Term("정렬", 1, 2, 4)]
    assert [p.alternatives for p in word_parts("안전정렬", safety, sticky)] == [(("안전",),), (("정렬",),)]
    apart = [Term("프레임", 0, 0, 3), Term("워크", 1, 4, 6)]  # typed with a space: two words, asked nothing
    assert [p.alternatives for p in word_parts("프레임 워크", apart, sticky)] == [(("프레임",),), (("워크",),)]
    assert asked == [("프레임", "워크"), ("안전", "정렬")]
    # a sticky piece binds to its neighbour, not the whole run (a review's find: 멀티모달프레임워크
    # was one phrase of four pieces, which no text keeping 멀티모달 as one term matches)
    pieces = [Term("멀티", 0, 0, 2), Term("모달", 1, 2, 4), Term("프레임", 2, 4, 7), Term("워크", 3, 7, 9)]
    parts = word_parts("멀티모달프레임워크", pieces, lambda found: {"멀티", "모달", "워크"} & set(found))
    assert [(p.alternatives, p.label) for p in parts] == [((("멀티", "모달"),), "멀티모달"), ((("프레임", "워크"),), "프레임워크")]
    lone = [Term("자연", 0, 0, 2), Term("어", 1, 2, 3), Term("처리", 2, 3, 5)]
    assert [p.alternatives for p in word_parts("자연어처리", lone)] == [(("자연", "어"),), (("처리",),)]


def test_a_sticky_piece_keeps_its_word_together_in_a_search(default_index) -> None:
    """On the default corpus 워크 is written only inside 프레임워크: every
    paper the word finds writes 프레임워크 (or 프레임 워크), none only 프레임."""
    assert "워크" in default_index._lexicon.sticky_terms()
    assert [p.alternatives[0] for p in default_index.parse("프레임워크", expand=False).parts] == [("프레임", "워크")]
    assert [p.alternatives[0] for p in default_index.parse("프레임", expand=False).parts] == [("프레임",)]
    frames = {h.arxiv_id for h in default_index.search("프레임", limit=100, expand=False)}
    found = default_index.search("프레임워크", limit=100, expand=False)
    assert found and frames - {h.arxiv_id for h in found}, "some paper says 프레임 without 프레임워크"
    glued = default_index.search("멀티모달프레임워크", limit=100, expand=False)
    assert glued.total >= default_index.search("멀티모달 프레임워크", limit=100, expand=False).total > 0
    for hit in found:
        paper = default_index.paper(hit.arxiv_id)
        texts = [paper.title, *paper.sections.values(), *(t for copy in paper.copies.values() for t in copy.values())]
        assert any("프레임워크" in text or "프레임 워크" in text for text in texts), hit.arxiv_id
