"""The numeric derivatives (the IR engines of ``ad``) against sympy's, evaluated independently.

Two independent implementations of the same derivatives: sympy differentiates the
expanded expression and evaluates it with evalf; ``ad`` applies each operation's rule
to numbers. They must agree; forward and reverse mode must agree with each other.
"""

import numpy as np
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st

from jaccli import compute, limits
from jaccli.errors import LimitError

CASES = [
    ("x*2", ["1,1"]),
    ("softmax(x)", ["-1.3,0.5,2.1"]),
    ("softmax(x)", ["[[1,2],[3,5]]"]),
    ("log_softmax(x)", ["0.5,-1,2"]),
    ("[r*cos(t), r*sin(t)]", ["2,0.5"]),
    ("sum(x**2 + sin(x))", ["1,2,3"]),
    ("prod(x)", ["1,0,3"]),
    ("prod(x)", ["0,0,3"]),
    ("dot(x, x) + norm(x)", ["1,2,3"]),
    ("x[0]*x[1]**3 + x[-1]", ["2,3,4"]),
    ("a*x", ["a=3", "x=[1,2]"]),
    ("mean(3*(x+2)**2)", ["[[1,1],[1,1]]"]),
    ("logsumexp(x)*y", ["x=[1,2]", "y=3"]),
    ("x**y", ["2,3"]),
    ("log(x, y)", ["8,2"]),
    ("atan2(y, x)", ["1,2"]),
    ("[x, 2]", ["3"]),
    ("sigmoid(x) + softplus(x) + relu(x) + abs(x) + erf(x)", ["0.3"]),
    ("max(x) + min(x)", ["3,1,2"]),
    ("x*y + [1, 2]", ["x=[[1,2],[3,4]]", "y=[5,6]"]),
    ("tan(x) + asin(x/2) + acos(x/3) + atan(x) + sinh(x) + cosh(x) + tanh(x)", ["0.4"]),
    ("asinh(x) + acosh(x + 2) + atanh(x/2) + exp(x) + log2(x) + log10(x) + sqrt(x)", ["0.4"]),
    ("softmax(2*x) * sum(x) / (1 + x**2)", ["0.1,0.2,-0.7"]),
    ("x", ["1,2"]),
    ("dot(x, [1, 2])", ["3,4"]),
]


@pytest.mark.parametrize("expression, at", CASES)
def test_jacobian_agrees_with_the_symbolic_path(expression, at):
    np.testing.assert_allclose(compute.jacobian(expression, at).value, reference.jacobian(expression, None, at),
                               rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("expression, at", CASES)
def test_jvp_and_vjp_are_products_with_the_jacobian(expression, at):
    jac = compute.jacobian(expression, at).value
    rng = np.random.default_rng(1)
    t = rng.normal(size=jac.shape[1])
    v = rng.normal(size=jac.shape[0])
    np.testing.assert_allclose(compute.jvp(expression, at, ",".join(repr(float(e)) for e in t)).value.ravel(), jac @ t,
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(compute.vjp(expression, at, ",".join(repr(float(e)) for e in v)).value.ravel(), v @ jac,
                               rtol=1e-12, atol=1e-14)


def test_kinks_are_recorded():
    result = compute.jacobian("relu(x) + abs(x)", ["0"])
    assert result.value.tolist() == [[0.5]]  # relu'(0) = step(0) = 1/2, abs'(0) = sign(0) = 0
    assert "abs, relu" in result.warnings[0]
    result = compute.jacobian("max(x, y)", ["1,1"])
    assert result.value.tolist() == [[0.5, 0.5]] and "max" in result.warnings[0]


def test_softmax_tiny_diagonal_is_exact():
    # 1 - s_1 for logits (37.42994775023705, 0) is 2^-54 exactly; s_1 (1 - s_1) rounds it to 0
    jac = compute.jacobian("softmax(x)", ["37.42994775023705,0"]).value
    assert jac[0, 0] == pytest.approx(5.5511151231257636e-17, rel=1e-14)


def test_dense_jacobian_limit_suggests_products(monkeypatch):
    monkeypatch.setattr(limits, "MAX_DENSE_ENTRIES", 99)
    with pytest.raises(LimitError, match="vjp"):
        compute.jacobian("x*2", [",".join(["1"] * 10)])


def _vector(z) -> list[str]:
    return [",".join(repr(float(e)) for e in z)]


def test_large_softmax_jacobian_is_structured():
    z = np.random.default_rng(0).normal(size=1000)
    jac = compute.jacobian("softmax(x)", _vector(z)).value
    s = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(jac, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_forward_and_reverse_mode_agree(name):
    z = np.random.default_rng(2).normal(size=300) * 3
    problem = compute.Problem(f"{name}(x)", _vector(z))
    env = {"x": z[None]}
    rows, _ = problem.ad.reverse_rows(env)  # row i is e_iᵀ J: the VJPs of unit vectors
    (columns,), _ = problem.ad.forward_columns([problem.root], env)  # column j is J e_j
    np.testing.assert_allclose(rows[0], columns[0], rtol=1e-12, atol=1e-18)


ELEMENTWISE = ["sin", "cos", "tanh", "sigmoid", "softplus", "atan", "exp"]
leaf = st.sampled_from(["x", "y", "x[0]", "x[2]", "(1.5)", "(-2)"])


def extend(children):
    return (st.tuples(st.sampled_from(ELEMENTWISE), children).map(lambda t: f"{t[0]}({t[1]})")
            | st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
            | st.tuples(st.sampled_from(["sum", "mean", "logsumexp", "norm"]), children).map(
                lambda t: f"{t[0]}({t[1]} * x)")
            | children.map(lambda c: f"softmax(x * {c})"))


moderate = st.floats(-2, 2).filter(lambda v: v == 0 or abs(v) > 1e-100)  # no underflow to 0 in squares


@settings(max_examples=40, deadline=None)  # each example runs sympy: 200 took ~30-60 s
@given(st.recursive(leaf, extend, max_leaves=5), st.lists(moderate, min_size=3, max_size=3), moderate)
def test_random_array_expressions_agree_with_the_symbolic_path(expression, x, y):
    at = [f"x=[{', '.join(map(repr, x))}]", f"y={y!r}"]
    got = compute.jacobian(expression, at, ["x", "y"]).value
    expected = reference.jacobian(expression, ["x", "y"], at)
    # norm is not differentiable where its argument is 0: there the engines give nan (as JAX does), while
    # sympy may have simplified the norm away (norm(u) - norm(u) is 0); compare everywhere else
    kink = "norm" in expression and (y == 0 or not any(x)) and np.isnan(got).any()
    if not kink:
        np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-13, err_msg=expression)
