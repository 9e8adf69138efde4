"""Speed benchmark of papersearch: one command, one table.

Measures, on the real corpus (738 papers) and synthetic ones (10,000, and
50,000 with ``--large``; see synth.py), each against a baseline timed in
the same run so the ratio survives a noisy machine:

1. full reindex, whole process, vs the Kiwi-only floor (floor.py);
2. incremental reindex after adding, editing, deleting one post;
3. whole-process ``papersearch query`` vs a whole-process SQLite FTS5
   query (fts5.py), and which queries made the CLI load Kiwi;
4. in-process latency p50/p95 vs tantivy and bm25s on the same terms
   (latency.py);
5. index and corpus size, peak RSS of reindex and query processes.

Prints a Markdown table (paste it into a README) and writes every figure,
per-query times included, as JSON.

    python benchmarks/speed/run.py [--large] [--repeat N] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import synth

from searchkit.corpus import parse_post

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REAL_CORPUS = REPO.parent / "shared" / "corpus" / "daily-papers"
PY = sys.executable

QUERIES = [
    "확산 모델",  # Korean topics
    "강화 학습 보상",
    "시각 토큰 압축",
    "멀티모달 대형 언어 모델",
    "에이전트 도구 사용",
    "모델을 학습하는 방법",  # particles and endings
    "추론 능력이 향상된다",
    "데이터셋에서 성능을",
    "강화학습",  # spacing variants
    "대규모언어모델",
    "비디오 생성모델",
    "LLM",  # English and acronyms
    "RLHF reward model",
    "GPT-4o",
    "Qwen2.5-VL",
    "diffusion transformer",
    '"강화 학습" 보상',  # phrases
    '"언어 모델" 환각',
    "계산 비용을 줄이는 효율적인 추론",  # long
    "2510.21800",  # arXiv id (in the real corpus only)
]
WHOLE_PROCESS = ["확산 모델", "모델을 학습하는 방법", "강화학습", "GPT-4o", '"강화 학습" 보상', "2510.21800"]
"""A cross-section of QUERIES: each whole-process run costs a second."""

TARGETS = {"reindex_ratio": 1.15, "add_post_s": 3.0, "query_ratio": 5.0, "query_rss_mb": 300.0}
P50_TARGETS = ((1000, 20.0), (20000, 30.0), (10**9, 100.0))
"""(up to this many papers, in-process p50 target in ms)."""

PROBE = """
import atexit, sys
from searchkit import analysis
atexit.register(lambda: print(getattr(analysis, "_kiwi", None) is not None, file=sys.stderr))
from searchkit.terminal.cli import main
main()
"""
"""A `papersearch query` that reports at exit whether it loaded Kiwi."""


# Processes


@dataclass(frozen=True)
class Run:
    """One finished child process: wall seconds, peak RSS, output."""

    seconds: float
    rss_mb: float
    stdout: str
    stderr: str


def run(cmd: list[str | Path], ok: tuple[int, ...] = (0,)) -> Run:
    """Run a command, timing it wall-clock. It runs in this directory, not
    the repo root, where ``-m searchkit`` would beat ``--snapshot``.

    ``os.wait4`` returns the rusage of exactly this child, so peak RSS
    needs neither ``/usr/bin/time`` nor a wrapper process.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen([str(c) for c in cmd], cwd=HERE, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Run(seconds, usage.ru_maxrss / 1024, out.read().decode(), err.read().decode())
    if child.returncode not in ok:
        raise SystemExit(f"{' '.join(map(str, cmd))} exited {child.returncode}:\n{result.stderr[-2000:]}")
    return result


def reindex_cmd(corpus: Path, index: Path, full: bool = False) -> list[str | Path]:
    return [PY, "-m", "searchkit", "reindex", *(["--full"] if full else []), "--corpus", corpus, "--index", index]


def median(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def peak(runs: list[Run]) -> float:
    return max(r.rss_mb for r in runs)


def _tail(stderr: str) -> str:
    """The reindex summary line, unwrapped (rich wraps it at 80 columns)."""
    found = re.findall(r"\d+ posts read.*", " ".join(stderr.split()))
    return found[-1] if found else stderr[-200:]


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# Corpora


@dataclass(frozen=True)
class Corpus:
    """A corpus to measure; ``real`` is the one incremental runs edit."""

    label: str
    path: Path
    papers: int
    repeat: int
    real: bool = False


def corpora(args: argparse.Namespace) -> list[Corpus]:
    """The real corpus and synthetic ones; big ones are repeated less,
    because one 10k reindex already takes minutes."""
    real = sum(len(parse_post(p).papers) for p in args.corpus.glob("*.md"))
    found = [Corpus(str(real), args.corpus, real, args.repeat, real=True)]
    sizes = (10_000, 50_000) if args.large else (10_000,)
    for papers in sizes if args.synthetic is None else args.synthetic:
        path = args.work / f"corpus-{papers}"
        synth.write_corpus(path, papers, source=args.corpus)
        repeat = args.repeat if papers < 5_000 else max(1, args.repeat - 1) if papers <= 10_000 else 1
        found.append(Corpus(f"{papers // 1000}k", path, papers, repeat))
    return found


# Measurements


def full_reindex(corpus: Corpus, index: Path) -> dict:
    """Floor and reindex alternate, so drift hits both alike."""
    floors, builds = [], []
    for _ in range(corpus.repeat):
        floors.append(run([PY, HERE / "floor.py", corpus.path]))
        shutil.rmtree(index, ignore_errors=True)
        builds.append(run(reindex_cmd(corpus.path, index, full=True)))
    return {
        "floor_s": median(floors),
        "reindex_s": median(builds),
        "ratio": median(builds) / median(floors),
        "floor_stages_s": json.loads(floors[-1].stdout)["stages_s"],
        "floor_rss_mb": peak(floors),
        "reindex_rss_mb": peak(builds),
        "index_bytes": size(index),
        "corpus_bytes": size(corpus.path),
        "summary": _tail(builds[-1].stderr),
    }


def incremental(corpus: Corpus, index: Path, work: Path) -> dict:
    """Each change is made on fresh copies of the corpus and its index."""
    result = {}
    for name, change in changes(corpus.path).items():
        runs = []
        for _ in range(corpus.repeat):
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(corpus.path, work / "corpus")
            shutil.copytree(index, work / "index")
            change(work / "corpus")
            runs.append(run(reindex_cmd(work / "corpus", work / "index")))
        result[f"{name}_s"] = median(runs)
        result[f"{name}_summary"] = _tail(runs[-1].stderr)
    shutil.rmtree(work, ignore_errors=True)
    return result


def changes(source: Path) -> dict[str, Callable[[Path], object]]:
    """The three edits, each applied to a copy of ``source``: a new post of
    8 synthetic papers (the real posts' mean), one line added to a post of
    about that size, and that post deleted."""
    posts = sorted(source.glob("*.md"))
    victim = min(posts, key=lambda p: abs(len(parse_post(p).papers) - 8)).name
    day = date(2099, 1, 1)
    post = synth.post_markdown(random.Random(1), synth.load_pool(source), day, [synth.fake_id(k) for k in range(8)])
    return {
        "add": lambda c: (c / synth.post_name(day)).write_text(post, encoding="utf-8"),
        "edit": lambda c: (c / victim).write_text((c / victim).read_text() + "\n추가 실험 결과를 보고한다.\n"),
        "delete": lambda c: (c / victim).unlink(),
    }


def whole_query(corpus: Corpus, index: Path, work: Path) -> dict:
    """papersearch and FTS5 alternate, query by query; exit 1 (no hits) is
    fine. Each of the 20 queries then runs once more as a probe, to see
    whether it loaded Kiwi; the probes count towards the query's peak RSS."""
    db = work / f"fts5-{corpus.label}.sqlite"
    run([PY, HERE / "fts5.py", "build", corpus.path, db])
    ours: dict[str, list[Run]] = {q: [] for q in WHOLE_PROCESS}
    fts = []
    for _ in range(corpus.repeat):
        for query in WHOLE_PROCESS:
            ours[query].append(run([PY, "-m", "searchkit", "query", query, "--index", index], ok=(0, 1)))
            fts.append(run([PY, HERE / "fts5.py", "query", db, query]))
    served = served_queries(corpus, index)
    probes = {q: run([PY, "-c", PROBE, "query", q, "--index", index], ok=(0, 1)) for q in QUERIES}
    kiwi = [q for q, probe in probes.items() if probe.stderr.split()[-1] == "True"]
    every = [r for runs in ours.values() for r in runs]
    without_kiwi = [r for q, runs in ours.items() if q not in kiwi for r in runs]
    return {
        "papersearch_s": median(every),
        "fts5_s": median(fts),
        "ratio": median(every) / median(fts),
        "per_query_s": {q: median(runs) for q, runs in ours.items()},
        "papersearch_rss_mb": peak(every + list(probes.values())),
        "papersearch_rss_without_kiwi_mb": peak(without_kiwi) if without_kiwi else None,
        "fts5_rss_mb": peak(fts),
        "served_s": median(served),
        "served_ratio": median(served) / median(fts),
        "served_rss_mb": peak(served),
        "kiwi_loaded_by": kiwi,
        "probe_s": {q: probe.seconds for q, probe in probes.items()},
    }


def served_queries(corpus: Corpus, index: Path) -> list[Run]:
    """The same whole-process queries while `papersearch serve` keeps the
    index and Kiwi warm; each query is asked once first so that the
    server, not the first asker, pays for loading Kiwi."""
    server = subprocess.Popen([PY, "-m", "searchkit", "serve", "--index", str(index)], cwd=HERE,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (index / "serve.sock").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("papersearch serve did not start")
            time.sleep(0.05)
        for query in WHOLE_PROCESS:
            run([PY, "-m", "searchkit", "query", query, "--index", index], ok=(0, 1))
        return [run([PY, "-m", "searchkit", "query", q, "--index", index], ok=(0, 1))
                for _ in range(corpus.repeat) for q in WHOLE_PROCESS]
    finally:
        server.terminate()
        server.wait(30)


def latency(corpus: Corpus, index: Path) -> dict:
    result = json.loads(run([PY, HERE / "latency.py", index, corpus.path, *QUERIES]).stdout)
    tantivy = result.get("tantivy", {})
    if "p50_ms" in tantivy:
        result["ratio_p50"] = result["papersearch"]["p50_ms"] / tantivy["p50_ms"]
    return result


def bench(corpus: Corpus, work: Path, result: dict, save: Callable[[], None]) -> None:
    """Run every stage on one corpus into ``result``, saving after each."""
    index = work / f"index-{corpus.label}"
    stages = {"full_reindex": lambda: full_reindex(corpus, index)}
    if corpus.real:
        stages["incremental"] = lambda: incremental(corpus, index, work / "incremental")
    stages["whole_query"] = lambda: whole_query(corpus, index, work)
    stages["latency"] = lambda: latency(corpus, index)
    result.update(papers=corpus.papers, repeat=corpus.repeat)
    for name, stage in stages.items():
        print(f"[{corpus.label}] {name}…", file=sys.stderr, flush=True)
        result[name] = stage()
        save()


def snapshot(work: Path) -> Path:
    """Copy searchkit/ into the work directory and make every child import
    the copy: another engineer's edits mid-run (a new index format, say)
    would otherwise mix two versions in one table."""
    target = work / "snapshot"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(REPO / "searchkit", target / "searchkit", ignore=shutil.ignore_patterns("__pycache__"))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))
    return target


# Report


def rows(label: str, r: dict) -> list[tuple]:
    """Table rows: measure, papers, papersearch, baseline, ratio, target, met."""
    p50_target = next(ms for papers, ms in P50_TARGETS if r["papers"] <= papers)
    return (
        _reindex_rows(label, r["full_reindex"], r.get("incremental"))
        + _whole_rows(label, r["whole_query"])
        + _latency_rows(label, r["latency"], p50_target)
        + _resource_rows(label, r["full_reindex"], r["whole_query"])
    )


def _reindex_rows(label: str, full: dict, inc: dict | None) -> list[tuple]:
    ratio, target = full["ratio"], TARGETS["reindex_ratio"]
    out = [("Full reindex vs Kiwi floor", label, _s(full["reindex_s"]), _s(full["floor_s"]), ratio,
            f"≤ {target}×", ratio <= target)]
    if inc:
        add, target = inc["add_s"], TARGETS["add_post_s"]
        out += [
            ("Reindex after adding 1 post", label, _s(add), "", None, f"< {target:g} s", add < target),
            ("Reindex after editing 1 post", label, _s(inc["edit_s"]), "", None, "", None),
            ("Reindex after deleting 1 post", label, _s(inc["delete_s"]), "", None, "", None),
        ]
    return out


def _whole_rows(label: str, whole: dict) -> list[tuple]:
    ratio, target = whole["ratio"], TARGETS["query_ratio"]
    return [
        ("Query, whole process, vs FTS5", label, _ms(whole["papersearch_s"] * 1000), _ms(whole["fts5_s"] * 1000),
         ratio, f"≤ {target:g}×", ratio <= target),
        ("Query, whole process, with `papersearch serve`, vs FTS5", label, _ms(whole["served_s"] * 1000),
         _ms(whole["fts5_s"] * 1000), whole["served_ratio"], f"≤ {target:g}×", whole["served_ratio"] <= target),
        (f"Queries loading Kiwi (of {len(QUERIES)})", label, str(len(whole["kiwi_loaded_by"])), "", None, "", None),
    ]


def _resource_rows(label: str, full: dict, whole: dict) -> list[tuple]:
    out = [
        ("Index size vs corpus size", label, _mb(full["index_bytes"] / 2**20), _mb(full["corpus_bytes"] / 2**20),
         full["index_bytes"] / full["corpus_bytes"], "", None),
        ("Peak RSS, reindex vs floor", label, _mb(full["reindex_rss_mb"]), _mb(full["floor_rss_mb"]),
         full["reindex_rss_mb"] / full["floor_rss_mb"], "", None),
    ]
    target, fts = TARGETS["query_rss_mb"], whole["fts5_rss_mb"]
    for measure, rss in (("", whole["papersearch_rss_mb"]), (" (no Kiwi)", whole["papersearch_rss_without_kiwi_mb"])):
        if rss is not None:
            out.append((f"Peak RSS, query{measure}, vs FTS5", label, _mb(rss), _mb(fts), rss / fts,
                        f"≤ {target:g} MiB", rss <= target))
    return out


def _latency_rows(label: str, lat: dict, p50_target: float) -> list[tuple]:
    ours = lat["papersearch"]
    out = []
    for engine in ("tantivy", "bm25s"):
        other = lat.get(engine, {})
        if "p50_ms" not in other:
            out.append((f"Query in-process vs {engine}", label, "", other.get("skipped", "skipped"), None, "", None))
            continue
        for q in ("p50", "p95"):
            target = f"≤ {p50_target:g} ms" if (engine, q) == ("tantivy", "p50") else ""
            met = ours["p50_ms"] <= p50_target if target else None
            ratio = ours[f"{q}_ms"] / other[f"{q}_ms"]
            out.append((f"Query {q}, in-process, vs {engine}", label, _ms(ours[f"{q}_ms"]),
                        _ms(other[f"{q}_ms"]), ratio, target, met))
    return out


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def _ms(ms: float) -> str:
    return f"{ms:.1f} ms" if ms >= 1 else f"{ms:.3f} ms"


def _mb(mb: float) -> str:
    return f"{mb:.1f} MiB"


def markdown(results: dict) -> str:
    head = "| Measure | Papers | papersearch | Baseline | Ratio | Target | Met |\n|---|---:|---:|---:|---:|---|:-:|\n"
    lines = []
    for label, r in results["corpora"].items():
        for measure, papers, ours, base, ratio, target, met in rows(label, r):
            cells = [measure, papers, ours, base, "" if ratio is None else f"{ratio:.2f}×", target,
                     {True: "yes", False: "**no**", None: ""}[met]]
            lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines)


