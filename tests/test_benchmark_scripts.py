"""The benchmark scripts start: each one's ``--help`` runs.

They run for hours on big corpora and nothing else imports them, so a
script that no longer compiles (run.py once declared a global after using
it) would only be found by the next person to measure.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import REPO

SCRIPTS = sorted((REPO / "benchmarks").glob("*/*.py"))


def test_there_are_scripts() -> None:
    assert {p.name for p in SCRIPTS} >= {"run.py", "cluster.py", "budget.py", "parity.py"}


@pytest.mark.parametrize("script", [p.relative_to(REPO).as_posix() for p in SCRIPTS if p.read_text(
    encoding="utf-8").count("argparse")])
def test_a_script_starts(script: str) -> None:
    done = subprocess.run([sys.executable, str(REPO / script), "--help"], cwd=(REPO / script).parent, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower()
