"""Every printed digit right beyond jacobian/gradient/hessian (issue 15): div, curl, the Laplacian, the chain rule,
softmax-jac and exactly solved critical points print, at a point, the exact value at the point *as typed*
(decimal constants in the expression too: 0.1 is 1/10) rounded to the nearest double, and --digits N gives N
correct digits. References: mpmath at 50 digits (more while they change) from closed forms written out here
by hand, never jaccli's formulas.
"""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest
from test_accuracy import D, reference  # tests/ is on sys.path

mp = mpmath


def _values(out: str, key: str = "value") -> list:
    return np.ravel(np.asarray(json.loads(out)[key], dtype=object)).tolist()


def _nstr(values, count: int) -> list[str]:
    return [mp.nstr(v, count, strip_zeros=False, min_fixed=-4, max_fixed=count + 1) for v in values]


# (command, expression, options, the exact entries by hand from the typed point)
FIELDS = [
    # decimal constants in the expression as typed: float64 arithmetic on 0.1 rounded gives ...243 (1 ulp off)
    ("laplacian", "exp(0.1*x) + y", ["--vars", "x,y", "--at", "0.5,1"], lambda: [D("0.01") * mp.exp(D("0.05"))]),
    ("laplacian", "exp(3.7*x) + y", ["--vars", "x,y", "--at", "3,1"], lambda: [D("3.7") ** 2 * mp.exp(D("3.7") * 3)]),
    ("div", "[exp(0.7*x), 2.3*y**3]", ["--at", "2,0.1"],
     lambda: [D("0.7") * mp.exp(D("1.4")) + 3 * D("2.3") * D("0.1") ** 2]),
    ("curl", "[-0.7*y*exp(x), exp(0.3*x)]", ["--at", "1.5,2"],
     lambda: [D("0.3") * mp.exp(D("0.45")) + D("0.7") * mp.exp(D("1.5"))]),
    ("curl", "[0.1*y*z, 0.7*x*z, 1.3*x*y]", ["--at", "0.3,0.5,0.7"],
     lambda: [(D("1.3") - D("0.7")) * D("0.3"), (D("0.1") - D("1.3")) * D("0.5"), (D("0.7") - D("0.1")) * D("0.7")]),
    # spherical: ∇²(r^p) = p(p+1)r^(p-2) (the angular parts vanish)
    ("laplacian", "r**3.3", ["--coords", "spherical", "--vars", "r,t,p", "--at", "0.3,1,2"],
     lambda: [D("3.3") * D("4.3") * D("0.3") ** D("1.3")]),
]


def _cases(table):
    return pytest.mark.parametrize(("command", "expression", "options", "exact"), table,
                                   ids=[f"{c[0]} {c[1]}" for c in table])


@_cases(FIELDS)
def test_field_operators_are_correctly_rounded(run, command, expression, options, exact):
    code, out, err = run(command, expression, *options, "--format", "json")
    assert (code, err) == (0, ""), err
    assert [float(v) for v in _values(out)] == reference(lambda: exact(), [])


@_cases(FIELDS)
def test_field_operators_give_digits(run, command, expression, options, exact):
    code, out, err = run(command, expression, *options, "--digits", "40", "--format", "json")
    assert (code, err) == (0, ""), err
    with mp.workdps(120):
        want = _nstr(exact(), 40)
    assert [mp.mpf(d) for d in _values(out, "digits")] == [mp.mpf(w) for w in want]


# --- softmax-jac: s_i(δ_ij − s_j) at the logits as typed, and its log-softmax form δ_ij − s_j ---------------

def _softmax_entries(logits: list[str], log: bool = False, temperature: str = "1") -> list:
    z = [D(v) / D(temperature) for v in logits]
    e = [mp.exp(v - max(z)) for v in z]
    total = sum(e)
    s = [v / total for v in e]
    rest = [sum(e[:i] + e[i + 1:]) / total for i in range(len(z))]  # 1 − s_i without the cancellation
    n = len(z)
    if log:
        return [(rest[j] if i == j else -s[j]) / D(temperature) for i in range(n) for j in range(n)]
    return [(s[i] * rest[i] if i == j else -s[i] * s[j]) / D(temperature) for i in range(n) for j in range(n)]


LOGITS = [["-1.3", "0.5", "2.1"], ["0.1", "0.2", "0.3", "0.4"], ["37.42994775023705", "0"],
          ["-3.3", "1.7", "1.71", "9.9", "-20"]]
FAR_APART = [["-1.3", "0.5", "2.1"], ["0", "700"], ["-1000", "0", "1000"]]


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log-softmax"])
@pytest.mark.parametrize("logits", LOGITS, ids=[" ".join(z) for z in LOGITS])
def test_softmax_jac_is_correctly_rounded(run, logits, log):
    code, out, err = run("softmax-jac", *(["--log"] if log else []), "--format", "json", "--", *logits)
    assert (code, err) == (0, ""), err
    assert [float(v) for v in _values(out)] == reference(lambda: _softmax_entries(logits, log), [])


