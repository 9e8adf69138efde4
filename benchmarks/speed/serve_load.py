"""`papersearch serve` under load: one client, then eight at once, then
eight while a full reindex of the same index is published.

Starts a server on a copy of an index of the real corpus, and drives it
with threads calling `searchkit.terminal.client.exchange` directly over its Unix
socket (what the CLI sends for ``papersearch query Q | cat``), over the
speed benchmark's 20 queries. For each run it prints p50/p99 latency and
queries per second; then the 8-client/1-client throughput ratio (target
≥ 1.6× on two cores), the server's RSS (master and workers) before and
after, and whether every answer equalled the sequential one.

    python benchmarks/speed/serve_load.py [--corpus DIR] [--seconds S] [--passes N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from run import QUERIES, REAL_CORPUS

from searchkit.terminal.client import exchange
from searchkit.terminal.protocol import socket_path

HERE = Path(__file__).resolve().parent
PY = sys.executable
TARGET_RATIO = 1.6


def request(index: Path, query: str) -> dict:
    return {"argv": ["query", query, "--index", str(index)], "cwd": str(HERE), "env": {}, "tty": False,
            "columns": 80}


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of these processes so far, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pids: list[int]) -> float:
    """Resident memory of these processes, from /proc (0 for one gone)."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += int(status.split("VmRSS:")[1].split()[0])
    return total / 1024


