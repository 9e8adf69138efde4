"""Scale of the Sphinx cluster backend: the Whoosh directory vs 1 local
node vs 3 local nodes, on one corpus, in one run.

Two phases, because a big reindex takes long and a query run must see the
three indexes side by side:

``build``: the Kiwi-only floor (floor.py), then a full reindex of the
directory, of a 1-node and of a 3-node cluster, each a whole process
(wall time, peak RSS; each searchd's peak RSS, VmHWM), and each index's
size on disk (a cluster's after its nodes stopped and saved their RAM
chunks). The indexes stay in ``--work`` for the query phase.

``query``: the clusters built so far up again on their data, the indexes
open in this process; each query runs once to warm (and the clusters' top
10 is compared with the directory's: the window must not change an
answer at any size), then the backends take
turns query by query (so a load spike hits all three alike) for p50/p95
in process; then ``python -m searchkit query`` as a whole process against
each (wall time, peak RSS), and searchd's peak RSS over the phase.

Nodes are always stopped by their pid files, also when a step fails.
Results merge into ``WORK/results.json``; ``--table`` prints them.

    python benchmarks/speed/cluster.py build --corpus /work/bench/synth-10000 --work /work/bench/cluster-10000
    python benchmarks/speed/cluster.py query --work /work/bench/cluster-10000
    python benchmarks/speed/cluster.py table --work /work/bench/cluster-10000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import own_rss

HERE = Path(__file__).resolve().parent
PY = sys.executable
NODES = (1, 3)
QUERIES = [
    "확산 모델", "강화 학습 보상", "시각 토큰 압축", "멀티모달 대형 언어 모델", "에이전트 도구 사용",
    "모델을 학습하는 방법", "추론 능력이 향상된다", "데이터셋에서 성능을", "강화학습", "대규모언어모델",
    "비디오 생성모델", "LLM", "RLHF reward model", "GPT-4o", "Qwen2.5-VL", "diffusion transformer",
    '"강화 학습" 보상', '"언어 모델" 환각', "계산 비용을 줄이는 효율적인 추론",
]
"""run.py's queries (its arXiv id is in the real corpus only)."""
WHOLE_PROCESS = ["확산 모델", "모델을 학습하는 방법", "강화학습", "GPT-4o", '"강화 학습" 보상']


