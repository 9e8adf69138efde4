"""The static search page: `export_site` writes it from an index, and
`trend` counts a query's matching papers per week (the page draws the same).

The page's JS (``static/``) mirrors the Python search module by module;
docs/ARCHITECTURE.md lists which function mirrors which.
"""

from .export import SiteReport, export_site
from .trend import trend

__all__ = ["SiteReport", "export_site", "trend"]
