"""The house, checked from the source: ftstudio's imports (module level and inside functions), read with `ast`.

import-linter checks the same contracts from pyproject.toml; this test keeps them true for imports that
import-linter's graph could miss and runs with the rest of the suite. The checker is tested on a small
synthetic package so that it can be seen to fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI = ("streamlit", "components", "app_pages")


def module_names(root: Path, package: str) -> dict[str, Path]:
    """{dotted module name: file} for every .py file of `package` under `root` (a package is its __init__)."""
    names = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(root: Path, package: str) -> dict[str, set[str]]:
    """{module: every module it imports, anywhere in its body}. `from p import x` counts as importing p.x
    when that is a module of the package, else p."""
    names = module_names(root, package)
    graph: dict[str, set[str]] = {}
    for module, path in names.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, path.name == "__init__.py", node)
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    targets.add(candidate if candidate in names else base)
        targets.discard(module)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles between modules of the graph (one per strongly connected component, Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative depth-first search: (node, iterator over its edges).
        work = [(start, iter(sorted(graph[start] & graph.keys())))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt] & graph.keys()))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def private_reach_ins(graph: dict[str, set[str]], package: str) -> list[tuple[str, str]]:
    """(importer, target) where target lies in a private `_module` of `package` that the importer is not inside."""
    bad = []
    for module, targets in graph.items():
        for target in targets:
            parts = target.split(".")
            if parts[0] != package:
                continue
            private = next((k for k, part in enumerate(parts) if part.startswith("_") and not part.startswith("__")),
                           None)
            if private is None:
                continue
            owner = ".".join(parts[:private])
            if not (module + ".").startswith(owner + "."):
                bad.append((module, target))
    return sorted(bad)


def ui_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((m, t) for m, targets in graph.items() for t in targets if t.split(".")[0] in UI)


# --- ftstudio as it is ---------------------------------------------------------------------------------

def test_ftstudio_has_no_import_cycles():
    assert cycles(imports(ROOT, "ftstudio")) == []


def test_no_module_imports_another_packages_private_module():
    assert private_reach_ins(imports(ROOT, "ftstudio"), "ftstudio") == []


def test_ftstudio_never_imports_the_ui():
    assert ui_imports(imports(ROOT, "ftstudio")) == []


def test_the_walk_sees_imports_inside_functions_and_relative_ones():
    graph = imports(ROOT, "ftstudio")
    assert len(graph) > 60
    # cli modules import their domain packages inside the command functions (start-up time).
    assert any(t.startswith("ftstudio.grading") for t in graph["ftstudio.cli._grade"])
    assert "ftstudio.grading._engine" in graph["ftstudio.grading"]


def test_ui_reaches_only_public_names_of_ftstudio():
    """components/ and app_pages/ use ftstudio's public faces, never a private module."""
    for package in ("components", "app_pages"):
        graph = imports(ROOT, package)
        assert private_reach_ins(graph, "ftstudio") == [], package


# --- the checker can fail ---------------------------------------------------------------------------------

def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_checker_finds_a_cycle_through_an_import_inside_a_function(tmp_path):
    root = _tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a/__init__.py": "from ._x import f\n",
        "pkg/a/_x.py": "def f():\n    from pkg.b import g\n    return g()\n",
        "pkg/b/__init__.py": "from ._y import g\n",
        "pkg/b/_y.py": "import os\n\ndef g():\n    from .. import a\n    from pkg.a import f\n    return f, a\n",
        "pkg/c.py": "from . import a\n",
    })
    graph = imports(root, "pkg")
    assert graph["pkg.b._y"] >= {"pkg.a", "os"}
    assert cycles(graph) == [["pkg.a", "pkg.a._x", "pkg.b", "pkg.b._y"]]
    assert cycles(imports(_tree(tmp_path / "ok", {"pkg/__init__.py": "", "pkg/c.py": "from . import d\n",
                                                   "pkg/d.py": "import json\n"}), "pkg")) == []


def test_checker_finds_private_reach_ins_and_ui_imports(tmp_path):
    root = _tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a/__init__.py": "from ._x import f\nfrom . import _z\n",
        "pkg/a/_x.py": "def f():\n    import streamlit as st\n    return st\n",
        "pkg/a/_z.py": "from ._x import f\n",
        "pkg/b.py": "def g():\n    from pkg.a._x import f\n    from .a import _z\n    from components import x\n",
    })
    graph = imports(root, "pkg")
    assert private_reach_ins(graph, "pkg") == [("pkg.b", "pkg.a._x"), ("pkg.b", "pkg.a._z")]
    assert ui_imports(graph) == [("pkg.a._x", "streamlit"), ("pkg.b", "components")]
