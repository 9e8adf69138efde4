"""Index terms → Sphinx keywords, one keyword per term.

Sphinx splits text at every character outside its ``charset_table``, so a
term such as ``qwen2.5-vl`` would become three keywords. Terms made only of
charset characters (Hangul, Latin, digits) go in as they are; every other
term becomes ``_`` and its UTF-8 in hex (``_`` never starts a plain term,
so the two never meet), hashed when that would pass Sphinx's keyword
length limit.
"""

from __future__ import annotations

import hashlib
import re

from ...analysis import Term
from ...query import plain

_PLAIN = re.compile(r"[a-z0-9\uac00-\ud7a3\u3131-\u318e]+")
MAX_KEYWORD = 40
"""Sphinx cuts keywords at 42 bytes' worth of characters; hashed past that."""


def encode(term: str) -> str:
    """The one Sphinx keyword standing for ``term``."""
    if _PLAIN.fullmatch(term) and len(term) <= MAX_KEYWORD:
        return term
    hexed = "_" + term.encode("utf-8").hex()
    if len(hexed) <= MAX_KEYWORD:
        return hexed
    return "_h" + hashlib.blake2b(term.encode("utf-8"), digest_size=16).hexdigest()


def field_text(terms: list[Term]) -> str:
    """A field's terms as the whitespace-joined text Sphinx indexes, each
    term at its own position as Sphinx counts them: the terms a phrase is
    matched by first (`query.plain`, one a position), then the whole names
    that share a position with their first part. Written in order, a name
    moved every later term one position on, and Sphinx's phrase counts
    missed papers the exact check found ("large language model" after
    GPT-4o: 41 for 42)."""
    positioned = plain(terms)
    kept = {id(t) for t in positioned}
    return " ".join(encode(t.text) for t in [*positioned, *(t for t in terms if id(t) not in kept)])


def any_of(terms: list[str]) -> str:
    """A MATCH expression for documents holding any of ``terms``."""
    return " | ".join(dict.fromkeys(encode(t) for t in terms))
