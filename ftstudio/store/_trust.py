"""Which python grader sources the user has agreed to run.

A config that arrives by import or preset may carry code someone else wrote. Its python sources
are recorded as untrusted; grading them needs one explicit confirmation per config, after which
they are trusted (also across restarts: the hashes live in $FTSTUDIO_HOME/python_trust.json).
Code the user types in the editor is never marked untrusted, and code the user already runs (typed or
confirmed, anywhere in Undo/Redo) stays trusted when an import carries it too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from ftstudio.graders import grader_type, walk

from ._autosave import home
from ._files import atomic_write


def sources(grader: Any) -> list[str]:
    if grader is None:
        return []
    out: list[str] = []
    for _, node in walk(grader):
        code = grader_type(node.type).code
        if code is not None:
            out.append(code(node))
    return out


def digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def _file():
    return home() / "python_trust.json"


def _read() -> dict[str, list[str]]:
    try:
        data = json.loads(_file().read_text(encoding="utf-8"))
        return {"untrusted": list(data.get("untrusted", [])), "trusted": list(data.get("trusted", []))}
    except (OSError, ValueError, AttributeError):
        return {"untrusted": [], "trusted": []}


def _write(data: dict[str, list[str]]) -> None:
    target = _file()
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, json.dumps({k: sorted(set(v))[-2000:] for k, v in data.items()}), ".trust-")


def mark_untrusted(grader: Any, own: Iterable[Any] = ()) -> int:
    """Record the python sources of an imported grader tree as needing confirmation; how many now wait.

    `own`: trees the user already works with (the configs in Undo/Redo). Their sources that don't wait for a
    confirmation are the user's, typed or confirmed: they are recorded as trusted first (by content hash), so
    an import that carries the same code never makes the user's own grader ask again, after Undo either."""
    hashes = [digest(s) for s in sources(grader)]
    if not hashes:
        return 0
    data = _read()
    waiting = set(data["untrusted"]) - set(data["trusted"])
    mine = {digest(s) for tree in own for s in sources(tree)} - waiting
    data["trusted"] += sorted(mine - set(data["trusted"]))
    trusted = set(data["trusted"])
    new = [h for h in hashes if h not in trusted]
    data["untrusted"] += new
    _write(data)
    return len(new)


def pending(grader: Any) -> list[str]:
    """Sources in the tree that arrived from elsewhere and aren't confirmed yet."""
    data = _read()
    untrusted, trusted = set(data["untrusted"]), set(data["trusted"])
    return [s for s in sources(grader) if digest(s) in untrusted and digest(s) not in trusted]


def confirm(grader: Any) -> None:
    data = _read()
    hashes = {digest(s) for s in sources(grader)}
    data["trusted"] += sorted(hashes)
    data["untrusted"] = [h for h in data["untrusted"] if h not in hashes]
    _write(data)
