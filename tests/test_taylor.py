"""jaccli taylor: coefficients from known series, exactness for polynomials, the tangent plane, the limits."""

from __future__ import annotations

import math

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from jaccli.taylor import MAX_ORDER, taylor

x, y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)


def _poly(expression, at, order, variables=None):
    result = taylor(expression, at, variables, order)
    return [sympy.expand(e.doit()) for e in result.symbolic.flat]


@pytest.mark.parametrize("expression, order, series", [
    ("exp(x)", 5, sum(x**k / math.factorial(k) for k in range(6))),
    ("log(1 + x)", 4, x - x**2 / 2 + x**3 / 3 - x**4 / 4),
    ("sin(x)", 7, x - x**3 / 6 + x**5 / 120 - x**7 / 5040),
    ("1/(1 - x)", 3, 1 + x + x**2 + x**3),
    ("sqrt(1 + x)", 2, 1 + x / 2 - x**2 / 8),  # the binomial series
])
def test_known_series_at_zero(expression, order, series):
    assert _poly(expression, ["0"], order) == [sympy.expand(series)]


def test_two_variables():
    assert _poly("1/(1 - x - y)", ["0,0"], 3) == [sympy.expand(sum((x + y) ** k for k in range(4)))]
    # e^x cos y = Re e^(x + iy): 1 + x + (x² − y²)/2
    assert _poly("exp(x)*cos(y)", ["0,0"], 2) == [sympy.expand(1 + x + (x**2 - y**2) / 2)]


def test_around_an_exact_point():
    # sin(x) around π/6: 1/2 + (√3/2)(x − π/6) − (1/4)(x − π/6)²
    h = x - sympy.pi / 6
    assert _poly("sin(x)", ["pi/6"], 2) == [sympy.expand(sympy.Rational(1, 2) + sympy.sqrt(3) / 2 * h - h**2 / 4)]


def test_the_tangent_plane_reads_as_people_write_it(jaccli):
    run = jaccli("taylor", "x**2 + y**2", "--at", "1,2", "-f", "plain")
    assert run.code == 0 and run.stdout == "5 + 2*(x - 1) + 4*(y - 2)\n"


def test_a_vector_function_and_json(jaccli):
    run = jaccli("taylor", "[x*y, x + y**2]", "--at", "0,0", "--order", "2", "-f", "json")
    assert run.code == 0, run.stderr
    assert run.json["symbolic"] == ["x*y", "x + y**2"] and run.json["order"] == 2


@settings(max_examples=40, deadline=None)  # each example runs sympy: 200 took ~30-60 s
@given(st.lists(st.integers(-9, 9), min_size=6, max_size=6), st.integers(-3, 3), st.integers(-3, 3))
def test_a_polynomial_of_degree_k_is_its_own_taylor_polynomial(c, a, b):
    f = c[0] + c[1] * x + c[2] * y + c[3] * x**2 + c[4] * x * y + c[5] * y**2
    text = sympy.sstr(f)
    (got,) = _poly(text, [f"{a},{b}"], 2, ["x", "y"])
    assert got == sympy.expand(f)


def test_emit_python_computes_the_polynomial(jaccli):
    run = jaccli("taylor", "exp(x)", "--at", "0", "--order", "4", "--emit", "python")
    assert run.code == 0, run.stderr
    namespace: dict = {}
    exec(compile(run.stdout, "taylor.py", "exec"), namespace)  # noqa: S102 - our own generated code
    assert float(namespace["taylor"](0.5)) == pytest.approx(sum(0.5**k / math.factorial(k) for k in range(5)))


@pytest.mark.parametrize("args, message", [
    (["taylor", "exp(x)"], "--at"),
    (["taylor", "exp(x)", "--at", "0", "--order", str(MAX_ORDER + 1)], f"between 0 and {MAX_ORDER}"),
    (["taylor", "sqrt(x)", "--at", "0"], "no Taylor polynomial"),
])
def test_refusals_are_one_error_line(jaccli, args, message):
    run = jaccli(*args)
    assert run.code == 2, run.stdout
    assert run.stderr.startswith("Error: ") and message in run.stderr, run.stderr


def test_the_term_limit_is_named(jaccli):
    run = jaccli("taylor", "sum(x)", "--at", ",".join(["0"] * 30), "--order", "4")
    assert run.code == 2 and "the limit is 5000" in run.stderr
