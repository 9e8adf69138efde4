"""Posts → papers: parse the Jekyll "Daily Papers" Markdown posts.

Parts: the records (`Paper`, `Problem`, `Post`), post discovery
(`find_posts`), and the line-oriented parser (`parse_post`, `parse_text`).
The parser never raises on bad content: whatever it cannot use becomes a
`Problem` with the file and line, so one broken post never stops a reindex
and no paper disappears without a word.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import stat
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from .errors import broken_link
from .sections import INTRO_SECTIONS, SECTIONS

_H1 = re.compile(r"^ {0,3}#[ \t]")
_NUMBERED_H1 = re.compile(r"^ {0,3}#[ \t]+\d+\.")
"""A level-1 heading as CommonMark reads one: up to three spaces, then
``#`` and a space or a tab. Every test for "a paper starts here" uses it,
so a heading the renderer shows is never glued onto the paper before it."""
_HEADING = re.compile(
    r"^ {0,3}#[ \t]+(?:\d+\.\s*)?\[(?P<title>.*)\]\((?P<url>[^)\s]+)(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\)"
    r"(?:[ \t]+#+)?\s*$"
)
"""A paper's heading: its title linked to the paper, the link with or
without a title of its own (``[T](url "title")``, Markdown's three forms)."""
# the link forms a query takes as an id (engine._ID): a heading arXiv shows is indexable
_ARXIV_URL = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<id>\d{4}\.\d{4,5})(?:v\d+)?"
    r"(?:\.pdf)?(?:[/?#].*)?$", re.I,
)
"""An arXiv link, the whole of it: a link elsewhere that merely mentions
one (``example.com/?from=arxiv.org/abs/…``) is no arXiv paper."""
_SECTION = re.compile(r"^ {0,3}##[ \t]+(?P<name>[^\s#].*?)(?:[ \t]+#+)?[ \t]*$")
"""A level-2 heading as CommonMark reads one: indented up to three spaces,
an optional closing run of ``#`` (``## Method ##``)."""
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?P<label>goal|motivation|contribution|목표|동기|기여)(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*",
    re.I,
)
_LABELS = {"목표": "goal", "동기": "motivation", "기여": "contribution"}
_KNOWN_HEADINGS = {"introduction", "method", "results", "limitations", "conclusion"}
_FILE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_DATE_VALUE = re.compile(r"^\s*[\"']?(\d{4}-\d{2}-\d{2})")


# Records


@dataclass(frozen=True)
class Paper:
    """One paper entry of one post.

    :param arxiv_id: bare arXiv id without version, e.g. ``2510.00515``.
    :param title: English title, runs of white space collapsed.
    :param url: the link as written in the post.
    :param date: the post's date, ISO ``YYYY-MM-DD``.
    :param post: the post's file name; the unit of incremental reindexing.
    :param line: 1-based line of the paper's heading in the post.
    :param sections: section name (see `SECTIONS`) → Korean text; a missing
        section is absent, never an empty string.
    """

    arxiv_id: str
    title: str
    url: str
    date: str
    post: str
    line: int
    sections: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """Something in a post that could not be used, reported, never raised.

    :param path: the post's path as given.
    :param line: 1-based line, or 0 when the problem concerns the whole file.
    :param reason: one short sentence for the user.
    :param fatal: True when the whole post was skipped.
    :param lost: True when a paper of the post was skipped.
    """

    path: str
    line: int
    reason: str
    fatal: bool = False
    lost: bool = False

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Post:
    """A parsed post: its papers, what went wrong, and a content hash.

    :param digest: SHA-256 of the raw bytes, used to detect changed posts.
    """

    path: str
    digest: str
    papers: tuple[Paper, ...]
    problems: tuple[Problem, ...]

    @property
    def skipped(self) -> bool:
        """True when nothing in the post could be indexed."""
        return any(p.fatal for p in self.problems)


# Discovery


