"""A Kiwi worker process: pickled lists of texts in on stdin, their analyses
out on stdout, until a None.

Started by `analysis.analyse_stream` as ``python -m searchkit._kiwi_worker``
rather than through multiprocessing, whose spawned children re-import the
caller's main script: a user's script that calls ``searchkit.reindex`` at
top level would run again in every worker and wait forever on the lock.
"""

from __future__ import annotations

import pickle
import sys

from searchkit import analysis


def main() -> None:
    analysis.use_threads(1)  # one process per core already
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while (texts := pickle.load(source)) is not None:
        pickle.dump(analysis.analyse_many(texts), sink, protocol=pickle.HIGHEST_PROTOCOL)
        sink.flush()


if __name__ == "__main__":
    main()
