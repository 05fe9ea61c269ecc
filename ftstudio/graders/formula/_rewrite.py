"""Printing and rewriting formulas, for flatten(): precedence-aware printing, variable renaming
and substitution of a variable by a sub-formula."""

from __future__ import annotations

from collections.abc import Callable

from ._parse import Binary, Call, Node, Num, Unary, Var, variables

_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "u": 3, "^": 4}


def to_source(node: Node, rename: Callable[[str], str] | None = None) -> str:
    """Print a formula with the parentheses it needs; `rename` maps variable names."""
    return _src(node, rename or (lambda s: s))


def _src(node: Node, rn) -> str:
    if isinstance(node, Num):
        return repr(node.value) if not node.value.is_integer() else str(int(node.value)) if abs(node.value) < 1e15 else repr(node.value)
    if isinstance(node, Var):
        return rn(node.name)
    if isinstance(node, Call):
        return f"{node.func}({', '.join(_src(a, rn) for a in node.args)})"
    if isinstance(node, Unary):
        inner = _src(node.operand, rn)
        if isinstance(node.operand, Binary) and _PREC[node.operand.op] < _PREC["^"]:
            inner = f"({inner})"
        return f"{node.op}{inner}"
    assert isinstance(node, Binary)
    p = _PREC[node.op]
    left, right = _src(node.left, rn), _src(node.right, rn)
    if node.op == "^":
        if isinstance(node.left, (Binary, Unary)):
            left = f"({left})"
        if isinstance(node.right, Binary) and node.right.op != "^":
            right = f"({right})"
    else:
        if isinstance(node.left, Binary) and _PREC[node.left.op] < p:
            left = f"({left})"
        if isinstance(node.right, Binary) and (_PREC[node.right.op] < p or
                                               (_PREC[node.right.op] == p and node.right.op != "^")):
            right = f"({right})"
    return f"{left} {node.op} {right}"


def substitute(node: Node, replacements: dict[str, Node]) -> Node:
    """Replace variables by sub-formulas (used to inline a nested multi)."""
    if isinstance(node, Var):
        return replacements.get(node.name, node)
    if isinstance(node, Unary):
        return Unary(node.op, substitute(node.operand, replacements), node.pos)
    if isinstance(node, Binary):
        return Binary(node.op, substitute(node.left, replacements), substitute(node.right, replacements), node.pos)
    if isinstance(node, Call):
        return Call(node.func, tuple(substitute(a, replacements) for a in node.args), node.pos)
    return node


def rename(node: Node, mapping: Callable[[str], str]) -> Node:
    return substitute(node, {v.name: Var(mapping(v.name), v.pos) for v in variables(node)})