def find_posts(corpus_dir: Path) -> tuple[list[Path], list[Problem]]:
    """List the ``*.md`` posts of a corpus, reporting entries that are not
    readable files (directories named like posts, broken links, loops) and
    hidden ones (macOS's ``._`` copies, editors' files), which Jekyll
    leaves out of the blog."""
    paths: list[Path] = []
    problems = _unread(corpus_dir)
    for path in sorted(corpus_dir.glob("*.md")):
        try:
            path.name.encode("utf-8")
        except UnicodeEncodeError:
            shown = str(path).encode("utf-8", "backslashreplace").decode()
            problems.append(Problem(shown, 0, "file name is not valid UTF-8", fatal=True))
            continue
        reason = "hidden file (Jekyll does not publish it)" if path.name.startswith(".") else _not_a_post(path)
        if reason is None:
            paths.append(path)
        else:
            problems.append(Problem(str(path), 0, reason, fatal=True))
    return paths, problems


def _unread(corpus_dir: Path) -> list[Problem]:
    """Posts Jekyll would publish that papersearch does not read, each
    named: ``*.MD`` or ``*.markdown`` files, and subdirectories holding
    posts (``_posts/2025/…``), whose names could collide with the top
    level's (a post is known by its file name)."""
    problems = []
    try:
        entries = sorted(corpus_dir.iterdir())
    except OSError:  # the directory itself is reported by whoever reads it
        return []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.suffix != ".md" and entry.suffix.lower() in (".md", ".markdown") and entry.is_file():
            problems.append(Problem(str(entry), 0, "not read: only *.md posts are (rename it)", fatal=True))
        elif entry.is_dir() and not entry.is_symlink() and entry.suffix != ".md":
            try:
                count = sum(1 for _ in entry.rglob("*.md"))
            except OSError:  # a subdirectory that cannot be listed holds no post we could read anyway
                count = 0
            if count:
                problems.append(Problem(str(entry), 0, f"not read: a subdirectory holding {count} *.md post(s); "
                                        "only the corpus directory's own posts are", fatal=True))
    return problems


def _not_a_post(path: Path) -> str | None:
    """Why ``path`` is no readable post file, or None when it is one.
    ``Path.is_file`` answers False for a dangling link and a symlink loop
    alike; the user needs to know which link to mend (`errors.broken_link`,
    as `store.check_directory` tells for directories)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return broken_link(path, exc) or f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISREG(info.st_mode):
        return None
    return "is a directory, not a post" if stat.S_ISDIR(info.st_mode) else "is not a regular file"


# Parsing


def parse_post(path: Path) -> Post:
    """Read and parse one post; unreadable or undecodable files become a
    fatal `Problem` instead of an exception."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return _failed(path, "", f"cannot be read ({exc.strerror or exc})")
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _failed(path, digest, f"is not valid UTF-8 (byte {exc.start})", raw.count(b"\n", 0, exc.start) + 1)
    cleaned: list[Problem] = []
    for pattern, replacement, reason in _DAMAGE:
        if found := pattern.search(text):  # keep the papers around it, and say where it starts
            line = text.count("\n", 0, found.start()) + 1
            cleaned.append(Problem(str(path), line, reason.format(code=ord(found.group()))))
            text = pattern.sub(replacement, text)
    papers, problems = parse_text(text, str(path), path.name)
    return Post(str(path), digest, tuple(papers), tuple(cleaned + problems))


_DAMAGE = (
    (re.compile("\x00"), "", "contains NUL bytes; they were removed"),
    # control characters but tab and line ends: a post's text is shown on terminals, where ESC
    # sequences act ([2J cleared the searcher's screen), and rich dropped some, which moved the
    # highlight off the stored offsets; a space keeps every offset
    (re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"), " ",
     "contains control characters (U+{code:04X} first); each became a space"),
)
"""What a post's text may hold that is damage, not writing: (pattern, what
replaces it, the warning)."""


def _failed(path: Path, digest: str, reason: str, line: int = 0) -> Post:
    return Post(str(path), digest, (), (Problem(str(path), line, reason, fatal=True),))


def parse_text(text: str, path: str, name: str) -> tuple[list[Paper], list[Problem]]:
    """Parse a post's text into papers; ``name`` (the file name) keys them."""
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    body_start, date, problems = _front_matter(lines, path, name)
    if date is None:
        return [], problems
    body = _Body.of(lines, body_start, path)
    problems.extend(body.problems)
    papers: list[Paper] = []
    for start, end in _paper_blocks(body, body_start):
        paper = _parse_paper(body, start, end, date, path, name, problems)
        if paper is not None:
            papers.append(paper)
    if not papers and not any(p.fatal for p in problems):
        problems.append(Problem(path, 0, "has no paper headings", fatal=True))
    return papers, problems


