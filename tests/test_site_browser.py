"""The exported page in headless Chromium: the same top 10 as the library,
the URL and Back, the keyboard, highlights, suggestions, no request off
loopback. Skipped, with the reason, where chromium, node or playwright-core
(`npm ci` in tests/browser) is missing."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import searchkit
from searchkit.errors import QueryError
from tests.conftest import REPO, grown_tied_corpus, index_one_post
from tests.site_harness import drive, missing, query_step, serve, type_queries

QUERIES = json.loads((REPO / "benchmarks" / "quality" / "queries.json").read_text(encoding="utf-8"))

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))


@pytest.fixture(scope="module")
def default_site(default_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("default-site") / "search"
    searchkit.export_site(default_index_dir, out)
    with serve(out) as url:
        yield url


def loopback(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost") or url.startswith(("data:", "about:"))


def expected_ids(index: searchkit.Index, query: dict, **options: object) -> list[str]:
    return [h.arxiv_id for h in index.search(query["query"], sections=query.get("sections"), **options)]


def check_parity(index: searchkit.Index, url: str, queries: list[dict]) -> list[str]:
    """Every query ranks the same top 10 on the page as in the library,
    with the same scores to the bit: the page reads words the library's
    lexicon cannot analyse with the same stand-in (`standin`), and sums the
    index's numbers in numpy's order. Returns the ids that differ."""
    answer = drive(url, [query_step(q) for q in queries])
    assert not any("error" in a for a in answer["answers"]), [a for a in answer["answers"] if "error" in a][:3]
    misses = []
    for q, got in zip(queries, answer["answers"]):
        assert got["ids"] == got["dom"]  # data-results lists the hits as drawn
        hits = index.search(q["query"], sections=q.get("sections"))
        if got["ids"] != [h.arxiv_id for h in hits] or got["scores"] != [h.score for h in hits]:
            misses.append(q["id"])
    offsite = [r["url"] for r in answer["requests"] if not loopback(r["url"])]
    assert offsite == []
    print(f"parity: {len(queries) - len(misses)}/{len(queries)}; misses {misses}")
    return misses


def test_parity_on_the_default_corpus(default_index: searchkit.Index, default_site: str) -> None:
    assert check_parity(default_index, default_site, QUERIES) == []


def test_typed_over_the_bare_protocol_the_page_answers_as_the_library(default_index: searchkit.Index,
                                                                     default_site: str) -> None:
    """benchmarks/site/typing.mjs, which times the keystroke budget, types
    into the real page key by key and reads what it drew."""
    queries = [q["query"] for q in QUERIES if not q.get("sections")][:3]
    typed = type_queries(default_site, queries, delay=30)
    assert typed["ids"] == [" ".join(expected_ids(default_index, {"query": q})) for q in queries]
    assert len(typed["warm"]) == len(queries) and min(typed["cold"] + typed["warm"]) > 0


@pytest.mark.slow
def test_parity_on_the_shared_corpus(shared_index: searchkit.Index, tmp_path: Path) -> None:
    out = tmp_path / "search"
    searchkit.export_site(shared_index.generation.parent, out)
    with serve(out) as url:
        assert check_parity(shared_index, url, QUERIES) == []


def test_rules_the_judged_queries_never_reach(default_index: searchkit.Index, default_site: str) -> None:
    """Rules both sides implement that no judged query exercises: a lone
    word whose reading keeps no term searched as itself (깊이), but not
    beside a word that keeps one (두 가지 방법); English words before a full
    stop; a pasted query (decomposed Hangul, a zero-width space); a "did
    you mean" for a typo beside a word past `SUGGEST_LONGEST` (which neither
    side looks up); an arXiv id in full-width digits or pasted with its link."""
    long_word = "뷁" * 45
    pasted = [unicodedata.normalize("NFD", "확산 모델"), "확\u200b산 모델"]  # composed, invisible characters dropped
    full_width = ["２５１０.００５１５", "확산 ２５１０．００５１５ｖ２", "https://arxiv.org/abs/2510.00515", "arXiv:2510.00515 확산"]
    queries = [{"id": q, "query": q} for q in ("깊이", "두 가지 방법", "FLUX", "Learning.", *pasted, *full_width)]
    assert check_parity(default_index, default_site, queries) == []
    labels = drive(default_site, [{"type": "query", "q": q, "full": True} for q in ("확산 모델", *pasted)])["answers"]
    assert labels[0]["expansions"] and all(a["expansions"] == labels[0]["expansions"] for a in labels)
    text = f"{long_word} 핰습"
    suggestion = default_index.search(text).suggestion
    assert suggestion is not None and suggestion.startswith(long_word)
    answer = drive(default_site, [{"type": "query", "q": text, "full": True}])["answers"][0]
    assert f"Did you mean {suggestion}?" in answer["message"]


def test_exact_ties_on_an_index_grown_a_post_at_a_time(tmp_path: Path) -> None:
    """The page breaks exact ties by document number, the library by where a
    full build places a paper: the export numbers documents in that order,
    so the two agree on an index whose posts came in another order."""
    _, grown, _ = grown_tied_corpus(tmp_path)
    out = tmp_path / "search"
    searchkit.export_site(grown, out)
    cases = [({"q": "희소 라우팅"}, {}), ({"q": "희소 라우팅", "sort": "date"}, {"sort": "date"})]
    with searchkit.open_index(grown) as index, serve(out) as url:
        answer = drive(url, [{"type": "query", "full": True, **page} for page, _ in cases])
        for (_, options), got in zip(cases, answer["answers"]):
            want = index.search("희소 라우팅", **options)
            assert got["ids"] == [h.arxiv_id for h in want] == ["2501.00003", "2501.00001", "2501.00002",
                                                                 "2501.00004"], options


def test_dates_sort_and_switching_synonyms_off_match_the_library(default_index: searchkit.Index,
                                                               default_site: str) -> None:
    cases = [
        ({"q": "확산 모델", "sort": "date"}, {"sort": "date"}),
        ({"q": "강화 학습", "since": "2025-10-01", "until": "2025-10-20"}, {"since": "2025-10-01", "until": "2025-10-20"}),
        ({"q": "diffusion", "expand": False}, {"expand": False}),
        ({"q": "토큰 압축", "section": "limitations"}, {"sections": ["limitations"]}),
        ({"q": '"대형 언어" 모델'}, {}),  # a phrase whose 대형 some texts read as 대 (phrase_readings)
        ({"q": '"이산 확산"'}, {}),
        ({"q": '"두 가지" 방법'}, {}),  # no phrase 가지 (Engine._read_phrase)
        ({"q": "제안하였다"}, {}),  # recorded without its full stop (lexicon._unpunctuated)
    ]
    answer = drive(default_site, [{"type": "query", "full": True, **page} for page, _ in cases])
    for (page, library), got in zip(cases, answer["answers"]):
        results = default_index.search(page["q"], **library)
        assert got["ids"] == [h.arxiv_id for h in results], page
        assert re.fullmatch(rf"{results.total} papers?, \d+ ms", got["stats"]), got["stats"]
    assert answer["answers"][2]["expansions"] == ""


def test_highlights_mark_what_the_library_marks(default_index: searchkit.Index, default_site: str) -> None:
    got = drive(default_site, [{"type": "query", "q": "시각 토큰 압축"}])["answers"][0]
    hits = default_index.search("시각 토큰 압축")
    marked = [f.text[s:e] for h in hits for f in h.highlights.values() for s, e in f.spans][:20]
    assert got["marks"] == marked and marked


def test_expansions_trend_and_no_results_with_suggestion(default_index: searchkit.Index, default_site: str) -> None:
    answer = drive(default_site, [{"type": "query", "q": "확산 모델", "full": True},
                                  {"type": "query", "q": "핰습 zzqx"}, {"type": "query", "q": "diffusoin zzqx"}])
    first, none, swapped = answer["answers"]
    results = default_index.search("확산 모델")
    assert all(f"{e.source} → {e.target}" in first["expansions"] for e in results.expansions)
    with searchkit.open_index(default_index.generation.parent) as index:
        weeks = searchkit.trend(index, "확산 모델")
    assert first["trend"] == " ".join(f"{w}:{n}" for w, n in weeks)
    suggestion = default_index.search("핰습 zzqx").suggestion
    assert none["ids"] == [] and "No papers match" in none["message"]
    assert suggestion and f"Did you mean {suggestion}?" in none["message"]
    assert default_index.search("diffusoin zzqx").suggestion == "diffusion zzqx", "a swap, as the page has it"
    assert "Did you mean diffusion zzqx?" in swapped["message"]


def test_url_round_trip_and_back(default_site: str) -> None:
    steps = [
        {"type": "query", "q": "확산 모델"},
        {"type": "eval", "js": "new Promise(r => setTimeout(r, 1600))"},
        {"type": "query", "q": "강화 학습", "section": "method"},
        {"type": "back", "q": "확산 모델"},
        {"type": "goto", "url": default_site + "?q=%ED%86%A0%ED%81%B0&section=title&sort=date", "q": "토큰"},
    ]
    answer = drive(default_site, steps)
    first, _, second, back, direct = answer["answers"]
    assert "q=%ED%99%95%EC%82%B0" in first["url"]
    assert "section=method" in second["url"] and "q=%EA%B0%95%ED%99%94" in second["url"]
    assert back["q"] == "확산 모델" and back["ids"] == first["ids"] and "section" not in back["url"]
    assert direct["q"] == "토큰" and direct["query"] == "토큰"
    assert all(loopback(r["url"]) for r in answer["requests"])


def test_keyboard_slash_arrows_and_enter(default_site: str) -> None:
    steps = [
        {"type": "query", "q": "확산 모델"},
        {"type": "eval", "js": "document.activeElement.blur(), document.activeElement.id || ''"},
        {"type": "keys", "keys": ["/"]},
        {"type": "keys", "keys": ["ArrowDown", "ArrowDown", "ArrowUp"]},
        {"type": "keys", "keys": ["Enter"]},
    ]
    answer = drive(default_site, steps)
    first, blurred, slash, arrows, _ = answer["answers"]
    assert blurred != "q" and slash["focused"] == "q"
    assert arrows["selected"] == 0
    opened = [r["url"] for r in answer["requests"] if not loopback(r["url"])]
    assert opened == [f"https://arxiv.org/abs/{first['ids'][0]}"]  # the one request off loopback, refused


def test_an_empty_index_exports_a_page_that_finds_nothing(tmp_path: Path) -> None:
    """A corpus with no posts yet is a valid index (reindex says so); its
    page loads and answers "no papers" rather than the export failing
    (Whoosh's EmptyReader has no length columns)."""
    (tmp_path / "posts").mkdir()
    searchkit.reindex(tmp_path / "posts", tmp_path / "index")
    searchkit.export_site(tmp_path / "index", tmp_path / "search")
    with serve(tmp_path / "search") as url:
        answer = drive(url, [{"type": "query", "q": "확산 모델"}])
    (only,) = answer["answers"]
    assert only["ids"] == [] and "No papers match" in only["message"]


def test_a_page_without_its_data_says_search_is_unavailable(default_index_dir: Path, tmp_path: Path) -> None:
    """An upload that lost meta.json left the search box on screen doing
    nothing (an uncaught error in the console only)."""
    searchkit.export_site(default_index_dir, tmp_path / "search")
    (tmp_path / "search" / "data" / "meta.json").unlink()
    with serve(tmp_path / "search") as url:
        answer = drive(url, [{"type": "eval", "js": "document.getElementById('message').textContent"}])
    assert answer["answers"][-1] == "Search is unavailable: meta.json: HTTP 404"


def test_url_options_are_read_as_the_library_reads_them(default_index: searchkit.Index, default_site: str) -> None:
    """A compact date and a section in capitals (the library and the CLI
    take both) were dropped by the date and section inputs, and the page
    answered unfiltered under a URL that still showed the filter; a date
    that does not exist was dropped too. Now they filter, or are said."""
    q = "%ED%99%95%EC%82%B0"  # 확산
    steps = [{"type": "goto", "url": f"{default_site}?q={q}&since=20251009", "q": "확산"},
             {"type": "goto", "url": f"{default_site}?q={q}&section=Method", "q": "확산"},
             {"type": "goto", "url": f"{default_site}?q={q}&since=2025-02-30", "q": "확산"},
             {"type": "goto", "url": f"{default_site}?q={q}&section=nowhere", "q": "확산"}]
    # a probe's finds: a line break in q joined two words (an input deletes it), and a sort, an expand
    # or a second section the form cannot hold was dropped without a word; a section's white space
    # and its error are the library's
    steps += [{"type": "goto", "url": f"{default_site}?q=video%0Ageneration", "q": "video generation"},
              {"type": "goto", "url": f"{default_site}?q={q}&sort=Date", "q": "확산"},
              {"type": "goto", "url": f"{default_site}?q={q}&expand=false", "q": "확산"},
              {"type": "goto", "url": f"{default_site}?q={q}&section=method&section=limitations", "q": "확산"},
              {"type": "goto", "url": f"{default_site}?q={q}&section=method%1C", "q": "확산"},
              {"type": "goto", "url": f"{default_site}?q={q}&section=%EF%BB%BFmethod", "q": "확산"}]
    compact, capital, no_day, nowhere, newline, sort, expand, two, spaced, bom = drive(default_site, steps)["answers"]
    assert compact["ids"] == [h.arxiv_id for h in default_index.search("확산", since="20251009")]
    assert compact["ids"] != [h.arxiv_id for h in default_index.search("확산")]
    assert capital["ids"] == [h.arxiv_id for h in default_index.search("확산", sections=["Method"])]
    assert no_day["ids"] == [] and no_day["message"] == "since date '2025-02-30' is not an ISO date like 2025-10-06"
    assert nowhere["ids"] == [] and nowhere["message"].startswith("unknown section 'nowhere'; valid sections: ")
    assert newline["ids"] == [h.arxiv_id for h in default_index.search("video\ngeneration")] != []
    assert sort["ids"] == [] and sort["message"] == "sort must be 'score' or 'date', not 'Date'"
    assert expand["ids"] == [] and expand["message"] == "expand must be 0 or 1, not 'false'"
    assert two["ids"] == [] and two["message"] == "the page searches one section at a time, not 'method', 'limitations'"
    assert spaced["ids"] == [h.arxiv_id for h in default_index.search("확산", sections=["method\x1c"])] != []
    with pytest.raises(QueryError) as refused:
        default_index.search("확산", sections=["\ufeffmethod"])
    assert bom["ids"] == [] and bom["message"] == str(refused.value)


def test_a_phrase_past_the_highlight_cap_is_marked_as_the_library_marks_it(tmp_path: Path) -> None:
    """A Method repeating the phrase's first word more often than
    `highlight.MATCHES` before the phrase: both sides read on from the
    phrase, so the hit shows its Method (it showed no section at all)."""
    method = "확산 " * 1200 + "마지막에 확산 모델을 쓴다."
    index_dir = index_one_post(tmp_path, f"""
# 1. [Late Phrase](https://arxiv.org/abs/2501.00001)

## Method
{method}
""")
    out = tmp_path / "search"
    searchkit.export_site(index_dir, out)
    with searchkit.open_index(index_dir) as index, serve(out) as url:
        hits = index.search('"확산 모델"')
        marked = [f.text[s:e] for h in hits for f in h.highlights.values() for s, e in f.spans]
        assert [h.arxiv_id for h in hits] == ["2501.00001"] and marked == ["확산 모델"]
        got = drive(url, [{"type": "query", "q": '"확산 모델"'}])["answers"][0]
        assert got["marks"] == marked
