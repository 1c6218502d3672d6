"""The structured numeric path (autodiff) against the symbolic path and finite differences.

Two independent implementations of the same derivatives: sympy differentiates the
expanded expression; autodiff applies each node's rule to numbers. They must agree.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaccli import autodiff, compute, points
from jaccli.errors import LimitError
from jaccli.parsing import parse


def graph(expression, at):
    function = parse(expression)
    values = {name: v.array for name, v in points.bind(function.variables, at).items()}
    return autodiff.Graph(function.tree, values, function.variables)


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
    np.testing.assert_allclose(graph(expression, at).jacobian(), compute.jacobian(expression, at).value,
                               rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("expression, at", CASES)
def test_jvp_and_vjp_are_products_with_the_jacobian(expression, at):
    g = graph(expression, at)
    jac = g.jacobian()
    rng = np.random.default_rng(1)
    tangents = {name: rng.normal(size=g.point[name].shape) for name in g.variables}
    flat_t = np.concatenate([tangents[name].ravel() for name in g.variables])
    np.testing.assert_allclose(g.jvp(tangents).ravel(), jac @ flat_t, rtol=1e-12, atol=1e-14)
    v = rng.normal(size=(1,) + g.output.shape)
    grads = g.vjp(v)
    flat_vjp = np.concatenate([grads[name].reshape(-1) for name in g.variables])
    np.testing.assert_allclose(flat_vjp, v.ravel() @ jac, rtol=1e-12, atol=1e-14)


def test_kinks_are_recorded():
    g = graph("relu(x) + abs(x)", ["0"])
    assert g.jacobian().tolist() == [[0.5]]  # relu'(0) = step(0) = 1/2, abs'(0) = sign(0) = 0
    assert {"relu", "abs"} <= g.tape.kinks
    g = graph("max(x, y)", ["1,1"])
    assert g.jacobian().tolist() == [[0.5, 0.5]] and "max" in g.tape.kinks


def test_softmax_tiny_diagonal_is_exact():
    # 1 - s_1 for logits (37.42994775023705, 0) is 2^-54 exactly; s_1 (1 - s_1) rounds it to 0
    jac = graph("softmax(x)", ["37.42994775023705,0"]).jacobian()
    assert jac[0, 0] == pytest.approx(5.5511151231257636e-17, rel=1e-14)


def test_dense_jacobian_limit_suggests_products(monkeypatch):
    monkeypatch.setattr(autodiff, "MAX_DENSE_ENTRIES", 99)
    with pytest.raises(LimitError, match="vjp"):
        graph("x*2", [",".join(["1"] * 10)]).jacobian()


def test_large_softmax_jacobian_is_structured():
    z = np.random.default_rng(0).normal(size=1000)
    g = autodiff.Graph(parse("softmax(x)").tree, {"x": z}, ("x",))
    jac = g.jacobian()
    s = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(jac, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_closed_form_jacobian_equals_the_vjps_of_unit_vectors(name):
    z = np.random.default_rng(2).normal(size=300) * 3
    g = autodiff.Graph(parse(f"{name}(x)").tree, {"x": z}, ("x",))
    rows = g.vjp(np.eye(300))["x"]  # row i is e_iᵀ J: the general reverse-mode path
    np.testing.assert_allclose(g.jacobian(), rows, rtol=1e-12, atol=1e-18)
    assert g._closed_form() is not None
    assert autodiff.Graph(parse(f"{name}(2*x)").tree, {"x": z}, ("x",))._closed_form() is None


ELEMENTWISE = ["sin", "cos", "tanh", "sigmoid", "softplus", "atan", "exp"]
leaf = st.sampled_from(["x", "y", "x[0]", "x[2]", "(1.5)", "(-2)"])


def extend(children):
    return (st.tuples(st.sampled_from(ELEMENTWISE), children).map(lambda t: f"{t[0]}({t[1]})")
            | st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
            | st.tuples(st.sampled_from(["sum", "mean", "logsumexp", "norm"]), children).map(
                lambda t: f"{t[0]}({t[1]} * x)")
            | children.map(lambda c: f"softmax(x * {c})"))


moderate = st.floats(-2, 2).filter(lambda v: v == 0 or abs(v) > 1e-100)  # no underflow to 0 in squares


@given(st.recursive(leaf, extend, max_leaves=5), st.lists(moderate, min_size=3, max_size=3), moderate)
def test_random_array_expressions_agree_with_the_symbolic_path(expression, x, y):
    at = [f"x=[{', '.join(map(repr, x))}]", f"y={y!r}"]
    expected = compute.jacobian(expression, at, ["x", "y"]).value
    function = parse(expression, ["x", "y"])
    got = autodiff.Graph(function.tree, {"x": np.array(x), "y": np.array(y)}, ("x", "y")).jacobian()
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-13, err_msg=expression)
