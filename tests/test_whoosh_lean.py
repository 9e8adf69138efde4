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


def test_a_search_goes_on_while_another_thread_imports_asyncio() -> None:
    """Every cached_property, Whoosh's readers' among them, asks the
    stand-in whether a function is a coroutine function; it asked asyncio
    as soon as asyncio was in sys.modules, which is before its attributes
    are there while another thread imports it: every access failed with
    "partially initialized module" meanwhile (review: 10 runs of 10)."""
    code = """
import sys, threading
import searchkit.bm25
from cached_property import cached_property

class Paper:
    @cached_property
    def year(self):
        return 2025

failures, done = [], threading.Event()

def reading():
    while not done.is_set():
        try:
            assert Paper().year == 2025
        except Exception as exc:
            failures.append(repr(exc))
            return

worker = threading.Thread(target=reading)
worker.start()
import asyncio
done.set()
worker.join()
print(failures)
"""
    for _ in range(3):
        assert _run(code) == "[]"


@pytest.mark.parametrize(("first", "kept"), [("asyncio", "cached_property.asyncio is sys.modules['asyncio']"),
                                             ("urllib.request", "whoosh.compat.urlretrieve is "
                                                                "sys.modules['urllib.request'].urlretrieve")])
def test_a_module_imported_before_is_the_one_they_get(first: str, kept: str) -> None:
    code = f"import {first}, sys\nimport searchkit.bm25, cached_property, whoosh.compat\nprint({kept})"
    assert _run(code) == "True"
