"""Results that stay their natural size: the symbolic softmax Jacobian is O(N²) text, its entries named once."""

import json

import pytest
import sympy

from jaccli.cli import app


@pytest.mark.parametrize("n", [5, 80])
def test_symbolic_softmax_jacobian_names_its_entries_once(runner, n):
    result = runner.invoke(app, ["jacobian", "softmax(x)", "--shape", f"x={n}", "--format", "json"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    doc = json.loads(text)
    logits = ", ".join(f"x[{i}]" for i in range(n))
    assert doc["where"] == {"s_i": f"softmax({logits})[i]"}  # the logits, written once
    assert text.count("x[1]") == 2  # in "where" and in "variables": no entry repeats the logits
    assert len(text) < 40 * n * n  # O(N²) characters
    s = sympy.symbols(f"s_0:{n}")
    names = {f"s_{i}": s[i] for i in range(n)}
    for i in range(n):
        for j in range(n):
            entry = sympy.sympify(doc["symbolic"][i][j], locals=names)
            assert sympy.expand(entry - s[i] * (int(i == j) - s[j])) == 0  # ds_i/dx_j = s_i (δ_ij - s_j)


@pytest.mark.parametrize("fmt", ["plain", "latex", "table"])
def test_every_format_says_what_s_is(runner, fmt):
    result = runner.invoke(app, ["jacobian", "softmax(x)", "--shape", "x=4", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert "s_i = softmax(x[0], x[1], x[2], x[3])[i]" in result.output  # stderr note or the table's line
    assert "softmax(x[0]" not in result.stdout.replace("s_i = softmax(x[0], x[1], x[2], x[3])[i]", "")


@pytest.mark.parametrize("n", [3, 60])
def test_softmax_of_elementwise_logits_is_differentiated_not_refused(runner, n):
    # the work estimate counts a partial of softmax(2*x[0] + 1, …) as one logit's work, as it is, not all of them:
    # N = 60 was refused as "too large to differentiate symbolically"
    result = runner.invoke(app, ["jacobian", "softmax(2*x+1)", "--shape", f"x={n}", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["where"] == {"s_i": f"softmax({', '.join(f'2*x[{i}] + 1' for i in range(n))})[i]"}
    s = sympy.symbols(f"s_0:{n}")
    names = {f"s_{i}": s[i] for i in range(n)}
    for i, j in [(0, 0), (0, n - 1), (n - 1, 1), (n // 2, n // 2)]:
        entry = sympy.sympify(doc["symbolic"][i][j], locals=names)
        assert sympy.expand(entry - 2 * s[i] * (int(i == j) - s[j])) == 0  # the chain rule's factor 2


def test_a_function_of_shared_logits_is_still_counted_whole(runner):
    # softmax(x + x[0]): every logit holds x[0], so a partial by x[0] differentiates all of them: refused at 600
    result = runner.invoke(app, ["jacobian", "softmax(x + x[0])", "--shape", "x=600", "--format", "json"])
    assert result.exit_code == 2 and "too large to differentiate symbolically" in result.stderr
