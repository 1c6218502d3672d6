"""`@` with np.matmul's rules, `.T` and transpose(): values as numpy's, derivatives against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from jaccli import compute

RNG = np.random.default_rng(7)


def _at(**values) -> list[str]:
    return [f"{name}={np.asarray(value).tolist()!r}" for name, value in values.items()]


SHAPES = [  # (shape of a, shape of b): every case of np.matmul
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
    ((4, 2, 3), (3, 2)), ((2, 3), (4, 3, 2)), ((4, 2, 3), (3,)), ((3,), (4, 3, 2)), ((5, 1, 2, 3), (4, 3, 2)),
]


@pytest.mark.parametrize("sa, sb", SHAPES)
def test_matmul_value_is_numpys(sa, sb):
    a, b = RNG.normal(size=sa), RNG.normal(size=sb)
    problem = compute.Problem("a @ b", _at(a=a, b=b))
    env = {"a": a[None], "b": b[None]}
    value = problem.ad.value(env)[0]
    assert value.shape == np.matmul(a, b).shape
    np.testing.assert_allclose(value, np.matmul(a, b), rtol=1e-14)


@pytest.mark.parametrize("sa, sb", SHAPES)
def test_matmul_jacobian_forward_and_reverse_against_the_linear_map(sa, sb):
    """f = a @ b is linear in each operand: its Jacobian by a is matmul(e_j, b) for each unit input e_j."""
    a, b = RNG.normal(size=sa), RNG.normal(size=sb)
    for wrt, shape in (("a", sa), ("b", sb)):
        columns = []
        for j in range(int(np.prod(shape))):
            unit = np.zeros(int(np.prod(shape)))
            unit[j] = 1
            unit = unit.reshape(shape)
            columns.append(np.ravel(np.matmul(unit, b) if wrt == "a" else np.matmul(a, unit)))
        want = np.array(columns).T
        problem = compute.Problem("a @ b", _at(a=a, b=b), wrt=[wrt])
        env = {"a": a[None], "b": b[None]}
        env.pop(wrt)
        env[wrt] = (a if wrt == "a" else b)[None]
        (forward,), _ = problem.ad.forward_columns([problem.root], {**env, **problem.fixed})
        reverse, _ = problem.ad.reverse_rows({**env, **problem.fixed})
        np.testing.assert_allclose(forward.reshape(want.shape), want, atol=1e-14)
        np.testing.assert_allclose(reverse.reshape(want.shape), want, atol=1e-14)


def test_quadratic_form_gradient_and_hessian_are_the_cookbooks():
    """The Matrix Cookbook (eq. 81): ∂(xᵀAx)/∂x = (A + Aᵀ)x, and the Hessian is A + Aᵀ."""
    a, x = RNG.normal(size=(3, 3)), RNG.normal(size=3)
    at = _at(x=x, A=a)
    np.testing.assert_allclose(compute.gradient("x @ A @ x", at, wrt=["x"]).value, (a + a.T) @ x, rtol=1e-13)
    np.testing.assert_allclose(compute.hessian("x.T @ A @ x", at, wrt=["x"]).value, a + a.T, rtol=1e-13)


def test_trace_like_gradient_by_a_matrix():
    """∂ sum(A @ B)/∂A = 1 Bᵀ (every row the row sums of B), Cookbook-style by hand."""
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))
    result = compute.gradient("sum(A @ B)", _at(A=a, B=b), wrt=["A"])
    np.testing.assert_allclose(result.value, np.ones((2, 4)) @ b.T, rtol=1e-13)


def test_linear_layer_jacobian_by_w_is_rows_by_output_columns_w_row_major():
    w, x = RNG.normal(size=(2, 3)), RNG.normal(size=3)
    result = compute.jacobian("W @ x", _at(W=w, x=x), wrt=["W"])
    assert result.variables[:4] == ["W[0, 0]", "W[0, 1]", "W[0, 2]", "W[1, 0]"]
    want = np.zeros((2, 6))
    want[0, :3] = x
    want[1, 3:] = x
    np.testing.assert_allclose(result.value, want, rtol=1e-14)


def test_transpose_and_dot_t_are_numpys():
    a = RNG.normal(size=(2, 3, 4))
    for text in ("a.T", "transpose(a)"):
        problem = compute.Problem(text, _at(a=a))
        np.testing.assert_array_equal(problem.ad.value({"a": a[None]})[0], a.T)
    x = RNG.normal(size=3)
    assert compute.Problem("x.T", _at(x=x)).root.shape == (3,)  # a vector's .T is itself, as in numpy
    result = compute.jacobian("sum((A.T @ A) * B)", _at(A=RNG.normal(size=(2, 2)), B=np.eye(2)), wrt=["A"])
    assert result.shape == (1, 4)


def test_symbolic_matmul_and_a_higher_derivative():
    result = compute.hessian("(x @ A @ x)**2", _at(x=[1.0, 2.0], A=[[1.0, 2.0], [0.0, 1.0]]), wrt=["x"], check=True)
    assert not result.failed
    x, a = np.array([1.0, 2.0]), np.array([[1.0, 2.0], [0.0, 1.0]])
    s = a + a.T
    q = x @ a @ x
    np.testing.assert_allclose(result.value, 2 * np.outer(s @ x, s @ x) + 2 * q * s, rtol=1e-12)


@pytest.mark.parametrize("expression, at, message", [
    ("x @ 2", ["x=1,2"], "'@' needs arrays, got shapes 2 and scalar"),
    ("A @ x", ["A=[[1,2,3]]", "x=1,2"], "shapes 1×3 and 2 do not match in '@'"),
    ("A @ B", ["A=[[1,2],[3,4]]", "B=[[1,2,3]]"], "second-to-last axis 1"),
])
def test_matmul_shape_errors_name_both_shapes(jaccli, expression, at, message):
    run = jaccli("jacobian", expression, *[a for spec in at for a in ("--at", spec)])
    assert run.code == 2 and message in run.stderr and "Traceback" not in run.stderr
    assert "dot(a, b)" not in run.stderr