class Server:
    """A server started for the benchmark and stopped by its pid."""

    def __init__(self, index: Path, log: Path) -> None:
        self.index = index
        with open(log, "w") as out:
            self.process = subprocess.Popen([PY, "-m", "searchkit", "serve", "--index", str(index)],
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=HERE)
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"papersearch serve did not start:\n{log.read_text()}")
            if socket_path(index).exists():
                try:
                    status = self.status()
                except OSError:
                    status = {}
                if status.get("workers") and status["ready"] == len(status["workers"]):
                    return
            time.sleep(0.1)

    def status(self) -> dict:
        return exchange(socket_path(self.index), {"ping": True})

    def pids(self) -> list[int]:
        return [self.process.pid, *self.status()["workers"]]

    def rss_mb(self) -> float:
        return rss_mb(self.pids())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def load(server: Server, clients: int, passes: int, seconds: float, expected: dict[str, dict] | None,
         until: threading.Event | None = None) -> dict:
    """``clients`` threads, each going through the queries ``passes`` times
    from its own starting point, for at most ``seconds`` (or until
    ``until`` is set); every answer is checked against ``expected``."""
    index = server.index
    latencies: list[float] = []
    answers: dict[str, list[dict]] = {q: [] for q in QUERIES}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        for step in range(passes * len(QUERIES)):
            if time.monotonic() > stop_at or (until is not None and until.is_set()):
                return
            query = QUERIES[(offset + step) % len(QUERIES)]
            started = time.perf_counter()
            try:
                answer = exchange(socket_path(index), request(index, query))
            except Exception as exc:  # noqa: BLE001 - counted as an error, not the end of the client
                answer = {"exit_code": -1, "error": f"{exc.__class__.__name__}: {exc}"}
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                answers[query].append(answer)

    threads = [threading.Thread(target=client, args=(i * len(QUERIES) // clients,)) for i in range(clients)]
    pids = server.pids()
    cpu = cpu_seconds(pids)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cpu = cpu_seconds(pids) - cpu
    ordered = sorted(latencies)
    wrong = sum(a != expected[q] for q, got in answers.items() for a in got) if expected else 0
    return {
        "clients": clients, "requests": len(latencies), "seconds": round(wall, 2),
        "qps": round(len(latencies) / wall, 1),
        "p50_ms": round(_percentile(ordered, 0.50) * 1000, 1), "p99_ms": round(_percentile(ordered, 0.99) * 1000, 1),
        "server_cores": round(cpu / wall, 2), "load_avg": os.getloadavg()[0], "wrong": wrong,
        "errors": sum(a.get("exit_code") not in (0, 1) for got in answers.values() for a in got),
        "answers": answers,
    }


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest rank, as latency.py."""
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else float("nan")


def during_reindex(server: Server, corpus: Path, expected: dict[str, dict], passes: int, log: Path) -> dict:
    """Eight clients while ``reindex --full`` rebuilds and publishes the same
    corpus into the served index, and a moment after it has."""
    index = server.index
    before = (index / "CURRENT").read_text().strip()
    done = threading.Event()
    with open(log, "w") as out:
        reindex = subprocess.Popen([PY, "-m", "searchkit", "reindex", "--full", "--corpus", str(corpus),
                                    "--index", str(index)], stdout=out, stderr=out, cwd=HERE)

    def watch() -> None:
        reindex.wait()
        time.sleep(1.0)  # answers from the new generation too
        done.set()

    threading.Thread(target=watch, daemon=True).start()
    result = load(server, 8, passes, 300, expected, until=done)
    done.wait()
    if reindex.returncode != 0:
        raise SystemExit(f"the reindex failed:\n{log.read_text()}")
    result["generations"] = [before, (index / "CURRENT").read_text().strip()]
    return result


def prepare(corpus: Path, work: Path) -> Path:
    """An index of the corpus (built once, kept in the work directory) and a
    fresh copy of it to serve."""
    source = work / "serve-load-source"
    if not (source / "CURRENT").exists():
        shutil.rmtree(source, ignore_errors=True)
        subprocess.run([PY, "-m", "searchkit", "reindex", "--full", "--corpus", str(corpus), "--index", str(source)],
                       check=True, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    index = work / "serve-load-index"
    shutil.rmtree(index, ignore_errors=True)
    shutil.copytree(source, index)
    return index


def report(runs: dict[str, dict], rss: tuple[float, float], workers: int) -> str:
    """The table, then the ratio of the best 8-client round to the best
    1-client round (rounds alternate, so other load hits both alike)."""
    lines = ["| Run | Clients | Requests | p50 | p99 | Queries/s | Server CPU (cores) | Load avg | Wrong | Errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in runs.items():
        lines.append(f"| {name} | {r['clients']} | {r['requests']} | {r['p50_ms']} ms | {r['p99_ms']} ms | "
                     f"{r['qps']} | {r['server_cores']} | {r['load_avg']:.2f} | {r['wrong']} | {r['errors']} |")
    one = max(r["qps"] for name, r in runs.items() if name.startswith("1 client"))
    eight = max(r["qps"] for name, r in runs.items() if name.startswith("8 clients, round"))
    ratio = eight / one
    met = "met" if ratio >= TARGET_RATIO else "NOT met"
    lines.append(f"\nThroughput, 8 clients / 1 client (best rounds): {eight} / {one} = {ratio:.2f}× "
                 f"(target ≥ {TARGET_RATIO}× on 2 cores: {met}); {workers} workers on {os.cpu_count()} cores")
    lines.append(f"Server RSS (master + workers): {rss[0]:.0f} MiB before, {rss[1]:.0f} MiB after "
                 f"{sum(r['requests'] for r in runs.values())} requests")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="papersearch serve under concurrent load.")
    parser.add_argument("--corpus", type=Path, default=REAL_CORPUS, help="the real corpus")
    parser.add_argument("--work", type=Path, default=HERE / "out", help="scratch directory (gitignored)")
    parser.add_argument("--passes", type=int, default=4,
                        help="passes over the 20 queries by the one client (each of the eight makes half as many)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating 1-client and 8-client rounds")
    parser.add_argument("--seconds", type=float, default=60, help="at most this long per run")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"skipped: the real corpus {args.corpus} is missing (it lives in ../shared)", file=sys.stderr)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    index = prepare(args.corpus, args.work)
    server = Server(index, args.work / "serve-load.log")
    try:
        sequential = load(server, 1, 1, 600, None)  # also warms every query (Kiwi, caches)
        expected = {q: answers[0] for q, answers in sequential["answers"].items()}
        rss_before = server.rss_mb()
        runs = {}
        for round_ in range(1, args.rounds + 1):
            runs[f"1 client, round {round_}"] = load(server, 1, args.passes, args.seconds, expected)
            runs[f"8 clients, round {round_}"] = load(server, 8, max(1, args.passes // 2), args.seconds, expected)
        runs["8 clients, reindex published"] = during_reindex(server, args.corpus, expected, args.passes * 4,
                                                              args.work / "serve-load-reindex.log")
        rss_after = server.rss_mb()
        workers = len(server.status()["workers"])
    finally:
        server.stop()
    print(report(runs, (rss_before, rss_after), workers))
    generations = runs["8 clients, reindex published"]["generations"]
    print(f"Generations during the reindex run: {generations[0]} → {generations[1]}")
    if args.out:
        figures = {name: {k: v for k, v in r.items() if k != "answers"} for name, r in runs.items()}
        figures["rss_mb"] = {"before": rss_before, "after": rss_after}
        args.out.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print(f"Every answer equal to the sequential one: {not any(r['wrong'] for r in runs.values())}")
    if any(r["wrong"] or r["errors"] for r in runs.values()):
        raise SystemExit("some answers differed from the sequential ones")


if __name__ == "__main__":
    main()
