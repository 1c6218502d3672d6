"""The registry's derivative rules in float64, at the edges of their domains (issue 15): on the numeric path (more
than 64 inputs, no formula to verify) the numbers are the rules' float64 arithmetic, so a rule written as the
textbook formula (1/√(1 − x²) near ±1, 1/√(x² + 1) past 1e154) loses digits or overflows where the derivative is an
ordinary number. Each row is checked against the derivative written out by hand in mpmath at 50 digits: the
printed value at the point and constants as typed (the longdouble re-evaluation reads 0.9999999999 and 0.1 as
the decimals), within a few ulps with no warning, and the plain float64 evaluation (``Numbers.at``: what
``--points`` prints, and ``--at`` where ``longdouble`` is no wider than a double) at the doubles nearest them,
within a few ulps too.
"""

from __future__ import annotations

import math
from decimal import Decimal

import mpmath
import numpy as np
import pytest

from jaccli import compute

mp = mpmath
N = 70  # inputs: beyond accuracy.SYMBOLIC_INPUTS, so the numeric path
ULPS = 3  # a few roundings of a well-conditioned rule


def ulps(got: float, want) -> float:
    """|got − want| in units in the last place of the double nearest ``want``."""
    nearest = float(want)
    if got == nearest:
        return 0.0
    with mp.workdps(50):
        return float(abs(mp.mpf(got) - want) / math.ulp(nearest)) if math.isfinite(got) else math.inf


def _asin(x):
    return 1 / mp.sqrt(1 - x * x)


ROWS = [  # (expression, point as typed, d/dx by hand[, ulps allowed])
    # 1 − x² near ±1: x*x rounds away the digits 1 − x keeps exactly (1e5 ulps at 1 − 1e-10)
    ("asin(x)", "0.9999999999", _asin),
    ("asin(x)", "-0.9999999999", _asin),
    ("asin(x)", "0.999999", _asin),
    ("acos(x)", "0.9999999999", lambda x: -_asin(x)),
    ("acos(x)", "-0.999999", lambda x: -_asin(x)),
    ("atanh(x)", "0.9999999999", lambda x: 1 / (1 - x * x)),
    ("atanh(x)", "-0.999999", lambda x: 1 / (1 - x * x)),
    # x² − 1 near 1 cancels; x² overflows past 1e154 where 1/√(x² − 1) is an ordinary number
    ("acosh(x)", "1.0000000001", lambda x: 1 / mp.sqrt(x * x - 1)),
    ("acosh(x)", "1.000001", lambda x: 1 / mp.sqrt(x * x - 1)),
    ("acosh(x)", "1e200", lambda x: 1 / mp.sqrt(x * x - 1)),
    ("acosh(x)", "1.7e308", lambda x: 1 / mp.sqrt(x * x - 1)),
    ("asinh(x)", "1e160", lambda x: 1 / mp.sqrt(x * x + 1)),
    ("asinh(x)", "-1e300", lambda x: 1 / mp.sqrt(x * x + 1)),
    # 1/(x·ln b) rounds three times (1.2 ulps at 0.5); log_b(e)/x twice, within 1 ulp
    ("log10(x)", "0.5", lambda x: 1 / (x * mp.log(10)), 1),
    ("log10(x)", "2.5", lambda x: 1 / (x * mp.log(10)), 1),
    ("log2(x)", "1.1", lambda x: 1 / (x * mp.log(2)), 1),
    # x² + y² overflows past 1e154 (the derivative printed as 0) and underflows below 1e-154
    ("atan2(x, 1e200)", "0.5", lambda x, c=float: c("1e200") / (x * x + c("1e200") ** 2)),
    ("atan2(1e200, x)", "2.5", lambda x, c=float: -c("1e200") / (x * x + c("1e200") ** 2)),
    ("atan2(x, 1e160)", "1e160", lambda x, c=float: c("1e160") / (x * x + c("1e160") ** 2)),
    ("atan2(x, 1e-200)", "1e-200", lambda x, c=float: c("1e-200") / (x * x + c("1e-200") ** 2)),
    # b·x**(b - 1): b - 1 rounded (0.1 - 1 is not a double) costs |ln x| of its ulps, 140 at 1e300
    ("x**0.1", "1e300", lambda x, c=float: c("0.1") * x ** (c("0.1") - 1)),
    ("x**0.1", "1e-8", lambda x, c=float: c("0.1") * x ** (c("0.1") - 1)),
    ("x**(1/3)", "1e-300", lambda x, c=float: c("1/3") * x ** (c("1/3") - 1)),
    ("x**-0.3", "1e-200", lambda x, c=float: c("-0.3") * x ** (c("-0.3") - 1)),
]


@pytest.mark.parametrize(("expression", "at", "derivative", "allowed"), [(*r, ULPS)[:4] for r in ROWS],
                         ids=[f"{r[0]} at {r[1]}" for r in ROWS])
