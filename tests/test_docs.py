"""The README is the manual: every command is documented there and has
help with an example (sqlite-utils' test_docs)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit.terminal.cli import cli

from .conftest import DEFAULT_CORPUS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"### `papersearch {name}" in README, f"README has no section for `papersearch {name}`"


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_with_a_korean_example(name: str) -> None:
    help_text = cli.commands[name].help or ""
    assert "Example" in help_text
    assert any("\uac00" <= c <= "\ud7a3" for c in help_text.split("Example", 1)[1]), "no Korean in the examples"


def test_readme_opens_with_the_two_setup_commands() -> None:
    lines = README.splitlines()
    block = lines[lines.index("```bash") + 1 : lines.index("```bash") + 3]
    assert block == ['pip install -e . && papersearch query "확산 모델"', 'pip install -e ".[test]" && pytest']


# Every command line of the README, from a fresh clone

SKIPPED = ("papersearch serve",)
"""Run by the server tests (it does not return); parsed here all the same."""


def readme_commands() -> list[list[str]]:
    """Each ``papersearch …`` command of the README's bash blocks, as argv
    (comments, ``&`` and the ``pip install … &&`` before it removed)."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part.replace(" &", " "), comments=True)
                if words[:1] == ["papersearch"]:
                    commands.append(words)
    return commands


def readme_inline_commands() -> list[list[str]]:
    """The ``papersearch …`` spans in the README's prose."""
    return [shlex.split(span) for span in re.findall(r"`(papersearch [^`]+)`", README)]


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a fresh clone has: ``corpus/``, an empty ``index/``, and no
    ``../shared`` beside it."""
    clone = tmp_path_factory.mktemp("clone") / "papersearch"
    shutil.copytree(DEFAULT_CORPUS, clone / "corpus")
    (clone / "index").mkdir()
    return clone


@pytest.fixture
def in_clone(fresh_clone: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(fresh_clone)
    monkeypatch.delenv("PAPERSEARCH_INDEX")
    monkeypatch.delenv("PAPERSEARCH_CORPUS")
    return fresh_clone


def test_the_readme_has_commands_to_check() -> None:
    names = {argv[1] for argv in readme_commands() if len(argv) > 1}
    assert {"reindex", "query", "show", "similar", "stats", "serve"} <= names


def test_every_readme_command_works_in_a_fresh_clone(in_clone: Path) -> None:
    """In the README's order, so the first query builds the index from
    ``corpus/`` as the README says it does."""
    for argv in readme_commands():
        if " ".join(argv).startswith(SKIPPED):
            continue
        result = CliRunner().invoke(cli, argv[1:], prog_name="papersearch")
        assert result.exit_code == 0, f"{shlex.join(argv)} exited {result.exit_code}: {result.output}"
        assert "Traceback" not in result.output


@pytest.mark.parametrize("argv", readme_commands() + readme_inline_commands(), ids=shlex.join)
def test_every_readme_command_line_parses(argv: list[str]) -> None:
    """Options and arguments as written exist (the running test above
    leaves out the server; this one checks the prose's examples too)."""
    group = cli.make_context("papersearch", argv[1:], resilient_parsing=True)
    if argv[1:2] == ["--version"]:
        return
    name, *rest = argv[1:]
    command = cli.get_command(group, name)
    assert command is not None, f"README names an unknown command: {name}"
    command.make_context(name, list(rest), parent=group)  # a usage error raises here


def test_the_readme_completion_lines_give_scripts() -> None:
    shells = re.findall(r"_PAPERSEARCH_COMPLETE=(\w+)_source papersearch", README)
    assert sorted(shells) == ["bash", "fish", "zsh"]
    for shell in shells:
        result = CliRunner().invoke(cli, [], env={"_PAPERSEARCH_COMPLETE": f"{shell}_source"}, prog_name="papersearch")
        assert result.exit_code == 0 and "_PAPERSEARCH_COMPLETE" in result.stdout


def test_the_readme_library_example_runs(in_clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [code] = re.findall(r"```python\n(.*?)```", README, re.S)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert re.search(r"^\d+ papers indexed$", out, re.M) and "2510." in out


def test_the_readme_capture_is_what_the_default_corpus_gives(default_index_dir: Path) -> None:
    """The plain-text capture comes from ``corpus/``: a fresh clone can
    reproduce it (scores aside, which tuning may move)."""
    capture = re.search(r"this capture of `papersearch (.+?)`.*?\n```\n(.*?)```", README, re.S)
    assert capture, "the README's capture is gone"
    args = shlex.split(capture.group(1))
    result = CliRunner().invoke(cli, [*args, "--index", str(default_index_dir)])
    assert result.exit_code == 0, result.output

    def shape(text: str) -> list[str]:
        return [re.sub(r"score \d+\.\d+", "score N", line.rstrip()) for line in text.strip().splitlines()[:3]]

    assert shape(result.stdout) == shape(capture.group(2))
