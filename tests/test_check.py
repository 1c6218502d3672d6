"""--check and 'jaccli check' against closed forms; warnings for non-finite values and kinks."""

import json
import math

import numpy as np
import pytest

from jaccli import verify
from jaccli.compute import jacobian
from jaccli.result import Result


def _json(run, *args):
    code, out, err = run(*args, "--format", "json")
    return code, json.loads(out), err


@pytest.mark.parametrize(("expression", "point", "expected", "method"), [
    ("[r*cos(t), r*sin(t)]", "2,0.5", [[math.cos(0.5), -2 * math.sin(0.5)], [math.sin(0.5), 2 * math.cos(0.5)]],
     "complex step"),
    ("sigmoid(x)", "-3", [[math.exp(-3) / (1 + math.exp(-3)) ** 2]], "complex step"),
    ("softplus(x)", "700", [[1 / (1 + math.exp(-700))]], "complex step"),
    ("logsumexp([x, y])", "1000,0", [[1.0, math.exp(-1000)]], "complex step"),
    ("abs(x)*y", "-2,3", [[-3.0, 2.0]], "central differences"),
    ("max(x, 2*y)", "3,1", [[1.0, 0.0]], "central differences"),
])
def test_check_agrees_with_closed_forms(run, expression, point, expected, method):
    code, doc, err = _json(run, "check", expression, "--at", point)
    assert code == 0, err
    assert np.allclose(doc["value"], expected, rtol=1e-12, atol=1e-300)
    assert np.allclose(doc["numeric"], expected, rtol=1e-6, atol=1e-9)
    assert doc["ok"] is True and doc["check_method"] == method
    assert doc["max_abs_error"] >= 0 and doc["max_rel_error"] >= 0
    assert "Check: agrees" in err


def test_softmax_jacobian_check(run):
    z = np.array([1.0, 2.0, -3.0])
    s = np.exp(z) / np.exp(z).sum()
    code, doc, _ = _json(run, "check", "softmax(x)", "--at", "x=[1,2,-3]")
    assert code == 0 and doc["ok"]
    assert np.allclose(doc["value"], np.diag(s) - np.outer(s, s), rtol=1e-13, atol=1e-17)
    assert doc["max_rel_error"] < 1e-9


@pytest.mark.parametrize(("command", "expression", "point", "expected"), [
    ("jacobian", "[x*y, x+y]", "2,3", [[3, 2], [1, 1]]),
    ("gradient", "x**2*y", "1,2", [4, 1]),
    ("hessian", "x**2*y + y**3", "1,2", [[4, 2], [2, 12]]),
    ("derivative", "sin(x)", "x=[0,1]", [1, math.cos(1)]),
])
def test_check_option_on_every_command(run, command, expression, point, expected):
    code, doc, err = _json(run, command, expression, "--at", point, "--check")
    assert code == 0, err
    assert np.allclose(doc["value"], expected) and np.allclose(doc["numeric"], expected, atol=1e-7)
    assert doc["ok"] is True


def test_higher_order_derivative_is_checked_against_the_order_below(run):
    code, doc, _ = _json(run, "derivative", "exp(2*x)", "--order", "3", "--at", "0.5", "--check")
    assert code == 0 and doc["ok"]
    assert math.isclose(doc["numeric"][0] if isinstance(doc["numeric"], list) else doc["numeric"], 8 * math.e,
                        rel_tol=1e-8)


def test_a_wrong_value_is_caught():
    result = jacobian("[x**3, sin(x*y)]", ["1.5,2"])
    truth = result.value.copy()
    result.value = truth + np.array([[0.0, 0.0], [0.0, 1e-4]])  # a planted error in one entry
    verify.check(result, *_problem_parts("[x**3, sin(x*y)]", "1.5,2"))
    assert result.extra["ok"] is False
    assert result.exit_code == 1
    assert any("check failed" in w for w in result.warnings)
    assert math.isclose(result.extra["max_abs_error"], 1e-4, rel_tol=1e-6)


def test_a_wrong_value_is_caught_by_differences_too():
    result = jacobian("abs(x)*y", ["-2,3"])
    result.value = result.value + 1e-3
    verify.check(result, *_problem_parts("abs(x)*y", "-2,3"))
    assert result.extra["ok"] is False and result.extra["check_method"] == "central differences"


def _problem_parts(expression, point):
    from jaccli.compute import Problem

    problem = Problem(expression, [point])
    return problem.root, problem.layout, problem.point_values


