"""Stored offsets → matches → fragments, and their rich rendering."""

from __future__ import annotations

from rich.console import Console
from rich.text import Span

from searchkit.analysis import analyse
from searchkit.highlight import WINDOW, find_matches, fragment, merge
from searchkit.hits import Fragment
from searchkit.terminal.render import THEME, highlighted


def stored(text: str) -> list[tuple]:
    """A field's terms as the indexer stores them."""
    return [tuple(t) for t in analyse(text)]


def surfaces(text: str, spans) -> list[str]:
    return [text[s:e] for s, e in spans]


def test_find_matches_for_terms() -> None:
    text = "확산 모델은 모델 크기를 줄인다."
    spans = find_matches(stored(text), {"모델"})
    assert surfaces(text, spans) == ["모델", "모델"]


def test_find_matches_for_stemmed_and_folded_terms() -> None:
    text = "Diffusion Models beat GANs"
    assert surfaces(text, find_matches(stored(text), {"model", "diffusion"})) == ["Diffusion", "Models"]


def test_find_matches_for_a_phrase_only_in_order() -> None:
    text = "강화 학습을 쓰고, 학습을 강화한다. 강화학습도 있다."
    spans = find_matches(stored(text), set(), [("강화", "학습")])
    assert surfaces(text, spans) == ["강화 학습", "강화학습"]


def test_find_matches_for_a_name_and_its_parts_merge() -> None:
    text = "GPT-4o와 GPT 비교"
    spans = find_matches(stored(text), {"gpt-4o", "gpt"}, [("gpt", "4", "o")])
    assert surfaces(text, spans) == ["GPT-4o", "GPT"]


def test_find_matches_nothing() -> None:
    assert find_matches(stored("확산 모델"), {"로봇"}, [("강화", "학습")]) == []
    assert find_matches((), {"로봇"}) == []


def test_merge_sorts_and_joins_overlaps() -> None:
    assert merge([(10, 12), (0, 6), (0, 3), (4, 5), (6, 8)]) == [(0, 8), (10, 12)]
    assert merge([]) == []


def test_short_text_is_its_own_fragment() -> None:
    frag = fragment("확산 모델", [(0, 2), (3, 5)])
    assert frag == Fragment("확산 모델", ((0, 2), (3, 5)))


def long_text() -> str:
    head = "서론 문장은 여기서 시작하며 검색어와 관계없는 내용을 길게 늘어놓는다. " * 6
    tail = " 결론 부분도 역시 검색어와 관계없는 설명으로 채워져 있다." * 6
    return head + "핵심은 확산 모델의 잡음 일정을 새로 학습하는 것이다." + tail


def test_long_text_is_cut_around_the_matches_with_ellipses() -> None:
    text = long_text()
    spans = find_matches(stored(text), {"확산", "모델"})
    frag = fragment(text, spans)
    assert frag.text.startswith("…") and frag.text.endswith("…")
    assert len(frag.text) <= WINDOW + 2 + 2 * 20  # window, two ellipses, word ends
    assert surfaces(frag.text, frag.spans) == ["확산", "모델"]
    assert frag.text.strip("…") in text.replace("\n", " ")


def test_fragment_at_the_start_has_no_leading_ellipsis() -> None:
    text = "확산 모델을 제안한다. " + "관계없는 설명이 이어진다. " * 20
    frag = fragment(text, find_matches(stored(text), {"확산"}))
    assert not frag.text.startswith("…") and frag.text.endswith("…")
    assert surfaces(frag.text, frag.spans) == ["확산"]


def test_fragment_at_the_end_has_no_trailing_ellipsis() -> None:
    text = "관계없는 설명이 이어진다. " * 20 + "마지막에 확산 모델"
    frag = fragment(text, find_matches(stored(text), {"확산", "모델"}))
    assert frag.text.startswith("…") and not frag.text.endswith("…")
    assert surfaces(frag.text, frag.spans) == ["확산", "모델"]


def test_fragment_picks_the_densest_window() -> None:
    text = "확산 하나. " + "관계없는 설명이 이어진다. " * 20 + "확산 과정과 확산 단계와 확산 일정을 다룬다." + " 끝맺는 말이다." * 20
    spans = find_matches(stored(text), {"확산"})
    assert len(spans) == 4
    frag = fragment(text, spans)
    assert surfaces(frag.text, frag.spans) == ["확산"] * 3
    assert "확산 과정과 확산 단계와 확산 일정" in frag.text and "확산 하나" not in frag.text


def test_fragment_turns_newlines_into_spaces_without_moving_spans() -> None:
    text = "\n".join(["관계없는 줄이다."] * 20 + ["확산 모델이 여기 있다."] + ["관계없는 줄이다."] * 20)
    frag = fragment(text, find_matches(stored(text), {"확산"}))
    assert "\n" not in frag.text
    assert surfaces(frag.text, frag.spans) == ["확산"]


def test_small_window_keeps_the_match() -> None:
    text = "가 " + "나" * 20 + " 확산 " + "다" * 60
    spans = find_matches(stored(text), {"확산"})
    assert surfaces(text, spans) == ["확산"]
    frag = fragment(text, spans, window=20)
    assert surfaces(frag.text, frag.spans) == ["확산"]


def test_marked_wraps_each_match() -> None:
    frag = Fragment("…확산 모델과 강화 학습…", ((1, 3), (4, 6), (8, 13)))
    assert frag.marked() == "…**확산** **모델**과 **강화 학습**…"
    assert frag.marked("[", "]") == "…[확산] [모델]과 [강화 학습]…"
    assert Fragment("매치 없음", ()).marked() == "매치 없음"


def test_rich_text_styles_exactly_the_spans() -> None:
    frag = Fragment("…[bold]확산[/bold] 모델…", ((7, 9), (17, 19)))
    text = highlighted(frag)
    assert text.plain == frag.text  # post text is never parsed as markup
    assert text.spans == [Span(7, 9, "search.match"), Span(17, 19, "search.match")]
    assert [text.plain[s.start : s.end] for s in text.spans] == ["확산", "모델"]


def test_match_style_is_named_in_the_theme() -> None:
    console = Console(theme=THEME)
    assert str(console.get_style("search.match")) == "bold yellow"
