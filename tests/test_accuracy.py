"""Every printed digit right (issue 15): at a point with a formula, each entry is the exact derivative at the
point as typed, rounded to the nearest double (0 ulps) — checked against mpmath at 50 digits, from derivatives
written out here by hand (never jaccli's formula or code). Cases: cancellation near removable singularities,
log1p/expm1 shapes, saturation, intermediate overflow and underflow, and examples from Goldberg ("What every
computer scientist should know about floating-point arithmetic", 1991) and Higham ("Accuracy and Stability of
Numerical Algorithms", 2002).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from jaccli import limits

mpmath.mp.dps = 50
mp = mpmath


def D(x):
    """A typed decimal, exactly (as the user means it), to the working precision."""
    return mp.mpf(x)


def _sigmoid(x):
    return 1 / (1 + mp.exp(-x))


# (command, expression, --at arguments, the exact result's entries from the typed point, by hand)
CASES = [
    # cancellation near removable singularities (the cases)
    ("derivative", "(sqrt(1+x)-1)/x", ["1e-12"],
     lambda x: [(x / (2 * mp.sqrt(1 + x)) - (mp.sqrt(1 + x) - 1)) / x**2]),
    ("derivative", "(exp(x)-1-x)/x**2", ["1e-10"],
     lambda x: [((mp.exp(x) - 1) * x**2 - 2 * x * (mp.exp(x) - 1 - x)) / x**4]),
    ("derivative", "(1-cos(x))/x**2", ["1e-10"], lambda x: [(mp.sin(x) * x - 2 * (1 - mp.cos(x))) / x**3]),
    ("derivative", "sin(x)/x", ["1e-10"], lambda x: [(x * mp.cos(x) - mp.sin(x)) / x**2]),
    ("derivative", "sin(x)/x", ["1e-5"], lambda x: [(x * mp.cos(x) - mp.sin(x)) / x**2]),
    ("derivative", "log(1+x)", ["1e-10"], lambda x: [1 / (1 + x)]),
    ("derivative", "exp(x)-1", ["1e-10"], lambda x: [mp.exp(x)]),
    ("derivative", "x - sin(x)", ["1e-10"], lambda x: [1 - mp.cos(x)]),
    ("derivative", "x - sin(x)", ["1e-3"], lambda x: [1 - mp.cos(x)]),
    ("derivative", "(exp(x) - 1)/x", ["1e-9"], lambda x: [(x * mp.exp(x) - (mp.exp(x) - 1)) / x**2]),
    # saturation: a derivative far below the function's own rounding
    ("derivative", "tanh(x)", ["40"], lambda x: [1 / mp.cosh(x) ** 2]),
    ("derivative", "tanh(x)", ["-40"], lambda x: [1 / mp.cosh(x) ** 2]),
    ("derivative", "1/(1+x**2)", ["1e100"], lambda x: [-2 * x / (1 + x**2) ** 2]),
    ("derivative", "log(sigmoid(x))", ["-800"], lambda x: [1 - _sigmoid(x)]),
    ("derivative", "log(cosh(x))", ["800"], lambda x: [mp.tanh(x)]),
    ("derivative", "log(1+exp(x))", ["800"], lambda x: [_sigmoid(x)]),
    ("derivative", "sigmoid(x)", ["-40"], lambda x: [_sigmoid(x) * (1 - _sigmoid(x))]),
    ("derivative", "erf(x)", ["6"], lambda x: [2 / mp.sqrt(mp.pi) * mp.exp(-x**2)]),
    # the typed point, not the double nearest it
    ("derivative", "x**2", ["0.1"], lambda x: [2 * x]),
    ("derivative", "sin(x)", ["1e22"], lambda x: [mp.cos(x)]),
    ("derivative", "cos(x)", ["pi"], lambda x: [mp.mpf(0)]),
    # Higham §1.14 and Demmel: an expanded polynomial near its multiple root
    ("derivative", "x**7 - 7*x**6 + 21*x**5 - 35*x**4 + 35*x**3 - 21*x**2 + 7*x - 1", ["1.0001"],
     lambda x: [7 * (x - 1) ** 6]),
    ("derivative", "x**9 - 18*x**8 + 144*x**7 - 672*x**6 + 2016*x**5 - 4032*x**4 + 5376*x**3 - 4608*x**2"
     " + 2304*x - 512", ["2.01"], lambda x: [9 * (x - 2) ** 8]),
    # Higham §1.14.1: log(x)/(x-1) near 1
    ("derivative", "log(x)/(x-1)", ["1.00000001"], lambda x: [(1 / x * (x - 1) - mp.log(x)) / (x - 1) ** 2]),
    # Goldberg §1.4: the quadratic formula's root (-b + sqrt(b²-4ac))/(2a) for b² ≫ 4ac, by b
    ("derivative", "(-b + sqrt(b**2 - 4))/2", ["1e8"], lambda b: [(-1 + b / mp.sqrt(b**2 - 4)) / 2]),
    # Goldberg §1.4: x² - y² against (x+y)(x-y), by x, near x = y
    ("gradient", "x**2 - y**2", ["x=1.0000001", "y=1"], lambda x, y: [2 * x, -2 * y]),
    # Goldberg §1.4: Heron's area of a needle-like triangle (a = 9, b = c = 4.53), gradient
    ("gradient", "sqrt(((a+b+c)/2)*((a+b+c)/2-a)*((a+b+c)/2-b)*((a+b+c)/2-c))", ["a=9", "b=4.53", "c=4.53"],
     lambda a, b, c: _heron_gradient(a, b, c)),
    # Higham §1.9: the one-pass variance's gradient, 2(xᵢ - mean)/n from two huge nearly equal terms
    ("gradient", "sum(x**2)/3 - (sum(x)/3)**2", ["100000001,100000002,100000004"],
     lambda *x: [2 * (xi - sum(x) / 3) / 3 for xi in x]),
    # intermediate overflow and underflow, with an ordinary answer
    ("gradient", "sqrt(x**2+y**2)", ["x=1e-200", "y=2e-200"],
     lambda x, y: [x / mp.sqrt(x**2 + y**2), y / mp.sqrt(x**2 + y**2)]),
    ("gradient", "norm(x)", ["1e200,2e200"], lambda *x: [xi / mp.sqrt(sum(v**2 for v in x)) for xi in x]),
    ("gradient", "norm(x)", ["1e-200,2e-200"], lambda *x: [xi / mp.sqrt(sum(v**2 for v in x)) for xi in x]),
    ("jacobian", "x/norm(x)", ["1e200,2e200"], lambda *x: _unit_jacobian(x)),
    ("jacobian", "x/norm(x)", ["1e-200,2e-200"], lambda *x: _unit_jacobian(x)),
    ("gradient", "atan2(y, x)", ["x=1e-200", "y=2e-200"], lambda x, y: [-y / (x**2 + y**2), x / (x**2 + y**2)]),
    ("gradient", "hypot(x, y)", ["x=1e200", "y=1e200"], lambda x, y: [x / mp.hypot(x, y), y / mp.hypot(x, y)]),
    ("jacobian", "softmax(x)", ["0,700"], lambda *z: _softmax_jacobian(z)),
    ("jacobian", "softmax(x)", ["-1.3,0.5,2.1"], lambda *z: _softmax_jacobian(z)),
    ("hessian", "log(1+exp(x*y))", ["x=30", "y=2"], lambda x, y: _softplus_xy_hessian(x, y)),
    # a literal as typed though sympy hides its rounding: log1p(0.7) became log of the double 1.7 as a fraction
    # (no Float left to say so), 1 ulp off (found by tests/test_accuracy_random.py)
    ("derivative", "x*log1p(0.7) + x", ["1"], lambda x: [mp.log1p(D("0.7")) + 1]),
]


def _heron_gradient(a, b, c):
    s = (a + b + c) / 2
    area = mp.sqrt(s * (s - a) * (s - b) * (s - c))
    # 16 A² = 2a²b² + 2b²c² + 2c²a² - a⁴ - b⁴ - c⁴, so ∂(A²)/∂a = a(b² + c² - a²)/4 and ∂A/∂a = that / 2A
    return [(a * (b**2 + c**2 - a**2)) / (8 * area), (b * (a**2 + c**2 - b**2)) / (8 * area),
            (c * (a**2 + b**2 - c**2)) / (8 * area)]


def _unit_jacobian(x):
    norm = mp.sqrt(sum(v**2 for v in x))
    return [(norm**2 * (i == j) - x[i] * x[j]) / norm**3 for i in range(len(x)) for j in range(len(x))]


def _softmax_jacobian(z):
    e = [mp.exp(v - max(z)) for v in z]
    s = [v / sum(e) for v in e]
    rest = [sum(e[:i] + e[i + 1:]) / sum(e) for i in range(len(z))]  # 1 - s_i without the cancellation
    return [s[i] * rest[i] if i == j else -s[i] * s[j] for i in range(len(z)) for j in range(len(z))]


def _softplus_xy_hessian(x, y):
    t = x * y
    s1, s2 = _sigmoid(t), _sigmoid(t) * (1 - _sigmoid(t))  # f = softplus(xy): f' = σ, f'' = σ(1-σ)
    return [y * y * s2, s1 + x * y * s2, s1 + x * y * s2, x * x * s2]


def _point(args: list[str]) -> list:
    """The typed numbers, in order (a bracketed list or x=value), as mpmath numbers at the working precision."""
    out = []
    for arg in args:
        text = arg.partition("=")[2] if "=" in arg else arg
        out += [mp.pi if t.strip() == "pi" else D(t) for t in text.split(",")]
    return out


def reference(function, args: list[str]) -> list[float]:
    """The entries at 50 digits, rounded to doubles (mpmath's float() rounds to nearest) — at twice the digits
    while that changes them (a hand formula may itself cancel: (1 - cos x)/x² at 1e-10 loses 30 digits)."""
    previous = None
    for dps in (50, 100, 200, 400):
        with mp.workdps(dps):
            values = [float(v) for v in function(*_point(args))]
        if values == previous:
            return values
        previous = values
    raise AssertionError("the reference is not settled at 400 digits")


@pytest.mark.parametrize(("command", "expression", "at", "function"), CASES,
                         ids=[f"{c[0]} {c[1][:40]} at {' '.join(c[2])[:30]}" for c in CASES])
def test_correctly_rounded_at_a_point(run, command, expression, at, function):
    code, out, err = run(command, expression, *[a for arg in at for a in ("--at", arg)], "--format", "json")
    assert (code, err) == (0, ""), err
    got = np.ravel(np.asarray(json.loads(out)["value"], dtype=float)).tolist()
    assert got == reference(function, at)  # 0 ulps


@pytest.mark.parametrize(("command", "expression", "at", "function"), CASES[:12] + CASES[28:34],
                         ids=[f"{c[1][:40]} at {' '.join(c[2])[:30]}" for c in CASES[:12] + CASES[28:34]])
def test_digits_are_the_exact_decimals(run, command, expression, at, function):
    code, out, err = run(command, expression, *[a for arg in at for a in ("--at", arg)], "--digits", "40",
                         "--format", "json")
    assert (code, err) == (0, ""), err
    digits = np.ravel(np.asarray(json.loads(out)["digits"], dtype=object)).tolist()
    with mp.workdps(120):
        want = [mp.nstr(v, 40, strip_zeros=False, min_fixed=-4, max_fixed=41) for v in function(*_point(at))]
    assert [mp.mpf(d) for d in digits] == [mp.mpf(w) for w in want]
    assert all(len(d.split("e")[0].replace("-", "").replace(".", "").lstrip("0")) == 40 for d in digits if d != "0")


def test_digits_in_every_format(run):
    at = ["--at", "x=0.1", "--at", "y=3", "--digits", "25"]
    code, out, _ = run("jacobian", "[x*y, sin(x)]", *at, "--format", "plain")
    assert code == 0
    assert out == "3.000000000000000000000000 0.1000000000000000000000000\n0.9950041652780257660955620 0\n"
    with mp.workdps(60):
        assert mp.nstr(mp.cos(mp.mpf("0.1")), 25) == "0.995004165278025766095562"  # the last 0 is a digit
    code, out, _ = run("jacobian", "[x*y, sin(x)]", *at, "--format", "csv")
    assert out.splitlines()[2] == "f₁,0.9950041652780257660955620,0"
    code, out, _ = run("jacobian", "[x*y, sin(x)]", *at, "--format", "latex")
    assert "0.9950041652780257660955620 & 0" in out
    code, out, _ = run("jacobian", "[x*y, sin(x)]", *at, "--format", "table")
    assert "0.9950041652780257660955620" in out
    doc = json.loads(run("jacobian", "[x*y, sin(x)]", *at, "--format", "json")[1])
    assert doc["value"] == [[3.0, 0.1], [math.cos(0.1), 0.0]]
    assert doc["digits"] == [["3.000000000000000000000000", "0.1000000000000000000000000"],
                             ["0.9950041652780257660955620", "0"]]


def test_digits_up_to_1000(run):
    code, out, _ = run("derivative", "exp(x)", "--at", "1", "--digits", "1000")
    assert code == 0
    with mp.workdps(1100):
        assert out.strip() == mp.nstr(mp.e, 1000, strip_zeros=False)


@pytest.mark.parametrize("count", ["0", "1001", "-3"])
def test_digits_limit(run, count):
    code, out, err = run("derivative", "x**2", "--at", "1", "--digits", count)
    assert code == 2 and out == "" and err.startswith("Error: --digits")


@pytest.mark.parametrize("args", [["--points", "-"], ["--exact", "--at", "1"], []])
def test_digits_needs_a_point_and_floats(run, args):
    code, _, err = run("derivative", "x**2", *args, "--digits", "5", input="1\n")
    assert code in (1, 2) and err.startswith("Error:") and "--digits" in err


def test_the_check_does_not_share_the_cancellation(run):
    code, out, err = run("derivative", "(sqrt(1+x)-1)/x", "--at", "1e-12", "--check", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True and "agrees" in err
    assert doc["numeric"] == pytest.approx(-0.124999999999875, rel=1e-14)


@pytest.mark.parametrize(("expression", "at"), [("tanh(x)", "40"), ("1/(1+x**2)", "1e100"), ("sin(x)", "1e300")])
def test_the_check_agrees_with_the_true_value_only(run, expression, at):
    code, out, err = run("derivative", expression, "--at", at, "--check", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True, err
    assert doc["value"] != 0 and doc["max_rel_error"] < 1e-12


def test_check_json_with_nan_never_fails_to_print(run):
    code, out, err = run("derivative", "log(x)", "--at", "0", "--check", "--format", "json")
    assert code == 1 and json.loads(out)["ok"] is False and "Error" not in err


def test_an_unverified_entry_is_named_and_fails(run, monkeypatch):
    from jaccli import limits

    monkeypatch.setattr(limits, "VERIFY_SECONDS", 0.0)
    code, out, err = run("derivative", "sin(x)/x", "--at", "1e-10")
    assert code == 1
    assert "could not be verified to the last digit within the time budget of 0 s of CPU (f)" in err


# --- random expressions from the registry: tests/test_accuracy_random.py (thousands of points) ---------------

# --- beyond the formula: an estimate, and named budgets ---------------------------------------------------

def test_the_numeric_path_names_entries_in_doubt(run, monkeypatch):
    monkeypatch.setattr(limits, "MULTI_WORK", 0)  # as for a graph too large for the multi-precision pass
    at = ",".join(["1e-12"] * 70)  # 70 inputs: no formula; each entry cancels to noise in float64
    code, out, err = run("gradient", "sum((sqrt(1+x)-1)/x)", "--at", at, "--format", "json")
    assert code == 1
    assert "70 of 70 entries have fewer than 10 correct significant digits by a random-rounding estimate " \
           "(x[0]: no digit; x[1]: no digit;" in err


def test_the_numeric_path_is_quiet_when_float64_holds(run):
    values = [0.5 + i / 100 for i in range(70)]
    code, out, err = run("gradient", "sum(sin(x)*x)", "--at", ",".join(map(repr, values)), "--format", "json")
    assert (code, err) == (0, "")
    want = [math.sin(v) + v * math.cos(v) for v in values]
    np.testing.assert_allclose(json.loads(out)["value"], want, rtol=1e-14)


def test_a_wide_min_at_a_point_takes_the_numeric_path(run):
    x = [round(0.1 * i - 1.3, 10) for i in range(31)]  # sympy's Min of 31 entries took minutes to build
    code, out, err = run("gradient", "min(sinh(x)/pi)*min(max(y,x)*atan(y))", "--at", f"x={x!r}",
                         "--at", "y=0.35", "--format", "json")
    doc = json.loads(out)
    assert doc["symbolic"] is None and "non-differentiable point (min)" in err  # every xᵢ < y ties in the 2nd min
    # f = A·B, A = sinh(x₀)/π (x₀ smallest), B = y·atan(y) (the tied entries all have the same ∂/∂y)
    y = 0.35
    a, b = math.sinh(-1.3) / math.pi, y * math.atan(y)
    want = [b * math.cosh(-1.3) / math.pi] + [0.0] * 30 + [a * (math.atan(y) + y / (1 + y * y))]
    np.testing.assert_allclose(np.ravel(doc["value"]), want, rtol=1e-13, atol=1e-300)


def test_exact_with_a_wide_min_is_refused(run):
    code, out, err = run("gradient", "min(x)", "--at", ",".join(str(i) for i in range(80)), "--exact")
    assert code == 2 and err.startswith("Error: --exact: a min() or max() of more than 6 entries")


def test_exact_has_a_named_time_budget(run, monkeypatch):
    from jaccli import limits

    monkeypatch.setattr(limits, "EXACT_SECONDS", 0.3)
    code, out, err = run("derivative", "log(1+x)/x", "--at", "1e-10", "--exact")
    assert code == 2
    assert err == "Error: --exact (exact values at the point, simplified) did not finish within its time budget " \
                  "of 0.3 s\n"


def test_an_exact_value_too_long_to_write_is_refused_with_a_pointer(run):
    # d/dx x**y at (1.0001, 10⁴) exactly is 10⁴·(10001/10⁴)**9999: integers of about 40 000 digits (Python will
    # not write more than 4300); --digits still gives its digits, from mpmath here as reference
    code, out, err = run("derivative", "x**y", "--wrt", "x", "--at", "1.0001,1e4", "--exact")
    assert code == 2 and out == ""
    assert err.startswith("Error: --exact: the exact value has an integer of about 3999") and "--digits N" in err
    code, out, err = run("derivative", "x**y", "--wrt", "x", "--at", "1.0001,1e4", "--digits", "30")
    with mpmath.workdps(60):
        want = mpmath.nstr(10**4 * (mpmath.mpf(10001) / 10**4) ** 9999, 30)
    assert (code, out.strip()) == (0, want)
    # below the limit the exact value is written out whole: 200·1.0001**199 = 200·10001**199/10**796
    code, out, err = run("derivative", "x**y", "--wrt", "x", "--at", "1.0001,200", "--exact")
    assert code == 0 and out.strip() == str(Fraction(200 * 10001**199, 10**796))


def test_the_verifier_evaluates_functions_at_the_point_to_its_digits():
    # evalf reads an mpmath number in the point directly in sums and products, but substitutes it into a function
    # it has no rule for (tanh), rounded to 15 digits: tanh's 20th derivative at 0.7 came out at the double nearest
    # 0.7 (32176600064394.188, not .16). The point stays sympy Floats; checked here at 40 digits, in one process
    # whatever ran before (sympy's caches hid it in the suite)
    import sympy

    from jaccli.accuracy import Verifier

    x = sympy.Symbol("x")
    verifier = Verifier({x: sympy.Rational(7, 10)}, 10.0)
    number, guaranteed = verifier.evaluate(sympy.tanh(x) * sympy.exp(x), 40)
    with mp.workdps(60):
        want = mp.tanh(mp.mpf(7) / 10) * mp.exp(mp.mpf(7) / 10)
        assert guaranteed and abs(mp.mpf(number._mpf_) - want) <= mp.mpf(10) ** -39 * want


def test_one_evalf_that_runs_away_ends_with_the_budget():
    # the checks between evaluations cannot stop one evaluation: e to ten million digits takes minutes; the CPU
    # timer of budget.cpu_deadline ends it at the verifier's deadline, and the entry is left unverified
    import time

    import sympy

    from jaccli.accuracy import Verifier

    verifier = Verifier({}, 0.5)
    start = time.process_time()
    assert verifier.evaluate(sympy.E, 10**7) is None
    assert verifier.out_of_time() and time.process_time() - start < 5.0  # CPU time: minutes without the timer
