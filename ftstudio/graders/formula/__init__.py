"""The calculate_output formula language of multi graders.

parse -> Node tree; compile_formula -> Program, evaluated per row (`program(env)`) or over numpy
columns (`program.vector(columns)`); to_source / rename / substitute rewrite formulas for flatten
and for renaming a child grader; linear / bounds read a formula's weights and range without running it.
"""

from __future__ import annotations

from ._linear import Interval, NotLinear, bounds, linear
from ._parse import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TREE_DEPTH,
    OPERATORS,
    Binary,
    Call,
    FormulaError,
    FormulaRuntimeError,
    Node,
    Num,
    Program,
    Unary,
    Var,
    compile_formula,
    depth,
    evaluate,
    parse,
    variables,
)
from ._rewrite import rename, substitute, to_source

__all__ = [
    "FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "MAX_TREE_DEPTH", "OPERATORS", "Binary", "Call", "FormulaError",
    "FormulaRuntimeError", "Interval", "Node", "NotLinear", "Num", "Program", "Unary", "Var", "bounds", "compile_formula",
    "depth", "evaluate", "linear", "parse", "rename", "substitute", "to_source", "variables",
]
