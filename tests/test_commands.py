"""The core commands through the CLI, checked against closed forms and hand-computed values."""

import json
import math

import numpy as np
import pytest

from jaccli.cli import app


def run(runner, *args, input=None):
    result = runner.invoke(app, list(args), input=input)
    assert "Traceback" not in result.output
    return result


def run_json(runner, *args, code=0):
    result = run(runner, *args, "--format", "json")
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def test_jacobian_of_x_times_2_is_2_identity(runner):
    doc = run_json(runner, "jacobian", "x*2", "--at", "1,1")
    assert doc == {
        "command": "jacobian",
        "expression": "x*2",
        "read_as": "x*2",
        "variables": ["x[0]", "x[1]"],
        "point": [1.0, 1.0],
        "shape": [2, 2],
        "value": [[2.0, 0.0], [0.0, 2.0]],
        "symbolic": [["2", "0"], ["0", "2"]],
        "warnings": [],
    }


def test_refresher_cell_2_gradient_of_sum_2x(runner):
    doc = run_json(runner, "gradient", "sum(x*2)", "--at", "[[1,1],[1,1]]")
    assert doc["shape"] == [2, 2]
    assert doc["value"] == [[2.0, 2.0], [2.0, 2.0]]


def test_refresher_cells_3_4_gradient_of_mean(runner):
    # o = mean(3 (x+2)^2) over 4 entries: do/dx_i = 6 (x_i + 2) / 4 = 4.5 at x_i = 1
    doc = run_json(runner, "gradient", "mean(3*(x+2)**2)", "--at", "[[1,1],[1,1]]")
    assert doc["value"] == [[4.5, 4.5], [4.5, 4.5]]


def test_derivative_of_square_at_3(runner):
    result = run(runner, "derivative", "x**2", "--at", "3", "--format", "plain")
    assert result.exit_code == 0
    assert result.stdout == "6\n"


def test_third_derivative_of_sine_is_symbolic_minus_cosine(runner):
    result = run(runner, "derivative", "sin(x)", "--order", "3", "--format", "plain")
    assert result.stdout == "-cos(x)\n"


def test_polar_jacobian_matches_closed_form(runner):
    r, t = 2.0, 0.5
    doc = run_json(runner, "jacobian", "[r*cos(t), r*sin(t)]", "--vars", "r,t", "--at", "2,0.5")
    expected = [[math.cos(t), -r * math.sin(t)], [math.sin(t), r * math.cos(t)]]
    np.testing.assert_allclose(doc["value"], expected, rtol=1e-15)
    assert doc["symbolic"] == [["cos(t)", "-r*sin(t)"], ["sin(t)", "r*cos(t)"]]


def test_hessian(runner):
    doc = run_json(runner, "hessian", "x**2*y + y**3", "--at", "1,2")
    assert doc["value"] == [[4.0, 2.0], [2.0, 12.0]]


def test_too_few_values_is_exit_2_naming_variables_and_count(runner):
    result = run(runner, "gradient", "x*y", "--at", "1")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert "x, y" in result.stderr and "got 1" in result.stderr
    assert result.stderr.count("\n") == 1


def test_named_point_values(runner):
    doc = run_json(runner, "gradient", "x*y**2", "--at", "y=3", "--at", "x=2")
    assert doc["variables"] == ["x", "y"]
    assert doc["point"] == [2.0, 3.0]
    assert doc["value"] == [9.0, 12.0]


def test_exact_point_values_are_parsed_safely(runner):
    doc = run_json(runner, "derivative", "sin(x)", "--at", "pi/4")
    assert doc["value"] == pytest.approx(math.sqrt(2) / 2, rel=1e-15)
    doc = run_json(runner, "derivative", "x**2", "--at", "1/2")
    assert doc["value"] == 1.0


def test_point_from_file_and_stdin(runner, tmp_path):
    path = tmp_path / "point.txt"
    path.write_text("# a comment\n[[1, 2],\n [3, 4]]\n")
    doc = run_json(runner, "gradient", "sum(x**2)", "--at", f"@{path}")
    assert doc["value"] == [[2.0, 4.0], [6.0, 8.0]]
    result = run(runner, "gradient", "sum(x**2)", "--at", "-", "--format", "plain", input="1\n2\n3\n")
    assert result.stdout == "2\n4\n6\n"


