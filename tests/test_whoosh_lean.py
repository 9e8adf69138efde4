"""Whoosh imported without urllib.request and asyncio (`searchkit.whoosh_lean`):
what Whoosh and cached_property keep of them still behaves as the real
modules, and nothing else in the process sees a stand-in. Each check runs
in a fresh interpreter: which modules are imported is process state."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_whoosh_comes_without_the_modules_it_never_uses() -> None:
    code = ("import sys\nimport searchkit.bm25, searchkit.backends.whoosh.index\n"
            "print(sorted(m for m in ('asyncio', 'urllib.request', 'http.client', 'ssl', 'email') if m in sys.modules))")
    assert _run(code) == "[]"


def test_what_they_kept_reaches_the_real_modules() -> None:
    """An async cached_property still gives a coroutine's result, Whoosh's
    urlretrieve is urllib's, and a later import gets the real modules."""
    code = """
import searchkit.bm25
import asyncio, urllib.request, whoosh.compat
from cached_property import cached_property
from searchkit.whoosh_lean import _Deferred

class Paper:
    @cached_property
    async def title(self):
        return "SVG-T2I"

    @cached_property
    def year(self):
        return 2025

async def main():
    paper = Paper()
    return await paper.title, paper.year

print(asyncio.run(main()), type(asyncio) is not _Deferred, type(urllib.request) is not _Deferred,
      asyncio.iscoroutinefunction(Paper.__dict__["title"].func))
print(whoosh.compat.urlretrieve("file:///dev/null")[0] == "/dev/null")
"""
    assert _run(code).splitlines() == ["('SVG-T2I', 2025) True True True", "True"]


def test_no_other_code_ever_meets_a_stand_in() -> None:
    """A first version put the stand-ins in sys.modules while Whoosh
    loaded: a thread importing asyncio then would have got one, and
    ``import asyncio.subprocess`` failed ("asyncio is not a package"). A
    thread importing asyncio's submodules throughout the import of
    searchkit's Whoosh meets only the real modules."""
    code = """
import sys, threading, types
failures, done = [], threading.Event()

def importing():
    while not done.is_set():
        try:
            import asyncio.subprocess, urllib.request
            for name in ("asyncio", "urllib.request"):
                assert type(sys.modules[name]) is types.ModuleType, name
        except Exception as exc:
            failures.append(repr(exc))
            return

worker = threading.Thread(target=importing)
worker.start()
import searchkit.bm25, searchkit.backends.whoosh.index
done.set()
worker.join()
print(failures)
"""
    assert _run(code) == "[]"


@pytest.mark.parametrize("first", ["asyncio", "urllib.request"])
def test_a_module_imported_before_is_the_one_whoosh_gets(first: str) -> None:
    code = (f"import {first}, sys\nimport searchkit.bm25, cached_property, whoosh.compat\n"
            "print(cached_property.asyncio is sys.modules.get('asyncio', cached_property.asyncio),"
            f" sys.modules[{first!r}].__class__.__name__)")
    assert _run(code) == "True module"
