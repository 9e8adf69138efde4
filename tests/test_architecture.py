"""The import rules of docs/ARCHITECTURE.md, read from the source.

Every ``import`` and ``from … import`` of ours, at module level or inside
a function (a lazy import is still a dependency; one for type checkers
only is not), makes an edge; the
graph must have no cycle, the core must not reach into a backend or the
terminal wing, and the heavy libraries stay where the document says.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "searchkit"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (ours and others')."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # imports for type checkers only never run: not a dependency
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, "id", getattr(block.test, "attr", "")) == "TYPE_CHECKING"
                   for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from . import scoring` names a module too
            found |= {f"{target}.{alias.name}" for alias in node.names}
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: {m for m in imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def test_no_import_cycles() -> None:
    """Packages import their parents implicitly; only module → module edges
    count, and none may lead back to where it started."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        if node in path:
            cycle = path[path.index(node):] + [node]
            pytest.fail("import cycle: " + " → ".join(cycle))
        if node in done:
            return
        path.append(node)
        for child in sorted(GRAPH[node]):
            if not (node.startswith(child + ".") and MODULES[child].name == "__init__.py"):
                visit(child)
        path.pop()
        done.add(node)

    for name in sorted(GRAPH):
        visit(name)


def layer(name: str) -> str:
    for prefix, wing in (("searchkit.backends", "backend"), ("searchkit.terminal", "terminal"),
                         ("searchkit.site", "site")):
        if name.startswith(prefix):
            return wing
    return "core"


def test_the_core_never_reaches_into_a_backend_or_the_terminal() -> None:
    entry = {"searchkit", "searchkit.__main__"}  # the public API (backends, lazily) and `python -m`
    wrong = [(a, b) for a, targets in GRAPH.items() for b in targets
             if layer(a) == "core" and a not in entry and layer(b) != "core"]
    assert not wrong


def test_the_site_wing_uses_the_library_not_the_terminal() -> None:
    """The export opens an index as any library user does; it never
    imports the terminal wing (the CLI wraps it, not the other way)."""
    assert not [(a, b) for a, targets in GRAPH.items() for b in targets if layer(a) == "site" and layer(b) == "terminal"]


def test_backends_never_import_each_other_or_the_terminal() -> None:
    wrong = []
    for a, targets in GRAPH.items():
        if layer(a) != "backend":
            continue
        for b in targets:
            if layer(b) in ("terminal", "site"):
                wrong.append((a, b))
            for one, other in (("whoosh", "sphinx"), ("sphinx", "whoosh")):
                if f".backends.{one}" in a and f".backends.{other}" in b:
                    wrong.append((a, b))
    assert not wrong


@pytest.mark.parametrize(("library", "allowed"), [
    ("click", ("searchkit.terminal.",)),
    ("rich", ("searchkit.terminal.render", "searchkit.terminal.plain", "searchkit.terminal.site")),
    ("kiwipiepy", ("searchkit.analysis",)),
])
def test_heavy_libraries_stay_in_their_modules(library: str, allowed: tuple[str, ...]) -> None:
    users = {name for name, path in MODULES.items()
             if any(m == library or m.startswith(library + ".") for m in imports(path))}
    assert users and all(name.startswith(allowed) for name in users), sorted(users)


def test_serve_and_the_client_stay_light() -> None:
    """The client runs before anything else (stdlib only, bar its own
    wing's helpers), and serve is handed the CLI rather than importing it."""
    assert GRAPH["searchkit.terminal.serve"] <= {"searchkit.errors", "searchkit.analysis", "searchkit.terminal.output",
                                                  "searchkit.terminal.protocol", "searchkit"}
    client = GRAPH["searchkit.terminal.client"] - {"searchkit.terminal.cli"}
    assert client <= {"searchkit.terminal.output", "searchkit.terminal.protocol"}
