"""Symbolic results are shown short and readable, in the user's functions; --no-simplify shows them raw."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st


def test_a_quotient_is_put_over_one_denominator(jaccli):
    # d/dx (x²+1)/(x−1) = (2x(x−1) − (x²+1))/(x−1)² = (x² − 2x − 1)/(x−1)², by hand
    assert jaccli("derivative", "(x^2+1)/(x-1)", "-f", "plain").stdout == "(x^2 - 2*x - 1)/(x - 1)^2\n"


def test_no_simplify_shows_the_raw_form(jaccli):
    run = jaccli("derivative", "(x^2+1)/(x-1)", "-f", "plain", "--no-simplify")
    assert run.stdout == "2*x/(x - 1) - (x^2 + 1)/(x - 1)^2\n"


def test_softmax_entries_are_named_s_i_and_s_is_defined(jaccli):
    run = jaccli("jacobian", "softmax(x)", "--shape", "x=3", "-f", "json")
    assert run.json["symbolic"] == [["s_0*(1 - s_0)", "-s_0*s_1", "-s_0*s_2"],
                                    ["-s_0*s_1", "s_1*(1 - s_1)", "-s_1*s_2"],
                                    ["-s_0*s_2", "-s_1*s_2", "s_2*(1 - s_2)"]]
    assert run.json["where"] == {"s_i": "softmax(x[0], x[1], x[2])[i]"}
    table = jaccli("jacobian", "softmax(x)", "--shape", "x=2", "-f", "table").stdout
    assert "where s_i = softmax(x[0], x[1])[i]" in table


def test_each_entry_is_printed_as_sympy_prints_it_in_s(jaccli):
    # the products -s_i*s_j are renamed without sympy's Mul: the text must be what sympy's own Mul and printer
    # give for them, in every format (s_10 before s_9 as sympy orders names; the diagonal s_i*(1 - s_i))
    import sympy

    n = 12
    s = [sympy.Symbol(f"s_{i}") for i in range(n)]
    expected = [[sympy.sstr(s[i] * (int(i == j) - s[j])) for j in range(n)] for i in range(n)]
    assert expected[9][10] == "-s_10*s_9"
    doc = jaccli("jacobian", "softmax(x)", "--shape", f"x={n}", "-f", "json").json
    assert doc["symbolic"] == expected
    plain = jaccli("jacobian", "softmax(x)", "--shape", f"x={n}", "-f", "plain").stdout
    assert plain.splitlines() == ["\t".join(row) for row in expected]
    log = jaccli("jacobian", "log_softmax(2*x)", "--shape", f"x={n}", "-f", "json").json["symbolic"]
    assert log == [[sympy.sstr(2 * (int(i == j) - s[j])) for j in range(n)] for i in range(n)]


def test_relu_derivative_is_a_step_that_says_its_value_at_zero(jaccli):
    run = jaccli("derivative", "relu(x)", "-f", "plain")
    assert run.stdout == "step(x)\n" and "Heaviside" not in run.stdout
    assert "Note: step(x) = 0 for x < 0, 1/2 at x = 0, 1 for x > 0" in run.stderr
    value = jaccli("derivative", "relu(x)", "--at", "0", "-f", "json").json
    assert value["value"] == 0.5 and "1/2 at x = 0" in value["where"]["step"]  # the note matches the number


def test_exact_results_have_no_float_noise(jaccli):
    assert jaccli("vjp", "x^2", "--at", "1,2", "--v", "1,1", "-f", "json").json["symbolic"] == ["2*x[0]", "2*x[1]"]
    assert jaccli("jvp", "[x*y, x+y]", "--at", "2,3", "--v", "1,0", "-f", "json").json["symbolic"] == ["y", "1"]


def test_floats_the_user_typed_stay_floats(jaccli):
    assert jaccli("derivative", "0.1*x^2", "-f", "plain").stdout == "0.2*x\n"
    assert jaccli("jvp", "x*y", "--at", "2,3", "--v", "0.5,0", "-f", "json").json["symbolic"] == "0.5*y"


NAMES = ["s_0", "s_1", "s_9", "s_10", "s_100", "x[0]", "x[10]", "x[9]", "W[1, 0]", "W[0, 1]", "A", "a", "z", "Z_2"]


@given(coefficient=st.integers(-12, 12), names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True),
       real=st.booleans(), dummy=st.booleans(), evaluate=st.booleans())
def test_a_product_is_written_as_sympy_writes_it(coefficient, names, real, dummy, evaluate):
    # render.formula writes an integer times symbols without sympy's printer: the text must be sympy's own
    import sympy

    from jaccli import render

    factors = [(sympy.Dummy if dummy and i == 0 else sympy.Symbol)(name, real=real) for i, name in enumerate(names)]
    expr = sympy.Mul(sympy.Integer(coefficient), *factors, evaluate=evaluate)
    assert render.formula(expr) == sympy.sstr(expr, full_prec=False)


def test_factor_is_tried_in_few_symbols_only(monkeypatch):
    # one factor() call is not bounded by the budget: in 20 symbols it took seconds (the gradient of
    # sum(softmax(x)*y) at N = 10) and minutes at N = 100, for a form no shorter than together's
    import time

    import sympy

    from jaccli import pretty

    x, y = sympy.symbols("x y")
    assert pretty.shortest(x**2 + 2*x*y + y**2, time.monotonic() + 60) == (x + y)**2  # factor still shortens
    calls = []
    original = sympy.factor
    monkeypatch.setattr(sympy, "factor", lambda e, *a, **k: calls.append(e) or original(e, *a, **k))
    s, w = sympy.symbols("s0:10"), sympy.symbols("w0:10")
    many = sum(s[0] * (int(i == 0) - s[i]) * w[i] for i in range(10))
    assert len(many.free_symbols) > pretty.MAX_FACTOR_SYMBOLS
    pretty.shortest(many, time.monotonic() + 60)
    assert calls == []
    pretty.shortest(x**2 + 2*x*y + y**2, time.monotonic() + 60)
    assert len(calls) == 1
