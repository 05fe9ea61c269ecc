"""What a formula says about its inputs without running it: its linear form and its range.

`linear(node)` is the formula as ({variable: coefficient}, constant) when it is an affine combination
of its variables (TRL's reward_weights, Gemini's weighted composite); `bounds(node, ranges)` is the
interval the formula's value lies in when each variable lies in its interval (a reward tree's
range, for mapping it onto a platform's reward interval). Both follow the evaluator's arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ._parse import Binary, Call, Node, Num, Unary, Var


class NotLinear(Exception):
    """The formula is not an affine combination of its variables; the message says which part."""


def linear(node: Node) -> tuple[dict[str, float], float]:
    """node as ({variable: coefficient}, constant); NotLinear when it isn't a linear expression."""
    if isinstance(node, Num):
        return {}, node.value
    if isinstance(node, Var):
        return {node.name: 1.0}, 0.0
    if isinstance(node, Unary):
        terms, const = linear(node.operand)
        sign = -1.0 if node.op == "-" else 1.0
        return {k: sign * v for k, v in terms.items()}, sign * const
    if isinstance(node, Binary):
        (lt, lc), (rt, rc) = linear(node.left), linear(node.right)
        if node.op in ("+", "-"):
            s = 1.0 if node.op == "+" else -1.0
            terms = dict(lt)
            for k, v in rt.items():
                terms[k] = terms.get(k, 0.0) + s * v
            return terms, lc + s * rc
        if node.op == "*" and (not lt or not rt):
            factor, (terms, const) = (lc, (rt, rc)) if not lt else (rc, (lt, lc))
            return {k: factor * v for k, v in terms.items()}, factor * const
        if node.op == "/" and not rt and rc != 0:
            return {k: v / rc for k, v in lt.items()}, lc / rc
        raise NotLinear(f"'{node.op}' between graders is not a weighted sum")
    raise NotLinear(f"{getattr(node, 'func', 'a function')}(...) is not a weighted sum")


Interval = tuple[float, float]
_UNBOUNDED: Interval = (-math.inf, math.inf)


def bounds(node: Node, ranges: Mapping[str, Interval]) -> Interval:
    """The smallest interval this evaluation of interval arithmetic finds for the formula's value.

    Sound but not always tight (a variable used twice is treated as two); (-inf, inf) where the
    formula can blow up (division by an interval holding 0, a power of a negative base).
    """
    if isinstance(node, Num):
        return node.value, node.value
    if isinstance(node, Var):
        return ranges.get(node.name, _UNBOUNDED)
    if isinstance(node, Unary):
        lo, hi = bounds(node.operand, ranges)
        return (-hi, -lo) if node.op == "-" else (lo, hi)
    if isinstance(node, Binary):
        return _binary(node.op, bounds(node.left, ranges), bounds(node.right, ranges))
    if isinstance(node, Call):
        return _call(node.func, [bounds(a, ranges) for a in node.args])
    return _UNBOUNDED


def _span(values: list[float]) -> Interval:
    if any(math.isnan(v) for v in values):
        return _UNBOUNDED
    return min(values), max(values)


def _binary(op: str, a: Interval, b: Interval) -> Interval:
    if op == "+":
        return a[0] + b[0], a[1] + b[1]
    if op == "-":
        return a[0] - b[1], a[1] - b[0]
    if op == "*":
        return _span([x * y for x in a for y in b if not (math.isinf(x) and y == 0 or math.isinf(y) and x == 0)]
                     or [0.0])
    if op == "/":
        if b[0] <= 0 <= b[1]:
            return _UNBOUNDED
        return _span([x / y for x in a for y in b])
    # '^': exact for a constant exponent over a non-negative base, unbounded otherwise.
    if b[0] == b[1] and a[0] >= 0 and math.isfinite(a[1]):
        e = b[0]
        if e < 0 and a[0] == 0:
            return _UNBOUNDED
        return _span([a[0] ** e, a[1] ** e])
    if b[0] == b[1] and float(b[0]).is_integer() and math.isfinite(a[0]) and math.isfinite(a[1]) and b[0] >= 0:
        e = int(b[0])
        ends = [a[0] ** e, a[1] ** e] + ([0.0] if a[0] < 0 < a[1] else [])
        return _span([float(v) for v in ends])
    return _UNBOUNDED


def _call(func: str, args: list[Interval]) -> Interval:
    if func == "min":
        return min(a[0] for a in args), min(a[1] for a in args)
    if func == "max":
        return max(a[0] for a in args), max(a[1] for a in args)
    (lo, hi), = args[:1] or [_UNBOUNDED]
    if func == "abs":
        return (0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi))), max(abs(lo), abs(hi))
    if func == "floor":
        return float(math.floor(lo)) if math.isfinite(lo) else lo, float(math.floor(hi)) if math.isfinite(hi) else hi
    if func == "ceil":
        return float(math.ceil(lo)) if math.isfinite(lo) else lo, float(math.ceil(hi)) if math.isfinite(hi) else hi
    if func == "exp":
        return (math.exp(lo) if lo < 700 else math.inf), (math.exp(hi) if hi < 700 else math.inf)
    if func == "sqrt" and lo >= 0:
        return math.sqrt(lo), math.sqrt(hi)
    if func == "log" and lo > 0:
        return math.log(lo), math.log(hi)
    return _UNBOUNDED
