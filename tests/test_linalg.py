"""Matrix functions and reductions along an axis, against The Matrix Cookbook's closed forms and numpy."""

from __future__ import annotations

import re

import numpy as np
import pytest

from jaccli import compute

RNG = np.random.default_rng(11)
A = RNG.normal(size=(3, 3)) + 3 * np.eye(3)
B = RNG.normal(size=(2, 3))
V = RNG.normal(size=3)


def _at(**values) -> list[str]:
    return [f"{k}={np.asarray(v).tolist()!r}" for k, v in values.items()]


def _value(expression: str, **values):
    values = {k: v for k, v in values.items() if re.search(rf"\b{k}\b", expression)}
    problem = compute.Problem(expression, _at(**values))
    return problem.ad.value({k: np.asarray(v)[None] for k, v in values.items()})[0]


@pytest.mark.parametrize("expression, want", [
    ("det(A)", np.linalg.det(A)), ("logdet(A)", np.linalg.slogdet(A)[1]), ("inv(A)", np.linalg.inv(A)),
    ("solve(A, v)", np.linalg.solve(A, V)), ("solve(A, B.T)", np.linalg.solve(A, B.T)), ("trace(A)", np.trace(A)),
    ("diag(A)", np.diag(A)), ("diag(v)", np.diag(V)), ("outer(v, B)", np.outer(V, B)), ("var(B)", np.var(B)),
    ("std(B)", np.std(B)), ("var(B, 0)", np.var(B, 0)), ("std(B, axis=-1)", np.std(B, axis=-1)),
    ("cumsum(B)", np.cumsum(B)), ("sum(B, 0)", np.sum(B, 0)), ("sum(B, axis=-1)", np.sum(B, axis=-1)),
    ("mean(B, 1)", np.mean(B, 1)), ("mean(B, axis=-2)", np.mean(B, axis=-2)),
])
def test_values_are_numpys(expression, want):
    np.testing.assert_allclose(_value(expression, A=A, B=B, v=V), want, rtol=1e-12, atol=1e-14)


def test_gradient_of_det_is_det_times_inverse_transposed():
    """The Matrix Cookbook (49): ∂det(X)/∂X = det(X) X⁻ᵀ."""
    result = compute.gradient("det(A)", _at(A=A))
    np.testing.assert_allclose(result.value, np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-12)


def test_gradient_of_logdet_is_the_inverse_transposed():
    """The Matrix Cookbook (57): ∂ln|det(X)|/∂X = X⁻ᵀ."""
    result = compute.gradient("logdet(A)", _at(A=A))
    np.testing.assert_allclose(result.value, np.linalg.inv(A).T, rtol=1e-12)


def test_jacobian_of_inv_is_minus_inv_da_inv():
    """The Matrix Cookbook (59): ∂X⁻¹ = −X⁻¹ (∂X) X⁻¹, entry by entry."""
    inv = np.linalg.inv(A)
    result = compute.jacobian("inv(A)", _at(A=A))
    want = -np.einsum("ik,lj->ijkl", inv, inv).reshape(9, 9)
    np.testing.assert_allclose(result.value, want, rtol=1e-11, atol=1e-14)


def test_gradient_of_a_bilinear_form_by_the_matrix():
    """The Matrix Cookbook (70): ∂(aᵀXb)/∂X = a bᵀ."""
    a, b = RNG.normal(size=3), RNG.normal(size=3)
    result = compute.gradient("a @ X @ b", _at(a=a, X=A, b=b), wrt=["X"])
    np.testing.assert_allclose(result.value, np.outer(a, b), rtol=1e-13)


def test_trace_gradients():
    """The Matrix Cookbook (100, 103): ∂tr(X)/∂X = I, ∂tr(AX)/∂X = Aᵀ."""
    np.testing.assert_allclose(compute.gradient("trace(X)", _at(X=A)).value, np.eye(3))
    np.testing.assert_allclose(compute.gradient("trace(M @ X)", _at(M=B.T @ B, X=A), wrt=["X"]).value,
                               (B.T @ B).T, rtol=1e-13)


def test_second_derivatives_of_matrix_functions_agree_with_complex_step():
    for expression in ("det(A)", "logdet(A)", "sum(inv(A))", "sum(solve(A, v))", "var(v) + std(v)"):
        values = {"A": A, "v": V} if "v)" in expression and "A" in expression else {"A": A} if "A" in expression \
            else {"v": V}
        result = compute.hessian(expression, _at(**values), check=True)
        assert not result.failed, expression


def test_least_squares_gradient():
    """∂‖Xw − y‖²/∂w = 2Xᵀ(Xw − y)."""
    x, w, y = RNG.normal(size=(5, 3)), RNG.normal(size=3), RNG.normal(size=5)
    result = compute.gradient("sum((X @ w - y)**2)", _at(X=x, w=w, y=y), wrt=["w"])
    np.testing.assert_allclose(result.value, 2 * x.T @ (x @ w - y), rtol=1e-12)


@pytest.mark.parametrize("expression, message", [
    ("det(v)", "det() needs a square matrix"),
    ("inv(B)", "inv() needs a square matrix"),
    ("trace(B)", "trace() needs a square matrix"),
    ("diag(B)", "diag needs a vector or a square matrix"),
    ("sum(B, 2)", "sum: axis 2 is out of range for 2 dimensions"),
    ("sum(B, v)", "needs constant numbers"),
    ("sum(B, keepdims=1)", "takes no keyword arguments"),
])
def test_bad_calls_are_one_line_errors(jaccli, expression, message):
    used = {k: v for k, v in {"A": A, "B": B, "v": V}.items() if re.search(rf"\b{k}\b", expression)}
    run = jaccli("jacobian", expression, *[a for spec in _at(**used) for a in ("--at", spec)])
    assert run.code == 2 and message in run.stderr and "Traceback" not in run.stderr
