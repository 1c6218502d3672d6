"""The numeric path (more than 64 inputs, and ``--points``) has no formula to verify: an entry the multi-precision
pass does not settle (past ``limits.MULTI_WORK``, and every ``--points`` line) is float64 arithmetic with an error
estimate, and an entry whose digits are in doubt is named in a warning (exit 1) — never silent garbage (issue 15).
Where an intermediate overflows or underflows but the answer is an ordinary number, the answer is printed. These
tests are about that estimate, so the multi-precision pass is off here (``limits.MULTI_WORK`` = 0, as for a graph
too large for it); tests/test_multi_precision.py tests the pass. References: mpmath at 50 digits on derivatives
written out here by hand, and closed forms; never jaccli's own output.
"""

from __future__ import annotations

import json
import math

import mpmath
import numpy as np
import pytest

from jaccli import accuracy, compute, limits
from jaccli.evaluate import Evaluator, random_rounding
from jaccli.ir import build
from jaccli.parsing import parse

mpmath.mp.dps = 50
mp = mpmath
N = 70  # inputs: beyond accuracy.SYMBOLIC_INPUTS, so the numeric path
WIDER = np.finfo(np.longdouble).maxexp > np.finfo(float).maxexp  # x86: 80-bit long double, exponents to ±4932


@pytest.fixture(autouse=True)
def _estimate_only(monkeypatch):
    """Every graph past the multi-precision pass's work limit: the estimate is what these tests check."""
    monkeypatch.setattr(limits, "MULTI_WORK", 0)


def _vector(value: str, count: int = N) -> str:
    return ",".join([value] * count)


def _close(got: float, want, rtol: float = 1e-10) -> bool:
    return abs(mp.mpf(got) - want) <= rtol * abs(want)


# float64 cancels these to noise (or to 0) at the point: (expression, point, the derivative by hand)
CANCELLING = [
    ("log(x) - log(1+x)", "1e10", lambda x: 1 / x - 1 / (1 + x)),  # 1/x − 1/(1+x): the difference of neighbours
    ("atan(x) - x", "1e-6", lambda x: 1 / (1 + x**2) - 1),  # 1/(1 + 1e-12) − 1: twelve digits cancel
    ("(sqrt(1+x)-1)/x", "1e-12", lambda x: (x / (2 * mp.sqrt(1 + x)) - (mp.sqrt(1 + x) - 1)) / x**2),
    ("(1-cos(x))/x**2", "1e-12", lambda x: (mp.sin(x) * x - 2 * (1 - mp.cos(x))) / x**3),
    ("(exp(x)-1)/x", "1e-10", lambda x: (x * mp.exp(x) - (mp.exp(x) - 1)) / x**2),
    ("(exp(x)-1-x)/x**2", "1e-10", lambda x: ((mp.exp(x) - 1) * x**2 - 2 * x * (mp.exp(x) - 1 - x)) / x**4),
    ("x**7-7*x**6+21*x**5-35*x**4+35*x**3-21*x**2+7*x-1", "1.0001", lambda x: 7 * (x - 1) ** 6),  # (x-1)**7 expanded
    ("x - sin(x)", "1e-9", lambda x: 1 - mp.cos(x)),
    ("sin(x)/x", "1e-9", lambda x: (x * mp.cos(x) - mp.sin(x)) / x**2),
]


@pytest.mark.parametrize(("expression", "at", "derivative"), CANCELLING, ids=[c[0] for c in CANCELLING])
def test_a_cancellation_beyond_the_formula_is_named_not_silent(run, expression, at, derivative):
    code, out, err = run("derivative", expression, "--at", _vector(at), "--format", "json")
    want = derivative(mp.mpf(float(at)))
    values = json.loads(out)["value"]
    wrong = [v for v in values if not _close(v, want)]
    assert wrong  # float64 cannot do these: the test is about saying so
    assert code == 1
    assert f"entries have fewer than {accuracy.TRUSTED_DIGITS} correct significant digits by a random-rounding" in err
    assert int(err.split("Warning: ")[1].split(" of ")[0]) >= len(wrong)  # every wrong entry is counted
    named = err.split("(", 1)[1]
    assert named.startswith("f₀: ") and "digit" in named.split(";")[0]


