"""A safe parser and evaluator for multi graders' `calculate_output` (facts §7.6). No eval/exec.

Grammar (pinned in the README):
    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '/') unary)*
    unary  := '-' unary | '+' unary | power
    power  := atom ('^' unary)?          # right-associative, binds tighter than unary minus
    atom   := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
`-2^2` is -4 and `2^3^2` is 512, as in mathematics. All arithmetic is in floats.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Callable, Iterable

FUNCTIONS: dict[str, tuple[int, int | None]] = {  # name -> (min args, max args or None)
    "min": (1, None), "max": (1, None), "abs": (1, 1), "floor": (1, 1),
    "ceil": (1, 1), "exp": (1, 1), "sqrt": (1, 1), "log": (1, 1),
}
OPERATORS = ("+", "-", "*", "/", "^")
MAX_LENGTH = 10_000  # far beyond any real formula; keeps the parser's work bounded
# Each level of parentheses costs the parser five Python frames: 100 levels stay far below the
# interpreter's recursion limit even when the caller's stack is already deep (Streamlit's is).
MAX_DEPTH = 100
MAX_TREE_DEPTH = 400  # bounds every recursive walk below (printing, compiling)

_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|.))")


class FormulaError(Exception):
    """A formula that cannot be parsed. `position` is a 0-based offset into the formula."""

    def __init__(self, message: str, position: int, code: str = "formula_parse_error"):
        super().__init__(message)
        self.message, self.position, self.code = message, position, code


class FormulaRuntimeError(Exception):
    """A formula that parses but fails for one row (division by zero, log of 0, NaN...)."""


@dataclass(frozen=True)
class Num:
    value: float
    pos: int


@dataclass(frozen=True)
class Var:
    name: str
    pos: int


@dataclass(frozen=True)
class Unary:
    op: str
    operand: "Node"
    pos: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: "Node"
    right: "Node"
    pos: int


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple["Node", ...]
    pos: int


Node = Num | Var | Unary | Binary | Call


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:  # only trailing whitespace is left
            break
        num, name, sym = m.groups()
        start = m.start(1) if num else m.start(2) if name else m.start(3)
        if num:
            tokens.append(("num", num, start))
        elif name:
            tokens.append(("name", name, start))
        elif sym is not None and not sym.isspace():
            tokens.append(("sym", sym, start))
        pos = m.end()
    tokens.append(("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text, self.tokens, self.i, self.depth = text, _tokenize(text), 0, 0

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, message: str, pos: int, code: str = "formula_parse_error"):
        raise FormulaError(message, pos, code)

    def parse(self) -> Node:
        if not self.text.strip():
            self.fail("the formula is empty; combine the grader keys, e.g. (a + b) / 2", 0)
        node = self.expr()
        kind, val, pos = self.peek()
        if kind != "end":
            self.fail(self._unexpected(kind, val, pos, "an operator (+ - * / ^) or the end"), pos,
                      self._code_for(kind, val))
        return node

    def _code_for(self, kind, val) -> str:
        return "formula_operator" if kind == "sym" and val not in "()," else "formula_parse_error"

    def _unexpected(self, kind, val, pos, wanted) -> str:
        if kind == "end":
            return f"the formula ends too early at position {pos}; expected {wanted}"
        if kind == "sym" and val not in "()," and val not in OPERATORS:
            return (f"'{val}' at position {pos} is not an allowed operator; use + - * / ^ "
                    "(^ is power) and parentheses")
        return f"unexpected '{val}' at position {pos}; expected {wanted}"

    def nest(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"the formula nests deeper than {MAX_DEPTH} levels", self.peek()[2])

    def expr(self) -> Node:
        self.nest()
        node = self.term()
        while self.peek()[:2] in (("sym", "+"), ("sym", "-")):
            _, op, pos = self.take()
            node = Binary(op, node, self.term(), pos)
        self.depth -= 1
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek()[:2] in (("sym", "*"), ("sym", "/")):
            _, op, pos = self.take()
            node = Binary(op, node, self.unary(), pos)
        return node

    def unary(self) -> Node:
        kind, val, pos = self.peek()
        if kind == "sym" and val in "+-" and val:
            self.take()
            self.nest()
            node = Unary(val, self.unary(), pos)
            self.depth -= 1
            return node
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.peek()[:2] == ("sym", "^"):
            _, _, pos = self.take()
            self.nest()
            node = Binary("^", base, self.unary(), pos)
            self.depth -= 1
            return node
        return base

    def atom(self) -> Node:
        kind, val, pos = self.take()
        if kind == "num":
            return Num(float(val), pos)
        if kind == "name":
            if self.peek()[:2] == ("sym", "("):
                return self.call(val, pos)
            if val in FUNCTIONS:
                self.fail(f"'{val}' at position {pos} is a function; call it like {val}(x)", pos)
            return Var(val, pos)
        if kind == "sym" and val == "(":
            node = self.expr()
            k2, v2, p2 = self.take()
            if (k2, v2) != ("sym", ")"):
                self.fail(self._unexpected(k2, v2, p2, "')' to close the '(' at position " + str(pos)), p2,
                          self._code_for(k2, v2))
            return node
        if kind == "sym" and val == "**":
            self.fail(f"'**' at position {pos} is not an operator here; write powers with ^", pos, "formula_operator")
        self.i -= 1
        self.fail(self._unexpected(kind, val, pos, "a number, a grader key, a function or '('"), pos,
                  self._code_for(kind, val))
        raise AssertionError  # unreachable

    def call(self, name: str, pos: int) -> Node:
        if name not in FUNCTIONS:
            self.fail(f"unknown function '{name}' at position {pos}; allowed: {', '.join(FUNCTIONS)}", pos,
                      "formula_function")
        self.take()  # '('
        args = [self.expr()]
        while self.peek()[:2] == ("sym", ","):
            self.take()
            args.append(self.expr())
        k2, v2, p2 = self.take()
        if (k2, v2) != ("sym", ")"):
            self.fail(self._unexpected(k2, v2, p2, f"',' or ')' to close {name}("), p2, self._code_for(k2, v2))
        lo, hi = FUNCTIONS[name]
        if len(args) < lo or (hi is not None and len(args) > hi):
            want = f"exactly {lo}" if lo == hi else f"at least {lo}"
            self.fail(f"{name}() at position {pos} takes {want} argument(s), got {len(args)}", pos, "formula_function")
        return Call(name, tuple(args), pos)


def parse(text: str) -> Node:
    """Parse a formula or raise FormulaError naming the position and what to do."""
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(text)} characters long; at most {MAX_LENGTH}", MAX_LENGTH)
    try:
        node = _Parser(text).parse()
    except RecursionError:  # only when the caller's stack was nearly full already
        raise FormulaError("the formula nests too deeply to read; simplify it", 0) from None
    if depth(node) > MAX_TREE_DEPTH:
        raise FormulaError(f"the formula is too long or nested to evaluate safely (more than {MAX_TREE_DEPTH} "
                           "levels); simplify it", 0)
    return node


def variables(node: Node) -> list[Var]:
    out: list[Var] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Var):
            out.append(n)
        elif isinstance(n, Unary):
            stack.append(n.operand)
        elif isinstance(n, Binary):
            stack += [n.right, n.left]
        elif isinstance(n, Call):
            stack += list(reversed(n.args))
    return sorted(out, key=lambda v: v.pos)


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        raise FormulaRuntimeError(f"{a:g} ^ {b:g} overflows") from None
    except ValueError:
        raise FormulaRuntimeError(f"{a:g} ^ {b:g} is not a real number") from None


def _div(a: float, b: float) -> float:
    if b == 0:
        raise FormulaRuntimeError("division by zero")
    return a / b


def _log(x: float) -> float:
    if x <= 0:
        raise FormulaRuntimeError(f"log({x:g}) is undefined; log needs a positive number")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0:
        raise FormulaRuntimeError(f"sqrt({x:g}) is undefined for a negative number")
    return math.sqrt(x)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise FormulaRuntimeError(f"exp({x:g}) overflows") from None


_BINARY: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": _div, "^": _pow,
}
_CALLS: dict[str, Callable[..., float]] = {
    "min": lambda *a: min(a), "max": lambda *a: max(a), "abs": abs,
    # math.floor(nan) raises ValueError; keep NaN/inf as they are, as numpy does, for the finite check.
    "floor": lambda x: float(math.floor(x)) if math.isfinite(x) else x,
    "ceil": lambda x: float(math.ceil(x)) if math.isfinite(x) else x, "exp": _exp, "sqrt": _sqrt, "log": _log,
}


def depth(node: Node) -> int:
    """Tree depth, computed without recursion so a hostile formula can't exhaust the stack."""
    best, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        best = max(best, d)
        if isinstance(n, Unary):
            stack.append((n.operand, d + 1))
        elif isinstance(n, Binary):
            stack += [(n.left, d + 1), (n.right, d + 1)]
        elif isinstance(n, Call):
            stack += [(a, d + 1) for a in n.args]
    return best