@pytest.mark.parametrize("vjp", [[], ["--vjp", "1,0,1"]], ids=["J", "--vjp"])
def test_softmax_jac_prints_s_correctly_rounded(run, vjp):
    logits = ["-1.3", "0.5", "2.1"]
    code, out, err = run("softmax-jac", *vjp, "--format", "json", "--", *logits)
    assert (code, err) == (0, ""), err
    z = [D(v) for v in logits]
    assert json.loads(out)["softmax"] == reference(lambda: [mp.exp(v) / sum(mp.exp(w) for w in z) for v in z], [])


def test_softmax_jac_with_a_temperature_is_correctly_rounded(run):
    logits = ["0.3", "-1.7", "2.9"]
    code, out, err = run("softmax-jac", "--temperature", "0.7", "--format", "json", "--", *logits)
    assert (code, err) == (0, ""), err
    assert [float(v) for v in _values(out)] == reference(lambda: _softmax_entries(logits, temperature="0.7"), [])


@pytest.mark.parametrize("logits", FAR_APART, ids=[" ".join(z) for z in FAR_APART])
def test_softmax_jac_gives_digits(run, logits):
    code, out, err = run("softmax-jac", "--digits", "50", "--format", "json", "--", *logits)
    assert (code, err) == (0, ""), err
    with mp.workdps(150):
        want = _nstr(_softmax_entries(logits), 50)
    assert _values(out, "digits") == want
    assert [float(v) for v in _values(out)] == reference(lambda: _softmax_entries(logits), [])


def test_softmax_jac_digits_need_the_matrix(run):
    code, out, err = run("softmax-jac", "1", "2", "--vjp", "1,0", "--digits", "20")
    assert code == 2 and out == "" and err.startswith("Error: --digits")


# --- chain: ∇l, J_F, F(x) and ∇G at the point as typed --------------------------------------------------------

def _chain_expm1_log(x):
    """F = exp(x) − 1 (which cancels at 1e-10), G = log(y): ∇l = eˣ/(eˣ − 1), J_F = eˣ, ∇G = 1/F."""
    f = mp.expm1(x)
    return {"value": [mp.exp(x) / f], "jacobian_f": [mp.exp(x)], "f_value": [f], "grad_g": [1 / f]}


def _chain_product_sine(x, y):
    """F = [0.1xy, e^(0.3x)], G = y₀y₁ + sin(0.7y₀): l = 0.1xy·e^(0.3x) + sin(0.07xy)."""
    c1, c3, c7 = D("0.1"), D("0.3"), D("0.7")
    y0, y1 = c1 * x * y, mp.exp(c3 * x)
    grad_g = [y1 + c7 * mp.cos(c7 * y0), y0]
    return {"value": [c1 * y * y1 + y0 * c3 * y1 + c7 * c1 * y * mp.cos(c7 * y0),
                      c1 * x * y1 + c7 * c1 * x * mp.cos(c7 * y0)],
            "jacobian_f": [c1 * y, c1 * x, c3 * y1, 0], "f_value": [y0, y1], "grad_g": grad_g}


CHAIN = [
    (["exp(x) - 1", "log(y)", "--at", "1e-10"], lambda: _chain_expm1_log(D("1e-10"))),
    (["[0.1*x*y, exp(0.3*x)]", "y[0]*y[1] + sin(0.7*y[0])", "--vars", "x,y", "--at", "1.5,2.5"],
     lambda: _chain_product_sine(D("1.5"), D("2.5"))),
]


@pytest.mark.parametrize(("args", "exact"), CHAIN, ids=[c[0][0] for c in CHAIN])
def test_chain_prints_every_number_correctly_rounded(run, args, exact):
    code, out, err = run("chain", *args, "--format", "json")
    assert (code, err) == (0, ""), err
    for key in ("value", "jacobian_f", "f_value", "grad_g"):  # ∇l and the panels beside it
        assert [float(v) for v in _values(out, key)] == reference(lambda key=key: exact()[key], []), key


@pytest.mark.parametrize(("args", "exact"), CHAIN, ids=[c[0][0] for c in CHAIN])
def test_chain_gives_digits(run, args, exact):
    code, out, err = run("chain", *args, "--digits", "35", "--format", "json")
    assert (code, err) == (0, ""), err
    with mp.workdps(120):
        want = _nstr(exact()["value"], 35)
    assert [mp.mpf(d) for d in _values(out, "digits")] == [mp.mpf(w) for w in want]


# --- critical: exactly solved points, at the decimals as typed ---------------------------------------------------

