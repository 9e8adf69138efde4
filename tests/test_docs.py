"""The README is the manual: every command is documented there and has
help with an example (sqlite-utils' test_docs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchkit.cli import cli

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
