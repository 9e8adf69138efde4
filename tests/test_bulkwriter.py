"""`BulkWriter` writes the segment Whoosh's own `SegmentWriter` would.

Both writers get the same documents, in the schema the indexer uses, and
every term's statistics, every posting, every block header, every field
length and every stored field must come out the same. The documents are
generated (seeded), so no test here needs Kiwi.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.fields import ID, TEXT, Schema
from whoosh.writing import PostingPool, SegmentWriter

import searchkit
from searchkit.analysis import Term
from searchkit.backends.whoosh import writer as indexer
from searchkit.backends.whoosh.bulkwriter import BulkWriter
from searchkit.backends.whoosh.schema import Preanalysed, build_schema
from searchkit.schema import ALL, FIELD_WEIGHTS, TEXT_FIELDS
from searchkit.store import live_generation

from .conftest import DEFAULT_CORPUS

WORDS = [f"낱말{i}" for i in range(40)] + ["model", "확산", "gpt-4o"]


def document(rng: random.Random, number: int) -> dict:
    """A paper-shaped document: a few sections (some empty), Zipf-ish words
    so that some terms fill several blocks, and the boosted combined field."""
    doc: dict = {"doc_key": f"post-{number % 7}.md#{number}", "arxiv_id": f"2501.{number % 50:05d}"}
    doc.update(post=f"post-{number % 7}.md", date=f"2025-01-{number % 28 + 1:02d}", url=f"u{number}", spans={})
    combined: list[Term] = []
    boosts: list[float] = []
    for name in TEXT_FIELDS:
        if rng.random() < 0.2:
            continue
        count = 0 if rng.random() < 0.05 else rng.randint(1, 30)  # text that Kiwi finds no terms in
        words = [WORDS[min(int(rng.expovariate(0.15)), len(WORDS) - 1)] for _ in range(count)]
        terms = [Term(word, pos, pos * 3, pos * 3 + 2) for pos, word in enumerate(words)]
        doc[name] = Preanalysed(" ".join(words) or "—", terms)
        doc[f"_stored_{name}"] = " ".join(words) or "—"
        combined += terms
        boosts += [FIELD_WEIGHTS[name]] * len(terms)
    doc[ALL] = Preanalysed("title", combined, boosts)
    return doc


def build(path: Path, writer_class: type, docs: list[dict], blocklimit: int, schema: Schema | None = None) -> None:
    path.mkdir()
    ix = whoosh_index.create_in(str(path), schema or build_schema())
    writer = writer_class(ix, compound=False, codec=W3Codec(blocklimit=blocklimit))
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()


def add_more(path: Path, writer_class: type, docs: list[dict], blocklimit: int, limitmb: float) -> None:
    """A second batch, with one post deleted, merged into one segment."""
    ix = whoosh_index.open_dir(str(path))
    writer = writer_class(ix, compound=False, codec=W3Codec(blocklimit=blocklimit), limitmb=limitmb)
    writer.delete_by_term("post", "post-3.md")
    for doc in docs:
        writer.add_document(**doc)
    writer.commit(optimize=True)


def contents(path: Path) -> dict:
    """Everything a reader can see of an index, block headers included."""
    reader = whoosh_index.open_dir(str(path)).reader()
    terms = {}
    for field, text in reader.all_terms():
        info = reader.term_info(field, text)
        stats = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(), info.max_weight())
        terms[field, text] = (stats, info.min_id(), info.max_id(), postings(reader, field, text))
    docs = range(reader.doc_count_all())
    return {
        "fields": sorted(reader.indexed_field_names()),
        "terms": terms,
        "lengths": {f: [reader.doc_field_length(d, f) for d in docs] for f in reader.schema.names()},
        "totals": {f: reader.field_length(f) for f in reader.schema.names()},
        "stored": [reader.stored_fields(d) for d in docs],
        "deleted": [reader.is_deleted(d) for d in docs],
        "dates": list(reader.column_reader("date")) if "date" in reader.schema else None,
    }


def postings(reader, field: str, text: bytes) -> list:
    """Each block's header, then its postings as (docnum, weight, value)."""
    matcher = reader.postings(field, text)
    leaf = getattr(matcher, "child", matcher)
    assert isinstance(leaf, W3LeafMatcher)
    out: list = []
    while leaf.is_active():
        out.append(("block", leaf._blocklength, leaf._maxid, leaf._maxweight, leaf._minlength, leaf._maxlength))
        for _ in range(leaf._blocklength):
            if not leaf.is_active():
                break
            out.append((leaf.id(), leaf.weight(), leaf.value()))
            leaf.next()
    return out


