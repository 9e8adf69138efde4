"""Ranking behaviours of the quality issue, each on a small fixed example
over the default corpus: glossary, suggestion, compounds, coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

import searchkit
from searchkit.suggest import closest, distance, jamo

from .conftest import DEFAULT_CORPUS

ROOT = Path(__file__).resolve().parents[1]


def test_jamo_distance_sees_one_jamo_typo() -> None:
    assert jamo("학습") == "ㅎㅏㄱㅅㅡㅂ"
    assert distance(jamo("핰습"), jamo("학습")) == 1
    assert distance(jamo("핰습"), jamo("학생")) > 1


def test_closest_never_jumps_to_an_unrelated_frequent_word() -> None:
    frequency = {"학습": 10, "학생": 1000}.get
    assert closest("핰습", ["학습", "학생"], lambda t: frequency(t, 0)) == "학습"
    assert closest("zzkq", ["학습", "학생"], lambda t: frequency(t, 0)) is None


def test_suggestion_for_a_typo(default_index) -> None:
    results = default_index.search("핰습")
    assert results.suggestion == "학습"
    assert default_index.search("학습").suggestion is None


def test_glossary_expands_english_to_korean_and_says_so(default_index) -> None:
    results = default_index.search("distillation", limit=5)
    assert any(e.target == "증류" for e in results.expansions)
    assert results, "the Korean 증류 papers are found from the English word"
    assert any("증류" in f.text[s:e] for h in results for f in h.highlights.values() for s, e in f.spans)
    assert not default_index.search("distillation", expand=False).expansions


def test_expansion_ranks_below_the_literal_term(default_index) -> None:
    parsed = default_index.parse("증류")
    literal = [p for p in parsed.parts if p.weight == 1.0]
    synonyms = [p for p in parsed.parts if p.weight < 1.0]
    assert literal and synonyms and all(p.weight < literal[0].weight for p in synonyms)


def test_spacing_variants_find_the_same_papers(default_index) -> None:
    together = [h.arxiv_id for h in default_index.search("언어모델", limit=10, expand=False)]
    apart = [h.arxiv_id for h in default_index.search("언어 모델", limit=10, expand=False)]
    assert set(together) == set(apart)


def test_particles_do_not_block_a_match(default_index) -> None:
    plain = [h.arxiv_id for h in default_index.search("토큰 압축", limit=5)]
    inflected = [h.arxiv_id for h in default_index.search("토큰을 압축하는", limit=5)]
    assert plain[:3] == inflected[:3]


def test_papers_covering_more_words_rank_first(default_index) -> None:
    results = default_index.search("시각 토큰 압축", limit=5, expand=False)
    top = results[0]
    words = {"시각", "토큰", "압축"}
    found = {f.text[s:e] for f in top.highlights.values() for s, e in f.spans}
    assert words <= found


def test_names_typed_apart_also_match_the_name_written_as_one_word() -> None:
    from searchkit.engine import joined_words
    from searchkit.query import ParsedQuery, Part

    def query(*words: tuple[tuple[str, ...], ...]) -> ParsedQuery:
        return ParsedQuery("", tuple(Part(alternatives, label=alternatives[0][0]) for alternatives in words))

    index = {"flashattention", "dinov3", "희소어텐션"}.__contains__
    assert joined_words(query((("flash",),), (("attention",),)), index) == ["flashattention"]
    assert joined_words(query((("dino",),), (("v3",), ("v", "3"))), index) == ["dinov3"]
    assert joined_words(query((("희소",),), (("어텐션",),)), index) == ["희소어텐션"]
    assert joined_words(query((("world",),), (("model",),)), index) == [], "only names the index has"


def test_the_stored_synonym_table_is_the_built_one_and_never_stale(default_index_dir: Path, tmp_path: Path,
                                                                    monkeypatch) -> None:
    """Reindex stores the built look-up table (`glossary.TABLE_FILE`) so an
    open does not rebuild it; it is used only for the very sources it was
    built from, by the very code; a damaged one is built anew or named."""
    import shutil

    from searchkit import glossary
    from searchkit.glossary import TABLE_FILE, Glossary, _StoredTable
    from searchkit.store import live_generation

    generation = live_generation(default_index_dir)
    stored, built = Glossary.of(generation), Glossary._built(generation)
    assert isinstance(stored.synonyms, _StoredTable)
    assert dict(stored.synonyms) == dict(built.synonyms) and stored.mined == built.mined
    with monkeypatch.context() as patched:  # another papersearch's aggregation or weights
        patched.setattr(glossary, "_BUILDER", "other code")
        assert not isinstance(Glossary.of(generation).synonyms, _StoredTable)
    copy = tmp_path / "gen"
    shutil.copytree(generation, copy)
    assert not isinstance(Glossary.of(copy).synonyms, _StoredTable)  # other files: not its sources
    glossary.save_table(copy)
    assert isinstance(Glossary.of(copy).synonyms, _StoredTable)
    (copy / "pairs.json").write_text('{"version": 0, "posts": {}}', encoding="utf-8")  # the sources change
    assert not isinstance(Glossary.of(copy).synonyms, _StoredTable)
    (copy / TABLE_FILE).unlink()
    assert dict(Glossary.of(copy).synonyms) == dict(Glossary._built(copy).synonyms)
    lines = (generation / TABLE_FILE).read_text(encoding="utf-8").splitlines()
    stamp = glossary._sources_digest(copy)
    assert lines[-1] == glossary.TABLE_END
    end = [glossary.TABLE_END]
    (copy / TABLE_FILE).write_text("\n".join([stamp, *lines[1:-1], "a line without its tab", *end]) + "\n",
                                   encoding="utf-8")
    assert not isinstance(Glossary.of(copy).synonyms, _StoredTable)  # built instead
    (copy / TABLE_FILE).write_text("\n".join([stamp, *lines[1:3]]) + "\n", encoding="utf-8")  # cut at a line's end
    assert not isinstance(Glossary.of(copy).synonyms, _StoredTable)
    source, _ = lines[1].split("\t", 1)
    (copy / TABLE_FILE).write_text("\n".join([stamp, source + "\t[[garbled", *end]) + "\n", encoding="utf-8")
    with pytest.raises(searchkit.IndexCorruptError, match="damaged line"):
        Glossary.of(copy).synonyms[tuple(source.split("\x1f"))]


def test_a_reindex_with_nothing_to_do_stores_a_table_other_code_stamped(default_index_dir: Path, tmp_path: Path,
                                                                         monkeypatch) -> None:
    """After an upgrade every open would build the table again (its stamp
    names the old code) until the corpus changed: a reindex with nothing
    to index stores it for the code now running."""
    import shutil

    from searchkit import glossary
    from searchkit.glossary import Glossary, _StoredTable
    from searchkit.store import live_generation

    index = tmp_path / "index"
    shutil.copytree(default_index_dir, index)
    monkeypatch.setattr(glossary, "_BUILDER", "the upgraded code")
    generation = live_generation(index)
    assert not isinstance(Glossary.of(generation).synonyms, _StoredTable)
    report = searchkit.reindex(DEFAULT_CORPUS, index)
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert live_generation(index) == generation
    assert isinstance(Glossary.of(generation).synonyms, _StoredTable)
    assert dict(Glossary.of(generation).synonyms) == dict(Glossary._built(generation).synonyms)


def test_a_damaged_readings_file_is_named_and_the_next_reindex_replaces_it(tiny_copy: tuple[Path, Path]) -> None:
    """readings.json (`glossary.readings`) keeps its size when a byte flips:
    an open names the file in one line, and an incremental reindex never
    reads the copy it inherits (it failed after analysing everything)."""
    from searchkit.store import live_generation

    corpus, index = tiny_copy
    readings = live_generation(index) / "readings.json"
    raw = bytearray(readings.read_bytes())
    raw[0] ^= 0xFF
    readings.write_bytes(bytes(raw))
    with pytest.raises(searchkit.IndexCorruptError, match=r"readings\.json cannot be read.*--index"):
        searchkit.open_index(index)
    post = sorted(corpus.glob("*.md"))[0]
    post.write_text(post.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert searchkit.reindex(corpus, index).updated == 1
    with searchkit.open_index(index) as reopened:
        assert reopened.search("확산 모델")


def test_a_reindex_with_nothing_to_do_reads_the_glossary_again_for_new_code(tiny_copy: tuple[Path, Path],
                                                                             monkeypatch) -> None:
    """Readings are stamped with the code that read them: an index built
    before they were kept, or by other code, gets them at the next reindex,
    which publishes a generation with nothing else changed."""
    from searchkit import glossary
    from searchkit.store import live_generation

    corpus, index = tiny_copy
    before = live_generation(index)
    assert glossary.readings_current(glossary.stored_readings(before))
    assert searchkit.reindex(corpus, index).added == 0 and live_generation(index) == before  # nothing to do
    (before / glossary.READINGS_FILE).unlink()
    searchkit.reindex(corpus, index)
    after = live_generation(index)
    assert after != before and glossary.readings_current(glossary.stored_readings(after))
    monkeypatch.setattr(glossary, "_READER", "other code")
    searchkit.reindex(corpus, index)
    assert live_generation(index) != after
    assert glossary.stored_readings(live_generation(index))["code"] == "other code"
