"""softmax-jac against closed forms, mpmath (50 digits) and the core symbolic Jacobian."""

from __future__ import annotations

import subprocess
import sys

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaccli import compute
from jaccli.softmax_report import softmax_jac

mpmath.mp.dps = 50

# |z| ≤ 150 keeps every s_i s_j a normal float, so relative error is meaningful for every entry.
logit = st.floats(min_value=-150, max_value=150, allow_nan=False, allow_infinity=False)
logit_vectors = st.lists(logit, min_size=1, max_size=8)
temperatures = st.floats(min_value=0.25, max_value=4, allow_nan=False)


def mp_softmax(z, temperature=1.0):
    scaled = [mpmath.mpf(float(v)) / mpmath.mpf(float(temperature)) for v in z]
    top = max(scaled)
    e = [mpmath.exp(v - top) for v in scaled]
    total = mpmath.fsum(e)
    return [x / total for x in e]


def mp_jacobian(z, temperature=1.0, log=False):
    """Entry (i, j): d s_i / d z_j (or d log s_i / d z_j), from the definition, at 50 digits.

    1 - s_i is the sum of the other s_j: even 50 digits cannot subtract when 1 - s_i is 1e-52.
    """
    s = mp_softmax(z, temperature)
    n = len(s)
    t = mpmath.mpf(float(temperature))
    rest = [mpmath.fsum(s[j] for j in range(n) if j != i) for i in range(n)]
    if log:
        return [[(rest[i] if i == j else -s[j]) / t for j in range(n)] for i in range(n)]
    return [[s[i] * (rest[i] if i == j else -s[j]) / t for j in range(n)] for i in range(n)]


def assert_relative(actual, reference, rtol=1e-12):
    actual = np.asarray(actual, dtype=float)
    for index in np.ndindex(actual.shape):
        exact = reference
        for i in index:
            exact = exact[i]
        if exact == 0:
            assert actual[index] == 0, (index, actual[index])
        else:
            error = abs((mpmath.mpf(float(actual[index])) - exact) / exact)
            assert error <= rtol, (index, float(actual[index]), float(exact), float(error))


# --- the refresher's cell [1] and the numbers it printed ------------------------------------------


def test_refresher_cell_1_values(jaccli):
    run = jaccli("softmax-jac", "-1.3", "0.5", "2.1", "--format", "json")
    assert run.code == 0, run.stderr
    doc = run.json
    assert doc["logits"] == [-1.3, 0.5, 2.1]  # unchanged: the refresher printed the shifted [-3.4 -1.6 0.]
    np.testing.assert_allclose(doc["softmax"], [0.02701699, 0.16344326, 0.80953975], atol=5e-9)
    np.testing.assert_allclose(doc["value"], [[0.02628707, -0.00441574, -0.02187133],
                                              [-0.00441574, 0.13672956, -0.13231381],
                                              [-0.02187133, -0.13231381, 0.15418514]], atol=5e-9)
    assert all(check["holds"] for check in doc["properties"].values())


def test_the_tiny_diagonal_entry_keeps_its_digits(jaccli):
    exact = mpmath.mpf("5.5511151231257636e-17")  # s_1 (1 - s_1) for logits 37.42994775023705, 0
    doc = jaccli("softmax-jac", "37.42994775023705", "0", "--format", "json").json
    assert abs(doc["value"][0][0] - exact) / exact < 1e-12
    assert abs(-doc["value"][0][1] - exact) / exact < 1e-12


def test_the_expression_path_keeps_the_tiny_diagonal_too(jaccli):
    run = jaccli("jacobian", "softmax(x)", "--at", "37.42994775023705,0", "--format", "json")
    exact = mpmath.mpf("5.5511151231257636e-17")
    assert abs(run.json["value"][0][0] - exact) / exact < 1e-12


def test_large_logits_are_stable():
    result = softmax_jac(["1000", "-1000", "0"])
    assert np.all(np.isfinite(result.value))
    assert_relative(result.extra["softmax"][:1], mp_softmax([1000, -1000, 0])[:1])
    # exp(-1000) underflows; the entries that stay representable are exact, the rest are 0, not NaN.
    np.testing.assert_array_equal(result.value, np.zeros((3, 3)))


