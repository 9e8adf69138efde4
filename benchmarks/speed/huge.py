"""A huge post, measured: indexing and every kind of query over it.

A 5 MB post whose Method repeats "확산 모델" once kept a query busy for more
than ten minutes (highlighting counted every window anew). This builds that
post beside a small paper, indexes it as its own process (time and peak
RSS against the Kiwi-only floor of the same texts, `floor.py`), then times
each query kind in process against the same query over the same post cut
to 5 KB, in the same run, so the ratio says how the cost grows with the
section's length (linear work gives about the size ratio's share of the
query that is per-character; quadratic work gave minutes).

    python benchmarks/speed/huge.py [--megabytes 5] [--out huge.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import searchkit

HERE = Path(__file__).resolve().parent
PHRASE = "확산 모델 "
QUERIES = [
    ("words", "확산 모델", {}),
    ("100 hits", "확산 모델", {"limit": 100}),
    ("phrase", '"확산 모델"', {}),
    ("section", "확산 모델 없이", {"sections": "method"}),
    ("reversed", "모델 확산", {}),
    ("date order", "확산 모델 로봇", {"sort": "date"}),
    ("rare word", "로봇", {}),
]


def post(characters: int) -> str:
    body = PHRASE * (characters // len(PHRASE))
    return f"""---
date: 2025-03-01
---

# 1. [Huge Diffusion Post](https://arxiv.org/abs/2503.00001)

## Introduction
- Goal: 확산 모델을 연구한다.
- Motivation: 확산 모델은 느리다.

## Method
{body}

## Conclusion
확산 모델이 좋다.

# 2. [Small Robot Post](https://arxiv.org/abs/2503.00002)

## Introduction
- Goal: 로봇 보행을 연구한다.

## Method
확산 모델 없이 로봇을 제어한다.
"""


SHARED = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "daily-papers"


def prose_post(characters: int) -> str | None:
    """A post whose Method is real summary lines of the shared corpus (with
    their 한국어(English) pairs, which the pair miner reads), repeated to
    ``characters``: a repeated phrase has no brackets, and mining was
    quadratic in a section's length (800 KB: 60 s). None without the corpus."""
    lines = [line for path in sorted(SHARED.glob("*.md")) for line in path.read_text(encoding="utf-8").splitlines()
             if len(line) > 80 and not line.startswith("#")]
    if not lines:
        return None
    body, size, i = [], 0, 0
    while size < characters:
        body.append(lines[i % len(lines)])
        size, i = size + len(body[-1]) + 1, i + 1
    head = "---\ndate: 2025-03-01\n---\n\n# 1. [Prose](https://arxiv.org/abs/2503.00003)\n\n## Method\n"
    return head + "\n".join(body) + "\n"


def timed_process(argv: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in KiB and stdout of one child process."""
    started = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, int(result.stderr.strip().splitlines()[-1]), result.stdout


def build(root: Path, characters: int, text: str | None = None) -> dict:
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "2025-03-01-huge.md").write_text(text or post(characters), encoding="utf-8")
    seconds, rss, _ = timed_process([str(Path(sys.executable).parent / "papersearch"), "reindex",
                                     "--corpus", str(corpus), "--index", str(root / "index")])
    floor_seconds, floor_rss, _ = timed_process([sys.executable, str(HERE / "floor.py"), str(corpus)])
    return {"bytes": (corpus / "2025-03-01-huge.md").stat().st_size, "reindex_s": round(seconds, 2),
            "reindex_rss_mib": rss // 1024, "floor_s": round(floor_seconds, 2), "floor_rss_mib": floor_rss // 1024}


def latencies(index_dir: Path, repeat: int) -> dict[str, float]:
    """Median in-process milliseconds of each query kind, totals counted."""
    out = {}
    with searchkit.open_index(index_dir) as index:
        _ = index.search("확산 모델").total  # open the readers, as a warm process has them
        for name, text, kwargs in QUERIES:
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                _ = index.search(text, **kwargs).total
                times.append((time.perf_counter() - started) * 1000)
            out[name] = statistics.median(times)
        for paper in ("2503.00001", "2503.00002"):
            started = time.perf_counter()
            index.similar(paper)
            out[f"similar {paper}"] = (time.perf_counter() - started) * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        huge, small = Path(tmp) / "huge", Path(tmp) / "small"
        per_byte = len(PHRASE) / len(PHRASE.encode())
        figures = {"huge": build(huge, int(args.megabytes * 1e6 * per_byte)), "small": build(small, 2_000)}
        slow, fast = latencies(huge / "index", args.repeat), latencies(small / "index", args.repeat)
        prose = prose_post(int(args.megabytes * 1e6 / 2.5))  # Korean prose: about 2.5 bytes a character
        if prose:
            figures["prose"] = build(Path(tmp) / "prose", 0, prose)
    for kind, h in ((k, figures[k]) for k in ("huge", "prose") if k in figures):
        print(f"{kind} post: {h['bytes'] / 1e6:.1f} MB; reindex {h['reindex_s']} s, {h['reindex_rss_mib']} MiB peak; "
              f"Kiwi-only floor {h['floor_s']} s, {h['floor_rss_mib']} MiB ({h['reindex_s'] / h['floor_s']:.2f}x)")
    if "prose" not in figures:
        print(f"prose post: skipped, no shared corpus at {SHARED}")
    print("| query | 5 MB post, ms | 5 KB post, ms | ratio |\n|---|---:|---:|---:|")
    for name in slow:
        print(f"| {name} | {slow[name]:.0f} | {fast[name]:.1f} | {slow[name] / max(fast[name], 0.01):.0f}x |")
    figures["query_ms"] = {"huge": slow, "small": fast}
    if args.out:
        args.out.write_text(json.dumps(figures, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
