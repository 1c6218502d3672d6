"""vjp, jvp and chain against the core Jacobian, closed forms and central finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from jaccli import compute

CASES = [  # expression, point, numpy version of f (flat input -> flat output)
    ("x*1024", "0.3,-0.2,0.9", lambda x: x * 1024),
    ("sin(x)*exp(x)", "0.1,0.7", lambda x: np.sin(x) * np.exp(x)),
    ("[x**2*y, sin(y), x/y]", "1.5,0.4", lambda p: np.array([p[0] ** 2 * p[1], np.sin(p[1]), p[0] / p[1]])),
    ("softmax(x)", "1.4336,0.6889,-0.8934", lambda x: np.exp(x) / np.exp(x).sum()),
    ("sum(x**3)", "[[1, 2], [3, -1]]", lambda x: np.array([np.sum(x**3)])),
    ("x*x[0]", "2,3,5", lambda x: x * x[0]),
]


def central_jacobian(f, x, h=1e-6):
    x = np.asarray(x, dtype=float).ravel()
    columns = [(np.ravel(f(x + h * e)) - np.ravel(f(x - h * e))) / (2 * h) for e in np.eye(x.size)]
    return np.array(columns).T


def point(text):
    values = [float(v) for v in text.replace("[", "").replace("]", "").split(",")]
    return np.array(values)


@pytest.mark.parametrize("expression, at, f", CASES)
def test_vjp_is_v_transpose_j(jaccli, expression, at, f):
    jac = compute.jacobian(expression, [at]).value
    rng = np.random.default_rng(len(expression))
    v = rng.normal(size=jac.shape[0])
    run = jaccli("vjp", expression, "--at", at, "--v", ",".join(repr(float(x)) for x in v), "--format", "json")
    assert run.code == 0, run.stderr
    value = np.ravel(run.json["value"])
    np.testing.assert_allclose(value, v @ jac, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(value, v @ central_jacobian(f, point(at)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("expression, at, f", CASES)
def test_jvp_is_j_v(jaccli, expression, at, f):
    jac = compute.jacobian(expression, [at]).value
    rng = np.random.default_rng(7 + len(expression))
    v = rng.normal(size=jac.shape[1])
    run = jaccli("jvp", expression, "--at", at, "--v", ",".join(repr(float(x)) for x in v), "--format", "json")
    assert run.code == 0, run.stderr
    value = np.ravel(run.json["value"])
    np.testing.assert_allclose(value, jac @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(value, central_jacobian(f, point(at)) @ v, rtol=1e-6, atol=1e-6)


def test_vjp_is_shaped_like_the_input_and_jvp_like_the_output(jaccli):
    vjp = jaccli("vjp", "x**2", "--at", "[[1, 2], [3, 4]]", "--v", "[[1, 0], [0, 1]]", "--format", "json").json
    assert vjp["value"] == [[2, 0], [0, 8]]
    jvp = jaccli("jvp", "[x*y, x+y]", "--at", "2,3", "--v", "1,0", "--format", "json").json
    assert jvp["value"] == [3, 1]  # d(xy)/dx = y, d(x+y)/dx = 1


def test_v_from_stdin(jaccli):
    run = jaccli("vjp", "x*1024", "--at", "1,2,3", "--v", "-", "--format", "json", input="0.5 1 2")
    assert run.json["value"] == [512, 1024, 2048]


def test_vjp_of_a_user_variable_named_v_is_not_confused_with_the_vector(jaccli):
    run = jaccli("vjp", "v**2", "--at", "3", "--v", "10", "--format", "json")
    assert run.json["value"] == 60


@pytest.mark.parametrize("args, message", [
    (["vjp", "x*1024", "--at", "1,2,3", "--v", "1,2"], "--v has shape 2 (2 entries)"),
    (["vjp", "x*1024", "--at", "1,2,3", "--v", "1,2"], "shape 3 (3 entries)"),
    (["jvp", "[x*y, x+y]", "--at", "2,3", "--v", "1,2,3"], "one entry per input: shape 2"),
    (["jvp", "x**2", "--at", "[[1, 2], [3, 4]]", "--v", "[[1, 2, 3]]"], "shape 2×2"),
    (["vjp", "x*2", "--at", "1"], "Missing option '--v'"),
    (["vjp", "x*2", "--at", "1", "--v", "nan"], "not a finite number"),
    (["chain", "x*2", "y", "--at", "1,1"], "G must be a scalar function"),
    (["chain", "x*2", "a*b", "--at", "1"], "--var"),
    (["chain", "x*2", "y+z", "--at", "1", "--var", "y"], "also uses z"),
    (["chain", "x*2", "sum(y)"], "needs a point"),
])
def test_errors_exit_2_with_one_line(jaccli, args, message):
    run = jaccli(*args)
    assert run.code == 2
    assert run.stderr.startswith("Error: ")
    assert message in run.stderr
    assert "Traceback" not in run.stderr + run.stdout


# --- chain --------------------------------------------------------------------------------------

CHAINS = [  # F, G, point, closed form of grad l at the point
    ("x*2", "sum(y)", "1,1", lambda x: np.full_like(x, 2.0)),
    ("x*2", "sum(y)", "[[1, 1], [1, 1]]", lambda x: np.full_like(x, 2.0)),
    ("sin(x)", "sum(y**2)", "0.3,1.1,-2", lambda x: 2 * np.sin(x) * np.cos(x)),
    ("softmax(x)", "sum(2*y)", "1.4336,0.6889,-0.8934", lambda x: np.zeros_like(x)),
    ("x**2", "log(y)", "3", lambda x: 2 / x),  # scalar F, scalar G: (log x²)' = 2/x
    ("[x[0]*x[1], x[0]+x[1]]", "y[0]*y[1]**2", "2,3", lambda x: np.array(
        [x[1] * (x[0] + x[1]) ** 2 + 2 * x[0] * x[1] * (x[0] + x[1]),
         x[0] * (x[0] + x[1]) ** 2 + 2 * x[0] * x[1] * (x[0] + x[1])])),
]


@pytest.mark.parametrize("f, g, at, grad", CHAINS)
def test_chain_equals_the_closed_form_gradient(jaccli, f, g, at, grad):
    run = jaccli("chain", f, g, "--at", at, "--format", "json")
    assert run.code == 0, run.stderr
    doc = run.json
    x = np.array(doc["point"]).reshape(np.shape(doc["value"]))
    np.testing.assert_allclose(doc["value"], grad(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(doc["direct_gradient"], grad(x), rtol=1e-12, atol=1e-15)
    assert doc["properties"]["equals_direct_gradient"]["holds"]


def test_chain_json_keys_and_parts(jaccli):
    doc = jaccli("chain", "x*2", "sum(y)", "--at", "1,1", "--format", "json").json
    assert doc["jacobian_f"] == [[2, 0], [0, 2]]
    assert doc["grad_g"] == [1, 1]
    assert doc["value"] == [2, 2]


def test_chain_with_a_named_variable(jaccli):
    doc = jaccli("chain", "x+1", "sum(u*u)", "--at", "1,2", "--var", "u", "--format", "json").json
    assert doc["value"] == [4, 6]  # 2(x+1)


def test_chain_exits_1_when_the_check_fails(jaccli, monkeypatch):
    monkeypatch.setattr(compute, "CHAIN_RTOL", -1.0)  # make any nonzero gradient "disagree"
    run = jaccli("chain", "x*2", "sum(y)", "--at", "1,1", "--format", "json")
    assert run.code == 1
    assert run.json["properties"]["equals_direct_gradient"]["holds"] is False
    assert "Warning:" in run.stderr


def test_vjp_and_jvp_without_a_point_are_symbolic(jaccli):
    # v^T J for f = [x*y, x+y]: d/dx (3xy + 5(x+y)) = 3y + 5, d/dy = 3x + 5
    assert jaccli("vjp", "[x*y, x+y]", "--v", "3,5", "--format", "json").json["symbolic"] == ["3*y + 5",
                                                                                         "3*x + 5"]
    assert jaccli("jvp", "[x*y, x+y]", "--v", "1,2", "--exact", "--at", "1,1/2", "--format",
                  "json").json["exact"] == ["5/2", "3"]


def test_vjp_over_many_points(jaccli):
    run = jaccli("vjp", "[x*y, x+y]", "--v", "1,1", "--points", "-", input="1 2\n3 4\n")
    assert run.stdout == "3 2\n5 4\n"  # (y + 1, x + 1)
