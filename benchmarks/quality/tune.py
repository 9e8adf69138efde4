"""Grid search of the query-time ranking parameters on the tuning half.

    python benchmarks/quality/tune.py [--index DIR]

Field weights are baked into the index (they are the boosts of the combined
field's postings), so they are tuned by editing ``schema.FIELD_WEIGHTS`` and
re-running ``run.py``; this script varies what a query can change: BM25's
K1 and B, the coverage power, the proximity bonus and the glossary weight.
It prints nDCG@10 on the tuning half for each setting, best last, with the
held-out figure beside it for the record (never for choosing).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]

from run import CORPUS, ndcg  # noqa: E402

import searchkit  # noqa: E402
from searchkit import engine as searcher  # noqa: E402
from searchkit import glossary, ranking  # noqa: E402

GRID = {
    "K1": [0.9, 1.2, 1.6],
    "B": [0.5, 0.75],
    "COORD_POWER": [1.0, 2.0],
    "PROXIMITY_BONUS": [0.25, 0.5, 1.0],
    "EXPANSION_WEIGHT": [0.3, 0.5, 0.7],
}


def evaluate(index_dir: Path, queries: list[dict]) -> dict[str, float]:
    scores: dict[str, list[float]] = {"tune": [], "heldout": []}
    with searchkit.open_index(index_dir) as index:
        for q in queries:
            ranked = [h.arxiv_id for h in index.search(q["query"], limit=10, sections=q["sections"])]
            scores[q["split"]].append(ndcg(ranked, q["judgments"]))
    return {split: sum(v) / len(v) for split, v in scores.items()}


def apply(setting: dict[str, float]) -> None:
    searcher.BM25_K1, searcher.BM25_B = setting["K1"], setting["B"]
    ranking.COORD_POWER = setting["COORD_POWER"]
    ranking.PROXIMITY_BONUS = setting["PROXIMITY_BONUS"]
    glossary.EXPANSION_WEIGHT = setting["EXPANSION_WEIGHT"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=HERE / "out" / "index")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} not found")
        return 0
    searchkit.reindex(CORPUS, args.index)
    queries = json.loads((HERE / "queries.json").read_text(encoding="utf-8"))
    rows = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values))
        apply(setting)
        rows.append((evaluate(args.index, queries), setting))
    rows.sort(key=lambda row: row[0]["tune"])
    for score, setting in rows[-10:]:
        print(f"tune {score['tune']:.3f}  held-out {score['heldout']:.3f}  {setting}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
