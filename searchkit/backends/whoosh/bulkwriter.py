"""Analysed documents → one Whoosh segment, a term at a time.

Whoosh's `SegmentWriter` sends every posting through a sorting pool as a
tuple and then through three layers of per-posting calls, reading each
field length back from disk on the way. At 738 papers that was 1.4 s of
one core after Kiwi had finished, the largest part of a reindex beyond
Kiwi itself. `BulkWriter` counts each document's terms once into per-term
arrays and, at commit, writes each term's posting blocks and term-table row
whole. The blocks are laid out as Whoosh 2.7.5's ``W3PostingsWriter`` lays
them out: re-implemented here rather than filling the buffers of Whoosh's
own writer, which measured 0.85 s against 0.74 s per commit at 738 papers
for the same index size (a Whoosh upgrade would not reach it; the version
is pinned), and `tests/test_bulkwriter.py` reads both writers'
indexes back and compares every term, block header and posting. When
older segments are merged in at commit, every posting, new ones included,
goes through Whoosh's pool as before.

It supports what the schema uses: no document or field boosts, no term
vectors, no spelling fields, the W3 codec without inlined postings.
"""

from __future__ import annotations

import secrets
import zlib
from array import array
from collections.abc import Iterator
from operator import sub
from pickle import dumps
from typing import Any

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3Segment, W3TermInfo
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.writing import SegmentWriter

from ...analysis import GAP
from .schema import KiwiTokenizer, Preanalysed

_GAP = GAP.encode("utf-8")

COMPRESS_FROM = 512
"""Blocks whose pickle is smaller are written uncompressed (Whoosh meant to
skip tiny ones, but a bug compresses them all). Most terms are rare:
compressing all 36,000 blocks of 738 papers took 0.4 s, and skipping those
under 512 bytes saves most of that for a 6% larger index. Each block
records whether it is compressed, so readers need nothing new."""


class _Postings:
    """One term's postings in one field, in document order. Values of a
    fixed size (a frequency) are kept end to end, not as a bytes object
    each (33 bytes of overhead apiece, and the combined field holds half of
    all postings)."""

    __slots__ = ("ids", "weights", "values")

    def __init__(self, size: int | None) -> None:
        self.ids = array("I")
        self.weights = array("d")  # Whoosh keeps block maxima as doubles
        self.values: list[bytes] | bytearray = bytearray() if size is not None and size >= 0 else []

    def value_list(self, size: int | None) -> list[bytes]:
        if isinstance(self.values, list):
            return self.values
        if not size:
            return [b""] * len(self.ids)
        return [bytes(self.values[i : i + size]) for i in range(0, len(self.values), size)]


class FreshCodec(W3Codec):
    """Whoosh's W3 codec, its new segments named from the system's
    randomness and never after a file already there. Whoosh names them from
    Python's global `random`: a program that seeded it (``random.seed(42)``)
    and reindexed twice drew the live segment's name again, and a new
    generation's files are hard links to the live one's (`store.new_generation`),
    so Whoosh's writing the "new" segment truncated the live index. The
    segment keeps a plain W3 codec: it is pickled into the table of
    contents, which a query unpickles without importing this module."""

    def new_segment(self, storage: Any, indexname: str) -> W3Segment:
        taken = set(storage.list())
        plain = W3Codec(blocklimit=self._blocklimit, compression=self._compression, inlinelimit=self._inlinelimit)
        while True:
            segment = W3Segment(plain, indexname, segid=secrets.token_hex(8))
            prefix = segment.make_filename("")
            if not any(name.startswith(prefix) for name in taken):
                return segment


