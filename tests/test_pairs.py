"""The term-pair miner on hand-made sentences: what it takes, what it refuses.

Each case is a sentence as the summaries write them, analysed by Kiwi as
the indexer would (one analysis for all, Kiwi loads once).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from searchkit import pairs
from searchkit.analysis import analyse_many

CASES = {
    # plain long form and acronym
    "flow": "본 연구는 흐름 매칭(flow matching)을 제안한다.",
    "acronym": "본 논문은 희소 자기부호기(SAE)를 분석한다.",
    "both": "본 연구는 그룹 상대 정책 최적화(Group Relative Policy Optimization, GRPO)로 정렬한다.",
    # the Korean span's start: a particle, a modifier, a qualifying noun end it
    "start_particle": "모델은 잠재 공간 정렬(latent space alignment)을 수행한다.",
    "start_modifier": "새로운 지식 증류(knowledge distillation) 기법을 쓴다.",
    "start_qualifier": "기존 강화 학습(reinforcement learning)과 다르다.",
    "suffix_inside": "멀티모달 대형 언어 모델(MLLM)의 효율을 높인다.",
    # refused parentheses
    "citation": "이 방법은 선행 연구(Kim et al., 2024)를 따른다.",
    "year": "확산 모델(Ho, 2020)을 확장한다.",
    "number": "모델 크기(7B)와 문맥 길이(128k)를 늘렸다.",
    "unit": "정확도(85.3%)를 달성했다.",
    "korean_inside": "고성능 모델들(gpt-5, o3 등)을 비교했다.",
    "acronym_list": "표준 벤치마크(MMLU, HELLASWAG, ARC)에서 평가했다.",
    "model_name": "기저 생성 모델(Qwen-2.5-VL-7B)을 쓴다.",
    "spaced": "모델 (LLM)을 쓴다.",
    # nesting: one level is read, deeper is refused
    "nested": "희소 자기부호기(Sparse Autoencoder (SAE))를 학습한다.",
    "too_deep": "희소 자기부호기(Sparse (Auto (encoder)))를 학습한다.",
    # a long form needs as many Korean words as it has
    "too_short": "가중치 감쇄(Cautious Weight Decay)를 제안한다.",
}


@pytest.fixture(scope="module")
def mined() -> dict[str, list[pairs.Pair]]:
    texts = list(CASES.values())
    return {name: pairs.mine(text, terms) for name, text, terms in zip(CASES, texts, analyse_many(texts))}


def found(mined: dict[str, list[pairs.Pair]], name: str) -> set[tuple[str, str]]:
    return {(p.ko_text, p.en_text) for p in mined[name]}


def test_long_form_and_acronym(mined) -> None:
    assert found(mined, "flow") == {("흐름 매칭", "flow matching")}
    assert found(mined, "acronym") == {("희소 자기부호기", "SAE")}
    assert found(mined, "both") == {("그룹 상대 정책 최적화", "Group Relative Policy Optimization"), ("그룹 상대 정책 최적화", "GRPO")}
    flow = mined["flow"][0]
    assert flow.ko_terms == ("흐름", "매칭") and flow.en_terms == ("flow", "match")  # analysed, as queries are


def test_the_korean_span_starts_after_particles_modifiers_and_qualifiers(mined) -> None:
    assert found(mined, "start_particle") == {("잠재 공간 정렬", "latent space alignment")}
    assert found(mined, "start_modifier") == {("지식 증류", "knowledge distillation")}
    assert found(mined, "start_qualifier") == {("강화 학습", "reinforcement learning")}


def test_a_suffix_kiwi_leaves_out_does_not_end_the_span(mined) -> None:
    assert found(mined, "suffix_inside") == {("멀티모달 대형 언어 모델", "MLLM")}


@pytest.mark.parametrize(
    "name", ["citation", "year", "number", "unit", "korean_inside", "acronym_list", "model_name", "spaced", "too_deep"]
)
def test_parentheses_that_name_no_term_are_refused(mined, name: str) -> None:
    assert mined[name] == [], CASES[name]


def test_one_level_of_nesting_is_read(mined) -> None:
    assert found(mined, "nested") == {("희소 자기부호기", "Sparse Autoencoder"), ("희소 자기부호기", "SAE")}


def test_a_long_form_longer_than_its_korean_span_is_refused(mined) -> None:
    assert mined["too_short"] == [] or all(len(p.ko_text.split()) >= 3 for p in mined["too_short"])


def test_aggregate_drops_rare_acronyms_and_minor_targets() -> None:
    rows = [[["모델"], "모델", ["cadd"], "CADD"]]  # once: a method's own name
    rows += [[["희소", "자기", "부", "호기"], "희소 자기부호기", ["sae"], "SAE"]] * 2
    rows += [[["모델"], "모델", ["model"], "model"]] * 5
    kept = {(m.ko_text, m.en_text): m.count for m in pairs.aggregate(rows)}
    assert kept == {("희소 자기부호기", "SAE"): 2, ("모델", "model"): 5}


def test_aggregate_wants_a_one_word_korean_side_twice() -> None:
    """모델(Composer), 이해(expert), 생성(rollout): a common Korean word
    written once beside an English name names a thing, it does not
    translate it; a query with 이해 expanded to expert. Twice or more, or a
    longer Korean side, is kept."""
    rows = [[["모델"], "모델", ["composer"], "Composer"], [["이해"], "이해", ["expert"], "expert"]]
    rows += [[["환각"], "환각", ["hallucination"], "hallucination"]] * 2
    rows += [[["흐름", "매칭"], "흐름 매칭", ["flow", "matching"], "flow matching"]]
    kept = {(m.ko_text, m.en_text) for m in pairs.aggregate(rows)}
    assert kept == {("환각", "hallucination"), ("흐름 매칭", "flow matching")}


def test_save_keeps_unchanged_posts_and_replaces_changed_ones(tmp_path: Path) -> None:
    one = pairs.Pair(("흐름", "매칭"), "흐름 매칭", ("flow", "match"), "flow matching")
    two = pairs.Pair(("희소",), "희소", ("sparse",), "sparse")
    pairs.save(tmp_path, [], {"a.md": [one], "b.md": [two]})
    assert pairs.present(tmp_path) and len(pairs.read(tmp_path)) == 2
    pairs.save(tmp_path, ["b.md"], {})  # b.md deleted
    assert [row[1] for row in pairs.read(tmp_path)] == ["흐름 매칭"]
    assert json.loads((tmp_path / pairs.PAIRS_FILE).read_text(encoding="utf-8"))["version"] == pairs.VERSION


def test_rows_are_read_in_post_name_order_whatever_order_they_were_stored_in(tmp_path: Path) -> None:
    """An incremental reindex stores a re-mined post last; `aggregate`
    breaks ties by the order it meets rows in (FUSE against Fuse decided
    whether an acronym seen once was kept), so rows are read in post-name
    order, as a full build stores them."""
    fuse = [["보조", "계층"], "보조 계층", ["fuse"], "FUSE"]
    fused = [["결합", "장치"], "결합 장치", ["fuse"], "Fuse"]
    assert pairs.rows_of({"b.md": [fused], "a.md": [fuse]}) == [fuse, fused]
    pairs.save(tmp_path, [], {"b.md": [pairs.Pair(("결합", "장치"), "결합 장치", ("fuse",), "Fuse")]})
    pairs.save(tmp_path, [], {"a.md": [pairs.Pair(("보조", "계층"), "보조 계층", ("fuse",), "FUSE")]})
    assert [row[3] for row in pairs.read(tmp_path)] == ["FUSE", "Fuse"]
    assert pairs.aggregate(pairs.read(tmp_path)) == pairs.aggregate([fuse, fused]) == []  # FUSE: an acronym seen once


def test_an_incremental_reindex_mines_the_pairs_a_full_build_does(tmp_path: Path) -> None:
    """The probe's case: a.md writes 보조 계층(FUSE), b.md 결합 장치(Fuse);
    editing a.md alone kept both pairs (Fuse read first), a full build none."""
    import searchkit

    from .conftest import DEFAULT_CORPUS

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    posts = sorted(DEFAULT_CORPUS.glob("*.md"))[:2]
    a, b = (p.read_text(encoding="utf-8") for p in posts)
    a = re.sub(r"## Method[ \t]*\n", "## Method\n본 연구는 보조 계층(FUSE)을 도입한다. ", a, count=1)
    b = re.sub(r"## Method[ \t]*\n", "## Method\n본 연구는 결합 장치(Fuse)를 도입한다. ", b, count=1)
    assert "보조 계층(FUSE)" in a and "결합 장치(Fuse)" in b
    (corpus / "a.md").write_text(a, encoding="utf-8")
    (corpus / "b.md").write_text(b, encoding="utf-8")
    searchkit.reindex(corpus, tmp_path / "index")
    (corpus / "a.md").write_text(re.sub(r"## Results[ \t]*\n", "## Results\n추가 문장이다. ", a, count=1),
                                 encoding="utf-8")
    assert searchkit.reindex(corpus, tmp_path / "index").updated == 1
    searchkit.reindex(corpus, tmp_path / "full")
    with searchkit.open_index(tmp_path / "index") as grown, searchkit.open_index(tmp_path / "full") as full:
        assert grown.concepts().mined == full.concepts().mined
        assert [e.target for e in grown.search("결합 장치").expansions] == [e.target for e in full.search("결합 장치").expansions]


def test_mined_pairs_only_fill_gaps_in_the_curated_tables(default_index) -> None:
    """corpus/ writes 1단계 확산(personalization) once: a term the glossary
    already translates keeps its curated translations only, while terms it
    does not know still get their mined ones."""
    from searchkit.glossary import MINED_WEIGHT

    synonyms = default_index.concepts().synonyms
    assert ("personalization",) not in {t for t, _, _ in synonyms[("확산",)]}
    mixed = [s for s, entries in synonyms.items()
             if any(w == MINED_WEIGHT for _, _, w in entries) and any(w != MINED_WEIGHT for _, _, w in entries)]
    assert not mixed
    assert any(all(w == MINED_WEIGHT for _, _, w in entries) for entries in synonyms.values())


def test_terms_by_position_are_the_terms_a_scan_finds() -> None:
    """`pairs._Located.within` (binary search, so a long section is mined in
    linear time; a scan of every term per bracket took ten minutes on 5 MB)
    gives exactly what the scan gave: the terms lying in [start, end], in
    the text's term order, zero-length and out-of-order terms included."""
    import random

    from searchkit.analysis import Term
    from searchkit.pairs import _Located

    rng = random.Random(7)
    terms = []
    for i in range(400):
        start = rng.randrange(0, 300)
        terms.append(Term(f"t{i}", i, start, start + rng.choice([0, 1, 2, 5, 9])))
    located = _Located(terms)
    for _ in range(2000):
        start = rng.randrange(0, 310)
        end = start + rng.randrange(0, 15)
        assert located.within(start, end) == [t for t in terms if start <= t.start and t.end <= end]