def _front_matter(lines: list[str], path: str, name: str) -> tuple[int, str | None, list[Problem]]:
    """Find the body start and the post date; the date falls back to the
    file name because a post with broken front matter still has papers."""
    problems: list[Problem] = []
    body_start, date = 0, None
    if lines and lines[0].strip() == "---":
        end, closed = _front_matter_end(lines)
        if not closed:
            problems.append(Problem(path, 1, "front matter is never closed with ---"))
        date = _checked_front_date(lines, end, path, name, problems)
        body_start = end + 1 if closed else end
        if date is None and any(p.fatal for p in problems):
            return body_start, None, problems
    if date is None:
        date = _file_date(path, name, problems)
    return body_start, date, problems


def _front_matter_end(lines: list[str]) -> tuple[int, bool]:
    """The closing ``---`` line and True, or, for front matter never
    closed, the first level-1 heading (the body's start) and False.

    A ``#`` line before the closing ``---`` is a YAML comment, not a paper
    (``# published the next morning``), so it does not end the front
    matter. A paper heading (``# 1. [Title](url)``, a shape no comment
    takes) does: then the ``---`` further down is the body's thematic
    break, and the front matter was never closed; taking it as the close
    would hide the papers above it. So does anything else no YAML holds:
    a section heading (``## Method``) or a numbered ``# 1. …`` heading
    whose link is missing, whose warning would otherwise vanish with it."""
    close = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), len(lines))
    if close < len(lines) and not any(_not_yaml(lines[i]) for i in range(1, close)):
        return close, True
    return next((i for i in range(1, len(lines)) if _H1.match(lines[i])), len(lines)), False


def _not_yaml(line: str) -> bool:
    """A line that marks a post's body, never its front matter: a paper
    heading, one numbered like a paper's, or a section heading."""
    return bool(_HEADING.match(line.rstrip()) or _NUMBERED_H1.match(line) or _SECTION.match(line.strip()))


def _checked_front_date(lines: list[str], end: int, path: str, name: str, problems: list[Problem]) -> str | None:
    """The front matter's date if it is a real one. An impossible date
    (``2025-13-45``) would be indexed as is and never match ``--since``
    (which rejects it): warn and fall back on the file name's date, or
    skip the post when that is no real date either."""
    found = _front_date(lines, end)
    if found is None:
        return None
    value, line = found
    if _is_real_date(value):
        return value
    match = _FILE_DATE.search(name)
    if match and _is_real_date(match.group(1)):
        reason = f"date {value} is not a real date; using {match.group(1)} from the file name"
        if not _FILE_DATE.fullmatch(value):  # 2025/11/16, Nov 17, 2025
            reason = f"date {value!r} is not written YYYY-MM-DD; using {match.group(1)} from the file name"
        problems.append(Problem(path, line, reason))
        return match.group(1)
    reason = f"date {value} is not a real date, nor is there one in the file name"
    problems.append(Problem(path, line, reason, fatal=True))
    return None


def _file_date(path: str, name: str, problems: list[Problem]) -> str | None:
    """The date in the file name, for a post whose front matter has none."""
    match = _FILE_DATE.search(name)
    if match is None:
        problems.append(Problem(path, 0, "has no date in its front matter or file name", fatal=True))
        return None
    if not _is_real_date(match.group(1)):
        problems.append(Problem(path, 0, f"file name date {match.group(1)} is not a real date", fatal=True))
        return None
    return match.group(1)


