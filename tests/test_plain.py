"""The plain renderer prints, byte for byte, what rich prints when the
output is not a terminal (`terminal.plain`; the CLI uses it to skip
importing rich for piped queries)."""

from __future__ import annotations

import functools
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import searchkit
from searchkit.hits import Expansion, Fragment, Hit, Results
from searchkit.terminal import plain, render

QUERIES = ["확산 모델", "모델을 학습하는 방법", "강화학습", "LLM", "GPT-4o", '"강화 학습" 보상', "diffusion transformer",
           "계산 비용을 줄이는 효율적인 추론", "없는단어xyz"]


def drawn_by_rich(results: Results, width: int) -> str:
    """What the CLI prints through rich on a plain console (`cli._show`)."""
    console = render.make_console(file=io.StringIO(), width=width)
    with console.capture() as capture:
        render.print_results(console, results)
    return "\n".join(line.rstrip() for line in capture.get().split("\n"))


@pytest.mark.parametrize("width", [24, 40, 80, 123])
def test_query_results_match_rich(default_index: searchkit.Index, width: int) -> None:
    for query in QUERIES:
        for explain in (False, True):
            results = default_index.search(query, limit=10, explain=explain)
            assert plain.results_text(results, width) == drawn_by_rich(results, width), (query, explain, width)


def _hit(title: str, text: str, **extra: object) -> Hit:
    fragment = Fragment(text, ((0, 2),))
    fields = {"arxiv_id": "2501.00001", "title": title, "url": "https://arxiv.org/abs/2501.00001",
              "dates": ("2025-01-01", "2025-01-02"), "score": 3.14159, "matched_sections": ("goal",),
              "highlights": {"goal": fragment, "limitations": Fragment(text[::-1], ())}}
    fields.update(extra)
    return Hit(**fields)


@pytest.mark.parametrize("width", [10, 17, 20, 33, 80])
def test_awkward_text_matches_rich(width: int) -> None:
    """Words longer than the line, double-width syllables, line breaks,
    runs of spaces, an empty section, notes and an estimated total."""
    hits = [
        _hit("x" * 150, "가나다라마바사아자차카타파하" * 6 + "  두  칸   띄움\n줄바꿈 뒤의 글 " * 3),
        _hit("짧은 제목", "", shared_terms=("확산", "모델", "a" * 40)),
        _hit("Title: with — dashes … and ellipses", "…앞이 잘린 조각 (괄호) [대괄호] 3.5% 증가…"),
    ]
    results = Results(hits, query="q", total=lambda: (42, False),
                      expansions=(Expansion("확산", "diffusion"), Expansion("LLM", "대규모 언어 모델")),
                      suggestion="확산 모델")
    text = plain.results_text(results, width)
    assert text == drawn_by_rich(results, width) if width >= 20 else text is None  # rich squeezes narrow grids
    empty = Results([], query="q", total=0)
    assert plain.results_text(empty, width) == drawn_by_rich(empty, width)


def test_text_rich_would_rewrite_is_left_to_rich() -> None:
    for odd in ("tab\there", "carriage\rreturn", "bell\x07"):
        assert plain.results_text(Results([_hit(odd, "본문")], query="q", total=1), 80) is None


def test_width_is_riches(monkeypatch: pytest.MonkeyPatch) -> None:
    for columns in (None, "57", "200", "wide"):
        if columns is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", columns)
        assert plain.width() == Console().width


def test_labels_are_renders() -> None:
    assert render.LABELS is plain.LABELS


def test_piped_query_does_not_import_rich(default_index_dir: Path) -> None:
    probe = ("import sys\nfrom searchkit.terminal.cli import main\ntry:\n    main()\nfinally:\n"
             "    print(any(m == 'rich.console' for m in sys.modules), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, "query", "확산 모델", "--index", str(default_index_dir)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert done.stderr.split()[-1] == "False"
    assert "1. " in done.stdout


@pytest.mark.parametrize("columns", ["0", "-3", "wide", "²"])
def test_a_columns_that_is_no_width_prints_as_if_unset(default_index_dir: Path, columns: str) -> None:
    """COLUMNS=0 made rich draw zero columns: a query printed nothing and
    exited 0, an error vanished from stderr; the server, which passes on
    only a positive width, printed the whole answer."""
    run = functools.partial(subprocess.run, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    base = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    for args in (["query", "확산 모델", "--index", str(default_index_dir)], ["query", "확산", "--limit", "0"]):
        want = run([sys.executable, "-m", "searchkit", *args], env=base)
        got = run([sys.executable, "-m", "searchkit", *args], env={**base, "COLUMNS": columns})
        assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr)
        assert want.stdout or want.stderr.startswith("Error:")


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_output_that_cannot_spell_hangul_gets_escapes_not_a_traceback(default_index_dir: Path, encoding: str) -> None:
    run = functools.partial(subprocess.run, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONIOENCODING": encoding}, errors="replace")
    found = run([sys.executable, "-m", "searchkit", "query", "확산 모델", "--index", str(default_index_dir)])
    assert found.returncode == 0 and "Traceback" not in found.stderr, found.stderr
    assert "\\ud655\\uc0b0" in found.stdout and "matching papers" in found.stdout
    wrong = run([sys.executable, "-m", "searchkit", "show", "2501.99999", "--index", str(default_index_dir)])
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr and wrong.stderr.count("\n") == 1