def test_critical_solves_at_the_decimals_as_typed_and_rounds_correctly(run):
    # ∇f = 0: 2x = 3/10 and e^(y/10)/10 = 1, so (3/20, 10 ln 10) and f = 3991/400 − 10 ln 10 (not the root
    # of the equations with 0.3 and 0.1 as doubles, read back as a long fraction)
    code, out, err = run("critical", "x**2 - 0.3*x + exp(0.1*y) - y", "--format", "json")
    assert (code, err) == (0, ""), err
    (point,) = json.loads(out)["critical_points"]
    assert point["type"] == "minimum"
    assert point["point"] == reference(lambda: [D(3) / 20, 10 * mp.log(10)], [])
    assert point["value"] == reference(lambda: [D(3991) / 400 - 10 * mp.log(10)], [])[0]


# --- det J (--det) at the point as typed -------------------------------------------------------------------------

DETERMINANTS = [
    # J = [[c·y, c·x], [c·y·e^(cx), e^(cx)]]: det = c·y·e^(cx)(1 − c·x)
    (["[x*y*1.3, exp(1.3*x)*y]", "--at", "1.5,2.5"],
     lambda: [D("1.3") * D("2.5") * mp.exp(D("1.3") * D("1.5")) * (1 - D("1.3") * D("1.5"))]),
    # J = [[x, y], [y, x]]: det = x² − y², which cancels near x = y (Goldberg §1.4)
    (["[x**2/2 + y**2/2, x*y]", "--at", "1.0000001,1"], lambda: [D("1.0000001") ** 2 - 1]),
]


@pytest.mark.parametrize(("args", "exact"), DETERMINANTS, ids=[d[0][0] for d in DETERMINANTS])
def test_the_determinant_is_correctly_rounded(run, args, exact):
    code, out, err = run("jacobian", *args, "--det", "--format", "json")
    assert (code, err) == (0, ""), err
    assert [json.loads(out)["determinant"]] == reference(exact, [])


def test_j_its_determinant_and_eigenvalues_share_one_verification_budget(run, monkeypatch):
    # one limits.VERIFY_SECONDS for the run, not one per --det and --eig: every verifier has the same deadline
    from jaccli import accuracy

    deadlines = set()
    plain = accuracy.Verifier.out_of_time

    def out_of_time(self):
        deadlines.add(self.deadline)
        return plain(self)

    monkeypatch.setattr(accuracy.Verifier, "out_of_time", out_of_time)
    code, out, err = run("jacobian", "[x*y*1.3, exp(1.3*x)*y]", "--at", "1.5,2.5", "--det", "--eig",
                         "--format", "json")
    assert code == 0 and "verified" not in err, err  # (--eig warns that the point is not an equilibrium)
    assert [json.loads(out)["determinant"]] == reference(DETERMINANTS[0][1], [])
    assert len(deadlines) == 1


# Newton's points (sympy cannot solve these): polished on the exact ∇f = 0, decimals as typed; (f, --at, f', f)
NEWTON = [
    ("exp(x) - 3.3*x + 0.1*sin(x)", "1", lambda x: mp.exp(x) - D("3.3") + D("0.1") * mp.cos(x),
     lambda x: mp.exp(x) - D("3.3") * x + D("0.1") * mp.sin(x)),
    ("log(x) - 0.3*x + 0.2*sin(x)", "3", lambda x: 1 / x - D("0.3") + D("0.2") * mp.cos(x),
     lambda x: mp.log(x) - D("0.3") * x + D("0.2") * mp.sin(x)),
    ("x**2/2 + 0.7*cos(x)", "1", lambda x: x - D("0.7") * mp.sin(x), lambda x: x**2 / 2 + D("0.7") * mp.cos(x)),
]


@pytest.mark.parametrize(("expression", "at", "derivative", "f"), NEWTON, ids=[c[0] for c in NEWTON])
def test_critical_points_found_by_newton_are_correctly_rounded(run, expression, at, derivative, f):
    code, out, err = run("critical", expression, "--at", at, "--format", "json")
    assert (code, err) == (0, ""), err
    (point,) = json.loads(out)["critical_points"]
    root = mp.findroot(derivative, D(point["point"][0]))  # mpmath's own root finder, from jaccli's answer
    assert point["point"] == reference(lambda: [mp.findroot(derivative, root)], [])
    assert point["value"] == reference(lambda: [f(mp.findroot(derivative, root))], [])[0]


# --- eigenvalues (--eig) at the point as typed -------------------------------------------------------------------

def _eigenvalues(matrix: list[list]) -> list:
    """[re, im] of each eigenvalue, sorted, flat: by mpmath's QR iteration (not jaccli's polynomial roots)."""
    values, _ = mp.eig(mp.matrix(matrix))
    tiny = mp.mpf(10) ** (-mp.mp.dps + 5)
    pairs = [[mp.chop(mp.re(v), tiny), mp.chop(mp.im(v), tiny)] for v in values]
    return [part for pair in sorted(pairs, key=lambda p: (float(p[0]), float(p[1]))) for part in pair]


