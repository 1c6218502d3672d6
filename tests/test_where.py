"""Comparisons (0/1), where(cond, a, b) with the derivative of the chosen branch, maximum and minimum."""

from __future__ import annotations

import numpy as np
import pytest

from jaccli import compute

X = np.array([-1.5, 0.25, 2.0, 3.0])


def _at(x=X):
    return [f"x={np.asarray(x).tolist()!r}"]


@pytest.mark.parametrize("symbol, ufunc", [("<", np.less), ("<=", np.less_equal), (">", np.greater),
                                           (">=", np.greater_equal), ("==", np.equal), ("!=", np.not_equal)])
def test_comparisons_are_numpys_as_numbers(symbol, ufunc):
    problem = compute.Problem(f"x {symbol} 2", _at())
    np.testing.assert_array_equal(problem.ad.value({"x": X[None]})[0], ufunc(X, 2).astype(float))


def test_leaky_relu_by_where_follows_the_chosen_branch():
    result = compute.jacobian("where(x > 0, x, 0.01*x)", _at())
    np.testing.assert_allclose(result.value, np.diag(np.where(X > 0, 1.0, 0.01)), rtol=1e-15)
    assert result.warnings == []


def test_huber_loss_gradient_by_hand():
    """Huber loss (scikit-learn's HuberRegressor, delta = 1): 0.5 r² inside |r| <= 1, |r| - 0.5 outside."""
    result = compute.gradient("sum(where(abs(x) <= 1, 0.5*x**2, abs(x) - 0.5))", _at())
    np.testing.assert_allclose(result.value, np.where(np.abs(X) <= 1, X, np.sign(X)), rtol=1e-15)


def test_a_point_on_the_boundary_is_flagged_like_abs_at_0(jaccli):
    for command in ("gradient", "jacobian", "hessian"):
        run = jaccli(command, "sum(where(x > 1, x**2, 2*x - 1))", "--at", "1,3", "-f", "json")
        assert run.code == 0 and any("non-differentiable point (comparison)" in w for w in run.json["warnings"])
    run = jaccli("gradient", "sum(where(x > 1, x**2, 2*x - 1))", "--at", "0.5,3", "-f", "json")
    assert run.json["warnings"] == []


def test_symbolic_where_is_a_piecewise_formula():
    result = compute.derivative("where(x > 0, x**2, -x)")
    assert str(result.symbolic) == "Piecewise((2*x, x > 0), (-1, True))"


def test_maximum_and_minimum_are_numpys_elementwise():
    problem = compute.Problem("maximum(x, 1) + minimum(x, [0, 0, 5, 5])", _at())
    want = np.maximum(X, 1) + np.minimum(X, [0, 0, 5, 5])
    np.testing.assert_array_equal(problem.ad.value({"x": X[None]})[0], want)
    result = compute.jacobian("maximum(x, 1)", _at())
    np.testing.assert_array_equal(result.value, np.diag((X > 1).astype(float)))


@pytest.mark.parametrize("expression, message", [
    ("1 < x < 2", "chained comparisons"),
    ("x is 1", "only the comparisons"),
    ("x in x", "only the comparisons"),
    ("where(x > 0, x)", "where() takes 3 arguments, got 2"),
    ("maximum(x)", "maximum() takes 2 arguments, got 1"),
])
def test_bad_comparisons_are_one_line_errors(jaccli, expression, message):
    run = jaccli("jacobian", expression, "--at", "1,2")
    assert run.code == 2 and message in run.stderr and "Traceback" not in run.stderr
