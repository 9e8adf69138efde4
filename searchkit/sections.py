"""The summary sections of a paper, apart from the parser that finds them.

The schema, the query and every backend name sections; only a reindex
parses posts. Keeping the names here lets a query process leave
`corpus` (its regular expressions, compiled at import, were a few per cent
of a cold query) unimported.
"""

INTRO_SECTIONS = ("goal", "motivation", "contribution")
SECTIONS = INTRO_SECTIONS + ("method", "results", "limitations", "conclusion")
"""Summary sections of a paper, in reading order."""
