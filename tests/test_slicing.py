"""Indexing and slicing of any expression with constant keys: numpy's values, the scatter back as derivative."""

from __future__ import annotations

import numpy as np
import pytest

from jaccli import compute

X = np.array([1.5, 0.5, -1.0, 2.0, 0.25])
A = np.arange(12.0).reshape(3, 4) / 7 - 0.5


def _value(expression: str, **values):
    problem = compute.Problem(expression, [f"{k}={np.asarray(v).tolist()!r}" for k, v in values.items()])
    return problem.ad.value({k: np.asarray(v)[None] for k, v in values.items()})[0]


@pytest.mark.parametrize("key", ["1:", ":-1", "::2", "::-1", "3:0:-2", "-2:", "1:4:2", "-1", "-5", "2"])
def test_vector_slices_are_numpys(key):
    np.testing.assert_array_equal(_value(f"x[{key}]", x=X), eval(f"X[{key}]"))  # noqa: S307 - our own key text


@pytest.mark.parametrize("key", [":, 0", "1:3, 1:", "-1", ":, ::-1", "::2, -1", "1, 1:3", ":, 1:2"])
def test_matrix_slices_are_numpys(key):
    np.testing.assert_array_equal(_value(f"A[{key}]", A=A), eval(f"A[{key}]"))  # noqa: S307 - our own key text


def test_the_jacobian_of_a_slice_is_the_rows_of_the_identity():
    for key, rows in (("1:", [1, 2, 3, 4]), ("::-1", [4, 3, 2, 1, 0]), ("::2", [0, 2, 4]), ("-2", [3])):
        result = compute.jacobian(f"x[{key}]", [f"x={X.tolist()!r}"])
        np.testing.assert_array_equal(result.value, np.eye(5)[rows])


def test_rosenbrock_in_slicing_form_has_the_closed_form_gradient():
    """The extended Rosenbrock function (SciPy's rosen), gradient by hand (rosen_der)."""
    x = np.array([1.5, 0.5, -1.0, 2.0, 0.3, -0.7])
    grad = np.zeros_like(x)
    grad[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    grad[1:] += 200 * (x[1:] - x[:-1] ** 2)
    result = compute.gradient("sum(100*(x[1:]-x[:-1]**2)**2 + (1-x[:-1])**2)", [f"x={x.tolist()!r}"])
    np.testing.assert_allclose(result.value, grad, rtol=1e-13)
    result = compute.hessian("sum(100*(x[1:]-x[:-1]**2)**2 + (1-x[:-1])**2)", [f"x={x.tolist()!r}"], check=True)
    assert not result.failed


def test_a_result_can_be_indexed():
    z = np.array([1.0, 2.0, 3.0])
    s = np.exp(z) / np.exp(z).sum()
    result = compute.jacobian("log_softmax(z)[2]", ["z=1,2,3"])
    np.testing.assert_allclose(result.value.ravel(), np.eye(3)[2] - s, rtol=1e-14)
    result = compute.gradient("(A @ x)[0]", ["A=[[1,2],[3,4]]", "x=5,6"], wrt=["x"])
    np.testing.assert_array_equal(result.value, [1.0, 2.0])


def test_slices_in_symbolic_results():
    result = compute.gradient("sum(A[1:, :1])", shapes={"A": (2, 2)})
    assert [str(e) for e in result.symbolic.flat] == ["0", "0", "1", "0"]


@pytest.mark.parametrize("expression, message", [
    ("x[1:n]", "slice bounds must be constant whole numbers"),
    ("x[y]", "an index must be a constant whole number"),
    ("x[7:]", "the slice 7: of axis 0 (5 entries) is empty"),
    ("x[::0]", "slice step cannot be zero"),
    ("x[1:, 0]", "2 indices for an array of shape 5"),
    ("x[:, 9]", "2 indices for an array of shape 5"),
    ("(x*2)[5]", "out of range"),
])
def test_bad_keys_are_one_line_errors(jaccli, expression, message):
    run = jaccli("jacobian", expression, "--at", f"x={X.tolist()!r}")
    assert run.code == 2 and message in run.stderr and "Traceback" not in run.stderr
