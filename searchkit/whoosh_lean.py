"""Whoosh imported without the standard modules it never uses here.

Whoosh's ``compat`` imports ``urllib.request`` only to re-export
``urlretrieve`` (which drags in ``http.client``, ``email`` and ``ssl``), and
the ``cached_property`` package Whoosh's readers use imports ``asyncio``
for coroutine properties Whoosh never has: together about a fifth of a
cold query process (430-470 → 330 ms, interleaved, load ~3), for nothing a
search does.

Importing this module installs a finder (`_Sparing`) that loads just
those two modules with an ``__import__`` of their own: where their code
imports ``urllib.request`` or ``asyncio`` it gets a stand-in (`_Deferred`)
that reaches the real module the first time anything is asked of it, so
what they keep of it behaves exactly as the real thing. Nothing else sees
a stand-in: none is ever put in ``sys.modules`` (an earlier version put
them there while Whoosh loaded, and a thread importing asyncio in that
window would have got one, so it was dropped), and every other import,
theirs included, goes through the real ``__import__``. The import
system's own locks cover the loading, as for any module. A program that
imported Whoosh before searchkit keeps what it has.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.abc
import importlib.machinery
import inspect
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any


class _Deferred(ModuleType):
    """A module's stand-in: what it lacks comes from the real module,
    imported then (dunder names excepted: they describe the stand-in)."""

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(importlib.import_module(self.__name__), attribute)


def _urlretrieve(*args: Any, **kwargs: Any) -> Any:
    from urllib.request import urlretrieve

    return urlretrieve(*args, **kwargs)


def _iscoroutinefunction(func: Any) -> bool:
    """asyncio's test, which adds to inspect's only the marker that
    ``asyncio.coroutines`` defines: no function can carry it before that
    module has made it. Never asks asyncio itself: another thread may be
    importing it, its attributes not yet there (every search failed with
    "partially initialized module 'asyncio'" meanwhile; review)."""
    marker = getattr(sys.modules.get("asyncio.coroutines"), "_is_coroutine", None)
    return inspect.iscoroutinefunction(func) or (marker is not None and getattr(func, "_is_coroutine", None) is marker)


def _stand_in(name: str, **attributes: Callable) -> _Deferred:
    module = _Deferred(name)
    module.__dict__.update(attributes)
    return module


SPARED = {
    "whoosh.compat": {"urllib.request": _stand_in("urllib.request", urlretrieve=_urlretrieve)},
    "cached_property": {"asyncio": _stand_in("asyncio", iscoroutinefunction=_iscoroutinefunction)},
}
"""Module → the imports its own code gets a stand-in for."""


class _Sparing(importlib.abc.MetaPathFinder):
    """Finds the `SPARED` modules where Python would, and loads them with
    their stand-ins; says nothing of any other module."""

    def find_spec(self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> Any:
        if name not in SPARED:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _SparingLoader(spec.loader, SPARED[name])
        return spec


class _SparingLoader(importlib.abc.Loader):
    """The real loader, but the module's code imports through `_import`."""

    def __init__(self, real: Any, stand_ins: dict[str, _Deferred]) -> None:
        self.real, self.stand_ins = real, stand_ins

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__dict__["__builtins__"] = {**builtins.__dict__, "__import__": self._import}
        self.real.exec_module(module)

    def _import(self, name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if level == 0 and name in self.stand_ins and name not in sys.modules:  # imported already: the real one
            return self.stand_ins[name]
        return builtins.__import__(name, globals, locals, fromlist, level)

    def __getattr__(self, attribute: str) -> Any:  # get_source, is_package, …: the real loader's
        return getattr(self.real, attribute)


if not any(isinstance(finder, _Sparing) for finder in sys.meta_path):
    # first: a thread iterating the list meanwhile sees one finder twice, never misses one
    sys.meta_path.insert(0, _Sparing())
import cached_property  # noqa: E402, F401 - loaded now, while nothing else has asked for them
import whoosh.compat  # noqa: E402, F401