def environment() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    packages = ("kiwipiepy", "whoosh-reloaded", "tantivy", "bm25s")
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "when": time.strftime("%Y-%m-%d %H:%M"), **{p: ver(p) for p in packages}}


def main() -> None:
    parser = argparse.ArgumentParser(description="Speed benchmark of papersearch.")
    parser.add_argument("--large", action="store_true", help="also run 50,000 papers (long)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per median (fewer for big corpora)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--synthetic", type=int, nargs="*", metavar="PAPERS",
                        help="synthetic sizes instead of 10000 (50000 with --large); none: real corpus only")
    parser.add_argument("--snapshot", action="store_true", help="benchmark a copy of searchkit/ taken at the start")
    parser.add_argument("--corpus", type=Path, default=REAL_CORPUS, help="the real corpus")
    parser.add_argument("--work", type=Path, default=HERE / "out", help="scratch directory (gitignored)")
    parser.add_argument("--cluster", type=Path, metavar="WORK", help="print the rows of cluster.py's results in WORK")
    args = parser.parse_args()
    if args.cluster:  # the cluster's runs take hours: cluster.py builds and queries, this prints
        import cluster

        print(cluster.table(cluster.load(args.cluster)))
        return
    if not args.corpus.is_dir():
        print(f"skipped: the real corpus {args.corpus} is missing (it lives in ../shared)", file=sys.stderr)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    results = {"environment": environment(), "queries": QUERIES, "whole_process_queries": WHOLE_PROCESS}
    if args.snapshot:
        results["snapshot"] = str(snapshot(args.work))

    def save() -> None:  # after each stage, so a long run that dies keeps its figures
        if args.out:
            args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")

    results["corpora"] = {}
    for corpus in corpora(args):
        bench(corpus, args.work, results["corpora"].setdefault(corpus.label, {}), save)
    print(markdown(results))
    for label, r in results["corpora"].items():
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in r["full_reindex"]["floor_stages_s"].items())
        print(f"\nKiwi floor {label}: {stages}; Kiwi loaded by: {r['whole_query']['kiwi_loaded_by']}")


if __name__ == "__main__":
    main()