def _is_real_date(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _front_date(lines: list[str], end: int) -> tuple[str, int] | None:
    """The front matter's ``date:`` value (its day, when it starts with
    one written YYYY-MM-DD; else as written) and its 1-based line."""
    for i in range(1, end):
        key, _, value = lines[i].partition(":")
        if key.rstrip() == "date" and value.strip():  # a top-level key: an indented one is nested
            match = _DATE_VALUE.match(value)
            return (match.group(1) if match else value.strip().strip("\"'")), i + 1
    return None


@dataclass(frozen=True)
class _Body:
    """A post's lines as the blog renders them: lines inside fenced code
    are text, never headings (a ``# compute the loss`` comment in a Method
    section ended the paper there); the fences themselves and the lines of
    an HTML comment are not shown, so neither text nor headings; a paper
    heading underlined with ``===`` (setext) is one, written here in its
    ``#`` form. A fence or comment never closed is text, as kramdown (the
    blog's renderer) shows it: no paper after it is lost, and it is named.
    ``problems``: those, and lines shaped like a paper heading that Markdown
    renders as text (named wherever they stand: each loses its paper)."""

    lines: list[str]
    code: frozenset[int]
    hidden: frozenset[int]
    problems: tuple[Problem, ...] = ()

    @classmethod
    def of(cls, lines: list[str], start: int, path: str) -> _Body:
        lines, code, hidden, problems = list(lines), set(), set(), []
        ends = _Closers(lines, start)
        i = start
        while i < len(lines):
            fence, comment = _FENCE.match(lines[i]), _COMMENT.match(lines[i])
            end = ends.fence(i, fence.group(1)) if fence else ends.comment(i, lines[i]) if comment else None
            if end is not None:  # a fence's lines are text (code); a comment's, with the fences, are not shown
                (code if fence else hidden).update(range(i + 1, end))
                hidden.update({i, end} if fence else range(i, end + 1))
                i = end + 1
                continue
            if fence or comment:
                what = "code fence" if fence else "HTML comment"
                problems.append(Problem(path, i + 1, f"a {what} opened here is never closed; read as text"))
            elif i + 1 < len(lines) and _SETEXT.match(lines[i + 1]) and _paper_link("# " + lines[i].strip())[2]:
                lines[i], lines[i + 1] = "# " + lines[i].strip(), ""
            elif _NEAR_HEADING.match(lines[i]):
                problems.append(Problem(path, i + 1, "a paper heading Markdown does not render as one (no space "
                                        "after #, or indented 4 spaces); read as text of the paper above",
                                        lost=True))
            i += 1
        return cls(lines, frozenset(code), frozenset(hidden), tuple(problems))

    def heading(self, i: int) -> bool:
        """Whether line ``i`` is a level-1 heading as rendered."""
        return i not in self.code and i not in self.hidden and bool(_H1.match(self.lines[i]))


class _Closers:
    """Where fences and comments close, found in one pass over the body:
    searching forward from each opener read a post with thousands of
    openers never closed (``~~~ approximately``) once per opener."""

    def __init__(self, lines: list[str], start: int) -> None:
        self._fences: dict[str, list[tuple[int, int]]] = {"`": [], "~": []}  # char → (line, fence length)
        self._comments: list[int] = []
        for k in range(start, len(lines)):
            if closer := _FENCE_CLOSER.match(lines[k]):
                self._fences[closer.group(1)[0]].append((k, len(closer.group(1))))
            if "-->" in lines[k]:
                self._comments.append(k)

    def fence(self, i: int, mark: str) -> int | None:
        """The line closing the fence ``mark`` opened at line ``i``: the same
        character, at least as many; None when none does."""
        found = self._fences[mark[0]]
        at = bisect_right(found, (i, float("inf")))  # past every closer on line i itself
        return next((k for k, size in found[at:] if size >= len(mark)), None)

    def comment(self, i: int, line: str) -> int | None:
        """The line closing the comment opened at line ``i``: ``i`` itself
        when ``-->`` follows its ``<!--``."""
        at = bisect_left(self._comments, i)
        if at < len(self._comments) and self._comments[at] == i and "-->" not in line[line.index("<!--") + 4 :]:
            at += 1
        return self._comments[at] if at < len(self._comments) else None


def _paper_link(line: str) -> tuple[re.Match | None, str, re.Match | None]:
    """A paper heading's match, its link (``<…>``, CommonMark's form, taken
    off) and the link's arXiv match: None for what ``line`` is not."""
    heading = _HEADING.match(line.rstrip())
    url = heading.group("url").removeprefix("<").removesuffix(">") if heading else ""
    return heading, url, _ARXIV_URL.search(url) if heading else None


_FENCE = re.compile(r"^ {0,3}(?:(?:[-*+]|\d+[.)])[ \t]+)?(`{3,}(?=[^`]*$)|~{3,})")
"""A fence's opening line, also as a list item's first line (``- ```python``,
closed by the item's indented fence); a backtick fence's info string holds
no backtick (```` ```x``` ```` is inline code)."""
_FENCE_CLOSER = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")
_COMMENT = re.compile(r"^ {0,3}<!--")
_SETEXT = re.compile(r"^ {0,3}=+[ \t]*$")
_NEAR_HEADING = re.compile(
    r"^(?: {0,3}#+[^ \t#]|(?: {4,}|\t)\s*#).*\[.*\]\(<?(?:https?://)?(?:www\.|export\.)?arxiv\.org/", re.I
)
"""A line shaped like a paper heading that Markdown does not render as one
(``#2. [T](…)`` with no space, or indented four spaces into a code block)."""


def _paper_blocks(body: _Body, start: int) -> list[tuple[int, int]]:
    """Line ranges, each from a level-1 heading to the next one."""
    heads = [i for i in range(start, len(body.lines)) if body.heading(i)]
    return [(h, heads[k + 1] if k + 1 < len(heads) else len(body.lines)) for k, h in enumerate(heads)]


def _parse_paper(
    body: _Body, start: int, end: int, date: str, path: str, name: str, problems: list[Problem]
) -> Paper | None:
    heading, url, arxiv = _paper_link(body.lines[start])
    if heading is None or arxiv is None:
        problems.append(Problem(path, start + 1, "paper heading has no arXiv link; paper skipped", lost=True))
        return None
    sections = _sections(body, start + 1, end, path, problems)
    if not sections:
        problems.append(Problem(path, start + 1, "paper has no summary sections; indexed by title only"))
    title = " ".join(heading.group("title").split())
    if not title:
        problems.append(Problem(path, start + 1, "paper heading's link has no text; indexed without a title"))
    if not _SCHEME.match(url):  # arxiv.org/abs/… is a relative link in a page: /search/arxiv.org/…
        url = "https://" + url
    return Paper(arxiv.group("id"), title, url, date, name, start + 1, sections)


_SCHEME = re.compile(r"https?://", re.I)


def _sections(body: _Body, start: int, end: int, path: str, problems: list[Problem]) -> dict[str, str]:
    """Group lines under their ``##`` headings, then split Introduction."""
    lines = body.lines
    chunks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for i in range(start, end):
        if i in body.hidden:
            continue
        match = _SECTION.match(lines[i]) if i not in body.code else None
        if match:
            heading = match.group("name").strip().lower()
            if heading not in _KNOWN_HEADINGS:
                problems.append(Problem(path, i + 1, f"unknown section '## {match.group('name').strip()}'; ignored"))
                current = None
            else:
                current = chunks.setdefault(heading, [])
        elif current is not None and not lines[i].lstrip().startswith(">"):
            current.append(lines[i])
    sections = _introduction(chunks.pop("introduction", []))
    for heading, chunk in chunks.items():
        text = "\n".join(_items(chunk))
        if text:
            sections[heading] = text
    return {name: sections[name] for name in SECTIONS if sections.get(name)}


def _items(chunk: list[str]) -> list[str]:
    """Lines without list markers and Markdown hard-break spaces; a line
    that continues a bullet without a marker joins the bullet."""
    items: list[str] = []
    continues = False
    for raw in chunk:
        line = raw.strip()
        if not line:
            continues = False
            continue
        bullet = _BULLET.match(line)
        line = line[bullet.end():] if bullet else line
        if continues and not bullet and items:
            items[-1] += " " + line
        else:
            items.append(line)
            continues = bool(bullet)
    return [item for item in items if item]


def _introduction(chunk: list[str]) -> dict[str, str]:
    """Assign the Introduction bullets to goal/motivation/contribution by
    label, unlabelled ones by their order among the free slots."""
    labelled: dict[str, str] = {}
    unlabelled: list[str] = []
    for item in _items(chunk):
        match = _LABEL.match(item)
        if match:
            label = match.group("label").lower()
            slot = _LABELS.get(label, label)
            text = item[match.end():].strip()
            labelled[slot] = f"{labelled[slot]}\n{text}" if slot in labelled else text
        else:
            unlabelled.append(item)
    free = [slot for slot in INTRO_SECTIONS if slot not in labelled]
    for slot, item in zip(free, unlabelled):
        labelled[slot] = item
    extra = unlabelled[len(free):]
    if extra:  # more bullets than slots: keep the text searchable
        last = INTRO_SECTIONS[-1]
        labelled[last] = "\n".join(filter(None, [labelled.get(last, ""), *extra]))
    return labelled