def test_a_rule_at_the_edge_of_its_domain_is_right_to_a_few_ulps(expression, at, derivative, allowed):
    # the point typed as the exact decimal of the double nearest ``at``: longdouble holds it exactly, so the rule's
    # own rounding is all there is to see (0.9999999999 typed as such is 10 digits more sensitive than longdouble's
    # 19 can follow: named by the estimate, tests/test_numeric_estimate.py)
    point = str(Decimal(float(at)))
    with mp.workdps(50):
        typed = _call(derivative, mp.mpf(point), _typed)
        double = _call(derivative, mp.mpf(point), _double)
    result = compute.derivative(expression, [",".join([point] * N)])
    assert result.exit_code == 0 and result.warnings == []
    assert max(ulps(float(v), typed) for v in np.ravel(result.value)) <= allowed
    plain, _ = result.numbers.at(np.full((1, N), float(at)))  # float64 only: no longdouble re-evaluation
    assert max(ulps(float(v), double) for v in np.ravel(plain)) <= allowed


def _typed(text: str):
    """A constant of the expression as typed: 0.1 is 1/10, 1/3 one third."""
    return mp.mpf(1) / 3 if text == "1/3" else mp.mpf(text)


def _double(text: str):
    """The same constant as the double the float64 evaluation holds."""
    return mp.mpf(1 / 3) if text == "1/3" else mp.mpf(float(text))


def _call(derivative, x, constant):
    try:
        return derivative(x, constant)
    except TypeError:  # a row without constants
        return derivative(x)


def _softmax(x):
    top = max(x)
    e = [mp.exp(v - top) for v in x]
    return [v / mp.fsum(e) for v in e]


def _softmax_square_gradient(x):
    """∇ Σ softmax(x)² = 2 s_i (s_i − Σ s²): it cancels where s_i is near Σ s²."""
    s = _softmax(x)
    q = mp.fsum(v * v for v in s)
    return [2 * v * (v - q) for v in s]


GRADIENTS = [  # (expression, the N inputs, the gradient by hand, ulps allowed)
    # x² underflowed inside norm's sum below 1e-154 (1e-9 off, 4.7e6 ulps, not seen by the estimate) and
    # overflows past 1e154
    ("norm(x)", [1e-160 * (1 + k) for k in range(N)], lambda x: [v / mp.sqrt(mp.fsum(u * u for u in x)) for v in x],
     ULPS),
    ("norm(x)", [1e200 * (1 + k) for k in range(N)], lambda x: [v / mp.sqrt(mp.fsum(u * u for u in x)) for v in x],
     ULPS),
    # softmax's VJP by prefix sums: 792 ulps here (JAX 15); shifted by the largest entry's cotangent: 1.5
    ("sum(softmax(x)**2)", [5.0 * (k % 7) for k in range(N)], _softmax_square_gradient, ULPS),
    # saturated: s₀ is 1 to 2e-16; the others are 4e-18 (x − 40 exact here: a rounded one costs its own ulps)
    ("sum(softmax(x)*x)", [40.0] + [k / 64 for k in range(1, N)],
     lambda x: (lambda s: [v * (1 + u - mp.fsum(a * b for a, b in zip(s, x))) for v, u in zip(s, x)])(_softmax(x)),
     ULPS),
]


@pytest.mark.parametrize(("expression", "inputs", "gradient", "allowed"), GRADIENTS,
                         ids=[f"{g[0]} from {g[1][0]:g}" for g in GRADIENTS])
def test_a_gradient_at_the_edge_is_right_to_a_few_ulps(expression, inputs, gradient, allowed):
    with mp.workdps(50):
        want = gradient([mp.mpf(v) for v in inputs])
    result = compute.gradient(expression, [",".join(map(repr, inputs))])
    assert result.exit_code == 0 and result.warnings == []
    assert max(ulps(float(v), w) for v, w in zip(np.ravel(result.value), want)) <= allowed
    plain, _ = result.numbers.at(np.array(inputs)[None])
    assert max(ulps(float(v), w) for v, w in zip(np.ravel(plain), want)) <= allowed


@pytest.mark.skipif(np.finfo(np.longdouble).nmant <= np.finfo(float).nmant, reason="longdouble is a double here")
@pytest.mark.parametrize(("expression", "inputs", "gradient"), [
    ("logsumexp(x)", [1000.0 - 30 * k for k in range(N)], _softmax),  # softmax in float64: 2 ulps
    ("sum(softmax(x)**2)", [5.0 * (k % 7) for k in range(N)], _softmax_square_gradient),
])
def test_softmax_is_widened_with_the_rest_where_longdouble_is_wider(expression, inputs, gradient):
    """The printed value at one point comes from the longdouble re-evaluation; softmax took part only in float64."""
    with mp.workdps(50):
        want = gradient([mp.mpf(v) for v in inputs])
    result = compute.gradient(expression, [",".join(map(repr, inputs))])
    assert max(ulps(float(v), w) for v, w in zip(np.ravel(result.value), want)) <= 0.5
