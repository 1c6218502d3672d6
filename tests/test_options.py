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


def test_named_values_in_one_at(jaccli):
    run = jaccli("gradient", "x*y^2", "--at", "x=2,y=3", "--format", "json")
    assert run.code == 0, run.stderr
    assert run.json["value"] == [9.0, 12.0]
    run = jaccli("gradient", "sum(x)*y", "--at", "x=[1, 2],y=3", "--format", "json")
    assert run.json["value"] == [3.0, 3.0, 3.0]  # ∂/∂x_i = y, ∂/∂y = x_0 + x_1


def test_at_with_values_as_separate_words_says_how_to_pass_them(jaccli):
    run = jaccli("gradient", "x*y", "--at", "1", "2")
    assert run.code == 2
    assert "--at takes the point as one argument: --at 1,2" in run.stderr and "--points" in run.stderr


def test_several_points_on_stdin_for_at_point_to_points(jaccli):
    run = jaccli("gradient", "x*y", "--at", "-", input="1 2\n3 4\n")
    assert run.code == 2 and "use --points instead of --at" in run.stderr


@pytest.mark.parametrize("suffix, check", [
    (".json", lambda text: json.loads(text)["value"] == [2.0, 1.0]),
    (".csv", lambda text: text == ",∂f/∂·\nx,2\ny,1\n"),
    (".tex", lambda text: text.startswith("\\begin{bmatrix}")),
    (".txt", lambda text: text == "2\n1\n"),
    (".out", lambda text: text == "2\n1\n"),
])
def test_output_file_extension_sets_the_format(jaccli, tmp_path, suffix, check):
    path = tmp_path / f"result{suffix}"
    run = jaccli("gradient", "x*y", "--at", "1,2", "-o", str(path))
    assert run.code == 0, run.stderr
    assert check(path.read_text(encoding="utf-8"))


def test_an_explicit_format_beats_the_extension(jaccli, tmp_path):
    path = tmp_path / "result.json"
    jaccli("gradient", "x*y", "--at", "1,2", "-o", str(path), "-f", "plain")
    assert path.read_text(encoding="utf-8") == "2\n1\n"


def test_points_with_auto_format_are_plain_lines_or_csv_by_extension(jaccli, tmp_path):
    run = jaccli("derivative", "x^2", "--points", "-", input="1\n2\n")
    assert run.code == 0 and run.stdout == "2\n4\n"
    path = tmp_path / "d.csv"
    jaccli("derivative", "x^2", "--points", "-", "-o", str(path), input="1\n2\n")
    assert path.read_text(encoding="utf-8") == "x,df/dx\n1,2\n2,4\n"


def test_points_on_a_terminal_are_plain_lines_not_a_table_error(monkeypatch, capsys):
    import sys

    from jaccli import cli

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    out = cli.Out(cli.Format.auto, None, None)
    assert out.resolve() is cli.Format.table
    assert out.resolve(many=True) is cli.Format.plain


@pytest.mark.parametrize("command", ["check", "chain"])
def test_help_says_the_point_is_required_where_it_is(jaccli, command):
    text = " ".join(jaccli(command, "--help").stdout.split())
    assert "The point (required)" in text and "Without it the result is symbolic" not in text


def test_the_size_limit_suggests_order_only_for_derivative(jaccli):
    run = jaccli("hessian", "prod(x)", "--shape", "x=600")
    assert run.code == 2 and "too large to differentiate" in run.stderr and "--order" not in run.stderr
    run = jaccli("derivative", "exp(sin(x)*cos(x))/(1+x**2)", "--order", "20")  # no point: only the formula
    assert run.code == 2 and "a lower --order" in run.stderr
