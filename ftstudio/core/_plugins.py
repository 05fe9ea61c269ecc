"""Plugins: one object per module of a package (`TYPE = GraderType(...)`, `TARGET = Target(...)`), each module
imported when its object is first asked for by name, every one when all are.

Grading a string_check tree for openai then imports string_check's module and openai's, not the seven other
grader types' or the five other targets' (issue 23, start-up). The registries (graders/types/_registry.py,
targets/_registry.py) keep what they register and check; this holds what they share: where a name's module
is, importing it once under a lock (serve's threads may ask at once; one module may load another), and the
list of every module.
"""

from __future__ import annotations

import importlib
import keyword
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Plugins(Generic[T]):
    """The `attr` each public module of `package` declares, an instance of `kind` whose name (`name_of`) is the
    module's: "bedrock-rft" in `bedrock_rft.py`, "lambda" in `lambda_.py` (a keyword)."""

    def __init__(self, package: str, attr: str, kind: type[T], name_of: Callable[[T], str],
                 register: Callable[[T], object], known: Callable[[str], bool]):
        self.package, self.attr, self.kind = package, attr, kind
        self.name_of, self.register, self.known = name_of, register, known
        self.lock = threading.RLock()
        self.absent: set[str] = set()  # names asked for that no module declares
        self.complete = False  # every module is loaded

    @staticmethod
    def module_for(name: str) -> str | None:
        """The module that would declare `name`; None for a name no module can have."""
        module = name.replace("-", "_")
        if not module.isidentifier() or module.startswith("_"):
            return None
        return module + "_" if keyword.iskeyword(module) else module

    def load(self, name: str) -> bool:
        """Import the module of `name` and register what it declares; False when no module declares `name`."""
        module = self.module_for(name)
        if self.complete or name in self.absent or module is None:
            return False
        with self.lock:
            found = self._load(module)
            if found is None or self.name_of(found) != name:  # "lambda_" names a module, not a type
                self.absent.add(name)
                return False
        return True

    def load_all(self) -> None:
        """Import every module of the package not loaded yet; after this, `load` finds nothing new."""
        if self.complete:
            return
        import pkgutil  # only here: listing the package's modules

        with self.lock:
            path = importlib.import_module(self.package).__path__
            for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
                if not info.name.startswith("_"):
                    self._load(info.name)
            self.complete = True

    def _load(self, module_name: str) -> T | None:
        full = f"{self.package}.{module_name}"
        try:
            module = importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:
                raise  # the module exists, and something it imports does not
            return None
        declared = getattr(module, self.attr, None)
        if not isinstance(declared, self.kind):
            raise TypeError(f"{full} declares no {self.attr} = {self.kind.__name__}(...)")
        name = self.name_of(declared)
        if self.module_for(name) != module_name:
            raise TypeError(f"{full} declares {name!r}: a {self.attr.lower()}'s module is named after it")
        if not self.known(name):
            self.register(declared)
        return declared
