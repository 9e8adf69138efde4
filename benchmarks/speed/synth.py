"""Synthetic "Daily Papers" corpora of any size, for the speed benchmark.

The real corpus has 738 papers; scaling questions need 10,000 or 50,000.
Made-up text would not exercise Kiwi or the index like real summaries do,
so every synthetic paper is recombined from the real ones: a title (or the
head of one title and the tail of another), and for each section as many
sentences as a random real paper has there, each drawn from the real
sentences of that section. Posts use the real layout and get unique fake
arXiv ids (``9000.00001`` …, never a real one) and consecutive dates.

The output is a function of ``--papers``, ``--seed`` and the source corpus
only, so two runs compare the same text.

    python benchmarks/speed/synth.py --papers 10000 --out benchmarks/speed/out/corpus-10000
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from searchkit.corpus import SECTIONS, find_posts, parse_post

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO.parent / "shared" / "corpus" / "daily-papers"
SEED = 20251122
FIRST_DAY = date(2030, 1, 1)
PER_POST = (15, 25)
"""Papers per post, inclusive: about 20, as a busy day's digest."""

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_INTRO_LABELS = {"goal": "Goal", "motivation": "Motivation", "contribution": "Contribution"}
_HEADINGS = {"method": "Method", "results": "Results", "limitations": "Limitations", "conclusion": "Conclusion"}


@dataclass(frozen=True)
class Pool:
    """The real material synthetic papers are drawn from.

    :param titles: every real title.
    :param heads, tails: the two halves of titles written ``Head: Tail``.
    :param lengths: per section, the sentence count of each real paper.
    :param sentences: per section, every real sentence of that section.
    """

    titles: list[str]
    heads: list[str]
    tails: list[str]
    lengths: dict[str, list[int]]
    sentences: dict[str, list[str]]


def load_pool(source: Path = SOURCE) -> Pool:
    """Split the real papers into titles and per-section sentences."""
    paths, _ = find_posts(source)
    papers = [paper for path in paths for paper in parse_post(path).papers]
    if not papers:
        raise SystemExit(f"no papers found in {source}")
    titles = [p.title for p in papers]
    halves = [t.split(": ", 1) for t in titles if ": " in t]
    lengths: dict[str, list[int]] = {name: [] for name in SECTIONS}
    sentences: dict[str, list[str]] = {name: [] for name in SECTIONS}
    for paper in papers:
        for name in SECTIONS:
            found = [s for s in _SENTENCE.split(paper.sections.get(name, "").replace("\n", " ")) if s]
            lengths[name].append(len(found))
            sentences[name].extend(found)
    return Pool(titles, [h for h, _ in halves], [t for _, t in halves], lengths, sentences)


def fake_id(n: int) -> str:
    """The n-th fake arXiv id; the 9xxx prefix keeps clear of real ids."""
    return f"{9000 + n // 100000:04d}.{n % 100000:05d}"


def paper_markdown(rng: random.Random, pool: Pool, rank: int, arxiv_id: str) -> str:
    """One paper in the real post layout, recombined from the pool."""
    title = rng.choice(pool.titles)
    if pool.heads and rng.random() < 0.5:
        title = f"{rng.choice(pool.heads)}: {rng.choice(pool.tails)}"
    lines = [f"# {rank}. [{title}](https://arxiv.org/abs/{arxiv_id})", "", "## Introduction", ""]
    lines += [f"- {label}: {_section(rng, pool, name)}" for name, label in _INTRO_LABELS.items()]
    for name, heading in _HEADINGS.items():
        lines += ["", f"## {heading}", "", _section(rng, pool, name)]
    return "\n".join(lines) + "\n"


def _section(rng: random.Random, pool: Pool, name: str) -> str:
    count = max(1, rng.choice(pool.lengths[name]))
    return " ".join(rng.choice(pool.sentences[name]) for _ in range(count))


def post_markdown(rng: random.Random, pool: Pool, day: date, ids: list[str]) -> str:
    """A whole post: Jekyll front matter, then one block per paper."""
    front = (
        f'---\nlayout: post\ntitle: "Daily Papers — {day}"\ndate: {day} 08:15:00\n'
        "tags: [papers, hugginface]\ncategories: []\n---\n"
    )
    return front + "".join("\n" + paper_markdown(rng, pool, k, i) for k, i in enumerate(ids, 1))


def post_name(day: date) -> str:
    return f"{day}-daily-papers-{day:%Y%m%d}.md"


def write_corpus(out: Path, papers: int, *, seed: int = SEED, source: Path = SOURCE) -> int:
    """Replace ``out`` with a corpus of ``papers`` papers; returns the post count."""
    pool, rng = load_pool(source), random.Random(seed)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    done, day = 0, FIRST_DAY
    while done < papers:
        count = min(rng.randint(*PER_POST), papers - done)
        ids = [fake_id(done + k + 1) for k in range(count)]
        (out / post_name(day)).write_text(post_markdown(rng, pool, day, ids), encoding="utf-8")
        done, day = done + count, day + timedelta(days=1)
    return (day - FIRST_DAY).days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=10000, help="papers to write (default 10000)")
    parser.add_argument("--out", type=Path, required=True, help="directory to (re)create")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--source", type=Path, default=SOURCE, help="the real corpus to recombine")
    args = parser.parse_args()
    if not args.source.is_dir():
        raise SystemExit(f"source corpus not found: {args.source}")
    posts = write_corpus(args.out, args.papers, seed=args.seed, source=args.source)
    print(f"wrote {args.papers} papers in {posts} posts to {args.out}")


if __name__ == "__main__":
    main()