class BulkWriter(SegmentWriter):
    """A `SegmentWriter` that keeps postings grouped by term until commit."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        unsupported = [n for n, f in ix.schema.items() if f.vector or f.separate_spelling()]
        if unsupported:  # checked before the lock and the segment files are taken
            raise ValueError(f"BulkWriter cannot write term vectors or spelling fields: {unsupported}")
        codec = kwargs.get("codec")
        if not isinstance(codec, W3Codec) or codec._inlinelimit > 1:
            raise ValueError("BulkWriter writes Whoosh's W3 codec without inlined postings; pass codec=W3Codec(...)")
        super().__init__(ix, **kwargs)
        self._postings: dict[str, dict[bytes, _Postings]] = {}
        self._lengths: dict[str, dict[int, int]] = {}
        self.buffered = 0
        """Postings held in memory, for callers that bound it."""

    def add_document(self, **fields: Any) -> None:
        self._check_state()
        docnum, perdoc = self.docnum, self.perdocwriter
        names = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(self.schema, names)
        if any(name.endswith("_boost") for name in fields if name.startswith("_")):
            raise ValueError("BulkWriter does not apply document or field boosts")
        perdoc.start_doc(docnum)
        try:
            for name in names:
                if fields[name] is not None:
                    self._add_field(docnum, name, fields[name], fields.get(f"_stored_{name}", fields[name]))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _add_field(self, docnum: int, name: str, value: Any, stored: Any) -> None:
        field = self.schema[name]
        length = 0
        if field.indexed:
            terms = self._postings.setdefault(name, {})
            size = field.format.fixed_value_size()
            items = _index(field, value)
            for tbytes, freq, weight, vbytes in items:
                postings = terms.get(tbytes)
                if postings is None:
                    postings = terms[tbytes] = _Postings(size)
                postings.ids.append(docnum)
                postings.weights.append(weight)
                if size is None or size < 0:
                    postings.values.append(vbytes)
                elif size:
                    postings.values += vbytes
                if tbytes != _GAP:  # a position, not a term of the field's length
                    length += freq
            self.buffered += len(items)
            if not field.scorable:
                length = 0
        self.perdocwriter.add_field(name, field, stored if field.stored else None, length)
        if field.column_type and stored is not None:
            self.perdocwriter.add_column_value(name, field.column_type, field.to_column_value(stored))
        if length:  # blocks record their shortest and longest, as a byte each
            self._lengths.setdefault(name, {})[docnum] = length

    def _flush_segment(self) -> None:
        if self.pool.current or self.pool.runs:  # older segments merged in: one sorted stream
            for item in self._drain():
                self.pool.add(item)
            return super()._flush_segment()
        self.perdocwriter.close()
        writer = self.fieldwriter
        for name in sorted(name for name, terms in self._postings.items() if terms):
            writer.start_field(name, self.schema[name])
            _write_field(writer, self._postings[name], self._lengths.get(name, {}))
            writer.finish_field()
        writer.close()
        self._postings = {}

    def _drain(self) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        """Every buffered posting as a pool item, each term freed once
        copied, so the buffer and the pool are not both held whole."""
        for name, terms in self._postings.items():
            size = self.schema[name].format.fixed_value_size()
            while terms:
                tbytes, p = terms.popitem()
                for docnum, weight, vbytes in zip(p.ids, p.weights, p.value_list(size)):
                    yield name, tbytes, docnum, weight, vbytes


def _index(field: Any, value: Any) -> list[tuple[bytes, int, float, bytes]]:
    """``field.index(value)``, computed straight from a `Preanalysed` value's
    terms for the two formats the schema uses."""
    fmt = field.format
    fast = isinstance(value, Preanalysed) and isinstance(field.analyzer, KiwiTokenizer)
    if not fast or type(fmt) not in (Positions, Frequency):
        return list(field.index(value))
    positions: dict[str, list[int]] = {}
    weights: dict[str, float] = {}
    boosts = value.boosts
    for i, term in enumerate(value.terms):
        text = term[0]
        positions.setdefault(text, []).append(term[1])
        weights[text] = weights.get(text, 0.0) + (boosts[i] if boosts else 1.0)
    boost = fmt.field_boost
    if type(fmt) is Positions:
        return [(t.encode("utf-8"), len(p), weights[t] * boost, fmt.encode(p)) for t, p in positions.items()]
    return [(t.encode("utf-8"), len(p), weights[t] * boost, pack_uint(len(p))) for t, p in positions.items()]


WRITE_EVERY = 1 << 20
"""Bytes of posting blocks a field gathers before writing them: one write
call a term cost more than the term's blocks."""


