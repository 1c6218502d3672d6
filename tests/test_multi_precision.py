"""The numeric path's multi-precision pass (issue 15): a result at one point without a formula (more than 64 inputs)
is evaluated again by the engines in mpmath numbers at the point as typed, and each entry two precisions agree on is
the exact derivative rounded to the nearest double. References: derivatives written out here by hand, evaluated by
mpmath at the typed decimals (read exactly) at 60 and 120 digits until both round alike; never jaccli's output.
"""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath as mp
import pytest

from jaccli import accuracy, limits
from jaccli.evaluate import Evaluator

N = 70  # inputs: beyond accuracy.SYMBOLIC_INPUTS, so the numeric path


def exact(text: str):
    """The decimal ``text`` as an mpmath number at the working precision (exactly, as far as it holds it)."""
    value = Fraction(text)
    return mp.mpf(value.numerator) / value.denominator


def rounded(derivative, *texts: str) -> float:
    """``derivative`` at the typed point, rounded to the nearest double: 60, 120, … digits until two agree."""
    previous = None
    for digits in (60, 120, 240, 480):
        with mp.workdps(digits):
            current = float(derivative(*[exact(t) for t in texts]))
        if current == previous:
            return current
        previous = current
    raise AssertionError("the reference did not settle")


def _vector(text: str, count: int = N) -> str:
    return ",".join([text] * count)


# float64 cancels these to noise at the point (tests/test_numeric_estimate.py: named there, with the pass off)
CANCELLING = [
    ("log(x) - log(1+x)", "1e10", lambda x: 1 / x - 1 / (1 + x)),
    ("atan(x) - x", "1e-6", lambda x: 1 / (1 + x**2) - 1),
    ("(sqrt(1+x)-1)/x", "1e-12", lambda x: (x / (2 * mp.sqrt(1 + x)) - (mp.sqrt(1 + x) - 1)) / x**2),
    ("(1-cos(x))/x**2", "1e-12", lambda x: (mp.sin(x) * x - 2 * (1 - mp.cos(x))) / x**3),
    ("(exp(x)-1)/x", "1e-10", lambda x: (x * mp.exp(x) - (mp.exp(x) - 1)) / x**2),
    ("(exp(x)-1-x)/x**2", "1e-10", lambda x: ((mp.exp(x) - 1) * x**2 - 2 * x * (mp.exp(x) - 1 - x)) / x**4),
    ("x**7-7*x**6+21*x**5-35*x**4+35*x**3-21*x**2+7*x-1", "1.0001", lambda x: 7 * (x - 1) ** 6),
    ("x - sin(x)", "1e-9", lambda x: 1 - mp.cos(x)),
    ("sin(x)/x", "1e-9", lambda x: (x * mp.cos(x) - mp.sin(x)) / x**2),
    # the registry's derivative rules at their domain edges, where the typed point's 64 longdouble bits were not
    # enough (76 and 208 ulps before this pass)
    ("asin(x)", "0.999999", lambda x: 1 / mp.sqrt(1 - x * x)),
    ("acos(x)", "-0.999999", lambda x: -1 / mp.sqrt(1 - x * x)),
    ("acosh(x)", "1.000001", lambda x: 1 / mp.sqrt(x * x - 1)),
    ("atanh(x)", "-0.999999", lambda x: 1 / (1 - x * x)),
    # a constant as typed: 0.1 is 1/10 in the pass, and log2's rule is 1/(x ln 2) with ln 2 to the precision
    ("log2(x + 0.1)", "2.3", lambda x: 1 / ((x + mp.mpf(1) / 10) * mp.log(2))),
    ("tan(1/x)", "1e-8", lambda x: -1 / (x * x * mp.cos(1 / x) ** 2)),
]


