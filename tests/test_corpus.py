"""Posts → papers: the parser on every real post, then on malformed input."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from searchkit.corpus import SECTIONS, Paper, Post, Problem, find_posts, parse_post, parse_text

from .conftest import DEFAULT_CORPUS, TINY_POSTS, write_posts

BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.M)
LABEL = re.compile(r"^\s*(?:\*\*)?(?:goal|motivation|contribution|목표|동기|기여)(?:\*\*)?\s*[:：]", re.I | re.M)
TRAILING_SPACE = re.compile(r"[ \t]+$", re.M)


def parse_dir(directory: Path) -> list[Post]:
    paths, problems = find_posts(directory)
    assert problems == []
    return [parse_post(path) for path in paths]


def papers_of(posts: list[Post]) -> list[Paper]:
    return [paper for post in posts for paper in post.papers]


def paper(posts: list[Post], post_name: str, arxiv_id: str) -> Paper:
    [found] = [p for p in papers_of(posts) if p.post == post_name and p.arxiv_id == arxiv_id]
    return found


def parse(text: str, name: str = "2025-01-01-daily-papers-20250101.md") -> tuple[list[Paper], list[Problem]]:
    return parse_text(text, f"corpus/{name}", name)


FRONT = "---\nlayout: post\ndate: 2025-01-01 08:00:00\n---\n\n"


# The real corpora


@pytest.fixture(scope="module")
def daily(shared_corpus: Path) -> list[Post]:
    return parse_dir(shared_corpus / "daily-papers")


@pytest.fixture(scope="module")
def digests(shared_corpus: Path) -> list[Post]:
    return parse_dir(shared_corpus / "arxiv-digests")


def test_daily_papers_counts(daily: list[Post]) -> None:
    papers = papers_of(daily)
    assert len(daily) == 89
    assert len(papers) == 738
    assert len({p.arxiv_id for p in papers}) == 689


def test_daily_papers_skips_only_the_empty_last_post(daily: list[Post]) -> None:
    skipped = [post for post in daily if post.skipped]
    assert [Path(post.path).name for post in skipped] == ["2025-12-26-daily-papers-20251226.md"]
    [problem] = skipped[0].problems
    assert problem.reason == "has no paper headings"
    assert problem.fatal and problem.line == 0
    assert all(post.problems == () for post in daily if not post.skipped)


def test_arxiv_digests_counts(digests: list[Post]) -> None:
    assert len(digests) == 3
    assert len(papers_of(digests)) == 49
    assert all(post.problems == () for post in digests)


def test_default_corpus_has_46_papers() -> None:
    posts = parse_dir(DEFAULT_CORPUS)
    assert len(posts) == 5
    assert len(papers_of(posts)) == 46
    assert all(post.problems == () for post in posts)


@pytest.mark.parametrize("corpus", ["daily", "digests"])
def test_every_paper_has_all_seven_sections(corpus: str, request: pytest.FixtureRequest) -> None:
    for paper in papers_of(request.getfixturevalue(corpus)):
        assert tuple(paper.sections) == SECTIONS, (paper.post, paper.arxiv_id)
        assert all(text.strip() for text in paper.sections.values())


@pytest.mark.parametrize("corpus", ["daily", "digests"])
def test_section_text_is_clean(corpus: str, request: pytest.FixtureRequest) -> None:
    for paper in papers_of(request.getfixturevalue(corpus)):
        where = (paper.post, paper.arxiv_id)
        assert "  " not in paper.title, where
        assert paper.title == paper.title.strip(), where
        for name, text in paper.sections.items():
            assert not BULLET.search(text), (*where, name)
            assert not LABEL.search(text), (*where, name)
            assert not TRAILING_SPACE.search(text), (*where, name)


def test_titles_collapse_runs_of_spaces(daily: list[Post]) -> None:
    # The heading reads "[Efficient Multi-modal ... Progressive Consistency   Distillation]".
    found = paper(daily, "2025-10-06-daily-papers-20251006.md", "2510.00515")
    assert found.title == "Efficient Multi-modal Large Language Models via Progressive Consistency Distillation"


def test_english_labels_assign_introduction(daily: list[Post]) -> None:
    found = paper(daily, "2025-10-06-daily-papers-20251006.md", "2510.00515")
    assert found.sections["goal"].startswith("본 논문은 토큰 압축 시 발생하는 학습 난이도를 완화하여")
    assert found.sections["motivation"].startswith("시각 토큰의 대량 존재는")
    assert found.sections["contribution"].startswith("본 연구는 점진적 일관성 증류(EPIC) 프레임워크를")


def test_korean_labels_assign_introduction(daily: list[Post]) -> None:
    # "- 목표: ProfVLM이라는 ...", "- 동기: 기존 ...", "- 기여: 본 논문은 ..."
    found = paper(daily, "2025-10-01-daily-papers-20251001.md", "2509.26278")
    assert found.sections["goal"].startswith("ProfVLM이라는 경량화된 비디오-언어 모델을 통해")
    assert found.sections["motivation"].startswith("기존 수행 능력 평가는 주로 단일 시점 분류 방식과")
    assert found.sections["contribution"].startswith("본 논문은 시공간 트랜스포머 기반 영상 인코더와")


def test_unlabelled_bullets_fill_introduction_in_order(daily: list[Post]) -> None:
    found = paper(daily, "2025-11-14-daily-papers-20251114.md", "2511.01918")
    assert found.sections["goal"].startswith("본 연구의 목표는 양자 중첩 원리를 활용하여")
    assert found.sections["motivation"].startswith("기존의 대형 언어 모델(LLM) 학습에 사용되는")
    assert found.sections["contribution"].startswith("본 논문은 양자 회로 기반의 섭동을 도입하여")


def test_method_heading_with_trailing_spaces_is_recognised(daily: list[Post]) -> None:
    # This paper's headings are written "## Method␠␠", "## Results␠␠", ...
    found = paper(daily, "2025-11-14-daily-papers-20251114.md", "2511.01918")
    assert found.sections["method"].startswith("SGD는 고전적 모멘텀 기반 최적화와")
    assert found.sections["conclusion"].startswith("양자 중첩을 모방하는 섭동이")


def test_bulleted_method_loses_its_markers(daily: list[Post]) -> None:
    found = paper(daily, "2025-11-14-daily-papers-20251114.md", "2511.10547")
    lines = found.sections["method"].split("\n")
    assert len(lines) == 3
    assert lines[0].startswith("본 프레임워크는 개념별로 속성(예: 사과의 색상)을 명시하여")
    assert lines[1].startswith("인간 평가 템플릿은")
    assert found.sections["results"].startswith("인간 평가 기반 모델 비교에서")


def test_versioned_url_gives_bare_id(digests: list[Post]) -> None:
    found = paper(digests, "2025-09-01-Arxiv.md", "2508.21824")
    assert found.url == "http://arxiv.org/abs/2508.21824v1"
    assert found.title == "DriveQA: Passing the Driving Knowledge Test"
    assert found.date == "2025-09-01"
    assert found.line == 9


def test_reposted_paper_keeps_each_posts_date(daily: list[Post]) -> None:
    dates = sorted(p.date for p in papers_of(daily) if p.arxiv_id == "2508.20751")
    assert dates == ["2025-08-29", "2025-08-30", "2025-08-31"]


# Hand-written posts


def test_tiny_post_parses(tmp_path: Path) -> None:
    corpus = write_posts(tmp_path, TINY_POSTS)
    name = "2025-01-07-daily-papers-20250107.md"
    post = parse_post(corpus / name)
    assert post.problems == ()
    assert [p.arxiv_id for p in post.papers] == ["2501.00003", "2501.00004", "2501.00005"]
    headings = [i for i, line in enumerate(TINY_POSTS[name].split("\n"), 1) if line.startswith("# ")]
    assert [p.line for p in post.papers] == headings == [7, 26, 46]
    rewards = post.papers[1]
    assert rewards.sections["goal"] == "본 연구의 목표는 언어 에이전트의 강화 학습을 안정화하는 것이다."
    assert rewards.sections["motivation"] == "보상이 희소하면 강화학습이 불안정해진다."
    assert rewards.sections["method"] == "중간 단계마다 보상을 부여한다.\n정책 경사로 에이전트를 학습한다."
    assert post.papers[2].sections["goal"] == "분류기 학습 순서를 설계하는 것이다."
    assert post.digest and len(post.digest) == 64


def test_heading_without_link_is_reported_and_others_kept() -> None:
    text = FRONT + (
        "# 1. [Good One](https://arxiv.org/abs/2501.00001)\n"
        "## Method\n첫 번째 방법.\n\n"
        "# 2. A heading with no link at all\n"
        "## Method\n사라질 방법.\n\n"
        "# 3. [Not arXiv](https://openreview.net/forum?id=abc)\n"
        "## Method\n역시 사라질 방법.\n\n"
        "# 4. [Good Two](https://arxiv.org/pdf/2501.00002v3)\n"
        "## Method\n네 번째 방법.\n"
    )
    papers, problems = parse(text)
    assert [p.arxiv_id for p in papers] == ["2501.00001", "2501.00002"]
    assert [p.sections["method"] for p in papers] == ["첫 번째 방법.", "네 번째 방법."]
    assert [(p.line, p.fatal) for p in problems] == [(10, False), (14, False)]
    assert all(p.reason == "paper heading has no arXiv link; paper skipped" for p in problems)
    assert str(problems[0]) == "corpus/2025-01-01-daily-papers-20250101.md:10: paper heading has no arXiv link; paper skipped"


@pytest.mark.parametrize("path", ["abs/2510.10001", "pdf/2510.10001v2", "html/2510.10001", "html/2510.10001v2"])
def test_every_arxiv_link_form_a_query_takes_is_a_paper(path: str) -> None:
    papers, problems = parse(FRONT + f"# 1. [T](https://arxiv.org/{path})\n## Method\n방법.\n")
    assert problems == []
    assert [(p.arxiv_id, p.url) for p in papers] == [("2510.10001", f"https://arxiv.org/{path}")]


def test_tab_and_indented_level_one_headings_start_papers() -> None:
    # CommonMark: up to three spaces before "#", then a space or a tab.
    text = FRONT + (
        "# 1. [First Paper](https://arxiv.org/abs/2510.10001)\n## Method\n첫째.\n\n"
        "#\t2. [Second Paper](https://arxiv.org/abs/2510.10002)\n## Method\n둘째.\n\n"
        "   # 3. [Third Paper](https://arxiv.org/abs/2510.10003)\n## Method\n셋째.\n"
    )
    papers, problems = parse(text)
    assert problems == []
    assert [(p.arxiv_id, p.title, p.line) for p in papers] == [
        ("2510.10001", "First Paper", 6), ("2510.10002", "Second Paper", 10), ("2510.10003", "Third Paper", 14)
    ]
    assert [p.sections["method"] for p in papers] == ["첫째.", "둘째.", "셋째."]


def test_indented_and_closed_section_headings_are_sections() -> None:
    """CommonMark's level-2 headings: up to three spaces before ``##`` and
    an optional closing run of ``#``. An indented ``## Method`` was read as
    an Introduction bullet (its text became the motivation and the method
    the contribution); a closed one was refused and its text lost."""
    text = FRONT + (
        "# 1. [First Paper](https://arxiv.org/abs/2510.10001) #\n"
        "## Introduction\n- Goal: 목표.\n\n"
        "  ## Method\n방법.\n\n"
        "## Results ##\n결과.\n\n"
        "   ## Limitations #\n한계.\n\n"
        "## C# and F#\n사라질 글.\n"
    )
    papers, problems = parse(text)
    assert [(p.arxiv_id, p.title) for p in papers] == [("2510.10001", "First Paper")]
    assert papers[0].sections == {"goal": "목표.", "method": "방법.", "results": "결과.", "limitations": "한계."}
    assert [(p.line, p.reason) for p in problems] == [(19, "unknown section '## C# and F#'; ignored")]


@pytest.mark.parametrize("url", ["https://example.com/?from=arxiv.org/abs/2510.10001",
                                 "https://notarxiv.org/abs/2510.10001", "https://arxiv.org/abs/2510.100012"])
def test_a_link_that_only_mentions_arxiv_is_no_arxiv_paper(url: str) -> None:
    papers, problems = parse(FRONT + f"# 1. [T]({url})\n## Method\n방법.\n")
    assert papers == [] and "paper heading has no arXiv link; paper skipped" in [p.reason for p in problems]


@pytest.mark.parametrize("url", ["http://arxiv.org/abs/2510.10001v1", "https://www.arxiv.org/pdf/2510.10001.pdf",
                                 "arxiv.org/abs/2510.10001", "https://arxiv.org/abs/2510.10001#section",
                                 "<https://export.arxiv.org/abs/2510.10001>",
                                 "https://arxiv.org/html/2510.10001v1/index.html"])
def test_arxiv_links_as_written_are_papers(url: str) -> None:
    """Each is a paper, and `show` takes the same link as its id; a link
    written without its scheme gets one (in a page it was a relative link
    to /search/arxiv.org/…)."""
    from searchkit.engine import bare_id

    papers, problems = parse(FRONT + f"# 1. [T]({url})\n## Method\n방법.\n")
    assert problems == [] and [p.arxiv_id for p in papers] == ["2510.10001"]
    written = url.strip("<>")
    assert papers[0].url == (written if "://" in written else "https://" + written) and bare_id(url) == "2510.10001"


@pytest.mark.parametrize("text", ["2510.100011", "2510.10001/anything", "2510.10001#x", "<2510.10001",
                                  "arxiv:2510.10001/x", "<https://arxiv.org/abs/2510.10001",
                                  "https://arxiv.org/abs/2510.10001 junk"])
def test_what_is_no_arxiv_id_is_refused(text: str) -> None:
    """A link's tail and angle brackets belong to links, in pairs; a bare
    id takes only a version."""
    from searchkit.engine import bare_id
    from searchkit.errors import QueryError

    with pytest.raises(QueryError):
        bare_id(text)


def test_four_space_indent_or_no_space_is_not_a_heading_and_is_named() -> None:
    # Four spaces make a code block and "#2." is a paragraph: both stay text of the paper before,
    # and say so (they were silently part of it)
    text = FRONT + (
        "# 1. [First Paper](https://arxiv.org/abs/2510.10001)\n## Method\n첫째.\n"
        "    # 2. [Code](https://arxiv.org/abs/2510.10002)\n"
        "#2. [Paragraph](https://arxiv.org/abs/2510.10003)\n"
    )
    papers, problems = parse(text)
    assert [p.arxiv_id for p in papers] == ["2510.10001"]
    assert [(p.line, p.reason.split(";")[0]) for p in problems] == [
        (9, "a paper heading Markdown does not render as one (no space after #, or indented 4 spaces)"),
        (10, "a paper heading Markdown does not render as one (no space after #, or indented 4 spaces)"),
    ]


def test_code_fences_and_comments_are_not_headings() -> None:
    """A ``# comment`` inside fenced code ended the paper (its Results were
    lost, a bogus "no arXiv link" named the wrong thing); a paper heading
    inside a fence or an HTML comment made a paper no reader sees."""
    text = FRONT + (
        "# 1. [First Paper](https://arxiv.org/abs/2510.10001)\n## Method\n첫째.\n"
        "```python\n# compute the loss\nloss = f(x)\n# 9. [Fenced](https://arxiv.org/abs/2510.10009)\n```\n"
        "## Results\n결과 CODERESULTS.\n"
        "<!--\n# 8. [Commented](https://arxiv.org/abs/2510.10008)\n## Method\n숨김.\n-->\n"
        "~~~~\n## Limitations\n~~~~\n"
        "# 2. [Second Paper](https://arxiv.org/abs/2510.10002)\n## Method\n둘째.\n"
    )
    papers, problems = parse(text)
    assert problems == []
    assert [p.arxiv_id for p in papers] == ["2510.10001", "2510.10002"]
    first = papers[0].sections
    assert first["method"] == "첫째.\n# compute the loss\nloss = f(x)\n# 9. [Fenced](https://arxiv.org/abs/2510.10009)"
    assert first["results"] == "결과 CODERESULTS.\n## Limitations"
    assert "숨김" not in str(first) and "limitations" not in first


@pytest.mark.parametrize("opening", ["```", "<!-- a note", "~~~ approximately 3x faster"])
def test_a_fence_or_comment_never_closed_is_text_and_named(opening: str) -> None:
    """kramdown, the blog's renderer, shows a fence never closed as text:
    read so, the papers after it are kept (they were lost)."""
    text = FRONT + (
        "# 1. [First Paper](https://arxiv.org/abs/2510.10001)\n## Method\n첫째.\n"
        f"{opening}\n# 2. [Second Paper](https://arxiv.org/abs/2510.10002)\n## Method\n둘째.\n"
    )
    papers, problems = parse(text)
    assert [p.arxiv_id for p in papers] == ["2510.10001", "2510.10002"]
    what = "HTML comment" if opening.startswith("<") else "code fence"
    assert [(p.line, p.reason, p.lost) for p in problems] == [(9, f"a {what} opened here is never closed; read as text",
                                                               False)]


def test_only_a_fence_markdown_renders_hides_headings() -> None:
    """A fence on a bullet line is no fence, so the indented closer below
    it must not open one; a closer indented four spaces closes nothing;
    ```x``` is inline code."""
    text = FRONT + (
        "# 1. [First Paper](https://arxiv.org/abs/2510.10001)\n## Method\n"
        "- ```python\n  x = 1\n  ```\n```x``` is inline.\n"
        "```\ncode\n    ```\n# not a heading\n```\n"
        "# 2. [Second Paper](https://arxiv.org/abs/2510.10002)\n## Method\n둘째.\n"
    )
    papers, problems = parse(text)
    assert problems == [] and [p.arxiv_id for p in papers] == ["2510.10001", "2510.10002"]
    assert "# not a heading" in papers[0].sections["method"]


def test_a_near_miss_heading_before_the_first_paper_is_named_and_lost() -> None:
    text = FRONT + "#1. [A](https://arxiv.org/abs/2510.10001)\n# 2. [B](https://arxiv.org/abs/2510.10002)\n## Method\n둘째.\n"
    papers, problems = parse(text)
    assert [p.arxiv_id for p in papers] == ["2510.10002"]
    assert [(p.line, p.lost) for p in problems] == [(6, True)]


def test_an_underline_below_anything_but_a_paper_heading_makes_no_paper() -> None:
    text = FRONT + (
        "# 1. [First Paper](https://arxiv.org/abs/2510.10001)\n## Introduction\n- Goal: 목표.\n"
        "- see [code](https://github.com/x/y)\n===\n## Method\n방법.\n"
    )
    papers, problems = parse(text)
    assert problems == [] and [p.arxiv_id for p in papers] == ["2510.10001"]
    assert papers[0].sections["method"] == "방법."


def test_a_setext_paper_heading_starts_a_paper() -> None:
    text = FRONT + (
        "# 1. [First Paper](https://arxiv.org/abs/2510.10001)\n## Method\n첫째.\n\n"
        "[Second Paper](https://arxiv.org/abs/2510.10002)\n===\n## Method\n둘째.\n"
    )
    papers, problems = parse(text)
    assert problems == []
    assert [(p.arxiv_id, p.title, p.sections["method"]) for p in papers] == [
        ("2510.10001", "First Paper", "첫째."), ("2510.10002", "Second Paper", "둘째.")]


@pytest.mark.parametrize("link", ['(https://arxiv.org/abs/2510.10001 "Its title")',
                                  "(https://arxiv.org/abs/2510.10001 'Its title')",
                                  "(https://arxiv.org/abs/2510.10001 (Its title))"])
def test_a_link_with_a_title_of_its_own_is_a_paper(link: str) -> None:
    papers, problems = parse(FRONT + f"# 1. [T]{link}\n## Method\n방법.\n")
    assert problems == [] and [(p.arxiv_id, p.title) for p in papers] == [("2510.10001", "T")]


def test_a_heading_whose_link_has_no_text_is_indexed_and_named() -> None:
    papers, problems = parse(FRONT + "# 1. [](https://arxiv.org/abs/2510.10001)\n## Method\n방법.\n")
    assert [(p.arxiv_id, p.title) for p in papers] == [("2510.10001", "")]
    assert [(p.line, p.reason) for p in problems] == [(6, "paper heading's link has no text; indexed without a title")]


@pytest.mark.parametrize("date", ["2025/11/16", "Nov 17, 2025"])
def test_a_front_matter_date_in_another_form_is_named(date: str) -> None:
    papers, problems = parse(FRONT.replace("2025-01-01 08:00:00", date))
    assert [(p.line, p.reason) for p in problems] == [
        (3, f"date {date!r} is not written YYYY-MM-DD; using 2025-01-01 from the file name"), (0, "has no paper headings")]


def test_posts_jekyll_publishes_but_papersearch_does_not_read_are_named(tmp_path: Path) -> None:
    post = FRONT + "# 1. [T](https://arxiv.org/abs/2510.10001)\n## Method\n방법.\n"
    (tmp_path / "2025-01-01-a.md").write_text(post, encoding="utf-8")
    (tmp_path / "2025-01-02-b.MD").write_text(post, encoding="utf-8")
    (tmp_path / "2025").mkdir()
    (tmp_path / "2025" / "2025-01-03-c.md").write_text(post, encoding="utf-8")
    (tmp_path / "assets").mkdir()
    paths, problems = find_posts(tmp_path)
    assert [p.name for p in paths] == ["2025-01-01-a.md"]
    assert [(Path(p.path).name, p.reason, p.fatal) for p in problems] == [
        ("2025", "not read: a subdirectory holding 1 *.md post(s); only the corpus directory's own posts are", True),
        ("2025-01-02-b.MD", "not read: only *.md posts are (rename it)", True),
    ]


def test_unclosed_front_matter_ends_at_an_indented_heading() -> None:
    papers, problems = parse("---\ndate: 2025-01-01\n  # 1. [T](https://arxiv.org/abs/2501.00001)\n## Method\n방법.\n")
    assert [(p.arxiv_id, p.line) for p in papers] == [("2501.00001", 3)]
    assert [p.reason for p in problems] == ["front matter is never closed with ---"]


def test_invalid_utf8_is_a_fatal_problem_naming_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "2025-01-01-daily-papers-20250101.md"
    raw = (FRONT + "# 1. [T](https://arxiv.org/abs/2501.00001)\n").encode()
    path.write_bytes(raw + b"\xff\xfe broken\n")
    post = parse_post(path)
    assert post.papers == ()
    assert post.skipped
    [problem] = post.problems
    assert problem.reason == f"is not valid UTF-8 (byte {len(raw)})"
    assert problem.fatal and problem.line == raw.count(b"\n") + 1, "the line, as every other warning names it"


def test_control_characters_become_spaces_and_are_reported(tmp_path: Path) -> None:
    """ESC sequences in a summary reached every searcher's terminal (a post
    could clear or retitle it), and rich dropped some, moving the highlight
    off the stored offsets (probe). Each becomes a space (offsets kept);
    tab stays."""
    path = tmp_path / "2025-01-01-daily-papers-20250101.md"
    path.write_text(FRONT + "# 1. [T](https://arxiv.org/abs/2501.00001)\n## Method\n빨\x1b[2J강\t파\x07랑\x9b\n",
                    encoding="utf-8")
    post = parse_post(path)
    assert [p.sections for p in post.papers] == [{"method": "빨 [2J강\t파 랑"}]
    [problem] = post.problems
    assert (problem.line, problem.reason, problem.fatal) == (
        8, "contains control characters (U+001B first); each became a space", False)


def test_nul_bytes_are_removed_and_reported_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "2025-01-01-daily-papers-20250101.md"
    path.write_text(FRONT + "# 1. [T](https://arxiv.org/abs/2501.00001)\n## Method\nab\x00cd\n", encoding="utf-8")
    post = parse_post(path)
    assert [p.sections for p in post.papers] == [{"method": "abcd"}]
    [problem] = post.problems
    assert (problem.line, problem.reason, problem.fatal) == (8, "contains NUL bytes; they were removed", False)


def test_no_front_matter_takes_the_date_from_the_file_name() -> None:
    papers, problems = parse("# 1. [T](https://arxiv.org/abs/2501.00001)\n## Method\n방법.\n", "2025-03-04-notes.md")
    assert problems == []
    assert [(p.date, p.post, p.line) for p in papers] == [("2025-03-04", "2025-03-04-notes.md", 1)]


def test_front_matter_date_wins_over_file_name() -> None:
    papers, _ = parse("---\ndate: \"2024-12-31\"\n---\n# [T](https://arxiv.org/abs/2501.00001)\n", "2025-03-04-x.md")
    assert papers[0].date == "2024-12-31"


def test_no_date_anywhere_is_fatal() -> None:
    papers, problems = parse("# 1. [T](https://arxiv.org/abs/2501.00001)\n", "notes.md")
    assert papers == []
    assert [(p.reason, p.fatal) for p in problems] == [("has no date in its front matter or file name", True)]


def test_unclosed_front_matter_is_warned() -> None:
    papers, problems = parse("---\ndate: 2025-01-01\n# 1. [T](https://arxiv.org/abs/2501.00001)\n")
    assert [p.arxiv_id for p in papers] == ["2501.00001"]
    assert [(p.line, p.reason) for p in problems][0] == (1, "front matter is never closed with ---")


COMMENTED_FRONT = "---\nlayout: post\n# published the next morning\ndate: 2025-10-07 08:15:00\n---\n"


@pytest.mark.parametrize("name", ["2025-10-06-daily-papers-20251006.md", "notes.md"])
def test_yaml_comment_does_not_end_the_front_matter(name: str) -> None:
    # A file name without a date was skipped: the date line came after the comment.
    text = COMMENTED_FRONT + "# 1. [A Paper](https://arxiv.org/abs/2510.10001)\n## Method\n방법.\n"
    papers, problems = parse(text, name)
    assert problems == []
    assert [(p.arxiv_id, p.date, p.line) for p in papers] == [("2510.10001", "2025-10-07", 6)]


def test_unclosed_front_matter_is_not_closed_by_a_thematic_break_below_a_paper() -> None:
    text = (
        "---\ndate: 2025-01-01\n"
        "# 1. [T](https://arxiv.org/abs/2501.00001)\n## Method\n방법.\n---\n"
        "# 2. [U](https://arxiv.org/abs/2501.00002)\n## Method\n방법.\n"
    )
    papers, problems = parse(text)
    assert [(p.arxiv_id, p.line) for p in papers] == [("2501.00001", 3), ("2501.00002", 7)]
    assert [(p.line, p.reason) for p in problems] == [(1, "front matter is never closed with ---")]


def test_unclosed_front_matter_is_not_closed_by_a_break_below_a_heading_without_link() -> None:
    """A paper heading without its link, and its sections, are no YAML: a
    ``---`` below them is the body's break, and both warnings stay (taken
    for the close, it hid them, and a ``date:`` line in that paper would
    have dated the post)."""
    text = (
        "---\ntitle: x\n\n# 1. Paper without link\n\n## Method\n- date: 2031-02-03\n\n---\n\n"
        "# 2. [T2](https://arxiv.org/abs/2401.00002)\n"
    )
    papers, problems = parse(text, "2025-01-05-daily.md")
    assert [(p.arxiv_id, p.date) for p in papers] == [("2401.00002", "2025-01-05")]
    assert [(p.line, p.reason) for p in problems][:2] == [
        (1, "front matter is never closed with ---"), (4, "paper heading has no arXiv link; paper skipped")]


def test_unknown_section_is_warned_and_ignored() -> None:
    text = FRONT + "# 1. [T](https://arxiv.org/abs/2501.00001)\n## Method\n방법.\n## Foo\n버려질 내용.\n## Results\n결과.\n"
    papers, problems = parse(text)
    assert papers[0].sections == {"method": "방법.", "results": "결과."}
    assert [(p.line, p.reason, p.fatal) for p in problems] == [(9, "unknown section '## Foo'; ignored", False)]


def test_paper_without_sections_is_kept_by_title() -> None:
    papers, problems = parse(FRONT + "# 1. [Only A Title](https://arxiv.org/abs/2501.00001)\n")
    assert [(p.title, p.sections) for p in papers] == [("Only A Title", {})]
    assert [p.reason for p in problems] == ["paper has no summary sections; indexed by title only"]


def test_crlf_line_endings_parse_like_lf() -> None:
    text = FRONT + "# 1. [T](https://arxiv.org/abs/2501.00001)\n## Method  \n- 방법 하나.  \n- 방법 둘.\n"
    lf, _ = parse(text)
    crlf, _ = parse(text.replace("\n", "\r\n"))
    assert crlf == lf
    assert lf[0].sections["method"] == "방법 하나.\n방법 둘."


def test_extra_introduction_bullets_stay_searchable() -> None:
    text = FRONT + "# 1. [T](https://arxiv.org/abs/2501.00001)\n## Introduction\n- 하나.\n- 둘.\n- 셋.\n- 넷.\n"
    papers, _ = parse(text)
    assert papers[0].sections == {"goal": "하나.", "motivation": "둘.", "contribution": "셋.\n넷."}


def test_labelled_and_unlabelled_bullets_mix() -> None:
    text = FRONT + "# 1. [T](https://arxiv.org/abs/2501.00001)\n## Introduction\n- Motivation: 동기.\n- 목표 없음.\n- 기여.\n"
    papers, _ = parse(text)
    assert papers[0].sections == {"goal": "목표 없음.", "motivation": "동기.", "contribution": "기여."}


def test_bullet_continuation_line_joins_its_bullet() -> None:
    text = FRONT + "# 1. [T](https://arxiv.org/abs/2501.00001)\n## Introduction\n- Goal: 목표\n  이어짐.\n- 동기.\n"
    papers, _ = parse(text)
    assert papers[0].sections == {"goal": "목표 이어짐.", "motivation": "동기."}


def test_bullet_with_two_continuation_lines_stays_one_bullet() -> None:
    text = (
        FRONT + "# 1. [T](https://arxiv.org/abs/2501.00001)\n## Introduction\n"
        "- Goal: 목표 문장\n  이어지는 줄 하나\n  이어지는 줄 둘\n- Motivation: 동기 문장\n- Contribution: 기여 문장\n"
    )
    papers, _ = parse(text)
    assert papers[0].sections["goal"] == "목표 문장 이어지는 줄 하나 이어지는 줄 둘"
    assert papers[0].sections["contribution"] == "기여 문장"


def test_bold_label_with_colon_inside() -> None:
    text = FRONT + "# 1. [T](https://arxiv.org/abs/2501.00001)\n## Introduction\n- **Goal:** 목표 문장\n"
    papers, _ = parse(text)
    assert papers[0].sections["goal"] == "목표 문장"


def test_bold_label_with_colon_outside() -> None:
    text = FRONT + "# 1. [T](https://arxiv.org/abs/2501.00001)\n## Introduction\n- **Goal**: 목표 문장\n"
    papers, _ = parse(text)
    assert papers[0].sections["goal"] == "목표 문장"


def test_byte_order_mark_before_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "digest.md"
    path.write_text(
        "\ufeff---\ndate: 2025-01-02\n---\n# 1. [T](https://arxiv.org/abs/2501.00001)\n## Method\n방법.\n",
        encoding="utf-8",
    )
    post = parse_post(path)
    assert post.problems == ()
    assert [(p.arxiv_id, p.date) for p in post.papers] == [("2501.00001", "2025-01-02")]


def test_find_posts_reports_directories_named_like_posts(tmp_path: Path) -> None:
    write_posts(tmp_path, {"2025-01-01-a.md": FRONT})
    (tmp_path / "2025-01-02-b.md").mkdir()
    (tmp_path / "notes.txt").write_text("not a post")
    paths, problems = find_posts(tmp_path)
    assert [p.name for p in paths] == ["2025-01-01-a.md"]
    assert [(Path(p.path).name, p.reason, p.fatal) for p in problems] == [
        ("2025-01-02-b.md", "is a directory, not a post", True)
    ]


def test_find_posts_names_what_is_wrong_with_a_link(tmp_path: Path) -> None:
    write_posts(tmp_path, {"2025-01-01-a.md": FRONT})
    (tmp_path / "2025-01-02-dangling.md").symlink_to("gone.md")
    (tmp_path / "2025-01-03-loop.md").symlink_to("2025-01-03-loop.md")
    (tmp_path / "2025-01-04-linked.md").symlink_to("2025-01-01-a.md")  # a good link is a post
    os.mkfifo(tmp_path / "2025-01-05-fifo.md")  # reading it would block the reindex
    paths, problems = find_posts(tmp_path)
    assert [p.name for p in paths] == ["2025-01-01-a.md", "2025-01-04-linked.md"]
    assert [(Path(p.path).name, p.reason) for p in problems] == [
        ("2025-01-02-dangling.md", "is a symlink to gone.md, which does not exist"),
        ("2025-01-03-loop.md", "is a symlink loop"),
        ("2025-01-05-fifo.md", "is not a regular file"),
    ]


def test_unreadable_post_is_a_fatal_problem(tmp_path: Path) -> None:
    post = parse_post(tmp_path / "2025-01-01-missing.md")
    assert post.skipped and post.papers == ()
    assert post.problems[0].reason.startswith("cannot be read (")