def _write_field(writer: Any, terms: dict[bytes, _Postings], lengths: dict[int, int]) -> None:
    """Write one field's terms in order: their posting blocks gathered and
    written a megabyte at a time, each term's offset counted, not asked of
    the file."""
    postfile, tindex = writer._postfile, writer._tindex
    fixed = writer._format.fixed_value_size()
    limit = writer._codec._blocklimit
    prefix = pack_ushort(writer._fieldid)
    out = bytearray()
    offset = postfile.tell()
    for tbytes in sorted(terms):
        start = len(out)
        row = _term_blocks(out, terms[tbytes], lengths, fixed, limit)
        tindex.add(prefix + tbytes, row + pack_long(offset + start) + pack_int(len(out) - start))
        if len(out) >= WRITE_EVERY:
            postfile.write(out)
            offset += len(out)
            out = bytearray()
    postfile.write(out)


def _term_blocks(out: bytearray, postings: _Postings, lengths: dict[int, int], fixed: int | None,
                 limit: int) -> bytes:
    """Append one term's posting blocks to ``out`` as Whoosh's
    ``W3PostingsWriter`` lays them out, and return its ``W3TermInfo`` row
    (without the extent): the same contents, the bytes differing only where
    a small block is left uncompressed. Most terms (60% at 738 papers) have
    one posting and nearly all fit in one block, so a block is cut from the
    arrays only when there are several."""
    width = fixed if fixed and fixed > 0 else 1  # fixed-size values lie end to end
    out += WHOOSH3_HEADER_MAGIC
    total, minlength, maxlength, maxweight = 0.0, None, 0, 0
    count = len(postings.ids)
    for start in range(0, count, limit):
        whole = count <= limit
        ids = postings.ids if whole else postings.ids[start : start + limit]
        exact = postings.weights if whole else postings.weights[start : start + limit]
        values = postings.values if whole else postings.values[start * width : (start + limit) * width]
        if exact.count(1.0) == len(exact):  # the usual case: no weight to store or round
            weights, stored, weight_sum, heaviest = None, None, float(len(exact)), 1.0
        else:
            weights = array("f", exact)  # as Whoosh stores them
            stored, weight_sum, heaviest = _mini_weights(weights), sum(weights), max(0, max(exact))
        sizes = [lengths.get(docnum, 0) for docnum in ids]
        nonzero = [n for n in sizes if n]
        shortest = min(nonzero) if nonzero else None
        longest = max(0, max(sizes))
        data = dumps((_deltas(ids), stored, _mini_values(values, fixed)), 2)
        comp = 3 if len(data) >= COMPRESS_FROM else 0
        if comp:
            data = zlib.compress(data, comp)
        info = dumps((len(ids), ids[-1], heaviest, comp, _length_byte(shortest), _length_byte(longest)), 2)
        size = len(info) + len(data)
        out += pack_int(-size if start + limit >= count else size)
        out += info
        out += data
        total += weight_sum
        if shortest is not None:
            minlength = shortest if minlength is None else min(minlength, shortest)
        maxlength, maxweight = max(maxlength, longest), max(maxweight, heaviest)
    return W3TermInfo._struct.pack(
        0, total, count, _length_byte(minlength) if minlength else 0, _length_byte(maxlength),
        maxweight, postings.ids[0], postings.ids[-1],
    )


_LENGTH_BYTES = [length_to_byte(n) for n in range(4096)]


def _length_byte(length: int | None) -> int:
    """Whoosh's `length_to_byte`, read from a table for the usual lengths."""
    if length is None:
        return 0
    return _LENGTH_BYTES[length] if length < 4096 else length_to_byte(length)


def _deltas(ids: array) -> tuple[int, ...]:
    previous = array("I", [0])
    previous.extend(ids[:-1])
    return tuple(map(sub, ids, previous))


def _mini_weights(weights: array) -> float | tuple[float, ...] | None:
    if weights.count(1.0) == len(weights):
        return None
    if weights.count(weights[0]) == len(weights):
        return weights[0]
    return tuple(weights)


def _mini_values(values: list[bytes] | bytearray, fixed: int | None) -> tuple[bytes, ...] | bytes | None:
    if fixed is None or fixed < 0:
        return tuple(v for v in values if v)
    return bytes(values) if fixed else None
