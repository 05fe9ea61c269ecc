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

import math
import re
from collections.abc import Callable
from typing import Any

from ftstudio.core import ROW_ERROR
from ftstudio.core.records import datarecord

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

    def __init__(self, message: str, position: int, code: str = ROW_ERROR.FORMULA_PARSE):
        super().__init__(message)
        self.message, self.position, self.code = message, position, code


class FormulaRuntimeError(Exception):
    """A formula that parses but fails for one row (division by zero, log of 0, NaN...)."""


@datarecord(frozen=True)
class Num:
    value: float
    pos: int


@datarecord(frozen=True)
class Var:
    name: str
    pos: int


@datarecord(frozen=True)
class Unary:
    op: str
    operand: Node
    pos: int


@datarecord(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int


@datarecord(frozen=True)
class Call:
    func: str
    args: tuple[Node, ...]
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

    def fail(self, message: str, pos: int, code: str = ROW_ERROR.FORMULA_PARSE):
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
        return "formula_operator" if kind == "sym" and val not in "()," else ROW_ERROR.FORMULA_PARSE

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
_CALLS: dict[str, Callable[..., Any]] = {
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
        self.code: list[tuple[str, Any]] = []  # (op, its argument: a key, a number, an operator, (function, arity))
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

    def vector(self, columns: dict[str, Any]):
        """All rows at once over numpy arrays; rows that are not finite must be re-run per row."""
        from ._vector import run_vector

        return run_vector(self.code, columns)


def compile_formula(text_or_node: Node | str) -> Program:
    node = parse(text_or_node) if isinstance(text_or_node, str) else text_or_node
    try:
        return Program(node)
    except RecursionError:  # a tree of MAX_TREE_DEPTH levels, compiled on an already deep stack
        raise FormulaError("the formula nests too deeply to evaluate; simplify it", 0) from None


def evaluate(node_or_text: Node | str, env: dict[str, float]) -> float:
    """Evaluate for one row; FormulaRuntimeError for a non-finite or undefined result."""
    return compile_formula(node_or_text)(env)

