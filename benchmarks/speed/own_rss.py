"""A child process's own peak RSS, not its parent's.

``os.wait4``'s ``ru_maxrss`` counts the memory a child had between fork
and exec, and CPython starts children with vfork, whose child runs in
the parent's address space: a benchmark that holds a 3.5 GB index open
saw every query process it started "peak" at 3.5 GB (measured: a parent
holding 1.5 GB, `python -c pass` reported 1,442 MB by wait4 and 10.5 MB
by /usr/bin/time). GNU time forks the command from its own small process
and reports that process's peak, so commands run under it when it is
installed (Debian package ``time``); otherwise wait4's figure is used and
marked as an upper bound.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

GNU_TIME = Path("/usr/bin/time")


def wrap(cmd: list[str]) -> tuple[list[str], Callable[[float], tuple[float, bool]]]:
    """``cmd`` under GNU time, and a function turning wait4's peak (MB)
    into (peak MB, exact): GNU time's figure when it wrote one."""
    if not GNU_TIME.exists():
        return cmd, lambda fallback: (fallback, False)
    handle, name = tempfile.mkstemp(prefix="peak-")
    os.close(handle)

    def read(fallback: float) -> tuple[float, bool]:
        try:
            text = Path(name).read_text().split()
            return (int(text[-1]) / 1024, True) if text else (fallback, False)
        except (OSError, ValueError):
            return fallback, False
        finally:
            Path(name).unlink(missing_ok=True)

    return [str(GNU_TIME), "-f", "%M", "-o", name, *cmd], read
