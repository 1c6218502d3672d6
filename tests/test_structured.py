"""Large inputs take the structured numeric path (autodiff): closed forms, no sympy, same interface."""

import json
import subprocess
import sys

import mpmath
import numpy as np
import pytest

from jaccli.cli import app

RNG = np.random.default_rng(7)


@pytest.fixture
def values(tmp_path):
    def write(array, name="values.txt"):
        path = tmp_path / name
        path.write_text("\n".join(map(repr, np.ravel(array).tolist())) + "\n")
        return f"@{path}"

    return write


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def run_json(runner, *args):
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_softmax_jacobian_of_300_logits(runner, values):
    z = RNG.normal(size=300)
    doc = run_json(runner, "jacobian", "softmax(x)", "--at", values(z))
    s = softmax(z)
    np.testing.assert_allclose(doc["value"], np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-300)
    assert doc["shape"] == [300, 300] and doc["symbolic"] is None
    assert len(doc["variables"]) == 300 and doc["variables"][299] == "x[299]"


def test_wide_elementwise_gradient(runner, values):
    x = RNG.uniform(-3, 3, size=10_000)
    doc = run_json(runner, "gradient", "sum(x**2 + sin(x))", "--at", values(x))
    with mpmath.workdps(40):  # 2x + cos x, which cancels near x = -0.45: float64 numpy is no reference there;
        # at each decimal as written (repr), which the numeric path's longdouble evaluation reads as typed
        want = np.array([float(2 * mpmath.mpf(repr(v)) + mpmath.cos(mpmath.mpf(repr(v)))) for v in x.tolist()])
    assert np.all(np.abs(np.array(doc["value"]) - want) <= 2 * np.spacing(np.abs(want)))


def test_big_vjp_of_softmax_in_linear_time(runner, values):
    z, v = RNG.normal(size=100_000), RNG.normal(size=100_000)
    doc = run_json(runner, "vjp", "softmax(x)", "--at", values(z, "z.txt"), "--v", values(v, "v.txt"))
    s = softmax(z)
    np.testing.assert_allclose(doc["value"], s * (v - s @ v), rtol=1e-9, atol=1e-20)


def test_jvp_with_several_array_variables(runner, values):
    x, y = RNG.normal(size=50), RNG.normal(size=50)
    t = RNG.normal(size=100)
    doc = run_json(runner, "jvp", "x*y + sin(x)", "--at", f"x={values(x, 'x.txt')}", "--at",
                   f"y={values(y, 'y.txt')}", "--v", values(t, "t.txt"))
    expected = (y + np.cos(x)) * t[:50] + x * t[50:]
    np.testing.assert_allclose(doc["value"], expected, rtol=1e-14)


def test_kinks_are_named_on_the_numeric_path(runner, values):
    x = np.linspace(-1, 1, 101)  # x[50] == 0
    result = runner.invoke(app, ["gradient", "sum(relu(x))", "--at", values(x)])
    assert result.exit_code == 0
    assert "non-differentiable point (relu)" in result.stderr
    grad = np.array(result.stdout.split(), dtype=float)
    assert grad[50] == 0.5 and grad[:50].sum() == 0 and grad[51:].sum() == 50


def test_numeric_path_does_not_import_sympy(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text(",".join(["0.5"] * 1000))
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "jaccli", "gradient", "sum(x**2 + sin(x))",
                          "--at", f"@{path}", "--format", "json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert json.loads(out.stdout)["value"][0] == pytest.approx(1 + np.cos(0.5), rel=1e-15)
    assert "sympy" not in out.stderr


def test_check_works_on_the_numeric_path_too(runner, values):
    result = runner.invoke(app, ["gradient", "sum(sin(x)*x)", "--at", values(np.linspace(0, 1, 70)), "--check"])
    assert result.exit_code == 0
    assert "Check: agrees" in result.stderr


def test_derivative_at_many_points_is_one_forward_pass(runner, values):
    x = np.linspace(-3, 3, 5000)
    doc = run_json(runner, "derivative", "sin(x)*x + exp(-x**2)", "--at", values(x))
    np.testing.assert_allclose(doc["value"], np.cos(x) * x + np.sin(x) - 2 * x * np.exp(-x**2), rtol=1e-13,
                               atol=1e-15)
    assert doc["symbolic"] is None


def test_derivative_at_many_points_refuses_mixing_entries(runner, values):
    result = runner.invoke(app, ["derivative", "x*sum(x)", "--at", values(np.ones(100))])
    assert result.exit_code == 2 and "use 'jaccli gradient'" in result.stderr
    doc = run_json(runner, "derivative", "x*sum(y)", "--wrt", "x", "--at", f"x={values(np.ones(100), 'x.txt')}",
                   "--at", "y=[1,2]")
    assert doc["value"] == [3.0] * 100  # sum(y) does not mix entries of x


def test_check_of_a_derivative_at_many_points(runner, values):
    result = runner.invoke(app, ["derivative", "x*sin(x)", "--at", values(np.linspace(0.1, 2, 80)), "--check",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True
