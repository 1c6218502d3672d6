"""--steps: the rules shown are the rules of calculus, and the derivation reaches sympy's derivative."""

from __future__ import annotations

import pytest
import sympy

from jaccli.steps import MAX_ENTRIES, _Trace, derive

x, y = sympy.symbols("x y", real=True)


@pytest.mark.parametrize("expr, rules", [
    (x**2 * sympy.sin(x), ["product rule", "power rule", "sin'(x) = cos(x)"]),
    (sympy.sin(x) / (1 + x**2), ["quotient rule", "sum rule"]),
    (sympy.sin(x**2), ["chain rule: (sin(u))' = sin'(u)*u'", "power rule"]),
    (sympy.sqrt(3 * x + 1), ["power rule with the chain rule", "constant factor: (3*u)' = 3*u'"]),
    (2**x, ["exponential rule"]),
    (x**x, ["logarithmic differentiation"]),
    (sympy.exp(-x**2) * sympy.log(x), ["product rule", "chain rule: (exp(u))' = exp'(u)*u', with exp'(u) = exp(u)",
                                       "log'(x) = 1/x"]),
    (x * y * sympy.cos(x), ["constant factor: (y*u)' = y*u'", "product rule", "cos'(x) = -sin(x)"]),
    (sympy.atan(x) + 5, ["sum rule", "atan'(x) = 1/(x**2 + 1)"]),
])
def test_the_rules_and_the_derivative(expr, rules):
    trace = _Trace(400)
    derivative = derive(expr, x, trace)
    assert sympy.simplify(derivative - sympy.diff(expr, x)) == 0
    shown = [step["rule"] for step in trace.steps]
    for rule in rules:
        assert any(rule in s for s in shown), (rule, shown)
    # every step's derivative is the derivative of what it differentiates
    for step in trace.steps:
        of = sympy.sympify(step["of"], locals={"x": x, "y": y})  # noqa: S307 - test-side check of our own output
        assert sympy.simplify(sympy.sympify(step["derivative"], locals={"x": x, "y": y}) - sympy.diff(of, x)) == 0


def test_steps_in_json_and_under_the_table(jaccli):
    run = jaccli("derivative", "x**2*sin(x)", "--steps", "-f", "json")
    assert run.code == 0, run.stderr
    (entry,) = run.json["steps"]
    assert entry["entry"] == "df/dx" and entry["result"] == run.json["symbolic"]
    assert [s["depth"] for s in entry["steps"]] == [0, 1, 1]
    assert entry["steps"][0]["rule"].startswith("product rule")
    table = jaccli("derivative", "x**2*sin(x)", "--steps", "-f", "table")
    assert "(power rule: (x**n)' = n*x**(n - 1), n = 2)" in table.stdout
    assert "simplified: x*(x*cos(x) + 2*sin(x))" in table.stdout


def test_one_derivation_per_entry(jaccli):
    run = jaccli("jacobian", "[r*cos(t), r*sin(t)]", "--vars", "r,t", "--steps", "-f", "json")
    assert [e["entry"] for e in run.json["steps"]] == ["∂f₀/∂r", "∂f₀/∂t", "∂f₁/∂r", "∂f₁/∂t"]
    assert [e["result"] for e in run.json["steps"]] == ["cos(t)", "-r*sin(t)", "sin(t)", "r*cos(t)"]
    gradient = jaccli("gradient", "x*exp(y)", "--steps", "-f", "json")
    assert [e["entry"] for e in gradient.json["steps"]] == ["∂f/∂x", "∂f/∂y"]


@pytest.mark.parametrize("args, message", [
    (["jacobian", "x*2", "--shape", f"x={MAX_ENTRIES // 4 + 1}x4", "--steps"], f"up to {MAX_ENTRIES} entries"),
    (["derivative", "sin(x)", "--order", "2", "--steps"], "first derivatives"),
    (["gradient", "x*y", "--steps", "--points", "-"], "--points"),
    (["derivative", "sin(x)", "--steps", "--emit", "python"], "--emit"),
])
def test_refusals(jaccli, args, message):
    run = jaccli(*args, input="1 2\n")
    assert run.code == 2 and message in run.stderr, run.stderr


def test_the_step_limit_is_named(jaccli):
    def nested(k):  # 30 chain rules deep
        return "sin(" * 30 + f"x + {k}" + ")" * 30

    expression = "[" + ", ".join(nested(k) for k in range(16)) + "]"  # 16 entries, over 30 steps each
    run = jaccli("derivative", expression, "--steps")
    assert run.code == 2 and "more than 400 steps" in run.stderr