def test_a_cancelling_jacobian_names_its_diagonal(run):
    code, out, err = run("jacobian", "(sqrt(1+x)-1)/x", "--at", _vector("1e-12"), "--format", "json")
    assert code == 1
    assert f"{N} of {N * N} entries have fewer than" in err  # the diagonal; the zeros off it are exact
    assert "(f₀, x[0]: no digit; f₁, x[1]: no digit;" in err


def test_a_cancellation_is_found_in_a_gradient_too(run):
    code, out, err = run("gradient", "sum((sqrt(1+x)-1)/x)", "--at", _vector("1e-12"), "--format", "json")
    assert code == 1 and f"{N} of {N} entries have fewer than" in err and "(x[0]: no digit; x[1]:" in err


@pytest.mark.parametrize(("expression", "derivative"), [
    ("(sqrt(1+x)-1)/x", lambda x: (x / (2 * mp.sqrt(1 + x)) - (mp.sqrt(1 + x) - 1)) / x**2),
    ("(1-cos(x))/x**2", lambda x: (mp.sin(x) * x - 2 * (1 - mp.cos(x))) / x**3),
    ("(exp(x)-1)/x", lambda x: (x * mp.exp(x) - (mp.exp(x) - 1)) / x**2),
    ("log(x) - log(1+x)", lambda x: 1 / x - 1 / (1 + x)),
])
def test_every_entry_not_named_is_right_to_nine_digits(expression, derivative):
    """Entry by entry, at 70 points over 11 decades (some entries cancel a little, some completely): every entry
    the estimate trusts is within 1e-9 of the exact value, and the warning counts the others."""
    xs = np.logspace(-12, -1, N) if expression.startswith("(") else np.logspace(1, 14, N)
    result = compute.derivative(expression, [",".join(map(repr, xs.tolist()))])
    numbers, point = result.numbers, result.numbers.problem.point[None]
    plain, _ = numbers.at(point)
    value, digits = accuracy.estimate_points(lambda columns: numbers.at(columns)[0], point, plain, widen=True,
                                             typed=numbers.problem.typed_point()[0][None],
                                             inexact=numbers.problem.typed_point()[1][None])
    assert value[0].tolist() == np.ravel(result.value).tolist()  # what was printed
    trusted = digits[0] >= accuracy.TRUSTED_DIGITS
    for x, v, ok in zip(xs, value[0], trusted, strict=True):
        exact = derivative(mp.mpf(float(x)))
        if ok:
            assert _close(v, exact, 1e-9) or float(exact) == v, (x, v, exact)
    doubt = int((~trusted).sum())
    assert 0 < doubt < N
    assert result.warnings[0].startswith(f"{doubt} of {N} entries have fewer than")


def test_a_result_beyond_the_full_estimate_is_still_estimated(run, tmp_path):
    """Beyond accuracy.ESTIMATE_ENTRIES entries the estimate is cheaper (one randomly rounded evaluation), not
    absent: the cancelling entries are named, the ordinary ones left alone."""
    n = accuracy.ESTIMATE_ENTRIES + 10
    xs = np.full(n, 0.5)
    xs[::1000] = 1e-12  # 101 entries where (exp(x) - 1)/x cancels
    path = tmp_path / "x.txt"
    path.write_text("\n".join(map(repr, xs.tolist())))
    code, out, err = run("derivative", "(exp(x)-1)/x", "--at", f"@{path}", "--format", "json")
    assert code == 1
    assert err.startswith(f"Warning: 101 of {n} entries have fewer than {accuracy.TRUSTED_DIGITS} correct")
    assert "(f₀: " in err and "f₁₀₀₀: " in err
    x = mp.mpf(0.5)
    assert json.loads(out)["value"][1] == pytest.approx(float((x * mp.exp(x) - mp.expm1(x)) / x**2), rel=1e-15)


