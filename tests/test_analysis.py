"""jacobian --det, --eig and --svd (and hessian --svd), against textbook closed forms and independent references."""

from __future__ import annotations

import math
import time

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaccli import analysis, budget

POLAR = "[r*cos(t), r*sin(t)]"
CYLINDRICAL = "[r*cos(t), r*sin(t), z]"
SPHERICAL = "[rho*sin(phi)*cos(theta), rho*sin(phi)*sin(theta), rho*cos(phi)]"
LORENZ = "[10*(y - x), x*(28 - z) - y, x*y - 8/3*z]"


# --- the determinant --------------------------------------------------------------------------------


@pytest.mark.parametrize("expression, names, formula", [
    (POLAR, "r,t", "r"),
    (CYLINDRICAL, "r,t,z", "r"),
    (SPHERICAL, "rho,phi,theta", "rho**2*sin(phi)"),
    (SPHERICAL, "rho,theta,phi", "-rho**2*sin(phi)"),  # swapping two columns changes the sign
    ("[2*cos(q1) + 3*cos(q1 + q2), 2*sin(q1) + 3*sin(q1 + q2)]", "q1,q2", "6*sin(q2)"),  # l1 l2 sin(q2)
])
def test_the_determinant_of_a_change_of_variables_is_the_textbook_one(jaccli, expression, names, formula):
    run = jaccli("jacobian", expression, "--vars", names, "--det", "-f", "json")
    assert run.code == 0, run.stderr
    assert run.json["determinant_symbolic"] == formula
    assert run.json["determinant"] is None


def test_the_determinant_at_a_point_is_rho_squared_sin_phi(jaccli):
    rho, phi, theta = 1.7, 0.4, 2.9
    run = jaccli("jacobian", SPHERICAL, "--vars", "rho,phi,theta", "--at", f"{rho},{phi},{theta}", "--det", "-f",
                 "json")
    assert run.code == 0, run.stderr
    assert run.json["determinant"] == pytest.approx(rho**2 * math.sin(phi), rel=1e-14)


@settings(max_examples=40, deadline=None)  # each example runs sympy: 200 took ~30-60 s
@given(st.floats(0.1, 5), st.floats(-3, 3))
def test_polar_determinant_is_r_everywhere(r, t):
    from jaccli import compute

    result = analysis.determinant(compute.jacobian(POLAR, [f"{r!r},{t!r}"], ["r", "t"]))
    assert result.extra["determinant"] == pytest.approx(r, rel=1e-12)
    assert result.extra["determinant_symbolic"] == "r"


def test_the_determinant_is_a_line_under_the_table_and_after_plain_rows(jaccli):
    table = jaccli("jacobian", POLAR, "--vars", "r,t", "--at", "2,0.5", "--det", "-f", "table")
    assert table.code == 0 and table.stdout.rstrip().endswith("det J = r = 2")
    plain = jaccli("jacobian", POLAR, "--vars", "r,t", "--at", "2,0.5", "--det", "-f", "plain")
    assert plain.stdout.splitlines()[-1] == "det J = r = 2"
    latex = jaccli("jacobian", POLAR, "--vars", "r,t", "--det", "-f", "latex")
    assert latex.stdout.splitlines()[-1] == "% det J = r"
    csv = jaccli("jacobian", POLAR, "--vars", "r,t", "--at", "2,0.5", "--det", "-f", "csv")
    assert "det" not in csv.stdout and "Note: det J = r = 2" in csv.stderr


def test_an_exact_determinant(jaccli):
    run = jaccli("jacobian", SPHERICAL, "--vars", "rho,phi,theta", "--at", "2,pi/4,pi/3", "--exact", "--det",
                 "-f", "json")
    assert run.code == 0, run.stderr
    assert run.json["determinant_symbolic"] == "2*sqrt(2)"  # 2² sin(π/4)
    assert run.json["determinant"] == pytest.approx(2 * math.sqrt(2), rel=1e-14)


def test_a_constant_determinant_is_correctly_rounded(jaccli):
    run = jaccli("jacobian", LORENZ, "--vars", "x,y,z", "--at", "0,0,0", "--det", "-f", "json")
    # det at the origin: -10·(-1)·(-8/3)·… = 720 from the formula -10x² - 10xy - 80z/3 + 720
    assert run.json["determinant"] == 720.0


def test_a_non_square_jacobian_has_no_determinant_and_points_to_svd(jaccli):
    run = jaccli("jacobian", "[x*y, x + y, x]", "--det")
    assert run.code == 2
    assert run.stderr.startswith("Error: ") and "3×2" in run.stderr and "--svd" in run.stderr
    assert len(run.stderr.splitlines()) == 1


def test_one_determinant_per_point(jaccli):
    run = jaccli("jacobian", POLAR, "--vars", "r,t", "--det", "--points", "-", input="1 0\n2 0.5\n3.5 -1\n")
    assert run.code == 0, run.stderr
    assert [float(line) for line in run.stdout.split()] == pytest.approx([1, 2, 3.5], rel=1e-15)
    csv = jaccli("jacobian", POLAR, "--vars", "r,t", "--det", "--points", "-", "-f", "csv", input="2 0.5\n")
    assert csv.stdout.splitlines()[0] == "r,t,det J"


