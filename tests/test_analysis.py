"""Text → terms: Kiwi analysis, offsets, names, and the Whoosh adapter."""

from __future__ import annotations

import pickle
import unicodedata

import pytest
from whoosh.fields import TEXT

from searchkit import analysis
from searchkit.analysis import GAP, Term, analyse, analyse_many, normalise
from searchkit.backends.whoosh.schema import KiwiTokenizer, Preanalysed, build_schema, korean_analyzer
from searchkit.corpus import find_posts, parse_post

from .conftest import DEFAULT_CORPUS


def assert_token(term: Term, source: str, text: str, pos: int, start: int, end: int, surface: str | None = None) -> None:
    """Like tantivy's ``assert_token``: the term, its position and offsets,
    and the characters the offsets point at in ``source``."""
    assert (term.text, term.pos, term.start, term.end) == (text, pos, start, end), term
    assert source[start:end] == (text if surface is None else surface)


def texts(source: str) -> list[str]:
    return [t.text for t in analyse(source)]


def test_particles_and_endings_are_dropped() -> None:
    source = "편향을 완화하는 방법"
    terms = analyse(source)
    assert len(terms) == 3
    assert_token(terms[0], source, "편향", 0, 0, 2)
    assert_token(terms[1], source, "완화", 1, 4, 6)
    assert_token(terms[2], source, "방법", 2, 9, 11)


def test_english_is_lower_cased_and_stemmed() -> None:
    source = "Large Language Models"
    terms = analyse(source)
    assert_token(terms[2], source, "model", 2, 15, 21, surface="Models")
    assert texts("models model Model MODELS") == ["model"] * 4
    assert normalise("Diffusion") == "diffusion" == normalise("diffusions")
    assert normalise("training") == "train" == normalise("trained")


def test_light_stemming_does_not_conflate_derived_words() -> None:
    # Porter made all three "gener", so the glossary pivoted 생성 to 일반화
    assert len({normalise(w) for w in ("generation", "generator", "generalization")}) == 3
    assert normalise("transformer") != normalise("transformation")
    assert [normalise(w) for w in ("bias", "series", "focus", "studies")] == ["bias", "series", "focus", "study"]


def test_english_plural_meets_singular_and_short_words_stay() -> None:
    assert normalise("LLMs") == "llm" == normalise("LLM")
    assert texts("RL and the GPUs") == ["rl", "gpu"], "English stop words are dropped"


def test_korean_offsets_land_on_the_words() -> None:
    source = "본 논문은 토큰 압축 시 발생하는 학습 난이도를 완화한다."
    got = [(t.text, source[t.start : t.end]) for t in analyse(source)]
    assert got == [(GAP, "본"), ("논문", "논문"), ("토큰", "토큰"), ("압축", "압축"), (GAP, "시"), ("발생", "발생"),
                   ("학습", "학습"), ("난이도", "난이도"), ("완화", "완화")]


def test_mixed_korean_english_offsets() -> None:
    source = "확산 모델(Diffusion Model)을 사용"
    terms = analyse(source)
    assert_token(terms[0], source, "확산", 0, 0, 2)
    assert_token(terms[1], source, "모델", 1, 3, 5)
    assert_token(terms[2], source, "diffusion", 2, 6, 15, surface="Diffusion")
    assert_token(terms[3], source, "model", 3, 16, 21, surface="Model")
    assert_token(terms[4], source, "사용", 4, 24, 26)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("시각·공간적 판단", [("시각", "시각"), ("공간", "공간"), ("판단", "판단")]),
        ("top-𝑘 문서", [("top", "top"), ("k", "𝑘"), ("문서", "문서")]),
        ("모델은 <Parallel>, <Path> 태그를", [("모델", "모델"), ("parallel", "Parallel"), ("path", "Path"), ("태그", "태그")]),
        ("POPE, V\\*, TextVQA", [("pope", "POPE"), ("v", "V"), ("textvqa", "TextVQA")]),
        ("O(m²)에서", [("o", "O"), ("m2", "m²")]),
    ],
)
def test_odd_characters_keep_offsets(source: str, expected: list[tuple[str, str]]) -> None:
    assert [(t.text, source[t.start : t.end]) for t in analyse(source)] == expected


def test_math_letters_fold_to_plain_letters() -> None:
    # Kiwi tags 𝑘 as a symbol; NFKC turns it into k so "top-k" finds it.
    [_, k] = analyse("top-𝑘")
    assert k.text == "k"


