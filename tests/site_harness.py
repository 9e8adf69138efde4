"""Serve an exported page on loopback and drive it in headless Chromium.

Used by tests/test_site_browser.py and benchmarks/site/budget.py. The
server is the standard library's, on 127.0.0.1 and a free port, in a
thread that `serve` always stops; the browser is Debian's
/usr/bin/chromium through playwright-core (tests/browser/, `npm ci`),
which never downloads a browser.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BROWSER_DIR = Path(__file__).resolve().parent / "browser"
CHROMIUM = Path("/usr/bin/chromium")


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    if shutil.which("node") is None:
        return "node is not installed"
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return f"playwright-core is not installed (run `npm ci` in {BROWSER_DIR})"
    return None


class _Quiet(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a query fetches tens of small files, as from any static host
    # headers and body go out in separate writes: without TCP_NODELAY (which static hosts set) Nagle's
    # algorithm holds the body for the client's delayed ACK, ~40 ms a response on Linux
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """``directory`` over HTTP on a loopback port, stopped on leaving."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _node(script: Path, job: dict, timeout: float) -> tuple[int, str, str]:
    """Run a node script on a JSON job: (exit code, stdout, stderr). In its
    own process group, so that on a timeout node and the Chromium it
    started are stopped together."""
    with subprocess.Popen(["node", str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, cwd=BROWSER_DIR, start_new_session=True) as run:
        try:
            out, err = run.communicate(json.dumps(job), timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.communicate()
            raise RuntimeError(f"{script.name} did not finish in {timeout:g} s") from None
    return run.returncode, out, err


def drive(url: str, steps: list[dict], timeout: float = 600, **options: Any) -> dict:
    """Run ``steps`` on the page (see tests/browser/drive.mjs); returns
    ``{"answers": [...], "requests": [...]}``."""
    code, out, err = _node(BROWSER_DIR / "drive.mjs", {"url": url, "steps": steps, **options}, timeout)
    if code != 0:
        raise RuntimeError(f"drive.mjs failed ({code}): {err[-2000:]}")
    return json.loads(out)


TYPING = Path(__file__).resolve().parents[1] / "benchmarks" / "site" / "typing.mjs"


def type_queries(url: str, queries: list[str], timeout: float = 600, **options: Any) -> dict:
    """Type each query into the page over the bare DevTools protocol (no
    automation library watching requests; see benchmarks/site/typing.mjs)
    and return ``{"cold": [ms...], "warm": [ms...], "ids": [...]}``: the
    last keystroke to results drawn, first with the shards fetched, then
    again with them in the page's memory."""
    code, out, err = _node(TYPING, {"url": url, "queries": queries, **options}, timeout)
    answer = json.loads(out) if code == 0 and out else {"error": err[-2000:]}
    if "error" in answer:
        raise RuntimeError(f"typing.mjs failed ({code}): {answer['error']}")
    return answer


def query_step(query: dict) -> dict:
    """A benchmark query (queries.json) as a step of the page."""
    sections = query.get("sections") or []
    return {"type": "query", "q": query["query"], "section": sections[0] if sections else ""}


def segment_in_node(site: Path, words: list[str], timeout: float = 120) -> dict:
    """The page's `segment` of each word, run by node on the exported
    files without a browser (browser/segment.mjs): the analysis alone needs
    neither Chromium nor playwright."""
    code, out, err = _node(BROWSER_DIR / "segment.mjs", {"site": str(site), "words": words}, timeout)
    if code:
        raise RuntimeError(f"segment.mjs failed ({code}): {err.strip()}")
    return json.loads(out)


def search_in_node(site: Path, queries: list[dict], timeout: float = 300) -> list[dict]:
    """The page's `search` of each ``{"q", "limit", "sections", "since",
    "until", "sort"}``, run by node on the
    exported files without a browser (browser/search.mjs)."""
    code, out, err = _node(BROWSER_DIR / "search.mjs", {"site": str(site), "queries": queries}, timeout)
    if code:
        raise RuntimeError(f"search.mjs failed ({code}): {err.strip()}")
    return json.loads(out)


def redeploy_in_node(site: Path, timeout: float = 120) -> dict:
    """What the page's store says when the site is exported anew while it
    is open (browser/redeploy.mjs, node, no browser; the export is changed
    on disk)."""
    code, out, err = _node(BROWSER_DIR / "redeploy.mjs", {"site": str(site)}, timeout)
    if code:
        raise RuntimeError(f"redeploy.mjs failed ({code}): {err.strip()}")
    return json.loads(out)


def damaged_in_node(site: Path, timeout: float = 120) -> dict:
    """What the page's store says reading files damaged after the export
    (browser/damaged.mjs, node, no browser; the files are changed on disk)."""
    code, out, err = _node(BROWSER_DIR / "damaged.mjs", {"site": str(site)}, timeout)
    if code:
        raise RuntimeError(f"damaged.mjs failed ({code}): {err.strip()}")
    return json.loads(out)
