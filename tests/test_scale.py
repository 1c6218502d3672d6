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
