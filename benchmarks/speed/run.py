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

import own_rss
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

TARGETS = {"reindex_ratio": 1.25, "add_post_s": 3.0, "query_ratio": 5.0, "query_rss_mb": 300.0}
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


PIPED = {"NO_COLOR": "1"}
"""Environment of a piped query: plain text, as a script would read it."""


def run(cmd: list[str | Path], ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None,
        tty: bool = False) -> Run:
    """Run a command, timing it wall-clock. It runs in this directory, not
    the repo root, where ``-m searchkit`` would beat ``--snapshot``. With
    ``tty``, stdout is a pseudo-terminal of 80×24 (colours, rich's layout)
    read as the child writes, as a terminal would; stdin stays /dev/null,
    so nothing is paged.

    Peak RSS is the child's own (`peak`: wait4 alone also counts this
    process's memory, which the child shares until it execs).
    """
    environ = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        master = slave = None
        if tty:
            import fcntl
            import pty
            import struct
            import termios
            import threading

            master, slave = pty.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        wrapped, peak_of = own_rss.wrap([str(c) for c in cmd])
        started = time.perf_counter()
        child = subprocess.Popen(wrapped, cwd=HERE, stdout=slave if tty else out, stderr=err,
                                 stdin=subprocess.DEVNULL, env=environ)
        if tty:
            os.close(slave)
            drain = threading.Thread(target=_drain, args=(master, out))
            drain.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        if tty:
            drain.join()
            os.close(master)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        output = out.read().decode(errors="replace")
        result = Run(seconds, peak_of(usage.ru_maxrss / 1024)[0], output, err.read().decode())
    if child.returncode not in ok:
        raise SystemExit(f"{' '.join(map(str, cmd))} exited {child.returncode}:\n{result.stderr[-2000:]}")
    return result


def _drain(master: int, out: object) -> None:
    """Read a pseudo-terminal until its last writer closes it."""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the child closed its side
            return
        if not chunk:
            return
        out.write(chunk)


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
    found = [Corpus(str(real), args.corpus, real, args.repeat, real=True)] if real in args.sizes else []
    for papers in sorted(n for n in args.sizes if n != real):
        repeat = args.repeat if papers < 5_000 else max(1, args.repeat - 1) if papers <= 10_000 else 1
        found.append(Corpus(_label(papers), synthetic(args.cache, papers, args.corpus), papers, repeat))
    return found


def _label(papers: int) -> str:
    return f"{papers // 1000}k" if papers >= 1000 and papers % 1000 == 0 else str(papers)


def synthetic(cache: Path, papers: int, source: Path) -> Path:
    """The synthetic corpus of ``papers`` papers (synth.py, default seed),
    generated once into ``cache/synth-N/`` and reused while its ``DONE``
    marker is there: others may share the cache, so a corpus is written
    under a temporary name and renamed only when complete."""
    path = cache / f"synth-{papers}"
    if (path / "DONE").exists():
        return path
    partial = cache / f"synth-{papers}.tmp.{os.getpid()}"
    synth.write_corpus(partial, papers, source=source)
    shutil.rmtree(path, ignore_errors=True)
    partial.rename(path)
    (path / "DONE").write_text(f"synth.py --papers {papers} --seed {synth.SEED}\n")
    return path


# Measurements


def full_reindex(corpus: Corpus, index: Path, reuse: bool = False) -> dict:
    """Floor and reindex alternate, so drift hits both alike. With
    ``reuse``, an index built by an earlier run (its figures saved beside
    it, ``build.json``, with the commit that built it) is kept, figures and
    all: a 200k build takes most of an hour."""
    saved = index.parent / f"{index.name}.build.json"
    if reuse and not saved.exists():
        _adopt_cluster_build(corpus, index, saved)
    if reuse and saved.exists() and index.is_dir():
        return {**json.loads(saved.read_text()), "reused": str(saved)}
    floors, builds = [], []
    for _ in range(corpus.repeat):
        floors.append(run([PY, HERE / "floor.py", corpus.path]))
        shutil.rmtree(index, ignore_errors=True)
        builds.append(run(reindex_cmd(corpus.path, index, full=True)))
    result = {
        "floor_s": median(floors),
        "reindex_s": median(builds),
        "ratio": median(builds) / median(floors),
        "floor_stages_s": json.loads(floors[-1].stdout)["stages_s"],
        "floor_rss_mb": peak(floors),
        "reindex_rss_mb": peak(builds),
        "index_bytes": size(index),
        "corpus_bytes": size(corpus.path),
        "summary": _tail(builds[-1].stderr),
        "built_by": MEASURED.get("commit"),
        "built_at": time.strftime("%Y-%m-%d %H:%M"),
    }
    saved.write_text(json.dumps(result, indent=1))
    return result


