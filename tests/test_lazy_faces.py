"""The faces that import each name on first use (core.LazyFace, issue 23: start-up) give exactly the names their
`if TYPE_CHECKING:` imports (what pyright and the import checks see) and their `__all__` list, from the same modules."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import ftstudio

FACES = ["api", "config", "core", "datasets", "graders", "grading", "probes", "targets", "validation"]


def _type_checking_imports(package: str) -> dict[str, tuple[str, str]]:
    """face name -> (module as the face's map writes it, name in that module), from the TYPE_CHECKING block."""
    tree = ast.parse((Path(ftstudio.__file__).parent / package / "__init__.py").read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", None) == "TYPE_CHECKING")
    out: dict[str, tuple[str, str]] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom)
        for alias in node.names:
            if node.level == 1 and node.module is None:  # from . import _tree as tree: a whole module
                out[alias.asname or alias.name] = (alias.name, "")
            else:
                out[alias.asname or alias.name] = (node.module or "", alias.name)
    return out


@pytest.mark.parametrize("package", FACES)
def test_a_lazy_face_gives_its_type_checking_imports_and_all(package):
    face = importlib.import_module(f"ftstudio.{package}")
    lazy = face._FACE
    declared = _type_checking_imports(package)
    eager = {name for name in face.__all__ if name in vars(face) and name not in declared}  # TARGETS, LazyFace
    assert set(face.__all__) == lazy.names() | eager
    assert set(declared) == lazy.names() - eager
    for name, (module, source) in declared.items():
        if not source:
            assert lazy.submodules[name] == module, name
        else:
            assert lazy.module_of[name] == module and lazy.source.get(name, name) == source, name
    for name in face.__all__:
        assert getattr(face, name) is not None
