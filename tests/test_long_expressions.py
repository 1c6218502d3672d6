"""Long expressions are long, not deep: chains of + - * / are one level, parsed in pieces, built shallow.

References are independent of jaccli: the value of a chain left to right in plain Python floats, and the
gradient of a generated sum from its terms' own derivatives by hand.
"""

import json
import math
import random

import numpy as np
import pytest

from jaccli import ir, parsing
from jaccli.errors import LimitError, ParseError
from jaccli.evaluate import evaluate


def _chain(n: int, seed: int):
    """A chain of n terms with random + and -, terms with *, / and brackets; its text, values, left-to-right value."""
    rng = random.Random(seed)
    values = {f"x{i}": rng.uniform(0.5, 1.5) for i in range(1, 51)}
    forms = ["x{a}*sin(x{b})", "(x{a} - x{b})", "x{a}/x{b}*2", "(x{a} + x{b})*x{a}"]
    text, total = [], 0.0
    for i in range(n):
        a, b = rng.randint(1, 50), rng.randint(1, 50)
        term = rng.choice(forms).format(a=a, b=b)
        va, vb = values[f"x{a}"], values[f"x{b}"]
        value = {"x{a}*sin(x{b})": va * math.sin(vb), "(x{a} - x{b})": va - vb, "x{a}/x{b}*2": va / vb * 2,
                 "(x{a} + x{b})*x{a}": (va + vb) * va}[next(f for f in forms if f.format(a=a, b=b) == term)]
        op = rng.choice("+-") if i else "+"
        total = total + value if op == "+" else total - value
        text.append(term if i == 0 else f" {op} {term}")
    return "".join(text), values, total


def _value(text: str, values: dict) -> float:
    function = parsing.parse(text)
    root = ir.build(function.tree, {})
    env = {name: np.array([values[name]]) for name in function.variables}
    return float(evaluate([root], env, 1)[0][0])


@pytest.mark.parametrize("n", [3, 9, 40, 1000, 30_000])
def test_a_chain_means_what_python_means(n):
    text, values, total = _chain(n, seed=n)
    assert _value(text, values) == pytest.approx(total, rel=1e-12, abs=1e-9 * n)


def test_a_bracketed_operand_stays_one_operand_across_pieces():
    # the text is cut at its top-level + and -; a bracketed first piece of a chunk must not spill its - outward
    text = "c - (a + b) - " * 3000 + "c"
    assert _value(text, {"a": 5.0, "b": 2.0, "c": 1.0}) == 1 - 3000 * 1 - 3000 * 7


def test_a_long_product_and_a_sum_of_long_products():
    assert _value("*".join(["x"] * 20_000), {"x": 1.0001}) == pytest.approx(1.0001 ** 20_000, rel=1e-9)
    text = " + ".join(["*".join(["x"] * 3000)] * 3)
    assert _value(text, {"x": 1.0002}) == pytest.approx(3 * 1.0002 ** 3000, rel=1e-9)


def test_the_gradient_of_a_1000_term_sum_in_50_variables(run):
    # sum over i of x_a*sin(x_b) or x_a*cos(x_b), a = i mod 50 + 1, b = a mod 50 + 1: by hand, term by term
    terms, grad = [], np.zeros(51)
    rng = random.Random(5)
    x = np.array([0.0] + [rng.uniform(-1, 1) for _ in range(50)])
    for i in range(1000):
        a, b = i % 50 + 1, (i + 1) % 50 + 1
        if i % 3:
            terms.append(f"x{a}*sin(x{b})")
            grad[a] += math.sin(x[b])
            grad[b] += x[a] * math.cos(x[b])
        else:
            terms.append(f"x{a}*cos(x{b})")
            grad[a] += math.cos(x[b])
            grad[b] -= x[a] * math.sin(x[b])
    at = ",".join(repr(float(v)) for v in x[1:])
    code, out, err = run("gradient", " + ".join(terms), "--at", at, "--format", "json")
    assert code == 0, err
    assert np.allclose(json.loads(out)["value"], grad[1:], rtol=1e-12, atol=1e-12)


def test_real_nesting_keeps_its_limit_and_length_has_one():
    with pytest.raises(LimitError, match="nests too deeply"):
        parsing.parse("x + " * 3000 + "sin(" * 101 + "x" + ")" * 101)
    with pytest.raises(LimitError, match="the limit is 1000000"):
        parsing.parse("x + " * 250_001)


def test_a_1_mb_expression_parses():
    text = ("x1*sin(x2) - x2/x3 + " * 50_000)[:parsing.MAX_LENGTH - 10] + "x1"
    text = text[:text.rfind(" + ")] + " + x1"
    assert len(text) <= parsing.MAX_LENGTH
    assert parsing.parse(text).variables == ("x1", "x2", "x3")