class Program:
    """A formula compiled to postfix code: evaluated with an explicit stack, per row or per column.

    The same code runs on floats (one row, exact error messages) and on numpy arrays (a whole
    batch; rows whose result isn't finite are re-run per row to name the failure).
    """

    def __init__(self, node: Node):
        self.code: list[tuple[str, object]] = []
        self._emit(node)
        self.variables = sorted({v.name for v in variables(node)})

    def _emit(self, node: Node) -> None:
        if isinstance(node, Num):
            self.code.append(("num", node.value))
        elif isinstance(node, Var):
            self.code.append(("var", node.name))
        elif isinstance(node, Unary):
            self._emit(node.operand)
            if node.op == "-":
                self.code.append(("neg", None))
        elif isinstance(node, Binary):
            self._emit(node.left)
            self._emit(node.right)
            self.code.append(("bin", node.op))
        elif isinstance(node, Call):
            for a in node.args:
                self._emit(a)
            self.code.append(("call", (node.func, len(node.args))))

    def __call__(self, env: dict[str, float]) -> float:
        """One row; FormulaRuntimeError for an undefined or non-finite result."""
        stack: list[float] = []
        push, pop = stack.append, stack.pop
        try:
            for op, arg in self.code:
                if op == "var":
                    push(float(env[arg]))
                elif op == "num":
                    push(arg)
                elif op == "bin":
                    b = pop()
                    push(_BINARY[arg](pop(), b))
                elif op == "neg":
                    push(-pop())
                else:
                    name, n = arg
                    args = stack[-n:]
                    del stack[-n:]
                    push(_CALLS[name](*args))
        except KeyError as exc:
            raise FormulaRuntimeError(f"no score for grader key {exc.args[0]!r}") from None
        except (TypeError, ValueError):  # float() of a score that isn't a number
            raise FormulaRuntimeError("a grader score is not a number") from None
        except OverflowError:
            raise FormulaRuntimeError("the result overflows") from None
        value = stack[-1]
        if not math.isfinite(value):
            raise FormulaRuntimeError(f"the result is {value}, not a finite number")
        return value

    def vector(self, columns: dict):
        """All rows at once over numpy arrays; non-finite entries mark rows to re-run per row."""
        import numpy as np

        stack: list = []
        with np.errstate(all="ignore"):
            for op, arg in self.code:
                if op == "var":
                    stack.append(np.asarray(columns[arg], dtype=float))
                elif op == "num":
                    stack.append(arg)
                elif op == "neg":
                    stack.append(-stack.pop())
                elif op == "bin":
                    b, a = stack.pop(), stack.pop()
                    stack.append(_NP_BINARY[arg](np, a, b))
                else:
                    name, n = arg
                    args = stack[-n:]
                    del stack[-n:]
                    stack.append(_NP_CALLS[name](np, args))
        return stack[-1]


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
    "exp": lambda np, a: np.exp(a[0]), "sqrt": lambda np, a: np.where(np.asarray(a[0]) < 0, np.nan, np.sqrt(np.abs(a[0]))),
    "log": lambda np, a: np.where(np.asarray(a[0]) <= 0, np.nan, np.log(np.where(np.asarray(a[0]) <= 0, 1.0, a[0]))),
}


def compile_formula(text_or_node: Node | str) -> Program:
    node = parse(text_or_node) if isinstance(text_or_node, str) else text_or_node
    try:
        return Program(node)
    except RecursionError:  # a tree of MAX_TREE_DEPTH levels, compiled on an already deep stack
        raise FormulaError("the formula nests too deeply to evaluate; simplify it", 0) from None


def evaluate(node_or_text: Node | str, env: dict[str, float]) -> float:
    """Evaluate for one row; FormulaRuntimeError for a non-finite or undefined result."""
    return compile_formula(node_or_text)(env)


# --- printing, for flatten() ---------------------------------------------------------------

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


def names_in(text: str) -> Iterable[str]:
    try:
        return [v.name for v in variables(parse(text))]
    except FormulaError:
        return []