def test_large_logits_at_high_temperature_match_mpmath():
    result = softmax_jac(["1000", "-1000", "0"], temperature=100)
    assert_relative(result.value, mp_jacobian([1000, -1000, 0], 100))


def test_the_logits_are_not_modified():
    z = np.array([-1.3, 0.5, 2.1])
    result = softmax_jac(z)
    np.testing.assert_array_equal(z, [-1.3, 0.5, 2.1])
    np.testing.assert_array_equal(result.extra["logits"], [-1.3, 0.5, 2.1])


def test_one_logit_has_jacobian_zero(jaccli):
    doc = jaccli("softmax-jac", "5", "--format", "json").json
    assert doc["value"] == [[0]]
    assert doc["softmax"] == [1]
    assert all(check["holds"] for check in doc["properties"].values())


# --- properties over random logits ----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(logit_vectors)
def test_jacobian_matches_mpmath_entry_by_entry(z):
    assert_relative(softmax_jac(z).value, mp_jacobian(z))


@settings(max_examples=40, deadline=None)
@given(logit_vectors, temperatures)
def test_temperature_and_log_match_mpmath(z, temperature):
    z = [v / 4 for v in z]  # |z/T| ≤ 150, as above: every entry stays a normal float
    assert_relative(softmax_jac(z, temperature=temperature).value, mp_jacobian(z, temperature))
    assert_relative(softmax_jac(z, temperature=temperature, log=True).value, mp_jacobian(z, temperature, log=True))


@settings(max_examples=60, deadline=None)
@given(logit_vectors)
def test_symmetric_rows_sum_to_zero_and_positive_semidefinite(z):
    jac = softmax_jac(z).value
    n = len(z)
    np.testing.assert_array_equal(jac, jac.T)
    assert np.max(np.abs(jac.sum(axis=1))) <= 4 * n * np.finfo(float).eps
    assert np.min(np.linalg.eigvalsh(jac)) >= -4 * n * np.finfo(float).eps
    assert np.all(np.diag(jac) >= 0)
    assert np.all(jac[~np.eye(n, dtype=bool)] <= 0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=-30, max_value=30, allow_nan=False), min_size=2, max_size=6))
def test_agrees_with_the_core_symbolic_jacobian(z):
    core = compute.jacobian("softmax(x)", at=[",".join(repr(v) for v in z)]).value
    np.testing.assert_allclose(softmax_jac(z).value, core, rtol=1e-13, atol=1e-300)


def test_log_softmax_vjp_keeps_digits_when_one_probability_is_near_1():
    # (Jᵀv)_2 = 1 - s_2 = s_1 exactly here; `v - s*sum(v)` got only 12 digits right.
    value = softmax_jac([0.0, 8.0], log=True, vjp="0,1").value
    exact = mp_softmax([0.0, 8.0])[0]
    assert abs((mpmath.mpf(float(value[1])) - exact) / exact) < 1e-15


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(logit, st.floats(min_value=-10, max_value=10, allow_nan=False)), min_size=1, max_size=8),
       st.booleans())
def test_vjp_matches_mpmath_j_transpose_v(pairs, log):
    z = [p[0] for p in pairs]
    v = [p[1] for p in pairs]
    result = softmax_jac(z, log=log, vjp=",".join(repr(x) for x in v))
    jac = mp_jacobian(z, log=log)
    n = len(z)
    for i in range(n):
        exact = mpmath.fsum(jac[j][i] * mpmath.mpf(v[j]) for j in range(n))
        # Error scale of a sum of products: the sum of their sizes.
        scale = mpmath.fsum(abs(jac[j][i] * mpmath.mpf(v[j])) for j in range(n))
        assert abs(mpmath.mpf(float(result.value[i])) - exact) <= 1e-13 * scale + mpmath.mpf("1e-300")