def test_negative_point_value_is_not_an_option(runner):
    doc = run_json(runner, "derivative", "x**3", "--at", "-2")
    assert doc["value"] == 12.0


def test_derivative_at_several_points_is_elementwise(runner):
    doc = run_json(runner, "derivative", "sin(x)", "--at", "0,1,2")
    np.testing.assert_allclose(doc["value"], np.cos([0.0, 1.0, 2.0]), rtol=1e-15)


def test_derivative_refuses_functions_that_mix_entries(runner):
    result = run(runner, "derivative", "sum(x**2)", "--at", "1,2")
    assert result.exit_code == 2
    assert "use 'jaccli gradient'" in result.stderr


def test_gradient_of_vector_function_points_to_jacobian(runner):
    result = run(runner, "gradient", "[x, y]", "--at", "1,2")
    assert result.exit_code == 2
    assert "jacobian" in result.stderr


def test_symbolic_array_variable_from_indexing(runner):
    doc = run_json(runner, "gradient", "x[0]**2*x[1]")
    assert doc["variables"] == ["x[0]", "x[1]"]
    assert doc["value"] is None
    assert doc["symbolic"] == ["2*x[0]*x[1]", "x[0]**2"]


def test_shape_option_gives_symbolic_arrays(runner):
    doc = run_json(runner, "jacobian", "x*y", "--shape", "x=2")
    assert doc["variables"] == ["x[0]", "x[1]", "y"]
    assert doc["symbolic"] == [["y", "0", "x[0]"], ["0", "y", "x[1]"]]


def test_not_finite_result_exits_1_and_json_has_null(runner):
    result = run(runner, "derivative", "log(x)", "--at", "0", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["value"] is None  # infinity is not JSON
    assert doc["warnings"] and "not finite" in doc["warnings"][0]
    assert "Warning:" in result.stderr


def test_kink_is_flagged(runner):
    result = run(runner, "derivative", "abs(x)", "--at", "0", "--format", "plain")
    assert result.exit_code == 0
    assert "non-differentiable" in result.stderr


@pytest.mark.parametrize(
    "expression, point, expected",
    [
        ("log(x, 2)", "8", 1 / (8 * math.log(2))),
        ("log2(x)", "8", 1 / (8 * math.log(2))),
        ("log10(x)", "5", 1 / (5 * math.log(10))),
        ("sigmoid(x)", "0.3", math.exp(-0.3) / (1 + math.exp(-0.3)) ** 2),
        ("softplus(x)", "0.3", 1 / (1 + math.exp(-0.3))),
        ("relu(x)", "-2", 0.0),
        ("erf(x)", "0.5", 2 / math.sqrt(math.pi) * math.exp(-0.25)),
        ("atan(x)", "2", 1 / 5),
        ("acosh(x)", "2", 1 / math.sqrt(3)),
        ("atanh(x)", "0.5", 1 / 0.75),
        ("sqrt(x)", "4", 0.25),
        ("x^3 - 2*x", "2", 10.0),
        ("e^x", "1", math.e),
        ("max(x, 1)", "3", 1.0),
        ("min(x, 1)", "3", 0.0),
        ("tan(x)", "0.25", 1 / math.cos(0.25) ** 2),
    ],
)
def test_elementwise_function_derivatives(runner, expression, point, expected):
    doc = run_json(runner, "derivative", expression, "--at", point)
    assert doc["value"] == pytest.approx(expected, rel=1e-14, abs=1e-300)


def test_atan2_gradient(runner):
    # d atan2(y, x) = (-y dx + x dy) / (x^2 + y^2)
    doc = run_json(runner, "gradient", "atan2(y, x)", "--at", "x=1", "--at", "y=2")
    assert doc["value"] == pytest.approx([-2 / 5, 1 / 5], rel=1e-15)


def test_reductions(runner):
    x = np.array([1.0, 2.0, 3.0])
    cases = {
        "prod(x)": [6.0, 3.0, 2.0],
        "norm(x)": x / np.linalg.norm(x),
        "dot(x, x)": 2 * x,
        "logsumexp(x)": np.exp(x) / np.exp(x).sum(),
        "max(x)": [0.0, 0.0, 1.0],
    }
    for expression, expected in cases.items():
        doc = run_json(runner, "gradient", expression, "--at", "1,2,3")
        np.testing.assert_allclose(doc["value"], expected, rtol=1e-14, err_msg=expression)


def test_log_softmax_jacobian_is_identity_minus_ones_times_softmax(runner):
    z = np.array([0.5, -1.0, 2.0])
    s = np.exp(z) / np.exp(z).sum()
    doc = run_json(runner, "jacobian", "log_softmax(x)", "--at", "0.5,-1,2")
    np.testing.assert_allclose(doc["value"], np.eye(3) - np.outer(np.ones(3), s), rtol=1e-13)


def test_softmax_is_stable_for_huge_logits(runner):
    # softmax(1000, 999) = softmax(1, 0): J = s0 s1 [[1, -1], [-1, 1]]
    s0, s1 = 1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))
    doc = run_json(runner, "jacobian", "softmax(x)", "--at", "1000,999")
    np.testing.assert_allclose(doc["value"], [[s0 * s1, -s0 * s1], [-s0 * s1, s0 * s1]], rtol=1e-15)
    assert doc["warnings"] == []


