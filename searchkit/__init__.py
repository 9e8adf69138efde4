"""papersearch's engine: Korean full-text search over AI-paper summaries.

From posts to hits::

    >>> import searchkit
    >>> report = searchkit.reindex("corpus", "index")      # doctest: +SKIP
    >>> with searchkit.open_index("index") as index:       # doctest: +SKIP
    ...     for hit in index.search("확산 모델", limit=3):
    ...         print(hit.arxiv_id, hit.title, hit.matched_sections)
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import (
    CorpusError,
    IndexClosedError,
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    IndexWriteError,
    InputError,
    NotFoundError,
    QueryError,
    ResourceError,
    SearchkitError,
)

if TYPE_CHECKING:
    from .backends import open_index, reindex
    from .corpus import SECTIONS, Paper, Problem, parse_post
    from .engine import Index
    from .hits import Expansion, Fragment, Hit, IndexStats, PaperView, Results
    from .indexing import ReindexReport
    from .schema import SECTION_GROUPS, TEXT_FIELDS
    from .site import SiteReport, export_site, trend

# Whoosh, Kiwi's wrapper, the indexer and even the result records (their
# dataclasses import inspect) load on first use, not on import: every CLI
# call imports this package, and a query answered by a running
# `papersearch serve` should not pay for any of them.
_LAZY = {
    "Expansion": "hits", "Fragment": "hits", "Hit": "hits", "IndexStats": "hits", "PaperView": "hits",
    "Results": "hits",
    "SECTIONS": "corpus", "Paper": "corpus", "Problem": "corpus", "parse_post": "corpus",
    "ReindexReport": "indexing", "reindex": "backends",
    "SECTION_GROUPS": "schema", "TEXT_FIELDS": "schema",
    "Index": "engine", "open_index": "backends",
    "export_site": "site", "trend": "site", "SiteReport": "site",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "SECTIONS",
    "SECTION_GROUPS",
    "TEXT_FIELDS",
    "CorpusError",
    "Expansion",
    "Fragment",
    "Hit",
    "Index",
    "IndexStats",
    "IndexClosedError",
    "IndexCorruptError",
    "IndexMissingError",
    "IndexStaleError",
    "IndexWriteError",
    "InputError",
    "NotFoundError",
    "Paper",
    "PaperView",
    "Problem",
    "QueryError",
    "ResourceError",
    "ReindexReport",
    "Results",
    "SearchkitError",
    "SiteReport",
    "export_site",
    "open_index",
    "parse_post",
    "reindex",
    "trend",
]
