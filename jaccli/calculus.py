"""Symbolic derivatives of object arrays of sympy expressions.

One primitive, ``partial``, differentiates an expression with respect to one
symbol, touching only the terms of a sum that contain it; ``jacobian`` applies it
to each output and only the symbols that output contains, so an elementwise
function of n values costs n derivatives, not n².
"""

from __future__ import annotations

import numpy as np
import sympy

from .errors import LimitError

MAX_ORDER = 20  # highest derivative order


def _terms_by_symbol(expr: sympy.Expr, wanted: set) -> dict:
    """For a sum, the terms that contain each wanted symbol; otherwise the whole expression."""
    terms = expr.args if expr.is_Add else (expr,)
    groups: dict = {}
    for term in terms:
        for symbol in term.free_symbols & wanted:
            groups.setdefault(symbol, []).append(term)
    return groups


def jacobian(outputs: np.ndarray, inputs: list[sympy.Symbol]) -> np.ndarray:
    """m×n: rows are the m outputs (flattened row-major), columns the n inputs."""
    wanted = set(inputs)
    column = {symbol: j for j, symbol in enumerate(inputs)}
    flat = list(outputs.flat)
    out = np.full((len(flat), len(inputs)), sympy.S.Zero, dtype=object)
    for i, f in enumerate(flat):
        for symbol, terms in _terms_by_symbol(f, wanted).items():
            out[i, column[symbol]] = sympy.Add(*(t.diff(symbol) for t in terms))
    return out


def gradient(output: sympy.Expr, inputs: list[sympy.Symbol]) -> np.ndarray:
    """n entries: d output / d input_j."""
    return jacobian(np.array([output], dtype=object), inputs)[0]


def hessian(output: sympy.Expr, inputs: list[sympy.Symbol]) -> np.ndarray:
    """n×n, symmetric: the Jacobian of the gradient (upper triangle computed, then mirrored)."""
    grad = gradient(output, inputs)
    n = len(inputs)
    out = np.full((n, n), sympy.S.Zero, dtype=object)
    for i in range(n):
        if grad[i] == 0:
            continue
        rest = inputs[i:]
        row = jacobian(np.array([grad[i]], dtype=object), rest)[0]
        out[i, i:] = row
        out[i:, i] = row
    return out


def derivative(outputs: np.ndarray, symbol: sympy.Symbol, order: int = 1) -> np.ndarray:
    """d^k f / d symbol^k for every entry of f; same shape as f."""
    check_order(order)
    out = np.empty(outputs.shape, dtype=object)
    for index in np.ndindex(outputs.shape):
        out[index] = sympy.diff(outputs[index], symbol, order)
    return out


def check_order(order: int) -> None:
    if not 1 <= order <= MAX_ORDER:
        raise LimitError(f"derivative order must be between 1 and {MAX_ORDER}, got {order}")