def _adopt_cluster_build(corpus: Corpus, index: Path, saved: Path) -> None:
    """With --reuse-builds, the directory index that ``cluster.py build``
    made of the same corpus (``CACHE/cluster-N/dir``, beside its floor) is
    reused too, with its figures: one 200k build serves both benchmarks."""
    work = index.parent.parent / f"cluster-{corpus.papers}"
    built = json.loads((work / "results.json").read_text()).get("build", {}) if (work / "results.json").exists() else {}
    floor, step = built.get("floor", {}), built.get("dir")
    if not step or not floor or not (work / "dir").is_dir() or index.exists():
        return
    index.symlink_to(work / "dir", target_is_directory=True)
    saved.write_text(json.dumps({
        "floor_s": floor["s"], "reindex_s": step["s"], "ratio": step["s"] / floor["s"],
        "floor_rss_mb": floor["rss_mb"], "reindex_rss_mb": step["rss_mb"], "index_bytes": size(work / "dir"),
        "corpus_bytes": size(corpus.path), "summary": "", "built_by": f"cluster.py build ({work})",
        "built_at": time.strftime("%Y-%m-%d %H:%M", time.localtime(step.get("at", time.time()))),
    }, indent=1))


MEASURED: dict[str, str | None] = {}
"""The commit of the code measured, taken when the run starts (a
``--snapshot`` run measures the code of that moment)."""