def child(cmd: list, ok: tuple[int, ...] = (0,)) -> dict:
    """A child process's wall seconds and its own peak RSS (`peak`)."""
    wrapped, peak_of = own_rss.wrap([str(c) for c in cmd])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(wrapped, cwd=HERE, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        rss, _ = peak_of(usage.ru_maxrss / 1024)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        if code not in ok:
            raise SystemExit(f"{' '.join(map(str, cmd))} exited {code}:\n{err.read().decode()[-2000:]}")
        out.seek(0)
        return {"s": seconds, "rss_mb": rss, "stdout": out.read().decode()[-500:]}


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def searchd_rss(directory: Path) -> list[float]:
    """Each node's searchd peak RSS in MB (VmHWM), while it runs."""
    from searchkit.backends.sphinx import nodes

    out = []
    for _, pid in nodes.pids(directory).items():
        status = Path(f"/proc/{pid}/status").read_text()
        out.append(int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024)
    return out


class Up:
    """Local nodes in ``directory`` for a ``with`` block, stopped by pid
    however the block ends."""

    def __init__(self, count: int, directory: Path) -> None:
        self.count, self.directory = count, directory

    def __enter__(self) -> str:
        from searchkit.backends.sphinx import nodes

        return str(nodes.up(self.count, self.directory))

    def __exit__(self, *exc: object) -> None:
        from searchkit.backends.sphinx import nodes

        nodes.down(self.directory)


def load(work: Path) -> dict:
    path = work / "results.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save(work: Path, results: dict) -> None:
    """Merge into results.json under a lock: build steps may run side by side."""
    import fcntl

    with open(work / "results.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        merged = load(work)
        for key, value in results.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key].update(value)
            else:
                merged[key] = value
        (work / "results.json").write_text(json.dumps(merged, ensure_ascii=False, indent=1), encoding="utf-8")


def build(corpus: Path, work: Path, only: list[str]) -> None:
    """Floor, then each backend's full reindex; saved after each step."""
    work.mkdir(parents=True, exist_ok=True)
    from searchkit.corpus import find_posts, parse_post  # the parser's count: headings take several forms

    papers = sum(len(parse_post(p).papers) for p in find_posts(corpus)[0])
    save(work, {"corpus": str(corpus), "papers": papers})
    steps: dict[str, dict] = {}
    for name in ("floor", "floor2"):  # floor2: again, side by side with the backends' reindexes
        if name in only:
            done = child([PY, HERE / "floor.py", corpus])
            steps[name] = {**done, "stages": json.loads(done.pop("stdout"))["stages_s"], "at": time.time()}
            save(work, {"build": {name: steps[name]}})
    if "dir" in only:
        index = work / "dir"
        done = child([PY, "-m", "searchkit", "reindex", "--full", "--corpus", corpus, "--index", index])
        steps["dir"] = {**done, "size_mb": size(index) / 2**20, "at": time.time()}
        save(work, {"build": {"dir": steps["dir"]}})
    for count in NODES:
        if f"c{count}" not in only:
            continue
        directory = work / f"c{count}"
        with Up(count, directory) as url:
            done = child([PY, "-m", "searchkit", "reindex", "--full", "--corpus", corpus, "--index", url])
            rss = searchd_rss(directory)
        steps[f"c{count}"] = {**done, "searchd_rss_mb": rss, "size_mb": size(directory) / 2**20, "at": time.time()}
        save(work, {"build": {f"c{count}": steps[f"c{count}"]}})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def query(work: Path, repeat: int) -> None:
    """In-process latency, the backends taking turns, then whole processes."""
    import searchkit

    results = load(work)
    with contextlib.ExitStack() as stack:
        urls = {"dir": str(work / "dir")}
        for count in NODES:  # only the clusters built so far
            if f"c{count}" in results.get("build", {}):
                urls[f"c{count}"] = stack.enter_context(Up(count, work / f"c{count}"))
        indexes = {name: searchkit.open_index(location) for name, location in urls.items()}
        try:
            times: dict[str, list[float]] = {name: [] for name in indexes}
            tops: dict[str, list] = {name: [] for name in indexes}
            for q in QUERIES:  # warm: caches, first reads; and each backend's top 10, compared below
                for name, index in indexes.items():
                    found = index.search(q)
                    found.total  # noqa: B018 - the CLI prints the total too
                    tops[name].append([(h.arxiv_id, h.score) for h in found])
            agree = {name: [q for q, a, b in zip(QUERIES, tops["dir"], tops[name])
                            if [i for i, _ in a] != [i for i, _ in b]] for name in urls if name != "dir"}
            print("top-10 disagreements with the directory:", json.dumps(agree, ensure_ascii=False), flush=True)
            # an index built by other code (another glossary) reads a query otherwise: that is not the backend's doing
            misread = {name: [q for q in QUERIES if index.parse(q, True) != indexes["dir"].parse(q, True)]
                       for name, index in indexes.items() if name != "dir"}
            if any(misread.values()):
                print("queries read otherwise than by the directory (indexes built by other code?):",
                      json.dumps(misread, ensure_ascii=False), flush=True)
            for _ in range(repeat):
                for q in QUERIES:
                    for name, index in indexes.items():
                        started = time.perf_counter()
                        index.search(q).total  # noqa: B018
                        times[name].append((time.perf_counter() - started) * 1000)
        finally:
            for index in indexes.values():
                index.close()
        whole: dict[str, list[dict]] = {name: [] for name in urls}
        for q in WHOLE_PROCESS:
            for name, location in urls.items():
                whole[name].append(child([PY, "-m", "searchkit", "query", q, "--index", location], ok=(0, 1)))
        rss = {name: searchd_rss(work / name) for name in urls if name != "dir"}
    results["query"] = {
        name: {"p50_ms": statistics.median(t), "p95_ms": percentile(t, 0.95), "runs": len(t),
               "whole_s": statistics.median(r["s"] for r in whole[name]),
               "whole_rss_mb": max(r["rss_mb"] for r in whole[name]),
               **({"searchd_rss_mb": rss[name]} if name in rss else {})}
        for name, t in times.items()
    }
    results["query"]["at"] = time.time()
    results["query"]["disagree"] = agree
    results["query"]["misread"] = misread
    results["query"]["tops"] = tops
    save(work, results)


def rows(results: dict) -> list[tuple[str, ...]]:
    """Markdown rows: one line a figure, ratios against the floor and the directory."""
    b, q = results.get("build", {}), results.get("query", {})
    # the floor run side by side with the reindexes shares their machine: the fair ratio
    floor = b.get("floor2", b.get("floor", {})).get("s")
    out = []
    names = {"dir": "Whoosh directory", "c1": "cluster, 1 node", "c3": "cluster, 3 nodes"}
    for key, label in names.items():
        step, lat = b.get(key), q.get(key)
        if step:
            ratio = f" ({step['s'] / floor:.2f}× floor)" if floor else ""
            searchd = f", searchd {'+'.join(f'{m:.0f}' for m in step.get('searchd_rss_mb', []))} MB" \
                if "searchd_rss_mb" in step else ""
            out.append((label, "full reindex", f"{step['s']:.1f} s{ratio}", f"{step['rss_mb']:.0f} MB{searchd}",
                        f"{step['size_mb']:.0f} MB"))
        if lat:
            ratio = f" ({lat['p50_ms'] / q['dir']['p50_ms']:.2f}× dir)" if key != "dir" and "dir" in q else ""
            searchd = f", searchd {'+'.join(f'{m:.0f}' for m in lat['searchd_rss_mb'])} MB" \
                if "searchd_rss_mb" in lat else ""
            out.append((label, "query p50 / p95 in process", f"{lat['p50_ms']:.1f} / {lat['p95_ms']:.1f} ms{ratio}",
                        "", ""))
            out.append((label, "query, whole process", f"{lat['whole_s']:.2f} s", f"{lat['whole_rss_mb']:.0f} MB"
                        f"{searchd}", ""))
    for key, label in (("floor2", "Kiwi-only floor, beside the reindexes"), ("floor", "Kiwi-only floor, alone")):
        if key in b:
            out.insert(0, (label, "floor.py", f"{b[key]['s']:.1f} s", f"{b[key]['rss_mb']:.0f} MB", ""))
    return out


def table(results: dict) -> str:
    head = f"{results.get('papers', '?')} papers ({results.get('corpus', '')})"
    lines = [head, "", "| backend | measure | time | peak RSS | size |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows(results)]
    for name, differ in results.get("query", {}).get("disagree", {}).items():
        lines.append(f"\n{name}: top 10 unlike the directory's for {len(differ)} of {len(QUERIES)} queries {differ}")
    for name, differ in results.get("query", {}).get("misread", {}).items():
        if differ:
            lines.append(f"\n{name}: reads {len(differ)} queries otherwise than the directory (built by other code?) "
                         f"{differ}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("phase", choices=["build", "query", "table"])
    parser.add_argument("--corpus", type=Path, help="the corpus (build)")
    parser.add_argument("--work", type=Path, required=True, help="indexes and results.json")
    parser.add_argument("--only", default="floor,dir,c1,c3", help="build steps, comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of in-process queries")
    args = parser.parse_args()
    if args.phase == "build":
        if not args.corpus or not args.corpus.is_dir():
            raise SystemExit("build needs --corpus DIR")
        build(args.corpus.resolve(), args.work.resolve(), args.only.split(","))
    elif args.phase == "query":
        query(args.work.resolve(), args.repeat)
    print(table(load(args.work.resolve())))


if __name__ == "__main__":
    main()
