"""No input, however broken, produces a traceback (property-based).

Malformed posts are generated from the real format's building blocks with
damage mixed in; arbitrary query strings go through the library and the
CLI. The properties: reindex never raises, keeps every well-formed paper and
reports every skipped file with a reason; a query gives results or one
clear error with exit code 2.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchkit
from searchkit.corpus import parse_text
from searchkit.terminal.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SECTION_NAMES = ["Introduction", "Method", "Results", "Limitations", "Conclusion"]

korean = st.text(alphabet="가나다라마바사아자차카타파하 모델학습확산언어의를은", min_size=1, max_size=40)
junk = st.text(max_size=60)


@st.composite
def paper_block(draw: st.DrawFn, number: int) -> tuple[str, str | None]:
    """A paper in the post format; returns (markdown, arxiv id if valid)."""
    arxiv = f"2501.{number:05d}"
    kind = draw(st.sampled_from(["good", "good", "no-link", "no-sections", "repeated", "huge"]))
    title = draw(st.text(alphabet="abc XYZ-·𝑘<>*", min_size=1, max_size=30)).replace("]", "")
    if not title.strip():
        title = "Untitled"
    hashes = draw(st.sampled_from(["# ", "#\t", "  # ", "   #\t"]))  # every level-1 heading CommonMark reads
    head = f"{hashes}{number}. [{title}](https://arxiv.org/{draw(st.sampled_from(['abs', 'pdf', 'html']))}/{arxiv})"
    if kind == "no-link":
        head = f"{hashes}{number}. {title}"
    lines = [head, ""]
    if kind != "no-sections":
        for name in SECTION_NAMES:
            lines += [f"## {name}" + draw(st.sampled_from(["", "  "])), f"- {draw(korean)}", ""]
            if kind == "repeated":
                lines += [f"## {name}", draw(korean), ""]
    if kind == "huge":
        lines.append("가" * 20000)
    lines.append(draw(junk).replace("\n# ", "\n ").replace("# ", " "))
    return "\n".join(lines), None if kind == "no-link" else arxiv


@st.composite
def post_text(draw: st.DrawFn) -> tuple[str, set[str]]:
    """A post with random front matter damage; returns the ids that must
    be indexed."""
    front = draw(
        st.sampled_from(
            [
                '---\nlayout: post\ntitle: "Daily Papers"\ndate: 2025-10-06 08:15:00\n---\n',
                "---\ntitle: [unclosed\ndate: : :\n---\n",
                "---\ndate: 2025-10-06\n",  # never closed
                "---\n# a YAML comment\ndate: 2025-10-06\n---\n",
                "",
            ]
        )
    )
    blocks = [draw(paper_block(n)) for n in range(1, draw(st.integers(0, 4)) + 1)]
    text = front + "\n".join(b for b, _ in blocks)
    return text, {i for _, i in blocks if i}


@settings(max_examples=150, deadline=None)
@given(post_text())
def test_parser_keeps_every_wellformed_paper(post: tuple[str, set[str]]) -> None:
    text, expected = post
    papers, problems = parse_text(text, "p.md", "2025-10-06-p.md")
    assert {p.arxiv_id for p in papers} == expected
    if not expected:
        assert problems, "a post with nothing to index must say why"
    for problem in problems:
        assert problem.reason and problem.line >= 0


def _write_corpus(corpus: Path, posts: list[tuple[bytes, str]]) -> None:
    corpus.mkdir()
    for i, (data, _) in enumerate(posts):
        (corpus / f"2025-10-{i + 1:02d}-post.md").write_bytes(data)
    (corpus / "2025-09-01-dir.md").mkdir()  # a directory named like a post
    (corpus / "2025-09-02-loop.md").symlink_to(corpus / "2025-09-02-loop.md")  # a symlink loop
    (corpus / "2025-09-03-dangling.md").symlink_to(corpus / "missing.md")
    (corpus / "2025-09-04-empty.md").write_bytes(b"")


encoded_post = post_text().flatmap(
    lambda post: st.sampled_from(["utf8", "latin1-garbage", "nul"]).map(lambda enc: (post, enc))
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(encoded_post, min_size=1, max_size=3))
def test_reindex_survives_malformed_corpora(tmp_path_factory: pytest.TempPathFactory, drawn: list) -> None:
    base = tmp_path_factory.mktemp("corpus")
    corpus, index = base / "corpus", base / "index"
    posts, expected = [], set()
    for (text, ids), encoding in drawn:
        data = text.encode("utf-8")
        if encoding == "latin1-garbage":
            data += b"\n\xff\xfe broken"
        elif encoding == "nul":
            data += b"\x00"
        else:
            expected |= ids
        posts.append((data, encoding))
    _write_corpus(corpus, posts)
    report = searchkit.reindex(corpus, index)
    assert report.posts_read == len(posts) + 4
    reasons = {Path(p.path).name: p.reason for p in report.skipped}
    for name in ("2025-09-01-dir.md", "2025-09-02-loop.md", "2025-09-03-dangling.md", "2025-09-04-empty.md"):
        assert name in reasons and reasons[name]
    if expected:
        with searchkit.open_index(index) as ix:
            for arxiv in expected:
                assert ix.paper(arxiv).arxiv_id == arxiv
    shutil.rmtree(base)


nasty_queries = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            '"', '"unbalanced', "(((", ")", "AND", "OR NOT", "title:", "foo:bar 모델", "*", "?", "~2", "^3",
            "은는이가을를", "...,,,!!!", "🤖🔥", "\x00\x01\x1b[31m", "모델" * 5000, "2510.21800v2", '""', "-", "+",
        ]
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nasty_queries)
def test_library_queries_never_crash(default_index_dir: Path, query: str) -> None:
    with searchkit.open_index(default_index_dir) as index:
        try:
            results = index.search(query, limit=5)
        except searchkit.InputError as exc:
            assert str(exc) and "\n" not in str(exc)
        else:
            assert len(results) <= 5


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nasty_queries)
def test_cli_queries_never_crash(default_index_dir: Path, query: str) -> None:
    if "\x00" in query:  # argv cannot carry NUL; the library test covers it
        query = query.replace("\x00", "")
    # "--" so that a query like "-0" is text, as a user must write it
    result = CliRunner().invoke(cli, ["query", "--index", str(default_index_dir), "--limit", "3", "--", query])
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error:")


@pytest.mark.parametrize("args", [["--limit", "0"], ["--limit", "x"], ["--section", "nope"], ["--bogus"]])
def test_bad_options_exit_2(default_index_dir: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["query", "모델", "--index", str(default_index_dir), *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_unreadable_post_is_reported(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read any file, so an unreadable post cannot be made")
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    victim = sorted(corpus.glob("*.md"))[0]
    victim.chmod(0)
    report = searchkit.reindex(corpus, tmp_path / "index")
    assert any(Path(p.path).name == victim.name and "cannot be read" in p.reason for p in report.skipped)
