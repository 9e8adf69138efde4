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
    IndexWriteError,
    InputError,
    NotFoundError,
    QueryError,
    SearchkitError,
)
from .hits import Expansion, Fragment, Hit, IndexStats, PaperView, Results

if TYPE_CHECKING:
    from .corpus import SECTIONS, Paper, Problem, parse_post
    from .indexer import ReindexReport, reindex
    from .schema import SECTION_GROUPS, TEXT_FIELDS
    from .searcher import Index, open_index
    from .site import SiteReport, export_site, trend

# Whoosh, Kiwi's wrapper and the indexer load on first use, not on import:
# every CLI call imports this package, and a query answered by a running
# `papersearch serve` should not pay for any of them.
_LAZY = {
    "SECTIONS": "corpus", "Paper": "corpus", "Problem": "corpus", "parse_post": "corpus",
    "ReindexReport": "indexer", "reindex": "indexer",
    "SECTION_GROUPS": "schema", "TEXT_FIELDS": "schema",
    "Index": "searcher", "open_index": "searcher",
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
    "IndexWriteError",
    "InputError",
    "NotFoundError",
    "Paper",
    "PaperView",
    "Problem",
    "QueryError",
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
