"""A package face whose names are imported from their modules on first use (PEP 562).

A command imports what it needs when it needs it (issue 23: `ftstudio grade` of one string_check row
must not pay for the model client, numpy or every grader schema). A face lists, per private module,
the names it gives; `from ftstudio.grading import RecordWriter` then imports `_writer` alone.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping


class LazyFace:
    """The names of one package face, each imported from its module when first read.

    `names` maps a module (relative, e.g. "_writer", or absolute, "ftstudio.core") to the names it gives the
    face ("TERMINAL as BATCH_TERMINAL" gives a name under another, as the import would); `modules` maps a face
    name to a module the face gives as a whole (e.g. "tree" -> "_tree")."""

    def __init__(self, package: str, names: Mapping[str, tuple[str, ...]], modules: Mapping[str, str] | None = None):
        self.package = package
        self.module_of: dict[str, str] = {}
        self.source: dict[str, str] = {}  # face name -> its name in the module, where they differ
        for module, given in names.items():
            for entry in given:
                source, _, name = entry.partition(" as ")
                self.module_of[name or source] = module
                if name:
                    self.source[name] = source
        self.submodules = dict(modules or {})

    def names(self) -> set[str]:
        return set(self.module_of) | set(self.submodules)

    def get(self, name: str, namespace: dict[str, object]) -> object:
        """The value of `name`, imported now and kept in the face's `namespace` (its globals())."""
        sub = self.submodules.get(name)
        if sub is not None:
            value: object = self._load(sub)
        else:
            module = self.module_of.get(name)
            if module is None:
                raise AttributeError(f"module {self.package!r} has no attribute {name!r}")
            value = getattr(self._load(module), self.source.get(name, name))
        namespace[name] = value
        return value

    def _load(self, module: str) -> object:
        return importlib.import_module(module if module.startswith("ftstudio.") else f".{module}", self.package)
