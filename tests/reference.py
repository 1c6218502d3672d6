"""An independent reference for derivatives: sympy's Jacobian of the expression, evaluated by sympy's
``evalf`` at 30 digits (no numpy, none of jaccli's evaluators or differentiation engines)."""

from __future__ import annotations

import numpy as np
import sympy

from jaccli import calculus, compute
from jaccli.special import rewrite_elementary


def jacobian(text: str, variables: list[str] | None, at: list[str]) -> np.ndarray:
    """m×n: sympy's symbolic Jacobian at the point, each entry by evalf."""
    problem = compute.Problem(text, at, variables)
    exprs = calculus.jacobian(problem.outputs, problem.inputs)
    env = {}
    for name in problem.function.variables:
        for symbol, value in zip(problem.symbols[name].flat, problem.values[name].array.flat, strict=True):
            env[symbol] = sympy.Float(float(value), 30)
    out = np.empty(exprs.shape)
    for index in np.ndindex(exprs.shape):
        value = rewrite_elementary(sympy.sympify(exprs[index])).xreplace(env).evalf(30)
        try:
            out[index] = float(value)
        except TypeError:  # complex, or undefined there
            out[index] = np.nan
    return out