def test_finite_differences_alone_are_accurate():
    root, variables, point = _problem_parts("exp(x)*sin(y)", "1e2,0.5")
    jac, error = verify.finite_differences(root, variables, point)
    expected = [math.exp(1e2) * math.sin(0.5), math.exp(1e2) * math.cos(0.5)]
    assert np.allclose(jac[0], expected, rtol=1e-6)
    assert np.all(np.abs(jac[0] - expected) <= verify.SAFETY * error[0])


def test_check_without_point_in_api_is_a_no_op():
    result = Result("jacobian", "x", (1, 1), ["f"], ["x"])
    assert verify.check(result, None, [], {}) is result and "ok" not in result.extra


def test_not_finite_value_warns_and_exits_1(run):
    code, out, err = run("jacobian", "log(x)", "--at", "0", "--format", "plain")
    assert code == 1
    assert out.strip() == "inf"
    assert "Warning: the result is not finite at this point" in err
    assert "Traceback" not in err


def test_where_the_function_is_not_real_the_check_cannot_compare_not_disagree(run):
    # log(x) at −1 is not a real number: the complex step's Im log(−1 + ih)/h is π/h (3e20), no derivative; it was
    # reported as a disagreement
    code, out, err = run("derivative", "log(x)", "--at", "-1", "--check", "--format", "plain")
    assert code == 1 and "DISAGREES" not in err
    assert "Check: cannot compare with central differences" in err


def test_entries_that_cannot_be_compared_do_not_make_the_others_disagree(run):
    # ∇(sqrt(x)·y) at (0, 1) = (inf, 0): the second entry agrees with the complex step, the first is not finite
    code, out, err = run("gradient", "sqrt(x)*y", "--at", "0,1", "--check", "--format", "json")
    assert code == 1
    assert "Check: agrees where comparable with complex step" in err
    assert json.loads(out)["disagrees"] is False


@pytest.mark.parametrize(("expression", "point", "function", "expected"), [
    ("abs(x)", "0", "abs", "0"),
    ("relu(x)", "0", "relu", "0.5"),
    ("max(x, y)", "1,1", "max", "0.5 0.5"),
])
def test_kinks_are_flagged(run, expression, point, function, expected):
    code, out, err = run("jacobian", expression, "--at", point, "--format", "plain")
    assert code == 0
    assert out.strip() == expected
    assert f"Warning: non-differentiable point ({function}): an argument sits on a kink" in err


def test_every_command_has_help_with_an_example(run):
    from jaccli.cli import app

    for command in app.registered_commands:
        doc = command.callback.__doc__ or ""
        assert doc.strip().splitlines()[0], command.callback.__name__
        assert "Example:" in doc, command.callback.__name__


@pytest.mark.parametrize("command", [["derivative", "log(x)", "--at", "0"], ["gradient", "1/x", "--at", "0"],
                                     ["jacobian", "[log(x), x]", "--at", "0"]])
def test_check_of_a_result_that_is_not_finite_is_json_with_nulls(run, command):
    code, out, err = run(*command, "--check", "--format", "json")
    assert code == 1, err  # not finite: exit 1, never an internal error
    doc = json.loads(out)
    assert doc["ok"] is False and "Traceback" not in err
    assert None in np.ravel(np.array(doc["abs_error"], dtype=object)).tolist()


@pytest.mark.parametrize(("expression", "point", "want"), [
    ("log(x)", "-1", -1.0),  # 1/x; log(−1) = iπ
    ("atanh(x)", "2", -1 / 3),  # 1/(1 − x²); atanh(2) = 0.549… + iπ/2
    ("[log(x), x]", "-4", [-0.25, 1.0]),  # one of two outputs complex
])
def test_a_function_that_is_not_real_at_the_point_is_said_to_be(run, expression, point, want):
    code, out, err = run("jacobian" if expression.startswith("[") else "derivative", expression, "--at", point,
                         "--format", "json")
    assert json.loads(out)["value"] == (want if isinstance(want, float) else [[w] for w in want])
    assert "Warning: the function is not a real number at this point" in err and code == 0


@pytest.mark.parametrize(("expression", "point"), [("log(x)", "2"), ("sin(x)/x", "1e-300"), ("sqrt(x)", "4")])
def test_a_real_function_gets_no_such_warning(run, expression, point):
    code, out, err = run("derivative", expression, "--at", point)
    assert "not a real number" not in err
