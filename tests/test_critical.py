"""jaccli critical: textbook classifications, Lagrange multipliers, the bordered Hessian, Newton's method."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jaccli.critical import classify


def _points(jaccli, *args):
    run = jaccli("critical", *args, "-f", "json")
    assert run.code == 0, run.stderr
    return [(p["exact"], p["type"]) for p in run.json["critical_points"]], run.json


@pytest.mark.parametrize("expression, expected", [
    ("x**3 - 3*x + y**2", [(["-1", "0"], "saddle"), (["1", "0"], "minimum")]),
    # Stewart, Calculus §14.7 example 3: f = x⁴ + y⁴ − 4xy + 1
    ("x**4 + y**4 - 4*x*y + 1", [(["-1", "-1"], "minimum"), (["0", "0"], "saddle"), (["1", "1"], "minimum")]),
    ("x**2 - y**2", [(["0", "0"], "saddle")]),
    ("-x**2 - y**2 + 2*x", [(["1", "0"], "maximum")]),
    ("x**4 + y**4", [(["0", "0"], "degenerate (test inconclusive)")]),  # a minimum the test cannot see
    ("x**2 + y**2 + z**2 - x*y - y*z", [(["0", "0", "0"], "minimum")]),
])
def test_textbook_classifications(jaccli, expression, expected):
    assert _points(jaccli, expression)[0] == expected


def test_values_at_the_points_are_exact(jaccli):
    _, document = _points(jaccli, "x**3 - 3*x + y**2")
    assert [p["value"] for p in document["critical_points"]] == [2.0, -2.0]
    assert document["symbolic"] == [["-1", "0", "2", "saddle"], ["1", "0", "-2", "minimum"]]


def test_no_critical_points(jaccli):
    run = jaccli("critical", "x + y", "-f", "plain")
    assert run.code == 0 and "no critical points" in run.stdout
    assert jaccli("critical", "exp(x)", "-f", "json").json["critical_points"] == []


def test_lagrange_on_the_unit_sphere(jaccli):
    points, document = _points(jaccli, "x + y + z", "--constraint", "x**2 + y**2 + z**2 = 1")
    s = "sqrt(3)/3"
    assert points == [([f"-{s}"] * 3, "minimum"), ([s] * 3, "maximum")]
    maximum = document["critical_points"][1]
    assert maximum["value"] == pytest.approx(math.sqrt(3), rel=1e-15)
    assert maximum["multipliers"] == pytest.approx([math.sqrt(3) / 2], rel=1e-15)  # ∇f = λ∇g: 1 = 2λ/√3


@pytest.mark.parametrize("expression, constraint, kind, sign", [
    ("x*y", "x + y = 2", "maximum", 1),
    ("x**2 + y**2", "x + y = 2", "minimum", -1),
])
def test_the_bordered_hessian_test_for_two_variables_and_one_constraint(jaccli, expression, constraint, kind, sign):
    # n = 2, m = 1: det of the bordered Hessian > 0 at a constrained maximum, < 0 at a minimum
    points, document = _points(jaccli, expression, "--constraint", constraint)
    assert points == [(["1", "1"], kind)]
    bordered = np.array(document["critical_points"][0]["bordered_hessian"])
    assert bordered[0, 0] == 0 and np.sign(np.linalg.det(bordered)) == sign


def test_two_constraints(jaccli):
    # x y z on x + y + z = 3 with x = y: f = x²(3 − 2x), stationary at x = 0 (minimum) and x = 1 (maximum)
    points, _ = _points(jaccli, "x*y*z", "-c", "x + y + z = 3", "-c", "x - y")
    assert points == [(["0", "0", "3"], "minimum"), (["1", "1", "1"], "maximum")]


def _bisect(g, low, high):
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if g(low) * g(middle) > 0 else (low, middle)
    return (low + high) / 2


def test_newton_from_the_start_point_when_there_is_no_closed_form(jaccli):
    _, document = _points(jaccli, "cos(x) + x**2/10", "--at", "3")
    assert "Newton" in document["method"] and "could not solve" in document["method"]
    (point,) = document["critical_points"]
    root = _bisect(lambda x: x / 5 - math.sin(x), 2.0, 3.0)  # f'(x) = x/5 − sin x
    assert point["point"] == pytest.approx([root], rel=1e-13)
    assert point["type"] == "minimum" and point["exact"] is None  # f'' = 1/5 − cos x > 0 there


def test_newton_with_a_constraint(jaccli):
    # x² + y² + cos x on x + y = 1: 2x − sin x = λ = 2y, so 4x − sin x = 2 (no closed form)
    _, document = _points(jaccli, "x**2 + y**2 + cos(x)", "-c", "x + y = 1", "--at", "0,0")
    assert "Newton" in document["method"]
    (point,) = document["critical_points"]
    x = _bisect(lambda x: 4 * x - math.sin(x) - 2, 0.0, 1.0)
    assert point["point"] == pytest.approx([x, 1 - x], rel=1e-13)
    assert point["multipliers"] == pytest.approx([2 * (1 - x)], rel=1e-13)
    assert point["type"] == "minimum"  # along (1, −1): 2 − cos x + 2 > 0


def test_without_a_closed_form_or_a_start_point_the_message_says_what_to_do(jaccli):
    run = jaccli("critical", "cos(x) + x**2/10")
    assert run.code == 2 and run.stderr.startswith("Error: no exact critical points") and "--at" in run.stderr


@pytest.mark.parametrize("args, message", [
    (["critical", "[x, y]"], "scalar"),
    (["critical", "x*y", "-c", "x = y = 1"], "one '='"),
    (["critical", "x", "-c", "x - 1"], "leave nothing"),
])
def test_refusals(jaccli, args, message):
    run = jaccli(*args)
    assert run.code == 2 and message in run.stderr, run.stderr


def test_classify_restricts_to_the_constraint_tangent_space():
    # L = x² − y² on the constraint y = 0: the tangent space is the x axis, where L curves up
    hessian = np.array([[2.0, 0, 0], [0, -2.0, -1.0], [0, -1.0, 0]])  # over (x, y, λ); Jg = [0, 1]
    assert classify(hessian, 2, 1) == ("minimum", [2.0])
    assert classify(hessian[:2, :2], 2, 0)[0] == "saddle"