def test_names_are_kept_whole_and_by_parts() -> None:
    source = "GPT-4o와 Qwen2.5-VL을 비교했다"
    terms = analyse(source)
    assert_token(terms[0], source, "gpt-4o", 0, 0, 6, surface="GPT-4o")
    assert_token(terms[1], source, "gpt", 0, 0, 3, surface="GPT")
    assert_token(terms[2], source, "4", 1, 4, 5)
    assert_token(terms[3], source, "o", 2, 5, 6)
    assert_token(terms[4], source, "qwen2.5-vl", 3, 8, 18, surface="Qwen2.5-VL")
    assert_token(terms[5], source, "qwen", 3, 8, 12, surface="Qwen")
    assert_token(terms[6], source, "2.5", 4, 12, 15)
    assert_token(terms[7], source, "vl", 5, 16, 18, surface="VL")
    assert_token(terms[8], source, "비교", 6, 20, 22)


def test_a_prefixed_noun_is_kept_whole_beside_its_noun() -> None:
    """Kiwi drops noun prefixes (XPN): 비지도 (unsupervised) was 지도
    (supervised), 무손실 (lossless) 손실. The prefixed word is a term of
    its own at the noun's position, before it, as a whole name is; under
    two prefixes, from each (초고해상도 is 고해상도 too: review)."""
    source = "비지도 학습과 초고해상도 영상"
    terms = analyse(source)
    assert [(t.text, t.pos, t.start, t.end) for t in terms] == [
        ("비지도", 0, 0, 3), ("지도", 0, 1, 3), ("학습", 1, 4, 6), ("초고해상도", 2, 8, 13), ("고해상도", 2, 9, 13),
        ("해상도", 2, 10, 13), ("영상", 3, 14, 16)]


def test_single_word_names_get_no_duplicate() -> None:
    assert texts("TextVQA 벤치마크") == ["textvqa", "벤치마크"]


@pytest.mark.parametrize(
    ("joined", "spaced"),
    [("강화학습", "강화 학습"), ("언어모델", "언어 모델"), ("확산모델", "확산 모델")],
)
def test_spacing_variants_give_the_same_terms(joined: str, spaced: str) -> None:
    assert texts(joined) == texts(spaced)
    assert [t.pos for t in analyse(joined)] == [t.pos for t in analyse(spaced)] == [0, 1]


def test_dependent_nouns_are_dropped() -> None:
    assert "것" not in texts("목표로 하는 것이다")
    assert "수" not in texts("사용할 수 있다")


def test_empty_and_symbol_only_text() -> None:
    assert analyse("") == []
    assert analyse("!!! ...") == []
    assert analyse_many([]) == []


def test_analyse_many_matches_analyse_one_by_one() -> None:
    sources = ["확산 모델", "GPT-4o 평가", "", "강화학습"]
    assert analyse_many(sources) == [analyse(s) for s in sources]


# Whoosh adapter


def test_tokenizer_through_a_whoosh_field() -> None:
    field = TEXT(analyzer=korean_analyzer(), phrase=True)
    source = "편향을 완화하는 GPT-4o"
    tokens = [(t.text, t.pos, t.startchar, t.endchar) for t in field.tokenize(source, positions=True, chars=True)]
    assert tokens == [("편향", 0, 0, 2), ("완화", 1, 4, 6), ("gpt-4o", 2, 9, 15), ("gpt", 2, 9, 12),
                      ("4", 3, 13, 14), ("o", 4, 14, 15)]
    assert [source[s:e] for _, _, s, e in tokens] == ["편향", "완화", "GPT-4o", "GPT", "4", "o"]
    assert list(field.process_text("강화학습을 한다")) == ["강화", "학습", "하"]


def test_tokenizer_honours_start_pos_and_start_char() -> None:
    tokens = KiwiTokenizer()("확산 모델", positions=True, chars=True, start_pos=10, start_char=100)
    assert [(t.text, t.pos, t.startchar, t.endchar) for t in tokens] == [("확산", 10, 100, 102), ("모델", 11, 103, 105)]


def test_preanalysed_text_is_not_analysed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(text: str) -> list[Term]:
        raise AssertionError(f"Kiwi called for {text!r}")

    monkeypatch.setattr(analysis, "analyse", fail)
    value = Preanalysed("아무 글", [Term("미리", 0, 0, 2), Term("분석", 1, 3, 4)])
    assert value == "아무 글"
    tokens = KiwiTokenizer()(value, positions=True, chars=True)
    assert [(t.text, t.pos, t.startchar, t.endchar) for t in tokens] == [("미리", 0, 0, 2), ("분석", 1, 3, 4)]


def test_tokenizer_survives_pickle() -> None:
    tokenizer = pickle.loads(pickle.dumps(KiwiTokenizer()))
    assert tokenizer == KiwiTokenizer()
    assert [t.text for t in tokenizer("확산 모델")] == ["확산", "모델"]


def test_schema_survives_pickle_with_its_analyzer() -> None:
    schema = pickle.loads(pickle.dumps(build_schema()))
    assert schema["goal"].analyzer == korean_analyzer()
    assert list(schema["title"].process_text("Diffusion Models")) == ["diffusion", "model"]


