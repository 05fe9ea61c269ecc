"""The formula evaluated over whole columns with numpy (one pass for a batch of rows).

Semantics match Program.__call__: any row where an intermediate value stops being finite
(an overflow, a division by zero, log of 0, NaN) comes back as NaN, so the caller re-runs that
row alone and reports the exact error. Without the intermediate check, 1/exp(1000) would pass
as 0 here while the per-row evaluator calls it an overflow.
"""

from __future__ import annotations

import functools


def run_vector(code, columns: dict):
    import numpy as np

    n = max((len(np.asarray(v)) for v in columns.values()), default=1)
    bad = np.zeros(n, dtype=bool)
    stack: list = []
    with np.errstate(all="ignore"):
        for op, arg in code:
            if op == "var":
                stack.append(np.asarray(columns[arg], dtype=float))
                continue
            if op == "num":
                stack.append(arg)
                continue
            if op == "neg":
                value = -stack.pop()
            elif op == "bin":
                b, a = stack.pop(), stack.pop()
                value = _NP_BINARY[arg](np, a, b)
            else:
                name, k = arg
                args = stack[-k:]
                del stack[-k:]
                value = _NP_CALLS[name](np, args)
            bad |= ~np.isfinite(_column(np, value, n))
            stack.append(value)
        out = np.array(_column(np, stack[-1], n))
    out[bad] = np.nan
    return out


def _column(np, value, n: int):
    """value as n floats: a constant broadcast, a column as it is (broadcast_to costs more than the operation)."""
    value = np.asarray(value, dtype=float)
    return value if value.shape == (n,) else np.broadcast_to(value, (n,))


def _np_div(np, a, b):
    b = np.asarray(b, dtype=float)
    return np.where(b == 0, np.nan, a / np.where(b == 0, 1.0, b))


_NP_BINARY = {
    "+": lambda np, a, b: np.add(a, b), "-": lambda np, a, b: np.subtract(a, b),
    "*": lambda np, a, b: np.multiply(a, b), "/": _np_div, "^": lambda np, a, b: np.power(np.asarray(a, float), b),
}
_NP_CALLS = {
    # Pairwise, so a column and a constant broadcast: np.minimum.reduce([column, 0.5]) raised
    # ValueError (an inhomogeneous list), which took grade() down for max(a, 0.5).
    "min": lambda np, a: functools.reduce(np.minimum, [np.asarray(x, float) for x in a]),
    "max": lambda np, a: functools.reduce(np.maximum, [np.asarray(x, float) for x in a]),
    "abs": lambda np, a: np.abs(a[0]), "floor": lambda np, a: np.floor(a[0]), "ceil": lambda np, a: np.ceil(a[0]),
    "exp": lambda np, a: np.exp(a[0]),
    "sqrt": lambda np, a: np.where(np.asarray(a[0]) < 0, np.nan, np.sqrt(np.abs(a[0]))),
    "log": lambda np, a: np.where(np.asarray(a[0]) <= 0, np.nan, np.log(np.where(np.asarray(a[0]) <= 0, 1.0, a[0]))),
}
