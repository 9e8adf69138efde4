"""The concept layer and query understanding on a small hand-made corpus.

Each paper is written to test one behaviour of issue 12:
  2601.00001 quantizes an LLM's weights (양자화): what 경량화 means;
  2601.00002 is about Russian poetry, whose only match for 경량화 is a
      Korean word ending in 화 (문화), and a lone 경량 nowhere;
  2601.00003 mitigates hallucination (환각 완화), 2601.00004 detects it;
  2601.00005 translates low-resource languages (저자원 언어 번역),
      2601.00006 studies authors (저자) of papers;
  2601.00007 writes 흐름 매칭(flow matching), 2601.00008 only flow matching
      in English: the mined pair joins them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import searchkit
from searchkit import understand
from searchkit.query import ParsedQuery, Part

PAPERS = [
    ("2601.00001", "Low-bit Weight Quantization for LLMs",
     "본 연구는 대형 언어 모델의 가중치를 4비트로 양자화하여 메모리를 줄이는 것을 목표로 한다.",
     "가중치 양자화와 활성값 양자화를 결합하여 모델 크기를 줄인다."),
    ("2601.00002", "Russian Poetry Corpus",
     "본 연구는 러시아 시 문화를 분석하는 말뭉치를 구축한다.",
     "문화 연구를 위해 시인의 작품을 수집한다."),
    ("2601.00003", "Reducing Hallucination with Retrieval",
     "본 연구는 검색을 활용하여 언어 모델의 환각을 완화하는 것을 목표로 한다.",
     "근거 문서를 검색하여 환각 발생을 감소시킨다."),
    ("2601.00004", "Hallucination Detection Benchmark",
     "본 연구는 환각을 탐지하는 벤치마크를 제안한다.",
     "환각 문장을 탐지하는 분류기를 학습하고 환각 탐지 성능을 평가한다."),
    ("2601.00005", "Translation for Low-resource Languages",
     "본 연구는 저자원 언어 번역의 품질을 높이는 것을 목표로 한다.",
     "저자원 언어의 병렬 말뭉치를 합성하여 번역 모델을 학습한다."),
    ("2601.00006", "Who Writes the Papers",
     "본 연구는 논문 저자의 협업 관계를 분석한다.",
     "저자 네트워크를 구축하고 저자 간 인용을 센다."),
    ("2601.00007", "Flow Matching for Images",
     "본 연구는 흐름 매칭(flow matching)으로 이미지를 생성한다.",
     "흐름 매칭(flow matching) 목적 함수로 속도장을 학습한다."),
    ("2601.00008", "Rectified Flows",
     "본 연구는 flow matching 기반의 생성 모델을 개선한다.",
     "flow matching의 경로를 곧게 펴서 샘플링 단계를 줄인다."),
]


def post(papers: list[tuple[str, str, str, str]]) -> str:
    head = '---\nlayout: post\ntitle: "Daily Papers — 2026-01-05"\ndate: 2026-01-05 08:00:00\n---\n\n'
    body = "".join(
        f"# {i}. [{title}](https://arxiv.org/abs/{aid})\n\n## Introduction\n- Goal: {goal}\n\n## Method\n{method}\n\n"
        for i, (aid, title, goal, method) in enumerate(papers, 1)
    )
    return head + body


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[searchkit.Index]:
    root = tmp_path_factory.mktemp("understand")
    (root / "corpus").mkdir()
    (root / "corpus" / "2026-01-05-daily-papers-20260105.md").write_text(post(PAPERS), encoding="utf-8")
    searchkit.reindex(root / "corpus", root / "index")
    with searchkit.open_index(root / "index") as opened:
        yield opened


def ids(results) -> list[str]:
    return [h.arxiv_id for h in results]


def test_concept_ranks_a_narrower_method_above_a_lone_suffix(index) -> None:
    found = ids(index.search("경량화"))
    assert found and found[0] == "2601.00001", "양자화 is a kind of 경량화"
    assert "2601.00002" not in found, "the 화 of 문화 is no match for 경량화"
    assert any(e.target == "양자화" for e in index.search("경량화").expansions)
    assert ids(index.search("경량화", expand=False)) == [], "--no-expand turns the concept layer off"


def test_a_question_frame_gives_the_bare_words_results(index) -> None:
    bare = ids(index.search("환각 완화"))
    for question in ("환각 완화 방법", "환각을 완화하는 방법은?", "어떻게 환각을 완화하나?"):
        assert ids(index.search(question)) == bare, question


def test_a_verb_finds_the_nouns_that_name_its_act(index) -> None:
    results = index.search("환각 줄이기")
    assert ids(results)[0] == "2601.00003", "줄이기 is 완화/감소, not 탐지"
    assert any(e.source == "줄이" and e.target == "완화" for e in results.expansions)


def test_a_word_kiwi_splits_off_a_lone_syllable_matches_as_a_whole(index) -> None:
    found = ids(index.search("저자원 언어 번역"))
    assert found[0] == "2601.00005"
    assert "2601.00006" not in found[:1]
    assert "2601.00006" not in ids(index.search("저자원"))


def test_mined_pairs_join_the_korean_and_english_forms(index) -> None:
    mined = {(p.ko_text, p.en_text) for p in index.concepts().mined}
    assert ("흐름 매칭", "flow matching") in mined
    results = index.search("흐름 매칭")
    assert "2601.00008" in ids(results), "the English-only paper is found through the mined pair"
    assert any(e.target == "flow matching" for e in results.expansions)


def test_common_words_weigh_less_in_coverage_and_their_expansions_less() -> None:
    rare = Part((("가속",),), label="가속")
    common = Part((("llm",),), label="LLM")
    synonym = Part((("대형", "언어", "모델"),), weight=0.7, label="LLM", typed=False, covers=("LLM",))
    parsed = ParsedQuery("LLM 가속", (common, rare, synonym))
    df = {"llm": 90, "가속": 3, "대형": 80, "언어": 95, "모델": 99}.get
    out = understand.understand(parsed, lambda t: df(t, 0), 100)
    by_label = {p.label: p for p in out.parts if p.typed}
    assert by_label["가속"].significance > 10 * by_label["LLM"].significance
    damped = next(p for p in out.parts if not p.typed)
    assert damped.weight < 0.7 * 0.1, "the synonyms of a word in nearly every paper cannot drown the rare one"


def test_frame_words_alone_are_kept() -> None:
    """A query of nothing but frame words still searches for them."""
    parsed = ParsedQuery("방법", (Part((("방법",),), label="방법"),))
    assert understand.understand(parsed, lambda t: 1, 10).parts


def test_rules_live_in_the_data_file() -> None:
    frame, light, verbs = understand.tables()
    assert "방법" in frame and "연구" in light and "완화" in verbs["줄이"]
    assert Path(searchkit.__file__).with_name("data").joinpath("concepts.tsv").is_file()


def test_a_reindex_reads_the_glossary_tables_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Surfaces, analysed body and digest come from one snapshot of the
    tables: a package upgraded during a long reindex (seen: a longer
    glossary.tsv under a running 200k build) must neither crash the body
    nor store a digest of tables the body was not made from."""
    from searchkit import glossary

    data = tmp_path / "searchkit" / "data"
    data.mkdir(parents=True)
    (data / "glossary.tsv").write_text("english\tkorean\ndiffusion\t확산\n", encoding="utf-8")
    (data / "concepts.tsv").write_text("synonym\t비디오\t영상\n", encoding="utf-8")
    monkeypatch.setattr(glossary, "files", lambda package: tmp_path / package)
    glossary._table.cache_clear()
    try:
        surfaces, digest = glossary.glossary_surfaces(), glossary._digest()
        (data / "glossary.tsv").write_text("english\tkorean\ndiffusion\t확산\nreward\t보상\n", encoding="utf-8")
        analysed = [[glossary.Term(s, 0, 0, len(s))] for s in surfaces]
        body = glossary.glossary_body(surfaces, analysed)
        assert surfaces == ["diffusion", "확산", "비디오", "영상"]
        assert [row[1] for row in body["pairs"]] == ["diffusion"] and body["digest"] == digest
    finally:
        glossary._table.cache_clear()
