"""Search quality: nDCG@10, MRR@10 and Recall@10 for papersearch and baselines.

    python benchmarks/quality/run.py [--no-nori | --only-papersearch] [--json OUT]

Runs the judged queries of ``queries.json`` over ../shared/corpus/daily-papers
with papersearch and, in the same run, with the baselines of ``baselines.py``
(Whoosh's default analyzer, SQLite FTS5 unicode61, Lucene nori when Java and
Debian's liblucene8-java are installed), and prints the scores overall and
per query kind for both halves of the query set.

Baselines see the same fields; a section-scoped query searches only those
sections in every system; the arXiv id is added to the baselines' title text
(as a keyword field would be in Elasticsearch) so id queries are fair.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "daily-papers"
sys.path[:0] = [str(ROOT), str(HERE)]

import baselines  # noqa: E402

import searchkit  # noqa: E402
from searchkit.corpus import find_posts, parse_post  # noqa: E402
from searchkit.schema import resolve_sections  # noqa: E402

K = 10
Ranker = Callable[[list[dict]], list[list[str]]]


# Metrics


def ndcg(ranked: list[str], judged: dict[str, int], k: int = K) -> float:
    """Graded nDCG with gains 2^rel - 1, as in TREC and most IR papers."""
    dcg = sum((2 ** judged.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(judged.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def mrr(ranked: list[str], judged: dict[str, int], k: int = K) -> float:
    return next((1 / (i + 1) for i, d in enumerate(ranked[:k]) if judged.get(d, 0) > 0), 0.0)


def recall(ranked: list[str], judged: dict[str, int], k: int = K) -> float:
    relevant = {d for d, g in judged.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


# Systems


def papersearch_ranker(index_dir: Path, **options) -> Callable[[list[dict]], list[list[str]]]:
    def run(queries: list[dict]) -> list[list[str]]:
        with searchkit.open_index(index_dir) as index:
            return [
                [h.arxiv_id for h in index.search(q["query"], limit=K, sections=q["sections"], **options)]
                for q in queries
            ]

    return run


def baseline_ranker(function: Callable, papers: list[dict]) -> Callable[[list[dict]], list[list[str]]]:
    """Run a baseline per group of queries that share their sections."""

    def run(queries: list[dict]) -> list[list[str]]:
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, q in enumerate(queries):
            groups[resolve_sections(q["sections"])].append(i)
        out: list[list[str]] = [[] for _ in queries]
        for fields, members in groups.items():
            view = [{"arxiv_id": p["arxiv_id"], **{f: p[f] if f in fields else "" for f in baselines.FIELDS}}
                    for p in papers]
            if "title" in fields:
                for row, paper in zip(view, papers):
                    row["title"] = f"{paper['title']} {paper['arxiv_id']}"
            for i, ranked in zip(members, function(view, [queries[i]["query"] for i in members], K)):
                out[i] = ranked
        return out

    return run


def load_papers() -> list[dict]:
    paths, _ = find_posts(CORPUS)
    return [
        {"arxiv_id": p.arxiv_id, "title": p.title, **{f: p.sections.get(f, "") for f in baselines.FIELDS[1:]}}
        for path in paths
        for p in parse_post(path).papers
    ]


# Report


def score(queries: list[dict], runs: list[list[str]]) -> dict[str, dict[str, float]]:
    """Mean metrics per kind and overall."""
    rows: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for q, ranked in zip(queries, runs):
        triple = (ndcg(ranked, q["judgments"]), mrr(ranked, q["judgments"]), recall(ranked, q["judgments"]))
        rows[q["kind"]].append(triple)
        rows["overall"].append(triple)
    return {kind: dict(zip(("ndcg", "mrr", "recall"), (sum(c) / len(v) for c in zip(*v)))) for kind, v in rows.items()}


def print_table(title: str, results: dict[str, dict[str, dict[str, float]]]) -> None:
    kinds = ["overall"] + sorted(k for k in next(iter(results.values())) if k != "overall")
    print(f"\n### {title}: nDCG@10 (MRR@10 / Recall@10 overall)\n")
    print("| system | " + " | ".join(kinds) + " |")
    print("|---" * (len(kinds) + 1) + "|")
    for system, table in results.items():
        cells = [f"{table[k]['ndcg']:.3f}" if k in table else "-" for k in kinds]
        overall = table["overall"]
        cells[0] += f" ({overall['mrr']:.2f} / {overall['recall']:.2f})"
        print(f"| {system} | " + " | ".join(cells) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-nori", action="store_true", help="skip the Lucene nori baseline")
    parser.add_argument("--only-papersearch", action="store_true", help="skip every baseline (fast tuning)")
    parser.add_argument("--json", type=Path, help="write the scores as JSON here")
    parser.add_argument("--index", type=Path, default=HERE / "out" / "index")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} not found (the shared corpus must sit beside the repository)")
        return 0
    queries = json.loads((HERE / "queries.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    searchkit.reindex(CORPUS, args.index)
    systems: dict[str, Ranker] = {
        "papersearch": papersearch_ranker(args.index),
        "papersearch --no-expand": papersearch_ranker(args.index, expand=False),
    }
    if "feedback" in inspect.signature(searchkit.Index.search).parameters:  # older checkouts lack the option
        systems["papersearch --feedback"] = papersearch_ranker(args.index, feedback=True)
    if not args.only_papersearch:
        papers = load_papers()
        systems["whoosh default"] = baseline_ranker(baselines.whoosh_default, papers)
        systems["sqlite fts5"] = baseline_ranker(baselines.sqlite_fts5, papers)
        if not args.no_nori:
            systems["lucene nori"] = baseline_ranker(baselines.lucene_nori, papers)
    scores: dict[str, dict] = {"tune": {}, "heldout": {}, "all": {}}
    for name, ranker in systems.items():
        try:
            runs = ranker(queries)
        except baselines.BaselineUnavailable as exc:
            print(f"{name}: skipped ({exc})")
            continue
        for split in ("tune", "heldout"):
            chosen = [(q, r) for q, r in zip(queries, runs) if q["split"] == split]
            scores[split][name] = score([q for q, _ in chosen], [r for _, r in chosen])
        scores["all"][name] = score(queries, runs)
    for split in ("heldout", "tune", "all"):
        print_table(f"{split} queries", scores[split])
    print(f"\n{len(queries)} judged queries; {time.perf_counter() - started:.0f}s")
    if args.json:
        args.json.write_text(json.dumps(scores, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