def test_vjp_with_temperature_by_finite_differences():
    z, v, temperature = np.array([0.3, -1.2, 2.0, 0.7]), np.array([1.0, -2.0, 0.5, 3.0]), 1.7

    def loss(x):
        e = np.exp(x / temperature - np.max(x / temperature))
        return v @ (e / e.sum())

    h = 1e-5
    numeric = [(loss(z + h * np.eye(4)[j]) - loss(z - h * np.eye(4)[j])) / (2 * h) for j in range(4)]
    result = softmax_jac(z, temperature=temperature, vjp="1,-2,0.5,3")
    np.testing.assert_allclose(result.value, numeric, rtol=1e-8, atol=1e-10)


# --- the command line -----------------------------------------------------------------------------


@pytest.mark.parametrize("args, logits", [
    (["-1.3", "0.5", "2.1"], [-1.3, 0.5, 2.1]),
    (["-1e-3", "-.5", "-2"], [-1e-3, -0.5, -2]),
    (["1", "--precision", "3", "-7"], [1, -7]),  # options between logits
    (["-1,", "-2,", "3"], [-1, -2, 3]),  # `softmax-jac -1, -2, 3`
    (["-1, -2, 3"], [-1, -2, 3]),
    (["[-1, 2]"], [-1, 2]),
    (["--", "-4", "-5"], [-4, -5]),
    (["+1", "-1E2"], [1, -100]),
])
def test_negative_numbers_are_logits_not_options(jaccli, args, logits):
    run = jaccli("softmax-jac", "--format", "json", *args)
    assert run.code == 0, run.stderr
    assert run.json["logits"] == logits


def test_logits_from_stdin(jaccli):
    run = jaccli("softmax-jac", "-", "--format", "json", input="-1.3 0.5\n2.1\n")
    assert run.json["logits"] == [-1.3, 0.5, 2.1]


@pytest.mark.parametrize("args, message", [
    ([], "no logits"),
    (["1", "nan"], "not a finite number"),
    (["1", "inf"], "not a finite number"),
    (["1", "-inf"], "not a finite number"),
    (["1", "--bogus"], "No such option: --bogus"),
    (["1", "--temperatur", "2"], "No such option: --temperatur"),
    (["--", "1", "--log"], "--log comes after '--'"),
    (["1", "2", "--vjp", "1,2,3"], "--vjp has 3 entries"),
    (["1", "2", "--temperature", "0"], "--temperature must be a positive"),
    (["1", "2", "--temperature", "-1"], "--temperature must be a positive"),
    (["1e308", "0", "--temperature", "0.01"], "overflow"),
    (["[[1, 2], [3, 4]]"], "must be one vector"),
])
def test_bad_input_is_one_error_line_and_exit_2(jaccli, args, message):
    run = jaccli("softmax-jac", *args)
    assert run.code == 2
    assert run.stderr.startswith("Error: ")
    assert message in run.stderr
    assert "Traceback" not in run.stderr + run.stdout


def test_json_with_vjp_has_the_vector_as_value(jaccli):
    doc = jaccli("softmax-jac", "1", "2", "3", "--vjp", "1,0,0", "--format", "json").json
    s = np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum()
    np.testing.assert_allclose(doc["value"], s[0] * (np.array([1, 0, 0]) - s), rtol=1e-14)
    assert doc["v"] == [1, 0, 0]
    assert set(doc) >= {"command", "logits", "softmax", "value", "properties"}


def test_log_jacobian_closed_form(jaccli):
    doc = jaccli("softmax-jac", "0", "0", "--log", "--format", "json").json
    assert doc["value"] == [[0.5, -0.5], [-0.5, 0.5]]
    assert doc["properties"]["idempotent"]["holds"]


def test_table_shows_logits_softmax_jacobian_and_checks(jaccli):
    run = jaccli("softmax-jac", "-1.3", "0.5", "2.1", "--format", "table")
    assert run.code == 0
    for text in ["-1.3", "0.027016989", "0.026287071", "-0.0044157446", "✓ symmetric", "✓ rows sum to 0",
                 "✓ rank n−1 = 2", "✓ trace = 1 − ‖s‖²"]:
        assert text in run.stdout, text


def test_softmax_jac_does_not_import_sympy():
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "jaccli", "softmax-jac", "1", "2"],
                         capture_output=True, text=True, check=True)
    assert "sympy" not in run.stderr
