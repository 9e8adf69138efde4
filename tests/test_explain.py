"""`explain=True` / `--explain`: a hit's score, term by term, adds up."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import searchkit
from searchkit.terminal.cli import cli

CASES = [
    ("시각 토큰 압축", {}),  # glossary expansions and the proximity bonus
    ('"언어 모델" 환각', {}),  # a required phrase
    ("희소 어텐션 2510.23605", {}),  # an arXiv id clause
    ("계산 비용", {"sections": "limitations"}),  # one section's field
    ("강화 학습", {"sections": ["introduction", "method"]}),  # several fields, phrases among alternatives
    ("모델", {"sort": "date"}),  # no re-ranking by date
    ("대규모언어모델", {}),  # a compound split into parts
]


@pytest.mark.parametrize("text, options", CASES)
def test_explanation_adds_up_to_the_score(default_index: searchkit.Index, text: str, options: dict) -> None:
    hits = default_index.search(text, limit=8, explain=True, **options)
    assert hits
    for hit in hits:
        e = hit.explanation
        assert e is not None and e.terms
        assert sum(t.score for t in e.terms) == pytest.approx(e.bm25f, rel=1e-9)
        assert e.bm25f * e.coverage * e.proximity == pytest.approx(hit.score, rel=1e-9)
        for t in e.terms:  # each share is the formula on its own parts
            if t.field != "arxiv_id":
                norm = e.k1 * ((1 - e.b) + e.b * t.length / t.average)
                assert t.score == pytest.approx(t.weight * t.boost * t.idf * t.tf * (e.k1 + 1) / (t.tf + norm))
        if options.get("sort") == "date":
            assert (e.coverage, e.proximity) == (1.0, 1.0)


def test_combined_field_tf_counts_each_section_by_its_weight(default_index: searchkit.Index) -> None:
    from searchkit.schema import FIELD_WEIGHTS

    hit = default_index.search("확산 모델", limit=1, explain=True, expand=False)[0]
    for t in hit.explanation.terms:
        assert t.field == "all"
        assert t.tf == pytest.approx(sum(FIELD_WEIGHTS[name] * n for name, n in t.occurrences.items()))


def test_no_explanation_unless_asked(default_index: searchkit.Index) -> None:
    assert all(hit.explanation is None for hit in default_index.search("확산 모델"))


def test_explain_in_text_and_json(default_index_dir) -> None:
    args = ["query", "시각 토큰 압축", "--index", str(default_index_dir), "--explain", "--limit", "2"]
    text = CliRunner().invoke(cli, args)
    assert text.exit_code == 0, text.output
    assert text.output.count("= BM25F") == 2 and "× idf" in text.output
    data = json.loads(CliRunner().invoke(cli, [*args, "--json"]).output)
    for hit in data["hits"]:
        e = hit["explanation"]
        assert sum(t["score"] for t in e["terms"]) == pytest.approx(e["bm25f"], rel=1e-9)
        assert round(e["bm25f"] * e["coverage"] * e["proximity"], 4) == pytest.approx(hit["score"], abs=1e-4)