def test_tokenizer_equality() -> None:
    assert korean_analyzer() == korean_analyzer()
    assert KiwiTokenizer() == KiwiTokenizer()
    assert hash(KiwiTokenizer()) == hash(korean_analyzer())
    assert KiwiTokenizer() != object()
    assert KiwiTokenizer() != "KiwiTokenizer"


def test_every_term_of_the_default_corpus_points_at_its_word() -> None:
    """Offsets never straddle a space and Latin terms are their own surface
    form folded, over every field of the 46 default papers."""
    sources = []
    for path in find_posts(DEFAULT_CORPUS)[0]:
        for paper in parse_post(path).papers:
            sources += [paper.title, *paper.sections.values()]
    checked = 0
    for source, terms in zip(sources, analyse_many(sources)):
        for term in terms:
            surface = source[term.start : term.end]
            assert surface and not any(c.isspace() for c in surface), (term, source)
            if surface.isascii():
                folded = unicodedata.normalize("NFKC", surface).lower()
                assert term.text in (folded, normalise(surface)), (term, surface)
            checked += 1
    assert checked > 9_000


def test_stop_words_are_whooshs() -> None:
    """`analysis.STOP_WORDS` is a copy, kept so that a query need not import Whoosh's analysers."""
    from whoosh.analysis import STOP_WORDS

    from searchkit import analysis

    assert analysis.STOP_WORDS == STOP_WORDS


def test_a_stop_word_leaves_no_gap_in_positions() -> None:
    """A query phrase is its terms side by side; a position kept for "of"
    or "to" made "mixture of experts" and "text-to-image" match no paper."""
    terms = [(t.text, t.pos) for t in analyse("a mixture of experts and text-to-image models")]
    positions = {text: pos for text, pos in terms}
    assert positions["expert"] == positions["mixture"] + 1
    assert positions["image"] == positions["text"] + 1
    assert sorted({pos for _, pos in terms}) == list(range(len({pos for _, pos in terms})))


def test_a_phrase_with_a_stop_word_finds_the_paper(tmp_path) -> None:
    import searchkit

    from .conftest import index_one_post

    directory = index_one_post(tmp_path, (
        "# 1. [Sparse Mixture-of-Experts for Text-to-Image Generation](https://arxiv.org/abs/2501.00001)\n\n"
        "## Method\nmixture of experts 구조로 text-to-image 생성을 In-Context-Learning 으로 한다.\n\n"
        "# 2. [Dense Experts of Mixtures](https://arxiv.org/abs/2501.00002)\n\n"
        "## Method\nexperts 의 mixture 와 image 를 text 로 바꾼다.\n"))
    with searchkit.open_index(directory) as index:
        for phrase in ('"mixture of experts"', '"Mixture-of-Experts"', '"text-to-image"', '"text to image"',
                       '"In-Context-Learning"'):
            assert [h.arxiv_id for h in index.search(phrase, expand=False)] == ["2501.00001"], phrase


@pytest.mark.parametrize(("source", "expected"), [
    # Kiwi cuts some English words before a full stop in two, and keeps the stop on others
    ("Reinforcement Learning.", [("reinforcement", 0, 0, 13), ("learn", 1, 14, 22)]),
    ("Learning, Planning.", [("learn", 0, 0, 8), ("plan", 1, 10, 18)]),
    ("the models. 이 논문", [("model", 0, 4, 10), (GAP, 1, 12, 13), ("논문", 2, 14, 16)]),
    ("FLUX.1-dev", [("flux.1-dev", 0, 0, 10), ("flux", 0, 0, 4), ("1", 1, 5, 6), ("dev", 2, 7, 10)]),
    ("GPUs.", [("gpu", 0, 0, 4)]),
])
def test_an_english_word_before_a_full_stop_is_the_word(source: str, expected: list[tuple[str, int, int, int]]) -> None:
    assert [(t.text, t.pos, t.start, t.end) for t in analyse(source)] == expected


def test_a_name_with_a_version_is_found_by_its_name(tmp_path) -> None:
    """FLUX.1-dev was indexed as ``flux.``, ``1``, ``dev``: the query FLUX
    missed the papers that write only that."""
    import searchkit

    from .conftest import index_one_post

    directory = index_one_post(tmp_path, (
        "# 1. [Editing Images Fast](https://arxiv.org/abs/2501.00001)\n\n## Method\nFLUX.1-dev 를 미세 조정한다.\n\n"
        "# 2. [Reinforcement Learning for Planning](https://arxiv.org/abs/2501.00002)\n\n"
        "## Method\n이 방법은 Reinforcement Learning.\n"))
    with searchkit.open_index(directory) as index:
        assert [h.arxiv_id for h in index.search("FLUX", expand=False)] == ["2501.00001"]
        found = index.search("learning", expand=False, sections=["method"])
        assert [h.arxiv_id for h in found] == ["2501.00002"]
        assert found[0].highlights["method"].text[slice(*found[0].highlights["method"].spans[0])] == "Learning"