def test_symbolic_determinant_size_limit_is_named(jaccli):
    run = jaccli("jacobian", "x*2", "--shape", f"x={analysis.MAX_SYMBOLIC_DET + 1}", "--det")
    assert run.code == 2 and f"limit {analysis.MAX_SYMBOLIC_DET}" in run.stderr and "--at" in run.stderr


# --- eigenvalues and stability --------------------------------------------------------------------------


def _lorenz_reference(point):
    """Roots of the Lorenz system's characteristic polynomial at an equilibrium (σ = 10, ρ = 28, β = 8/3)."""
    sigma, rho, beta = 10.0, 28.0, 8.0 / 3.0
    if point == (0, 0, 0):  # (λ + β)(λ² + (σ + 1)λ + σ(1 − ρ))
        roots = np.concatenate([[-beta], np.roots([1, sigma + 1, sigma * (1 - rho)])])
    else:  # λ³ + (σ + β + 1)λ² + β(σ + ρ)λ + 2σβ(ρ − 1)
        roots = np.roots([1, sigma + beta + 1, beta * (sigma + rho), 2 * sigma * beta * (rho - 1)])
    return sorted([[r.real, r.imag] for r in roots.astype(complex)])


@pytest.mark.parametrize("point", [(0, 0, 0), (1, 1, 27), (-1, -1, 27)])
def test_lorenz_eigenvalues_at_its_equilibria(jaccli, point):
    c = math.sqrt(72)  # sqrt(β(ρ − 1))
    at = ",".join("0" if v == 0 else str(v * c) if abs(v) == 1 else str(v) for v in point)
    run = jaccli("jacobian", LORENZ, "--vars", "x,y,z", "--at", at, "--eig", "-f", "json")
    assert run.code == 0, run.stderr
    got = run.json["eigenvalues"]
    want = _lorenz_reference(point)
    assert np.allclose(got, want, rtol=1e-9, atol=1e-9)
    assert got == sorted(got)
    assert run.json["stability"] == "saddle (unstable)"  # ρ = 28 > 24.74: every equilibrium is unstable
    assert "not an equilibrium" not in run.stderr


@pytest.mark.parametrize("field, verdict, kind", [
    ("[y, -x - y]", "asymptotically stable", "stable spiral"),  # damped oscillator
    ("[y, -x]", "marginal", "centre"),
    ("[x, 2*y]", "unstable", "unstable node"),
    ("[-x, -2*y]", "asymptotically stable", "stable node"),
    ("[x, -y]", "saddle (unstable)", "saddle"),
    ("[y, x - y]", "saddle (unstable)", "saddle"),
    ("[-y, x + y]", "unstable", "unstable spiral"),
])
def test_textbook_planar_equilibria(jaccli, field, verdict, kind):
    run = jaccli("jacobian", field, "--vars", "x,y", "--at", "0,0", "--eig", "-f", "json")
    assert run.code == 0, run.stderr
    assert run.json["stability"].startswith(verdict)
    assert run.json["type"] == kind


def test_damped_oscillator_eigenvalues_are_the_roots_of_its_characteristic_polynomial(jaccli):
    run = jaccli("jacobian", "[y, -x - y]", "--vars", "x,y", "--at", "0,0", "--eig", "-f", "json")
    s = math.sqrt(3) / 2  # λ² + λ + 1 = 0
    assert np.allclose(run.json["eigenvalues"], [[-0.5, -s], [-0.5, s]], rtol=1e-14)


def test_away_from_an_equilibrium_a_warning_says_so(jaccli):
    run = jaccli("jacobian", "[y, -x - y]", "--vars", "x,y", "--at", "1,0", "--eig", "-f", "json")
    assert run.code == 0 and "not an equilibrium" in run.stderr


def test_symbolic_eigenvalues_of_small_matrices(jaccli):
    run = jaccli("jacobian", "[2*x + y, x + 2*y]", "--vars", "x,y", "--eig", "-f", "json")
    assert run.code == 0, run.stderr
    assert run.json["eigenvalues_symbolic"] == ["1", "3"]
    assert run.json["eigenvalues"] is None
    run = jaccli("jacobian", "[a*x, b*y, c*z]", "--vars", "x,y,z,a,b,c", "--eig")
    assert run.code == 2 and "square" in run.stderr


def test_symbolic_eigenvalues_beyond_3x3_are_refused_with_the_limit(jaccli):
    run = jaccli("jacobian", "x*2", "--shape", "x=4", "--eig")
    assert run.code == 2 and "limit 3×3" in run.stderr and "--at" in run.stderr


# --- singular values ---------------------------------------------------------------------------------


