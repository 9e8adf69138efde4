"""Writing a command's output: through a pager when it is taller than
the terminal, and a closed pipe taken as a reader who has what they
wanted. Standard library only: the client prints a server's answer with
it, the CLI its own."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess


def columns_set() -> int | None:
    """The width $COLUMNS gives, None when it is unset or no positive
    number (isdecimal: ``²`` is a digit that int refuses)."""
    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdecimal() and int(value) > 0 else None


def terminal_width() -> int | None:
    """The width of the first of stdin, stdout, stderr that is a terminal,
    as rich measures one when $COLUMNS is unset; None when none is."""
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd).columns or 80
        except (AttributeError, ValueError, OSError):
            continue
    return None


CLIENT_TERMINALS: set[str] = set()
"""Set by a server's worker for one command (`serve._run`): which of its
client's streams, ``"stdout"`` and ``"stderr"``, are terminals, as the
worker's own are not. rich (`render.make_console`) and `plain.wanted`
take those as terminals, so a served command is drawn as it is here:
coloured as TERM says, plain but wrapped under NO_COLOR, and an error
line wrapped only when stderr is a terminal (the worker once took the
client's stdout for both, and drew NO_COLOR on a terminal as piped)."""


def client_terminal(stream: str) -> bool | None:
    """True for a served client's terminal stream; None lets the stream
    (and rich's variables) decide, as in a command run here."""
    return True if stream in CLIENT_TERMINALS else None


ON_ANSWER: list = []
"""Called once when a command starts writing its answer (`answer_ready`):
the client's time limit on a command the server handed back
(`client._within`) covers finding the answer, not a slow reader."""


def answer_ready() -> None:
    """The answer is found; what is left is writing it at the reader's pace
    (a slow pipe, a pager read for minutes), as with no server."""
    while ON_ANSWER:
        ON_ANSWER.pop()()


def standard_streams() -> None:
    """Open /dev/null on any of descriptors 0-2 the command was started
    without (``papersearch query … 2>&-``), and give Python a stream for
    it: Python leaves ``sys.stderr`` None there (a served command failed on
    it, silently), and the next file or socket opened would take the
    number and receive what is written to it. A closed stdout is a reader
    who wants nothing, as a pipe closed early (`reader_left`)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one
    for name, fd, mode in (("stdin", 0, "r"), ("stdout", 1, "w"), ("stderr", 2, "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, encoding="utf-8", errors="backslashreplace", closefd=False))  # noqa: SIM115


def tolerant_streams() -> None:
    """Output whose encoding cannot spell Hangul (PYTHONIOENCODING=ascii, a
    Latin-1 locale) shows what it cannot as escapes (\\ud655), never as a
    UnicodeEncodeError traceback."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream.errors == "strict":
                stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):  # replaced by a caller, or closed
            continue


def reader_left() -> int:
    """`papersearch query … | head`: the reader has what it wanted. Point
    stdout at /dev/null so the flush at exit cannot fail again; exit 0."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def emit(text: str, paging: bool) -> None:
    """Write output, through a pager ($MANPAGER or $PAGER, else less -R)
    when paging is allowed, stdin and stdout are terminals and the text is
    taller than the terminal (and PAPERSEARCH_NO_PAGER is not set). When
    the pager cannot show it, the text is printed here instead."""
    answer_ready()
    rows = os.get_terminal_size(sys.stdout.fileno()).lines if sys.stdout.isatty() else 0
    wanted = paging and rows and text.count("\n") > rows and not os.environ.get("PAPERSEARCH_NO_PAGER")
    if wanted and sys.stdin.isatty() and page(text):
        return
    sys.stdout.write(text)
    sys.stdout.flush()


def page(text: str) -> bool:
    """Hand the text to the pager; False when it could not show it.

    A pager that cannot be started, is not found (the shell's 127) or
    fails (``PAGER=false``) exits non-zero: then the caller prints the text
    so that nothing is lost, after one line saying why (the pager's own
    complaint, kept aside meanwhile, is part of that line). ``less`` quit
    with q exits 0, and a pager killed by a signal (Ctrl-C) was stopped on
    purpose: neither is followed by a second copy.
    """
    import subprocess
    import tempfile

    command = os.environ.get("MANPAGER") or os.environ.get("PAGER") or "less"
    os.environ.setdefault("LESS", "-R")  # keep the highlight colours in less
    sys.stdout.flush()
    with tempfile.TemporaryFile() as complaint:
        try:
            pager = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, stderr=complaint,
                                     encoding=sys.stdout.encoding or "utf-8", errors="backslashreplace")
        except OSError as exc:
            why = exc.strerror or exc
            sys.stderr.write(f"papersearch: cannot start the pager ({command}): {why}; printing instead\n")
            return False
        try:
            with pager.stdin as pipe:
                pipe.write(text)
        except (OSError, KeyboardInterrupt):  # the pager quit before reading it all (q, head)
            pass
        code = _wait(pager)
        complaint.seek(0)
        said = " ".join(complaint.read(2000).decode(errors="replace").split())
    if code <= 0:
        return True
    why = f"exit status {code}" + (f": {said}" if said else "")
    sys.stderr.write(f"papersearch: the pager ({command}) failed ({why}); printing instead\n")
    return False


def _wait(process: subprocess.Popen) -> int:
    """The exit status; Ctrl-C meant for the pager must not kill us first."""
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue
