"""The names an expression may call, with their arity and kind.

Pure data: the parser checks calls against it and the README documents it.
The sympy builders live in ``lowering``; this module imports nothing heavy.
"""

from __future__ import annotations

from typing import NamedTuple


class Signature(NamedTuple):
    """How a function is called: argument counts and what it does to shapes.

    A NamedTuple, not a frozen dataclass: as cheap to read, and ~1 ms less to define on every start-up.
    """

    min_args: int
    max_args: int | None  # None: any number
    kind: str  # "elementwise", "reduction" (array -> scalar) or "vector" (last axis -> same shape)
    summary: str


_E = "elementwise"
FUNCTIONS: dict[str, Signature] = {
    "sin": Signature(1, 1, _E, "sine"),
    "cos": Signature(1, 1, _E, "cosine"),
    "tan": Signature(1, 1, _E, "tangent"),
    "asin": Signature(1, 1, _E, "inverse sine"),
    "acos": Signature(1, 1, _E, "inverse cosine"),
    "atan": Signature(1, 1, _E, "inverse tangent"),
    "sinh": Signature(1, 1, _E, "hyperbolic sine"),
    "cosh": Signature(1, 1, _E, "hyperbolic cosine"),
    "tanh": Signature(1, 1, _E, "hyperbolic tangent"),
    "asinh": Signature(1, 1, _E, "inverse hyperbolic sine"),
    "acosh": Signature(1, 1, _E, "inverse hyperbolic cosine"),
    "atanh": Signature(1, 1, _E, "inverse hyperbolic tangent"),
    "exp": Signature(1, 1, _E, "e to the power x"),
    "log": Signature(1, 2, _E, "natural logarithm; log(x, b) to base b"),
    "log2": Signature(1, 1, _E, "logarithm to base 2"),
    "log10": Signature(1, 1, _E, "logarithm to base 10"),
    "sqrt": Signature(1, 1, _E, "square root"),
    "abs": Signature(1, 1, _E, "absolute value"),
    "sigmoid": Signature(1, 1, _E, "logistic function 1/(1+exp(-x))"),
    "softplus": Signature(1, 1, _E, "log(1+exp(x)), computed stably"),
    "relu": Signature(1, 1, _E, "max(x, 0)"),
    "erf": Signature(1, 1, _E, "error function"),
    "atan2": Signature(2, 2, _E, "atan2(y, x), the angle of the point (x, y)"),
    "min": Signature(1, None, _E, "min(a, b, ...) elementwise; min(x) of one array: its smallest entry"),
    "max": Signature(1, None, _E, "max(a, b, ...) elementwise; max(x) of one array: its largest entry"),
    "sum": Signature(1, 1, "reduction", "sum of all entries"),
    "mean": Signature(1, 1, "reduction", "mean of all entries"),
    "prod": Signature(1, 1, "reduction", "product of all entries"),
    "norm": Signature(1, 1, "reduction", "Euclidean norm of all entries"),
    "dot": Signature(2, 2, "reduction", "dot(a, b): sum of a*b, same shapes"),
    "logsumexp": Signature(1, 1, "reduction", "log(sum(exp(x))), computed stably"),
    "softmax": Signature(1, 1, "vector", "exp(x)/sum(exp(x)) along the last axis, computed stably"),
    "log_softmax": Signature(1, 1, "vector", "log(softmax(x)) along the last axis"),
}

CONSTANTS: dict[str, str] = {"pi": "3.14159…", "e": "2.71828…, Euler's number"}
