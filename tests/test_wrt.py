"""--wrt: differentiate by some variables; the others are parameters with values from --at (or files)."""

from __future__ import annotations

import numpy as np
import pytest

from jaccli import compute

Z = np.array([0.3, -1.2, 2.0, 0.5])
Y = np.array([0.0, 0.0, 1.0, 0.0])


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _list(a) -> str:
    return ",".join(repr(float(v)) for v in np.ravel(a))


def test_cross_entropy_gradient_with_a_fixed_one_hot_label_is_softmax_minus_y(jaccli):
    run = jaccli("gradient", "-sum(y*log_softmax(z))", "--wrt", "z", "--at", f"z={_list(Z)}", "--at",
                 f"y={_list(Y)}", "-f", "json")
    assert run.code == 0, run.stderr
    assert run.json["variables"] == ["z[0]", "z[1]", "z[2]", "z[3]"]
    np.testing.assert_allclose(run.json["value"], _softmax(Z) - Y, rtol=1e-14, atol=1e-15)


def test_a_linear_layers_jacobian_by_x_is_w():
    w = np.array([[1.5, -2.0, 0.25], [0.5, 3.0, -1.0]])
    expression = "[sum(W[0]*x) + b[0], sum(W[1]*x) + b[1]]"
    result = compute.jacobian(expression, [f"x={_list([1, 2, 3])}", f"W={w.tolist()}", "b=7,8"], wrt=["x"])
    assert result.variables == ["x[0]", "x[1]", "x[2]"]
    np.testing.assert_array_equal(result.value, w)


def test_parameters_cost_nothing_in_the_derivative():
    problem = compute.Problem("sum(sin(W[0]*x) * exp(W[1]))", ["x=1,2", "W=[[1,2],[3,4]]"], wrt=["x"])
    numbers = compute.Numbers(problem, "gradient", (2,))
    assert problem.layout == [("x", (2,))]
    assert list(numbers.grads) == ["x"]  # reverse mode pulls nothing back into W


def test_symbolic_results_keep_parameters_as_symbols(jaccli):
    run = jaccli("gradient", "a*x**2 + b*x", "--wrt", "x", "-f", "json")
    assert run.code == 0, run.stderr
    assert run.json["variables"] == ["x"]
    assert run.json["symbolic"] == "2*a*x + b"


def test_hessian_jvp_vjp_hvp_and_check_with_wrt(jaccli):
    at = ["--at", "x=1,2", "--at", "a=3"]
    hessian = jaccli("hessian", "a*sum(x**3)", "--wrt", "x", *at, "-f", "json").json
    assert hessian["value"] == [[18.0, 0.0], [0.0, 36.0]]
    assert jaccli("jvp", "a*x**2", "--wrt", "x", *at, "--v", "1,0", "-f", "json").json["value"] == [6.0, 0.0]
    assert jaccli("vjp", "a*x**2", "--wrt", "x", *at, "--v", "0,1", "-f", "json").json["value"] == [0.0, 12.0]
    assert jaccli("hvp", "a*sum(x**3)", "--wrt", "x", *at, "--v", "0,1", "-f", "json").json["value"] == [0.0, 36.0]
    check = jaccli("check", "sin(a*x)", "--wrt", "x", *at, "-f", "json")
    assert check.code == 0 and check.json["variables"] == ["x[0]", "x[1]"]
    also = jaccli("jacobian", "sin(a*x)", "--wrt", "x", *at, "--check")
    assert also.code == 0 and "agrees" in also.stderr