@pytest.mark.parametrize("positions", [False, True])  # the index's schema; Whoosh's Positions format too
@pytest.mark.parametrize("blocklimit", [4, 1024])
def test_a_new_segment_is_the_one_whoosh_writes(tmp_path: Path, blocklimit: int, positions: bool) -> None:
    rng = random.Random(7)
    docs = [document(rng, n) for n in range(120)]
    build(tmp_path / "whoosh", SegmentWriter, docs, blocklimit, build_schema(positions))
    build(tmp_path / "bulk", BulkWriter, docs, blocklimit, build_schema(positions))
    ours, theirs = contents(tmp_path / "bulk"), contents(tmp_path / "whoosh")
    assert ours["terms"].keys() == theirs["terms"].keys()
    most_blocks = max(len([p for p in t[3] if p[0] == "block"]) for t in ours["terms"].values())
    assert most_blocks > 3 if blocklimit == 4 else most_blocks == 1
    for key in theirs["terms"]:
        assert ours["terms"][key] == theirs["terms"][key], key
    assert ours == theirs


@pytest.mark.parametrize("limitmb", [128, 0.01])  # the pool in memory; spilled to runs on disk
def test_segments_merged_at_commit_match_whoosh(tmp_path: Path, limitmb: float, monkeypatch) -> None:
    spills: list[int] = []
    save = PostingPool.save
    monkeypatch.setattr(PostingPool, "save", lambda pool: spills.append(1) or save(pool))
    rng = random.Random(11)
    first, second = [document(rng, n) for n in range(60)], [document(rng, n) for n in range(60, 90)]
    for name, writer_class in (("whoosh", SegmentWriter), ("bulk", BulkWriter)):
        build(tmp_path / name, writer_class, first, 8)
        add_more(tmp_path / name, writer_class, second, 8, limitmb)
    merged = contents(tmp_path / "bulk")
    assert not any(merged["deleted"])  # optimize rewrote the segment without post-3
    assert merged == contents(tmp_path / "whoosh")
    assert bool(spills) == (limitmb < 1)


def test_terms_at_block_boundaries_match_whoosh(tmp_path: Path) -> None:
    """Terms in 3, 4, 5 and 8 documents, written in blocks of 4."""
    docs = []
    for n in range(8):
        words = ["every"] + [w for w, count in (("three", 3), ("four", 4), ("five", 5)) if n < count]
        terms = [Term(word, pos, pos, pos + 1) for pos, word in enumerate(words)]
        doc = {"doc_key": f"d{n}", "title": Preanalysed(" ".join(words), terms), "_stored_title": "t"}
        docs.append({**doc, "goal": Preanalysed("—", []), "_stored_goal": "—"})  # a field never with terms
    for name, writer_class in (("whoosh", SegmentWriter), ("bulk", BulkWriter)):
        build(tmp_path / name, writer_class, docs, 4)
    ours = contents(tmp_path / "bulk")
    blocks = {text: [p[1] for p in t[3] if p[0] == "block"] for (field, text), t in ours["terms"].items() if field == "title"}
    assert blocks == {b"every": [4, 4], b"three": [3], b"four": [4], b"five": [4, 1]}
    assert ours == contents(tmp_path / "whoosh")


def test_an_empty_writer_commits_nothing(tmp_path: Path) -> None:
    build(tmp_path / "bulk", BulkWriter, [], 1024)
    ix = whoosh_index.open_dir(str(tmp_path / "bulk"))
    assert ix._segments() == []
    assert not [f for f in (tmp_path / "bulk").iterdir() if f.suffix in {".pst", ".trm", ".col"}]


def test_plain_text_values_are_analysed_like_whoosh(tmp_path: Path) -> None:
    """Values that are not `Preanalysed` go through the field's analyzer."""
    docs = [{"doc_key": f"d{n}", "title": f"{WORDS[n]} {WORDS[n + 1]} {WORDS[n]}"} for n in range(10)]
    # Whoosh's own word splitter, so that no Kiwi loads
    schema = Schema(doc_key=ID(stored=True), title=TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=True))
    for name, writer_class in (("whoosh", SegmentWriter), ("bulk", BulkWriter)):
        build(tmp_path / name, writer_class, docs, 1024, schema=schema)
    assert contents(tmp_path / "bulk") == contents(tmp_path / "whoosh")