def test_the_numeric_path_reads_the_point_as_typed_where_it_matters():
    """tan(1/x) at 1e-8 is so sensitive that the double nearest 1e-8 moves the answer in its 8th digit: the
    longdouble evaluation reads the decimal as typed (as the formula path does), and is taken when its own
    estimate trusts it. Reference: mpmath at the decimal; JAX's float64 gets it only because its 1/x happens to
    round to exactly 1e8."""
    result = compute.derivative("tan((x/x)/x)", [_vector("1e-8")])
    want = float(-mp.sec(1 / mp.mpf("1e-8")) ** 2 / mp.mpf("1e-8") ** 2)
    assert not result.warnings
    for v in np.ravel(result.value):
        assert abs(v - want) <= 2 * math.ulp(want), (v, want)


def test_a_point_too_sensitive_for_longdouble_is_named():
    """atanh′ at 0.9999999999 as typed: 1/(1 − x²) ≈ 5e9 moves by 1e10 times the point's relative error, and
    longdouble holds 0.9999999999 to 5e-20: about 9 digits are left. The estimate perturbs the typed entries like a
    rounding, so it names them; what is printed is the value at the typed decimal (float64, at the double nearest
    it, is 8e-8 away)."""
    result = compute.derivative("atanh(x)", [_vector("0.9999999999")])
    with mp.workdps(50):
        want = 1 / (1 - mp.mpf("0.9999999999") ** 2)
    assert result.exit_code == 1 and "have fewer than 10 correct significant digits" in result.warnings[0]
    assert all(abs(v - want) <= 1e-8 * want for v in np.ravel(result.value))


def test_erf_in_longdouble_is_right_to_its_64_bits():
    """The wider evaluation's erf (math.erf is a double's): within 12 units of 2⁻⁶⁴ of mpmath over ±8 (measured
    at most 8.9, at 1.5, over 1601 points): 180 times a double's unit roundoff finer."""
    from jaccli.registry import _erf

    xs = np.concatenate([np.linspace(-8, 8, 161), [1e-3, -1e-7, 1e-30, 6.49, 6.51]]).astype(np.longdouble)
    for x, got in zip(xs, _erf(xs), strict=True):
        with mp.workdps(40):
            want = mp.erf(mp.mpf(str(x)))  # str: every digit of the longdouble
            assert abs(mp.mpf(str(got)) - want) <= 12 * 2.0**-64 * abs(want), x


def test_a_cancellation_inside_erf_is_settled_by_the_wider_evaluation():
    """d/dx atan2(x, erf(x)) = (erf x − x·erf′x)/(x² + erf² x) cancels six digits near 1e-3: float64 (and JAX)
    are ~3e6 ulps off; the longdouble evaluation, with its own erf and π, has 11 bits more to lose: measured 452
    ulps, i.e. 13 correct digits (what six cancelled digits leave of longdouble's 19)."""
    result = compute.derivative("atan2(x, erf(x))", [_vector("1e-3")])
    with mp.workdps(50):
        x = mp.mpf("1e-3")
        e = mp.erf(x)
        want = float((e - x * 2 / mp.sqrt(mp.pi) * mp.exp(-x * x)) / (x * x + e * e))
    assert not result.warnings
    for v in np.ravel(result.value):
        assert abs(v - want) <= 2000 * math.ulp(want), ((v - want) / math.ulp(want))