@pytest.mark.parametrize(("expression", "at", "derivative"), CANCELLING, ids=[c[0] for c in CANCELLING])
def test_a_result_without_a_formula_is_correctly_rounded(run, expression, at, derivative):
    code, out, err = run("derivative", expression, "--at", _vector(at), "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["value"] == [rounded(derivative, at)] * N


@pytest.mark.parametrize(("command", "expression", "at", "derivative"), [
    # intermediate overflow and underflow: mpmath's exponents have no limit
    ("gradient", "norm(x)", "1e200", lambda x: x / mp.sqrt(N * x * x)),
    ("gradient", "norm(x)", "1e-200", lambda x: x / mp.sqrt(N * x * x)),
    ("derivative", "log(1+exp(x))", "800", lambda x: mp.exp(x) / (1 + mp.exp(x))),
    ("derivative", "log(cosh(x))", "800", mp.tanh),
    ("derivative", "1/(1+x**2)", "1e100", lambda x: -2 * x / (1 + x * x) ** 2),
    ("derivative", "tanh(x)", "40", lambda x: 1 / mp.cosh(x) ** 2),
])
def test_an_intermediate_out_of_range_gives_the_exact_answer(run, command, expression, at, derivative):
    code, out, err = run(command, expression, "--at", _vector(at), "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["value"] == [rounded(derivative, at)] * N


def test_a_point_written_as_an_expression_is_read_exactly(run):
    # tan′ = 1/cos² is exactly 4 at π/3; at the double nearest π/3 it is 4.0000000000000018 (2 ulps above)
    code, out, err = run("derivative", "tan(x)", "--at", _vector("pi/3"), "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["value"] == [4.0] * N


def test_every_entry_of_a_jacobian_and_its_parameters_as_typed(run):
    # f_i = a·sin(x_i)·x_{i+1 mod n}: J has two entries a row; a = 0.1 as typed, not the double nearest it
    texts = [str(Fraction(k, 7) + Fraction(1, 10)) for k in range(N)]
    at = ",".join(f"{float(Fraction(t)):.17g}" for t in texts)
    code, out, err = run("jacobian", "a*sin(x)*concatenate([x[1:], x[:1]])", "--at", f"x=[{at}]", "--at", "a=0.1",
                         "--format", "json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["variables"][:2] == ["a", "x[0]"]  # a is an input too: its column comes first
    points = at.split(",")
    for i, row in enumerate(doc["value"]):
        j = (i + 1) % N
        want_a = rounded(lambda x, y: mp.sin(x) * y, points[i], points[j])
        want_ii = rounded(lambda a, x, y: a * mp.cos(x) * y, "0.1", points[i], points[j])
        want_ij = rounded(lambda a, x: a * mp.sin(x), "0.1", points[i])
        assert (row[0], row[1 + i], row[1 + j]) == (want_a, want_ii, want_ij), i
        assert all(row[1 + k] == 0 for k in range(N) if k not in (i, j))


def test_a_term_absorbed_at_every_precision_is_not_taken(run):
    # atan2(2, x) − atan2(2, 0) at x = 1e-210 is exactly 0 at every precision below 210 digits, so the derivative's
    # graph gives one wrong value (5e209; the answer is −8.3e-212) at 30, 60 and 120 digits alike. Its random
    # perturbations make those precisions disagree: the entries stay unsettled and are named, never printed silently
    code, out, err = run("derivative", "(atan2(2, x) - atan2(2, 0)) / x", "--at", _vector("-1e-210"))
    assert code == 1
    assert f"70 of 70 entries have fewer than {accuracy.TRUSTED_DIGITS} correct significant digits" in err


def test_a_graph_past_the_work_limit_is_never_started(run, monkeypatch):
    def refuse(*args):
        raise AssertionError("evaluated in mpmath numbers past limits.MULTI_WORK")

    monkeypatch.setattr(Evaluator, "_multi", refuse)
    at = _vector("1e-12", 300)  # a 300×300 Jacobian: its forward pass makes more than MULTI_WORK entries
    code, out, err = run("jacobian", "(exp(x)-1)/x", "--at", at, "--format", "json")
    assert code == 1 and "300 of 90000 entries have fewer than" in err  # the estimate names the diagonal


def test_out_of_time_the_estimate_stands(run, monkeypatch):
    monkeypatch.setattr(limits, "MULTI_SECONDS", 0.0)
    code, out, err = run("derivative", "(sqrt(1+x)-1)/x", "--at", _vector("1e-12"))
    assert code == 1 and "70 of 70 entries have fewer than" in err


def test_points_lines_keep_the_estimate(run):
    # --points: no multi-precision pass (each line would cost it); the estimate names the line
    line = " ".join(["1e-12"] * N)
    code, out, err = run("derivative", "(sqrt(1+x)-1)/x", "--shape", f"x={N}", "--points", "-", input=line + "\n")
    assert code == 1 and "point 1: 70 of 70 entries have fewer than" in err


def test_an_entry_mpmath_cannot_hold_leaves_the_others_to_it(run):
    # exp(2.27e71) is "too many digits" for mpmath (OverflowError): that entry keeps float64's value (inf there, as
    # the result says), and the pass goes on for the others; it stopped for all 70 before, and erf's last bit at
    # −0.75 came out as float64's (…707e-40 for …7069e-40)
    texts = ["-227e69", "-0.75"] + ["0.5"] * (N - 2)
    code, out, err = run("derivative", "erf(sigmoid(x)**-2)", "--at", ",".join(texts), "--format", "json")
    with mp.workdps(60):
        x = mp.mpf("-0.75")
        want = float(mp.diff(lambda t: mp.erf((1 + mp.exp(-t)) ** 2), x))
    value = json.loads(out)["value"]
    assert value[1] == want == -1.5061991931077069e-40
    assert value[0] is None and "not finite" in err
