"""papersearch's engine: Korean full-text search over AI-paper summaries.

From posts to hits::

    >>> import searchkit
    >>> report = searchkit.reindex("corpus", "index")      # doctest: +SKIP
    >>> with searchkit.open_index("index") as index:       # doctest: +SKIP
    ...     for hit in index.search("확산 모델", limit=3):
    ...         print(hit.arxiv_id, hit.title, hit.matched_sections)
"""

from .corpus import SECTIONS, Paper, Problem, parse_post
from .errors import (
    CorpusError,
    IndexBusyError,
    IndexCorruptError,
    IndexMissingError,
    InputError,
    NotFoundError,
    QueryError,
    SearchkitError,
)
from .hits import Expansion, Fragment, Hit, PaperView, Results
from .indexer import ReindexReport, reindex
from .schema import SECTION_GROUPS, TEXT_FIELDS
from .searcher import Index, open_index

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
    "IndexBusyError",
    "IndexCorruptError",
    "IndexMissingError",
    "InputError",
    "NotFoundError",
    "Paper",
    "PaperView",
    "Problem",
    "QueryError",
    "ReindexReport",
    "Results",
    "SearchkitError",
    "open_index",
    "parse_post",
    "reindex",
]
