"""The gamma family (gamma, lgamma, digamma, polygamma) and erfc, against published values and mpmath.

Hand values: Γ(1/2) = √π, ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2, ψ(−1/2) = 2 − γ − 2 ln 2, ψ′(1) = π²/6,
ψ″(1) = −2ζ(3) (Abramowitz & Stegun 6.1.8, 6.3.2, 6.3.3, 6.4.2). Elsewhere mpmath's psi at 200 digits
(x > 0), whose reflection for x < 0 is checked here at points where the two agree.
"""

from __future__ import annotations

import json
import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from jaccli import compute, registry
from jaccli.cli import app

runner = CliRunner()
mpmath.mp.dps = 50  # the closed forms below, rounded once to doubles
EULER = float(mpmath.euler)  # γ
G, LN2, PI = mpmath.euler, mpmath.log(2), mpmath.pi


def run(*args: str):
    return runner.invoke(app, list(args))


def value(*args: str):
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["value"]


@pytest.mark.parametrize(("expression", "at", "want"), [
    ("lgamma(x)", "1", -G),  # ψ(1) = −γ
    ("lgamma(x)", "0.5", -G - 2 * LN2),
    ("lgamma(x)", "-0.5", 2 - G - 2 * LN2),  # log|Γ| left of 0: ψ as well
    ("digamma(x)", "1", PI ** 2 / 6),  # ψ′(1) = ζ(2)
    ("polygamma(1, x)", "1", -2 * mpmath.zeta(3)),  # ψ″(1)
    ("gamma(x)", "1", -G),  # Γ′(1) = Γ(1) ψ(1)
    ("gamma(x)", "0.5", mpmath.sqrt(PI) * (-G - 2 * LN2)),
    ("erfc(x)", "3", -2 / mpmath.sqrt(PI) * mpmath.exp(-9)),
    ("psi(x)", "1", PI ** 2 / 6),  # psi is digamma's other name
    ("gammaln(x)", "1", -G),
])
def test_published_values(expression, at, want):
    assert value("derivative", expression, "--at", at) == float(want)  # correctly rounded


def test_values_themselves():
    assert value("jacobian", "[gamma(x), lgamma(x), digamma(x), erfc(10*x)]", "--at", "0.5") == [
        [float(mpmath.sqrt(PI) * (-G - 2 * LN2))], [float(-G - 2 * LN2)], [float(PI ** 2 / 2)],
        [float(-20 / mpmath.sqrt(PI) * mpmath.exp(-25))]]


def _psi(n: int, x: float, typed: bool = True) -> float:
    """ψ⁽ⁿ⁾ at the decimal as typed (repr(x)), or at the double x itself, rounded once."""
    with mpmath.workdps(200 + 3 * n):  # mpmath's psi cancels left of 0: enough digits for these points
        return float(mpmath.psi(n, mpmath.mpf(repr(x)) if typed else mpmath.mpf(x)))


@pytest.mark.parametrize(("n", "x"), [(0, 7.25), (1, 0.001), (2, -2.5), (5, -63.7), (20, -64.5), (20, 0.75),
                                      (60, 3.5), (99, -1.25)])
def test_high_orders_correctly_rounded(n, x):
    """d/dx polygamma(n, x) = polygamma(n + 1, x), printed correctly rounded at the typed point."""
    assert value("derivative", f"polygamma({n}, x)", "--at", repr(x)) == _psi(n + 1, x)


def test_the_twentieth_derivative_of_lgamma():
    assert value("derivative", "lgamma(x)", "--order", "20", "--at", "-64.5") == _psi(19, -64.5)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 30), st.one_of(st.floats(0.01, 200), st.floats(-200, -0.01)))
def test_numpy_form_against_mpmath(n, x):
    """The float64 implementation (the numeric path and --points use it) within a few ulps of mpmath, away
    from the zeros of ψ (where any float64 sum cancels) and the poles."""
    if x < 0 and abs(x - round(x)) < 1e-3:
        return
    want = _psi(n, x, typed=False)
    if n == 0 and abs(want) < 0.1:
        return
    got = float(registry._polygamma(n, x))
    assert got == pytest.approx(want, rel=64 * 2.0 ** -52)


def test_numeric_path_is_correctly_rounded():
    """More than 64 inputs: no formula, the engines in float64 and mpmath numbers."""
    points = [0.5 + 0.37 * k for k in range(70)]
    result = compute.gradient("sum(lgamma(x))", ["x=" + json.dumps(points)])
    assert result.value.tolist() == [_psi(0, p) for p in points]


def test_batch_points():
    result = runner.invoke(app, ["derivative", "gamma(x)", "--points", "-", "--format", "csv"],
                           input="1\n2\n0.5\n")
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in result.stdout.splitlines()[1:]]
    want = [-EULER, 1 - EULER, math.sqrt(math.pi) * (-EULER - 2 * math.log(2))]
    assert [float(row[-1]) for row in rows] == pytest.approx(want, rel=4e-16)


@pytest.mark.parametrize(("expression", "at"), [("gamma(x)", "0"), ("gamma(x)", "-2"), ("lgamma(x)", "-1"),
                                                ("digamma(x)", "0")])
def test_poles_are_not_finite(expression, at):
    result = run("derivative", expression, "--at", at)
    assert result.exit_code == 1
    assert "not finite" in result.output


@pytest.mark.parametrize(("expression", "message"), [
    ("polygamma(y, x)", "whole number from 0 to 100"),
    ("polygamma(1.5, x)", "whole number"),
    ("polygamma(101, x)", "from 0 to 100"),
    ("polygamma(-1, x)", "from 0 to 100"),
])
def test_polygamma_order_is_a_constant(expression, message):
    result = run("derivative", expression, "--wrt", "x", "--at", "1,2")
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def symbolic(*args: str) -> str:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["symbolic"]


def test_symbolic_forms():
    assert symbolic("derivative", "lgamma(x)") == "polygamma(0, x)"
    assert symbolic("derivative", "gamma(x)") == "gamma(x)*polygamma(0, x)"
    assert symbolic("derivative", "erfc(x)") == "-2*exp(-x**2)/sqrt(pi)"
    assert symbolic("derivative", "polygamma(3, x)") == "polygamma(4, x)"


def test_exact_values():
    result = run("derivative", "lgamma(x)", "--at", "1", "--exact", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["exact"] == "-EulerGamma"


def test_emitted_code_runs_at_a_pole_without_raising():
    source = run("derivative", "lgamma(x) + gamma(x)", "--emit", "numpy").stdout
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)  # our generated code, not user text
    with np.errstate(all="ignore"):
        assert math.isnan(namespace["derivative"](-2.0)) or math.isinf(namespace["derivative"](-2.0))
    assert namespace["derivative"](1.0) == pytest.approx(-2 * EULER, rel=1e-15)