def test_points_columns_are_the_wrt_variables_and_at_gives_the_parameters(jaccli, tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("1,2\n3,4\n")
    run = jaccli("gradient", "sum(y*x**2)", "--wrt", "x", "--points", str(points), "--at", "y=10,100", "-f", "csv")
    assert run.code == 0, run.stderr
    assert run.stdout.splitlines() == ["x[0],x[1],df/dx[0],df/dx[1]", "1,2,20,400", "3,4,60,800"]
    missing = jaccli("gradient", "a*sum(x)", "--wrt", "x", "--points", str(points))
    assert missing.code == 2 and "no value for the parameter a" in missing.stderr


@pytest.mark.parametrize("args, message", [
    (["--wrt", "q"], "--wrt q: not a variable of the expression (variables: a, x)"),
    (["--wrt", "x,x"], "--wrt names a variable twice"),
    (["--wrt", ","], "--wrt is empty"),
])
def test_wrt_errors(jaccli, args, message):
    run = jaccli("gradient", "a*x", *args, "--at", "x=1", "--at", "a=2")
    assert run.code == 2 and message in run.stderr and "Traceback" not in run.stderr


def test_derivative_keeps_its_single_wrt(jaccli):
    run = jaccli("derivative", "x**2*y", "--wrt", "y", "--at", "x=3,y=1", "-f", "json")
    assert run.code == 0 and run.json["value"] == 9.0


# --- parameter values from files ------------------------------------------------------------------

W = np.array([[1.5, -2.0], [0.25, 4.0], [3.0, 0.5]])
LAYER = "[sum(W[0]*x), sum(W[1]*x), sum(W[2]*x)]"


@pytest.mark.parametrize("name, write", [
    ("w.csv", lambda p: p.write_text("\n".join(",".join(map(str, row)) for row in W) + "\n")),
    ("w.txt", lambda p: p.write_text("# weights\n" + "\n".join("  ".join(map(str, row)) for row in W) + "\n")),
    ("w.npy", lambda p: np.save(p, W)),
])
def test_a_matrix_parameter_from_a_file(jaccli, tmp_path, name, write):
    path = tmp_path / name
    write(path)
    run = jaccli("jacobian", LAYER, "--wrt", "x", "--at", "x=1,2", "--at", f"W=@{path}", "-f", "json")
    assert run.code == 0, run.stderr
    np.testing.assert_array_equal(run.json["value"], W)


def test_a_matrix_parameter_from_an_npz_file_by_key(jaccli, tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, W=W, b=np.ones(3))
    run = jaccli("jacobian", LAYER, "--wrt", "x", "--at", "x=1,2", "--at", f"W=@{path}:W", "-f", "json")
    assert run.code == 0, run.stderr
    np.testing.assert_array_equal(run.json["value"], W)
    unnamed = jaccli("jacobian", LAYER, "--wrt", "x", "--at", "x=1,2", "--at", f"W=@{path}")
    assert unnamed.code == 2 and "holds 2 arrays (W, b); say which" in unnamed.stderr
    wrong = jaccli("jacobian", LAYER, "--wrt", "x", "--at", "x=1,2", "--at", f"W=@{path}:Q")
    assert wrong.code == 2 and "has no array 'Q'" in wrong.stderr


def test_bad_parameter_files_are_one_line_errors(jaccli, tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("1,2\n3\n")
    run = jaccli("jacobian", LAYER, "--wrt", "x", "--at", "x=1,2", "--at", f"W=@{ragged}")
    assert run.code == 2 and "the rows have different numbers of values (2, 1)" in run.stderr
    strings = tmp_path / "s.npy"
    np.save(strings, np.array(["a", "b"]))
    run = jaccli("jacobian", LAYER, "--wrt", "x", "--at", "x=1,2", "--at", f"W=@{strings}")
    assert run.code == 2 and "not real numbers" in run.stderr
    nan = tmp_path / "nan.npy"
    np.save(nan, np.array([1.0, np.nan]))
    run = jaccli("jacobian", LAYER, "--wrt", "x", "--at", "x=1,2", "--at", f"W=@{nan}")
    assert run.code == 2 and "NaN" in run.stderr
    pickled = tmp_path / "obj.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    run = jaccli("jacobian", LAYER, "--wrt", "x", "--at", "x=1,2", "--at", f"W=@{pickled}")
    assert run.code == 2 and "Traceback" not in run.stderr