def test_an_error_deep_in_a_long_text_points_at_it_and_shows_a_window():
    text = "x + " * 3000 + "sin(x +* 2) + " + "y - " * 3000 + "y"
    with pytest.raises(ParseError) as info:
        parsing.parse(text)
    line, caret = info.value.caret().split("\n")
    assert len(line) < 100
    assert line[caret.index("^")] == "*"


def test_the_engines_take_a_left_deep_chain_of_20000_nodes_without_recursion():
    # derivatives make such chains (a cotangent summed over many uses); every engine walks them iteratively
    import sympy

    from jaccli import ad, symbolic
    from jaccli.registry import add, call

    x, y = ir.var("x"), ir.var("y")
    root = call("sin", x)
    for k in range(1, 20_000):
        root = add(root, y if k % 2 else call("sin", x))
    assert root.variables == {"x", "y"}
    grads = ad.vjp(root, ir.const(1.0), ["x", "y"])
    (tangent,) = ad.jvp([root], {"x": ir.const(1.0)})
    env = {"x": np.array([0.5]), "y": np.array([2.0])}
    values = evaluate([root, grads["x"], grads["y"], tangent], env, 1)
    assert [float(v[0]) for v in values] == pytest.approx(
        [10_000 * math.sin(0.5) + 10_000 * 2.0, 10_000 * math.cos(0.5), 10_000, 10_000 * math.cos(0.5)], rel=1e-12)
    lowered, symbols = symbolic.lower(root, {"x": (), "y": ()})
    sx, sy = symbols["x"].flat[0], symbols["y"].flat[0]
    assert sympy.expand(lowered.flat[0] - (10_000 * sympy.sin(sx) + 10_000 * sy)) == 0


@pytest.mark.parametrize("template, expected", [
    ("sqrt({s})", lambda s: math.sqrt(s)),
    ("2*sqrt({s}) - 1", lambda s: 2 * math.sqrt(s) - 1),
    ("exp(-({s})/1e4)", lambda s: math.exp(-s / 1e4)),
    ("({s}) - ({s})", lambda s: 0.0),
    ("sin(x1)*({s})*({s} + ({s}))", lambda s: math.sin(0.01) * s * 2 * s),
])
def test_a_long_chain_inside_brackets(template, expected):
    # a sum of 5000 squares inside a call or brackets: once past Python's parser depth (RecursionError)
    terms = [f"x{i % 50 + 1}**2" for i in range(5000)]
    values = {f"x{i}": 0.01 * i for i in range(1, 51)}
    s = sum(values[t.split("**")[0]] ** 2 for t in terms)
    assert _value(template.format(s=" + ".join(terms)), values) == pytest.approx(expected(s), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("template, expected", [
    ("[{s}, x1]", lambda s: [s, 0.01]),  # several outputs, one of them long
    ("[sqrt({s}), {s} - x1, 2]", lambda s: [math.sqrt(s), s - 0.01, 2.0]),
    ("maximum({s}, {s} + 1)", lambda s: [s + 1]),  # a call with several long arguments
    ("sum([{s}, 2*({s})], axis=0)", lambda s: [3 * s]),  # and a keyword
    ("where({s} > 1, {s}, 0)", lambda s: [s]),  # a comparison between a long side and a short one
    ("where(x1 >= {s}, 0, -({s}))", lambda s: [-s]),
    ("[({s}) < 2, {s} == {s}]", lambda s: [0.0, 1.0]),
])
def test_long_items_of_lists_and_calls(template, expected):
    terms = [f"x{i % 50 + 1}**2" for i in range(5000)]
    values = {f"x{i}": 0.01 * i for i in range(1, 51)}
    s = sum(values[t.split("**")[0]] ** 2 for t in terms)
    function = parsing.parse(template.format(s=" + ".join(terms)))
    root = ir.build(function.tree, {})
    got = evaluate([root], {n: np.array([values[n]]) for n in function.variables}, 1)[0][0]
    assert np.ravel(got).tolist() == pytest.approx(expected(s), rel=1e-12)


def test_an_error_in_a_long_list_item_points_at_it():
    text = "[" + " + ".join(["x"] * 3000) + ", " + " + ".join(["y"] * 3000) + " +* 2]"
    with pytest.raises(ParseError) as info:
        parsing.parse(text)
    assert info.value.column == text.index("+*") + 1


def test_an_error_inside_long_brackets_points_at_it():
    text = "sqrt(" + " + ".join(["x"] * 3000) + " +* 2)"
    with pytest.raises(ParseError) as info:
        parsing.parse(text)
    assert info.value.column == text.index("+*") + 1
