"""Constant arrays in expressions: inline literals, arange/eye/ones/zeros, concatenate, stack, reshape."""

from __future__ import annotations

import numpy as np
import pytest

from jaccli import compute

X = np.array([0.5, -1.0, 2.0])


def _jacobian(expression: str, x=X):
    return compute.jacobian(expression, [f"x={np.asarray(x).tolist()!r}"]).value


def _value(expression: str, x=X):
    problem = compute.Problem(expression, [f"x={np.asarray(x).tolist()!r}"])
    return problem.ad.value({"x": np.asarray(x)[None]})[0]


def test_inline_literals_are_values():
    np.testing.assert_array_equal(_jacobian("dot([1, 2, 3], x)").ravel(), [1, 2, 3])
    np.testing.assert_array_equal(_jacobian("[1, 2, 3] @ x").ravel(), [1, 2, 3])
    np.testing.assert_array_equal(_value("x - [1, 0, 2]"), X - [1, 0, 2])
    m = np.array([[1.0, 2.0, 0.5], [3.0, -4.0, 1.0]])
    np.testing.assert_array_equal(_jacobian("[[1, 2, 0.5], [3, -4, 1]] @ x"), m)


def test_a_top_level_list_is_still_several_outputs():
    assert _value("[x[0], x[1]]").tolist() == [0.5, -1.0]
    assert compute.jacobian("x*y, x+y", ["1", "2"]).shape == (2, 2)


@pytest.mark.parametrize("expression, want", [
    ("arange(3) * x", np.arange(3) * X),
    ("arange(1, 4) + x", np.arange(1, 4) + X),
    ("eye(3) @ x", X),
    ("ones(3) @ x", X.sum()),
    ("zeros(3) + x", X),
    ("ones((2, 3)) @ x", np.ones((2, 3)) @ X),
    ("concatenate([x, x[:1]])", np.concatenate([X, X[:1]])),
    ("concatenate([[1, 2], x])", np.concatenate([[1, 2], X])),
    ("stack([x, 2*x])", np.stack([X, 2 * X])),
    ("stack([x, 2*x], 1)", np.stack([X, 2 * X], 1)),
    ("stack([x, 2*x], -1)", np.stack([X, 2 * X], -1)),
    ("reshape(x, (3, 1))", X.reshape(3, 1)),
    ("reshape(stack([x, x]), (-1,))", np.stack([X, X]).reshape(-1)),
    ("concatenate([reshape(x, (1, 3)), reshape(2*x, (1, 3))], 1)",
     np.concatenate([X.reshape(1, 3), 2 * X.reshape(1, 3)], 1)),
])
def test_values_are_numpys(expression, want):
    np.testing.assert_allclose(_value(expression), want, rtol=1e-15)


def test_derivatives_of_joins_and_reshapes_scatter_back():
    np.testing.assert_array_equal(_jacobian("concatenate([x, x[:1]])"), np.eye(3)[[0, 1, 2, 0]])
    want = np.stack([np.eye(3), 2 * np.eye(3)], 1).reshape(6, 3)
    np.testing.assert_array_equal(_jacobian("stack([x, 2*x], 1)"), want)
    result = compute.hessian("sum(concatenate([x, x**2]) ** 2)", [f"x={X.tolist()!r}"], check=True)
    assert not result.failed
    np.testing.assert_allclose(result.value, np.diag(2 + 12 * X ** 2), rtol=1e-13)


@pytest.mark.parametrize("expression, message", [
    ("ones(10**9) * x[0]", "would have 1000000000 entries"),
    ("eye(100000) * x[0]", "100000×100000 would have 10000000000 entries"),
    ("arange(1e12) * x[0]", "would have 1000000000000 entries"),
    ("arange(x[0])", "arange needs constant numbers"),
    ("arange(0) + x[0]", "is empty"),
    ("arange(1, 2, 0) + x[0]", "step cannot be zero"),
    ("eye(2.5) + x[0]", "whole numbers"),
    ("zeros((0, 3)) + x[0]", "at least 1"),
    ("reshape(x, (2, 2))", "cannot reshape an array of shape 3 (3 entries) into shape 2×2 (4 entries)"),
    ("reshape(x, (-1, -1))", "at most one -1"),
    ("reshape(x, x)", "needs a constant shape"),
    ("concatenate(x)", "takes a list of arrays"),
    ("concatenate([x, x[0]])", "equal rank"),
    ("concatenate([x, x], 1)", "axis 1 is out of range"),
    ("stack([x, x[:2]])", "equal shapes"),
])
def test_bad_constant_arrays_are_refused_before_allocation(jaccli, expression, message):
    run = jaccli("jacobian", expression, "--at", f"x={X.tolist()!r}")
    assert run.code == 2 and message in run.stderr and "Traceback" not in run.stderr
