"""The Kiwi-only floor of a full reindex, as its own process.

No indexer can beat the time it takes to start Python, read the posts,
load Kiwi and tokenise every text once, so a full reindex is measured
against exactly that: the same interpreter and package imports as
``python -m searchkit``, Kiwi loaded by `searchkit.analysis.kiwi` (same
options, 2 worker threads), and the same texts the indexer analyses (title
plus the 7 sections of each paper, empty for a missing section, a text
longer than `analysis.PIECE` in the pieces the indexer cuts it into) in
one batch. Prints the stages' seconds as JSON.

    python benchmarks/speed/floor.py CORPUS
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402 - the clock starts before any import
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from searchkit.analysis import _pieces, kiwi  # noqa: E402
from searchkit.corpus import SECTIONS, find_posts, parse_post  # noqa: E402


def texts(corpus: Path) -> list[str]:
    """Every text a full reindex of ``corpus`` hands to Kiwi, in order."""
    paths, _ = find_posts(corpus)
    posts = [parse_post(path) for path in paths]
    papers = [paper for post in posts if not post.skipped for paper in post.papers]
    whole = [text for p in papers for text in (p.title, *(p.sections.get(s, "") for s in SECTIONS))]
    return [piece for text in whole for _, piece in _pieces(text)]


def main() -> None:
    lap = [("imports", time.perf_counter())]
    batch = texts(Path(sys.argv[1]))
    lap.append(("parse", time.perf_counter()))
    analyser = kiwi()
    lap.append(("kiwi_load", time.perf_counter()))
    tokens = sum(len(result) for result in analyser.tokenize(batch))
    lap.append(("tokenise", time.perf_counter()))
    stages = {name: round(t - prev, 3) for (name, t), (_, prev) in zip(lap, [("", STARTED), *lap])}
    print(json.dumps({"texts": len(batch), "tokens": tokens, "stages_s": stages}))


if __name__ == "__main__":
    main()
