"""The real CLI in a real terminal: tmux at 80×24 and 40×24.

Korean is double-width, so a renderer that counts characters instead of
cells overflows the line and misaligns the section labels; highlight codes
that land off by one colour half a syllable. Only a terminal shows that.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from rich.cells import cell_len

ROOT = Path(__file__).resolve().parents[1]
LABELS = ("Goal", "Motivation", "Contribution", "Method", "Results", "Limitations", "Conclusion")
SGR = re.compile(r"\x1b\[([0-9;]*)m")

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")


def run_in_tmux(command: str, width: int, height: int, env: dict[str, str] | None = None) -> str:
    """Run ``command`` in a fresh tmux server of the given size and return
    the whole pane, scrollback included, with its escape codes."""
    socket = f"papersearch-{uuid.uuid4().hex[:8]}"
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TMUX")}
    environment.update(env or {}, PYTHONPATH=str(ROOT))
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    subprocess.run([*tmux, "new-session", "-d", "-x", str(width), "-y", str(height)], env=environment, check=True)
    try:
        subprocess.run([*tmux, "set-option", "-g", "history-limit", "5000"], check=True)
        # the marker is typed split in two so only the finished command prints it whole
        subprocess.run([*tmux, "send-keys", f"clear; {command}; echo __DO''NE__", "Enter"], check=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pane = subprocess.run([*tmux, "capture-pane", "-p", "-e", "-S", "-", "-E", "-"],
                                  capture_output=True, text=True, check=True).stdout
            if re.search(r"^__DONE__", SGR.sub("", pane), re.M):
                return pane
            time.sleep(0.2)
        raise AssertionError(f"command did not finish in tmux:\n{pane}")
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)


def highlighted_runs(pane: str) -> list[str]:
    """Text drawn bold yellow (the search.match style), run by run."""
    runs, current, bold, yellow = [], "", False, False
    pos = 0
    for match in SGR.finditer(pane + "\x1b[0m"):
        text = pane[pos : match.start()]
        if bold and yellow:
            current += text
        elif current:
            runs.append(current)
            current = ""
        codes = [int(c) if c else 0 for c in match.group(1).split(";")] or [0]
        for code in codes:
            if code == 0:
                bold = yellow = False
            elif code == 1:
                bold = True
            elif code == 22:
                bold = False
            elif code in (33, 93):
                yellow = True
            elif code == 39 or 30 <= code <= 37 or 90 <= code <= 97:
                yellow = False
        pos = match.end()
    if current:
        runs.append(current)
    return [r for r in (run.strip() for run in runs) if r]


def command(index: Path, *args: str) -> str:
    return " ".join([sys.executable, "-m", "searchkit", *args, "--index", str(index)])


@pytest.mark.slow
@pytest.mark.parametrize("width", [80, 40])
def test_results_render_in_a_real_terminal(default_index_dir: Path, width: int) -> None:
    pane = run_in_tmux(command(default_index_dir, "query", "'확산 모델'", "--limit", "3", "--no-expand", "--no-pager"), width, 24)
    plain = SGR.sub("", pane).splitlines()
    output = plain[: next(i for i, line in enumerate(plain) if line.startswith("__DONE__"))]
    text = "\n".join(output)
    assert "Diffusion" in text, "titles are shown"
    assert "matching papers" in text
    for line in output:
        assert cell_len(line.rstrip()) <= width, f"line overflows {width} columns: {line!r}"
    # every section label starts its fragment in the same column
    label_pattern = re.compile(r"^\s+(" + "|".join(LABELS) + r")\s")
    label_lines = [line for line in output if label_pattern.match(line)]
    assert label_lines, "section labels are shown"
    columns = {cell_len(re.match(r"^\s+\S+\s+", line).group()) for line in label_lines}
    assert len(columns) == 1, f"labels misaligned: {columns}"
    runs = highlighted_runs(pane)
    assert runs, "matches are highlighted"
    # a one-syllable prefix of the word is marked with it (역확산: see highlight.with_prefixes)
    words = {"확산", "모델", "확산 모델"}
    escaped = {run for run in runs if run not in words and not (len(run) > 1 and run[1:] in words)}
    assert not escaped, f"highlight escapes wrap other text: {escaped}"


@pytest.mark.slow
def test_long_output_goes_through_the_pager_only_on_a_terminal(default_index_dir: Path) -> None:
    args = command(default_index_dir, "query", "'모델'", "--limit", "10")
    paged = run_in_tmux(args, 80, 24, env={"PAGER": "head -n 3"})
    plain = SGR.sub("", paged)
    shown = plain[: plain.index("__DONE__")].strip().splitlines()
    assert len(shown) == 3 and shown[0].startswith("1. "), f"the pager (head -n 3) did not get the text: {shown}"
    assert "matching papers" not in plain, "a 10-hit page was not handed to the pager"
    piped = subprocess.run(args + " | cat", shell=True, capture_output=True, text=True,
                           env={**os.environ, "PAGER": "head -n 3", "PYTHONPATH": str(ROOT)})
    assert "matching papers" in piped.stdout, "piped output must never be paged"
    assert "\x1b[" not in piped.stdout, "piped output must be plain text"
