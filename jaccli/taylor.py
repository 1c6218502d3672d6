"""The multivariate Taylor polynomial of f around a point P, up to order K (K = 1: the tangent plane).

With u = x − P, f(P + t·u) is a function of one variable t, and its k-th Taylor coefficient in t is the
homogeneous degree-k part of the Taylor polynomial: Σ_{|α| = k} D^α f(P) u^α / α!. sympy differentiates in
t and sets t = 0 (exactly, at the point as typed: ``pi/3`` is π/3, ``0.5`` is 1/2), within a time budget.
The polynomial is written in powers of (x − P), as people write it: ``5 + 2*(x - 1) + 4*(y - 2)``.
"""

from __future__ import annotations

import math

import numpy as np

from .compute import Problem, output_labels
from .errors import JaccliError, LimitError
from .result import Result

MAX_ORDER = 12  # the highest order K
TAYLOR_SECONDS = 10.0  # sympy's time for the whole polynomial
MAX_TERMS = 5_000  # terms of the polynomial, over all outputs (C(n + K, K) per output at most)


def _coefficients(outputs: list, shifts: dict, order: int, us: list) -> list[list[tuple]]:
    """For each output: [(exponents of u, coefficient)] up to ``order`` (run inside the budget)."""
    import sympy

    t = sympy.Dummy("t", real=True)  # real: d/dt |a + t·u| is sign(a + t·u)·u, not re/im parts sympy cannot expand
    out = []
    undefined = JaccliError(f"f has no Taylor polynomial of order {order} here: a derivative at the point is "
                            "infinite or undefined")
    for f in outputs:
        g = f.xreplace({x: a + t * u for x, (a, u) in shifts.items()})
        terms = []
        for k in range(order + 1):
            part = sympy.expand(g.subs(t, 0) / math.factorial(k))
            if part.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):  # 1/x at 0
                raise undefined
            if part != 0:
                try:
                    poly = sympy.Poly(part, *us) if us else None
                except sympy.PolynomialError:  # still a function of u: no number at the point
                    raise undefined from None
                for exponents, coefficient in (poly.terms() if poly is not None else [((), part)]):
                    if sympy.count_ops(coefficient) <= 60:
                        coefficient = sympy.simplify(coefficient)
                    if coefficient != 0:
                        terms.append((tuple(exponents), coefficient))
            if k < order:
                g = sympy.diff(g, t)
        if any(c.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo) for _, c in terms):
            raise undefined
        out.append(terms)
    return out


def taylor(expression: str, at: list[str] | None, variables: list[str] | None = None, order: int = 1,
           shapes: dict | None = None, stdin=None) -> Result:
    """T_K f around P: an object array shaped like f, each entry a polynomial in (x − P)."""
    import sympy

    from . import budget, symbolic
    from .special import rewrite_elementary

    if not at:
        raise JaccliError("taylor needs the point to expand around: give --at, e.g. --at 0 or --at 1,2")
    if not 0 <= order <= MAX_ORDER:
        raise LimitError(f"--order must be between 0 and {MAX_ORDER} (the limit), got {order}")
    problem = Problem(expression, at, variables, shapes, stdin=stdin, exact=True)
    n, m = len(problem.labels), problem.root.size
    terms = m * math.comb(n + order, order)
    if terms > MAX_TERMS:
        raise LimitError(f"the Taylor polynomial could have {terms} terms ({m} outputs, {n} inputs, order {order}); "
                         f"the limit is {MAX_TERMS}: use a lower --order or fewer variables")
    shifts, points, us = {}, {}, []
    for name in problem.function.variables:
        for x, text in zip(problem.symbols[name].flat, problem.values[name].texts.flat, strict=True):
            a = symbolic.constant(text, exact=True)
            u = sympy.Symbol(f"u{len(us)}", real=True)
            shifts[x], points[u] = (a, u), (x, a)
            us.append(u)
    outputs = [rewrite_elementary(f) for f in problem.outputs.flat]
    found = budget.within(TAYLOR_SECONDS, f"the Taylor polynomial of order {order}", _coefficients, outputs,
                          shifts, order, us)
    bases = [x if a == 0 else sympy.UnevaluatedExpr(x - a) for x, a in (points[u] for u in us)]
    polys = np.empty(problem.output_shape, dtype=object)
    for index, entry in zip(np.ndindex(polys.shape), found, strict=True):
        entry = sorted(entry, key=lambda term: (sum(term[0]), [-e for e in term[0]]))  # by degree
        polys[index] = sympy.Add(*(c * sympy.Mul(*(b**e for b, e in zip(bases, exps, strict=True)))
                                   for exps, c in entry))
    shape = problem.output_shape
    column = f"T{str(order).translate(str.maketrans('0123456789', '₀₁₂₃₄₅₆₇₈₉'))} f"
    rows = output_labels(shape)
    title = f"Taylor polynomial of order {order} of {expression} around {problem.describe_point()}"
    result = Result("taylor", expression, shape, rows, [column], variables=problem.labels, title=title,
                    symbolic=polys, symbols=problem.symbols,
                    extra={"order": order, "around": [sympy.sstr(a) for a, _ in shifts.values()]})
    result.point = problem.point
    return result