EIGEN = [
    # J = [[0.3y, 0.3x + cos y], [0.1e^(0.1x), −2y]]
    (["[0.3*x*y + sin(y), exp(0.1*x) - y**2]", "--at", "1.5,0.7"],
     lambda x, y: [[D("0.3") * y, D("0.3") * x + mp.cos(y)], [D("0.1") * mp.exp(D("0.1") * x), -2 * y]],
     ["1.5", "0.7"]),
    # a spiral: J = [[−0.1, −1.3], [1.3, −0.1]]·e^(0.2x), eigenvalues (−0.1 ± 1.3i)e^(0.2x)
    (["[exp(0.2*x)*(-0.1*x - 1.3*y), exp(0.2*x)*(1.3*x - 0.1*y)]", "--at", "0,0"],
     lambda x, y: [[D("-0.1"), D("-1.3")], [D("1.3"), D("-0.1")]], ["0", "0"]),
]


@pytest.mark.parametrize(("args", "matrix", "point"), EIGEN, ids=[e[0][0][:30] for e in EIGEN])
def test_eigenvalues_are_correctly_rounded(run, args, matrix, point):
    code, out, err = run("jacobian", *args, "--eig", "--format", "json")
    assert code in (0, 1) and "Error" not in err, err
    got = [part for pair in json.loads(out)["eigenvalues"] for part in pair]
    assert got == reference(lambda: _eigenvalues(matrix(*[D(v) for v in point])), [])


@pytest.mark.parametrize(("command", "expression", "seed"), [("jacobian", "softmax(x)", 64),
                                                          ("hessian", "logsumexp(x)", 65)])
def test_a_softmax_jacobian_of_64_logits_is_correctly_rounded_within_the_budget(run, command, expression, seed):
    # N² entries sharing one sum of N exponentials (∇² logsumexp = diag(s) − s sᵀ, the softmax Jacobian too): the
    # sum and each exponential are evaluated once per precision (Verifier.share), not per entry; else the N³ work ran
    # out of the verification budget from about N = 32 (exit 1), and walking and rebuilding every entry took 8 s of
    # the Hessian's 10 s budget
    logits = [f"{v:.3f}" for v in np.random.default_rng(seed).normal(scale=3, size=64)]
    code, out, err = run(command, expression, "--at", ",".join(logits), "--format", "json")
    assert (code, err) == (0, ""), err
    assert [float(v) for v in _values(out)] == reference(lambda: _softmax_entries(logits), [])


def test_an_entry_that_cancels_to_zero_through_shared_values_is_still_zero(run):
    # exp(x)·exp(y) − exp(x + y) is 0; its three exponentials are shared with other entries, and their rounded
    # values give a tiny nonzero at every precision: the entry is settled on its own formula instead
    code, out, err = run("jacobian", "[exp(x)*exp(y) - exp(x+y), exp(x), exp(y)]", "--at", "0.7,1.3", "--format",
                         "json")
    assert (code, err) == (0, ""), err
    want = reference(lambda: [0, 0, mp.exp(D("0.7")), 0, 0, mp.exp(D("1.3"))], [])
    assert [float(v) for v in _values(out)] == want


def test_softmax_of_affine_logits_at_a_point_is_correctly_rounded(run):
    # softmax(2x + 1) = softmax(x / 0.5): its Jacobian is 2·(diag(s) − s sᵀ), the temperature form by hand
    logits = [f"{v:.3f}" for v in np.random.default_rng(8).normal(scale=2, size=12)]
    code, out, err = run("jacobian", "softmax(2*x+1)", "--at", ",".join(logits), "--format", "json")
    assert (code, err) == (0, ""), err
    assert [float(v) for v in _values(out)] == reference(lambda: _softmax_entries(logits, temperature="0.5"), [])


def test_a_product_hessian_of_64_inputs_is_correctly_rounded_within_the_budget(run):
    # ∂²Πx/∂xᵢ∂xⱼ = Πx/(xᵢxⱼ): 4096 products of 62 inputs, (i, j) and (j, i) one formula, settled once, with the
    # point given to evalf as mpmath numbers; it was 10 of the 10 s budget, and exit 1 on a loaded machine
    xs = [f"{v:.3f}" for v in np.random.default_rng(66).uniform(0.5, 1.5, size=64)]
    code, out, err = run("hessian", "prod(x)", "--at", ",".join(xs), "--format", "json")
    assert (code, err) == (0, ""), err

    def entries():
        x = [D(v) for v in xs]
        p = mp.fprod(x)
        return [0 if i == j else p / (x[i] * x[j]) for i in range(64) for j in range(64)]

    assert [float(v) for v in _values(out)] == reference(entries, [])