def test_singular_values_of_a_shear_are_the_golden_ratio(jaccli):
    golden = (1 + math.sqrt(5)) / 2  # [[1, 1], [0, 1]] has σ = φ and 1/φ
    run = jaccli("jacobian", "[x + y, y]", "--vars", "x,y", "--at", "0,0", "--svd", "-f", "json")
    assert run.code == 0, run.stderr
    # the nearest doubles to φ and 1/φ (mpmath, 50 digits): each printed digit right
    with mpmath.workdps(50):
        assert run.json["singular_values"] == [float(mpmath.phi), float(1 / mpmath.phi)]
    assert run.json["condition_number"] == pytest.approx(golden**2, rel=1e-14)
    assert run.json["rank"] == 2 and run.json["verdict"] == "invertible"


def test_a_singular_jacobian_has_no_condition_number(jaccli):
    run = jaccli("jacobian", "[x + y, 2*x + 2*y]", "--vars", "x,y", "--at", "1,2", "--svd", "-f", "json")
    assert run.json["rank"] == 1 and run.json["condition_number"] is None
    assert run.json["verdict"].startswith("singular")
    assert run.json["singular_values"] == [math.sqrt(10), 0.0]  # exactly 0, not LAPACK's noise (1.6e-16 or 8e-17)
    assert "singular values: 3.1622777, 0\n" in jaccli("jacobian", "[x + y, 2*x + 2*y]", "--vars", "x,y", "--at",
                                                      "1,2", "--svd", "-f", "plain").stdout
    table = jaccli("jacobian", "[x + y, 2*x + 2*y]", "--vars", "x,y", "--at", "1,2", "--svd", "-f", "table")
    assert "condition number infinite: singular (rank 1 < 2)" in table.stdout


def test_svd_of_a_non_square_jacobian(jaccli):
    run = jaccli("jacobian", "[x, y, x + y]", "--vars", "x,y", "--at", "1,1", "--svd", "-f", "json")
    assert run.json["singular_values"] == pytest.approx([math.sqrt(3), 1], rel=1e-14)  # JᵀJ = [[2,1],[1,2]]
    assert run.json["verdict"] == "full rank"


def test_singular_values_at_decimals_as_typed_are_correctly_rounded(jaccli):
    # J of [x*y, sin(x) + z, x + y*z] written out by hand, at x = 0.1, y = 0.3, z = 2 read exactly; its singular
    # values by mpmath's own SVD at 50 digits
    with mpmath.workdps(50):
        x, y, z = mpmath.mpf(1) / 10, mpmath.mpf(3) / 10, mpmath.mpf(2)
        J = mpmath.matrix([[y, x, 0], [mpmath.cos(x), 0, 1], [1, z, y]])
        expected = sorted((float(s) for s in mpmath.svd_r(J, compute_uv=False)), reverse=True)
    run = jaccli("jacobian", "[x*y, sin(x) + z, x + y*z]", "--vars", "x,y,z", "--at", "0.1,0.3,2", "--svd",
                 "-f", "json")
    assert run.code == 0, run.stderr
    assert run.json["singular_values"] == expected
    # a rank-deficient 3×2: one zero, two exact
    run = jaccli("jacobian", "[x + y, 2*x + 2*y, 3*x + 3*y]", "--vars", "x,y", "--at", "0.5,0.25", "--svd", "-f",
                 "json")
    assert run.json["singular_values"] == [float(mpmath.sqrt(28)), 0.0] and run.json["rank"] == 1


def test_svd_beyond_six_columns_is_lapack_on_the_printed_matrix(jaccli):
    run = jaccli("jacobian", "2*x + 1", "--shape", "x=7", "--at", ",".join(["1"] * 7), "--svd", "-f", "json")
    assert run.code == 0, run.stderr
    assert run.json["singular_values"] == pytest.approx([2] * 7, rel=1e-15) and run.json["rank"] == 7


def test_hessian_svd(jaccli):
    run = jaccli("hessian", "x**2 + x*y + y**2", "--at", "0,0", "--svd", "-f", "json")
    assert run.json["singular_values"] == pytest.approx([3, 1], rel=1e-15)  # H = [[2, 1], [1, 2]]
    assert run.json["condition_number"] == pytest.approx(3, rel=1e-15)


def test_svd_needs_a_point_and_eig_svd_refuse_points(jaccli):
    assert jaccli("jacobian", POLAR, "--vars", "r,t", "--svd").code == 2
    run = jaccli("jacobian", POLAR, "--vars", "r,t", "--eig", "--points", "-", input="1 2\n")
    assert run.code == 2 and "--points" in run.stderr
    assert jaccli("jacobian", POLAR, "--vars", "r,t", "--det", "--emit", "python").code == 2


# --- the time budget -----------------------------------------------------------------------------------


def _slow():
    time.sleep(60)


def _fails():
    raise ValueError("no")


def test_the_budget_ends_slow_work_with_a_named_message():
    with pytest.raises(budget.OutOfTime, match="the test work did not finish within its time budget of 0.2 s"):
        budget.within(0.2, "the test work", _slow)


def test_the_budget_relays_an_answer_and_a_failure():
    assert budget.within(30, "adding", sum, [1, 2, 3]) == 6
    with pytest.raises(budget.JaccliError, match="failed: ValueError: no"):
        budget.within(30, "failing", _fails)
