"""Problems users met, each with its reference: closed forms by hand, or what the README says.

A field written in fewer variables than components, misspelt names, sympy's E, a check at a kink, an analysis
of a result that is not finite, inequality constraints, numpy's warnings, and where's derivative."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import mpmath
import pytest


def _json(run, *args):
    code, out, err = run(*args, "--format", "json")
    return code, (json.loads(out) if out.strip() else None), err


@pytest.mark.parametrize(("command", "field", "point", "want"), [
    ("curl", "[-y, x, 0]", "1,2,3", [0.0, 0.0, 2.0]),  # the rotation field: curl (0, 0, 2)
    ("div", "[x, y, 0]", "1,2,3", 2.0),
    ("curl", "[-y, x]", "1,2", 2.0),  # a 2-D field: the scalar curl
])
def test_a_field_that_leaves_a_variable_out_takes_a_point_in_all_of_them(run, command, field, point, want):
    code, doc, err = _json(run, command, field, "--at", point)
    assert code == 0, err
    assert doc["value"] == want


def test_a_misspelt_shape_name_is_refused(run):
    code, out, err = run("jacobian", "x*2", "--shape", "X=3")
    assert code == 2 and out == ""
    assert err.startswith("Error: --shape names X, which the expression does not use (its variables: x)")


def test_a_misspelt_point_name_gets_the_nearest(run):
    code, out, err = run("gradient", "theta*r", "--at", "thta=1,r=2")
    assert code == 2
    assert "did you mean 'theta'?" in err


def test_the_hint_names_every_variable(run):
    code, out, err = run("gradient", "x*y*z", "--at", "1")
    assert code == 2
    assert "--at x=1,y=2,z=3." in err


def test_e_is_printed_as_typed_and_reads_back(run):
    code, doc, err = _json(run, "derivative", "e*x")
    assert doc["symbolic"] == "e"
    code, doc, err = _json(run, "taylor", "exp(x)", "--at", "1")
    assert code == 0, err
    assert doc["value"] == "e + e*(x - 1)" or doc["symbolic"] == "e + e*(x - 1)"
    # what was printed means the same typed back in: d/dx (e + e*(x - 1)) = e
    code, doc, err = _json(run, "derivative", "e + e*(x - 1)", "--at", "0")
    assert code == 0 and doc["value"] == math.e


def test_check_at_a_kink_cannot_compare(run):
    # sign(x) at 0: the central difference is 1/h, no better than its own error estimate: no verdict, exit 1
    code, doc, err = _json(run, "check", "sign(x)", "--at", "0")
    assert code == 1
    assert doc["ok"] is False and doc["disagrees"] is False and doc["compared"] == 0
    assert "Check: cannot compare with central differences" in err


def test_check_of_a_zero_entry_still_agrees(run):
    code, doc, err = _json(run, "check", "max(x, 2*y)", "--at", "3,1")
    assert code == 0, err
    assert doc["ok"] is True and doc["compared"] == 2


@pytest.mark.parametrize(("args", "key"), [
    (("hessian", "exp(x)", "--at", "800", "--svd"), "singular_values"),
    (("jacobian", "[exp(x), y]", "--at", "800,0", "--eig"), "eigenvalues"),
])
def test_an_analysis_of_a_result_that_is_not_finite_keeps_the_result(run, args, key):
    code, doc, err = _json(run, *args)
    assert code == 1  # not finite, as documented; not bad input (2)
    assert doc is not None and doc[key] is None
    assert None in [v for row in doc["value"] for v in row]  # exp(800) overflows a double: null
    assert "not finite at this point" in err


def test_an_inequality_constraint_is_refused(run):
    code, out, err = run("critical", "x**2 + y**2", "--constraint", "x + y <= 1")
    assert code == 2 and out == ""
    assert "only equations are supported" in err


def test_a_double_equals_constraint_is_an_equation(run):
    code, doc, err = _json(run, "critical", "x**2 + y**2", "--constraint", "x + y == 1")
    assert code == 0, err
    code2, doc2, err2 = _json(run, "critical", "x**2 + y**2", "--constraint", "x + y = 1")
    assert doc["critical_points"] == doc2["critical_points"]
    (found,) = doc["critical_points"]  # the minimum of x² + y² on x + y = 1: (1/2, 1/2), f = 1/2
    assert found["point"] == [0.5, 0.5] and found["value"] == 0.5 and found["type"] == "minimum"


def test_a_coordinate_singularity_prints_no_numpy_warning(run):
    code, out, err = run("laplacian", "r^2", "--coords", "spherical", "--vars", "r,theta,phi", "--at", "1,0,0")
    assert "RuntimeWarning" not in err
    assert out.strip() == "6"  # ∇²r² = 6 in any coordinates


@pytest.mark.parametrize(("point", "want"), [
    ("0", 0.0),  # sinc′(0) = 0: the unchosen branch's derivative (NaN at 0) is not multiplied by 0
    ("0.5", (0.5 * math.cos(0.5) - math.sin(0.5)) / 0.25),  # (x cos x − sin x)/x²
])
def test_where_takes_the_chosen_branchs_derivative(run, point, want):
    code, doc, err = _json(run, "derivative", "where(x != 0, sin(x)/x, 1)", "--at", point)
    assert code == 0, err
    assert doc["value"] == pytest.approx(want, rel=1e-15, abs=0)


@pytest.mark.parametrize("matrix", ["[[1,2],[2,4]]", "[[1,2,3],[4,5,6],[7,8,9]]"])
def test_the_gradient_of_logdet_at_a_singular_matrix_is_not_finite(run, matrix):
    # ∇ log|det A| = A⁻ᵀ, which does not exist there: the README says so, and the result must not be zeros
    code, doc, err = _json(run, "gradient", "logdet(A)", "--at", f"A={matrix}")
    assert code == 1
    assert all(v is None for row in doc["value"] for v in row)
    assert "not finite" in err


def test_the_gradient_of_logdet_is_the_inverse_transpose(run):
    code, doc, err = _json(run, "gradient", "logdet(A)", "--at", "A=[[1,2],[3,5]]")
    assert code == 0, err
    assert doc["value"] == [[-5.0, 3.0], [2.0, -1.0]]  # det = −1: A⁻ᵀ = [[5, −3], [−2, 1]]ᵀ/(−1)


@pytest.mark.parametrize(("expression", "point", "want"), [
    ("abs(x)", "1", "1 + (x - 1)"),  # |x| = x near 1
    ("sign(x)", "1", "1"),
    ("abs(x - 1) + x", "0", "1"),  # 1 − x + x
])
def test_taylor_of_abs_and_sign_away_from_0(run, expression, point, want):
    code, out, err = run("taylor", expression, "--at", point, "--format", "plain")
    assert code == 0, err
    assert out.strip() == want


def test_taylor_where_a_derivative_is_infinite(run):
    code, out, err = run("taylor", "1/x", "--at", "0")
    assert code == 2 and out == ""
    assert err.strip() == ("Error: f has no Taylor polynomial of order 1 here: a derivative at the point is infinite "
                           "or undefined")


@pytest.mark.parametrize(("field", "point", "small"), [
    ("[x, 1e-200*y]", "1,1", 1e-200),
    ("[2*x, 3*y, 1e-100*z]", "1,1,1", 1e-100),
])
def test_tiny_eigenvalues_and_singular_values_are_not_zero(run, field, point, small):
    # a diagonal J: its eigenvalues and singular values are its diagonal, 1e-200 as much as 1
    code, doc, err = _json(run, "jacobian", field, "--at", point, "--eig", "--svd")
    assert min(re for re, im in doc["eigenvalues"]) == small
    assert min(doc["singular_values"]) == small
    assert doc["stability"] == "unstable"  # all positive: no zero eigenvalue


def test_a_plot_of_values_near_the_largest_double(run):
    # exp over [0, 709] reaches 8.2e307: plotext's ticks overflowed (exit 3); drawn divided by 1e307
    code, out, err = run("plot", "exp(x)", "--range", "0,709")
    assert code == 0, err
    assert "f ÷ 1e+307" in out
    code, out, err = run("plot", "x", "--range", "1e300,1.7e308")
    assert code == 0, err
    assert "x ÷ 1e+308" in out


@pytest.mark.parametrize(("args", "title"), [
    (("gradient", "x**2", "--at", "1.0000001"), "Gradient of x**2 at x = 1.0000001"),
    (("jacobian", "[r*cos(t), r*sin(t)]", "--vars", "r,t", "--at", "2,pi/3"),
     "Jacobian of [r*cos(t), r*sin(t)] at r = 2, t = pi/3"),
    (("gradient", "sum(x**2)", "--at", "123456789012,0.5"), "Gradient of sum(x**2) at x = [123456789012, 0.5]"),
])
def test_the_title_shows_the_point_as_typed(run, args, title):
    code, out, err = run(*args, "--format", "table")
    assert code == 0, err
    assert out.splitlines()[0] == title


@pytest.mark.parametrize("long", [2_000_000, 1_048_577, 5_000_000])
def test_skip_bad_skips_a_line_longer_than_the_limit(run, tmp_path, long):
    # the README: --skip-bad skips a line longer than 1 MiB with a warning, as a line that is not UTF-8
    path = tmp_path / "points.txt"
    path.write_bytes(b"1 2\n" + b"8" * long + b"\n3 4\n" + b" " * long + b"\n5 6\n" + b"7" * long)
    code, out, err = run("gradient", "x*y", "--points", str(path), "--skip-bad")
    assert code == 0, err
    assert out.split("\n") == ["2 1", "4 3", "6 5", ""]  # ∇(xy) = (y, x) at each good line, in order
    assert [line for line in err.splitlines() if "skipped" in line] == [
        f"Warning: line {n} skipped: longer than 1 MiB" for n in (2, 4, 6)]
    code, out, err = run("gradient", "x*y", "--points", str(path))
    assert code == 2 and out == "2 1\n"
    assert "line 2 is longer than 1 MiB" in err


def test_digits_of_an_exact_zero(run):
    # d/dx cos(x) = −sin(x) is exactly 0 at π as typed; the README: zero prints as "0"
    code, out, err = run("derivative", "cos(x)", "--at", "pi", "--digits", "20")
    assert code == 0, err
    assert out.strip() == "0"
    code, doc, err = _json(run, "jacobian", "[sin(x), cos(y)]", "--at", "pi,pi/2", "--digits", "10")
    assert code == 0, err
    assert doc["digits"] == [["-1.000000000", "0"], ["0", "-1.000000000"]]
    code, out, err = run("derivative", "cos(x)", "--at", "1e-30", "--digits", "20")  # tiny, not zero
    assert out.strip() == "-1.0000000000000000000e-30"


@pytest.mark.parametrize(("expression", "point", "want", "kind"), [
    # abs(u)′ = sign(u)·u′ and relu(u)′ = step(u)·u′ with sign(0) = 0, step(0) = 1/2 (the README's conventions):
    # float64's sin(π) is 1.2e-16, beside the kink, and gave −1 where --exact gives 0
    ("abs(sin(x))", "pi", 0.0, "sign"),
    ("relu(cos(x))", "pi/2", -0.5, "step"),  # step(0)·(−sin(π/2))
    ("abs(x^2 - 2)", "sqrt(2)", 0.0, "sign"),
    ("where(sin(x) > 0, x, -x)", "pi", -1.0, "where"),  # sin(π) > 0 is false at π: the −x branch
])
def test_a_kink_at_the_point_as_typed_is_found_where_float64_misses_it(run, expression, point, want, kind):
    code, doc, err = _json(run, "derivative", expression, "--at", point)
    assert code == 0, err
    assert doc["value"] == want
    assert f"non-differentiable point ({kind}): at the point as typed an argument of the formula sits exactly on a " \
           "kink" in err
    code, exact, err = _json(run, "derivative", expression, "--at", point, "--exact")
    assert float(Fraction(exact["exact"])) == want  # --exact agrees (0, -1/2, -1: rationals)


def test_beside_a_kink_nothing_changes(run):
    code, doc, err = _json(run, "derivative", "abs(sin(x))", "--at", "1")
    assert code == 0 and doc["value"] == math.cos(1) and "kink" not in err


def test_chain_where_float64_overflows_inside(run):
    # l = log(exp(x)) = x: ∇l = 1 at 800, where F(x) = e^800 is beyond a double. No "differ by up to nan":
    # the comparison is not made, F(x) and J_F print null with a warning, exit 1
    code, doc, err = _json(run, "chain", "exp(x)", "log(y)", "--at", "800")
    assert code == 1
    assert doc["value"] == 1.0
    assert doc["f_value"] is None and doc["jacobian_f"] == [[None]]
    assert doc["properties"]["equals_direct_gradient"]["holds"] is None
    assert "nan" not in err
    assert "are not compared at 1 of 1 entries" in err and "not finite at this point (null)" in err


@pytest.mark.parametrize("expression", ["std(x)", "norm(x - mean(x))"])
def test_a_derivative_that_is_0_over_0_at_the_point_is_not_0(run, expression):
    # ∂std/∂xᵢ = (xᵢ − mean)/(n·std): 0/0 at a constant vector, where the derivative does not exist (float64: NaN);
    # evalf took the zero numerator for the value and printed 0, silently
    code, doc, err = _json(run, "gradient", expression, "--at", "1,1,1")
    assert code == 1
    assert doc["value"] == [None, None, None]
    assert "not finite" in err


def test_std_gradient_away_from_a_constant_vector(run):
    # x = (1, 2, 4): mean 7/3, std √14/3, so ∂std/∂xᵢ = (xᵢ − 7/3)/√14
    code, doc, err = _json(run, "gradient", "std(x)", "--at", "1,2,4")
    assert code == 0, err
    with mpmath.workdps(50):
        want = [float((mpmath.mpf(k) - mpmath.mpf(7) / 3) / mpmath.sqrt(14)) for k in (1, 2, 4)]
    assert doc["value"] == want