def test_unsupported_fields_and_codecs_are_refused_without_taking_the_lock(tmp_path: Path) -> None:
    (tmp_path / "vectors").mkdir()
    (tmp_path / "inline").mkdir()
    ix = whoosh_index.create_in(str(tmp_path / "vectors"), Schema(body=TEXT(vector=True)))
    with pytest.raises(ValueError, match="term vectors"):
        BulkWriter(ix, codec=W3Codec())
    ix = whoosh_index.create_in(str(tmp_path / "inline"), Schema(body=TEXT))
    for codec in (None, W3Codec(inlinelimit=4)):
        with pytest.raises(ValueError, match="W3 codec"):
            BulkWriter(ix, codec=codec)
    ix.writer(timeout=0).cancel()  # the lock is free


def test_boosts_are_refused_rather_than_ignored(tmp_path: Path) -> None:
    ix = whoosh_index.create_in(str(tmp_path), Schema(body=TEXT))
    writer = BulkWriter(ix, codec=W3Codec())
    with pytest.raises(ValueError, match="boosts"):
        writer.add_document(body="text", _boost=2.0)
    writer.cancel()


def test_a_reindex_past_the_memory_bound_writes_several_segments(
    default_index: searchkit.Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each segment holds at most about ``FLUSH_POSTINGS``; searching them
    finds and scores exactly what one segment gives."""
    monkeypatch.setattr(indexer, "FLUSH_POSTINGS", 2_000)
    searchkit.reindex(DEFAULT_CORPUS, tmp_path / "index")
    generation = live_generation(tmp_path / "index")
    assert len(whoosh_index.open_dir(str(generation))._segments()) > 3
    with searchkit.open_index(tmp_path / "index") as split:
        for text in ["확산 모델", '"언어 모델" 환각', "강화 학습 보상", "GPT-4o"]:
            ours, theirs = split.search(text, limit=20), default_index.search(text, limit=20)
            assert [(h.arxiv_id, round(h.score, 6)) for h in ours] == [
                (h.arxiv_id, round(h.score, 6)) for h in theirs
            ], text
            assert (ours.total, ours.total_exact) == (theirs.total, theirs.total_exact)


def ranked(index: searchkit.Index, text: str) -> tuple:
    results = index.search(text, limit=20)
    return [(h.arxiv_id, round(h.score, 6)) for h in results], results.total


def test_an_incremental_reindex_past_the_bound_matches_a_fresh_build(
    tiny_copy: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deletions, several new segments and Whoosh's merge together index
    what a full build of the same posts does. Scores agree to about 1%
    only: Whoosh's merge copies field lengths rounded to their stored byte,
    so the average length moves a little (as it always has)."""
    corpus, index = tiny_copy
    (corpus / "2025-01-06-daily-papers-20250106.md").unlink()
    edited = corpus / "2025-01-08-daily-papers-20250108.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("학습 순서", "확산 순서"), encoding="utf-8")
    monkeypatch.setattr(indexer, "FLUSH_POSTINGS", 50)
    report = searchkit.reindex(corpus, index)
    assert not report.full and (report.removed, report.updated) == (1, 1)
    monkeypatch.undo()
    searchkit.reindex(corpus, tmp_path / "fresh")
    with searchkit.open_index(index) as ours, searchkit.open_index(tmp_path / "fresh") as fresh:
        for text in ["확산", "강화 학습", "로봇", '"강화 학습"', "순서"]:
            (hits, total), (expected, expected_total) = ranked(ours, text), ranked(fresh, text)
            assert [h[0] for h in hits] == [h[0] for h in expected] and total == expected_total, text
            assert [h[1] for h in hits] == pytest.approx([h[1] for h in expected], rel=0.02), text


def test_a_failure_between_segments_keeps_the_live_index(
    tiny_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index = tiny_copy
    with searchkit.open_index(index) as before:
        expected = ranked(before, "확산")
    opened = []

    def full_disk(ix):
        opened.append(ix)
        if len(opened) > 1:
            raise OSError(28, "No space left on device")
        return writer(ix)

    writer = indexer._writer
    monkeypatch.setattr(indexer, "FLUSH_POSTINGS", 50)
    monkeypatch.setattr(indexer, "_writer", full_disk)
    with pytest.raises(searchkit.IndexWriteError, match="No space left"):
        searchkit.reindex(corpus, index, full=True)
    with searchkit.open_index(index) as after:
        assert ranked(after, "확산") == expected
