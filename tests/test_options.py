"""Options mean the same on every command, and arguments that start with a minus are arguments."""

from __future__ import annotations

import json
import math

import pytest

EXPRESSION_COMMANDS = [
    (["derivative", "-x**2", "--at", "3"], -6.0),
    (["gradient", "-x**2", "--at", "3"], -6.0),
    (["jacobian", "-x**2", "--at", "3"], [[-6.0]]),
    (["hessian", "-x**3", "--at", "2"], [[-12.0]]),
    (["vjp", "-x**2", "--at", "3", "--v", "2"], -12.0),
    (["jvp", "-x**2", "--at", "3", "--v", "2"], -12.0),
    (["check", "-x**2", "--at", "3"], [[-6.0]]),
]


@pytest.mark.parametrize("args, value", EXPRESSION_COMMANDS, ids=lambda a: a[0] if isinstance(a, list) else "")
def test_an_expression_may_start_with_a_minus_on_every_command(jaccli, args, value):
    run = jaccli(*args, "--format", "json")
    assert run.code == 0, run.stderr
    assert run.json["value"] == value


@pytest.mark.parametrize("args, expression, value", [
    (["derivative", "--at", "1", "-x^2"], "-x^2", -2.0),  # options first
    (["derivative", "-a", "1", "-x^2", "-f", "json"], "-x^2", -2.0),
    (["derivative", "-abs(x)*2", "-a", "1"], "-abs(x)*2", -2.0),  # -a… is not --at: it is the expression
    (["derivative", "-p3*x**2", "--wrt", "x", "--at", "2,1"], "-p3*x**2", -4.0),  # nor -p3 a precision
])
def test_the_first_argument_is_the_expression_wherever_options_are(jaccli, args, expression, value):
    run = jaccli(*args, "--format", "json")
    assert run.code == 0, run.stderr
    assert run.json["expression"] == expression
    assert run.json["value"] == value


def test_chain_takes_two_minus_led_expressions(jaccli):
    run = jaccli("chain", "-x", "-sum(y**2)", "--at", "1,2", "--format", "json")
    assert run.code == 0, run.stderr
    assert run.json["value"] == [-2.0, -4.0]  # l = -sum((-x)**2) = -sum(x**2): ∇l = -2x


def test_a_second_minus_word_is_still_an_unknown_option(jaccli):
    run = jaccli("derivative", "x", "-q")
    assert run.code == 2 and run.stderr.startswith("Error: No such option: -q")


@pytest.mark.parametrize("short, long, value", [("-f", "--format", "json"), ("-p", "--precision", "3")])
def test_softmax_jac_takes_the_short_options(jaccli, short, long, value):
    assert jaccli("softmax-jac", "1", "2", "3", short, value, "--format", "json").code == 0
    run = jaccli("softmax-jac", "-1", "2", short, value, "-3")
    assert run.code == 0, run.stderr


def test_softmax_jac_f_json_is_an_option_not_a_logit(jaccli):
    run = jaccli("softmax-jac", "1", "2", "3", "-f", "json")
    assert run.code == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["logits"] == [1, 2, 3]
    e = [math.exp(1), math.exp(2), math.exp(3)]
    assert doc["softmax"] == pytest.approx([v / sum(e) for v in e], rel=1e-15)


def test_softmax_jac_p_is_precision(jaccli):
    run = jaccli("softmax-jac", "0", "0", "-p", "3", "-f", "plain")
    assert run.stdout == "0.25 -0.25\n-0.25 0.25\n"
