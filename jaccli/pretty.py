"""Symbolic results as people read them: short, exact where they are exact, in the user's own functions.

Applied to a ``Result`` just before it is rendered (``--no-simplify`` skips it); the maths core and its
symbolic forms are left alone. Each entry

- loses float noise from exact input: ``2.0*x`` from a vector ``--v 1,0`` becomes ``2*x``;
- names softmax entries ``s_i`` (``s_0*(1 - s_0)``) and says what ``s`` is;
- shows relu's derivative as ``step(x)``, with a note that step(0) = 1/2 as the numbers use;
- takes the shortest of itself, ``together``, ``cancel``, ``factor`` and (when small) ``simplify``, while a
  time budget for the whole result lasts (entries after that stay as they are).
"""

from __future__ import annotations

import time

import numpy as np

BUDGET_SECONDS = 1.0  # simplification CPU time for one result; later entries are shown unsimplified
MAX_OPS = 300  # together/cancel/factor only below this many operations
MAX_SIMPLIFY_OPS = 40  # simplify (slow, thorough) only below this
MAX_FACTOR_SYMBOLS = 8  # factor only in this many symbols: one call is not bounded by the budget, and factoring
# a polynomial in many symbols takes seconds to minutes (the gradient of sum(softmax(x)*y) at N = 15: 8 s)
STEP_NOTE = "step(x) = 0 for x < 0, 1/2 at x = 0, 1 for x > 0 (the derivative of relu)"


def readable(result) -> None:
    """Rewrite ``result.symbolic`` entry by entry as above; notes go to ``result.extra['where']``."""
    if result.symbolic is None:
        return
    import sympy

    from .special import LogSoftmax, Softmax, SoftmaxRest

    deadline = time.process_time() + BUDGET_SECONDS  # CPU time: the same text on a busy machine
    entries: set = set()
    for expr in result.symbolic.flat:
        if isinstance(expr, sympy.Basic):
            _softmax_entries(expr, (Softmax, SoftmaxRest, LogSoftmax), entries)
    logits = {e.logits for e in entries}
    where = {}
    names = {}
    if len(logits) == 1:  # one softmax in the expression: its entries are s_0, s_1, …, named once, here
        (z,) = logits
        where["s_i"] = f"softmax({', '.join(sympy.sstr(a) for a in z)})[i]"
        names = {e: _entry(e, lambda i: sympy.Symbol(f"s_{i}"), Softmax, SoftmaxRest) for e in entries}
    out = np.empty(result.symbolic.shape, dtype=object)
    for index in np.ndindex(out.shape):
        expr = result.symbolic[index]
        if isinstance(expr, sympy.Basic):
            if names:  # first: the entries' logits are then gone, and no later step walks through them
                expr = _renamed(expr, names)
            if _monomial(expr):  # most entries of a large Jacobian (-s_0*s_1): only a whole float to make exact
                if any(a.is_Float for a in expr.args):
                    expr = _exact_floats(expr)
            else:
                expr = _exact_floats(expr)
                if expr.has(sympy.Heaviside):
                    expr = expr.replace(sympy.Heaviside, lambda *args: sympy.Function("step")(args[0]))
                    where["step"] = STEP_NOTE
                expr = shortest(expr, deadline)
        out[index] = expr
    result.symbolic = out
    if where:
        result.extra["where"] = where


def _softmax_entries(expr, kinds: tuple, found: set) -> None:
    """Add the softmax-family entries in ``expr`` to ``found``, without walking through their logits."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, kinds):
            found.add(node)
        elif node.args:
            stack.extend(node.args)


def _monomial(expr) -> bool:
    """Whether ``expr`` is a product of a number and symbols (or other atoms)."""
    return expr.is_Mul and all(a.is_Atom for a in expr.args)


def _renamed(expr, names: dict):
    """``expr.xreplace(names)``; a number times softmax entries (-s_0*s_1, most of a Jacobian's entries) is built
    directly in the canonical order Mul would give it, without Mul's general flattening."""
    if expr.is_Mul and all(a.is_Number or a in names and names[a].is_Symbol for a in expr.args):
        from sympy.core.mul import _unevaluated_Mul

        return _unevaluated_Mul(*(names.get(a, a) for a in expr.args))  # distinct entries: distinct symbols
    return expr.xreplace(names)


def _entry(e, s, softmax, rest):
    if isinstance(e, softmax):
        return s(e.index)
    if isinstance(e, rest):
        return 1 - s(e.index)
    import sympy

    return sympy.log(s(e.index))


def _exact_floats(expr):
    """Floats that are whole numbers (from a point or vector read as doubles) as integers."""
    import sympy

    floats = {f: sympy.Integer(int(f)) for f in expr.atoms(sympy.Float)
              if float(f).is_integer() and abs(float(f)) < 1e15}
    return expr.xreplace(floats) if floats else expr


def shortest(expr, deadline: float):
    """The shortest printed form among ``expr`` and its rewrites tried before ``deadline`` (process CPU time)."""
    import sympy

    if expr.is_Atom or time.process_time() > deadline:
        return expr
    if _monomial(expr):  # a number times symbols: no rewrite is shorter
        return expr
    ops = sympy.count_ops(expr)
    if ops <= 2 or ops > MAX_OPS:
        return expr
    best, best_length = expr, len(sympy.sstr(expr))
    steps = [sympy.together, sympy.cancel] + ([sympy.factor] if len(expr.free_symbols) <= MAX_FACTOR_SYMBOLS else []) \
        + ([sympy.simplify] if ops <= MAX_SIMPLIFY_OPS else [])
    for step in steps:
        if time.process_time() > deadline:
            break
        try:
            candidate = step(expr)
        except Exception:  # noqa: BLE001 - a rewrite sympy cannot do leaves the entry as it was
            continue
        length = len(sympy.sstr(candidate))
        if length < best_length and not candidate.has(sympy.Piecewise):
            best, best_length = candidate, length
    return best
