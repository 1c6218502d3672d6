"""High-order derivatives: the numbers to the last digit against mpmath, the formulas collected."""

import json

import mpmath
import numpy as np
import pytest
import sympy

from jaccli.cli import app


def run_json(runner, *args):
    result = runner.invoke(app, [*args, "--format", "json"])
    assert "Traceback" not in result.output
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def reference(function, x: float, order: int) -> float:
    """mpmath's k-th derivative at x as typed (repr(x): 0.7 is 7/10, not the double nearest it), to 60 digits,
    rounded once to the nearest double (through a 50-digit decimal: mpmath's float() rounds towards zero)."""
    with mpmath.workdps(60):
        return float(mpmath.nstr(mpmath.diff(function, mpmath.mpf(repr(x)), order), 50))


def test_tanh_order_20_at_0_7_to_the_last_digit(runner):
    doc = run_json(runner, "derivative", "tanh(x)", "--order", "20", "--at", "0.7")
    expected = reference(mpmath.tanh, 0.7, 20)
    assert repr(expected).startswith("32176600064394.")  # the check value, 3.2176600064394e13
    assert doc["value"] == expected


CASES = [  # (expression, mpmath function, point, order)
    ("sin(x)", mpmath.sin, 1.3, 17),
    ("exp(x)", mpmath.exp, -0.4, 20),
    ("x**7", lambda x: x**7, 1.7, 5),
    ("x**7", lambda x: x**7, 1.7, 9),
    ("1/(1 + exp(-x))", lambda x: 1 / (1 + mpmath.exp(-x)), 0.3, 12),
    ("x*sin(x)", lambda x: x * mpmath.sin(x), 2.1, 16),
    ("exp(x)*cos(x)", lambda x: mpmath.exp(x) * mpmath.cos(x), 0.9, 18),
    ("tanh(x)", mpmath.tanh, -1.1, 15),
    ("tanh(2*x)", lambda x: mpmath.tanh(2 * x), 0.2, 16),
]


@pytest.mark.parametrize(("expression", "function", "x", "order"), CASES)
def test_high_order_values_agree_with_mpmath(runner, expression, function, x, order):
    doc = run_json(runner, "derivative", expression, "--order", str(order), "--at", str(x))
    expected = reference(function, x, order)
    assert doc["value"] == pytest.approx(expected, rel=1e-15, abs=1e-300)


def tanh_polynomial(order: int) -> sympy.Poly:
    """P_k with d^k tanh/dx^k = P_k(tanh x): P_0 = t, P_{k+1} = P_k'(t) (1 - t^2), since tanh' = 1 - tanh^2."""
    t = sympy.Symbol("t")
    p = sympy.Poly(t, t)
    for _ in range(order):
        p = p.diff(t) * sympy.Poly(1 - t**2, t)
    return p


@pytest.mark.parametrize("no_simplify", [False, True])
def test_tanh_order_20_formula_is_a_polynomial_in_tanh(runner, no_simplify):
    doc = run_json(runner, "derivative", "tanh(x)", "--order", "20", *(["--no-simplify"] * no_simplify))
    x, t = sympy.symbols("x t")
    formula = sympy.sympify(doc["symbolic"], locals={"x": x}).subs(sympy.tanh(x), t)
    assert not formula.has(x)  # tanh(x) only: a polynomial in it, nothing expanded into exponentials
    assert sympy.Poly(sympy.expand(formula), t) == tanh_polynomial(20)
    assert len(doc["symbolic"]) < 1000  # collected: tens of terms, where the rules' products took 53 kB at k = 14


def test_many_points_take_the_numeric_path_at_order_20(runner, tmp_path):
    points = np.linspace(-1.5, 1.5, 100)
    path = tmp_path / "x.txt"
    np.savetxt(path, points, fmt="%.17g")
    doc = run_json(runner, "derivative", "tanh(x)", "--order", "20", "--at", f"@{path}")
    expected = [reference(mpmath.tanh, float(x), 20) for x in points]
    scale = max(abs(e) for e in expected)
    np.testing.assert_allclose(doc["value"], expected, rtol=1e-10, atol=1e-13 * scale)


def test_an_unverified_high_order_entry_falls_back_to_the_graph(runner, monkeypatch):
    """At a point with a formula the nested-JVP graphs are built only when an entry is left unverified: with no
    time to verify, the float64 value from them is printed, named in a warning, and still right to ~12 digits."""
    from jaccli import limits

    monkeypatch.setattr(limits, "VERIFY_SECONDS", 0.0)
    result = runner.invoke(app, ["derivative", "tanh(x)", "--order", "6", "--at", "0.7", "--format", "json"])
    assert result.exit_code == 1
    assert "could not be verified to the last digit" in result.stderr
    value = json.loads(result.stdout)["value"]
    assert value == pytest.approx(reference(mpmath.tanh, 0.7, 6), rel=1e-11)


@pytest.mark.parametrize("order", [2, 3])
def test_a_kink_at_high_order_is_still_named(runner, order):
    """|x|³ at 0: the kinks come from the first derivative's rules (abs, sign), without the graphs of order k."""
    result = runner.invoke(app, ["derivative", "abs(x)**3", "--order", str(order), "--at", "0", "--format", "json"])
    assert "non-differentiable point (abs" in result.stderr
    assert json.loads(result.stdout)["value"] == 0.0  # 6|x| and 6 sign(x): 0 at 0 by the sign(0) = 0 convention


def test_an_order_too_large_to_write_out_is_computed_at_a_point(runner):
    """The 20th derivative of exp(sin x cos x)/(1 + x²) is too large a formula (refused without a point), but at a
    point the nested-JVP graph gives it, with the numeric path's estimate and a note that there is no formula."""
    f = "exp(sin(x)*cos(x))/(1+x**2)"
    result = runner.invoke(app, ["derivative", f, "--order", "20", "--at", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Note: no formula: the derivative of order 20 is too large to write out")
    doc = json.loads(result.stdout)
    assert doc["symbolic"] is None
    expected = reference(lambda x: mpmath.exp(mpmath.sin(x) * mpmath.cos(x)) / (1 + x**2), 1.0, 20)
    assert doc["value"] == pytest.approx(expected, rel=1e-12)
    refused = runner.invoke(app, ["derivative", f, "--order", "20"])
    assert refused.exit_code == 2 and "too large to differentiate symbolically" in refused.stderr
