"""What string_check and text_similarity share: an `input` and a `reference` template per node."""

from __future__ import annotations

from typing import Any

from ftstudio.core import RowErrors

from .._columns import render_column
from ._type import Checker, Path, Rows

FIELDS = ("input", "reference")


def two_columns(node: Any, batch: Rows, rows: list[int]) -> tuple[list[str | None], list[str | None],
                                                                  dict[int, RowErrors]]:
    """The rendered input and reference of `rows`, and the rows where either failed."""
    inputs, e1 = render_column(node.input, batch, rows)
    refs, e2 = render_column(node.reference, batch, rows)
    errs: dict[int, RowErrors] = {}
    for source, e in (("input", e1), ("reference", e2)):
        for r, (code, msg) in e.items():
            errs.setdefault(r, RowErrors()).add(code, f"{source}: {msg}")
    return inputs, refs, errs


def check(c: Checker, g: dict[str, Any], path: Path, depth: int) -> None:
    c.templates(g, path, FIELDS)


def explain(node: Any, batch: Rows) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in FIELDS:
        values, errs = render_column(getattr(node, name), batch, [0])
        out[name] = values[0] if 0 not in errs else f"⚠ {errs[0][1]}"
    return out


def templates(node: Any) -> list[tuple[Path, str]]:
    return [(("input",), node.input), (("reference",), node.reference)]