def _commit() -> str | None:
    """The commit of the code measured (``+`` when the tree has changes)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "searchkit"], cwd=REPO, capture_output=True, text=True)
    except OSError:
        return None
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "") if head.returncode == 0 else None


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
    ours_tty: dict[str, list[Run]] = {q: [] for q in WHOLE_PROCESS}
    fts, fts_tty = [], []
    run([PY, "-m", "searchkit", "query", WHOLE_PROCESS[0], "--index", index], ok=(0, 1))  # page cache, bytecode
    for _ in range(corpus.repeat):
        for query in WHOLE_PROCESS:
            ours[query].append(run([PY, "-m", "searchkit", "query", query, "--index", index], ok=(0, 1), env=PIPED))
            fts.append(run([PY, HERE / "fts5.py", "query", db, query], env=PIPED))
            ours_tty[query].append(run([PY, "-m", "searchkit", "query", query, "--index", index], ok=(0, 1),
                                       tty=True))
            fts_tty.append(run([PY, HERE / "fts5.py", "query", db, query], tty=True))
    served = served_queries(corpus, index)
    probes = {q: run([PY, "-c", PROBE, "query", q, "--index", index], ok=(0, 1)) for q in QUERIES}
    kiwi = [q for q, probe in probes.items() if probe.stderr.split()[-1] == "True"]
    every = [r for runs in ours.values() for r in runs]
    without_kiwi = [r for q, runs in ours.items() if q not in kiwi for r in runs]
    every_tty = [r for runs in ours_tty.values() for r in runs]
    return {
        "papersearch_s": median(every),
        "fts5_s": median(fts),
        "ratio": median(every) / median(fts),
        "tty_papersearch_s": median(every_tty),
        "tty_fts5_s": median(fts_tty),
        "tty_ratio": median(every_tty) / median(fts_tty),
        "per_query_tty_s": {q: median(runs) for q, runs in ours_tty.items()},
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
    # a generous limit: on a loaded machine a cold worker can take more than the default 10 s
    server = subprocess.Popen([PY, "-m", "searchkit", "serve", "--index", str(index), "--timeout", "120"], cwd=HERE,
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


BASELINES_UP_TO = 50_000
"""Papers up to which tantivy and bm25s are built beside papersearch
(the default of `--baselines-up-to`): they need the whole corpus analysed
by Kiwi again."""
SETTINGS = {"baselines_up_to": BASELINES_UP_TO}
"""Options of this run that stages read (set once by `main`)."""


def latency(corpus: Corpus, index: Path) -> dict:
    skip = ["--no-baselines"] if corpus.papers > SETTINGS["baselines_up_to"] else []
    result = json.loads(run([PY, HERE / "latency.py", index, corpus.path, *skip, *QUERIES]).stdout)
    tantivy = result.get("tantivy", {})
    if "p50_ms" in tantivy:
        result["ratio_p50"] = result["papersearch"]["p50_ms"] / tantivy["p50_ms"]
    return result


def bench(corpus: Corpus, work: Path, result: dict, save: Callable[[], None], reuse: bool = False,
          extra: Callable[[Corpus, Path], dict[str, Callable[[], dict]]] | None = None) -> None:
    """Run every stage on one corpus into ``result``, saving after each.
    ``extra`` adds stages after the directory backend's (the hook for
    other backends, such as a ``--cluster`` run: see `extra_stages`)."""
    index = work / f"index-{corpus.label}"
    stages = {"full_reindex": lambda: full_reindex(corpus, index, reuse)}
    if corpus.real:
        stages["incremental"] = lambda: incremental(corpus, index, work / "incremental")
    stages["whole_query"] = lambda: whole_query(corpus, index, work)
    stages["latency"] = lambda: latency(corpus, index)
    if extra is not None:
        stages.update(extra(corpus, index))
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
    tty = whole["tty_ratio"]
    return [
        ("Query, whole process, piped (NO_COLOR), vs FTS5", label, _ms(whole["papersearch_s"] * 1000),
         _ms(whole["fts5_s"] * 1000), ratio, f"≤ {target:g}×", ratio <= target),
        ("Query, whole process, on a terminal, vs FTS5", label, _ms(whole["tty_papersearch_s"] * 1000),
         _ms(whole["tty_fts5_s"] * 1000), tty, f"≤ {target:g}×", tty <= target),
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


GROWTH = (
    ("Full reindex", lambda r: r["full_reindex"]["reindex_s"], _s),
    ("Kiwi floor", lambda r: r["full_reindex"]["floor_s"], _s),
    ("Query p50, in-process", lambda r: r["latency"]["papersearch"]["p50_ms"], _ms),
    ("Query p95, in-process", lambda r: r["latency"]["papersearch"]["p95_ms"], _ms),
    ("Query, whole process (piped)", lambda r: r["whole_query"]["papersearch_s"] * 1000, _ms),
    ("FTS5 query, whole process", lambda r: r["whole_query"]["fts5_s"] * 1000, _ms),
    ("Peak RSS, reindex", lambda r: r["full_reindex"]["reindex_rss_mb"], _mb),
    ("Peak RSS, query (no Kiwi)", lambda r: r["whole_query"]["papersearch_rss_without_kiwi_mb"]
     or r["whole_query"]["papersearch_rss_mb"], _mb),
    ("Index size", lambda r: r["full_reindex"]["index_bytes"] / 2**20, _mb),
)
"""The growth table's rows: measure, figure of one corpus's results, format."""


def exponent(papers: list[int], values: list[float]) -> float | None:
    """b of value ∝ papers^b: least squares on the logs (None below two sizes)."""
    import math

    points = [(math.log(n), math.log(v)) for n, v in zip(papers, values) if v and v > 0]
    if len({x for x, _ in points}) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


def growth(results: dict) -> str:
    """Each measure at every size, and its fitted exponent b: 1 is linear
    in the papers, 0 flat."""
    measured = sorted(results["corpora"].values(), key=lambda r: r["papers"])
    papers = [r["papers"] for r in measured]
    head = "| Measure | " + " | ".join(f"{n:,}" for n in papers) + " | b |\n"
    head += "|---|" + "---:|" * (len(papers) + 1) + "\n"
    lines = []
    for measure, figure, fmt in GROWTH:
        values = [figure(r) for r in measured]
        b = exponent(papers, values)
        cells = [fmt(v) if v else "" for v in values] + ["" if b is None else f"{b:.2f}"]
        lines.append(f"| {measure} | " + " | ".join(cells) + " |")
    reused = [f"{r['papers']:,}" for r in measured if "reused" in r["full_reindex"]]
    note = f"\n\nReindex figures of {', '.join(reused)} papers are from an earlier build (--reuse-builds)."
    return head + "\n".join(lines) + (note if reused else "")


def extra_stages(args: argparse.Namespace) -> Callable[[Corpus, Path], dict[str, Callable[[], dict]]] | None:
    """Stages of other backends, run on every corpus after the directory
    backend's: the hook for the cluster benchmark (``--cluster``,
    benchmarks/speed/cluster.py), which returns {stage name: function}.
    None: the directory backend only."""
    return None


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
    parser.add_argument("--sizes", type=_sizes, default=None, metavar="N,N,…",
                        help="corpus sizes in papers; 738 (the real corpus' count) is the real corpus, others "
                             "synthetic (default 738,10000)")
    parser.add_argument("--large", action="store_true", help="sizes 738,10000,50000 (long)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per median (fewer for big corpora)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--synthetic", type=int, nargs="*", metavar="PAPERS",
                        help="synthetic sizes beside the real corpus (old form of --sizes)")
    parser.add_argument("--snapshot", action="store_true", help="benchmark a copy of searchkit/ taken at the start")
    parser.add_argument("--corpus", type=Path, default=REAL_CORPUS, help="the real corpus")
    parser.add_argument("--work", type=Path, default=HERE / "out", help="scratch directory (gitignored)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="where synthetic corpora (synth-N/) and big indexes are kept between runs "
                             "(default /work/bench if it exists, else --work)")
    parser.add_argument("--baselines-up-to", type=int, default=BASELINES_UP_TO, metavar="PAPERS",
                        help="build the in-process baselines (tantivy, bm25s) only for corpora this size or smaller")
    parser.add_argument("--reuse-builds", action="store_true",
                        help="keep an index built by an earlier run with its reindex figures (said in the table)")
    parser.add_argument("--report", type=Path, metavar="RESULTS_JSON",
                        help="print the tables of an earlier run's --out file, measuring nothing")
    parser.add_argument("--cluster", type=Path, metavar="WORK", help="print the rows of cluster.py's results in WORK")
    args = parser.parse_args()
    if args.cluster:  # the cluster's runs take hours: cluster.py builds and queries, this prints
        import cluster

        print(cluster.table(cluster.load(args.cluster)))
        return
    if args.report:
        report(json.loads(args.report.read_text(encoding="utf-8")))
        return
    if not args.corpus.is_dir():
        print(f"skipped: the real corpus {args.corpus} is missing (it lives in ../shared)", file=sys.stderr)
        return
    real = sum(len(parse_post(p).papers) for p in args.corpus.glob("*.md"))
    if args.sizes is None:
        synthetic_sizes = args.synthetic if args.synthetic is not None else [10_000, 50_000] if args.large else [10_000]
        args.sizes = [real, *synthetic_sizes]
    args.sizes = [real if n == 738 else n for n in args.sizes]  # 738 names the real corpus whatever its count
    if args.cache is None:
        args.cache = Path("/work/bench") if Path("/work/bench").is_dir() else args.work
    args.work.mkdir(parents=True, exist_ok=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    _compile(REPO / "searchkit")
    results = {"environment": environment(), "queries": QUERIES, "whole_process_queries": WHOLE_PROCESS}
    if args.snapshot:
        results["snapshot"] = str(snapshot(args.work))

    def save() -> None:  # after each stage, so a long run that dies keeps its figures
        if args.out:
            args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")

    SETTINGS["baselines_up_to"] = args.baselines_up_to
    MEASURED["commit"] = _commit()
    results["environment"]["commit"] = MEASURED["commit"]
    if args.snapshot:
        _compile(args.work / "snapshot")
    results["corpora"] = {}
    extra = extra_stages(args)
    for corpus in corpora(args):
        work = args.work if corpus.real or corpus.papers <= 10_000 else args.cache / "speed"
        work.mkdir(parents=True, exist_ok=True)
        bench(corpus, work, results["corpora"].setdefault(corpus.label, {}), save, args.reuse_builds, extra)
    report(results)


def report(results: dict) -> None:
    """The Markdown table, the growth table and the floor's stages."""
    print(markdown(results))
    print("\nGrowth (time ∝ papers^b, least squares on logs):\n")
    print(growth(results))
    for label, r in results["corpora"].items():
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in r["full_reindex"].get("floor_stages_s", {}).items())
        print(f"\nKiwi floor {label}: {stages}; Kiwi loaded by: {r['whole_query']['kiwi_loaded_by']}")


def _sizes(text: str) -> list[int]:
    return [int(n.replace("_", "")) for n in text.split(",") if n.strip()]


def _compile(package: Path) -> None:
    """Write the package's bytecode before timing: an installed package has
    it, and with PYTHONDONTWRITEBYTECODE set every query process would
    compile ~30 modules from source (a tenth of a cold query)."""
    import compileall

    compileall.compile_dir(str(package), quiet=1)


if __name__ == "__main__":
    main()