def test_a_typed_constant_is_read_as_typed_by_the_wider_evaluation():
    """0.1 in the expression is 1/10 in longdouble (to 64 bits), not the double nearest it: exp(0.1·x)′ at 70
    entries of 300 is the value at the decimals, within an ulp."""
    result = compute.derivative("exp(0.1*x)", [_vector("300")])
    want = float(mp.mpf("0.1") * mp.exp(mp.mpf("0.1") * 300))
    assert not result.warnings
    assert all(abs(v - want) <= math.ulp(want) for v in np.ravel(result.value))


def test_formulas_too_large_to_write_out_give_numbers_at_a_point(run):
    """x/‖x‖ at 64 inputs is beyond the symbolic work limit (refused without a point): at a point its Jacobian comes
    from the engines with the estimate, and a note; every entry within 4 ulps of I/‖x‖ − x xᵀ/‖x‖³ by mpmath."""
    xs = [f"{v:.3f}" for v in np.random.default_rng(64).normal(size=64)]
    code, out, err = run("jacobian", "x/norm(x)", "--at", ",".join(xs), "--format", "json")
    assert code == 0
    assert err.startswith("Note: no formula: the formulas would be too large to write out")
    doc = json.loads(out)
    assert doc["symbolic"] is None
    x = [mp.mpf(v) for v in xs]
    norm = mp.sqrt(mp.fsum(v * v for v in x))
    for i in range(64):
        for j in range(64):
            want = float((int(i == j) - x[i] * x[j] / norm**2) / norm)
            assert abs(doc["value"][i][j] - want) <= 4 * math.ulp(want), (i, j)
    code, _, err = run("jacobian", "x/norm(x)", "--shape", "x=64")
    assert code == 2 and "too large to differentiate symbolically" in err
    code, _, err = run("jacobian", "x/norm(x)", "--at", ",".join(xs), "--exact")
    assert code == 2 and "too large to differentiate symbolically" in err


# ordinary results: no warning, and the numbers right
def test_saturated_tanh_is_right_without_a_formula(run):
    """tanh′ is the registry's sech² = 1/cosh², not 1 − tanh²: the latter printed 0 at ±40 (and lost ~188 ulps
    on average elsewhere); every entry within 2 ulps of mpmath, no warning."""
    xs = np.concatenate([np.linspace(-40, 40, N - 4), [19.0, 300.0, -700.0, 1e-8]])
    code, out, err = run("derivative", "tanh(x)", "--at", ",".join(map(repr, xs.tolist())), "--format", "json")
    assert (code, err) == (0, "")
    for x, v in zip(xs.tolist(), json.loads(out)["value"], strict=True):
        want = float(1 / mp.cosh(mp.mpf(repr(x))) ** 2)  # at the decimal typed, as the formula path reads it
        assert abs(v - want) <= 2 * math.ulp(want), (x, v, want)


