"""max, min, prod, norm, logsumexp, softmax, log_softmax, cumsum and cumprod along an axis (numpy's axis).

References: mpmath per line of the matrix (values) and mpmath's numerical derivative of that reference
(Jacobians), computed here with no jaccli code; hand values for cumprod with and without zeros."""

import json

import mpmath
import numpy as np
import pytest

mpmath.mp.dps = 30

A = [[0.3, -1.2, 0.8, 1.9], [1.1, 0.4, -0.7, 0.2], [-0.5, 1.6, 0.9, -1.4]]  # 3×4, no ties


def _lines(a, axis):
    """The lines of a along axis (as lists), and where each result entry goes: numpy's order of the others."""
    a = np.asarray(a, dtype=object)
    moved = np.moveaxis(a, axis, -1)
    return [list(moved[index]) for index in np.ndindex(moved.shape[:-1])], moved.shape[:-1]


def _softmax(line):
    total = mpmath.fsum(mpmath.exp(v) for v in line)
    return [mpmath.exp(v) / total for v in line]


REDUCE = {
    "max": max, "min": min, "prod": mpmath.fprod,
    "norm": lambda line: mpmath.sqrt(mpmath.fsum(v * v for v in line)),
    "logsumexp": lambda line: mpmath.log(mpmath.fsum(mpmath.exp(v) for v in line)),
}
ALONG = {  # line -> line
    "softmax": _softmax, "log_softmax": lambda line: [mpmath.log(s) for s in _softmax(line)],
    "cumsum": lambda line: [mpmath.fsum(line[:i + 1]) for i in range(len(line))],
    "cumprod": lambda line: [mpmath.fprod(line[:i + 1]) for i in range(len(line))],
}


def reference(name, a, axis):
    """The function of the 12 entries of a, in mpmath, flattened as numpy's result would be."""
    lines, lead = _lines(a, axis)
    if name in REDUCE:
        return [REDUCE[name](line) for line in lines]
    out = np.empty(lead + (len(lines[0]),), dtype=object)
    for index, line in zip(np.ndindex(lead), lines):
        out[index] = ALONG[name](line)
    return list(np.moveaxis(out, -1, axis).reshape(-1))


def reference_jacobian(name, a, axis):
    flat = [mpmath.mpf(v) for v in np.ravel(a)]
    shape = np.shape(a)
    m = len(reference(name, a, axis))
    jac = np.zeros((m, len(flat)))
    for j in range(len(flat)):
        def entry_fn(t, j=j):
            moved = list(flat)
            moved[j] = t
            return reference(name, np.reshape(np.array(moved, dtype=object), shape), axis)
        for i in range(m):
            jac[i, j] = float(mpmath.diff(lambda t, i=i: entry_fn(t)[i], flat[j]))
    return jac


def _jaccli_jacobian(run, text):
    code, out, err = run("jacobian", text, "--at", f"A={json.dumps(A)}", "--format", "json")
    assert code == 0, err
    return np.array(json.loads(out)["value"], dtype=float)


@pytest.mark.parametrize("name", ["max", "min", "prod", "norm", "logsumexp", "softmax", "log_softmax", "cumsum",
                                  "cumprod"])
@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_along_an_axis_against_mpmath(run, name, axis):
    got = _jaccli_jacobian(run, f"{name}(A, axis={axis})")
    expected = reference_jacobian(name, A, axis)
    assert got.reshape(expected.shape) == pytest.approx(expected, rel=1e-8, abs=1e-9)


@pytest.mark.parametrize("name", ["prod", "logsumexp", "softmax", "log_softmax", "cumsum", "cumprod", "sum"])
def test_a_positional_axis_is_numpys_axis(run, name):
    assert np.array_equal(_jaccli_jacobian(run, f"{name}(A, 0)"), _jaccli_jacobian(run, f"{name}(A, axis=0)"))


def test_max_with_a_whole_number_is_ambiguous_and_says_both_readings(run):
    code, _, err = run("jacobian", "max(x, 0)", "--at", "1,2")
    assert code == 2 and "max(x, axis=0)" not in err
    assert "max(A, axis=0)" in err and "maximum(A, 0)" in err
    code, out, _ = run("derivative", "max(x, 0)", "--at", "2", "--format", "plain")  # a scalar: elementwise
    assert (code, out) == (0, "1\n")


def test_norms_second_argument_is_not_an_axis(run):
    code, _, err = run("jacobian", "norm(A, 1)", "--at", f"A={json.dumps(A)}")
    assert code == 2 and "ord, is not supported" in err and "axis=" in err


def test_an_axis_out_of_range(run):
    code, _, err = run("jacobian", "prod(A, axis=2)", "--at", f"A={json.dumps(A)}")
    assert code == 2 and "axis 2 is out of range for 2 dimensions" in err


def test_cumprod_by_hand_with_and_without_zeros(run):
    # d y_i / d x_j = product of x_k for k <= i, k != j: with x = 1..5, rows 1, 2 1, 6 3 2, 24 12 8 6, 120 60 40 30 24
    code, out, err = run("jacobian", "cumprod(x)", "--at", "1,2,3,4,5", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["value"] == [[1, 0, 0, 0, 0], [2, 1, 0, 0, 0], [6, 3, 2, 0, 0], [24, 12, 8, 6, 0],
                                        [120, 60, 40, 30, 24]]
    code, out, err = run("jacobian", "cumprod(x)", "--at", "2,0,3", "--format", "json")
    assert json.loads(out)["value"] == [[1, 0, 0], [0, 2, 0], [0, 6, 0]]  # at a zero: no 0/0


def test_the_hessian_of_a_cumprod(run):
    # sum(cumprod(x)) = x0 + x0 x1 + x0 x1 x2: H = [[0, 1 + x2, x1], [1 + x2, 0, x0], [x1, x0, 0]]
    code, out, err = run("hessian", "sum(cumprod(x))", "--at", "1,2,3", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["value"] == [[0, 4, 2], [4, 0, 1], [2, 1, 0]]


def test_symbolic_forms_along_an_axis(run):
    code, out, err = run("jacobian", "prod(A, axis=0)", "--shape", "A=2x2", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["symbolic"] == [["A[1, 0]", "0", "A[0, 0]", "0"], ["0", "A[1, 1]", "0", "A[0, 1]"]]


def test_maximum_with_a_whole_number_stays_elementwise(run):
    # maximum(x, 1) is numpy's elementwise maximum: d/dx_i is 1 where x_i > 1, else 0 (not the max(A, 1) refusal)
    code, out, err = run("jacobian", "maximum(x, 1)", "--at", "0,2,3", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["value"] == [[0, 0, 0], [0, 1, 0], [0, 0, 1]]
