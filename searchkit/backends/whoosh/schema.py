"""The Whoosh schema, and the analyzer Whoosh calls: Kiwi's terms, found
in a batch before Whoosh sees a document (`Preanalysed`), pass through a
tokenizer that only hands them on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh.analysis import Token, Tokenizer
from whoosh.fields import ID, STORED, TEXT, Schema

from ...analysis import Term, analyse
from ...schema import ALL, TEXT_FIELDS


def build_schema(positions: bool = False) -> Schema:
    """The index's fields. No field keeps positions: phrases are checked
    against the stored term offsets (`schema.Spans`, which highlights read
    too), so Whoosh's own would only be encoded at every posting and
    written again (15% of a reindex's Python time at 738 papers).
    ``positions`` keeps them in the sections, for tests that compare with
    Whoosh's positional phrase matching."""
    analyzer = korean_analyzer()
    texts = {name: TEXT(analyzer=analyzer, phrase=positions, stored=True) for name in TEXT_FIELDS}
    # Frequency sums the tokens' boosts into each posting's weight, which
    # carries the section weights
    texts[ALL] = TEXT(analyzer=analyzer, phrase=False)
    return Schema(
        # a column too: exact score ties go by a full build's order (post, line), read per tie
        doc_key=ID(unique=True, stored=True, sortable=True),
        arxiv_id=ID(stored=True, sortable=True),
        post=ID(stored=True),
        date=ID(stored=True, sortable=True),
        url=STORED,
        spans=STORED,
        **texts,
    )


class Preanalysed(str):
    """Text that carries the terms a batch analysis already found for it.

    Whoosh hands a field's value to its analyzer, and only a ``str`` reaches
    the analyzer intact (lists are taken as ready-made words), so the terms
    ride on a ``str`` subclass.
    """

    terms: list[Term]
    boosts: list[float] | None

    def __new__(cls, text: str, terms: list[Term], boosts: list[float] | None = None) -> Preanalysed:
        value = super().__new__(cls, text)
        value.terms = terms
        value.boosts = boosts
        return value


class KiwiTokenizer(Tokenizer):
    """Whoosh tokenizer over `analyse_many`.

    It accepts either a plain string, analysed on the spot, or a
    `Preanalysed` one analysed earlier in a batch: the indexer passes those so
    Whoosh never waits on Kiwi one document at a time. It holds no Kiwi
    object, so Whoosh can pickle it into the index's schema.
    """

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __hash__(self) -> int:
        return hash(self.__class__)

    def __call__(  # noqa: PLR0913 - Whoosh's tokenizer signature
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        terms = value.terms if isinstance(value, Preanalysed) else analyse(value)
        boosts = value.boosts if isinstance(value, Preanalysed) else None
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for i, term in enumerate(terms):
            text, pos, start, end = term
            token.text = text
            token.boost = boosts[i] if boosts else 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


def korean_analyzer() -> KiwiTokenizer:
    """The analyzer for every text field: Kiwi does all the filtering, so
    the tokenizer is the whole chain."""
    return KiwiTokenizer()