def test_broadcasting_scalar_and_array(runner):
    doc = run_json(runner, "jacobian", "a*x", "--at", "a=3", "--at", "x=[1,2]")
    assert doc["variables"] == ["a", "x[0]", "x[1]"]
    assert doc["value"] == [[1.0, 3.0, 0.0], [2.0, 0.0, 3.0]]


def test_shape_mismatch_is_exit_2(runner):
    result = run(runner, "jacobian", "x*y", "--at", "x=[1,2]", "--at", "y=[1,2,3]")
    assert result.exit_code == 2
    assert "do not broadcast" in result.stderr


def test_plain_output_is_one_row_per_line(runner):
    result = run(runner, "jacobian", "[x*y, x+y]", "--at", "2,3", "--format", "plain")
    assert result.stdout == "3 2\n1 1\n"


def test_plain_precision(runner):
    result = run(runner, "derivative", "sin(x)", "--at", "1", "--format", "plain", "--precision", "3")
    assert result.stdout == "0.54\n"


def test_plain_full_precision_round_trips(runner):
    result = run(runner, "derivative", "sin(x)", "--at", "1", "--format", "plain")
    assert float(result.stdout) == math.cos(1.0)


def test_table_format(runner):
    result = runner.invoke(app, ["hessian", "x**2*y + y**3", "--at", "1,2", "--format", "table"],
                           env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "Hessian of x**2*y + y**3 at x = 1, y = 2"
    assert "│ x │ 4  = 2*y │  2  = 2*x │" in result.stdout
    assert "\x1b[" not in result.stdout


def test_version(runner):
    from jaccli import __version__

    result = run(runner, "--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"jaccli {__version__}"


def test_unknown_option_is_one_error_line_exit_2(runner):
    result = run(runner, "jacobian", "x", "--bogus")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: No such option: --bogus")


def test_python_dash_m_runs(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "jaccli", "derivative", "x**2", "--at", "3", "--format", "json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["value"] == 6.0


def test_large_tables_show_their_corners(runner):
    at = ",".join(str(i) for i in range(30))
    result = runner.invoke(app, ["jacobian", "x*2", "--at", at, "--format", "table"],
                           env={"COLUMNS": "200", "LINES": "30", "NO_COLOR": "1"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert any(line.startswith("│ f₀ ") for line in lines) and any(line.startswith("│ f₂₉ ") for line in lines)
    assert not any(line.startswith("│ f₁₅ ") for line in lines)
    assert "x[0]" in result.stdout and "x[29]" in result.stdout and "x[15]" not in result.stdout
    assert lines[-1].startswith("30×30: rows f₁₁ … f₁₉ (9 of 30) and columns x[")  # 30 lines hold 22 rows
    assert lines[-1].endswith("left out to fit; --format plain, csv or json prints every entry, and a smaller "
                              "--precision (e.g. -p 4) fits more columns")


def test_python_api_as_the_readme_shows():
    from jaccli import jacobian, vjp

    value = jacobian("[r*cos(t), r*sin(t)]", at=["2,0.5"], variables=["r", "t"]).value
    np.testing.assert_allclose(value, [[math.cos(0.5), -2 * math.sin(0.5)], [math.sin(0.5), 2 * math.cos(0.5)]],
                               rtol=1e-15)
    assert vjp("x*1024", at=["0.3,-0.2,0.9"], v="0.1,1.0,0.0001").value.tolist() == pytest.approx(
        [102.4, 1024.0, 0.1024], rel=1e-15)