def test_a_rosenbrock_gradient_at_ten_thousand_points_is_quiet(run):
    x = np.random.default_rng(7).normal(size=10_000)
    code, out, err = run("gradient", "sum(100*(x[1:]-x[:-1]**2)**2 + (1-x[:-1])**2)", "--at",
                         ",".join(map(repr, x.tolist())), "--format", "json")
    assert (code, err) == (0, "")
    want = np.zeros_like(x)  # by hand: ∂/∂x_i of the two terms that hold x_i
    want[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    want[1:] += 200 * (x[1:] - x[:-1] ** 2)
    np.testing.assert_allclose(json.loads(out)["value"], want, rtol=1e-10, atol=1e-10)


def test_a_layer_jacobian_is_quiet(run, tmp_path):
    rng = np.random.default_rng(8)
    n = 200
    w, x, b = rng.normal(size=(n, n)) / math.sqrt(n), rng.normal(size=n), rng.normal(size=n)
    np.save(tmp_path / "w.npy", w)
    code, out, err = run("jacobian", "tanh(W @ x + b)", "--wrt", "x", "--at", f"x={x.tolist()!r}",
                         "--at", f"W=@{tmp_path / 'w.npy'}", "--at", f"b={b.tolist()!r}", "--format", "json")
    assert (code, err) == (0, "")
    z = w @ x + b
    np.testing.assert_allclose(json.loads(out)["value"], (1 / np.cosh(z) ** 2)[:, None] * w, rtol=1e-12, atol=1e-300)


def test_a_maximum_of_computed_values_is_quiet(run):
    """max's derivative compares its arguments with its result: random rounding must leave that result alone."""
    x = np.linspace(-1.0, 1.3, N)
    code, out, err = run("gradient", "max(sin(x))", "--at", ",".join(map(repr, x.tolist())), "--format", "json")
    assert (code, err) == (0, "")
    want = np.zeros(N)
    want[np.argmax(np.sin(x))] = math.cos(x[np.argmax(np.sin(x))])  # d max(sin x)/dx_k: cos at the winner only
    np.testing.assert_allclose(json.loads(out)["value"], want, rtol=1e-15)


# intermediate overflow and underflow: the answer is an ordinary number, so it is printed
RANGE = [
    ("gradient", "norm(x)", ["1e200"], lambda x: [1 / mp.sqrt(N)] * N),
    ("gradient", "norm(x)", ["1e-200"], lambda x: [1 / mp.sqrt(N)] * N),
    ("derivative", "sqrt(x**2+(2*x)**2)", ["1e-200"], lambda x: [mp.sqrt(5)] * N),
    ("derivative", "log(1+exp(x))", ["800"], lambda x: [1 / (1 + mp.exp(-x))] * N),
    ("derivative", "log(cosh(x))", ["800"], lambda x: [mp.tanh(x)] * N),
    ("derivative", "1/(1+x**2)", ["1e100"], lambda x: [-2 * x / (1 + x**2) ** 2] * N),
]


@pytest.mark.parametrize(("command", "expression", "at", "want"), RANGE, ids=[f"{c[1]} at {c[2][0]}" for c in RANGE])
def test_an_intermediate_out_of_range_does_not_reach_the_answer(run, command, expression, at, want):
    code, out, err = run(command, expression, "--at", _vector(at[0]), "--format", "json")
    values = json.loads(out)["value"]
    if not WIDER:  # no wider exponent range on this platform: named, never a silent wrong number
        assert code == 1 and err
        return
    assert (code, err) == (0, "")
    for got, exact in zip(np.ravel(values), want(mp.mpf(at[0])), strict=True):
        assert _close(got, exact, 1e-15), (got, exact)


def test_a_unit_vector_jacobian_at_1e200(run):
    code, out, err = run("jacobian", "x/norm(x)", "--at", _vector("1e200"), "--format", "json")
    if not WIDER:
        assert code == 1
        return
    assert (code, err) == (0, "")
    x = mp.mpf("1e200")
    r = mp.sqrt(N) * x  # ∂(x_i/|x|)/∂x_j = (δ_ij - x_i x_j/|x|²)/|x|
    want = np.array([[float((int(i == j) - x * x / r**2) / r) for j in range(N)] for i in range(N)])
    np.testing.assert_allclose(json.loads(out)["value"], want, rtol=1e-15)


def test_elementwise_over_two_variables_at_1e_minus_200(run):
    code, out, err = run("gradient", "sum(sqrt(x**2+y**2)) + sum(atan2(y, x))", "--at", "x=" + _vector("1e-200", 35),
                         "--at", "y=" + _vector("2e-200", 35), "--format", "json")
    if not WIDER:
        assert code == 1
        return
    assert (code, err) == (0, "")
    x, y = mp.mpf("1e-200"), mp.mpf("2e-200")
    h = x * x + y * y  # ∂/∂x = x/√h - y/h, ∂/∂y = y/√h + x/h
    want = [float(x / mp.sqrt(h) - y / h)] * 35 + [float(y / mp.sqrt(h) + x / h)] * 35
    np.testing.assert_allclose(json.loads(out)["value"], want, rtol=1e-15)


def test_an_answer_beyond_the_doubles_stays_null_with_a_warning(run):
    code, out, err = run("derivative", "exp(x)", "--at", _vector("800"), "--format", "json")
    assert code == 1 and "not finite" in err
    assert json.loads(out)["value"] == [None] * N


def test_an_underflow_that_does_not_matter_is_quiet(run):
    """exp(-800) underflows to 0, and 1 + exp(-800) is 1 all the same: no warning."""
    code, out, err = run("derivative", "x + exp(-x)", "--at", _vector("800"), "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["value"] == [1.0] * N  # 1 - e^-800, correctly rounded


# --points: the same estimate, point by point
def test_points_name_the_rows_in_doubt(run):
    lines = "0.5\n1e-12\n40\n2\n"
    code, out, err = run("derivative", "(exp(x)-1)/x", "--points", "-", "--format", "csv", input=lines)
    assert code == 1
    rows = out.splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ["0.5", "1e-12", "40", "2"]
    x = mp.mpf(0.5)
    assert float(rows[0].split(",")[1]) == pytest.approx(float((x * mp.exp(x) - mp.expm1(x)) / x**2), rel=1e-14)
    assert err.splitlines() == [f"Warning: point 2: 1 of 1 entries have fewer than {accuracy.TRUSTED_DIGITS} "
                                "correct significant digits by a random-rounding estimate (f: no digit)"]


def test_points_quiet_when_float64_holds(run):
    xs = np.linspace(-3, 3, 50)
    code, out, err = run("derivative", "sin(x)*x", "--points", "-", "--format", "csv",
                         input="\n".join(map(repr, xs.tolist())) + "\n")
    assert (code, err) == (0, "")
    got = [float(r.split(",")[1]) for r in out.splitlines()[1:]]
    np.testing.assert_allclose(got, np.sin(xs) + xs * np.cos(xs), rtol=1e-14, atol=1e-15)


def test_points_out_of_range_intermediates_are_printed(run):
    code, out, err = run("gradient", "sqrt(x**2+y**2)", "--points", "-", "--format", "csv",
                         input="1e-200,2e-200\n3,4\n1e200,1e200\n")
    rows = [[float(v) for v in r.split(",")[2:]] for r in out.splitlines()[1:]]
    if not WIDER:
        assert code == 1
        return
    assert (code, err) == (0, "")
    np.testing.assert_allclose(rows, [[1 / math.sqrt(5), 2 / math.sqrt(5)], [0.6, 0.8], [0.5**0.5, 0.5**0.5]],
                               rtol=1e-15)


def test_points_name_the_first_few_and_count_the_rest(run):
    count = accuracy.NAMED_POINTS + 5
    code, out, err = run("derivative", "(exp(x)-1)/x", "--points", "-", "--format", "plain",
                         input="1e-12\n" * count)
    lines = err.splitlines()
    assert code == 1 and len(lines) == accuracy.NAMED_POINTS + 1
    assert lines[-1].startswith(f"Warning: {count} points in all have entries with fewer than")


# the estimate itself
def test_significant_digits_of_samples():
    samples = [np.array([1.0, 0.0, 0.0, np.inf, 5.0, 2.0]),
               np.array([1.0, 0.0, 1e-20, np.inf, 5.0 * (1 + 2.0**-45), np.nan]),
               np.array([1.0, 0.0, -1e-20, np.inf, 5.0 * (1 - 2.0**-45), 2.0])]
    digits = accuracy.significant_digits(samples, amplify=256.0)
    full = 53 * math.log10(2)
    assert digits[0] == digits[1] == pytest.approx(full)  # equal samples, exact zeros included
    assert digits[2] == 0.0  # noise about zero
    assert math.isnan(digits[3])  # the same non-finite value: not a digit question
    # CESTAC with N = 3: log10(√3·|v| / (τ·σ)), σ of {0, +d, -d} is d, scaled back by 256
    d = 5.0 * 2.0**-45 / 256
    assert digits[4] == pytest.approx(math.log10(math.sqrt(3) * 5.0 / (4.303 * d)), abs=1e-9)
    assert digits[5] == 0.0  # finite in some samples only: an overflow in one of them


def _evaluate(expression: str, x: np.ndarray, seed: int) -> np.ndarray:
    root = build(parse(expression).tree, {"x": (x.size,)})
    with random_rounding(np.random.default_rng(seed), 256.0):
        return Evaluator({"x": x[None]}, 1)(root)[0]


def test_random_rounding_moves_computed_values_only():
    x = np.array([0.0, 1.5, 3.0])
    assert _evaluate("x", x, 1).tolist() == x.tolist()  # a variable is as given
    got = _evaluate("sin(x)", x, 1)
    assert got[0] == 0.0 and got[1] != math.sin(1.5)  # zero stays exact; other values move ...
    assert abs(got[1] / math.sin(1.5) - 1) <= 256 * 2.0**-53  # ... by at most amplify unit roundoffs
    assert _evaluate("x**(4-1)", np.array([-2.0]), 1)[0] == pytest.approx(-8.0)  # 4-1 is a constant: not moved


def test_random_rounding_taints_an_overflow_and_marks_an_underflow():
    assert math.isnan(_evaluate("1/exp(x)", np.array([800.0]), 2)[0])  # x/inf = 0 would hide the overflow
    tiny = _evaluate("exp(-x)*1e300", np.array([800.0]), 2)[0]
    assert 0.0 < tiny <= np.finfo(float).tiny * 1e300  # exp(-800) underflowed: a random number below the normals
    assert _evaluate("1 + exp(-x)", np.array([800.0]), 2)[0] == pytest.approx(1.0, abs=1e-12)  # and is absorbed


def test_the_estimate_is_repeatable(run):
    at = ",".join(map(repr, np.logspace(-12, -1, N).tolist()))
    first = run("derivative", "(sqrt(1+x)-1)/x", "--at", at)
    assert first[0] == 1 and run("derivative", "(sqrt(1+x)-1)/x", "--at", at) == first


def test_the_numeric_path_rounds_through_longdouble_a_hessian_jax_rounds_worse():
    # H of (x·x)·prod(x) with 70 inputs in [0.5, 1.5] (issue 15's worse-than-JAX family: JAX is 6 ulps off, the
    # float64 evaluation 11): each entry within 1 ulp of the closed form, 2δij·P + 2(xi·P/xj + xj·P/xi) + S·P/(xi·xj)
    xs = np.random.default_rng(3).uniform(0.5, 1.5, N)
    result = compute.hessian("dot(x, x) * prod(x)", [",".join(map(repr, xs.tolist()))])
    assert not result.warnings
    with mp.workdps(50):
        x = [mp.mpf(repr(v)) for v in xs.tolist()]  # the decimals typed, as the longdouble evaluation reads them
        s, p = mp.fsum(v * v for v in x), mp.fprod(x)
        for i in range(N):
            for j in range(N):
                want = 2 * p + 2 * (2 * x[i] * p / x[i]) if i == j else \
                    2 * (x[i] * p / x[j] + x[j] * p / x[i]) + s * p / (x[i] * x[j])
                got = float(result.value[i, j])
                assert abs(got - float(want)) <= np.spacing(abs(float(want))), (i, j)


def test_linear_algebra_stays_float64_when_longdouble_has_no_form_of_it():
    # numpy's det/inv have no longdouble: the numeric path (81 inputs) keeps float64 and answers, no internal error
    a = np.random.default_rng(9).normal(size=(9, 9))
    text = "[" + ",".join("[" + ",".join(map(repr, row)) + "]" for row in a.tolist()) + "]"
    result = compute.gradient("det(A)", [f"A={text}"])
    np.testing.assert_allclose(result.value, np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-12)  # Jacobi's formula
