"""The plain renderer prints, byte for byte, what rich prints when the
output is not a terminal (`terminal.plain`; the CLI uses it to skip
importing rich for piped queries)."""

from __future__ import annotations

import functools
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import searchkit
from searchkit.hits import Expansion, Fragment, Hit, PaperView, Results
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


def paper_by_rich(paper: PaperView, width: int) -> str:
    """What `show` printed through rich on a plain console (`cli._show`)."""
    console = render.make_console(file=io.StringIO(), width=width)
    with console.capture() as capture:
        render.print_paper(console, paper)
    return "\n".join(line.rstrip() for line in capture.get().split("\n"))


def _paper(**extra: object) -> PaperView:
    fields = {"arxiv_id": "2501.00001", "title": "x" * 90 + " 확산 모델 제목", "url": "https://arxiv.org/abs/2501.00001",
              "dates": ("2025-01-01", "2025-01-08"), "sections": {}}
    copies = {"2025-01-01": {"title": "제목", "goal": "가나다라마바사아자차카타파하" * 6 + "  두  칸\n줄바꿈 뒤",
                             "results": "\t표\t사이\t탭 汉字\tab\n\t둘째 줄", "limitations": ""},
              "2025-01-08 (2025-01-08-b.md)": {"method": "…앞이 잘린 조각 (괄호) [대괄호] 3.5% 증가…" * 4}}
    return PaperView(**{**fields, "copies": copies, **extra})


@pytest.mark.parametrize("width", [17, 24, 40, 80, 123])
def test_a_paper_matches_rich(default_index: searchkit.Index, width: int) -> None:
    """`show` piped: papers of the default corpus, then one with two
    copies, an empty section, runs of spaces, tabs (rich measures a tab as
    no cell, then expands it) and a title wider than the line."""
    papers = [default_index.paper(h.arxiv_id) for h in default_index.search("확산 모델", limit=5)] + [_paper()]
    for paper in papers:
        text = plain.paper_text(paper, width)
        assert text == paper_by_rich(paper, width) if width >= 24 else text in (None, paper_by_rich(paper, width))


def test_a_painted_paper_is_the_plain_one_with_the_themes_codes() -> None:
    console = Console(file=io.StringIO(), width=60, theme=render.THEME, force_terminal=True, color_system="standard")
    paper = _paper()
    painted = plain.paper_text(paper, 60, render.painter(console))
    assert re.sub(r"\x1b\[[0-9;]*m", "", painted) == plain.paper_text(paper, 60)
    green, bold = "\x1b[32m", "\x1b[1m"
    assert f"{green}Goal\x1b[0m" in painted and painted.startswith(bold)
    assert "\x1b[4;34mhttps://arxiv.org/abs/2501.00001\x1b[0m" in painted


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


@pytest.mark.parametrize(("command", "shown"), [
    (["query", "확산 모델"], "1. "),
    (["show", "2510.00515"], "\nGoal "),
])
def test_a_piped_command_does_not_import_rich(default_index_dir: Path, command: list[str], shown: str) -> None:
    """Nor the post parser (`searchkit.corpus`, whose regular expressions
    compile at import): a query needs only the section names; nor the
    network modules and asyncio Whoosh imports for nothing (`whoosh_lean`)."""
    unwanted = ("rich.console", "rich.table", "rich.text", "searchkit.corpus", "asyncio", "urllib.request",
                "http.client")
    probe = ("import sys\nfrom searchkit.terminal.cli import main\ntry:\n    main()\nfinally:\n"
             f"    print([m for m in {unwanted!r} if m in sys.modules], file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, *command, "--index", str(default_index_dir)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == "[]"
    assert shown in done.stdout


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
