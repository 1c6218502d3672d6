"""Hypothesis: Jacobians of random expressions against central finite differences.

Each random tree is built twice, as jaccli text and as a Python function on
floats (math module), so the reference shares no code with jaccli.
"""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from jaccli import compute

UNARY = {
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "atan": math.atan,
    "sigmoid": lambda u: 1 / (1 + math.exp(-u)),
    "softplus": lambda u: math.log1p(math.exp(u)),
    "exp": lambda u: math.exp(u),
}


def leaves():
    variables = st.sampled_from(["x", "y"]).map(lambda n: (n, lambda x, y, n=n: x if n == "x" else y))
    constants = st.integers(-3, 3).map(lambda c: (f"({c})", lambda x, y, c=c: float(c)))
    return variables | constants


def extend(children):
    unary = st.tuples(st.sampled_from(sorted(UNARY)), children).map(
        lambda t: (f"{t[0]}({t[1][0]})", lambda x, y, f=UNARY[t[0]], g=t[1][1]: f(g(x, y)))
    )
    smooth = st.tuples(st.sampled_from(["sq", "log1p_sq", "sqrt1p_sq"]), children).map(_smooth)
    binary = st.tuples(st.sampled_from(["+", "-", "*", "/"]), children, children).map(_binary)
    return unary | smooth | binary


def _smooth(t):
    kind, (text, g) = t
    if kind == "sq":
        return f"({text})^2", lambda x, y: g(x, y) ** 2
    if kind == "log1p_sq":
        return f"log(1 + ({text})**2)", lambda x, y: math.log(1 + g(x, y) ** 2)
    return f"sqrt(1 + ({text})**2)", lambda x, y: math.sqrt(1 + g(x, y) ** 2)


def _binary(t):
    op, (a, f), (b, g) = t
    if op == "/":  # keep the denominator away from 0
        return f"({a}) / (2 + sin({b}))", lambda x, y: f(x, y) / (2 + math.sin(g(x, y)))
    fn = {"+": lambda u, v: u + v, "-": lambda u, v: u - v, "*": lambda u, v: u * v}[op]
    return f"({a}) {op} ({b})", lambda x, y: fn(f(x, y), g(x, y))


expressions = st.recursive(leaves(), extend, max_leaves=6)
coordinates = st.floats(-1.5, 1.5, allow_nan=False).map(lambda v: round(v, 6))


def central_difference(fns, x, y):
    """J by central differences with step ~ eps^(1/3), one column per variable."""
    jac = np.zeros((len(fns), 2))
    for j in range(2):
        h = 6e-6 * max(1.0, abs((x, y)[j]))
        plus = (x + h, y) if j == 0 else (x, y + h)
        minus = (x - h, y) if j == 0 else (x, y - h)
        for i, f in enumerate(fns):
            jac[i, j] = (f(*plus) - f(*minus)) / (2 * h)
    return jac


@given(st.lists(expressions, min_size=1, max_size=3), coordinates, coordinates)
def test_jacobian_matches_central_differences(exprs, x, y):
    texts = [text for text, _ in exprs]
    fns = [fn for _, fn in exprs]
    try:
        values = [fn(x, y) for fn in fns]
    except (OverflowError, ValueError, ZeroDivisionError):
        return
    if not all(math.isfinite(v) and abs(v) < 1e6 for v in values):
        return
    result = compute.jacobian("[" + ", ".join(texts) + "]", [f"x={x!r}", f"y={y!r}"], ["x", "y"])
    reference = central_difference(fns, x, y)
    scale = max(1.0, np.max(np.abs(values)))
    np.testing.assert_allclose(result.value, reference, rtol=1e-5, atol=1e-5 * scale, err_msg=str(texts))


@given(expressions, coordinates, coordinates)
def test_hessian_is_symmetric_and_matches_second_differences(expr, x, y):
    text, fn = expr
    try:
        if not math.isfinite(fn(x, y)) or abs(fn(x, y)) > 1e6:
            return
    except (OverflowError, ValueError, ZeroDivisionError):
        return
    hess = compute.hessian(text, [f"x={x!r}", f"y={y!r}"], ["x", "y"]).value
    assert np.array_equal(hess, hess.T)
    h = 2e-4  # ~ eps^(1/4): balances truncation h^2 against rounding eps/h^2
    steps = [(h, 0.0), (0.0, h)]
    reference = np.empty((2, 2))
    for i, (ax, ay) in enumerate(steps):
        for j, (bx, by) in enumerate(steps):
            reference[i, j] = (fn(x + ax + bx, y + ay + by) - fn(x + ax - bx, y + ay - by)
                               - fn(x - ax + bx, y - ay + by) + fn(x - ax - bx, y - ay - by)) / (4 * h * h)
    scale = max(1.0, abs(fn(x, y)), float(np.max(np.abs(hess))))
    np.testing.assert_allclose(hess, reference, rtol=1e-4, atol=2e-4 * scale, err_msg=text)
